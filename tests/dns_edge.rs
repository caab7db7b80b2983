//! DNS corner cases end to end: one family silent (RFC 8305 §3 resolution delay), IPv6
//! only, absolute names, cancelling one of two requests sharing a lookup, a TCP retry
//! that fails over to the next server, answers for the wrong name, letter case (RFC
//! 4343), invalid names and `localhost`.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener};
use std::time::Duration;
use support::dns::*;
use volley::{BodyTarget, Client, DnsFailure, ErrorKind, Event, Request};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

fn v6_http() -> Option<HttpServer> {
    match TcpListener::bind("[::1]:0") {
        Ok(l) => Some(HttpServer::on(l)),
        Err(e) => {
            eprintln!("SKIPPED: no IPv6 loopback: {e}");
            None
        }
    }
}

#[test]
fn a_answers_and_aaaa_stays_silent() {
    let dns = DnsServer::start(|q| match q.qtype {
        TYPE_A => Reply::addrs(q, &[V4]),
        _ => Reply::Silent,
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (stats, body) =
        fetch(files.config(&[dns.addr]), &format!("http://half.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    // 50 ms resolution delay, not the 1 s query timeout.
    assert!(stats.dns < Duration::from_millis(500), "{stats:?}");
}

#[test]
fn aaaa_answers_and_a_stays_silent() {
    let Some(http) = v6_http() else { return };
    let dns = DnsServer::start(|q| match q.qtype {
        TYPE_AAAA => Reply::addrs(q, &[V6]),
        _ => Reply::Silent,
    });
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (stats, body) =
        fetch(files.config(&[dns.addr]), &format!("http://half6.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert!(stats.dns < Duration::from_millis(500), "{stats:?}");
}

#[test]
fn ipv6_only_name_connects_over_ipv6() {
    let Some(http) = v6_http() else { return };
    let dns = DnsServer::zone(&[("six.test", &[V6])]);
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) =
        fetch(files.config(&[dns.addr]), &format!("http://six.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
}

#[test]
fn trailing_dot_is_absolute_and_skips_the_search_list() {
    let dns = DnsServer::zone(&[("abs.test", &[V4])]);
    let http = HttpServer::start();
    let files =
        DnsFiles::new("nameserver 127.0.0.1\nsearch corp.test\noptions ndots:5 timeout:1 attempts:1\n", "");
    let (_, body) =
        fetch(files.config(&[dns.addr]), &format!("http://abs.test.:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(dns.queries("abs.test.corp.test"), 0);
    assert_eq!(dns.queries_of("abs.test", TYPE_A), 1);
}

#[test]
fn cancelling_one_waiter_leaves_the_shared_lookup_to_the_other() {
    let dns = DnsServer::start(|q| {
        // Slow enough for the cancel to land while the lookup is in flight.
        std::thread::sleep(Duration::from_millis(150));
        Reply::addrs(q, &[V4])
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut client = Client::new(files.config(&[dns.addr])).expect("client");
    let url = format!("http://shared.test:{}/", http.port);
    let req = || Request::get(&url).expect("url").target(BodyTarget::Collect);
    let gone = client.submit(req()).expect("submit");
    let kept = client.submit(req()).expect("submit");
    client.turn(Some(Duration::ZERO), |_, _| {}).expect("turn");
    client.cancel(gone);
    let (mut cancelled, mut done) = (false, false);
    client
        .run(|_, ev| match ev {
            Event::Failed { id, error, .. } if id == gone => {
                assert_eq!(error.kind(), ErrorKind::Cancelled, "{error}");
                cancelled = true;
            }
            Event::Done { id, body, .. } if id == kept => {
                assert_eq!(body.as_deref(), Some(BODY));
                done = true;
            }
            Event::Done { .. } | Event::Failed { .. } => panic!("unexpected {ev:?}"),
            _ => {}
        })
        .expect("run");
    assert!(cancelled && done);
    assert_eq!(http.hosts().len(), 1, "only the kept request was sent");
    assert_eq!(dns.queries_of("shared.test", TYPE_A), 1);
}

#[test]
fn truncated_answer_whose_tcp_retry_fails_moves_to_the_next_server() {
    // The first server truncates over UDP and says nothing over TCP.
    let bad = DnsServer::start(|q| {
        if q.tcp {
            Reply::Silent
        } else {
            Reply::Answer { rcode: 0, tc: true, answers: Vec::new() }
        }
    });
    let good = DnsServer::zone(&[("tcpfail.test", &[V4])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) =
        fetch(files.config(&[bad.addr, good.addr]), &format!("http://tcpfail.test:{}/", http.port))
            .expect("fetch");
    assert_eq!(body, BODY);
    assert!(bad.tcp_queries() >= 1);
    assert!(good.queries("tcpfail.test") >= 1);
}

#[test]
fn records_for_another_name_are_not_used() {
    let dns = DnsServer::start(|q| {
        // Only records owned by some other name, with no CNAME leading there.
        Reply::records(family_records("evil.test", q.qtype, &[V4]))
    });
    let files = DnsFiles::new(RESOLV_CONF, "");
    let err = fetch(files.config(&[dns.addr]), "http://victim.test:9/").expect_err("no address");
    assert!(matches!(err.kind(), ErrorKind::Dns(DnsFailure::NoAddress | DnsFailure::BadResponse)), "{err}");
}

#[test]
fn answer_owner_names_compare_without_case() {
    let http = HttpServer::start();
    let dns = DnsServer::start(|q| Reply::records(family_records("MiXeD.TeSt", q.qtype, &[V4])));
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) =
        fetch(files.config(&[dns.addr]), &format!("http://mixed.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
}

#[test]
fn invalid_dns_name_fails_without_a_query() {
    let dns = DnsServer::zone(&[]);
    let files = DnsFiles::new(RESOLV_CONF, "");
    let label = "a".repeat(64);
    let err =
        fetch(files.config(&[dns.addr]), &format!("http://{label}.test:9/")).expect_err("label too long");
    assert!(matches!(err.kind(), ErrorKind::Dns(DnsFailure::Setup) | ErrorKind::InvalidUrl), "{err}");
    assert_eq!(dns.udp_queries(), 0);
}

#[test]
fn localhost_needs_no_query() {
    let dns = DnsServer::zone(&[]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (stats, body) =
        fetch(files.config(&[dns.addr]), &format!("http://localhost:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(dns.udp_queries() + dns.tcp_queries(), 0);
    assert!(stats.dns < Duration::from_millis(50), "{stats:?}");
}

#[test]
fn second_ipv4_address_is_tried_when_the_first_refuses() {
    let http = HttpServer::start();
    // Nothing listens on 127.0.0.2; the answer lists it first.
    let dns = DnsServer::start(|q| Reply::addrs(q, &[IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), V4]));
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut config = files.config(&[dns.addr]);
    config.connection_attempt_delay = Duration::from_secs(2);
    let (stats, body) = fetch(config, &format!("http://two.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert!(stats.connect < Duration::from_millis(500), "{stats:?}");
}
