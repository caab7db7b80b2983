//! SHA-256 of downloaded bodies, computed as the bytes stream past (no second read of
//! the file), plus the hex helpers for `checksum=sha-256=HEX` in input files.

use ring::digest::{Context, SHA256};
use std::fmt;

/// Length of a SHA-256 digest in bytes.
pub const SHA256_LEN: usize = 32;

/// A running SHA-256 over a body.
pub struct Sha256Stream {
    ctx: Context,
    bytes: u64,
}

impl Sha256Stream {
    /// A new, empty digest.
    pub fn new() -> Sha256Stream {
        Sha256Stream { ctx: Context::new(&SHA256), bytes: 0 }
    }

    /// Feed the next bytes of the body.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
        self.bytes += data.len() as u64;
    }

    /// How many bytes were fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The digest of everything fed.
    pub fn finish(self) -> [u8; SHA256_LEN] {
        let digest = self.ctx.finish();
        let mut out = [0u8; SHA256_LEN];
        // SHA-256 digests are always 32 bytes; copying by length keeps this panic-free.
        out.copy_from_slice(&digest.as_ref()[..SHA256_LEN]);
        out
    }

    /// Finish and compare with `expected`.
    pub fn verify(self, expected: &[u8; SHA256_LEN]) -> Result<(), Mismatch> {
        let actual = self.finish();
        if &actual == expected {
            Ok(())
        } else {
            Err(Mismatch { expected: *expected, actual })
        }
    }
}

impl Default for Sha256Stream {
    fn default() -> Self {
        Sha256Stream::new()
    }
}

/// A body whose digest is not the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What the input file asked for.
    pub expected: [u8; SHA256_LEN],
    /// What was downloaded.
    pub actual: [u8; SHA256_LEN],
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sha-256 mismatch: expected {}, got {}",
            hex_encode(&self.expected),
            hex_encode(&self.actual)
        )
    }
}

impl std::error::Error for Mismatch {}

/// Lower-case hex of `bytes`.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Decode exactly 64 hex digits (either case) into a SHA-256 digest.
pub fn hex_decode_sha256(s: &str) -> Result<[u8; SHA256_LEN], String> {
    let s = s.trim();
    if s.len() != SHA256_LEN * 2 {
        return Err(format!(
            "sha-256 digest must be {} hex digits, got {} characters",
            SHA256_LEN * 2,
            s.chars().count()
        ));
    }
    let mut out = [0u8; SHA256_LEN];
    let bytes = s.as_bytes();
    for (i, byte) in out.iter_mut().enumerate() {
        let hi = hex_value(bytes[2 * i]);
        let lo = hex_value(bytes[2 * i + 1]);
        match (hi, lo) {
            (Some(hi), Some(lo)) => *byte = hi << 4 | lo,
            _ => {
                let pos = if hi.is_none() { 2 * i } else { 2 * i + 1 };
                return Err(format!("sha-256 digest has a non-hex character at position {}", pos + 1));
            }
        }
    }
    Ok(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parse an aria2-style `ALGO=HEX` checksum spec (the part after `checksum=`).
/// Only SHA-256 is supported (`sha-256` or `sha256`, any case).
pub fn parse_spec(spec: &str) -> Result<[u8; SHA256_LEN], String> {
    let (algo, hex) =
        spec.split_once('=').ok_or_else(|| format!("invalid checksum {spec:?}: expected sha-256=HEX"))?;
    let algo = algo.trim();
    if !(algo.eq_ignore_ascii_case("sha-256") || algo.eq_ignore_ascii_case("sha256")) {
        return Err(format!("unsupported checksum algorithm {algo:?} (only sha-256 is supported)"));
    }
    hex_decode_sha256(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn known_vectors_streamed_in_pieces() {
        assert_eq!(hex_encode(&Sha256Stream::new().finish()), EMPTY);
        let mut s = Sha256Stream::new();
        s.update(b"a");
        s.update(b"");
        s.update(b"bc");
        assert_eq!(s.bytes(), 3);
        assert_eq!(hex_encode(&s.finish()), ABC);
    }

    #[test]
    fn verify_reports_both_digests() {
        let expected = hex_decode_sha256(ABC).unwrap_or_default();
        let mut s = Sha256Stream::new();
        s.update(b"abc");
        assert_eq!(s.verify(&expected), Ok(()));
        let mut s = Sha256Stream::new();
        s.update(b"abd");
        let err = s.verify(&expected).unwrap_err();
        assert!(err.to_string().starts_with(&format!("sha-256 mismatch: expected {ABC}, got ")));
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let d = hex_decode_sha256(&ABC.to_uppercase()).unwrap_or_default();
        assert_eq!(hex_encode(&d), ABC);
        assert!(hex_decode_sha256("abc").unwrap_err().contains("64 hex digits, got 3"));
        let mut bad = ABC.to_string();
        bad.replace_range(10..11, "g");
        assert!(hex_decode_sha256(&bad).unwrap_err().contains("position 11"));
        // A multi-byte character must not panic on a char boundary.
        let uni = format!("é{}", &ABC[2..]);
        assert!(hex_decode_sha256(&uni).is_err());
    }

    #[test]
    fn spec_parsing() {
        assert!(parse_spec(&format!("sha-256={ABC}")).is_ok());
        assert!(parse_spec(&format!("SHA256={ABC}")).is_ok());
        let e = parse_spec(&format!("md5={ABC}")).unwrap_err();
        assert!(e.contains("unsupported checksum algorithm \"md5\""), "{e}");
        assert!(parse_spec("sha-256").unwrap_err().contains("expected sha-256=HEX"));
        assert!(parse_spec("sha-256=00").unwrap_err().contains("64 hex digits"));
    }
}
