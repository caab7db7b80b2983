//! The DNS stub resolver's sockets: the only DNS code that touches `mio`. It turns the
//! sans-IO [`Lookup`] machine's transmits into sockets registered on the reactor's
//! `Registry`, feeds back what they receive, and hands out results.
//!
//! - RFC 5452 §9.2/§10: every UDP query gets a fresh socket bound to an ephemeral port
//!   (the kernel's random choice) and connected to the server, so an off-path attacker
//!   must guess port and ID; answers from anywhere else never reach us.
//! - RFC 1035 §4.2.2: truncated answers are fetched again over TCP (a `TcpStream` per
//!   retry, closed after the answer).
//! - RFC 8305 §3: a result is ready when both A and AAAA finished, or 50 ms after the first
//!   family answered with addresses; addresses are ordered IPv6-first, interleaved (§4).
//! - Concurrent lookups of one name share one in-flight lookup; each caller's `LookupId`
//!   gets its own result. Answers are cached (`proto::dns::cache`); IP literals,
//!   `localhost` and hosts-file names never touch the network.
//!
//! Tokens are `DNS_TOKEN_BASE + socket index`, so the reactor can route events with
//! [`Resolver::owns`] without knowing anything else about DNS.

use crate::config::DnsConfig;
use crate::error::{DnsFailure, Error, ErrorKind};
use crate::proto::dns::cache::{self, Cache, Cached};
use crate::proto::dns::lookup::{Lookup, QueryTag, Transmit, Transport};
use crate::proto::dns::sysconf::{self, Hosts, ResolvConf};
use crate::proto::dns::{IdSource, SystemIds};
use crate::proto::happy;
use mio::net::{TcpStream, UdpSocket};
use mio::{Interest, Registry, Token};
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

/// Tokens at or above this belong to the resolver; far above any connection slab index.
pub(crate) const DNS_TOKEN_BASE: usize = 1 << 40;
/// Large enough for any datagram and any TCP read; allocated once.
const RECV_BUF: usize = 65536;

/// Names one caller's lookup; each `Pending` id yields exactly one `poll_result`.
pub(crate) type LookupId = u64;

/// What [`Resolver::resolve`] says at once.
#[derive(Debug)]
pub(crate) enum Resolve {
    /// Known without asking: IP literal, `localhost`, hosts file or cache.
    Ready(Vec<IpAddr>),
    /// Asked; the result comes from [`Resolver::poll_result`] under this id.
    Pending(LookupId),
    /// Known to fail (cached negative answer, invalid name, no servers).
    Failed(Error),
}

enum SockKind {
    Udp(UdpSocket),
    Tcp { stream: TcpStream, out: Vec<u8>, written: usize },
}

/// One query's socket.
struct Sock {
    key: u64,
    tag: QueryTag,
    server: SocketAddr,
    kind: SockKind,
}

/// A lookup on the wire, shared by every caller asking for the same name.
struct InFlight {
    name: String,
    lookup: Lookup,
    waiters: Vec<LookupId>,
    socks: Vec<usize>,
}

/// The resolver: configuration, cache, lookups in flight and their sockets.
pub(crate) struct Resolver {
    conf: ResolvConf,
    hosts: Hosts,
    cache: Cache,
    warnings: Vec<String>,
    ids: Box<dyn IdSource>,
    socks: Vec<Option<Sock>>,
    free: Vec<usize>,
    inflight: HashMap<u64, InFlight>,
    by_name: HashMap<String, u64>,
    waiter_key: HashMap<LookupId, u64>,
    results: VecDeque<(LookupId, Result<Vec<IpAddr>, Error>)>,
    next_id: LookupId,
    next_key: u64,
    rotation: usize,
    spoofed: u64,
    buf: Vec<u8>,
}

