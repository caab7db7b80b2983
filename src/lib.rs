//! volley: an embeddable HTTP/1.1 client driven by one `mio` loop on one thread.
//!
//! # Layers
//!
//! ```text
//!        CLI (src/bin/volley/)            embedding program
//!                 \                         /
//!                  Client   submit · turn · run · cancel · pause · resume · next_deadline
//!                    |
//!                reactor/   the only code touching mio, sockets, the clock:
//!                    |      one Poll · Slab<Conn> · Slab<Req> · timer heap · pool · DNS sockets
//!                 proto/    sans-IO: h1 (request, head, framing, chunked, exchange),
//!                           tls (rustls), dns (wire, lookup, config, cache), happy, redirect
//! ```
//!
//! # A connection
//!
//! ```text
//! Resolving ─► Connecting ─► Handshaking ─► Busy(exchange) ─► Idle ─► Busy ─► ...
//!     └────────────┴─────────────┴──────────────┴─────────────┴────► Closed
//! ```
//! An exchange reads `RecvHead ─► RecvBody(framing) ─► Done` while the request writer
//! sends head then body. Every state has a timer; every timeout error names its phase.
//!
//! # The run-loop contract
//!
//! [`Client::turn`] does one iteration: wait for readiness (at most the given timeout,
//! or until the next internal deadline), read and write every ready connection until
//! the kernel says `WouldBlock` (capped per connection per turn for fairness), fire due
//! timers, admit queued requests within the limits, and call the handler for each
//! [`Event`]. Body bytes are borrowed from the receive buffer for the duration of the
//! call. Commands given through [`Control`] take effect when the handler returns.
//! A failed request is an [`Event::Failed`]; `turn` returns `Err` only when the poll
//! itself fails. [`Client::run`] turns until nothing is in flight.
//!
//! To drive volley from another event loop, register the fd from `AsRawFd for Client`
//! for readability, and call `turn(Some(Duration::ZERO), ..)` when it is readable or
//! when [`Client::next_deadline`] has passed (see `examples/embed.rs`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod blocking;
pub mod client;
pub mod config;
pub mod error;
pub mod event;
pub mod headers;
pub mod request;

pub(crate) mod proto;
pub(crate) mod reactor;

#[doc(hidden)]
pub mod fuzzing;

pub use blocking::{fetch_all, get, FullResponse};
pub use client::{Client, Control};
pub use config::{Config, DnsConfig, TlsConfig};
pub use error::{DnsFailure, Error, ErrorKind, Phase, TlsFailure};
pub use event::{Event, Response, Stats, Version};
pub use headers::Headers;
pub use request::{Body, BodyTarget, Method, Request, RequestId, RequestOptions};
pub use url::Url;
