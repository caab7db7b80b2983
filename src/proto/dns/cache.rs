//! Answers that need no query: IP literals, `localhost` (RFC 6761 §6.3), the hosts file,
//! and a bounded cache of earlier answers. Positive answers live for their TTL (RFC 1035
//! §3.2.1, the minimum over the CNAME chain, RFC 2181 §5.2) capped by `max_ttl`; negative
//! ones (NXDOMAIN, no address) for the SOA-derived TTL of RFC 2308 §5 clamped to 5–30 s,
//! short because a name that appears soon after is common. When full, the oldest entry
//! (by insertion) is evicted. Time is passed in.

use super::sysconf::Hosts;
use crate::error::DnsFailure;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

pub(crate) const DEFAULT_MAX_TTL: Duration = Duration::from_secs(300);
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;
const NEG_TTL_MIN: Duration = Duration::from_secs(5);
const NEG_TTL_MAX: Duration = Duration::from_secs(30);

/// Normalizes a host for lookups and cache keys: lower-case, brackets around an IPv6
/// literal removed. A trailing dot is kept: `a.` and `a` search differently.
pub(crate) fn normalize(host: &str) -> String {
    let h = host.trim();
    let h = h.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(h);
    h.to_ascii_lowercase()
}

/// The answer for `host` (normalized) that needs no network: an IP literal, a name from
/// the hosts file (checked first, RFC 6761 §6.3 lets it override), or `localhost` and
/// names under it, which always mean the loopback addresses.
pub(crate) fn local_answer(host: &str, hosts: &Hosts) -> Option<Vec<IpAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(vec![ip]);
    }
    let bare = host.strip_suffix('.').unwrap_or(host);
    if let Some(addrs) = hosts.get(bare) {
        return Some(addrs.to_vec());
    }
    if bare == "localhost" || bare.ends_with(".localhost") {
        return Some(vec![IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }
    None
}

/// What a cache entry says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cached {
    Addresses(Vec<IpAddr>),
    /// The failure and its message, replayed to later callers.
    Negative(DnsFailure, String),
}

#[derive(Debug)]
struct Entry {
    value: Cached,
    expires: Instant,
    seq: u64,
}

/// A bounded TTL cache keyed by normalized host name.
#[derive(Debug)]
pub(crate) struct Cache {
    entries: HashMap<String, Entry>,
    /// Insertion order, for evicting the oldest.
    order: BTreeMap<u64, String>,
    next_seq: u64,
    capacity: usize,
    max_ttl: Duration,
}

impl Cache {
    pub(crate) fn new(capacity: usize, max_ttl: Duration) -> Cache {
        Cache { entries: HashMap::new(), order: BTreeMap::new(), next_seq: 0, capacity, max_ttl }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The live entry for `name`; an expired one is removed.
    pub(crate) fn get(&mut self, name: &str, now: Instant) -> Option<Cached> {
        let entry = self.entries.get(name)?;
        if now < entry.expires {
            return Some(entry.value.clone());
        }
        let seq = entry.seq;
        self.entries.remove(name);
        self.order.remove(&seq);
        None
    }

    /// Caches addresses for `ttl` seconds, capped by `max_ttl`. A TTL of 0 means "do not
    /// cache" (RFC 1035 §3.2.1).
    pub(crate) fn insert_positive(&mut self, name: &str, addrs: Vec<IpAddr>, ttl: u32, now: Instant) {
        let life = Duration::from_secs(u64::from(ttl)).min(self.max_ttl);
        if !life.is_zero() {
            self.insert(name, Cached::Addresses(addrs), now + life);
        }
    }

    /// Caches a failure; `neg_ttl` from the SOA if the answer had one.
    pub(crate) fn insert_negative(
        &mut self,
        name: &str,
        failure: DnsFailure,
        message: String,
        neg_ttl: Option<u32>,
        now: Instant,
    ) {
        let life = neg_ttl
            .map_or(NEG_TTL_MIN, |t| Duration::from_secs(u64::from(t)).clamp(NEG_TTL_MIN, NEG_TTL_MAX));
        self.insert(name, Cached::Negative(failure, message), now + life);
    }

    fn insert(&mut self, name: &str, value: Cached, expires: Instant) {
        if self.capacity == 0 {
            return;
        }
        if let Some(old) = self.entries.remove(name) {
            self.order.remove(&old.seq);
        }
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, name.to_string());
        self.entries.insert(name.to_string(), Entry { value, expires, seq });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::dns::sysconf::parse_hosts;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn literals_localhost_and_hosts() {
        let hosts = parse_hosts("192.0.2.7 intranet\n10.9.9.9 localhost\n", &mut Vec::new());
        assert_eq!(local_answer(&normalize("[::1]"), &hosts), Some(vec![ip("::1")]));
        assert_eq!(local_answer("192.0.2.1", &hosts), Some(vec![ip("192.0.2.1")]));
        assert_eq!(local_answer("intranet.", &hosts), Some(vec![ip("192.0.2.7")]));
        assert_eq!(local_answer("localhost", &hosts), Some(vec![ip("10.9.9.9")]));
        assert_eq!(local_answer("a.localhost", &hosts).map(|v| v.len()), Some(2));
        assert_eq!(local_answer("example.com", &hosts), None);
        assert_eq!(normalize(" WWW.Example.COM. "), "www.example.com.");
    }

    #[test]
    fn ttl_cap_expiry_and_zero() {
        let t0 = Instant::now();
        let mut c = Cache::new(10, Duration::from_secs(60));
        c.insert_positive("a", vec![ip("192.0.2.1")], 3600, t0);
        c.insert_positive("z", vec![ip("192.0.2.1")], 0, t0);
        assert!(c.get("z", t0).is_none());
        assert!(c.get("a", t0 + Duration::from_secs(59)).is_some());
        assert!(c.get("a", t0 + Duration::from_secs(60)).is_none());
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn negative_clamped() {
        let t0 = Instant::now();
        let mut c = Cache::new(10, DEFAULT_MAX_TTL);
        c.insert_negative("nx", DnsFailure::NxDomain, "nx: NXDOMAIN".into(), Some(3600), t0);
        c.insert_negative("n2", DnsFailure::NxDomain, "n2".into(), None, t0);
        assert!(matches!(
            c.get("nx", t0 + Duration::from_secs(29)),
            Some(Cached::Negative(DnsFailure::NxDomain, _))
        ));
        assert!(c.get("nx", t0 + Duration::from_secs(30)).is_none());
        assert!(c.get("n2", t0 + Duration::from_secs(4)).is_some());
        assert!(c.get("n2", t0 + Duration::from_secs(5)).is_none());
    }

    #[test]
    fn evicts_oldest() {
        let t0 = Instant::now();
        let mut c = Cache::new(2, DEFAULT_MAX_TTL);
        c.insert_positive("a", vec![ip("192.0.2.1")], 60, t0);
        c.insert_positive("b", vec![ip("192.0.2.2")], 60, t0);
        c.insert_positive("a", vec![ip("192.0.2.3")], 60, t0); // refresh: a is now newest
        c.insert_positive("c", vec![ip("192.0.2.4")], 60, t0);
        assert!(c.get("b", t0).is_none());
        assert_eq!(c.get("a", t0), Some(Cached::Addresses(vec![ip("192.0.2.3")])));
        assert!(c.get("c", t0).is_some());
        assert_eq!(c.len(), 2);
    }
}