impl Resolver {
    /// Reads resolv.conf and the hosts file once; problems become [`Resolver::warnings`].
    pub(crate) fn new(cfg: &DnsConfig) -> Resolver {
        let (conf, hosts, warnings) = sysconf::load(cfg);
        Resolver {
            conf,
            hosts,
            cache: Cache::new(
                cfg.cache_size.unwrap_or(cache::DEFAULT_CAPACITY),
                cfg.max_ttl.unwrap_or(cache::DEFAULT_MAX_TTL),
            ),
            warnings,
            ids: Box::new(SystemIds::new()),
            socks: Vec::new(),
            free: Vec::new(),
            inflight: HashMap::new(),
            by_name: HashMap::new(),
            waiter_key: HashMap::new(),
            results: VecDeque::new(),
            next_id: 1,
            next_key: 0,
            rotation: 0,
            spoofed: 0,
            buf: vec![0; RECV_BUF],
        }
    }

    /// What was wrong with the system configuration (missing files, bad lines).
    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Answers at once from literals, `localhost`, the hosts file or the cache; otherwise
    /// starts (or joins) a lookup and returns its id.
    pub(crate) fn resolve(&mut self, host: &str, now: Instant, registry: &Registry) -> Resolve {
        let name = cache::normalize(host);
        if name.is_empty() {
            return Resolve::Failed(Error::new(ErrorKind::Dns(DnsFailure::Setup), "empty host name"));
        }
        if let Some(addrs) = cache::local_answer(&name, &self.hosts) {
            return Resolve::Ready(happy::interleave(addrs));
        }
        match self.cache.get(&name, now) {
            Some(Cached::Addresses(addrs)) => return Resolve::Ready(addrs),
            Some(Cached::Negative(kind, message)) => {
                return Resolve::Failed(Error::new(ErrorKind::Dns(kind), message))
            }
            None => {}
        }
        let id = self.next_id;
        if let Some(&key) = self.by_name.get(&name) {
            if let Some(inf) = self.inflight.get_mut(&key) {
                self.next_id += 1;
                inf.waiters.push(id);
                self.waiter_key.insert(id, key);
                return Resolve::Pending(id);
            }
        }
        let offset = if self.conf.rotate {
            self.rotation = self.rotation.wrapping_add(1);
            self.rotation % self.conf.nameservers.len().max(1)
        } else {
            0
        };
        let mut lookup = Lookup::new(&name, &self.conf, offset, now, &mut *self.ids);
        if lookup.is_finished() {
            return match lookup.poll_result() {
                Some(Err(f)) => Resolve::Failed(f.to_error()),
                Some(Ok(r)) => Resolve::Ready(r.addrs),
                None => Resolve::Failed(Error::new(
                    ErrorKind::Dns(DnsFailure::Setup),
                    format!("{name}: lookup ended"),
                )),
            };
        }
        self.next_id += 1;
        let key = self.next_key;
        self.next_key += 1;
        self.by_name.insert(name.clone(), key);
        self.waiter_key.insert(id, key);
        self.inflight.insert(key, InFlight { name, lookup, waiters: vec![id], socks: Vec::new() });
        self.after_input(key, now, registry);
        Resolve::Pending(id)
    }

    /// Whether an event's token is one of the resolver's.
    pub(crate) fn owns(token: Token) -> bool {
        token.0 >= DNS_TOKEN_BASE
    }

