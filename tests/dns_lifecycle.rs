//! A lookup's life around the request that asked for it: bounded by the request's total
//! timeout, stopped when its only request is cancelled or the client dropped, shared by
//! two origins of one name, free on a cache hit, and sent to an IPv6 name server.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};
use support::dns::*;
use volley::{BodyTarget, Client, ErrorKind, Event, Phase, Request};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn get(url: &str) -> Request {
    Request::get(url).expect("url").target(BodyTarget::Collect)
}

/// Turns `client` for `dur` whether or not anything is in flight.
fn turn_for(client: &mut Client, dur: Duration) {
    let until = Instant::now() + dur;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        client.turn(Some(left), |_, _| {}).expect("turn");
    }
}

#[test]
fn total_timeout_bounds_a_silent_lookup() {
    let dns = DnsServer::start(|_| Reply::Silent);
    let files = DnsFiles::new("nameserver 127.0.0.1\noptions timeout:5 attempts:2\n", "");
    let mut config = files.config(&[dns.addr]);
    config.total_timeout = Some(Duration::from_millis(300));
    let started = Instant::now();
    let err = fetch(config, "http://never.test:9/").expect_err("timeout");
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Total), "{err}");
    assert!(took >= Duration::from_millis(250), "took {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn cancelling_the_only_request_stops_the_lookup() {
    let dns = DnsServer::start(|_| Reply::Silent);
    let files = DnsFiles::new("nameserver 127.0.0.1\noptions timeout:1 attempts:3\n", "");
    let mut client = Client::new(files.config(&[dns.addr])).expect("client");
    let id = client.submit(get("http://stop.test:9/")).expect("submit");
    client.turn(Some(Duration::ZERO), |_, _| {}).expect("turn");
    client.cancel(id);
    // Turned by hand, not with `run` (see `run_returns_after_cancelling_the_last_request`).
    let mut cancelled = false;
    let until = Instant::now() + Duration::from_secs(2);
    while !cancelled && Instant::now() < until {
        client
            .turn(Some(Duration::from_millis(20)), |_, ev| {
                if let Event::Failed { error, .. } = ev {
                    assert_eq!(error.kind(), ErrorKind::Cancelled, "{error}");
                    cancelled = true;
                }
            })
            .expect("turn");
    }
    assert!(cancelled);
    assert!(client.is_idle());
    // The server thread may count the second datagram a moment after it was sent.
    let deadline = Instant::now() + Duration::from_secs(1);
    while dns.queries("stop.test") < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let asked = dns.queries("stop.test");
    assert_eq!(asked, 2, "one query per family before the cancel");
    // With timeout:1 attempts:3 a live lookup would ask again after one second.
    turn_for(&mut client, Duration::from_millis(1300));
    assert_eq!(dns.queries("stop.test"), asked, "no retry after the cancel");
}

#[test]
fn run_returns_after_cancelling_the_last_request() {
    // The client lives on its own thread so a hang fails the test instead of stalling it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let dns = DnsServer::start(|_| Reply::Silent);
        let files = DnsFiles::new(RESOLV_CONF, "");
        let mut client = Client::new(files.config(&[dns.addr])).expect("client");
        let id = client.submit(get("http://stop.test:9/")).expect("submit");
        client.turn(Some(Duration::ZERO), |_, _| {}).expect("turn");
        client.cancel(id);
        let mut kind = None;
        client
            .run(|_, ev| {
                if let Event::Failed { error, .. } = ev {
                    kind = Some(error.kind());
                }
            })
            .expect("run");
        let _ = tx.send(kind);
    });
    let kind = rx.recv_timeout(Duration::from_secs(5)).expect("run() returned within 5 s");
    assert_eq!(kind, Some(ErrorKind::Cancelled));
}

#[test]
fn dropping_the_client_mid_lookup_stops_it() {
    let dns = DnsServer::start(|_| Reply::Silent);
    let files = DnsFiles::new("nameserver 127.0.0.1\noptions timeout:1 attempts:3\n", "");
    let mut client = Client::new(files.config(&[dns.addr])).expect("client");
    for i in 0..20 {
        client.submit(get(&format!("http://d{i}.test:9/"))).expect("submit");
    }
    client.turn(Some(Duration::ZERO), |_, _| {}).expect("turn");
    drop(client);
    std::thread::sleep(Duration::from_millis(100));
    let asked = dns.udp_queries();
    assert!(asked >= 2, "lookups had started: {asked}");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(dns.udp_queries(), asked, "nothing asked after the drop");
}

#[test]
fn two_ports_of_one_name_share_the_lookup() {
    let dns = DnsServer::zone(&[("ports.test", &[V4])]);
    let (h1, h2) = (HttpServer::start(), HttpServer::start());
    let files = DnsFiles::new(RESOLV_CONF, "");
    let urls = [format!("http://ports.test:{}/", h1.port), format!("http://ports.test:{}/", h2.port)];
    for r in fetch_all(files.config(&[dns.addr]), &urls) {
        assert_eq!(r.expect("fetch").1, BODY);
    }
    assert_eq!(dns.queries_of("ports.test", TYPE_A), 1);
    assert_eq!(dns.queries_of("ports.test", TYPE_AAAA), 1);
}

#[test]
fn cache_hit_reports_no_dns_time() {
    let dns = DnsServer::start(|q| {
        std::thread::sleep(Duration::from_millis(50));
        Reply::addrs(q, &[V4])
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut client = Client::new(files.config(&[dns.addr])).expect("client");
    let url = format!("http://warm.test:{}/", http.port);
    let mut dns_times = Vec::new();
    for _ in 0..2 {
        client.submit(get(&url)).expect("submit");
        client
            .run(|_, ev| match ev {
                Event::Done { stats, .. } => dns_times.push(stats.dns),
                Event::Failed { error, .. } => panic!("{error}"),
                _ => {}
            })
            .expect("run");
    }
    assert!(dns_times[0] >= Duration::from_millis(40), "{dns_times:?}");
    assert!(dns_times[1] < Duration::from_millis(5), "{dns_times:?}");
}

#[test]
fn ipv6_name_server() {
    let dns = DnsServer::start_at(IpAddr::V6(Ipv6Addr::LOCALHOST), |q| {
        if q.name == "via6.test" {
            Reply::addrs(q, &[V4])
        } else {
            Reply::rcode(RCODE_NXDOMAIN)
        }
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) =
        fetch(files.config(&[dns.addr]), &format!("http://via6.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(dns.queries_of("via6.test", TYPE_A), 1);
}

#[test]
fn ipv6_name_server_over_tcp() {
    let dns = DnsServer::start_at(IpAddr::V6(Ipv6Addr::LOCALHOST), |q| {
        if q.tcp {
            Reply::addrs(q, &[V4])
        } else {
            Reply::Answer { rcode: 0, tc: true, answers: Vec::new() }
        }
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) =
        fetch(files.config(&[dns.addr]), &format!("http://tcp6.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert!(dns.tcp_queries() >= 1);
}
