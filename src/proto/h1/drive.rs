//! Drives a decoder the way the reactor does — appending each read to the unconsumed
//! bytes, feeding until it stops making progress — over a chosen split of the input,
//! and records what came out. Shared by the fuzz entry and the three-ways test helper,
//! which both check that the outcome does not depend on how the bytes were split.

use super::body::BodyDecoder;
use super::exchange::{Exchange, Step};
use super::head::ResponseHead;
use crate::error::Error;

/// Something fed bytes like [`Exchange::handle_read`]: `(consumed, step)`.
pub(crate) trait Feed {
    /// Feed unconsumed bytes.
    fn feed(&mut self, buf: &[u8]) -> Result<(usize, Step), Error>;
    /// The input ended (peer closed): `Ok(true)` when that completes the message.
    fn eof(&mut self) -> Result<bool, Error>;
}

impl Feed for Exchange {
    fn feed(&mut self, buf: &[u8]) -> Result<(usize, Step), Error> {
        self.handle_read(buf)
    }
    fn eof(&mut self) -> Result<bool, Error> {
        self.handle_eof().map(|step| step == Step::Done)
    }
}

impl Feed for BodyDecoder {
    fn feed(&mut self, buf: &[u8]) -> Result<(usize, Step), Error> {
        if self.is_done() {
            return Ok((0, Step::Done));
        }
        let (consumed, range) = self.decode(buf)?;
        let step = if !range.is_empty() {
            Step::Body(range)
        } else if self.is_done() {
            Step::Done
        } else {
            Step::NeedMore
        };
        Ok((consumed, step))
    }
    fn eof(&mut self) -> Result<bool, Error> {
        self.finish_on_eof().map(|()| true)
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// Completed by the bytes themselves.
    Done,
    /// Completed by EOF (close-delimited body).
    DoneAtEof,
    /// Failed with this message.
    Err(String),
    /// Input ran out, no EOF was signalled.
    Incomplete,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Final heads reported (must be at most one).
    pub(crate) heads: Vec<ResponseHead>,
    /// Body bytes, concatenated.
    pub(crate) body: Vec<u8>,
    /// How it ended.
    pub(crate) end: End,
    /// Bytes never consumed (after `Done`, or when input ran out); empty after an error.
    pub(crate) leftover: Vec<u8>,
}

impl Outcome {
    /// Panics when two runs of the same input disagree on what a caller would see:
    /// head statuses, body bytes, and done versus error.
    pub(crate) fn assert_same(&self, other: &Outcome, what: &str) {
        let statuses = |o: &Outcome| o.heads.iter().map(|h| h.status).collect::<Vec<_>>();
        assert_eq!(statuses(self), statuses(other), "{what}: head statuses differ");
        assert!(self.body == other.body, "{what}: body bytes differ");
        let kind = |e: &End| std::mem::discriminant(e);
        assert_eq!(kind(&self.end), kind(&other.end), "{what}: {:?} vs {:?}", self.end, other.end);
    }
}

/// Read sizes: all at once, or pseudo-random sizes from a xorshift seed (0 means one
/// byte at a time). Deterministic, so a failing split can be replayed.
#[derive(Debug, Clone)]
pub(crate) struct Splits {
    state: Option<u64>,
}

impl Splits {
    /// One read holding the whole input.
    pub(crate) fn whole() -> Self {
        Splits { state: None }
    }

    /// Reads of 1..=17 bytes from a xorshift64 sequence; seed 0 gives single bytes.
    pub(crate) fn new(seed: u64) -> Self {
        Splits { state: Some(seed) }
    }

    fn next_len(&mut self, left: usize) -> usize {
        match &mut self.state {
            None => left,
            Some(0) => 1,
            Some(x) => {
                // xorshift64 (Marsaglia); the odd constant keeps small seeds lively.
                let mut v = *x ^ 0x9e37_79b9_7f4a_7c15;
                v ^= v << 13;
                v ^= v >> 7;
                v ^= v << 17;
                *x = v;
                (v % 17) as usize + 1
            }
        }
    }
}

/// Run `decoder` over `input` read in `splits`, then signal EOF if `eof`.
pub(crate) fn drive<D: Feed>(decoder: &mut D, input: &[u8], splits: &mut Splits, eof: bool) -> Outcome {
    let mut out = Outcome { heads: Vec::new(), body: Vec::new(), end: End::Incomplete, leftover: Vec::new() };
    let mut pending: Vec<u8> = Vec::new();
    let mut rest = input;
    'reads: loop {
        let take = splits.next_len(rest.len()).min(rest.len());
        let (read, after) = rest.split_at(take);
        pending.extend_from_slice(read);
        rest = after;
        // Guards against a decoder that reports progress forever.
        for _ in 0..=2 * pending.len() + 8 {
            match decoder.feed(&pending) {
                Err(e) => {
                    out.end = End::Err(e.message().to_string());
                    break 'reads;
                }
                Ok((n, step)) => {
                    let n = n.min(pending.len());
                    match step {
                        Step::Head(head) => out.heads.push(head),
                        Step::Body(range) => {
                            assert!(range.end <= n, "body range {range:?} beyond consumed {n}");
                            out.body.extend_from_slice(pending.get(range).unwrap_or_default());
                        }
                        Step::Done => {
                            pending.drain(..n);
                            out.end = End::Done;
                            break 'reads;
                        }
                        Step::NeedMore if n == 0 => {
                            if rest.is_empty() {
                                break 'reads;
                            }
                            continue 'reads;
                        }
                        Step::NeedMore => {}
                    }
                    pending.drain(..n);
                }
            }
        }
        panic!("decoder kept reporting progress without consuming input");
    }
    if out.end == End::Incomplete && eof {
        out.end = match decoder.eof() {
            Ok(true) => End::DoneAtEof,
            Ok(false) => End::Incomplete,
            Err(e) => End::Err(e.message().to_string()),
        };
    }
    // After an error the connection is dropped, and how far a decoder got into the bad
    // bytes depends on the split; only a clean stop has meaningful leftovers.
    if !matches!(out.end, End::Err(_)) {
        pending.extend_from_slice(rest);
        out.leftover = pending;
    }
    out
}
