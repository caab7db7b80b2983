//! `--shard K/N`: split one URL list over N machines (or N runs) without coordination.
//!
//! Every URL is assigned by its *host*, so one machine talks to a host and keeps the
//! per-host connection limits and politeness delays meaningful. The hash is part of the
//! CLI contract: FNV-1a 64 over the ASCII-lower-cased host (trailing dot removed),
//! followed by the SplitMix64 finaliser. It depends on nothing but these bytes, so the
//! same host lands in the same shard on every run, machine, platform and volley version;
//! changing it would silently re-shard users' jobs, so tests pin known values.

use std::fmt;

/// One shard of `N`: `k` is 1-based, `1 <= k <= n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1-based.
    pub k: u32,
    /// The number of shards.
    pub n: u32,
}

impl Shard {
    /// Parse `K/N` (e.g. `2/8`); the error names what is wrong.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) =
            s.split_once('/').ok_or_else(|| format!("invalid shard {s:?}: expected K/N, e.g. 1/4"))?;
        let k: u32 =
            k.trim().parse().map_err(|_| format!("invalid shard {s:?}: K {k:?} is not a whole number"))?;
        let n: u32 =
            n.trim().parse().map_err(|_| format!("invalid shard {s:?}: N {n:?} is not a whole number"))?;
        if n == 0 {
            return Err(format!("invalid shard {s:?}: N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(format!(
                "invalid shard {s:?}: K must be between 1 and {n} (shards are numbered from 1)"
            ));
        }
        Ok(Shard { k, n })
    }

    /// Whether `host` belongs to this shard.
    pub fn contains(self, host: &str) -> bool {
        in_shard(host, self.k, self.n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// The stable 64-bit hash of a host name (see the module docs for the exact function).
pub fn host_hash(host: &str) -> u64 {
    // `example.org.` and `example.org` are the same host, so they must share a shard.
    let host = host.strip_suffix('.').unwrap_or(host);
    let mut h = fnv1a64(host.bytes().map(|b| b.to_ascii_lowercase()));
    // FNV-1a's low bits mix poorly for names that differ only in their last bytes
    // (`img1.x`, `img2.x`); `% n` uses exactly those bits, so finalise them.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// FNV-1a 64 (the published offset basis and prime).
fn fnv1a64(bytes: impl Iterator<Item = u8>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// Whether `host` falls into shard `k` (1-based) of `n`. `n == 0` or `k` out of range
/// matches nothing (callers validate with [`Shard::parse`]).
pub fn in_shard(host: &str, k: u32, n: u32) -> bool {
    if n == 0 || k == 0 || k > n {
        return false;
    }
    host_hash(host) % u64::from(n) == u64::from(k - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_valid_and_invalid() {
        assert_eq!(Shard::parse("1/1"), Ok(Shard { k: 1, n: 1 }));
        assert_eq!(Shard::parse("3/8"), Ok(Shard { k: 3, n: 8 }));
        assert_eq!(Shard::parse(" 2 / 2 "), Ok(Shard { k: 2, n: 2 }));
        for (bad, needle) in [
            ("0/4", "between 1 and 4"),
            ("5/4", "between 1 and 4"),
            ("1/0", "at least 1"),
            ("1", "expected K/N"),
            ("a/4", "K \"a\""),
            ("1/b", "N \"b\""),
            ("-1/4", "K \"-1\""),
            ("", "expected K/N"),
        ] {
            let err = Shard::parse(bad).unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
        assert_eq!(Shard { k: 2, n: 5 }.to_string(), "2/5");
    }

    #[test]
    fn hash_is_pinned() {
        // These values are the cross-version contract: if this test fails, sharding changed.
        // FNV-1a 64 reference vectors.
        assert_eq!(fnv1a64("".bytes()), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64("a".bytes()), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64("foobar".bytes()), 0x8594_4171_f739_67e8);
        assert_eq!(host_hash(""), 0xf52a_15e9_a9b5_e89b);
        assert_eq!(host_hash("a"), 0x02c0_bdbf_4814_20f8);
        assert_eq!(host_hash("example.org"), 0xdd92_ef3c_617d_04af);
        let a = host_hash("example.org");
        assert_eq!(a, host_hash("EXAMPLE.org"));
        assert_eq!(a, host_hash("example.org."));
        assert_ne!(a, host_hash("example.com"));
    }

    #[test]
    fn every_host_in_exactly_one_shard() {
        for n in [1u32, 2, 3, 7, 16] {
            for i in 0..500 {
                let host = format!("host{i}.example");
                let count = (1..=n).filter(|&k| in_shard(&host, k, n)).count();
                assert_eq!(count, 1, "{host} with n={n}");
            }
        }
        assert!(!in_shard("x", 0, 3));
        assert!(!in_shard("x", 4, 3));
        assert!(!in_shard("x", 1, 0));
    }

    #[test]
    fn distribution_is_roughly_even() {
        let n = 8u32;
        let mut counts = [0u32; 8];
        for i in 0..10_000 {
            let host = format!("img{i}.cdn.example.com");
            let k = (1..=n).find(|&k| in_shard(&host, k, n)).unwrap_or(0);
            assert!(k >= 1);
            counts[(k - 1) as usize] += 1;
        }
        // Expected 1250 each; allow ±15 %.
        for c in counts {
            assert!((1060..=1440).contains(&c), "{counts:?}");
        }
    }
}
