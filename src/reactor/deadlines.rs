//! The loop's timer structure: a min-heap of (instant, target). Entries are never
//! removed early; when one fires, the owner checks it against its current deadline
//! and ignores it if stale. That keeps arming O(log n) and cancelling free, and a
//! connection that re-arms on every read (idle timeout) instead re-checks lazily.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// What a timer entry wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    /// A connection's state timer: slab index and generation.
    Conn(usize, super::key::Gen),
    /// A request's total deadline: slab index and request id.
    Request(usize, u64),
    /// The download-rate bucket refills.
    RateRefill,
    /// A host hold (`Control::hold_host`) ends.
    HoldEnds,
}

#[derive(Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, Target)>>,
}

impl Deadlines {
    pub(crate) fn arm(&mut self, at: Instant, target: Target) {
        self.heap.push(Reverse((at, target)));
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// The next entry due at `now`, if any.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, Target)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_time_order_and_only_when_due() {
        let t0 = Instant::now();
        let mut d = Deadlines::default();
        d.arm(t0 + Duration::from_secs(2), Target::Conn(2, 0));
        d.arm(t0 + Duration::from_secs(1), Target::Conn(1, 0));
        assert_eq!(d.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(d.pop_due(t0), None);
        assert_eq!(d.pop_due(t0 + Duration::from_secs(1)).map(|e| e.1), Some(Target::Conn(1, 0)));
        assert_eq!(d.pop_due(t0 + Duration::from_secs(1)), None);
        assert_eq!(d.pop_due(t0 + Duration::from_secs(5)).map(|e| e.1), Some(Target::Conn(2, 0)));
        assert_eq!(d.len(), 0);
    }
}
