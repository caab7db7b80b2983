//! Writing requests: the current request's head, then its body bytes pulled from the
//! request's stream as the sans-IO writer asks for them, then the heads pipelined
//! behind it — through rustls when the connection has TLS.

use super::conn::{Conn, ConnState};
use super::{Handler, Reactor};
use crate::error::{Error, ErrorKind};
use crate::proto::tls::TlsSession;
use mio::net::TcpStream;
use std::io::{ErrorKind as IoKind, Read, Write};
use std::time::Instant;

/// What one write attempt did.
enum Wrote {
    /// This many bytes were taken (0: nothing was pending, or interrupted).
    Bytes(usize),
    /// The socket is full; wait for writable readiness.
    Blocked(usize),
}

impl Reactor {
    /// Write as much as the socket takes: the current request (pulling body bytes
    /// from its stream as the writer asks for them), then the pipelined heads.
    pub(super) fn flush_writes(&mut self, ci: usize, now: Instant, h: &mut Handler<'_>) {
        if self.conns.get(ci).is_some_and(|c| c.tls_lent) {
            return; // the TLS session is out reading; the lender flushes when it is back
        }
        // Only uploads streamed from a reader need it; zeroing 16 KiB on every flush
        // showed up in profiles of small downloads.
        let mut chunk = Vec::new();
        loop {
            let Some(c) = self.conns.get_mut(ci) else { return };
            let Conn { state, sock, tls, out, last_progress, write_ready, .. } = c;
            let ConnState::Busy(busy) = state else {
                return;
            };
            let req = &mut self.reqs[busy.req];
            while !busy.body_finished && busy.writer.wants_body() {
                let result = match req.body_reader.as_mut() {
                    Some(r) => {
                        if chunk.is_empty() {
                            chunk.resize(16 * 1024, 0);
                        }
                        match r.read(&mut chunk) {
                            Ok(0) => busy.writer.finish_body().map(|()| true),
                            Ok(n) => busy.writer.push_body(&chunk[..n]).map(|()| false),
                            Err(e) if e.kind() == IoKind::Interrupted => Ok(false),
                            Err(e) => Err(Error::from_io(ErrorKind::Io, "reading the request body", &e)),
                        }
                    }
                    None => busy.writer.finish_body().map(|()| true),
                };
                match result {
                    Ok(true) => {
                        busy.body_finished = true;
                        req.body_reader = None;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        self.exchange_failed(ci, e, false, now, h);
                        return;
                    }
                }
            }
            let Some(sock) = sock.as_mut() else { return };
            // Pipelined heads go out in the same write as the current request's last
            // bytes: move those in front of them (a few hundred bytes, never a body
            // still streaming, since nothing is queued behind an incomplete request).
            if !out.is_empty() && busy.writer.is_complete() && !busy.writer.pending().is_empty() {
                let pending = busy.writer.pending().len();
                out.splice(0..0, busy.writer.pending().iter().copied());
                busy.writer.advance(pending);
            }
            let from_out = busy.writer.is_finished();
            let bytes: &[u8] = if from_out { out } else { busy.writer.pending() };
            let wrote = match tls.as_mut() {
                Some(tls) => write_tls(tls, sock, bytes),
                None => write_plain(sock, bytes),
            };
            let (n, blocked) = match wrote {
                Ok(Wrote::Bytes(n)) => (n, false),
                Ok(Wrote::Blocked(n)) => (n, true),
                Err(e) => {
                    let e = Error::from_io(ErrorKind::Io, "writing the request", &e);
                    self.exchange_failed(ci, e, true, now, h);
                    return;
                }
            };
            if from_out {
                out.drain(..n);
                if out.is_empty() {
                    *out = Vec::new(); // a waiting connection holds no buffer
                }
            } else {
                busy.writer.advance(n);
            }
            if n > 0 {
                *last_progress = now;
            }
            if blocked {
                *write_ready = false;
            }
            if busy.writer.is_finished() && busy.sent_at.is_none() {
                busy.sent_at = Some(now);
                self.arm_conn(ci);
            }
            let Some(c) = self.conns.get(ci) else { return };
            let ConnState::Busy(busy) = &c.state else { return };
            let done = busy.writer.is_finished() && c.out.is_empty();
            let stuck = n == 0 && busy.writer.pending().is_empty() && busy.body_finished && !from_out;
            if blocked || done || stuck {
                return;
            }
        }
    }
}

fn write_plain(sock: &mut TcpStream, bytes: &[u8]) -> std::io::Result<Wrote> {
    if bytes.is_empty() {
        return Ok(Wrote::Bytes(0));
    }
    match sock.write(bytes) {
        Ok(n) => Ok(Wrote::Bytes(n)),
        Err(e) if e.kind() == IoKind::WouldBlock => Ok(Wrote::Blocked(0)),
        Err(e) if e.kind() == IoKind::Interrupted => Ok(Wrote::Bytes(0)),
        Err(e) => Err(e),
    }
}

/// Hand plaintext to rustls and write out the records it makes; the count is of
/// plaintext bytes rustls took.
fn write_tls(tls: &mut TlsSession, sock: &mut TcpStream, bytes: &[u8]) -> std::io::Result<Wrote> {
    let accepted = if bytes.is_empty() { 0 } else { tls.write_plaintext(bytes)? };
    while tls.wants_write() {
        match tls.write_tls(sock) {
            Ok(_) => {}
            Err(e) if e.kind() == IoKind::WouldBlock => return Ok(Wrote::Blocked(accepted)),
            Err(e) => return Err(e),
        }
    }
    Ok(Wrote::Bytes(accepted))
}
