//! Request serialisation: the request head and the framed request body.
//!
//! Implements RFC 9112 §3 (request line), §3.2 with RFC 9110 §7.2 (`Host`, sent first),
//! §6.1–§6.2 (we alone choose the body framing, so caller `Content-Length` /
//! `Transfer-Encoding` fields are dropped) and §7.1 (chunked transfer coding).
//! Header names and values were validated by `Request::validate` (no CR, LF or NUL), so
//! nothing here can split a line.

use crate::error::{Error, ErrorKind};
use crate::headers::Headers;

/// How the request body is framed on the wire (RFC 9112 §6.2, §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyLen {
    /// No body and no framing field (GET, HEAD, DELETE without content).
    None,
    /// `Content-Length: n`; exactly `n` bytes follow.
    Known(u64),
    /// `Transfer-Encoding: chunked`; the size is not known up front.
    Chunked,
}

/// Once this many bytes wait in [`RequestWriter::pending`], the writer stops asking for
/// more body: the transport is the bottleneck and buffering more only costs memory.
const WANT_BODY_BELOW: usize = 64 * 1024;

/// Appends the full request head to `out`.
///
/// Order: the request line; `Host` (the caller's first `Host` if it has one, else
/// `host_header`) because RFC 9110 §7.2 says a user agent SHOULD send it first;
/// `User-Agent: user_agent` unless the caller has one; the caller's other fields in
/// order, minus `Content-Length` and `Transfer-Encoding` (framing is ours, §6.1–§6.2) and
/// minus any further `Host` (two would make the server answer 400, §3.2); then the
/// framing field for `body`; then the empty line. `target` is origin-form, already
/// percent-encoded (§3.2.1).
pub(crate) fn write_request_head(
    out: &mut Vec<u8>,
    method: &str,
    target: &str,
    host_header: &str,
    user_agent: &str,
    headers: &Headers,
    body: BodyLen,
) {
    out.reserve(128 + headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>());
    push_line(out, &[method.as_bytes(), b" ", target.as_bytes(), b" HTTP/1.1"]);
    let host = headers.get_bytes("host").unwrap_or(host_header.as_bytes());
    push_line(out, &[b"Host: ", host]);
    if !headers.contains("user-agent") {
        push_line(out, &[b"User-Agent: ", user_agent.as_bytes()]);
    }
    for (name, value) in headers.iter() {
        let ours = ["host", "content-length", "transfer-encoding"];
        if ours.iter().any(|o| name.eq_ignore_ascii_case(o)) {
            continue;
        }
        push_line(out, &[name.as_bytes(), b": ", value]);
    }
    match body {
        BodyLen::None => {}
        BodyLen::Known(n) => push_line(out, &[b"Content-Length: ", n.to_string().as_bytes()]),
        BodyLen::Chunked => push_line(out, &[b"Transfer-Encoding: chunked"]),
    }
    out.extend_from_slice(b"\r\n");
}

fn push_line(out: &mut Vec<u8>, parts: &[&[u8]]) {
    for part in parts {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(b"\r\n");
}

/// What the body side of a [`RequestWriter`] still expects from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    /// `Content-Length` framing: `remaining` of `expected` bytes still to come.
    Counted { expected: u64, remaining: u64 },
    /// Chunked framing, open until [`RequestWriter::finish_body`].
    Chunked,
    /// Nothing more may be pushed (no body, all counted bytes in, or last chunk queued).
    Finished,
}

/// Sans-IO writer of one request: the head bytes first, then body bytes the caller
/// pushes, framed as chunks or counted against `Content-Length`.
#[derive(Debug)]
pub(crate) struct RequestWriter {
    /// Bytes queued for the transport; `buf[pos..]` is still pending.
    buf: Vec<u8>,
    pos: usize,
    /// Head bytes not yet advanced past.
    head_left: usize,
    body: BodyState,
}

