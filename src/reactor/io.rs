//! Moving bytes: draining a readable socket (plain or through rustls) into the shared
//! receive buffer and feeding the exchange, writing the request, and the download
//! rate bucket that gates reads.

use super::conn::ConnState;
use super::deadlines::Target;
use super::key::Gen;
use super::{Handler, Reactor};
use crate::error::{Error, ErrorKind, TlsFailure};
use crate::proto::h1::exchange::Step;
use std::io::{ErrorKind as IoKind, Read};
use std::time::Instant;

/// What processing received bytes left behind.
pub(super) enum Fed {
    /// This many bytes were consumed; the connection is still there.
    Consumed(usize),
    /// The connection was closed or handed on; the rest is irrelevant.
    Gone,
}

impl Reactor {
    /// Readable readiness (or a retry of undrained readiness).
    pub(super) fn on_readable(&mut self, ci: usize, gen: Gen, now: Instant, h: &mut Handler<'_>) {
        let Some(c) = self.conns.get_mut(ci) else {
            return;
        };
        c.read_ready = true;
        if matches!(c.state, ConnState::Busy(_)) {
            self.read_busy(ci, gen, now, h);
            let left = self.conns.get_mut(ci).filter(|c| c.gen == gen).map(|c| &mut c.cipher_left);
            self.cipher.spill((ci, gen), left);
        } else if matches!(c.state, ConnState::Handshaking) {
            self.drive_handshake(ci, now, h);
        } else if matches!(c.state, ConnState::Idle) && !self.idle_conn_still_quiet(ci) {
            // A pooled connection that becomes readable is closing or misbehaving.
            self.close_conn(ci, now);
        }
    }

    fn idle_conn_still_quiet(&mut self, ci: usize) -> bool {
        let c = &mut self.conns[ci];
        let Some(sock) = c.sock.as_mut() else {
            return false;
        };
        if !c.cipher_left.is_empty() {
            return false;
        }
        if let Some(tls) = c.tls.as_mut() {
            loop {
                match tls.read_tls(sock) {
                    Ok(0) => return false,
                    Ok(_) => {
                        if tls.process().is_err() || tls.received_close_notify() {
                            return false;
                        }
                    }
                    Err(e) if e.kind() == IoKind::WouldBlock => break,
                    Err(_) => return false,
                }
            }
            let mut probe = [0u8; 1];
            return matches!(tls.read_plaintext(&mut probe), Err(e) if e.kind() == IoKind::WouldBlock);
        }
        let mut probe = [0u8; 1];
        matches!(sock.peek(&mut probe), Err(e) if e.kind() == IoKind::WouldBlock)
    }

    fn still_busy(&self, ci: usize, gen: Gen) -> Option<usize> {
        let c = self.conns.get(ci)?;
        if c.gen != gen {
            return None;
        }
        match &c.state {
            ConnState::Busy(b) => Some(b.req),
            _ => None,
        }
    }

