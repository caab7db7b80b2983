//! Body decoding over a [`Framing`]: counts `Content-Length` bytes, runs the chunked
//! decoder, or passes everything through until EOF (RFC 9112 §6.3, §7.1, §8).
//!
//! The one rule that matters most: a body that ends early is an error, never a short
//! success (RFC 9112 §8: "incomplete message"). Only a close-delimited body ends at EOF.

use super::chunked::ChunkedDecoder;
use super::framing::Framing;
use crate::error::Error;
use std::ops::Range;

/// The decoder for each framing, with what it still waits for.
#[derive(Debug, Clone)]
enum Kind {
    /// No body: done from the start.
    NoBody,
    /// `remaining` of `total` bytes still to come.
    Length { total: u64, remaining: u64 },
    /// Chunked transfer coding.
    Chunked(ChunkedDecoder),
    /// Until the peer closes; `closed` once EOF was seen.
    Close { closed: bool },
}

/// Decodes one response body; data is returned as ranges of the caller's buffer.
#[derive(Debug, Clone)]
pub(crate) struct BodyDecoder {
    kind: Kind,
    received: u64,
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`.
    pub(crate) fn new(framing: Framing) -> Self {
        let kind = match framing {
            Framing::NoBody => Kind::NoBody,
            Framing::Length(total) => Kind::Length { total, remaining: total },
            Framing::Chunked => Kind::Chunked(ChunkedDecoder::new()),
            Framing::CloseDelimited => Kind::Close { closed: false },
        };
        BodyDecoder { kind, received: 0 }
    }

    /// Same contract as [`ChunkedDecoder::decode`]: `(consumed, data range in buf)`;
    /// bytes past the end of the body are never consumed.
    pub(crate) fn decode(&mut self, buf: &[u8]) -> Result<(usize, Range<usize>), Error> {
        let (consumed, range) = match &mut self.kind {
            Kind::NoBody | Kind::Close { closed: true } => (0, 0..0),
            Kind::Length { remaining, .. } => {
                let n = usize::try_from(*remaining).map_or(buf.len(), |r| r.min(buf.len()));
                *remaining -= n as u64;
                (n, 0..n)
            }
            Kind::Chunked(chunked) => chunked.decode(buf)?,
            Kind::Close { closed: false } => (buf.len(), 0..buf.len()),
        };
        self.received += range.len() as u64;
        Ok((consumed, range))
    }

    /// The whole body was received.
    pub(crate) fn is_done(&self) -> bool {
        match &self.kind {
            Kind::NoBody => true,
            Kind::Length { remaining, .. } => *remaining == 0,
            Kind::Chunked(chunked) => chunked.is_done(),
            Kind::Close { closed } => *closed,
        }
    }

    /// The body is delimited by the connection closing.
    #[allow(dead_code)] // part of the decoder's query API; the exchange answers this for the reactor
    pub(crate) fn is_close_delimited(&self) -> bool {
        matches!(self.kind, Kind::Close { .. })
    }

    /// The transport reached EOF. `Ok` only if the body is complete (a close-delimited
    /// body completes here); a short body is an error naming what was missing.
    pub(crate) fn finish_on_eof(&mut self) -> Result<(), Error> {
        match &mut self.kind {
            Kind::NoBody => Ok(()),
            Kind::Length { total, remaining } if *remaining > 0 => {
                Err(Error::truncated(format!("body cut short: got {} of {total} bytes", *total - *remaining)))
            }
            Kind::Length { .. } => Ok(()),
            Kind::Chunked(chunked) if chunked.is_done() => Ok(()),
            Kind::Chunked(_) => Err(Error::truncated(format!(
                "chunked body ended before the last chunk (after {} bytes)",
                self.received
            ))),
            Kind::Close { closed } => {
                *closed = true;
                Ok(())
            }
        }
    }

    /// Body bytes delivered so far.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }
}
