//! Parsers for option values: sizes, rates, durations, counts, methods, headers and
//! DNS server addresses. Each error names the value and says what was expected; clap
//! adds the option's name.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// A `-H` header, checked so it cannot split the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name (a token).
    pub name: String,
    /// The value, trimmed.
    pub value: String,
}

/// Split a number with an optional binary suffix (k, M, G, T, optionally followed by
/// `B` or `iB`) into its value in bytes, allowing fractions (`1.5M`).
fn parse_scaled(s: &str, what: &str) -> Result<u64, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let body = lower.strip_suffix("ib").or_else(|| lower.strip_suffix('b')).unwrap_or(&lower);
    let (num, mult) = match body.char_indices().last() {
        Some((i, 'k')) => (&body[..i], 1u64 << 10),
        Some((i, 'm')) => (&body[..i], 1 << 20),
        Some((i, 'g')) => (&body[..i], 1 << 30),
        Some((i, 't')) => (&body[..i], 1 << 40),
        _ => (body, 1),
    };
    let bad = || {
        format!(
            "invalid {what} {s:?}: expected a number with an optional suffix k, M, G or T (e.g. 500k, 1.5M)"
        )
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = (value * mult as f64).round();
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("invalid {what} {s:?}: too large"));
    }
    Ok(bytes as u64)
}

/// A size in bytes: `100`, `64M`, `1.5G`, `512KiB`. Zero is allowed.
pub fn parse_size(s: &str) -> Result<u64, String> {
    parse_scaled(s, "size")
}

/// A rate in bytes per second: `100`, `500k`, `2M`, `1.5M` (k = 1024). Must be > 0.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let s2 = s.trim().strip_suffix("/s").unwrap_or(s);
    match parse_scaled(s2, "rate")? {
        0 => Err(format!("invalid rate {s:?}: must be at least 1 byte per second")),
        n => Ok(n),
    }
}

/// A duration in seconds, fractions allowed (`0.5`, `30`). Must be > 0.
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 =
        s.trim().parse().map_err(|_| format!("invalid duration {s:?}: expected seconds, e.g. 30 or 0.5"))?;
    if v.is_nan() || v <= 0.0 {
        return Err(format!("invalid duration {s:?}: must be more than 0 seconds"));
    }
    Duration::try_from_secs_f64(v).map_err(|_| format!("invalid duration {s:?}: too large"))
}

/// A count of at least 1 (for -j, --per-host).
pub fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err(format!("invalid number {s:?}: must be at least 1")),
        Ok(n) if n > 1_000_000 => Err(format!("invalid number {s:?}: at most 1000000")),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("invalid number {s:?}: expected a whole number")),
    }
}

/// An HTTP method token (RFC 9110 §9.1), case-sensitive as sent.
pub fn parse_method(s: &str) -> Result<String, String> {
    volley::Method::parse(s)
        .map(|m| m.as_str().to_string())
        .map_err(|_| format!("invalid method {s:?}: must be a token such as GET or POST"))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A header value without CR, LF or NUL (which would split the request).
pub fn parse_header_value(s: &str) -> Result<String, String> {
    if s.contains(['\r', '\n', '\0']) {
        return Err(format!("invalid value {s:?}: contains a CR, LF or NUL character"));
    }
    Ok(s.trim().to_string())
}

/// `Name: value` (RFC 9110 §5.1, §5.5): the name a token, the value free of CR/LF/NUL.
pub fn parse_header(s: &str) -> Result<Header, String> {
    let (name, value) =
        s.split_once(':').ok_or_else(|| format!("invalid header {s:?}: expected 'Name: value'"))?;
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(format!(
            "invalid header {s:?}: the name {name:?} must be a token (letters, digits, -, _ ...) with no spaces"
        ));
    }
    let value = parse_header_value(value)
        .map_err(|_| format!("invalid header {s:?}: the value contains a CR, LF or NUL character"))?;
    Ok(Header { name: name.to_string(), value })
}

/// `--dns-server`: `1.1.1.1`, `1.1.1.1:5353`, `::1`, `[::1]`, `[::1]:5353`.
pub fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    let t = s.trim();
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(t);
    bare.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)).map_err(|_| {
        format!("invalid DNS server {s:?}: expected an IP address with an optional port, e.g. 1.1.1.1, 1.1.1.1:5353 or [::1]:5353")
    })
}