    /// Drain a busy connection: leftover bytes first, then the socket, until
    /// `WouldBlock`, the per-turn quota, the rate bucket or a pause stops us.
    fn read_busy(&mut self, ci: usize, gen: Gen, now: Instant, h: &mut Handler<'_>) {
        let mut budget = self.config.read_quota.max(4096);
        if let Some(rate) = self.rate.as_mut() {
            budget = budget.min(rate.available(now));
            if budget == 0 {
                let at = rate.refill_at(now);
                if self.throttled.is_empty() {
                    self.deadlines.arm(at, Target::RateRefill);
                }
                self.throttled.push((ci, gen));
                return;
            }
        }
        let mut used_total = 0;
        if std::mem::take(&mut self.conns[ci].reparse) && self.feed(ci, gen, false, 0, now, h).is_none() {
            return;
        }
        loop {
            let Some(ri) = self.still_busy(ci, gen) else {
                return;
            };
            if self.reqs[ri].paused {
                return; // readiness stays remembered; resume lists the connection again
            }
            if used_total >= budget {
                self.conns[ci].io_listed = false;
                self.list_pending(ci, gen);
                break;
            }
            let room = budget - used_total;
            let got = if self.conns[ci].tls.is_some() {
                match self.deliver_tls_plaintext(ci, gen, room, now, h) {
                    Some(outcome) => outcome,
                    None => self.read_tls_once(ci, room),
                }
            } else {
                self.read_plain_once(ci, room)
            };
            match got {
                ReadOutcome::Data { fresh, n, carried } => {
                    used_total += n - carried;
                    self.conns[ci].last_progress = now;
                    if self.feed(ci, gen, fresh, n, now, h).is_none() {
                        break;
                    }
                }
                ReadOutcome::Delivered { n } => {
                    used_total += n;
                    if let Some(c) = self.conns.get_mut(ci) {
                        c.last_progress = now;
                    }
                }
                ReadOutcome::Again => continue,
                ReadOutcome::WouldBlock => {
                    self.conns[ci].read_ready = false;
                    break;
                }
                ReadOutcome::Eof { clean } => {
                    self.on_eof(ci, clean, now, h);
                    break;
                }
                ReadOutcome::Failed(e) => {
                    self.exchange_failed(ci, e, true, now, h);
                    break;
                }
            }
        }
        if let Some(rate) = self.rate.as_mut() {
            rate.take(used_total);
        }
        // Responses that ended free room in the pipeline: refill it with one write.
        if self.still_busy(ci, gen).is_some() && self.fill_pipeline(ci, now, h) {
            self.flush_writes(ci, now, h);
        }
    }

    /// Process `n` new bytes: in the shared scratch buffer (`fresh`), or appended to
    /// the connection's leftover. Returns `None` when the connection went away.
    fn feed(
        &mut self,
        ci: usize,
        gen: Gen,
        fresh: bool,
        n: usize,
        now: Instant,
        h: &mut Handler<'_>,
    ) -> Option<()> {
        if fresh {
            let scratch = std::mem::take(&mut self.scratch);
            let fed = self.process_input(ci, gen, &scratch[..n], now, h);
            if let Fed::Consumed(used) = fed {
                if used < n {
                    self.conns[ci].leftover.extend_from_slice(&scratch[used..n]);
                }
            }
            self.scratch = scratch;
            matches!(fed, Fed::Consumed(_)).then_some(())
        } else {
            let buf = std::mem::take(&mut self.conns[ci].leftover);
            match self.process_input(ci, gen, &buf, now, h) {
                Fed::Consumed(used) => {
                    let mut buf = buf;
                    buf.drain(..used);
                    let c = &mut self.conns[ci];
                    c.leftover = buf;
                    if c.leftover.is_empty() {
                        // Give the memory back: an idle connection holds no buffer.
                        c.leftover = Vec::new();
                    }
                    Some(())
                }
                Fed::Gone => None,
            }
        }
    }

    fn read_plain_once(&mut self, ci: usize, room: usize) -> ReadOutcome {
        let c = &mut self.conns[ci];
        let Some(sock) = c.sock.as_mut() else {
            return ReadOutcome::Eof { clean: false };
        };
        // A partial unit (half a head, a chunk-size line; never body bytes, so at most
        // a head's size) is waiting: put it in front of the read so the parser sees it
        // whole. Copying it is cheaper than growing the connection's own buffer for
        // the read, which cost an allocation and a free of 64 KiB each time.
        let carried = c.leftover.len();
        if carried > self.scratch.len() / 2 {
            // Only with a head limit configured past the buffer: read behind it.
            let want = room.min(64 * 1024);
            c.leftover.resize(carried + want, 0);
            let r = sock.read(&mut c.leftover[carried..]);
            c.leftover.truncate(carried + *r.as_ref().unwrap_or(&0));
            return match r {
                Ok(0) => ReadOutcome::Eof { clean: true },
                Ok(n) => ReadOutcome::Data { fresh: false, n, carried: 0 },
                Err(e) => io_outcome(e),
            };
        }
        self.scratch[..carried].copy_from_slice(&c.leftover);
        let max = room.min(self.scratch.len() - carried);
        match sock.read(&mut self.scratch[carried..carried + max]) {
            Ok(0) => ReadOutcome::Eof { clean: true },
            Ok(n) => {
                c.leftover = Vec::new();
                ReadOutcome::Data { fresh: true, n: carried + n, carried }
            }
            Err(e) => io_outcome(e),
        }
    }

