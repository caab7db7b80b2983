//! Happy Eyeballs (RFC 8305) end to end: a name with an IPv6 and an IPv4 address, where
//! the IPv6 one never answers, refuses, or every address fails.
//!
//! An IPv6 address "that never answers" without root, firewall rules or namespaces: a
//! listener on `[::1]` whose accept queue is full. Linux drops a SYN that arrives at a
//! listener with a full accept queue (`tcp_conn_request`: `sk_acceptq_is_full` → drop),
//! so the client's SYN gets no reply at all, exactly like a blackholed route, while the
//! packets never leave loopback. The queue is filled by connecting (and never accepting)
//! until a connect times out; std listens with a backlog of up to `somaxconn`, so this can
//! take a few thousand sockets. If the queue cannot be filled, the test says SKIPPED.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};
use support::dns::*;
use volley::{ErrorKind, Phase};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// A `[::1]` port where SYNs go unanswered, held for as long as this lives.
struct Blackhole {
    listener: TcpListener,
    _filler: Vec<TcpStream>,
}

impl Blackhole {
    fn port(&self) -> u16 {
        self.listener.local_addr().expect("addr").port()
    }
}

/// Fills the accept queue of `listener` until a SYN goes unanswered.
fn blackhole(listener: TcpListener) -> Option<Blackhole> {
    let addr = listener.local_addr().expect("addr");
    let mut filler = Vec::new();
    for _ in 0..20_000 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => filler.push(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                // A slow machine could time out a connect that would have worked: only a
                // second, longer silence counts.
                match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                    Ok(s) => filler.push(s),
                    Err(_) => {
                        eprintln!("accept queue of {addr} full after {} connections", filler.len());
                        return Some(Blackhole { listener, _filler: filler });
                    }
                }
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot fill the accept queue: {e}");
                return None;
            }
        }
    }
    eprintln!("SKIPPED: accept queue never filled");
    None
}

/// A blackholed `[::1]:P` and a working HTTP server on `127.0.0.1:P` (same port, so
/// one URL reaches both addresses).
fn blackhole_and_http() -> Option<(Blackhole, HttpServer)> {
    for _ in 0..20 {
        let v6 = match TcpListener::bind("[::1]:0") {
            Ok(l) => l,
            Err(e) => {
                eprintln!("SKIPPED: no IPv6 loopback: {e}");
                return None;
            }
        };
        let port = v6.local_addr().expect("addr").port();
        if let Ok(v4) = TcpListener::bind(("127.0.0.1", port)) {
            let hole = blackhole(v6)?;
            return Some((hole, HttpServer::on(v4)));
        }
    }
    panic!("no port free on both ::1 and 127.0.0.1");
}

/// A port with nothing listening on either `[::1]` or `127.0.0.1` (bound, then freed).
fn dead_port() -> u16 {
    loop {
        let v4 = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = v4.local_addr().expect("addr").port();
        if TcpListener::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

fn dual_zone(name: &'static str) -> DnsServer {
    DnsServer::start(
        move |q| {
            if q.name == name {
                Reply::addrs(q, &[V6, V4])
            } else {
                Reply::rcode(RCODE_NXDOMAIN)
            }
        },
    )
}

#[test]
fn silent_ipv6_falls_back_to_ipv4_after_the_attempt_delay() {
    let Some((hole, http)) = blackhole_and_http() else {
        return;
    };
    // The name comes from DNS (AAAA and A), so the RFC 8305 ordering is the library's.
    let dns = dual_zone("dual.test");
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut config = files.config(&[dns.addr]);
    config.connection_attempt_delay = Duration::from_millis(200);
    config.connect_timeout = Duration::from_secs(5);
    let started = Instant::now();
    let (stats, body) = fetch(config, &format!("http://dual.test:{}/", hole.port())).expect("fetch");
    let took = started.elapsed();
    assert_eq!(body, BODY);
    assert_eq!(http.hosts().len(), 1);
    // IPv6 first; IPv4 only once the 200 ms attempt delay has passed.
    assert!(stats.connect >= Duration::from_millis(150), "{stats:?}");
    // Well before the IPv6 attempt's connect timeout, or its SYN retransmit at 1 s.
    assert!(stats.connect < Duration::from_millis(900), "{stats:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn silent_ipv6_from_hosts_file_falls_back_too() {
    let Some((hole, http)) = blackhole_and_http() else {
        return;
    };
    // IPv4 listed first: the library still tries IPv6 first (RFC 6724 puts ::1 on top).
    let files = DnsFiles::new(RESOLV_CONF, "127.0.0.1 dual.test\n::1 dual.test\n");
    let mut config = files.config(&[]);
    config.connection_attempt_delay = Duration::from_millis(200);
    let (stats, body) = fetch(config, &format!("http://dual.test:{}/", hole.port())).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(http.hosts().len(), 1);
    assert!(stats.connect >= Duration::from_millis(150), "{stats:?}");
    assert!(stats.connect < Duration::from_millis(900), "{stats:?}");
}

#[test]
fn refused_ipv6_moves_on_without_waiting_for_the_delay() {
    // IPv4 serves on P; nothing at all listens on [::1]:P, so that attempt is refused.
    let http = loop {
        let http = HttpServer::start();
        if TcpListener::bind(("::1", http.port)).is_ok() {
            break http;
        }
    };
    let files = DnsFiles::new(RESOLV_CONF, "::1 dual.test\n127.0.0.1 dual.test\n");
    let mut config = files.config(&[]);
    // A delay so long that waiting it out would show.
    config.connection_attempt_delay = Duration::from_secs(2);
    let (stats, body) = fetch(config, &format!("http://dual.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert!(stats.connect < Duration::from_millis(500), "{stats:?}");
}

#[test]
fn every_address_failing_names_each_error() {
    let port = dead_port();
    let files = DnsFiles::new(RESOLV_CONF, "::1 dead.test\n127.0.0.1 dead.test\n");
    let started = Instant::now();
    let err = fetch(files.config(&[]), &format!("http://dead.test:{port}/")).expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    let msg = err.message();
    assert!(msg.contains(&format!("[::1]:{port}")), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.to_ascii_lowercase().contains("refused"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn only_a_silent_address_is_a_connect_timeout() {
    let Some((hole, _http)) = blackhole_and_http() else {
        return;
    };
    let files = DnsFiles::new(RESOLV_CONF, "::1 v6only.test\n");
    let mut config = files.config(&[]);
    config.connect_timeout = Duration::from_secs(1);
    let started = Instant::now();
    let err = fetch(config, &format!("http://v6only.test:{}/", hole.port())).expect_err("blackholed");
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Connect), "{err}");
    assert!(took >= Duration::from_millis(900), "took {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}
