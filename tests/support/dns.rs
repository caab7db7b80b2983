//! Loopback peers for the end-to-end DNS tests: a scripted DNS server (UDP and TCP on
//! one port of 127.0.0.1, one thread per protocol, never a thread per query), a tiny
//! HTTP/1.1 server, temp resolv.conf/hosts files and a fetch helper over the public API.
//!
//! Every thread here ends by itself: sockets wait with short timeouts and check a stop
//! flag that `Drop` sets before joining.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use volley::{BodyTarget, Client, Config, DnsConfig, Error, Event, Request, Stats};

pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_AAAA: u16 = 28;
pub const RCODE_SERVFAIL: u8 = 2;
pub const RCODE_NXDOMAIN: u8 = 3;
pub const RCODE_REFUSED: u8 = 5;

/// One question as the server saw it.
#[derive(Debug, Clone)]
pub struct Query {
    /// Lower-case, without the trailing dot.
    pub name: String,
    pub qtype: u16,
    pub tcp: bool,
}

/// A resource record in an answer (TTL 300).
#[derive(Debug, Clone)]
pub enum Rr {
    A(String, Ipv4Addr),
    Aaaa(String, Ipv6Addr),
    Cname(String, String),
}

/// What the server does with one query.
#[derive(Debug, Clone)]
pub enum Reply {
    Answer {
        rcode: u8,
        tc: bool,
        answers: Vec<Rr>,
    },
    /// Say nothing (the client must time out).
    Silent,
    /// First a copy with a wrong ID, then the real answer, from the same socket.
    SpoofFirst(Vec<Rr>),
    /// The right ID and question, then an answer record cut off after three bytes.
    Malformed,
}

impl Reply {
    /// NOERROR with these records.
    pub fn records(answers: Vec<Rr>) -> Reply {
        Reply::Answer { rcode: 0, tc: false, answers }
    }

    /// An error rcode with no records.
    pub fn rcode(rcode: u8) -> Reply {
        Reply::Answer { rcode, tc: false, answers: Vec::new() }
    }

    /// The addresses among `ips` that match the query's type, owned by the query name
    /// (NOERROR/NODATA when none match).
    pub fn addrs(q: &Query, ips: &[IpAddr]) -> Reply {
        Reply::records(family_records(&q.name, q.qtype, ips))
    }
}

/// The records of `ips` that answer `qtype` for `owner`.
pub fn family_records(owner: &str, qtype: u16, ips: &[IpAddr]) -> Vec<Rr> {
    ips.iter()
        .filter_map(|ip| match (ip, qtype) {
            (IpAddr::V4(v4), TYPE_A) => Some(Rr::A(owner.to_string(), *v4)),
            (IpAddr::V6(v6), TYPE_AAAA) => Some(Rr::Aaaa(owner.to_string(), *v6)),
            _ => None,
        })
        .collect()
}

type Script = Arc<dyn Fn(&Query) -> Reply + Send + Sync>;

