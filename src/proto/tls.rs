//! STAND-IN (replaced by the tls branch at merge).
#![allow(dead_code, unused_variables, missing_docs, clippy::all)]
use crate::error::Error;
pub(crate) struct TlsContext;
impl TlsContext {
    pub(crate) fn new(cfg: &crate::config::TlsConfig) -> Result<TlsContext, Error> { Ok(TlsContext) }
    pub(crate) fn start(&self, host: &str) -> Result<TlsSession, Error> { todo!() }
}
pub(crate) struct TlsSession;
impl TlsSession {
    pub(crate) fn read_tls(&mut self, rd: &mut dyn std::io::Read) -> std::io::Result<usize> { todo!() }
    pub(crate) fn process(&mut self) -> Result<(), Error> { todo!() }
    pub(crate) fn write_tls(&mut self, wr: &mut dyn std::io::Write) -> std::io::Result<usize> { todo!() }
    pub(crate) fn wants_write(&self) -> bool { todo!() }
    pub(crate) fn wants_read(&self) -> bool { todo!() }
    pub(crate) fn is_handshaking(&self) -> bool { todo!() }
    pub(crate) fn read_plaintext(&mut self, buf: &mut [u8]) -> std::io::Result<usize> { todo!() }
    pub(crate) fn write_plaintext(&mut self, data: &[u8]) -> std::io::Result<usize> { todo!() }
    pub(crate) fn received_close_notify(&self) -> bool { todo!() }
    pub(crate) fn send_close_notify(&mut self) { todo!() }
    pub(crate) fn was_resumed(&self) -> bool { todo!() }
    pub(crate) fn set_buffer_limit(&mut self, bytes: Option<usize>) { todo!() }
    pub(crate) fn truncation_error() -> Error { todo!() }
}
