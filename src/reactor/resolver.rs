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
mod tests {
    use super::*;
    use crate::proto::dns::testutil::{question, response, Rr};
    use crate::proto::dns::wire::TYPE_A;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// What the scripted server does with one query.
    enum Reply {
        Answer {
            rcode: u8,
            tc: bool,
            answers: Vec<Rr>,
        },
        Silent,
        /// A copy with a wrong ID first, then the real answer (same source).
        SpoofedFirst(Vec<Rr>),
    }

    type Script = Arc<dyn Fn(&str, u16, bool) -> Reply + Send + Sync>;

    struct Server {
        addr: SocketAddr,
        udp_queries: Arc<AtomicUsize>,
        tcp_queries: Arc<AtomicUsize>,
        stop: Arc<AtomicBool>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    fn reply_bytes(query: &[u8], reply: &Reply) -> Vec<Vec<u8>> {
        match reply {
            Reply::Answer { rcode, tc, answers } => {
                vec![response(query, *rcode, *tc, answers, &[])]
            }
            Reply::Silent => Vec::new(),
            Reply::SpoofedFirst(answers) => {
                let good = response(query, 0, false, answers, &[]);
                let mut bad = good.clone();
                bad[0] ^= 0xa5;
                vec![bad, good]
            }
        }
    }

