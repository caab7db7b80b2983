//! STAND-IN (replaced by the dns branch at merge).
#![allow(dead_code, unused_variables, missing_docs, clippy::all)]
use crate::error::Error;
use std::net::IpAddr;
use std::time::Instant;
pub(crate) const DNS_TOKEN_BASE: usize = 1 << 40;
pub(crate) type LookupId = u64;
pub(crate) enum Resolve {
    Ready(Vec<IpAddr>),
    Pending(LookupId),
    Failed(Error),
}
pub(crate) struct Resolver;
impl Resolver {
    pub(crate) fn new(cfg: &crate::config::DnsConfig) -> Resolver {
        Resolver
    }
    pub(crate) fn warnings(&self) -> &[String] {
        &[]
    }
    // TEMPORARY blocking lookup until the DNS branch replaces this file.
    pub(crate) fn resolve(
        &mut self,
        host: &str,
        now: Instant,
        registry: &mio::Registry,
    ) -> Resolve {
        use std::net::ToSocketAddrs;
        match (host, 0).to_socket_addrs() {
            Ok(a) => Resolve::Ready(a.map(|s| s.ip()).collect()),
            Err(e) => Resolve::Failed(Error::from_io(
                crate::error::ErrorKind::Dns(crate::error::DnsFailure::NxDomain),
                host,
                &e,
            )),
        }
    }
    pub(crate) fn owns(token: mio::Token) -> bool {
        token.0 >= DNS_TOKEN_BASE
    }
    pub(crate) fn handle_event(
        &mut self,
        token: mio::Token,
        now: Instant,
        registry: &mio::Registry,
    ) {
    }
    pub(crate) fn handle_timeout(&mut self, now: Instant, registry: &mio::Registry) {}
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        None
    }
    pub(crate) fn poll_result(&mut self) -> Option<(LookupId, Result<Vec<IpAddr>, Error>)> {
        None
    }
    pub(crate) fn cancel(&mut self, id: LookupId) {}
    pub(crate) fn spoofed_dropped(&self) -> u64 {
        0
    }
}
