//! Jobs waiting for a time: retries after their backoff, and requests held back by a
//! host's "slow down". The loop asks [`DelayQueue::next_due`] for its `turn` timeout and
//! takes due jobs with [`DelayQueue::pop_due`]; equal times come out in insertion order,
//! so retries stay fair.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

/// A min-queue of `T` by due time.
#[derive(Debug)]
pub struct DelayQueue<T> {
    // The heap holds (due, seq); items live in a map so `T` needs no ordering.
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    items: HashMap<u64, T>,
    seq: u64,
}

impl<T> Default for DelayQueue<T> {
    fn default() -> Self {
        DelayQueue { heap: BinaryHeap::new(), items: HashMap::new(), seq: 0 }
    }
}

impl<T> DelayQueue<T> {
    /// An empty queue.
    pub fn new() -> DelayQueue<T> {
        DelayQueue::default()
    }

    /// Hold `item` until `due`.
    pub fn push(&mut self, due: Instant, item: T) {
        let seq = self.seq;
        self.seq += 1;
        self.heap.push(Reverse((due, seq)));
        self.items.insert(seq, item);
    }

    /// The earliest due time, if any.
    pub fn next_due(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((due, _))| *due)
    }

    /// The next item due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        match self.heap.peek() {
            Some(Reverse((due, _))) if *due <= now => {}
            _ => return None,
        }
        let Reverse((_, seq)) = self.heap.pop()?;
        self.items.remove(&seq)
    }

    /// Take every item regardless of time (e.g. to report them as cancelled on Ctrl-C).
    pub fn drain_all(&mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.items.len());
        while let Some(Reverse((_, seq))) = self.heap.pop() {
            out.extend(self.items.remove(&seq));
        }
        out
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn due_order_and_fifo_ties() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut q = DelayQueue::new();
        assert_eq!(q.next_due(), None);
        q.push(t0 + s(5), "late");
        q.push(t0 + s(1), "first");
        q.push(t0 + s(1), "second");
        q.push(t0 + s(3), "middle");
        assert_eq!(q.len(), 4);
        assert_eq!(q.next_due(), Some(t0 + s(1)));
        assert_eq!(q.pop_due(t0), None);
        assert_eq!(q.pop_due(t0 + s(1)), Some("first"));
        assert_eq!(q.pop_due(t0 + s(1)), Some("second"));
        assert_eq!(q.pop_due(t0 + s(1)), None);
        assert_eq!(q.pop_due(t0 + s(10)), Some("middle"));
        assert_eq!(q.drain_all(), vec!["late"]);
        assert!(q.is_empty());
        assert_eq!(q.next_due(), None);
    }
}
