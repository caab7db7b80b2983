//! What the client tells its caller: one stream of events, drained with
//! [`crate::Client::poll_event`] after every turn.

use crate::error::Error;
use crate::headers::Headers;
use crate::request::RequestId;
use std::time::Duration;
use url::Url;

/// HTTP version of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

/// A final (non-1xx) response head.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Reason phrase as sent (may be empty).
    pub reason: String,
    /// Protocol version.
    pub version: Version,
    /// Header fields in wire order.
    pub headers: Headers,
    /// The URL this response answers (after redirects).
    pub url: Url,
}

/// Per-request timings and counters, reported when a request ends. Durations are
/// measured from the moment the request left the admission queue, except `queued`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Time spent waiting for a connection slot.
    pub queued: Duration,
    /// Time spent resolving names (zero on reuse or for IP literals).
    pub dns: Duration,
    /// Time spent on TCP connect.
    pub connect: Duration,
    /// Time spent on the TLS handshake.
    pub tls: Duration,
    /// Whether the TLS handshake resumed an earlier session (no full handshake).
    pub tls_resumed: bool,
    /// Time to the first response byte.
    pub first_byte: Duration,
    /// Time to completion.
    pub total: Duration,
    /// Body bytes delivered (after framing is removed).
    pub body_bytes: u64,
    /// Redirects followed.
    pub redirects: u32,
    /// Whether the final exchange used a pooled connection.
    pub reused: bool,
    /// Times the request was sent again on a fresh connection after a reused one failed.
    pub retries: u32,
    /// Final status (0 if none was received).
    pub status: u16,
    /// Final URL (after redirects).
    pub final_url: String,
}

/// An event about one request.
#[derive(Debug)]
pub enum Event<'a> {
    /// The final response head arrived (redirects that were followed are not shown).
    Head {
        /// Which request.
        id: RequestId,
        /// The head.
        response: &'a Response,
    },
    /// Some body bytes, borrowed from the receive buffer until the next `poll_event`.
    Body {
        /// Which request.
        id: RequestId,
        /// The bytes.
        data: &'a [u8],
    },
    /// A redirect is being followed.
    Redirect {
        /// Which request.
        id: RequestId,
        /// The redirect's status.
        status: u16,
        /// Where it goes.
        location: &'a Url,
    },
    /// The request completed: the whole body was delivered.
    Done {
        /// Which request.
        id: RequestId,
        /// Timings and counters.
        stats: Stats,
        /// The body, when the request's target was [`crate::BodyTarget::Collect`].
        body: Option<Vec<u8>>,
    },
    /// The request failed; nothing more comes for it.
    Failed {
        /// Which request.
        id: RequestId,
        /// What went wrong (names the URL and the phase).
        error: Error,
        /// Timings so far.
        stats: Stats,
    },
    /// A source registered with [`crate::Client::register`] is ready.
    Ready {
        /// The key it was registered with.
        key: usize,
    },
}

impl Event<'_> {
    /// The request this event is about (`None` for [`Event::Ready`]).
    pub fn request_id(&self) -> Option<RequestId> {
        match self {
            Event::Ready { .. } => None,
            Event::Head { id, .. }
            | Event::Body { id, .. }
            | Event::Redirect { id, .. }
            | Event::Done { id, .. }
            | Event::Failed { id, .. } => Some(*id),
        }
    }

    /// The request this event is about; 0 for [`Event::Ready`].
    pub fn id(&self) -> RequestId {
        match self {
            Event::Ready { .. } => RequestId(0),
            Event::Head { id, .. }
            | Event::Body { id, .. }
            | Event::Redirect { id, .. }
            | Event::Done { id, .. }
            | Event::Failed { id, .. } => *id,
        }
    }
}
