//! Decoder for the chunked transfer coding, RFC 9112 §7.1: chunk-size in hex (§7.1),
//! chunk extensions (§7.1.1, skipped), chunk data, the last-chunk, and the trailer
//! section (§7.1.2, skipped: we promise no trailer use, and RFC 9110 §6.5.1 lets a
//! recipient discard trailer fields).
//!
//! Strictness: chunk lines and the CRLF after chunk data must be CRLF exactly. Lenient
//! chunk parsing (bare LF, junk after the size) is how front and back ends come to
//! disagree about message boundaries ("TERM.EXT" smuggling); a client gains nothing
//! from it. Trailer lines are field lines, where RFC 9112 §2.2 lets a recipient accept a
//! bare LF, as the head parser does. Every unbounded thing is bounded: the size value
//! (u64), the extension bytes per chunk line, and the trailer section.

use crate::error::Error;
use std::ops::Range;

/// Most bytes after the chunk-size on one chunk line (whitespace and extensions).
const MAX_CHUNK_EXT: usize = 4 * 1024;
/// Most bytes in the trailer section, its final CRLF included.
const MAX_TRAILER: usize = 64 * 1024;

/// What the decoder is waiting for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Hex digits of a chunk-size; `digits` false until the first one.
    Size { value: u64, digits: bool },
    /// After the size: BWS before `;`, or the extensions; `len` bytes so far.
    Ext { size: u64, len: usize },
    /// The LF ending a chunk line.
    SizeLf { size: u64 },
    /// Chunk data still to deliver.
    Data { remaining: u64 },
    /// The CR after chunk data.
    DataCr,
    /// The LF after chunk data.
    DataLf,
    /// Start of a trailer line, or the empty line ending the message; `len` bytes so far.
    TrailerStart { len: usize },
    /// Inside a trailer field line.
    TrailerLine { len: usize },
    /// The LF after a CR in the trailer; `end` when that CR began an empty line.
    TrailerLf { len: usize, end: bool },
    /// The message is complete.
    Done,
    /// An error was returned; the stream cannot be resynchronised.
    Failed,
}

/// Incremental chunked-body decoder; delivers data as ranges of the caller's buffer.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedDecoder {
    state: State,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub(crate) fn new() -> Self {
        ChunkedDecoder { state: State::Size { value: 0, digits: false } }
    }

    /// Decode from `buf` (the caller's unconsumed bytes). Returns `(consumed, data)`
    /// where `data` lies inside `buf[..consumed]`; stops after the first non-empty data
    /// range, and at the end of the message (later bytes are not consumed). Running out
    /// of bytes is not an error: the range is then empty.
    pub(crate) fn decode(&mut self, buf: &[u8]) -> Result<(usize, Range<usize>), Error> {
        let result = self.run(buf);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    /// After the last-chunk and the trailer section's final line end.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn run(&mut self, buf: &[u8]) -> Result<(usize, Range<usize>), Error> {
        let mut pos = 0;
        while pos < buf.len() {
            if let State::Data { remaining } = self.state {
                let available = buf.len() - pos;
                // Fits in usize because it is at most `available`.
                let n = usize::try_from(remaining).map_or(available, |r| r.min(available));
                let left = remaining - n as u64;
                self.state = if left == 0 { State::DataCr } else { State::Data { remaining: left } };
                return Ok((pos + n, pos..pos + n));
            }
            if self.state == State::Done {
                break;
            }
            let byte = buf[pos];
            self.state = self.step(byte)?;
            pos += 1;
        }
        Ok((pos, pos..pos))
    }

    /// One framing byte (any state but `Data`).
    fn step(&self, b: u8) -> Result<State, Error> {
        let next = match self.state {
            State::Size { value, digits } => match hex_value(b) {
                Some(d) => {
                    let value = value
                        .checked_mul(16)
                        .and_then(|v| v.checked_add(u64::from(d)))
                        .ok_or_else(|| Error::protocol("chunk size too large"))?;
                    State::Size { value, digits: true }
                }
                None if !digits => {
                    return Err(bad("chunk size does not start with a hex digit", b));
                }
                None => match b {
                    b'\r' => State::SizeLf { size: value },
                    b'\n' => return Err(Error::protocol("bare LF in chunk line (CRLF required)")),
                    b' ' | b'\t' | b';' => State::Ext { size: value, len: 1 },
                    _ => return Err(bad("invalid byte after chunk size", b)),
                },
            },
            State::Ext { size, len } => match b {
                b'\r' => State::SizeLf { size },
                // Extension bytes are skipped, but never line ends or other controls.
                b'\n' => return Err(Error::protocol("bare LF in chunk line (CRLF required)")),
                _ if is_ctl(b) => return Err(bad("control byte in chunk extension", b)),
                _ if len >= MAX_CHUNK_EXT => {
                    return Err(Error::protocol(format!(
                        "chunk extensions longer than {MAX_CHUNK_EXT} bytes"
                    )));
                }
                _ => State::Ext { size, len: len + 1 },
            },
            State::SizeLf { size } => match b {
                b'\n' if size == 0 => State::TrailerStart { len: 0 },
                b'\n' => State::Data { remaining: size },
                _ => return Err(bad("chunk line CR not followed by LF", b)),
            },
            State::DataCr => match b {
                b'\r' => State::DataLf,
                _ => return Err(bad("chunk data not followed by CRLF", b)),
            },
            State::DataLf => match b {
                b'\n' => State::Size { value: 0, digits: false },
                _ => return Err(bad("chunk data not followed by CRLF", b)),
            },
            State::TrailerStart { len } => match b {
                b'\r' => State::TrailerLf { len: trailer_len(len)?, end: true },
                b'\n' => State::Done,
                _ => State::TrailerLine { len: trailer_len(len)? },
            },
            State::TrailerLine { len } => match b {
                b'\r' => State::TrailerLf { len: trailer_len(len)?, end: false },
                b'\n' => State::TrailerStart { len: trailer_len(len)? },
                _ => State::TrailerLine { len: trailer_len(len)? },
            },
            State::TrailerLf { len, end } => match b {
                b'\n' if end => State::Done,
                b'\n' => State::TrailerStart { len: trailer_len(len)? },
                // §2.2: a bare CR is not a line end and not allowed in a field.
                _ => return Err(bad("bare CR in chunked trailer section", b)),
            },
            State::Data { .. } | State::Done => self.state,
            State::Failed => return Err(Error::protocol("chunked decoder used after an error")),
        };
        Ok(next)
    }
}

/// Count one more trailer byte, failing past [`MAX_TRAILER`].
fn trailer_len(len: usize) -> Result<usize, Error> {
    if len >= MAX_TRAILER {
        return Err(Error::protocol(format!("chunked trailer section larger than {MAX_TRAILER} bytes")));
    }
    Ok(len + 1)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Controls other than HTAB (RFC 9110 §5.5 excludes them from field-like text).
fn is_ctl(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

fn bad(what: &str, byte: u8) -> Error {
    Error::protocol(format!("{what} (byte 0x{byte:02x})"))
}
