//! The read side of one HTTP/1.1 request/response: `RecvHead -> RecvBody -> Done`.
//!
//! Implements RFC 9112 §6.3 through [`response_framing`], RFC 9110 §15.2 (interim 1xx
//! responses are skipped; 101 is refused because we never ask to upgrade, §7.8) and
//! RFC 9112 §9.3 / §9.6 (whether the connection persists after the response).

use super::body::BodyDecoder;
use super::framing::{response_framing, Framing};
use super::head::{HeadLimits, HeadParser, ResponseHead};
use crate::error::Error;
use crate::event::Version;
use std::ops::Range;

/// What [`Exchange::handle_read`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing to report; feed more bytes.
    NeedMore,
    /// The final response head.
    Head(ResponseHead),
    /// Body bytes: a range of the buffer passed in.
    Body(Range<usize>),
    /// The response is complete.
    Done,
}

/// Why the connection cannot be reused after this exchange (RFC 9112 §9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// We sent `Connection: close`.
    RequestClose,
    /// The response carried `Connection: close` (§9.6).
    ResponseClose,
    /// HTTP/1.0 response without `Connection: keep-alive` (§9.3, Appendix C.2.2).
    Http10,
    /// The body ends when the connection closes (§6.3 rules 4 and 8).
    CloseDelimited,
}

/// What the exchange waits for.
#[derive(Debug)]
enum State {
    /// The final response head (interim 1xx heads are skipped on the way).
    RecvHead(HeadParser),
    /// The body of the final response.
    RecvBody(BodyDecoder),
    /// `Done` has been reported; nothing more is read.
    Done(BodyDecoder),
    /// An error was returned; the connection must be dropped. Keeps the body count
    /// for the failure report.
    Failed { received: u64 },
}

/// Read side of one request/response on an HTTP/1.1 connection.
#[derive(Debug)]
pub(crate) struct Exchange {
    state: State,
    request_was_head: bool,
    /// Set from the final head: `None` when the connection may be reused.
    close: Option<CloseReason>,
    /// The final head's framing, once known.
    framing: Option<Framing>,
    limits: HeadLimits,
    /// Response bytes seen by [`Self::handle_read`], consumed or not.
    seen: u64,
    /// The final head's protocol version.
    version: Option<Version>,
}

impl Exchange {
    /// `request_was_head`: the method was HEAD. `request_close`: we sent
    /// `Connection: close`.
    pub(crate) fn new(request_was_head: bool, request_close: bool, limits: HeadLimits) -> Self {
        Exchange {
            state: State::RecvHead(HeadParser::new(limits)),
            request_was_head,
            close: request_close.then_some(CloseReason::RequestClose),
            framing: None,
            limits,
            seen: 0,
            version: None,
        }
    }

    /// Feed the caller's unconsumed received bytes; returns `(consumed, step)`. Call again
    /// with the rest while `consumed > 0` or the step is not `NeedMore`. Interim 1xx
    /// heads are consumed silently; `Done` comes once, after which nothing is consumed.
    pub(crate) fn handle_read(&mut self, buf: &[u8]) -> Result<(usize, Step), Error> {
        self.seen = self.seen.saturating_add(buf.len() as u64);
        let result = self.read(buf);
        if result.is_err() {
            self.fail();
        }
        result
    }

    fn read(&mut self, buf: &[u8]) -> Result<(usize, Step), Error> {
        match &mut self.state {
            State::RecvHead(parser) => {
                let Some((consumed, head)) = parser.parse(buf)? else {
                    return Ok((0, Step::NeedMore));
                };
                self.on_head(consumed, head)
            }
            State::RecvBody(body) => {
                if body.is_done() {
                    self.finish();
                    return Ok((0, Step::Done));
                }
                let (consumed, range) = body.decode(buf)?;
                if !range.is_empty() {
                    Ok((consumed, Step::Body(range)))
                } else if body.is_done() {
                    self.finish();
                    Ok((consumed, Step::Done))
                } else {
                    Ok((consumed, Step::NeedMore))
                }
            }
            State::Done(_) => Ok((0, Step::NeedMore)),
            State::Failed { .. } => Err(Error::protocol("exchange used after an error")),
        }
    }

    fn fail(&mut self) {
        self.state = State::Failed { received: self.body_received() };
    }