/// A scripted DNS server on 127.0.0.1 (UDP and TCP on the same port).
pub struct DnsServer {
    pub addr: SocketAddr,
    counts: Arc<Mutex<HashMap<(String, u16), usize>>>,
    udp: Arc<AtomicUsize>,
    tcp: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl DnsServer {
    /// Starts a server that answers every query with `script`.
    pub fn start(script: impl Fn(&Query) -> Reply + Send + Sync + 'static) -> DnsServer {
        DnsServer::start_at(IpAddr::V4(Ipv4Addr::LOCALHOST), script)
    }

    /// Starts a server on `ip` (a loopback address: 127.0.0.1 or ::1).
    pub fn start_at(ip: IpAddr, script: impl Fn(&Query) -> Reply + Send + Sync + 'static) -> DnsServer {
        assert!(ip.is_loopback());
        let script: Script = Arc::new(script);
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind((ip, 0)).expect("bind udp");
            let port = udp.local_addr().expect("udp addr").port();
            if let Ok(tcp) = TcpListener::bind((ip, port)) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().expect("udp addr");
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let (udp_n, tcp_n) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        udp.set_read_timeout(Some(Duration::from_millis(20))).expect("udp timeout");
        let udp_thread = {
            let (stop, counts, n, script) = (stop.clone(), counts.clone(), udp_n.clone(), script.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((len, from)) = udp.recv_from(&mut buf) else {
                        continue;
                    };
                    let Some(q) = parse_query(&buf[..len], false) else {
                        continue;
                    };
                    n.fetch_add(1, Ordering::SeqCst);
                    count(&counts, &q);
                    for r in reply_bytes(&buf[..len], &script(&q)) {
                        let _ = udp.send_to(&r, from);
                    }
                }
            })
        };
        tcp.set_nonblocking(true).expect("tcp nonblocking");
        let tcp_thread = {
            let (stop, counts, n) = (stop.clone(), counts.clone(), tcp_n.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match tcp.accept() {
                        Ok((conn, _)) => serve_tcp(conn, &script, &counts, &n, &stop),
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        DnsServer { addr, counts, udp: udp_n, tcp: tcp_n, stop, threads: vec![udp_thread, tcp_thread] }
    }

    /// Answers names in `zone` with their addresses (by family), NXDOMAIN otherwise.
    pub fn zone(zone: &[(&str, &[IpAddr])]) -> DnsServer {
        let map: HashMap<String, Vec<IpAddr>> =
            zone.iter().map(|(n, ips)| (n.to_ascii_lowercase(), ips.to_vec())).collect();
        DnsServer::start(move |q| match map.get(&q.name) {
            Some(ips) => Reply::addrs(q, ips),
            None => Reply::rcode(RCODE_NXDOMAIN),
        })
    }

    /// Queries received for `name` (any type, both transports).
    pub fn queries(&self, name: &str) -> usize {
        let counts = self.counts.lock().expect("counts");
        counts.iter().filter(|((n, _), _)| n == name).map(|(_, c)| c).sum()
    }

    /// Queries received for `name` of `qtype` (both transports).
    pub fn queries_of(&self, name: &str, qtype: u16) -> usize {
        let counts = self.counts.lock().expect("counts");
        counts.get(&(name.to_string(), qtype)).copied().unwrap_or(0)
    }

    pub fn udp_queries(&self) -> usize {
        self.udp.load(Ordering::SeqCst)
    }

    pub fn tcp_queries(&self) -> usize {
        self.tcp.load(Ordering::SeqCst)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn count(counts: &Mutex<HashMap<(String, u16), usize>>, q: &Query) {
    let mut counts = counts.lock().expect("counts");
    *counts.entry((q.name.clone(), q.qtype)).or_default() += 1;
}

/// Serves length-prefixed queries on one connection until EOF (or 1 s of silence).
fn serve_tcp(
    mut conn: TcpStream,
    script: &Script,
    counts: &Mutex<HashMap<(String, u16), usize>>,
    n: &AtomicUsize,
    stop: &AtomicBool,
) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    while !stop.load(Ordering::SeqCst) {
        let mut len = [0u8; 2];
        if conn.read_exact(&mut len).is_err() {
            return;
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if conn.read_exact(&mut msg).is_err() {
            return;
        }
        let Some(q) = parse_query(&msg, true) else {
            return;
        };
        n.fetch_add(1, Ordering::SeqCst);
        count(counts, &q);
        for r in reply_bytes(&msg, &script(&q)) {
            let mut framed = (r.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&r);
            // Two writes, so the client must reassemble the length-prefixed message.
            let (a, b) = framed.split_at(3);
            let _ = conn.write_all(a);
            let _ = conn.flush();
            std::thread::sleep(Duration::from_millis(2));
            let _ = conn.write_all(b);
        }
    }
}

/// The question of a query: name, type, and where the question ends.
fn question(msg: &[u8]) -> Option<(String, u16, usize)> {
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*msg.get(i)?);
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(msg.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?]);
    Some((labels.join("."), qtype, i + 4))
}

fn parse_query(msg: &[u8], tcp: bool) -> Option<Query> {
    let (name, qtype, _) = question(msg)?;
    Some(Query { name, qtype, tcp })
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// A response to `query`: same ID and question, QR/AA/RA set, RD echoed.
pub fn response(query: &[u8], rcode: u8, tc: bool, answers: &[Rr]) -> Vec<u8> {
    let (_, _, qend) = question(query).expect("scripted server got a bad question");
    let rd = query[2] & 0x01;
    let mut out =
        vec![query[0], query[1], 0x80 | 0x04 | rd | if tc { 0x02 } else { 0 }, 0x80 | (rcode & 0x0f), 0, 1];
    out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&query[12..qend]);
    for rr in answers {
        let (owner, rtype, rdata) = match rr {
            Rr::A(n, ip) => (n, TYPE_A, ip.octets().to_vec()),
            Rr::Aaaa(n, ip) => (n, TYPE_AAAA, ip.octets().to_vec()),
            Rr::Cname(n, target) => {
                let mut d = Vec::new();
                put_name(&mut d, target);
                (n, TYPE_CNAME, d)
            }
        };
        put_name(&mut out, owner);
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&300u32.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    out
}

fn reply_bytes(query: &[u8], reply: &Reply) -> Vec<Vec<u8>> {
    match reply {
        Reply::Answer { rcode, tc, answers } => vec![response(query, *rcode, *tc, answers)],
        Reply::Silent => Vec::new(),
        Reply::Malformed => {
            let mut r = response(query, 0, false, &[]);
            r[7] = 1; // ANCOUNT 1
            r.extend_from_slice(&[0xc0, 0x0c, 0x00]);
            vec![r]
        }
        Reply::SpoofFirst(answers) => {
            let good = response(query, 0, false, answers);
            let mut bad = good.clone();
            bad[0] ^= 0x5a;
            // The spoof points somewhere else entirely, so using it would fail the fetch.
            let spoof: Vec<Rr> = answers
                .iter()
                .map(|rr| match rr {
                    Rr::A(n, _) => Rr::A(n.clone(), Ipv4Addr::new(127, 0, 0, 9)),
                    other => other.clone(),
                })
                .collect();
            let mut forged = response(query, 0, false, &spoof);
            forged[0] = bad[0];
            forged[1] = bad[1];
            vec![forged, good]
        }
    }
}

/// The body every [`HttpServer`] response carries.
pub const BODY: &[u8] = b"hello from the loopback\n";

/// A one-thread HTTP/1.1 server on 127.0.0.1: every request gets `200` with [`BODY`] and
/// `Connection: close`. It records each request's `Host` header.
pub struct HttpServer {
    pub port: u16,
    hosts: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start() -> HttpServer {
        HttpServer::on(TcpListener::bind("127.0.0.1:0").expect("bind http"))
    }

    /// Serves on an already bound listener.
    pub fn on(listener: TcpListener) -> HttpServer {
        let port = listener.local_addr().expect("http addr").port();
        listener.set_nonblocking(true).expect("http nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let hosts = Arc::new(Mutex::new(Vec::new()));
        let (s, h) = (stop.clone(), hosts.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => serve_http(conn, &h),
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
        });
        HttpServer { port, hosts, stop, thread: Some(thread) }
    }

    /// The `Host` header of every request served, in order.
    pub fn hosts(&self) -> Vec<String> {
        self.hosts.lock().expect("hosts").clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_http(mut conn: TcpStream, hosts: &Mutex<Vec<String>>) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let host = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("host").then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    hosts.lock().expect("hosts").push(host);
    let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", BODY.len());
    let _ = conn.write_all(reply.as_bytes());
    let _ = conn.write_all(BODY);
}

/// Temp resolv.conf and hosts files; the DNS part of a [`Config`] that never falls back
/// to the system's files or name servers.
pub struct DnsFiles {
    pub dir: tempfile::TempDir,
    pub resolv_conf: PathBuf,
    pub hosts: PathBuf,
}

impl DnsFiles {
    pub fn new(resolv_conf: &str, hosts: &str) -> DnsFiles {
        let dir = tempfile::tempdir().expect("tempdir");
        let rc = dir.path().join("resolv.conf");
        let h = dir.path().join("hosts");
        std::fs::write(&rc, resolv_conf).expect("write resolv.conf");
        std::fs::write(&h, hosts).expect("write hosts");
        DnsFiles { dir, resolv_conf: rc, hosts: h }
    }

    /// A config that asks only `servers` and reads only these files.
    pub fn config(&self, servers: &[SocketAddr]) -> Config {
        assert!(servers.iter().all(|s| s.ip().is_loopback()), "tests talk to loopback servers only");
        Config {
            dns: DnsConfig {
                servers: servers.to_vec(),
                resolv_conf: Some(self.resolv_conf.clone()),
                hosts_file: Some(self.hosts.clone()),
                ..DnsConfig::default()
            },
            connect_timeout: Duration::from_secs(5),
            ..Config::default()
        }
    }
}

/// A resolv.conf naming only a loopback address that nobody serves DNS on, so that even
/// an ignored `Config.dns.servers` could not leak a query off the machine.
pub const RESOLV_CONF: &str = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";

/// One request's outcome: stats and collected body, or the error.
pub type Fetched = Result<(Stats, Vec<u8>), Error>;

/// Fetches every URL concurrently; results in the order given.
pub fn fetch_all(config: Config, urls: &[String]) -> Vec<Fetched> {
    let mut client = Client::new(config).expect("client");
    assert!(client.warnings().is_empty(), "{:?}", client.warnings());
    let mut index = HashMap::new();
    for (i, u) in urls.iter().enumerate() {
        let req = Request::get(u).expect("url").target(BodyTarget::Collect);
        index.insert(client.submit(req).expect("submit"), i);
    }
    let mut out: Vec<Option<Fetched>> = vec![None; urls.len()];
    client
        .run(|_, ev| match ev {
            Event::Done { id, stats, body } => {
                out[index[&id]] = Some(Ok((stats, body.unwrap_or_default())));
            }
            Event::Failed { id, error, .. } => out[index[&id]] = Some(Err(error)),
            _ => {}
        })
        .expect("run");
    out.into_iter().map(|r| r.expect("every request ends with Done or Failed")).collect()
}

/// Fetches one URL.
pub fn fetch(config: Config, url: &str) -> Fetched {
    fetch_all(config, &[url.to_string()]).pop().expect("one result")
}
