//! What a lookup hands to its driver (the reactor's resolver) and what it finally
//! answers: datagrams or TCP messages to send, and a result or a typed failure.

use crate::error::{DnsFailure, Error, ErrorKind};
use std::net::{IpAddr, SocketAddr};

/// Names one query on the wire; unique within a lookup, never reused, so a socket whose
/// query was retired is recognized as stale.
pub(crate) type QueryTag = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Udp,
    Tcp,
}

/// "Send `bytes` to `server` over `transport`; deliver what comes back under `tag`."
/// For TCP, `bytes` already carry the length prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transmit {
    pub(crate) tag: QueryTag,
    pub(crate) server: SocketAddr,
    pub(crate) transport: Transport,
    pub(crate) bytes: Vec<u8>,
}

/// A successful lookup: addresses in Happy Eyeballs order (RFC 8305 §4) and the TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) addrs: Vec<IpAddr>,
    pub(crate) ttl: u32,
}

/// A failed lookup; `neg_ttl` is set for cacheable negative answers (RFC 2308).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) kind: DnsFailure,
    pub(crate) message: String,
    pub(crate) cacheable: bool,
    pub(crate) neg_ttl: Option<u32>,
}

impl Failure {
    pub(crate) fn to_error(&self) -> Error {
        Error::new(ErrorKind::Dns(self.kind), self.message.clone())
    }
}