impl RequestWriter {
    /// A writer that will send `head` (from [`write_request_head`] with the same `body`).
    pub(crate) fn new(head: Vec<u8>, body: BodyLen) -> Self {
        let body = match body {
            BodyLen::None | BodyLen::Known(0) => BodyState::Finished,
            BodyLen::Known(n) => BodyState::Counted { expected: n, remaining: n },
            BodyLen::Chunked => BodyState::Chunked,
        };
        RequestWriter { head_left: head.len(), buf: head, pos: 0, body }
    }

    /// Bytes waiting to be written to the transport.
    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// `n` bytes of [`Self::pending`] were written (clamped to what is pending).
    pub(crate) fn advance(&mut self, n: usize) {
        debug_assert!(n <= self.pending().len(), "advance past pending bytes");
        let n = n.min(self.pending().len());
        self.pos += n;
        self.head_left = self.head_left.saturating_sub(n);
        if self.pos == self.buf.len() {
            // Everything written: reuse the allocation from the start.
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// True when the body is not finished and few enough bytes are pending that the
    /// caller should push more.
    pub(crate) fn wants_body(&self) -> bool {
        self.body != BodyState::Finished && self.pending().len() < WANT_BODY_BELOW
    }

    /// Queue body bytes: as one chunk for chunked framing (RFC 9112 §7.1), or counted
    /// against `Content-Length`; more than the declared length is an error because the
    /// extra bytes would be read by the server as the next request.
    pub(crate) fn push_body(&mut self, data: &[u8]) -> Result<(), Error> {
        if data.is_empty() {
            // An empty chunk would be the last-chunk; an empty push means nothing.
            return Ok(());
        }
        self.compact();
        match &mut self.body {
            BodyState::Counted { expected, remaining } => {
                let len = data.len() as u64;
                if len > *remaining {
                    let sent = *expected - *remaining + len;
                    return Err(request_error(format!(
                        "request body longer than its Content-Length: {sent} bytes pushed, {expected} expected"
                    )));
                }
                *remaining -= len;
                self.buf.extend_from_slice(data);
                if *remaining == 0 {
                    self.body = BodyState::Finished;
                }
            }
            BodyState::Chunked => {
                self.buf.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                self.buf.extend_from_slice(data);
                self.buf.extend_from_slice(b"\r\n");
            }
            BodyState::Finished => {
                return Err(request_error("request body pushed after the body was finished"));
            }
        }
        Ok(())
    }

    /// The caller has no more body. Chunked: queues the last-chunk and the empty trailer
    /// section (`0\r\n\r\n`, §7.1). Counted: an error if fewer bytes than declared came,
    /// since the server would wait for the rest.
    pub(crate) fn finish_body(&mut self) -> Result<(), Error> {
        match self.body {
            BodyState::Counted { expected, remaining } => {
                let sent = expected - remaining;
                Err(request_error(format!(
                    "request body shorter than its Content-Length: {sent} bytes sent, {expected} expected"
                )))
            }
            BodyState::Chunked => {
                self.compact();
                self.buf.extend_from_slice(b"0\r\n\r\n");
                self.body = BodyState::Finished;
                Ok(())
            }
            BodyState::Finished => Ok(()),
        }
    }

    /// Every byte of the request is queued (some may still be pending).
    pub(crate) fn is_complete(&self) -> bool {
        self.body == BodyState::Finished
    }

    /// The body is finished and every byte was written.
    pub(crate) fn is_finished(&self) -> bool {
        self.body == BodyState::Finished && self.pending().is_empty()
    }

    /// All head bytes have been advanced past.
    #[cfg(test)]
    pub(crate) fn head_written(&self) -> bool {
        self.head_left == 0
    }

    /// Drop written bytes before appending once they are the larger part of the buffer,
    /// so a long upload does not grow the buffer without bound (amortised O(1) per byte).
    fn compact(&mut self) {
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }
}

fn request_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidRequest, message)
}
