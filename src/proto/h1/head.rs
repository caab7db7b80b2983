//! Response head parsing: status line and header section, with `httparse` (the only
//! file that names it).
//!
//! Implements RFC 9112 §2.2 (message parsing; a bare LF ends a line, leading empty lines
//! are skipped), §4 (status line; codes outside 100–599 are rejected, RFC 9110 §15) and
//! §5 (field lines; obs-fold §5.2 and whitespace before the colon §5.1 are rejected, as
//! are bytes outside field-value). Every head has two limits: its size and its field count.

use crate::error::Error;
use crate::event::Version;
use crate::headers::Headers;

/// Limits on one response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeadLimits {
    /// Largest head in bytes, status line through the final empty line.
    pub(crate) max_head_size: usize,
    /// Most header fields accepted.
    pub(crate) max_headers: usize,
}

/// A parsed response head (interim or final).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    /// HTTP/1.0 or HTTP/1.1.
    pub(crate) version: Version,
    /// Status code, 100–599.
    pub(crate) status: u16,
    /// Reason phrase; empty when absent or not plain ASCII.
    pub(crate) reason: String,
    /// Header fields in wire order.
    pub(crate) headers: Headers,
}

/// Incremental head parser over a buffer that the caller grows between calls.
///
/// It runs `httparse` only once the buffer holds a line end followed by an empty line,
/// and remembers how far it looked, so feeding a head in many small reads costs linear
/// time, not quadratic.
#[derive(Debug)]
pub(crate) struct HeadParser {
    limits: HeadLimits,
    /// Bytes at the start of the buffer already searched without finding an end.
    scanned: usize,
}

impl HeadParser {
    /// A parser for one head.
    pub(crate) fn new(limits: HeadLimits) -> Self {
        HeadParser { limits, scanned: 0 }
    }

    /// Parse the head at the start of `buf` (all unconsumed bytes, the same start each
    /// call). `Ok(None)`: need more bytes. `Ok(Some((consumed, head)))`: a complete head
    /// of `consumed` bytes. `Err`: malformed, too many fields, or no complete head within
    /// `max_head_size` bytes (so a full buffer is an error, never a hang).
    pub(crate) fn parse(&mut self, buf: &[u8]) -> Result<Option<(usize, ResponseHead)>, Error> {
        let max = self.limits.max_head_size;
        check_start(buf)?;
        // Only the first `max` bytes may hold the head; what lies beyond is never parsed,
        // so the outcome is the same however the bytes were split into reads.
        let window = buf.get(..max).unwrap_or(buf);
        // Back up two bytes: the end sequence may straddle the previous call's data.
        let from = self.scanned.saturating_sub(2).min(window.len());
        let found = find_end(window.get(from..).unwrap_or_default()).is_some();
        if found {
            if let Some((consumed, head)) = self.run_httparse(window)? {
                self.scanned = 0;
                return Ok(Some((consumed, head)));
            }
            // Complete-looking but partial: only leading empty lines (§2.2) so far.
        }
        self.scanned = window.len();
        if buf.len() >= max {
            return Err(Error::protocol(format!("response head larger than {max} bytes")));
        }
        Ok(None)
    }

    fn run_httparse(&self, window: &[u8]) -> Result<Option<(usize, ResponseHead)>, Error> {
        let n = self.limits.max_headers;
        // The default limit fits on the stack: a heap array of 3 KiB per response was
        // a malloc, a free and a consolidation of glibc's free lists every time.
        const ON_STACK: usize = 128;
        let mut stack = [httparse::EMPTY_HEADER; ON_STACK];
        let mut heap = Vec::new();
        let fields: &mut [httparse::Header<'_>] = if n <= ON_STACK {
            &mut stack[..n]
        } else {
            heap.resize(n, httparse::EMPTY_HEADER);
            &mut heap
        };
        let mut response = httparse::Response::new(fields);
        let consumed = match response.parse(window) {
            Ok(httparse::Status::Complete(consumed)) => consumed,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Error::protocol(format!("response head has more than {n} header fields")));
            }
            Err(e) => return Err(Error::protocol(format!("malformed response head: {e}"))),
        };
        let version = match response.version {
            Some(0) => Version::Http10,
            Some(1) => Version::Http11,
            // httparse accepts only HTTP/1.0 and HTTP/1.1; anything else is not ours.
            _ => return Err(Error::protocol("unsupported HTTP version in response")),
        };
        let status = response.code.unwrap_or(0);
        // RFC 9110 §15: values outside 100..=599 are invalid.
        if !(100..=599).contains(&status) {
            return Err(Error::protocol(format!("invalid status code {status:03}")));
        }
        let reason = response.reason.unwrap_or_default().to_string();
        let mut headers = Headers::new();
        for field in response.headers.iter() {
            headers.push(field.name, field.value);
        }
        Ok(Some((consumed, ResponseHead { version, status, reason, headers })))
    }
}

/// Index just past the first empty line in `bytes`: LF, an optional CR, LF (§2.2 lets a
/// bare LF end a line, so "\n\n", "\r\n\n" and "\n\r\n" all end a head).
fn find_end(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(off) = bytes.get(i..).and_then(|rest| rest.iter().position(|&b| b == b'\n')) {
        let lf = i + off;
        match (bytes.get(lf + 1), bytes.get(lf + 2)) {
            (Some(b'\n'), _) => return Some(lf + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
    None
}

/// Fail at once when the bytes cannot be the start of an HTTP/1.x status line (after
/// the empty lines §2.2 lets us skip): a peer speaking another protocol (TLS on a
/// plain port, HTTP/0.9) is reported now, not after `max_head_size` bytes or a timeout.
/// Checks only the bytes present, so any split of the input gives the same answer.
fn check_start(buf: &[u8]) -> Result<(), Error> {
    const PREFIX: &[u8] = b"HTTP/1.";
    let start = buf.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(buf.len());
    let rest = buf.get(start..).unwrap_or_default();
    let n = rest.len().min(PREFIX.len());
    if rest.get(..n) != PREFIX.get(..n) {
        return Err(Error::protocol("response does not start with an HTTP/1.x status line"));
    }
    Ok(())
}
