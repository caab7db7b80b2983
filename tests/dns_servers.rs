//! Which server is asked when, end to end (resolv.conf(5) as glibc reads it): SERVFAIL,
//! REFUSED, malformed answers and silence move on to the next server; NXDOMAIN is final
//! for that name; `attempts` repeats the round; `rotate` spreads lookups; the search list
//! falls through NXDOMAIN. Also answers larger than 512 bytes over UDP and TCP.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::dns::*;
use volley::{DnsFailure, ErrorKind};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A first server answering every query with `reply`, a second that knows `name`;
/// fetches `name` and returns both servers' query counts for it.
fn first_then_second(name: &str, reply: Reply) -> (usize, usize) {
    let first = DnsServer::start(move |_| reply.clone());
    let second = DnsServer::zone(&[(name, &[V4])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) = fetch(files.config(&[first.addr, second.addr]), &format!("http://{name}:{}/", http.port))
        .expect("fetch");
    assert_eq!(body, BODY);
    (first.queries(name), second.queries(name))
}

#[test]
fn servfail_moves_to_the_next_server() {
    let (first, second) = first_then_second("sf.test", Reply::rcode(RCODE_SERVFAIL));
    assert!(first >= 1 && second >= 1, "{first} {second}");
}

#[test]
fn refused_moves_to_the_next_server() {
    let (first, second) = first_then_second("rf.test", Reply::rcode(RCODE_REFUSED));
    assert!(first >= 1 && second >= 1, "{first} {second}");
}

#[test]
fn malformed_answer_moves_to_the_next_server() {
    let started = Instant::now();
    let (first, second) = first_then_second("mf.test", Reply::Malformed);
    assert!(first >= 1 && second >= 1, "{first} {second}");
    assert!(started.elapsed() < Duration::from_millis(900), "no timeout waited");
}

#[test]
fn nxdomain_is_final_and_the_next_server_is_not_asked() {
    let first = DnsServer::zone(&[]);
    let second = DnsServer::zone(&[("nx.test", &[V4])]);
    let files = DnsFiles::new(RESOLV_CONF, "");
    let err = fetch(files.config(&[first.addr, second.addr]), "http://nx.test:9/").expect_err("nxdomain");
    assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::NxDomain), "{err}");
    assert!(err.message().contains(&first.addr.to_string()), "{err}");
    assert_eq!(second.queries("nx.test"), 0);
}

#[test]
fn attempts_repeat_the_round_after_silence() {
    // Silent to the first query of each type, then answers.
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let dns = DnsServer::start(move |q| {
        if s.fetch_add(1, Ordering::SeqCst) < 2 {
            Reply::Silent
        } else {
            Reply::addrs(q, &[V4])
        }
    });
    let http = HttpServer::start();
    let files = DnsFiles::new("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n", "");
    let (stats, body) =
        fetch(files.config(&[dns.addr]), &format!("http://again.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(dns.queries("again.test"), 4, "each family asked twice");
    assert!(stats.dns >= Duration::from_millis(900), "{stats:?}");
    assert!(stats.dns < Duration::from_millis(1900), "{stats:?}");
}

#[test]
fn rotate_spreads_lookups_over_the_servers() {
    let names: Vec<String> = (0..8).map(|i| format!("r{i}.test")).collect();
    let zone: Vec<(&str, &[IpAddr])> = names.iter().map(|n| (n.as_str(), &[V4][..])).collect();
    let (a, b) = (DnsServer::zone(&zone), DnsServer::zone(&zone));
    let http = HttpServer::start();
    let files = DnsFiles::new("nameserver 127.0.0.1\noptions rotate timeout:1 attempts:1\n", "");
    let urls: Vec<String> = names.iter().map(|n| format!("http://{n}:{}/", http.port)).collect();
    for r in fetch_all(files.config(&[a.addr, b.addr]), &urls) {
        assert_eq!(r.expect("fetch").1, BODY);
    }
    let (na, nb) = (a.udp_queries(), b.udp_queries());
    assert_eq!(na + nb, 16, "one query per name and family");
    assert!(na >= 4 && nb >= 4, "spread: {na} {nb}");
}

#[test]
fn without_rotate_the_first_server_takes_every_lookup() {
    let (a, b) = (DnsServer::zone(&[("p.test", &[V4])]), DnsServer::zone(&[]));
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) =
        fetch(files.config(&[a.addr, b.addr]), &format!("http://p.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(b.udp_queries(), 0);
}

#[test]
fn search_list_falls_through_nxdomain_and_nodata() {
    // x.a.test: NXDOMAIN; x.b.test: exists without addresses; x.c.test: the answer.
    let dns = DnsServer::start(|q| match q.name.as_str() {
        "x.b.test" => Reply::records(Vec::new()),
        "x.c.test" => Reply::addrs(q, &[V4]),
        _ => Reply::rcode(RCODE_NXDOMAIN),
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(
        "nameserver 127.0.0.1\nsearch a.test b.test c.test\noptions timeout:1 attempts:1\n",
        "",
    );
    let (_, body) = fetch(files.config(&[dns.addr]), &format!("http://x:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    for n in ["x.a.test", "x.b.test", "x.c.test"] {
        assert_eq!(dns.queries_of(n, TYPE_A), 1, "{n}");
    }
    assert_eq!(dns.queries("x"), 0, "found before the bare name");
}

#[test]
fn search_list_exhausted_names_every_candidate() {
    let dns = DnsServer::zone(&[]);
    let files =
        DnsFiles::new("nameserver 127.0.0.1\nsearch a.test b.test\noptions timeout:1 attempts:1\n", "");
    let err = fetch(files.config(&[dns.addr]), "http://y:9/").expect_err("nxdomain");
    assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::NxDomain), "{err}");
    for n in ["y.a.test", "y.b.test"] {
        assert!(err.message().contains(n), "{err}");
        assert_eq!(dns.queries_of(n, TYPE_A), 1, "{n}");
    }
    assert_eq!(dns.queries_of("y", TYPE_A), 1);
}

/// 60 addresses (127.0.0.1 first, then 127.0.1.x where nothing listens).
fn many(q: &Query) -> Vec<Rr> {
    let mut ips = vec![V4];
    ips.extend((1..60).map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 1, i))));
    family_records(&q.name, q.qtype, &ips)
}

#[test]
fn answer_larger_than_512_bytes_over_udp() {
    let dns = DnsServer::start(|q| Reply::records(many(q)));
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) =
        fetch(files.config(&[dns.addr]), &format!("http://big.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(dns.tcp_queries(), 0);
}

#[test]
fn answer_larger_than_512_bytes_over_tcp() {
    let dns = DnsServer::start(|q| {
        if q.tcp {
            Reply::records(many(q))
        } else {
            Reply::Answer { rcode: 0, tc: true, answers: Vec::new() }
        }
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) =
        fetch(files.config(&[dns.addr]), &format!("http://bigtcp.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert!(dns.tcp_queries() >= 1);
}