    /// Zero-copy TLS: hand rustls's own decrypted record to the exchange, so body bytes
    /// reach the handler with no copy of ours (issue: no intermediate buffer per chunk).
    /// The session is lent out of the connection meanwhile; `flush_writes` waits for it
    /// (see `Conn::tls_lent`). `None`: rustls holds no plaintext now, or a partial unit
    /// is waiting in `leftover` (then bytes must be appended behind it: the copy path).
    fn deliver_tls_plaintext(
        &mut self,
        ci: usize,
        gen: Gen,
        room: usize,
        now: Instant,
        h: &mut Handler<'_>,
    ) -> Option<ReadOutcome> {
        if !self.conns[ci].leftover.is_empty() {
            return None;
        }
        let mut tls = self.conns[ci].tls.take()?;
        let outcome = match tls.plaintext_chunk() {
            Ok([]) => Some(ReadOutcome::Eof { clean: true }),
            Ok(chunk) => {
                let chunk = &chunk[..chunk.len().min(room)];
                let n = chunk.len();
                self.conns[ci].tls_lent = true;
                if let Fed::Consumed(used) = self.process_input(ci, gen, chunk, now, h) {
                    if used < n {
                        if let Some(c) = self.conns.get_mut(ci) {
                            c.leftover.extend_from_slice(&chunk[used..]);
                        }
                    }
                }
                tls.consume_plaintext(n);
                Some(ReadOutcome::Delivered { n })
            }
            Err(e) if e.kind() == IoKind::WouldBlock => None,
            Err(e) if e.kind() == IoKind::UnexpectedEof => Some(ReadOutcome::Eof { clean: false }),
            Err(e) => Some(ReadOutcome::Failed(Error::from_io(
                ErrorKind::Tls(TlsFailure::Protocol),
                "reading TLS",
                &e,
            ))),
        };
        // Give the session back if the connection lives on (it may already carry the
        // next request, whose head `flush_writes` held back while the session was lent).
        let lent_back = match self.conns.get_mut(ci) {
            Some(c) if c.gen == gen => {
                c.tls = Some(tls);
                std::mem::replace(&mut c.tls_lent, false)
            }
            _ => false,
        };
        if lent_back && matches!(self.conns.get(ci).map(|c| &c.state), Some(ConnState::Busy(_))) {
            self.flush_writes(ci, now, h);
        }
        outcome
    }

    fn read_tls_once(&mut self, ci: usize, room: usize) -> ReadOutcome {
        let c = &mut self.conns[ci];
        let key = (ci, c.gen);
        let (Some(sock), Some(tls)) = (c.sock.as_mut(), c.tls.as_mut()) else {
            return ReadOutcome::Eof { clean: false };
        };
        // Plaintext rustls already holds comes first.
        let fresh = c.leftover.is_empty();
        let r = if fresh {
            let max = room.min(self.scratch.len());
            tls.read_plaintext(&mut self.scratch[..max])
        } else {
            let old = c.leftover.len();
            c.leftover.resize(old + room.min(64 * 1024), 0);
            let r = tls.read_plaintext(&mut c.leftover[old..]);
            c.leftover.truncate(old + *r.as_ref().unwrap_or(&0));
            r
        };
        match r {
            Ok(0) => return ReadOutcome::Eof { clean: true },
            Ok(n) => return ReadOutcome::Data { fresh, n, carried: 0 },
            Err(e) if e.kind() == IoKind::WouldBlock => {}
            Err(e) if e.kind() == IoKind::UnexpectedEof => return ReadOutcome::Eof { clean: false },
            Err(e) => {
                return ReadOutcome::Failed(Error::from_io(
                    ErrorKind::Tls(TlsFailure::Protocol),
                    "reading TLS",
                    &e,
                ))
            }
        }
        match self.cipher.feed(key, sock, tls, &mut c.cipher_left, room) {
            Ok(0) => {
                if tls.received_close_notify() {
                    ReadOutcome::Eof { clean: true }
                } else if c.transport_eof {
                    ReadOutcome::Eof { clean: false }
                } else {
                    c.transport_eof = true;
                    // Let read_plaintext hand out what is buffered, then report EOF.
                    match tls.process() {
                        Ok(()) => ReadOutcome::Again,
                        Err(e) => ReadOutcome::Failed(e),
                    }
                }
            }
            Ok(_) => match tls.process() {
                Ok(()) => {
                    // TLS 1.3 tickets and key updates may want a reply.
                    while tls.wants_write() {
                        if tls.write_tls(sock).is_err() {
                            break;
                        }
                    }
                    ReadOutcome::Again
                }
                Err(e) => ReadOutcome::Failed(e),
            },
            Err(e) if e.kind() == IoKind::WouldBlock => ReadOutcome::WouldBlock,
            Err(e) => ReadOutcome::Failed(Error::from_io(ErrorKind::Io, "reading from the connection", &e)),
        }
    }

