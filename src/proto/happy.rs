//! STAND-IN (replaced by the dns branch at merge).
#![allow(dead_code, unused_variables, missing_docs, clippy::all)]
use crate::error::Error;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
pub(crate) struct HappyEyeballs;
impl HappyEyeballs {
    pub(crate) fn new(addrs: Vec<IpAddr>, port: u16, attempt_delay: Duration, now: Instant) -> Self { todo!() }
    pub(crate) fn poll_start(&mut self, now: Instant) -> Option<SocketAddr> { todo!() }
    pub(crate) fn attempt_failed(&mut self, addr: SocketAddr, err: Error, now: Instant) { todo!() }
    pub(crate) fn next_deadline(&self) -> Option<Instant> { todo!() }
    pub(crate) fn is_exhausted(&self) -> bool { todo!() }
    pub(crate) fn errors(&self) -> &[(SocketAddr, Error)] { todo!() }
}