    /// A socket of ours is ready: read (and write) until `WouldBlock`. Spurious and stale
    /// events are harmless.
    pub(crate) fn handle_event(&mut self, token: Token, now: Instant, registry: &Registry) {
        let Some(idx) = token.0.checked_sub(DNS_TOKEN_BASE) else {
            return;
        };
        let Some(Some(sock)) = self.socks.get_mut(idx) else {
            return;
        };
        let key = sock.key;
        let Some(inf) = self.inflight.get_mut(&key) else {
            return;
        };
        let (tag, server) = (sock.tag, sock.server);
        let ids = &mut *self.ids;
        let buf = &mut self.buf;
        let lookup = &mut inf.lookup;
        match &mut sock.kind {
            SockKind::Udp(socket) => {
                // Connected socket: drain every datagram, even after the answer, so the
                // edge-triggered readiness is consumed.
                loop {
                    match socket.recv_from(buf) {
                        Ok((n, from)) => lookup.handle_datagram(tag, from, &buf[..n], now, ids),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            // E.g. ICMP port unreachable: this server will not answer.
                            lookup.handle_transport_error(
                                tag,
                                DnsFailure::Timeout,
                                &format!("query to {server} failed: {e}"),
                                now,
                                ids,
                            );
                            break;
                        }
                    }
                    if !lookup.is_live(tag) {
                        break;
                    }
                }
            }
            SockKind::Tcp { stream, out, written } => {
                if let Err(e) =
                    tcp_io(stream, out, written, buf, |data| lookup.handle_tcp_data(tag, data, now, ids))
                {
                    lookup.handle_transport_error(
                        tag,
                        DnsFailure::Timeout,
                        &format!("TCP query to {server} failed: {e}"),
                        now,
                        ids,
                    );
                }
            }
        }
        self.after_input(key, now, registry);
    }

    /// Fires the deadlines at or before `now` (retries, resolution delay, giving up).
    pub(crate) fn handle_timeout(&mut self, now: Instant, registry: &Registry) {
        let due: Vec<u64> = self
            .inflight
            .iter()
            .filter(|(_, inf)| inf.lookup.poll_timeout().is_some_and(|t| t <= now))
            .map(|(&k, _)| k)
            .collect();
        for key in due {
            if let Some(inf) = self.inflight.get_mut(&key) {
                inf.lookup.handle_timeout(now, &mut *self.ids);
            }
            self.after_input(key, now, registry);
        }
    }

    /// The earliest deadline of any lookup in flight.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.inflight.values().filter_map(|inf| inf.lookup.poll_timeout()).min()
    }

    /// The next finished lookup; one per id handed out by `resolve` (unless cancelled).
    pub(crate) fn poll_result(&mut self) -> Option<(LookupId, Result<Vec<IpAddr>, Error>)> {
        self.results.pop_front()
    }

    /// Forgets lookup `id`; the query stops when no one else waits for the same name.
    pub(crate) fn cancel(&mut self, id: LookupId) {
        self.results.retain(|(i, _)| *i != id);
        let Some(key) = self.waiter_key.remove(&id) else {
            return;
        };
        let Some(inf) = self.inflight.get_mut(&key) else {
            return;
        };
        inf.waiters.retain(|w| *w != id);
        if inf.waiters.is_empty() {
            if let Some(inf) = self.inflight.remove(&key) {
                self.by_name.remove(&inf.name);
                for idx in inf.socks {
                    self.close(idx, None);
                }
            }
        }
    }

    /// Answers dropped because their source, ID or question did not match (RFC 5452).
    #[cfg(test)]
    pub(crate) fn spoofed_dropped(&self) -> u64 {
        self.spoofed
    }

    /// After any input to lookup `key`: open sockets for its transmits, close those of
    /// retired queries, and deliver its result if it has one.
    fn after_input(&mut self, key: u64, now: Instant, registry: &Registry) {
        loop {
            let Some(inf) = self.inflight.get_mut(&key) else {
                return;
            };
            let Some(t) = inf.lookup.poll_transmit() else {
                break;
            };
            let tag = t.tag;
            match self.open(key, t, registry) {
                Ok(idx) => {
                    if let Some(inf) = self.inflight.get_mut(&key) {
                        inf.socks.push(idx);
                    }
                }
                Err(detail) => {
                    if let Some(inf) = self.inflight.get_mut(&key) {
                        inf.lookup.handle_transport_error(
                            tag,
                            DnsFailure::Setup,
                            &detail,
                            now,
                            &mut *self.ids,
                        );
                    }
                }
            }
        }
        let Some(inf) = self.inflight.get_mut(&key) else {
            return;
        };
        self.spoofed += inf.lookup.take_spoofed();
        let (live, dead): (Vec<usize>, Vec<usize>) = inf.socks.iter().partition(|&&idx| {
            self.socks.get(idx).and_then(Option::as_ref).is_some_and(|s| inf.lookup.is_live(s.tag))
        });
        inf.socks = live;
        let result = inf.lookup.poll_result();
        for idx in dead {
            self.close(idx, Some(registry));
        }
        let Some(result) = result else { return };
        let Some(inf) = self.inflight.remove(&key) else {
            return;
        };
        self.by_name.remove(&inf.name);
        for idx in inf.socks {
            self.close(idx, Some(registry));
        }
        let delivered = match result {
            Ok(resolved) => {
                self.cache.insert_positive(&inf.name, resolved.addrs.clone(), resolved.ttl, now);
                Ok(resolved.addrs)
            }
            Err(failure) => {
                if failure.cacheable {
                    self.cache.insert_negative(
                        &inf.name,
                        failure.kind,
                        failure.message.clone(),
                        failure.neg_ttl,
                        now,
                    );
                }
                Err(failure.to_error())
            }
        };
        for id in inf.waiters {
            self.waiter_key.remove(&id);
            self.results.push_back((id, delivered.clone()));
        }
    }

    /// Opens and registers the socket for one transmit; the error text names the server.
    fn open(&mut self, key: u64, t: Transmit, registry: &Registry) -> Result<usize, String> {
        let idx = self.free.pop().unwrap_or_else(|| {
            self.socks.push(None);
            self.socks.len() - 1
        });
        let token = Token(DNS_TOKEN_BASE + idx);
        let server = t.server;
        let opened = match t.transport {
            Transport::Udp => open_udp(server, &t.bytes, token, registry),
            Transport::Tcp => open_tcp(server, t.bytes, token, registry),
        };
        match opened {
            Ok(kind) => {
                self.socks[idx] = Some(Sock { key, tag: t.tag, server, kind });
                Ok(idx)
            }
            Err(e) => {
                self.free.push(idx);
                Err(format!("cannot query {server}: {e}"))
            }
        }
    }

    fn close(&mut self, idx: usize, registry: Option<&Registry>) {
        let Some(slot) = self.socks.get_mut(idx) else {
            return;
        };
        let Some(mut sock) = slot.take() else { return };
        if let Some(registry) = registry {
            // Closing the descriptor removes it from the poll set anyway; a failure here
            // changes nothing.
            let _ = match &mut sock.kind {
                SockKind::Udp(s) => registry.deregister(s),
                SockKind::Tcp { stream, .. } => registry.deregister(stream),
            };
        }
        self.free.push(idx);
    }
}