    fn on_head(&mut self, consumed: usize, head: ResponseHead) -> Result<(usize, Step), Error> {
        match head.status {
            101 => {
                return Err(Error::protocol("server switched protocols (101) but no upgrade was requested"))
            }
            // RFC 9110 §15.2: a client MUST be able to parse 1xx responses before the
            // final one, and MAY ignore them. Their fields say nothing about the final
            // response's framing or persistence. Their number is not capped: a long job
            // may send 102s for as long as it runs; the reactor's head timer bounds it.
            100..=199 => {
                self.state = State::RecvHead(HeadParser::new(self.limits));
                return Ok((consumed, Step::NeedMore));
            }
            _ => {}
        }
        let framing = response_framing(self.request_was_head, head.status, &head.headers)?;
        self.framing = Some(framing);
        self.version = Some(head.version);
        self.close = self.close.or_else(|| close_reason(&head, framing));
        self.state = State::RecvBody(BodyDecoder::new(framing));
        Ok((consumed, Step::Head(head)))
    }

    fn finish(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Failed { received: 0 });
        self.state = match state {
            State::RecvBody(body) | State::Done(body) => State::Done(body),
            other => other,
        };
    }

    /// Transport EOF (peer closed, or TLS close_notify). `Ok(Done)` when the body is
    /// complete: close-delimited, or already done. Otherwise an error: no success for a
    /// response that was cut short.
    pub(crate) fn handle_eof(&mut self) -> Result<Step, Error> {
        let result = match &mut self.state {
            State::RecvHead(_) => Err(Error::truncated(if self.seen == 0 {
                "connection closed before the response head (no response bytes)"
            } else {
                "connection closed before the response head (head incomplete)"
            })),
            State::RecvBody(body) => body.finish_on_eof().map(|()| Step::Done),
            State::Done(_) => Ok(Step::Done),
            State::Failed { .. } => Err(Error::protocol("exchange used after an error")),
        };
        match result {
            Ok(step) => {
                self.finish();
                Ok(step)
            }
            Err(e) => {
                self.fail();
                Err(e)
            }
        }
    }

    /// `Done` was reported.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// The final head was received, so a failure now comes after response bytes.
    pub(crate) fn has_head(&self) -> bool {
        self.framing.is_some()
    }

    /// Any response byte was received (passed to `handle_read`), even an incomplete head:
    /// an idempotent request may be retried on a fresh connection only when this is false.
    pub(crate) fn got_any_byte(&self) -> bool {
        self.seen > 0
    }

    /// The body ends when the server closes the connection.
    pub(crate) fn is_close_delimited(&self) -> bool {
        self.framing == Some(Framing::CloseDelimited)
    }

    /// After `Done`: whether the connection may carry another request (RFC 9112 §9.3).
    /// False before `Done` or after an error.
    pub(crate) fn keep_alive(&self) -> bool {
        self.is_done() && self.close.is_none()
    }

    /// The connection ends after this response (known once the final head arrived).
    pub(crate) fn closes_connection(&self) -> bool {
        self.close.is_some()
    }

    /// After `Done`: an HTTP/1.1 server kept the connection open, so it may be sent
    /// requests pipelined (an HTTP/1.0 keep-alive server is not trusted with that).
    pub(crate) fn persistent_http11(&self) -> bool {
        self.keep_alive() && self.version == Some(Version::Http11)
    }

    /// The body length the final head announced (`Content-Length`), if any.
    pub(crate) fn announced_length(&self) -> Option<u64> {
        match self.framing {
            Some(Framing::Length(n)) => Some(n),
            _ => None,
        }
    }

    /// Why the connection must close after this exchange, if it must (data, not flags).
    #[cfg(test)]
    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        self.close
    }

    /// Body bytes delivered so far.
    pub(crate) fn body_received(&self) -> u64 {
        match &self.state {
            State::RecvBody(body) | State::Done(body) => body.received(),
            State::RecvHead(_) => 0,
            State::Failed { received } => *received,
        }
    }
}

/// RFC 9112 §9.3: `close` ends the connection; HTTP/1.1 persists by default; HTTP/1.0
/// persists only with `keep-alive`; a close-delimited body ends it by definition.
fn close_reason(head: &ResponseHead, framing: Framing) -> Option<CloseReason> {
    if head.headers.has_token("connection", "close") {
        Some(CloseReason::ResponseClose)
    } else if head.version == Version::Http10 && !head.headers.has_token("connection", "keep-alive") {
        Some(CloseReason::Http10)
    } else if framing == Framing::CloseDelimited {
        Some(CloseReason::CloseDelimited)
    } else {
        None
    }
}