    /// Feed received bytes to the exchange, delivering heads and body slices.
    pub(super) fn process_input(
        &mut self,
        ci: usize,
        gen: Gen,
        data: &[u8],
        now: Instant,
        h: &mut Handler<'_>,
    ) -> Fed {
        let mut pos = 0;
        loop {
            let Some(ri) = self.still_busy(ci, gen) else {
                return if self.conns.get(ci).is_some_and(|c| c.gen == gen) {
                    Fed::Consumed(pos)
                } else {
                    Fed::Gone
                };
            };
            if self.reqs[ri].paused {
                return Fed::Consumed(pos);
            }
            let ConnState::Busy(busy) = &mut self.conns[ci].state else {
                return Fed::Gone;
            };
            let had_byte = busy.exchange.got_any_byte();
            let step = busy.exchange.handle_read(&data[pos..]);
            let got_byte = busy.exchange.got_any_byte();
            if !had_byte && got_byte {
                if let Some(start) = self.reqs[ri].started {
                    self.reqs[ri].stats.first_byte = now.saturating_duration_since(start);
                }
            }
            let (used, step) = match step {
                Ok(x) => x,
                Err(e) => {
                    self.exchange_failed(ci, e, true, now, h);
                    return Fed::Gone;
                }
            };
            let start = pos;
            pos += used;
            match step {
                Step::NeedMore => {
                    if used == 0 {
                        return Fed::Consumed(pos);
                    }
                }
                Step::Head(head) => self.on_head(ci, ri, head, now, h),
                Step::Body(r) => self.on_body(ci, ri, &data[start + r.start..start + r.end], now, h),
                Step::Done => {
                    self.on_exchange_done(ci, ri, pos < data.len(), now, h);
                    // The next pipelined response may follow in these bytes or the
                    // socket; a request just begun has nothing to read yet.
                    let promoted = self.conns.get(ci).is_some_and(|c| {
                        c.gen == gen && matches!(&c.state, ConnState::Busy(b) if b.pipelined && b.req != ri)
                    });
                    if !promoted {
                        return Fed::Gone;
                    }
                }
            }
        }
    }
}

pub(super) enum ReadOutcome {
    /// `n` bytes to parse, in the scratch buffer (`fresh`) or the leftover; the first
    /// `carried` of them were received earlier (not counted again).
    Data {
        fresh: bool,
        n: usize,
        carried: usize,
    },
    /// `n` bytes were already fed to the exchange (zero-copy TLS).
    Delivered {
        n: usize,
    },
    Again,
    WouldBlock,
    Eof {
        clean: bool,
    },
    Failed(Error),
}

fn io_outcome(e: std::io::Error) -> ReadOutcome {
    match e.kind() {
        IoKind::WouldBlock => ReadOutcome::WouldBlock,
        IoKind::Interrupted => ReadOutcome::Again,
        _ => ReadOutcome::Failed(Error::from_io(ErrorKind::Io, "reading from the connection", &e)),
    }
}
