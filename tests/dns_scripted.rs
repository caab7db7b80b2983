//! End-to-end DNS through the public API: the client resolves names against a scripted
//! loopback DNS server and fetches from a loopback HTTP server. Every test names its own
//! servers and temp resolv.conf/hosts files, so no query can reach the system's resolver.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};
use support::dns::*;
use volley::{BodyTarget, Client, DnsFailure, ErrorKind, Event, Request};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn url(host: &str, http: &HttpServer) -> String {
    format!("http://{host}:{}/", http.port)
}

#[test]
fn plain_a_record() {
    let dns = DnsServer::zone(&[("name.test", &[LOCAL])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (stats, body) = fetch(files.config(&[dns.addr]), &url("name.test", &http)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(stats.status, 200);
    assert!(stats.dns > Duration::ZERO, "a lookup took place: {stats:?}");
    assert_eq!(http.hosts(), vec![format!("name.test:{}", http.port)]);
    assert_eq!(dns.queries_of("name.test", TYPE_A), 1);
    assert_eq!(dns.queries_of("name.test", TYPE_AAAA), 1);
}

#[test]
fn search_domains_apply_below_ndots() {
    let dns = DnsServer::zone(&[("host.corp.test", &[LOCAL]), ("a.b.corp.test", &[LOCAL])]);
    let http = HttpServer::start();
    let files =
        DnsFiles::new("nameserver 127.0.0.1\nsearch corp.test\noptions ndots:2 timeout:1 attempts:1\n", "");
    let results = fetch_all(files.config(&[dns.addr]), &[url("host", &http), url("a.b", &http)]);
    for r in &results {
        assert_eq!(r.as_ref().expect("fetch").1, BODY);
    }
    // "host" (0 dots < ndots) is tried with the search domain first, which answers.
    assert!(dns.queries("host.corp.test") >= 1);
    assert_eq!(dns.queries("host"), 0, "the search domain answered first");
    // "a.b" has 1 dot < ndots:2, so it too goes through the search list first.
    assert!(dns.queries("a.b.corp.test") >= 1);
    assert_eq!(dns.queries("a.b"), 0);
    // The Host header keeps the name as written in the URL.
    let mut hosts = http.hosts();
    hosts.sort();
    assert_eq!(hosts, vec![format!("a.b:{}", http.port), format!("host:{}", http.port)]);
}

#[test]
fn name_with_enough_dots_is_tried_as_is_first() {
    let dns = DnsServer::zone(&[("svc.test", &[LOCAL])]);
    let http = HttpServer::start();
    let files =
        DnsFiles::new("nameserver 127.0.0.1\nsearch corp.test\noptions ndots:1 timeout:1 attempts:1\n", "");
    let (_, body) = fetch(files.config(&[dns.addr]), &url("svc.test", &http)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(dns.queries("svc.test.corp.test"), 0);
}

#[test]
fn cname_chain_is_followed() {
    let dns = DnsServer::start(|q| {
        if q.name != "www.test" {
            return Reply::rcode(RCODE_NXDOMAIN);
        }
        let mut answers = vec![
            Rr::Cname("www.test".into(), "alias.test".into()),
            Rr::Cname("alias.test".into(), "real.test".into()),
        ];
        answers.extend(family_records("real.test", q.qtype, &[LOCAL]));
        Reply::records(answers)
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) = fetch(files.config(&[dns.addr]), &url("www.test", &http)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(http.hosts(), vec![format!("www.test:{}", http.port)]);
}

#[test]
fn rcodes_are_distinct_error_kinds_naming_the_host() {
    let dns = DnsServer::start(|q| match q.name.as_str() {
        "gone.test" => Reply::rcode(RCODE_NXDOMAIN),
        "broken.test" => Reply::rcode(RCODE_SERVFAIL),
        "closed.test" => Reply::rcode(RCODE_REFUSED),
        // Exists, but has neither A nor AAAA.
        _ => Reply::records(Vec::new()),
    });
    let files = DnsFiles::new(RESOLV_CONF, "");
    let cases = [
        ("gone.test", DnsFailure::NxDomain),
        ("broken.test", DnsFailure::ServFail),
        ("closed.test", DnsFailure::Refused),
        ("empty.test", DnsFailure::NoAddress),
    ];
    let urls: Vec<String> = cases.iter().map(|(h, _)| format!("http://{h}:9/")).collect();
    let results = fetch_all(files.config(&[dns.addr]), &urls);
    for ((host, want), r) in cases.iter().zip(results) {
        let err = r.expect_err(host);
        assert_eq!(err.kind(), ErrorKind::Dns(*want), "{host}: {err}");
        assert!(err.message().contains(host), "{host}: {err}");
        assert!(err.url().contains(host), "{host}: {err}");
    }
}

#[test]
fn silent_first_server_then_second_answers() {
    let silent = DnsServer::start(|_| Reply::Silent);
    let good = DnsServer::zone(&[("slow.test", &[LOCAL])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let started = Instant::now();
    let (stats, body) =
        fetch(files.config(&[silent.addr, good.addr]), &url("slow.test", &http)).expect("fetch");
    let took = started.elapsed();
    assert_eq!(body, BODY);
    assert!(silent.queries("slow.test") >= 1, "the first server was asked");
    assert!(good.queries("slow.test") >= 1, "the second server was asked");
    // timeout:1 → one second on the silent server, then the good one answers at once.
    assert!(stats.dns >= Duration::from_millis(900), "{stats:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn every_server_silent_is_a_dns_timeout() {
    let silent = DnsServer::start(|_| Reply::Silent);
    let files = DnsFiles::new(RESOLV_CONF, "");
    let started = Instant::now();
    let err = fetch(files.config(&[silent.addr]), "http://quiet.test:9/").expect_err("timeout");
    assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::Timeout), "{err}");
    assert!(err.message().contains("quiet.test"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn truncated_udp_answer_is_asked_again_over_tcp() {
    let dns = DnsServer::start(|q| {
        if q.name != "big.test" {
            Reply::rcode(RCODE_NXDOMAIN)
        } else if q.tcp {
            Reply::addrs(q, &[LOCAL])
        } else {
            Reply::Answer { rcode: 0, tc: true, answers: Vec::new() }
        }
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) = fetch(files.config(&[dns.addr]), &url("big.test", &http)).expect("fetch");
    assert_eq!(body, BODY);
    assert!(dns.udp_queries() >= 1);
    assert!(dns.tcp_queries() >= 1, "the A query was repeated over TCP");
    assert_eq!(http.hosts().len(), 1);
}

#[test]
fn spoofed_answer_with_wrong_id_is_ignored() {
    let dns = DnsServer::start(|q| Reply::SpoofFirst(family_records(&q.name, q.qtype, &[LOCAL])));
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    // The spoof says 127.0.0.9, where nothing listens; using it would fail the fetch.
    let (_, body) = fetch(files.config(&[dns.addr]), &url("spoof.test", &http)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(dns.queries_of("spoof.test", TYPE_A), 1, "no retry needed");
}

#[test]
fn answers_are_cached_and_shared() {
    let dns = DnsServer::zone(&[("cached.test", &[LOCAL])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut client = Client::new(files.config(&[dns.addr])).expect("client");
    let u = url("cached.test", &http);
    let mut done = 0;
    let mut run = |client: &mut Client, n: usize| {
        for _ in 0..n {
            let req = Request::get(&u).expect("url").target(BodyTarget::Collect);
            client.submit(req).expect("submit");
        }
        client
            .run(|_, ev| match ev {
                Event::Done { body, .. } => {
                    assert_eq!(body.as_deref(), Some(BODY));
                    done += 1;
                }
                Event::Failed { error, .. } => panic!("{error}"),
                _ => {}
            })
            .expect("run");
    };
    // Ten concurrent requests share one in-flight lookup...
    run(&mut client, 10);
    // ...and ninety later ones are answered from the cache.
    run(&mut client, 90);
    assert_eq!(done, 100);
    assert_eq!(http.hosts().len(), 100);
    assert_eq!(dns.queries_of("cached.test", TYPE_A), 1);
    assert_eq!(dns.queries_of("cached.test", TYPE_AAAA), 1);
}

#[test]
fn hosts_file_entry_needs_no_query() {
    let dns = DnsServer::zone(&[("fromhosts.test", &[IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9))])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "# test hosts\n127.0.0.1   FromHosts.test other\n");
    let (stats, body) = fetch(files.config(&[dns.addr]), &url("fromhosts.test", &http)).expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(dns.udp_queries() + dns.tcp_queries(), 0);
    assert!(stats.dns < Duration::from_millis(50), "{stats:?}");
}
