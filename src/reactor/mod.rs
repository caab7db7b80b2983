//! The only code that touches mio, sockets and the clock. One `Poll`, a slab of
//! connections, a slab of requests, a timer heap, the per-origin pool and the DNS
//! sockets. Small and dull on purpose: every protocol decision is in `proto/`.
//!
//! One turn: read `now`; poll with the nearest deadline as timeout (zero if some
//! connection still has undrained readiness); handle each ready token (reading or
//! writing until `WouldBlock`, at most `read_quota` bytes per connection per turn so
//! one fast peer cannot starve the rest); collect DNS results; fire due timers; admit
//! queued requests within the global and per-origin limits. mio is edge-triggered:
//! readiness not drained is remembered in `Conn::read_ready` / `io_pending`.

mod cipher;
pub(crate) mod conn;
mod connect;
mod deadlines;
mod exchange;
mod io;
pub(crate) mod key;
mod pipeline;
mod pool;
mod rate;
pub(crate) mod req;
pub(crate) mod resolver;
mod write;

pub use mio::event::Source;

use crate::client::{Command, Control};
use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::proto::tls::TlsContext;
use crate::request::{Request, RequestId};
use conn::{Conn, ConnState};
use deadlines::{Deadlines, Target};
use key::{Gen, Owner};
use mio::{Events, Interest, Poll, Token};
use pool::Pool;
use req::{Req, Timeouts};
use resolver::{LookupId, Resolver};
use slab::Slab;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The handler every event goes to.
pub(crate) type Handler<'a> = dyn FnMut(&mut Control, Event<'_>) + 'a;

/// Receive buffer shared by every connection: bytes are parsed and handed to the
/// handler straight from here, so an idle or slow connection holds no buffer at all.
const SCRATCH_SIZE: usize = 256 * 1024;

pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
    conns: Slab<Conn>,
    /// Generation of each connection slab index, bumped on reuse.
    gens: Vec<Gen>,
    reqs: Slab<Req>,
    ids: HashMap<u64, usize>,
    pool: Pool,
    open_total: usize,
    /// Lowered when the process runs out of file descriptors: work queues instead.
    fd_cap: Option<usize>,
    deadlines: Deadlines,
    resolver: Resolver,
    lookups: HashMap<LookupId, (usize, Gen)>,
    tls: TlsContext,
    scratch: Vec<u8>,
    /// TLS records read in one large read, fed to rustls from here.
    cipher: cipher::CipherBuf,
    pub(crate) config: Config,
    /// Connections with readiness still to drain, served next turn without waiting.
    io_pending: VecDeque<(usize, Gen)>,
    rate: Option<rate::RateBucket>,
    /// Connections waiting for the rate bucket to refill.
    throttled: Vec<(usize, Gen)>,
    pub(crate) ctl: Control,
    ready: Vec<(Token, mio_flags::Flags)>,
    /// The caller registered sources of its own: waiting with nothing in flight
    /// still makes sense.
    has_external: bool,
}

mod mio_flags {
    /// The parts of a mio event the dispatcher needs, copied out so the event list
    /// is not borrowed while handlers run.
    #[derive(Clone, Copy)]
    pub(crate) struct Flags {
        pub(crate) readable: bool,
        pub(crate) writable: bool,
        pub(crate) error: bool,
    }
}

impl Reactor {
    pub(crate) fn new(config: Config) -> Result<Reactor, Error> {
        let poll = Poll::new().map_err(|e| Error::from_io(ErrorKind::Io, "cannot create poll", &e))?;
        let tls = TlsContext::new(&config.tls)?;
        let resolver = Resolver::new(&config.dns);
        let rate = config.max_download_rate.map(|r| rate::RateBucket::new(r, Instant::now()));
        Ok(Reactor {
            poll,
            events: Events::with_capacity(1024),
            conns: Slab::new(),
            gens: Vec::new(),
            reqs: Slab::new(),
            ids: HashMap::new(),
            pool: Pool::default(),
            open_total: 0,
            fd_cap: None,
            deadlines: Deadlines::default(),
            resolver,
            lookups: HashMap::new(),
            tls,
            scratch: vec![0; SCRATCH_SIZE],
            cipher: cipher::CipherBuf::new(),
            config,
            io_pending: VecDeque::new(),
            rate,
            throttled: Vec::new(),
            ctl: Control::default(),
            ready: Vec::with_capacity(1024),
            has_external: false,
        })
    }

