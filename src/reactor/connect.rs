//! Opening and closing connections: resolve, race connect attempts (Happy Eyeballs,
//! planned by `proto::happy`), TLS handshake, idle-pool health checks, timers per
//! connection state, and tearing down.

use super::conn::{Attempt, ConnState};
use super::key::{conn_token, MAX_SUB};
use super::resolver::Resolve;
use super::{Handler, Reactor};
use crate::error::{Error, ErrorKind, Phase};
use crate::proto::happy::HappyEyeballs;
use mio::net::TcpStream;
use mio::Interest;
use std::io::{self, ErrorKind as IoKind};
use std::net::IpAddr;
use std::time::Instant;

/// EMFILE / ENFILE: out of file descriptors (queue instead of failing).
fn is_fd_exhaustion(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23) | Some(24))
}

impl Reactor {
    /// Open a connection for request `ri` to origin `oi`.
    pub(super) fn open_conn(&mut self, oi: usize, ri: usize, now: Instant, h: &mut Handler<'_>) {
        self.start_request_clock(ri, now);
        let ci = self.new_conn_slot(oi, now);
        self.conns[ci].waiting_req = Some(ri);
        self.reqs[ri].conn = Some(ci);
        let host = self.pool.get(oi).host.clone();
        match self.resolver.resolve(&host, now, self.poll.registry()) {
            Resolve::Ready(addrs) => self.start_connecting(ci, addrs, now, h),
            Resolve::Pending(lookup) => {
                let gen = self.conns[ci].gen;
                self.lookups.insert(lookup, (ci, gen));
                self.set_state(ci, ConnState::Resolving { lookup }, now);
            }
            Resolve::Failed(e) => self.conn_failed(ci, e, now, h),
        }
    }

    pub(super) fn start_connecting(
        &mut self,
        ci: usize,
        addrs: Vec<IpAddr>,
        now: Instant,
        h: &mut Handler<'_>,
    ) {
        let port = self.pool.get(self.conns[ci].origin).port;
        if let Some(ri) = self.conns[ci].waiting_req {
            let c = &self.conns[ci];
            self.reqs[ri].stats.dns = now.saturating_duration_since(c.since.min(c.connect_started));
        }
        let he = HappyEyeballs::new(addrs, port, self.config.connection_attempt_delay, now);
        self.conns[ci].connect_started = now;
        self.set_state(ci, ConnState::Connecting { he: Box::new(he), attempts: Vec::new() }, now);
        self.drive_connect(ci, now, h);
    }

