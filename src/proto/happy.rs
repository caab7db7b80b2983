//! Happy Eyeballs v2 connection-attempt planner (RFC 8305), sans-IO: it decides which
//! address to try next and when; the reactor opens the sockets and reports failures.
//!
//! - §4: addresses are interleaved by family, IPv6 first ("First Address Family Count"
//!   of 1), keeping each family's own order from DNS.
//! - §5: one attempt starts every "Connection Attempt Delay" (250 ms by default, never
//!   below the 10 ms floor §5 requires), or at once when the previous attempt failed.
//!   Attempts already started keep running; the first to connect wins (the caller stops
//!   asking this planner then).
//! - §3's resolution delay lives in the DNS lookup (`proto::dns::lookup`).

use crate::error::Error;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// RFC 8305 §5: "MUST NOT be lower than 10 milliseconds".
const MIN_ATTEMPT_DELAY: Duration = Duration::from_millis(10);

/// Orders addresses IPv6, IPv4, IPv6, ... keeping each family's order (RFC 8305 §4).
pub(crate) fn interleave(addrs: Vec<IpAddr>) -> Vec<IpAddr> {
    let (v6, v4): (Vec<IpAddr>, Vec<IpAddr>) = addrs.into_iter().partition(IpAddr::is_ipv6);
    let mut out = Vec::with_capacity(v6.len() + v4.len());
    let (mut a, mut b) = (v6.into_iter(), v4.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

/// The plan of connection attempts for one host's addresses.
#[derive(Debug)]
pub(crate) struct HappyEyeballs {
    addrs: Vec<SocketAddr>,
    /// Index of the next address to start.
    next: usize,
    attempt_delay: Duration,
    /// When the next attempt may start; `None` when all have started.
    next_at: Option<Instant>,
    /// Started and not yet failed.
    in_flight: Vec<SocketAddr>,
    errors: Vec<(SocketAddr, Error)>,
}

impl HappyEyeballs {
    /// Plans attempts to `addrs` on `port`; the first may start at `now`.
    pub(crate) fn new(addrs: Vec<IpAddr>, port: u16, attempt_delay: Duration, now: Instant) -> HappyEyeballs {
        let mut seen = Vec::new();
        for ip in interleave(addrs) {
            let sa = SocketAddr::new(ip, port);
            if !seen.contains(&sa) {
                seen.push(sa);
            }
        }
        let next_at = if seen.is_empty() { None } else { Some(now) };
        HappyEyeballs {
            addrs: seen,
            next: 0,
            attempt_delay: attempt_delay.max(MIN_ATTEMPT_DELAY),
            next_at,
            in_flight: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The address to start connecting to now, if one is due. Call until `None`.
    pub(crate) fn poll_start(&mut self, now: Instant) -> Option<SocketAddr> {
        if self.next_at.is_none_or(|t| now < t) {
            return None;
        }
        let addr = *self.addrs.get(self.next)?;
        self.next += 1;
        self.in_flight.push(addr);
        self.next_at = (self.next < self.addrs.len()).then(|| now + self.attempt_delay);
        Some(addr)
    }

    /// The attempt to `addr` failed with `err`. If it was the most recent one, the next
    /// address may start at once (RFC 8305 §5) rather than after the delay.
    pub(crate) fn attempt_failed(&mut self, addr: SocketAddr, err: Error, now: Instant) {
        let Some(pos) = self.in_flight.iter().position(|a| *a == addr) else {
            return;
        };
        let was_latest = pos + 1 == self.in_flight.len()
            && self.next.checked_sub(1).and_then(|i| self.addrs.get(i)) == Some(&addr);
        self.in_flight.remove(pos);
        self.errors.push((addr, err));
        if (was_latest || self.in_flight.is_empty()) && self.next < self.addrs.len() {
            self.next_at = Some(now);
        }
    }

    /// When [`HappyEyeballs::poll_start`] will next have an address (may be in the past).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.next_at
    }

    /// Every address was tried and every attempt failed.
    pub(crate) fn is_exhausted(&self) -> bool {
        self.next >= self.addrs.len() && self.in_flight.is_empty()
    }

    /// Each failed address with its error, in the order they failed.
    pub(crate) fn errors(&self) -> &[(SocketAddr, Error)] {
        &self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const D: Duration = Duration::from_millis(250);

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().expect("ip")).collect()
    }

    fn refused() -> Error {
        Error::new(ErrorKind::Connect, "connection refused")
    }

    #[test]
    fn interleaves_v6_first() {
        let out = interleave(ips(&["192.0.2.1", "192.0.2.2", "2001:db8::1", "192.0.2.3", "2001:db8::2"]));
        assert_eq!(out, ips(&["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "192.0.2.3"]));
        assert!(interleave(Vec::new()).is_empty());
    }

    #[test]
    fn starts_on_delay_schedule() {
        let t0 = Instant::now();
        let mut he = HappyEyeballs::new(ips(&["192.0.2.1", "2001:db8::1", "192.0.2.2"]), 443, D, t0);
        assert_eq!(he.poll_start(t0), Some("[2001:db8::1]:443".parse().expect("sa")));
        assert_eq!(he.poll_start(t0), None);
        assert_eq!(he.next_deadline(), Some(t0 + D));
        assert_eq!(he.poll_start(t0 + D - Duration::from_millis(1)), None);
        assert_eq!(he.poll_start(t0 + D), Some("192.0.2.1:443".parse().expect("sa")));
        assert_eq!(he.poll_start(t0 + 2 * D), Some("192.0.2.2:443".parse().expect("sa")));
        assert_eq!(he.poll_start(t0 + 9 * D), None);
        assert_eq!(he.next_deadline(), None);
        assert!(!he.is_exhausted());
    }

    #[test]
    fn failure_of_latest_starts_next_at_once() {
        let t0 = Instant::now();
        let mut he = HappyEyeballs::new(ips(&["::1", "127.0.0.1", "::2"]), 80, D, t0);
        let a = he.poll_start(t0).expect("first");
        let t1 = t0 + Duration::from_millis(20);
        he.attempt_failed(a, refused(), t1);
        assert_eq!(he.next_deadline(), Some(t1));
        let b = he.poll_start(t1).expect("second at once");
        assert_eq!(b, "127.0.0.1:80".parse().expect("sa"));
        // b fails too, everything else started and failed: exhausted with all errors.
        let t2 = t1 + Duration::from_millis(5);
        he.attempt_failed(b, refused(), t2);
        let c = he.poll_start(t2).expect("third");
        assert!(!he.is_exhausted());
        he.attempt_failed(c, refused(), t2);
        assert!(he.is_exhausted());
        assert_eq!(he.errors().len(), 3);
    }

    #[test]
    fn failure_of_older_attempt_keeps_the_schedule() {
        let t0 = Instant::now();
        let mut he = HappyEyeballs::new(ips(&["::1", "127.0.0.1", "::2"]), 80, D, t0);
        let a = he.poll_start(t0).expect("a");
        let _b = he.poll_start(t0 + D).expect("b");
        he.attempt_failed(a, refused(), t0 + D + Duration::from_millis(1));
        assert_eq!(he.next_deadline(), Some(t0 + 2 * D));
        // Unknown or repeated failures are ignored.
        he.attempt_failed(a, refused(), t0 + D);
        assert_eq!(he.errors().len(), 1);
    }

    #[test]
    fn empty_and_tiny_delay() {
        let t0 = Instant::now();
        let mut he = HappyEyeballs::new(Vec::new(), 80, D, t0);
        assert!(he.is_exhausted());
        assert_eq!(he.poll_start(t0), None);
        let mut he = HappyEyeballs::new(ips(&["::1", "::1", "::2"]), 80, Duration::ZERO, t0);
        he.poll_start(t0).expect("first");
        assert_eq!(he.next_deadline(), Some(t0 + MIN_ATTEMPT_DELAY));
        he.poll_start(t0 + MIN_ATTEMPT_DELAY).expect("second");
        assert_eq!(he.poll_start(t0 + D), None, "duplicates removed");
    }
}
