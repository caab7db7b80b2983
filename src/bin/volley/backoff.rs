//! The retry policy, as data and pure functions: which failures are worth retrying,
//! how long to wait (exponential backoff with jitter, or the server's `Retry-After`),
//! and a per-host "slow down until" map so that one 429/503 holds back every request to
//! that host, not only the one that got it.
//!
//! Nothing here reads the clock except [`XorShift64::from_clock`]: times are passed in,
//! so the driver's loop owns time and tests need no sleeps.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use volley::{DnsFailure, ErrorKind};

/// Whether a failed request is worth retrying: connection refused or reset, any
/// timeout, DNS SERVFAIL or no answer. Not: bad URLs, TLS certificate problems, DNS
/// NXDOMAIN, protocol violations, local file errors — repeating cannot fix those.
pub fn is_transient_error(err: &volley::Error) -> bool {
    match err.kind() {
        ErrorKind::Connect | ErrorKind::Timeout(_) => true,
        ErrorKind::Dns(DnsFailure::ServFail | DnsFailure::Timeout) => true,
        // Io covers both sockets and local files; only the socket kinds are transient
        // (a full disk stays full).
        ErrorKind::Io => matches!(
            err.io_kind(),
            Some(
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::TimedOut
            )
        ),
        // A connection closed mid-response is a protocol error marked as an early EOF
        // by the library: as transient as a reset.
        ErrorKind::Protocol => err.io_kind() == Some(std::io::ErrorKind::UnexpectedEof),
        _ => false,
    }
}

/// Whether an HTTP status is worth retrying: 408, 429, 500, 502, 503, 504.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Whether a status means "this host wants fewer requests" (429, 503): the delay then
/// applies to the whole host.
pub fn is_slow_down_status(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// A tiny xorshift64* generator: jitter needs spread, not cryptographic quality.
#[derive(Debug, Clone)]
pub struct XorShift64(u64);

impl XorShift64 {
    /// Seeded with `seed` (0 is replaced, as xorshift would stay at 0 forever).
    pub fn new(seed: u64) -> XorShift64 {
        XorShift64(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// Seeded from the wall clock and the process id, so that many volley processes
    /// started together do not retry in lockstep.
    pub fn from_clock() -> XorShift64 {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        XorShift64::new(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Exponential backoff with "equal jitter": retry `n` (0-based) waits
/// `d/2 + random(0..d/2)` where `d = min(cap, base * factor^n)`. Half the delay is
/// guaranteed (the server gets its rest), the other half spreads clients apart.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// First delay before jitter (1 s).
    pub base: Duration,
    /// Growth per retry (2).
    pub factor: u32,
    /// Largest delay before jitter (60 s).
    pub cap: Duration,
    rng: XorShift64,
}

impl Backoff {
    /// The default policy (1 s, ×2, capped at 60 s) with the given generator.
    pub fn new(rng: XorShift64) -> Backoff {
        Backoff { base: Duration::from_secs(1), factor: 2, cap: Duration::from_secs(60), rng }
    }

    /// The un-jittered delay before retry `n` (0-based).
    pub fn ceiling(&self, n: u32) -> Duration {
        let mult = self.factor.checked_pow(n).unwrap_or(u32::MAX);
        self.base.checked_mul(mult).map_or(self.cap, |d| d.min(self.cap))
    }

    /// The delay before retry `n` (0-based), jittered.
    pub fn delay(&mut self, n: u32) -> Duration {
        let half = self.ceiling(n) / 2;
        half + half.mul_f64(self.rng.next_f64())
    }
}

/// Longest `Retry-After` honoured; a server asking for more is waited on this long
/// (a download tool should not sleep for a day on one header).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// The wait before the next attempt: the server's `Retry-After` when given (capped at
/// [`MAX_RETRY_AFTER`]), else the backoff for retry `n`.
pub fn retry_delay(backoff: &mut Backoff, n: u32, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(d) => d.min(MAX_RETRY_AFTER),
        None => backoff.delay(n),
    }
}

/// Parse `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, relative to
/// `now`. A date in the past means no wait. `None` if the value is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // A number too large for u64 is still "a very long time".
        return Some(v.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    let at = parse_http_date(v)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Parse an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`,
/// and the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`) forms recipients must accept. The weekday is not checked.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let t: Vec<&str> = s.split_ascii_whitespace().collect();
    let (day, month, year, time) = match t.as_slice() {
        [wd, d, m, y, time, "GMT"] if wd.ends_with(',') => (*d, *m, y.parse().ok()?, *time),
        [wd, dmy, time, "GMT"] if wd.ends_with(',') => {
            let mut p = dmy.split('-');
            let (d, m, yy) = (p.next()?, p.next()?, p.next()?);
            if p.next().is_some() || yy.len() != 2 {
                return None;
            }
            let yy: i64 = yy.parse().ok()?;
            // RFC 9110 says to read a two-digit year as the most recent past one;
            // "< 70 is 20xx" matches that for every date volley will see.
            (d, m, if yy < 70 { 2000 + yy } else { 1900 + yy }, *time)
        }
        [_, m, d, time, y] => (*d, *m, y.parse().ok()?, *time),
        _ => return None,
    };
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    if day.is_empty() || day.len() > 2 {
        return None;
    }
    let day: i64 = day.parse().ok()?;
    let mut hms = time.split(':');
    let (h, mi, se) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || [h, mi, se].iter().any(|p| p.len() != 2) {
        return None;
    }
    let (h, mi, se): (i64, i64, i64) = (h.parse().ok()?, mi.parse().ok()?, se.parse().ok()?);
    // 60 allows a leap second.
    if h > 23 || mi > 59 || se > 60 || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + mi * 60 + se;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Hosts that asked us to slow down (429/503), and until when. Entries expire on their
/// own, so the map holds only the hosts currently being throttled.
#[derive(Debug, Default)]
pub struct HostDelays {
    until: HashMap<String, Instant>,
}

impl HostDelays {
    /// An empty map.
    pub fn new() -> HostDelays {
        HostDelays::default()
    }

    /// `host` asked for no requests before `until` (a later wish wins over an earlier one).
    pub fn slow_down(&mut self, host: &str, until: Instant) {
        let e = self.until.entry(host.to_ascii_lowercase()).or_insert(until);
        if *e < until {
            *e = until;
        }
    }

    /// When a request to `host` may start: `None` if now; else the instant to wait for.
    pub fn ready_at(&mut self, host: &str, now: Instant) -> Option<Instant> {
        let key = host.to_ascii_lowercase();
        match self.until.get(&key) {
            Some(&t) if t > now => Some(t),
            Some(_) => {
                self.until.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Drop expired entries; returns the earliest remaining instant (for the loop's timer).
    pub fn prune(&mut self, now: Instant) -> Option<Instant> {
        self.until.retain(|_, t| *t > now);
        self.until.values().min().copied()
    }

    /// Hosts currently throttled.
    pub fn len(&self) -> usize {
        self.until.len()
    }
}

#[cfg(test)]
mod tests;