    /// Start every attempt the Happy Eyeballs plan allows now; fail when all failed.
    fn drive_connect(&mut self, ci: usize, now: Instant, h: &mut Handler<'_>) {
        let gen = self.conns[ci].gen;
        loop {
            let ConnState::Connecting { he, attempts } = &mut self.conns[ci].state else {
                return;
            };
            if attempts.len() >= usize::from(MAX_SUB) {
                break;
            }
            let Some(addr) = he.poll_start(now) else {
                break;
            };
            match TcpStream::connect(addr) {
                Ok(mut stream) => {
                    let sub = (1..=MAX_SUB).find(|s| attempts.iter().all(|a| a.sub != *s)).unwrap_or(MAX_SUB);
                    let token = conn_token(ci, gen, sub);
                    if let Err(e) = self.poll.registry().register(
                        &mut stream,
                        token,
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        he.attempt_failed(
                            addr,
                            Error::from_io(ErrorKind::Connect, &format!("register {addr}"), &e),
                            now,
                        );
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    attempts.push(Attempt { sub, addr, stream });
                }
                Err(e) if is_fd_exhaustion(&e) => {
                    self.requeue_for_fds(ci, now);
                    return;
                }
                Err(e) => he.attempt_failed(
                    addr,
                    Error::from_io(ErrorKind::Connect, &format!("connect to {addr}"), &e),
                    now,
                ),
            }
        }
        let ConnState::Connecting { he, attempts } = &self.conns[ci].state else {
            return;
        };
        if attempts.is_empty() && he.is_exhausted() {
            let detail = he.errors().iter().map(|(_, e)| e.message().to_string()).collect::<Vec<_>>();
            let err = if detail.is_empty() {
                Error::new(ErrorKind::Connect, "no address to connect to")
            } else {
                Error::new(ErrorKind::Connect, detail.join("; "))
            };
            self.conn_failed(ci, err, now, h);
            return;
        }
        self.arm_conn(ci);
    }

    /// Out of descriptors: give the request back to the queue and cap connections at
    /// what is open now, so the run continues at the width the process can afford.
    fn requeue_for_fds(&mut self, ci: usize, now: Instant) {
        let cap = self.open_total.saturating_sub(1).max(1);
        self.fd_cap = Some(self.fd_cap.map_or(cap, |c| c.min(cap)));
        let waiting = self.conns[ci].waiting_req.take();
        self.close_conn(ci, now);
        if let Some(ri) = waiting {
            self.requeue_front(ri);
        }
    }

    /// A readiness event on one of a connecting connection's attempts.
    pub(super) fn on_connect_event(&mut self, ci: usize, sub: u8, now: Instant, h: &mut Handler<'_>) {
        let ConnState::Connecting { he, attempts } = &mut self.conns[ci].state else {
            return;
        };
        let Some(k) = attempts.iter().position(|a| a.sub == sub) else {
            return;
        };
        let a = &attempts[k];
        // mio: after a writable event, take_error then peer_addr tell whether the
        // non-blocking connect finished; spurious wake-ups are normal.
        let outcome = match a.stream.take_error() {
            Ok(Some(e)) | Err(e) => Err(e),
            Ok(None) => match a.stream.peer_addr() {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == IoKind::NotConnected || e.kind() == IoKind::WouldBlock => Ok(false),
                Err(e) => Err(e),
            },
        };
        match outcome {
            Ok(false) => {}
            Err(e) => {
                let mut failed = attempts.remove(k);
                let _ = self.poll.registry().deregister(&mut failed.stream);
                let err = Error::from_io(ErrorKind::Connect, &format!("connect to {}", failed.addr), &e);
                he.attempt_failed(failed.addr, err, now);
                self.drive_connect(ci, now, h);
            }
            Ok(true) => {
                let winner = attempts.remove(k);
                for mut other in attempts.drain(..) {
                    let _ = self.poll.registry().deregister(&mut other.stream);
                }
                self.connected(ci, winner, now, h);
            }
        }
    }

    fn connected(&mut self, ci: usize, winner: Attempt, now: Instant, h: &mut Handler<'_>) {
        let c = &mut self.conns[ci];
        c.sock = Some(winner.stream);
        c.sock_sub = winner.sub;
        c.write_ready = true;
        let started = c.connect_started;
        let oi = c.origin;
        let Some(ri) = c.waiting_req else {
            self.close_conn(ci, now);
            return;
        };
        self.reqs[ri].stats.connect = now.saturating_duration_since(started);
        if !self.pool.get(oi).tls {
            self.conns[ci].waiting_req = None;
            self.begin_exchange(ci, ri, false, now, h);
            return;
        }
        match self.tls.start(&self.pool.get(oi).host) {
            Ok(session) => {
                self.conns[ci].tls = Some(session);
                self.set_state(ci, ConnState::Handshaking, now);
                self.drive_handshake(ci, now, h);
            }
            Err(e) => self.conn_failed(ci, e, now, h),
        }
    }

    /// Move the TLS handshake as far as the socket allows.
    pub(super) fn drive_handshake(&mut self, ci: usize, now: Instant, h: &mut Handler<'_>) {
        let c = &mut self.conns[ci];
        let (Some(sock), Some(tls)) = (c.sock.as_mut(), c.tls.as_mut()) else {
            return;
        };
        let result: Result<(), Error> = loop {
            let mut write_error = None;
            while tls.wants_write() {
                match tls.write_tls(sock) {
                    Ok(_) => {}
                    Err(e) if e.kind() == IoKind::WouldBlock => break,
                    Err(e) => {
                        write_error = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = write_error {
                break Err(Error::from_io(
                    ErrorKind::Tls(crate::error::TlsFailure::Protocol),
                    "TLS handshake",
                    &e,
                ));
            }
            if !tls.is_handshaking() {
                break Ok(());
            }
            match tls.read_tls(sock) {
                Ok(0) => break Err(crate::proto::tls::TlsSession::handshake_eof_error()),
                Ok(_) => {
                    if let Err(e) = tls.process() {
                        // Tell the server why (the alert rustls queued), best effort.
                        let _ = tls.write_tls(sock);
                        break Err(e);
                    }
                }
                Err(e) if e.kind() == IoKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => {
                    break Err(Error::from_io(
                        ErrorKind::Tls(crate::error::TlsFailure::Protocol),
                        "TLS handshake",
                        &e,
                    ))
                }
            }
        };
        if let Err(e) = result {
            self.conn_failed(ci, e, now, h);
            return;
        }
        let c = &self.conns[ci];
        if c.tls.as_ref().is_some_and(|t| !t.is_handshaking()) {
            let Some(ri) = c.waiting_req else {
                self.close_conn(ci, now);
                return;
            };
            // The turn's `now` is too coarse here: a handshake can finish within a turn.
            self.reqs[ri].stats.tls = Instant::now().saturating_duration_since(c.since);
            self.reqs[ri].stats.tls_resumed = c.tls.as_ref().is_some_and(|t| t.was_resumed());
            self.conns[ci].waiting_req = None;
            self.begin_exchange(ci, ri, false, now, h);
        }
    }

    /// A connection failed before carrying its request: the request fails with it.
    pub(super) fn conn_failed(&mut self, ci: usize, err: Error, now: Instant, h: &mut Handler<'_>) {
        let ri = self.conns.get_mut(ci).and_then(|c| c.waiting_req.take());
        self.close_conn(ci, now);
        if let Some(ri) = ri {
            self.reqs[ri].conn = None;
            self.fail_request(ri, err, now, h);
        }
    }

    /// An idle connection of origin `oi` that is still good, if any. Before reuse the
    /// socket is checked: EOF or unsolicited bytes mean the server has moved on.
    pub(super) fn take_idle(&mut self, oi: usize, now: Instant) -> Option<usize> {
        while let Some(ci) = self.pool.get_mut(oi).idle.pop() {
            // Its timer may not have fired yet this turn: an expired one is not reused.
            let fresh = now < self.conns[ci].since + self.config.pool_idle_timeout;
            if fresh && self.idle_conn_is_healthy(ci) {
                return Some(ci);
            }
            self.close_conn(ci, now);
        }
        None
    }

    fn idle_conn_is_healthy(&mut self, ci: usize) -> bool {
        let c = &mut self.conns[ci];
        if !c.leftover.is_empty() {
            return false;
        }
        let Some(sock) = c.sock.as_mut() else {
            return false;
        };
        match c.tls.as_mut() {
            None => {
                let mut probe = [0u8; 1];
                matches!(sock.peek(&mut probe), Err(e) if e.kind() == IoKind::WouldBlock)
            }
            Some(tls) => loop {
                // TLS 1.3 session tickets may still be in flight; anything else is not.
                match tls.read_tls(sock) {
                    Ok(0) => return false,
                    Ok(_) => {
                        if tls.process().is_err() || tls.received_close_notify() {
                            return false;
                        }
                        let mut probe = [0u8; 1];
                        if !matches!(tls.read_plaintext(&mut probe), Err(e) if e.kind() == IoKind::WouldBlock)
                        {
                            return false;
                        }
                    }
                    Err(e) if e.kind() == IoKind::WouldBlock => return true,
                    Err(_) => return false,
                }
            },
        }
    }

    /// Global cap reached: close the longest-idle connection to make room.
    pub(super) fn close_oldest_idle(&mut self) -> bool {
        let oldest = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.state, ConnState::Idle))
            .min_by_key(|(_, c)| c.since)
            .map(|(i, _)| i);
        match oldest {
            Some(ci) => {
                self.close_conn(ci, Instant::now());
                true
            }
            None => false,
        }
    }

    /// Tear a connection down: deregister, free its slot, give the requests pipelined
    /// behind and unanswered back to the queue, let its origin admit more.
    pub(super) fn close_conn(&mut self, ci: usize, _now: Instant) {
        if !self.conns.contains(ci) {
            return;
        }
        let mut c = self.conns.remove(ci);
        let registry = self.poll.registry();
        match &mut c.state {
            ConnState::Connecting { attempts, .. } => {
                for a in attempts.iter_mut() {
                    let _ = registry.deregister(&mut a.stream);
                }
            }
            ConnState::Resolving { lookup } => {
                self.resolver.cancel(*lookup);
                self.lookups.remove(lookup);
            }
            _ => {}
        }
        if let Some(sock) = c.sock.as_mut() {
            if let Some(tls) = c.tls.as_mut() {
                if matches!(c.state, ConnState::Idle) {
                    tls.send_close_notify();
                    let _ = tls.write_tls(sock);
                }
            }
            let _ = registry.deregister(sock);
        }
        let o = self.pool.get_mut(c.origin);
        o.open = o.open.saturating_sub(1);
        o.idle.retain(|&i| i != ci);
        self.open_total = self.open_total.saturating_sub(1);
        self.requeue_unanswered(std::mem::take(&mut c.behind));
        self.pool.mark_ready(c.origin);
        self.pool.release_if_unused(c.origin);
    }

    /// The connection's next deadline and the phase it guards.
    pub(super) fn conn_deadline(&self, ci: usize) -> Option<(Instant, Phase)> {
        let c = self.conns.get(ci)?;
        let req = match &c.state {
            ConnState::Busy(b) => Some(b.req),
            _ => c.waiting_req,
        };
        let t = req.and_then(|r| self.reqs.get(r)).map(|r| r.t);
        let connect = t.map_or(self.config.connect_timeout, |t| t.connect);
        let idle = t.map_or(self.config.idle_timeout, |t| t.idle);
        let head = t.map_or(self.config.head_timeout, |t| t.head);
        match &c.state {
            ConnState::Resolving { .. } | ConnState::Closed => None,
            ConnState::Connecting { he, .. } => {
                let limit = c.connect_started + connect;
                Some(match he.next_deadline() {
                    Some(d) if d < limit => (d, Phase::Connect),
                    _ => (limit, Phase::Connect),
                })
            }
            ConnState::Handshaking => Some((c.since + connect, Phase::Tls)),
            // A paused request is waiting on its caller, not on the peer; only its
            // total deadline runs.
            ConnState::Busy(b) if self.reqs.get(b.req).is_some_and(|r| r.paused) => None,
            ConnState::Busy(b) => Some(match b.sent_at {
                None => (c.last_progress + idle, Phase::Send),
                Some(sent) if !b.exchange.has_head() => {
                    let by_head = sent + head;
                    let by_idle = c.last_progress + idle;
                    if by_head <= by_idle {
                        (by_head, Phase::Head)
                    } else {
                        (by_idle, Phase::Idle)
                    }
                }
                Some(_) => (c.last_progress + idle, Phase::Idle),
            }),
            ConnState::Idle => Some((c.since + self.config.pool_idle_timeout, Phase::Idle)),
        }
    }

    pub(super) fn on_conn_timer(&mut self, ci: usize, now: Instant, h: &mut Handler<'_>) {
        let Some((at, phase)) = self.conn_deadline(ci) else {
            return;
        };
        if at > now {
            self.arm_conn(ci);
            return;
        }
        let c = &self.conns[ci];
        let since = match &c.state {
            ConnState::Connecting { he, .. } => {
                if he.next_deadline().is_some_and(|d| d <= now)
                    && now < c.connect_started + self.timeout_of(ci, Phase::Connect)
                {
                    // Happy Eyeballs: time to start the next attempt.
                    self.drive_connect(ci, now, h);
                    return;
                }
                c.connect_started
            }
            ConnState::Idle => {
                self.close_conn(ci, now);
                return;
            }
            ConnState::Busy(b) if phase == Phase::Head => b.sent_at.unwrap_or(c.since),
            ConnState::Busy(_) => c.last_progress,
            _ => c.since,
        };
        let err = Error::timeout(phase, now.saturating_duration_since(since));
        match &c.state {
            // Sent pipelined and not a byte back: most likely a server that ignores
            // pipelined requests; give it back to be sent alone (see `exchange_failed`).
            ConnState::Busy(b) => {
                let unanswered = b.pipelined && !b.exchange.got_any_byte();
                self.exchange_failed(ci, err, unanswered, now, h)
            }
            _ => self.conn_failed(ci, err, now, h),
        }
    }

    fn timeout_of(&self, ci: usize, phase: Phase) -> std::time::Duration {
        let t = self.conns[ci].waiting_req.and_then(|r| self.reqs.get(r)).map(|r| r.t);
        match phase {
            Phase::Connect | Phase::Tls => t.map_or(self.config.connect_timeout, |t| t.connect),
            Phase::Head => t.map_or(self.config.head_timeout, |t| t.head),
            _ => t.map_or(self.config.idle_timeout, |t| t.idle),
        }
    }
}