    fn server(script: impl Fn(&str, u16, bool) -> Reply + Send + Sync + 'static) -> Server {
        let script: Script = Arc::new(script);
        // UDP and TCP on the same port number, as a real server listens.
        let (udp, tcp) = loop {
            let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
            let port = udp.local_addr().expect("addr").port();
            if let Ok(tcp) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let udp_queries = Arc::new(AtomicUsize::new(0));
        let tcp_queries = Arc::new(AtomicUsize::new(0));
        udp.set_read_timeout(Some(Duration::from_millis(20))).expect("timeout");
        let (s, n, sc) = (stop.clone(), udp_queries.clone(), script.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !s.load(Ordering::SeqCst) {
                let Ok((len, from)) = udp.recv_from(&mut buf) else {
                    continue;
                };
                n.fetch_add(1, Ordering::SeqCst);
                let q = &buf[..len];
                let (name, qtype) = question(q);
                for r in reply_bytes(q, &sc(&name, qtype, false)) {
                    let _ = udp.send_to(&r, from);
                }
            }
        });
        tcp.set_nonblocking(true).expect("nonblocking");
        let (s, n) = (stop.clone(), tcp_queries.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Ok((mut conn, _)) = tcp.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let mut len = [0u8; 2];
                if conn.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if conn.read_exact(&mut q).is_err() {
                    continue;
                }
                n.fetch_add(1, Ordering::SeqCst);
                let (name, qtype) = question(&q);
                for r in reply_bytes(&q, &script(&name, qtype, true)) {
                    // Written in two pieces to exercise reassembly.
                    let mut framed = (r.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&r);
                    let (a, b) = framed.split_at(3);
                    let _ = conn.write_all(a);
                    let _ = conn.flush();
                    std::thread::sleep(Duration::from_millis(5));
                    let _ = conn.write_all(b);
                }
            }
        });
        Server { addr, udp_queries, tcp_queries, stop }
    }

    fn a(name: &'static str, ip: [u8; 4]) -> Rr {
        Rr::A(name, 60, Ipv4Addr::from(ip))
    }

    /// Answers every A query with 192.0.2.1 for any name, AAAA with nothing.
    fn answer_all(name: &str, qtype: u16, _tcp: bool) -> Reply {
        let owner: &'static str = Box::leak(name.to_string().into_boxed_str());
        let answers = if qtype == TYPE_A { vec![a(owner, [192, 0, 2, 1])] } else { Vec::new() };
        Reply::Answer { rcode: 0, tc: false, answers }
    }

    struct Env {
        poll: mio::Poll,
        resolver: Resolver,
        _dir: tempfile::TempDir,
    }

    fn env(servers: &[SocketAddr], resolv_conf: &str) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let rc = dir.path().join("resolv.conf");
        let hosts = dir.path().join("hosts");
        std::fs::write(&rc, resolv_conf).expect("write resolv.conf");
        std::fs::write(&hosts, "192.0.2.200 from-hosts\n").expect("write hosts");
        let cfg = DnsConfig {
            servers: servers.to_vec(),
            resolv_conf: Some(rc),
            hosts_file: Some(hosts),
            ..DnsConfig::default()
        };
        let resolver = Resolver::new(&cfg);
        assert!(resolver.warnings().is_empty(), "{:?}", resolver.warnings());
        Env { poll: mio::Poll::new().expect("poll"), resolver, _dir: dir }
    }

    impl Env {
        fn resolve(&mut self, host: &str) -> Resolve {
            self.resolver.resolve(host, Instant::now(), self.poll.registry())
        }

        /// Runs the loop the way the reactor will until every id has its result.
        fn run(&mut self, ids: &[LookupId]) -> HashMap<LookupId, Result<Vec<IpAddr>, Error>> {
            let mut results = HashMap::new();
            let mut events = mio::Events::with_capacity(1024);
            let give_up = Instant::now() + Duration::from_secs(20);
            while results.len() < ids.len() {
                let now = Instant::now();
                assert!(now < give_up, "lookups did not finish: {results:?}");
                let timeout = self.resolver.next_deadline().map(|d| d.saturating_duration_since(now));
                self.poll.poll(&mut events, timeout.or(Some(Duration::from_millis(100)))).expect("poll");
                let now = Instant::now();
                for ev in events.iter() {
                    assert!(Resolver::owns(ev.token()));
                    self.resolver.handle_event(ev.token(), now, self.poll.registry());
                }
                self.resolver.handle_timeout(now, self.poll.registry());
                while let Some((id, r)) = self.resolver.poll_result() {
                    assert!(ids.contains(&id), "unexpected id {id}");
                    assert!(results.insert(id, r).is_none(), "two results for {id}");
                }
            }
            results
        }

        fn one(&mut self, host: &str) -> Result<Vec<IpAddr>, Error> {
            match self.resolve(host) {
                Resolve::Ready(addrs) => Ok(addrs),
                Resolve::Failed(e) => Err(e),
                Resolve::Pending(id) => self.run(&[id]).remove(&id).expect("result"),
            }
        }
    }

    fn v4(ip: [u8; 4]) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(ip))
    }

    const FAST: &str = "options timeout:1 attempts:1\n";

    #[test]
    fn literals_localhost_and_hosts_never_touch_the_network() {
        let mut e = env(&["127.0.0.1:9".parse().expect("sa")], FAST);
        assert!(
            matches!(e.resolve("[2001:db8::1]"), Resolve::Ready(v) if v == vec!["2001:db8::1".parse::<IpAddr>().expect("ip")])
        );
        assert!(matches!(e.resolve("192.0.2.3"), Resolve::Ready(v) if v == vec![v4([192, 0, 2, 3])]));
        assert!(matches!(e.resolve("LocalHost"), Resolve::Ready(v) if v.len() == 2 && v[0].is_ipv6()));
        assert!(matches!(e.resolve("from-hosts"), Resolve::Ready(v) if v == vec![v4([192, 0, 2, 200])]));
        assert!(
            matches!(e.resolve("bad name"), Resolve::Failed(err) if err.kind() == ErrorKind::Dns(DnsFailure::Setup))
        );
        assert_eq!(e.resolver.next_deadline(), None);
    }

    #[test]
    fn search_domains_and_cname_chain() {
        let s = server(|name, qtype, _| match (name, qtype) {
            ("www.b.test", TYPE_A) => Reply::Answer {
                rcode: 0,
                tc: false,
                answers: vec![
                    Rr::Cname("www.b.test", 300, "edge.cdn.test"),
                    Rr::Cname("edge.cdn.test", 30, "e1.cdn.test"),
                    a("e1.cdn.test", [192, 0, 2, 7]),
                ],
            },
            ("www.b.test", _) => Reply::Answer { rcode: 0, tc: false, answers: vec![] },
            _ => Reply::Answer { rcode: 3, tc: false, answers: vec![] },
        });
        let mut e = env(&[s.addr], "search a.test b.test\noptions ndots:1 timeout:1 attempts:1\n");
        assert_eq!(e.one("www").expect("resolved"), vec![v4([192, 0, 2, 7])]);
        // www.a.test (A + AAAA), then www.b.test (A + AAAA).
        assert_eq!(s.udp_queries.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn nxdomain_and_servfail_are_distinct() {
        let s = server(|name, _, _| {
            let rcode = if name.starts_with("nx") { 3 } else { 2 };
            Reply::Answer { rcode, tc: false, answers: vec![] }
        });
        let mut e = env(&[s.addr], FAST);
        let nx = e.one("nx.test").expect_err("nx");
        assert_eq!(nx.kind(), ErrorKind::Dns(DnsFailure::NxDomain));
        assert_eq!(nx.message(), format!("nx.test: NXDOMAIN from {}", s.addr));
        let sf = e.one("sf.test").expect_err("servfail");
        assert_eq!(sf.kind(), ErrorKind::Dns(DnsFailure::ServFail));
        assert_eq!(sf.message(), format!("sf.test: SERVFAIL from {}", s.addr));
        // The NXDOMAIN is cached; the SERVFAIL is not.
        let before = s.udp_queries.load(Ordering::SeqCst);
        assert!(
            matches!(e.resolve("nx.test"), Resolve::Failed(err) if err.kind() == ErrorKind::Dns(DnsFailure::NxDomain))
        );
        assert_eq!(s.udp_queries.load(Ordering::SeqCst), before);
        assert!(matches!(e.resolve("sf.test"), Resolve::Pending(_)));
    }

    #[test]
    fn first_server_silent_second_answers() {
        let silent = server(|_, _, _| Reply::Silent);
        let good = server(answer_all);
        let mut e = env(&[silent.addr, good.addr], FAST);
        let t0 = Instant::now();
        assert_eq!(e.one("slow.test").expect("resolved"), vec![v4([192, 0, 2, 1])]);
        assert!(t0.elapsed() >= Duration::from_secs(1));
        assert_eq!(silent.udp_queries.load(Ordering::SeqCst), 2);
        assert_eq!(good.udp_queries.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn all_silent_times_out_naming_servers() {
        let silent = server(|_, _, _| Reply::Silent);
        let mut e = env(&[silent.addr], FAST);
        let err = e.one("gone.test").expect_err("timeout");
        assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::Timeout));
        assert!(err.message().contains(&silent.addr.to_string()), "{}", err.message());
    }

    #[test]
    fn closed_port_fails_fast_without_waiting_for_the_timeout() {
        // Nothing listens there: the kernel reports ICMP port unreachable on the
        // connected socket, which ends that try at once.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
        let mut e = env(&[closed], "options timeout:5 attempts:2\n");
        let t0 = Instant::now();
        let err = e.one("x.test").expect_err("no server");
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        assert!(err.message().contains(&closed.to_string()), "{}", err.message());
    }

    #[test]
    fn truncated_answer_is_fetched_over_tcp() {
        let s = server(|name, qtype, tcp| {
            let owner: &'static str = Box::leak(name.to_string().into_boxed_str());
            let answers = if qtype == TYPE_A {
                vec![a(owner, [192, 0, 2, 4]), a(owner, [192, 0, 2, 5])]
            } else {
                vec![]
            };
            if tcp {
                Reply::Answer { rcode: 0, tc: false, answers }
            } else {
                Reply::Answer { rcode: 0, tc: true, answers: vec![] }
            }
        });
        let mut e = env(&[s.addr], FAST);
        assert_eq!(e.one("big.test").expect("resolved"), vec![v4([192, 0, 2, 4]), v4([192, 0, 2, 5])]);
        assert_eq!(s.tcp_queries.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn spoofed_answer_is_ignored_and_counted() {
        let s = server(|name, qtype, _| {
            let owner: &'static str = Box::leak(name.to_string().into_boxed_str());
            Reply::SpoofedFirst(if qtype == TYPE_A { vec![a(owner, [192, 0, 2, 8])] } else { vec![] })
        });
        let mut e = env(&[s.addr], FAST);
        assert_eq!(e.one("spoof.test").expect("resolved"), vec![v4([192, 0, 2, 8])]);
        assert!(e.resolver.spoofed_dropped() >= 1, "{}", e.resolver.spoofed_dropped());
    }

    #[test]
    fn shared_lookup_and_cache_hit() {
        let s = server(answer_all);
        let mut e = env(&[s.addr], FAST);
        let (Resolve::Pending(x), Resolve::Pending(y)) = (e.resolve("same.test"), e.resolve("SAME.test"))
        else {
            panic!("expected two pending lookups")
        };
        assert_ne!(x, y);
        let results = e.run(&[x, y]);
        assert!(results.values().all(|r| r.as_ref().is_ok_and(|v| v == &vec![v4([192, 0, 2, 1])])));
        assert_eq!(s.udp_queries.load(Ordering::SeqCst), 2, "one A and one AAAA for both callers");
        assert!(matches!(e.resolve("same.test"), Resolve::Ready(v) if v == vec![v4([192, 0, 2, 1])]));
        assert_eq!(s.udp_queries.load(Ordering::SeqCst), 2, "answered from the cache");
    }

    #[test]
    fn cancel_stops_the_lookup() {
        let silent = server(|_, _, _| Reply::Silent);
        let mut e = env(&[silent.addr], FAST);
        let Resolve::Pending(id) = e.resolve("x.test") else { panic!("pending") };
        assert!(e.resolver.next_deadline().is_some());
        e.resolver.cancel(id);
        assert_eq!(e.resolver.next_deadline(), None);
        assert!(e.resolver.poll_result().is_none());
        assert!(e.resolver.socks.iter().all(Option::is_none));
    }

    #[test]
    fn two_hundred_concurrent_lookups_on_one_thread() {
        let s = server(answer_all);
        let mut e = env(&[s.addr], FAST);
        let ids: Vec<LookupId> = (0..200)
            .map(|i| match e.resolve(&format!("host{i}.test")) {
                Resolve::Pending(id) => id,
                other => panic!("expected pending, got {other:?}"),
            })
            .collect();
        let results = e.run(&ids);
        assert_eq!(results.len(), 200);
        assert!(
            results.values().all(|r| r.as_ref().is_ok_and(|v| v == &vec![v4([192, 0, 2, 1])])),
            "{results:?}"
        );
        assert_eq!(s.udp_queries.load(Ordering::SeqCst), 400);
        assert!(e.resolver.socks.iter().all(Option::is_none), "every socket closed");
    }
}
