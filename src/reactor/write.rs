//! Writing a request: head first, then body bytes pulled from the request's stream
//! as the sans-IO writer asks for them, through rustls when the connection has TLS.

use super::conn::ConnState;
use super::{Handler, Reactor};
use crate::error::{Error, ErrorKind};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::time::Instant;

impl Reactor {
    /// Write as much of the request as the socket takes, pulling body bytes from the
    /// request's stream as the writer asks for them.
    pub(super) fn flush_writes(&mut self, ci: usize, now: Instant, h: &mut Handler<'_>) {
        if self.conns.get(ci).is_some_and(|c| c.tls_lent) {
            return; // the TLS session is out reading; the lender flushes when it is back
        }
        // Only uploads streamed from a reader need it; zeroing 16 KiB on every flush
        // showed up in profiles of small downloads.
        let mut chunk = Vec::new();
        loop {
            let c = &mut self.conns[ci];
            let ConnState::Busy(busy) = &mut c.state else {
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
            let Some(sock) = c.sock.as_mut() else { return };
            let pending = busy.writer.pending();
            let wrote = if let Some(tls) = c.tls.as_mut() {
                let mut accepted = 0;
                if !pending.is_empty() {
                    match tls.write_plaintext(pending) {
                        Ok(n) => accepted = n,
                        Err(e) => {
                            let e = Error::from_io(ErrorKind::Io, "writing the request", &e);
                            self.exchange_failed(ci, e, true, now, h);
                            return;
                        }
                    }
                    busy.writer.advance(accepted);
                }
                let mut blocked = false;
                while tls.wants_write() {
                    match tls.write_tls(sock) {
                        Ok(_) => {}
                        Err(e) if e.kind() == IoKind::WouldBlock => {
                            blocked = true;
                            break;
                        }
                        Err(e) => {
                            let e = Error::from_io(ErrorKind::Io, "writing the request", &e);
                            self.exchange_failed(ci, e, true, now, h);
                            return;
                        }
                    }
                }
                if blocked {
                    c.write_ready = false;
                    Err(())
                } else {
                    Ok(accepted)
                }
            } else if pending.is_empty() {
                Ok(0)
            } else {
                match sock.write(pending) {
                    Ok(n) => {
                        busy.writer.advance(n);
                        Ok(n)
                    }
                    Err(e) if e.kind() == IoKind::WouldBlock => {
                        c.write_ready = false;
                        Err(())
                    }
                    Err(e) if e.kind() == IoKind::Interrupted => Ok(0),
                    Err(e) => {
                        let e = Error::from_io(ErrorKind::Io, "writing the request", &e);
                        self.exchange_failed(ci, e, true, now, h);
                        return;
                    }
                }
            };
            if wrote.as_ref().is_ok_and(|&n| n > 0) {
                c.last_progress = now;
            }
            if busy.writer.is_finished() {
                if busy.sent_at.is_none() {
                    busy.sent_at = Some(now);
                    self.arm_conn(ci);
                }
                return;
            }
            match wrote {
                Err(()) => return,
                Ok(0) if busy.writer.pending().is_empty() && busy.body_finished => return,
                Ok(_) => {}
            }
        }
    }
}
