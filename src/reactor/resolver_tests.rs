//! Resolver integration tests: scripted UDP/TCP DNS servers on loopback, driven by
//! a small mio loop of the test's own.
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
        let answers =
            if qtype == TYPE_A { vec![a(owner, [192, 0, 2, 4]), a(owner, [192, 0, 2, 5])] } else { vec![] };
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
    let (Resolve::Pending(x), Resolve::Pending(y)) = (e.resolve("same.test"), e.resolve("SAME.test")) else {
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