/// A fresh socket on an ephemeral port, connected to `server`, query sent (RFC 5452 §10).
fn open_udp(server: SocketAddr, bytes: &[u8], token: Token, registry: &Registry) -> io::Result<SockKind> {
    let local = match server {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    let mut socket = UdpSocket::bind(local)?;
    socket.connect(server)?;
    registry.register(&mut socket, token, Interest::READABLE)?;
    // A fresh socket's send buffer is empty: WouldBlock here would be an error like any.
    socket.send(bytes)?;
    Ok(SockKind::Udp(socket))
}

/// A non-blocking TCP connection; the framed query is written once it is writable.
fn open_tcp(server: SocketAddr, bytes: Vec<u8>, token: Token, registry: &Registry) -> io::Result<SockKind> {
    let mut stream = TcpStream::connect(server)?;
    registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
    Ok(SockKind::Tcp { stream, out: bytes, written: 0 })
}

/// Writes what is left of the query, then reads until `WouldBlock`, passing data on.
/// `Ok` while the connection may still deliver; `Err` when it failed or closed.
fn tcp_io(
    stream: &mut TcpStream,
    out: &[u8],
    written: &mut usize,
    buf: &mut [u8],
    mut on_data: impl FnMut(&[u8]),
) -> io::Result<()> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    while *written < out.len() {
        match stream.write(&out[*written..]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "connection closed")),
            Ok(n) => *written += n,
            // Still connecting (mio: a writable event will follow), or buffer full.
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected) => {
                return Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    loop {
        match stream.read(buf) {
            Ok(0) => {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a whole answer"))
            }
            Ok(n) => on_data(&buf[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected) => {
                return Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Integration tests: the resolver on its own `mio::Poll`, against scripted DNS servers
/// (std sockets in threads) on 127.0.0.1, port 0.
#[cfg(test)]
#[path = "resolver_tests.rs"]
mod tests;
