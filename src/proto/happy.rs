//! STAND-IN (replaced by the dns branch at merge): tries addresses one by one.
#![allow(dead_code, unused_variables, missing_docs, clippy::all)]
use crate::error::Error;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
pub(crate) struct HappyEyeballs {
    addrs: Vec<SocketAddr>,
    next: usize,
    inflight: usize,
    errors: Vec<(SocketAddr, Error)>,
}
impl HappyEyeballs {
    pub(crate) fn new(
        addrs: Vec<IpAddr>,
        port: u16,
        attempt_delay: Duration,
        now: Instant,
    ) -> Self {
        HappyEyeballs {
            addrs: addrs
                .into_iter()
                .map(|a| SocketAddr::new(a, port))
                .collect(),
            next: 0,
            inflight: 0,
            errors: vec![],
        }
    }
    pub(crate) fn poll_start(&mut self, now: Instant) -> Option<SocketAddr> {
        if self.inflight > 0 {
            return None;
        }
        let a = self.addrs.get(self.next).copied()?;
        self.next += 1;
        self.inflight += 1;
        Some(a)
    }
    pub(crate) fn attempt_failed(&mut self, addr: SocketAddr, err: Error, now: Instant) {
        self.inflight -= 1;
        self.errors.push((addr, err));
    }
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        None
    }
    pub(crate) fn is_exhausted(&self) -> bool {
        self.next >= self.addrs.len() && self.inflight == 0
    }
    pub(crate) fn errors(&self) -> &[(SocketAddr, Error)] {
        &self.errors
    }
}
