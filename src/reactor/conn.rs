//! One connection's state machine as the reactor sees it: which socket(s) it owns,
//! what it waits on, and the receive leftovers that did not form a whole unit yet.
//!
//! ```text
//! Resolving ──► Connecting ──► Handshaking ──► Busy(exchange) ──► Idle ──► Busy ...
//!     │             │  (https only)  │               │              │
//!     └─────────────┴────────────────┴───────────────┴──────────────┴──► Closed
//! ```
//! Every state has a timer (see `Reactor::conn_deadline`): resolving waits on the
//! resolver's own per-attempt timers, the others on the connection's one deadline.

use super::key::Gen;
use crate::proto::h1::exchange::Exchange;
use crate::proto::h1::request::RequestWriter;
use crate::proto::happy::HappyEyeballs;
use crate::proto::tls::TlsSession;
use crate::reactor::resolver::LookupId;
use mio::net::TcpStream;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

pub(crate) struct Attempt {
    pub(crate) sub: u8,
    pub(crate) addr: SocketAddr,
    pub(crate) stream: TcpStream,
}

pub(crate) struct Busy {
    pub(crate) req: usize,
    pub(crate) writer: RequestWriter,
    pub(crate) exchange: Exchange,
    /// The request was completely written at this instant (head timeout starts).
    pub(crate) sent_at: Option<Instant>,
    /// The connection had served an earlier exchange.
    pub(crate) reused: bool,
    /// The request body stream reached its end.
    pub(crate) body_finished: bool,
    /// The request was sent pipelined behind another; it became current when that
    /// one's response ended.
    pub(crate) pipelined: bool,
}

pub(crate) enum ConnState {
    Resolving { lookup: LookupId },
    Connecting { he: Box<HappyEyeballs>, attempts: Vec<Attempt> },
    Handshaking,
    Busy(Box<Busy>),
    Idle,
    Closed,
}

impl ConnState {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ConnState::Resolving { .. } => "Resolving",
            ConnState::Connecting { .. } => "Connecting",
            ConnState::Handshaking => "Handshaking",
            ConnState::Busy(_) => "Busy",
            ConnState::Idle => "Idle",
            ConnState::Closed => "Closed",
        }
    }
}

pub(crate) struct Conn {
    pub(crate) gen: Gen,
    pub(crate) origin: usize,
    pub(crate) state: ConnState,
    /// When the current state was entered.
    pub(crate) since: Instant,
    pub(crate) sock: Option<TcpStream>,
    /// The token sub-number `sock` was registered with (its winning attempt's).
    pub(crate) sock_sub: u8,
    pub(crate) tls: Option<TlsSession>,
    /// Received bytes that did not complete a unit (partial head, chunk header).
    pub(crate) leftover: Vec<u8>,
    /// TLS records read but not yet given to rustls when the connection's turn ended.
    pub(crate) cipher_left: Vec<u8>,
    /// Request being connected for (Resolving/Connecting/Handshaking).
    pub(crate) waiting_req: Option<usize>,
    /// The deadline currently armed in the timer heap.
    pub(crate) armed: Option<Instant>,
    /// Last time bytes moved in either direction (idle timeout).
    pub(crate) last_progress: Instant,
    /// Exchanges completed on this connection.
    pub(crate) served: u32,
    /// Readable readiness not drained yet (quota, rate limit or pause stopped us).
    pub(crate) read_ready: bool,
    /// Writable readiness seen since the last WouldBlock on write.
    pub(crate) write_ready: bool,
    /// Listed in the reactor's `io_pending`.
    pub(crate) io_listed: bool,
    pub(crate) connect_started: Instant,
    /// The TLS transport reported EOF once; the next EOF is final.
    pub(crate) transport_eof: bool,
    /// Resumed after a pause: `leftover` holds bytes received but not yet parsed
    /// (possibly a whole remaining response), to be fed before reading more.
    pub(crate) reparse: bool,
    /// `tls` is lent out while its plaintext is parsed in place; writes wait.
    pub(crate) tls_lent: bool,
    /// Requests sent pipelined behind the current one, in send (= response) order.
    pub(crate) behind: VecDeque<usize>,
    /// Heads of the `behind` requests not written yet (after the current request's).
    pub(crate) out: Vec<u8>,
    /// The server answered on this connection with a persistent HTTP/1.1 response.
    pub(crate) proven: bool,
    /// Largest response body completed on this connection.
    pub(crate) largest_body: u64,
    /// A request behind the current one was withdrawn: nothing more is pipelined, and
    /// the connection closes once the responses still wanted have arrived.
    pub(crate) draining: bool,
}