    pub(crate) fn warnings(&self) -> Vec<String> {
        self.resolver.warnings().to_vec()
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.reqs.len()
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.reqs.is_empty() && self.ctl.commands.is_empty()
    }

    pub(crate) fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.poll.as_raw_fd()
    }

    pub(crate) fn register_external<S: Source + ?Sized>(
        &mut self,
        source: &mut S,
        key: usize,
    ) -> std::io::Result<()> {
        self.has_external = true;
        self.poll.registry().register(source, Token(key::EXTERNAL_BASE + key), Interest::READABLE)
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match (self.deadlines.next(), self.resolver.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn timeouts_for(&self, r: &Request) -> Timeouts {
        let o = &r.options;
        Timeouts {
            connect: o.connect_timeout.unwrap_or(self.config.connect_timeout),
            head: o.head_timeout.unwrap_or(self.config.head_timeout),
            idle: o.idle_timeout.unwrap_or(self.config.idle_timeout),
            total: o.total_timeout.or(self.config.total_timeout),
        }
    }

    /// Queue a validated request under `id`.
    pub(crate) fn submit(&mut self, id: RequestId, request: Request, now: Instant) -> Result<(), Error> {
        let t = self.timeouts_for(&request);
        let max_redirects = request.options.max_redirects.unwrap_or(self.config.max_redirects);
        let origin = self.pool.origin_for(&request.url);
        let ri = self.reqs.insert(Req::new(id, request, t, max_redirects, origin, now));
        self.ids.insert(id.0, ri);
        self.pool.enqueue(origin, ri, false);
        Ok(())
    }

    pub(crate) fn turn(&mut self, timeout: Option<Duration>, h: &mut Handler<'_>) -> Result<(), Error> {
        let now = Instant::now();
        let in_flight = self.reqs.len();
        self.apply_commands(now, h);
        self.admit(now, h);
        let mut wait = timeout;
        // Requests ended before the poll (cancelled, failed at once): give the caller
        // control back instead of sleeping, and never sleep with nothing to wait for.
        let nothing_to_wait_for =
            self.reqs.is_empty() && !self.has_external && self.next_deadline().is_none();
        if self.reqs.len() < in_flight || nothing_to_wait_for {
            wait = Some(Duration::ZERO);
        }
        if let Some(d) = self.next_deadline() {
            let until = d.saturating_duration_since(now);
            wait = Some(wait.map_or(until, |w| w.min(until)));
        }
        if !self.io_pending.is_empty() || !self.ctl.commands.is_empty() {
            wait = Some(Duration::ZERO);
        }
        if let Err(e) = self.poll.poll(&mut self.events, wait) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::from_io(ErrorKind::Io, "poll failed", &e));
            }
        }
        let now = Instant::now();
        self.ready.clear();
        for ev in self.events.iter() {
            let flags = mio_flags::Flags {
                readable: ev.is_readable() || ev.is_read_closed(),
                writable: ev.is_writable(),
                error: ev.is_error(),
            };
            self.ready.push((ev.token(), flags));
        }
        let ready = std::mem::take(&mut self.ready);
        for &(token, flags) in &ready {
            self.dispatch(token, flags, now, h);
            self.apply_commands(now, h);
        }
        self.ready = ready;
        self.drain_resolver(now, h);
        self.serve_pending_io(now, h);
        self.fire_timers(now, h);
        self.apply_commands(now, h);
        self.admit(now, h);
        self.pool.sweep();
        Ok(())
    }

    fn dispatch(&mut self, token: Token, flags: mio_flags::Flags, now: Instant, h: &mut Handler<'_>) {
        match key::owner(token) {
            Owner::External(key) => h(&mut self.ctl, Event::Ready { key }),
            Owner::Dns => self.resolver.handle_event(token, now, self.poll.registry()),
            Owner::Conn { index, gen, sub } => {
                let Some(conn) = self.conns.get(index) else {
                    return;
                };
                if conn.gen != gen {
                    return; // an event for a connection that is gone: its slot was reused
                }
                match conn.state {
                    ConnState::Connecting { .. } => self.on_connect_event(index, sub, now, h),
                    _ if sub != conn.sock_sub => {}
                    ConnState::Handshaking => self.drive_handshake(index, now, h),
                    _ => {
                        if flags.writable || flags.error {
                            if let Some(c) = self.conns.get_mut(index) {
                                c.write_ready = true;
                            }
                            self.flush_writes(index, now, h);
                        }
                        if flags.readable || flags.error {
                            self.on_readable(index, gen, now, h);
                        }
                    }
                }
            }
        }
    }

    fn drain_resolver(&mut self, now: Instant, h: &mut Handler<'_>) {
        self.resolver.handle_timeout(now, self.poll.registry());
        while let Some((lookup, result)) = self.resolver.poll_result() {
            let Some((ci, gen)) = self.lookups.remove(&lookup) else {
                continue;
            };
            if self.conns.get(ci).is_none_or(|c| c.gen != gen) {
                continue;
            }
            match result {
                Ok(addrs) => self.start_connecting(ci, addrs, now, h),
                Err(e) => self.conn_failed(ci, e, now, h),
            }
        }
    }

    fn serve_pending_io(&mut self, now: Instant, h: &mut Handler<'_>) {
        let mut pending = std::mem::take(&mut self.io_pending);
        while let Some((ci, gen)) = pending.pop_front() {
            if let Some(c) = self.conns.get_mut(ci) {
                if c.gen == gen {
                    c.io_listed = false;
                    self.on_readable(ci, gen, now, h);
                }
            }
            self.apply_commands(now, h);
        }
        if self.io_pending.is_empty() {
            self.io_pending = pending;
        }
    }

    fn fire_timers(&mut self, now: Instant, h: &mut Handler<'_>) {
        while let Some((_, target)) = self.deadlines.pop_due(now) {
            match target {
                Target::Conn(ci, gen) => {
                    if let Some(c) = self.conns.get_mut(ci) {
                        if c.gen == gen {
                            c.armed = None;
                            self.on_conn_timer(ci, now, h);
                        }
                    }
                }
                Target::Request(ri, id) => {
                    if self.reqs.get(ri).is_some_and(|r| r.id.0 == id) {
                        let after = self.reqs[ri].t.total.unwrap_or_default();
                        self.abort_request(ri, Error::timeout(crate::error::Phase::Total, after), now, h);
                    }
                }
                Target::HoldEnds => self.pool.lift_holds(now),
                Target::RateRefill => {
                    for c in std::mem::take(&mut self.throttled) {
                        self.list_pending(c.0, c.1);
                    }
                }
            }
        }
    }

    /// Apply commands the handler issued; new events may issue more.
    fn apply_commands(&mut self, now: Instant, h: &mut Handler<'_>) {
        while !self.ctl.commands.is_empty() {
            for cmd in std::mem::take(&mut self.ctl.commands) {
                match cmd {
                    Command::Submit(id, r) => {
                        let r = *r;
                        let url = r.url.to_string();
                        if let Err(e) = r.validate().and_then(|()| self.submit(id, r, now)) {
                            let stats = crate::event::Stats { final_url: url.clone(), ..Default::default() };
                            h(&mut self.ctl, Event::Failed { id, error: e.with_url(&url), stats });
                        }
                    }
                    Command::Cancel(id) => {
                        if let Some(&ri) = self.ids.get(&id.0) {
                            self.abort_request(
                                ri,
                                Error::new(ErrorKind::Cancelled, "cancelled by the caller"),
                                now,
                                h,
                            );
                        }
                    }
                    Command::Pause(id) => {
                        if let Some(&ri) = self.ids.get(&id.0) {
                            self.reqs[ri].paused = true;
                        }
                    }
                    Command::HoldHost(host, until) => {
                        self.pool.hold_host(&host, until);
                        self.deadlines.arm(until, Target::HoldEnds);
                    }
                    Command::Resume(id) => {
                        if let Some(&ri) = self.ids.get(&id.0) {
                            let r = &mut self.reqs[ri];
                            if r.paused {
                                r.paused = false;
                                if let Some(ci) = r.conn {
                                    let c = &mut self.conns[ci];
                                    // Bytes read before the pause are parsed first.
                                    c.reparse = true;
                                    c.last_progress = now;
                                    let gen = c.gen;
                                    self.arm_conn(ci);
                                    self.list_pending(ci, gen);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Remember that a connection has readiness to drain next turn.
    fn list_pending(&mut self, ci: usize, gen: Gen) {
        if let Some(c) = self.conns.get_mut(ci) {
            if c.gen == gen && !c.io_listed {
                c.io_listed = true;
                c.read_ready = true;
                self.io_pending.push_back((ci, gen));
            }
        }
    }

    /// Admit queued requests, origin by origin in round-robin, within the limits.
    fn admit(&mut self, now: Instant, h: &mut Handler<'_>) {
        while let Some(oi) = self.pool.pop_ready() {
            if self.pool.is_held(oi, now) {
                continue; // listed again when the hold ends (`Target::HoldEnds`)
            }
            while let Some(&ri) = self.pool.get(oi).queue.front() {
                if !self.reqs[ri].force_fresh {
                    if let Some(ci) = self.take_idle(oi, now) {
                        self.pool.get_mut(oi).queue.pop_front();
                        self.begin_exchange(ci, ri, true, now, h);
                        continue;
                    }
                }
                if self.pool.get(oi).open >= self.config.max_per_origin.max(1) {
                    break; // listed again when one of its connections frees
                }
                let cap = self.fd_cap.unwrap_or(usize::MAX).min(self.config.max_connections.max(1));
                if self.open_total >= cap && !self.close_oldest_idle() {
                    self.pool.unpop_ready(oi);
                    return;
                }
                self.pool.get_mut(oi).queue.pop_front();
                self.open_conn(oi, ri, now, h);
            }
            self.pool.release_if_unused(oi);
        }
    }

    /// Start the request clock the first time a request leaves the queue.
    fn start_request_clock(&mut self, ri: usize, now: Instant) {
        let r = &mut self.reqs[ri];
        if r.started.is_none() {
            r.started = Some(now);
            r.stats.queued = now.saturating_duration_since(r.queued_at);
            if let Some(total) = r.t.total {
                let at = now + total;
                r.total_deadline = Some(at);
                self.deadlines.arm(at, Target::Request(ri, r.id.0));
            }
        }
    }

    fn new_conn_slot(&mut self, origin: usize, now: Instant) -> usize {
        let entry = self.conns.vacant_entry();
        let ci = entry.key();
        if self.gens.len() <= ci {
            self.gens.resize(ci + 1, 0);
        }
        self.gens[ci] = key::next_gen(self.gens[ci]);
        entry.insert(Conn {
            gen: self.gens[ci],
            origin,
            state: ConnState::Closed,
            since: now,
            sock: None,
            sock_sub: 0,
            tls: None,
            leftover: Vec::new(),
            cipher_left: Vec::new(),
            waiting_req: None,
            armed: None,
            last_progress: now,
            served: 0,
            read_ready: false,
            write_ready: false,
            io_listed: false,
            connect_started: now,
            transport_eof: false,
            reparse: false,
            tls_lent: false,
            behind: VecDeque::new(),
            out: Vec::new(),
            proven: false,
            largest_body: 0,
            draining: false,
        });
        self.pool.get_mut(origin).open += 1;
        self.open_total += 1;
        ci
    }

    /// Move a connection to a new state: the one place transitions happen, so the
    /// timer the state needs is always armed.
    fn set_state(&mut self, ci: usize, state: ConnState, now: Instant) {
        let Some(c) = self.conns.get_mut(ci) else {
            return;
        };
        if cfg!(debug_assertions) && std::env::var_os("VOLLEY_TRACE").is_some() {
            eprintln!("volley: conn {ci}: {} -> {}", c.state.name(), state.name());
        }
        c.state = state;
        c.since = now;
        c.last_progress = now;
        self.arm_conn(ci);
    }

    /// Arm the connection's timer if its deadline is earlier than the armed one.
    fn arm_conn(&mut self, ci: usize) {
        let Some((at, _)) = self.conn_deadline(ci) else {
            debug_assert!(
                self.conns.get(ci).is_none_or(|c| match &c.state {
                    ConnState::Resolving { .. } | ConnState::Closed => true,
                    ConnState::Busy(b) => self.reqs.get(b.req).is_some_and(|r| r.paused),
                    _ => false,
                }),
                "a wait without a timer"
            );
            return;
        };
        let c = &mut self.conns[ci];
        if c.armed.is_none_or(|a| at < a) {
            c.armed = Some(at);
            self.deadlines.arm(at, Target::Conn(ci, c.gen));
        }
    }
}
