//! volley: an embeddable HTTP/1.1 client driven by one `mio` loop on one thread.
//!
//! (Crate documentation with the layer diagram and the run-loop contract is written
//! with the reactor; see `DESIGN.md`.)

pub mod config;
pub mod error;
pub mod event;
pub mod headers;
pub mod request;

pub(crate) mod proto;
// TEMP: expose the resolver for the dns branch; dropped at merge (the reactor owns reactor/mod.rs).
pub(crate) mod reactor {
    pub(crate) mod resolver;
}

#[doc(hidden)]
pub mod fuzzing;

pub use config::{Config, DnsConfig, TlsConfig};
pub use error::{DnsFailure, Error, ErrorKind, Phase, TlsFailure};
pub use event::{Event, Response, Stats, Version};
pub use headers::Headers;
pub use request::{Body, BodyTarget, Method, Request, RequestId, RequestOptions};
pub use url::Url;
