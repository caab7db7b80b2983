//! The one shared test helper: runs a decoder over an input whole, one byte at a time,
//! and in pseudo-random splits, then again with trailing bytes after the message, and
//! asserts every run saw the same thing (heads, body bytes, end, error message).

use super::drive::{drive, End, Feed, Outcome, Splits};
use super::exchange::Exchange;
use super::head::HeadLimits;

/// Bytes appended after a message to prove they are left unconsumed.
pub(crate) const TRAILING: &[u8] = b"HTTP/1.1 200 NEXT\r\n\r\n";

/// Split seeds tried besides whole and byte-at-a-time.
const SEEDS: [u64; 4] = [1, 7, 42, 0xdead_beef];

/// Run `make()` over `input` every way, with EOF signalled at the end when `eof`, and
/// return the outcome after asserting all runs agree. When the message completed by
/// itself (`End::Done`), it also checks that trailing bytes change nothing and are left
/// unconsumed.
pub(crate) fn three_ways<D: Feed>(make: impl Fn() -> D, input: &[u8], eof: bool) -> Outcome {
    let whole = drive(&mut make(), input, &mut Splits::whole(), eof);
    let mut runs = vec![("one byte at a time", drive(&mut make(), input, &mut Splits::new(0), eof))];
    for seed in SEEDS {
        runs.push(("random splits", drive(&mut make(), input, &mut Splits::new(seed), eof)));
    }
    for (how, run) in &runs {
        assert_eq!(&whole, run, "whole vs {how} differ for input {:?}", String::from_utf8_lossy(input));
    }
    assert!(whole.heads.len() <= 1, "more than one final head: {:?}", whole.heads);
    if whole.end == End::Done {
        let mut longer = input.to_vec();
        longer.extend_from_slice(TRAILING);
        for splits in [Splits::whole(), Splits::new(0), Splits::new(3)] {
            let run = drive(&mut make(), &longer, &mut splits.clone(), eof);
            let mut expected = whole.clone();
            expected.leftover.extend_from_slice(TRAILING);
            assert_eq!(run, expected, "trailing bytes changed the outcome ({splits:?})");
        }
    }
    whole
}

/// Generous limits for tests that are not about limits.
pub(crate) fn limits() -> HeadLimits {
    HeadLimits { max_head_size: 8192, max_headers: 64 }
}

/// Three-ways run of a GET exchange, EOF at the end.
pub(crate) fn get(input: &[u8]) -> Outcome {
    three_ways(|| Exchange::new(false, false, limits()), input, true)
}

/// The error message of an outcome, or a panic naming what happened instead.
pub(crate) fn err(outcome: &Outcome) -> &str {
    match &outcome.end {
        End::Err(message) => message,
        other => {
            panic!("expected an error, got {other:?} with body {:?}", String::from_utf8_lossy(&outcome.body))
        }
    }
}

/// Three-ways check of an exchange, then the exchange itself after a whole run, so a
/// test can ask it about keep-alive and counters.
pub(crate) fn finished(request_was_head: bool, request_close: bool, input: &[u8]) -> (Exchange, Outcome) {
    let make = || Exchange::new(request_was_head, request_close, limits());
    let outcome = three_ways(make, input, true);
    let mut exchange = make();
    let whole = drive(&mut exchange, input, &mut Splits::whole(), true);
    assert_eq!(whole, outcome);
    (exchange, outcome)
}
