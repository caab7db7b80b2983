//! The download-rate token bucket (`Config::max_download_rate`), as data: reads take
//! tokens; an empty bucket stops reading (the kernel's window then slows the peer)
//! until a loop timer at `refill_at` lists the throttled connections again.

use std::time::{Duration, Instant};

/// Bytes per second with a burst of a tenth of a second.
pub(crate) struct RateBucket {
    rate: u64,
    tokens: f64,
    last: Instant,
}

impl RateBucket {
    pub(crate) fn new(rate: u64, now: Instant) -> RateBucket {
        RateBucket { rate: rate.max(1), tokens: 0.0, last: now }
    }

    /// A tenth of a second's worth: small enough to keep the rate smooth.
    fn burst(&self) -> f64 {
        (self.rate as f64 / 10.0).max(1024.0)
    }

    pub(crate) fn available(&mut self, now: Instant) -> usize {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate as f64).min(self.burst());
        self.tokens.max(0.0) as usize
    }

    pub(crate) fn take(&mut self, n: usize) {
        self.tokens -= n as f64;
    }

    /// When the bucket will hold a useful amount again.
    pub(crate) fn refill_at(&self, now: Instant) -> Instant {
        let want = (self.burst() / 4.0 - self.tokens).max(1.0);
        now + Duration::from_secs_f64(want / self.rate as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_the_rate_and_caps_the_burst() {
        let t0 = Instant::now();
        let mut b = RateBucket::new(100_000, t0);
        assert_eq!(b.available(t0), 0, "starts empty: no burst at start-up");
        assert_eq!(b.available(t0 + Duration::from_millis(50)), 5_000);
        b.take(5_000);
        assert_eq!(b.available(t0 + Duration::from_millis(50)), 0);
        // A long pause only earns a tenth of a second's worth.
        assert_eq!(b.available(t0 + Duration::from_secs(10)), 10_000);
        b.take(10_000);
        let at = b.refill_at(t0 + Duration::from_secs(10));
        assert!(at > t0 + Duration::from_secs(10) && at <= t0 + Duration::from_millis(10_030));
    }
}
