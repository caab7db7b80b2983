//! Tests for the retry policy.

use super::*;
use volley::{Error, Phase, TlsFailure};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn transient_errors() {
    let e = |k| Error::new(k, "x");
    assert!(is_transient_error(&e(ErrorKind::Connect)));
    assert!(is_transient_error(&e(ErrorKind::Timeout(Phase::Head))));
    assert!(is_transient_error(&e(ErrorKind::Dns(DnsFailure::ServFail))));
    assert!(is_transient_error(&e(ErrorKind::Dns(DnsFailure::Timeout))));
    assert!(!is_transient_error(&e(ErrorKind::Dns(DnsFailure::NxDomain))));
    assert!(!is_transient_error(&e(ErrorKind::Tls(TlsFailure::UnknownIssuer))));
    assert!(!is_transient_error(&e(ErrorKind::InvalidUrl)));
    assert!(!is_transient_error(&e(ErrorKind::Protocol)));
    assert!(!is_transient_error(&e(ErrorKind::Cancelled)));
    let io = |k| Error::from_io(ErrorKind::Io, "read", &std::io::Error::from(k));
    assert!(is_transient_error(&io(std::io::ErrorKind::ConnectionReset)));
    assert!(!is_transient_error(&io(std::io::ErrorKind::StorageFull)));
    assert!(!is_transient_error(&e(ErrorKind::Io)));
    let p = |m: &str| Error::new(ErrorKind::Protocol, m);
    assert!(is_transient_error(&Error::truncated("body cut short: got 5 of 10 bytes")));
    assert!(!is_transient_error(&p("invalid Content-Length \"x\"")));
}

#[test]
fn transient_statuses() {
    for s in [408, 429, 500, 502, 503, 504] {
        assert!(is_transient_status(s), "{s}");
    }
    for s in [200, 301, 400, 401, 403, 404, 410, 501, 505] {
        assert!(!is_transient_status(s), "{s}");
    }
    assert!(is_slow_down_status(429) && is_slow_down_status(503) && !is_slow_down_status(500));
}

#[test]
fn backoff_grows_caps_and_jitters() {
    let mut b = Backoff::new(XorShift64::new(42));
    assert_eq!(b.ceiling(0), Duration::from_secs(1));
    assert_eq!(b.ceiling(1), Duration::from_secs(2));
    assert_eq!(b.ceiling(5), Duration::from_secs(32));
    assert_eq!(b.ceiling(6), Duration::from_secs(60));
    assert_eq!(b.ceiling(1000), Duration::from_secs(60));
    let mut seen = std::collections::HashSet::new();
    for n in 0..40 {
        let c = b.ceiling(n);
        let d = b.delay(n);
        assert!(d >= c / 2 && d <= c, "retry {n}: {d:?} vs {c:?}");
        seen.insert(d);
    }
    assert!(seen.len() > 30, "jitter should vary");
    // Same seed, same delays: reproducible in tests.
    let mut a = Backoff::new(XorShift64::new(7));
    let mut b = Backoff::new(XorShift64::new(7));
    assert_eq!(a.delay(3), b.delay(3));
    let mut z = XorShift64::new(0);
    assert_ne!(z.next_u64(), 0);
    let f = XorShift64::from_clock().next_f64();
    assert!((0.0..1.0).contains(&f));
}

#[test]
fn retry_delay_prefers_server() {
    let mut b = Backoff::new(XorShift64::new(1));
    assert_eq!(retry_delay(&mut b, 0, Some(Duration::from_secs(5))), Duration::from_secs(5));
    assert_eq!(retry_delay(&mut b, 0, Some(Duration::MAX)), MAX_RETRY_AFTER);
    assert!(retry_delay(&mut b, 0, None) <= Duration::from_secs(1));
}

#[test]
fn http_dates() {
    // RFC 9110 §5.6.7's example, in all three forms.
    let t = at(784_111_777);
    assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
    assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
    assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
    assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(at(0)));
    assert_eq!(parse_http_date("Tue, 29 Feb 2000 23:59:59 GMT"), Some(at(951_868_799)));
    assert_eq!(parse_http_date("Fri, 01 Jan 2038 00:00:00 GMT"), Some(at(2_145_916_800)));
    for bad in [
        "",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Mon, 29 Feb 1900 00:00:00 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Wed, 31 Dec 1969 23:59:59 GMT",
        "Sun, 006 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "soon",
    ] {
        assert_eq!(parse_http_date(bad), None, "{bad:?}");
    }
}

#[test]
fn retry_after_values() {
    let now = at(784_111_700);
    assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
    assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::MAX));
    assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(77)));
    assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at(784_111_800)), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("-5", now), None);
    assert_eq!(parse_retry_after("1.5", now), None);
    assert_eq!(parse_retry_after("", now), None);
}

#[test]
fn host_delays() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut h = HostDelays::new();
    assert_eq!(h.ready_at("a.example", t0), None);
    h.slow_down("A.example", t0 + s(10));
    h.slow_down("a.example", t0 + s(5)); // an earlier wish does not shorten the wait
    h.slow_down("b.example", t0 + s(3));
    assert_eq!(h.ready_at("a.EXAMPLE", t0), Some(t0 + s(10)));
    assert_eq!(h.ready_at("c.example", t0), None);
    assert_eq!(h.prune(t0 + s(4)), Some(t0 + s(10)));
    assert_eq!(h.len(), 1);
    assert_eq!(h.ready_at("a.example", t0 + s(10)), None);
    assert_eq!(h.len(), 0);
    assert_eq!(h.prune(t0), None);
}
