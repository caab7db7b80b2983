//! HTTP/1.1 (RFC 9112), sans-IO: request serialisation, response head parsing, body
//! framing and decoding, and the read side of one exchange. Bytes in, bytes out: no
//! sockets, no clock, no files, so every rule here is tested byte by byte and fuzzed.
//!
//! `httparse` is named in this folder only (`head.rs`), so an upgrade touches one file.
//!
//! ```text
//!  request.rs   write_request_head · RequestWriter          (RFC 9112 §3, §6, §7.1)
//!  head.rs      HeadParser -> ResponseHead                   (RFC 9112 §2, §4, §5)
//!  framing.rs   response_framing -> Framing                  (RFC 9112 §6.3)
//!  chunked.rs   ChunkedDecoder                               (RFC 9112 §7.1)
//!  body.rs      BodyDecoder over a Framing                   (RFC 9112 §6, §8)
//!  exchange.rs  RecvHead -> RecvBody(BodyDecoder) -> Done    (RFC 9112 §9.3)
//!  pipeline.rs  may a request go behind another, unanswered  (RFC 9112 §9.3.2)
//! ```

pub(crate) mod body;
pub(crate) mod chunked;
pub(crate) mod drive;
pub(crate) mod exchange;
pub(crate) mod framing;
pub(crate) mod head;
pub(crate) mod pipeline;
pub(crate) mod request;
#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod chunked_tests;
#[cfg(test)]
mod exchange_tests;
#[cfg(test)]
mod framing_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod head_tests;
#[cfg(test)]
mod request_tests;

/// Fuzz entry: the first byte picks a split pattern (seed) and whether the request was
/// HEAD; the rest is a response. It runs an [`exchange::Exchange`] over the bytes whole
/// and split, and a chunked [`body::BodyDecoder`] likewise, and panics only when the
/// two runs disagree (head status, body bytes, done/error), i.e. when the decoders are
/// not split-invariant. They must never panic on their own.
pub(crate) fn fuzz_entry(data: &[u8]) {
    let Some((&control, response)) = data.split_first() else {
        return;
    };
    let request_was_head = control & 0x80 != 0;
    // Low bits: 0 = one byte at a time, otherwise a xorshift seed for random splits.
    let seed = u64::from(control & 0x7f);
    let limits = || head::HeadLimits { max_head_size: 4096, max_headers: 32 };
    let make = || exchange::Exchange::new(request_was_head, false, limits());
    let whole = drive::drive(&mut make(), response, &mut drive::Splits::whole(), true);
    let split = drive::drive(&mut make(), response, &mut drive::Splits::new(seed), true);
    whole.assert_same(&split, "exchange whole vs split");

    let make = || body::BodyDecoder::new(framing::Framing::Chunked);
    let whole = drive::drive(&mut make(), response, &mut drive::Splits::whole(), true);
    let split = drive::drive(&mut make(), response, &mut drive::Splits::new(seed), true);
    whole.assert_same(&split, "chunked whole vs split");
}
