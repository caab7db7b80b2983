//! The resolver's cache through the public API: negative answers are remembered (RFC
//! 2308), failures of the server are not, `max_ttl` bounds positive entries and
//! `cache_size` evicts. Each test runs one client several times, counting queries.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use support::dns::*;
use volley::{BodyTarget, Client, Config, DnsFailure, Error, ErrorKind, Event, Request};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Runs `urls` to completion on `client`; the outcome of each, in order.
fn run(client: &mut Client, urls: &[String]) -> Vec<Result<(), Error>> {
    let mut ids = Vec::new();
    for u in urls {
        let req = Request::get(u).expect("url").target(BodyTarget::Collect);
        ids.push(client.submit(req).expect("submit"));
    }
    let mut out = vec![None; urls.len()];
    client
        .run(|_, ev| match ev {
            Event::Done { id, body, .. } => {
                assert_eq!(body.as_deref(), Some(BODY));
                out[ids.iter().position(|&i| i == id).expect("id")] = Some(Ok(()));
            }
            Event::Failed { id, error, .. } => {
                out[ids.iter().position(|&i| i == id).expect("id")] = Some(Err(error))
            }
            _ => {}
        })
        .expect("run");
    out.into_iter().map(|r| r.expect("ended")).collect()
}

fn client(files: &DnsFiles, dns: &DnsServer, tweak: impl FnOnce(&mut Config)) -> Client {
    let mut config = files.config(&[dns.addr]);
    tweak(&mut config);
    Client::new(config).expect("client")
}

#[test]
fn nxdomain_is_cached() {
    let dns = DnsServer::zone(&[]);
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut c = client(&files, &dns, |_| {});
    let url = vec!["http://gone.test:9/".to_string()];
    for round in 0..3 {
        let err = run(&mut c, &url).pop().expect("one").expect_err("nxdomain");
        assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::NxDomain), "{err}");
        assert!(err.message().contains("gone.test"), "round {round}: {err}");
    }
    assert_eq!(dns.queries_of("gone.test", TYPE_A), 1, "asked once");
    assert_eq!(dns.queries_of("gone.test", TYPE_AAAA), 1, "asked once");
}

#[test]
fn servfail_is_not_cached() {
    let dns = DnsServer::start(|_| Reply::rcode(RCODE_SERVFAIL));
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut c = client(&files, &dns, |_| {});
    let url = vec!["http://flaky.test:9/".to_string()];
    for _ in 0..2 {
        let err = run(&mut c, &url).pop().expect("one").expect_err("servfail");
        assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::ServFail), "{err}");
    }
    // attempts:1 and one server: one query per family per request.
    assert_eq!(dns.queries_of("flaky.test", TYPE_A), 2);
}

#[test]
fn max_ttl_bounds_positive_entries() {
    let dns = DnsServer::zone(&[("short.test", &[LOCAL])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut c = client(&files, &dns, |c| c.dns.max_ttl = Some(Duration::from_secs(1)));
    let url = vec![format!("http://short.test:{}/", http.port)];
    run(&mut c, &url).pop().expect("one").expect("fetch");
    run(&mut c, &url).pop().expect("one").expect("fetch");
    assert_eq!(dns.queries_of("short.test", TYPE_A), 1, "second from the cache");
    // The answer's TTL is 300 s, but max_ttl says 1 s.
    std::thread::sleep(Duration::from_millis(1200));
    run(&mut c, &url).pop().expect("one").expect("fetch");
    assert_eq!(dns.queries_of("short.test", TYPE_A), 2, "expired after max_ttl");
}

#[test]
fn cache_size_evicts_the_oldest_name() {
    let dns = DnsServer::zone(&[("one.test", &[LOCAL]), ("two.test", &[LOCAL])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut c = client(&files, &dns, |c| c.dns.cache_size = Some(1));
    let one = vec![format!("http://one.test:{}/", http.port)];
    let two = vec![format!("http://two.test:{}/", http.port)];
    for urls in [&one, &one, &two, &one] {
        run(&mut c, urls).pop().expect("one").expect("fetch");
    }
    // one (asked), one (cached), two (asked, evicts one), one (asked again).
    assert_eq!(dns.queries_of("one.test", TYPE_A), 2);
    assert_eq!(dns.queries_of("two.test", TYPE_A), 1);
}

#[test]
fn zero_cache_size_asks_every_time() {
    let dns = DnsServer::zone(&[("nocache.test", &[LOCAL])]);
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let mut c = client(&files, &dns, |c| c.dns.cache_size = Some(0));
    let url = vec![format!("http://nocache.test:{}/", http.port)];
    for _ in 0..3 {
        run(&mut c, &url).pop().expect("one").expect("fetch");
    }
    assert_eq!(dns.queries_of("nocache.test", TYPE_A), 3);
}

#[test]
fn concurrent_failure_reaches_every_waiter() {
    let dns = DnsServer::start(|_| Reply::rcode(RCODE_REFUSED));
    let files = DnsFiles::new(RESOLV_CONF, "");
    // Every request admitted at once, so they all join one lookup (a REFUSED is not
    // cached, so requests admitted later would ask again).
    let mut c = client(&files, &dns, |c| c.max_per_origin = 32);
    let urls: Vec<String> = (0..20).map(|i| format!("http://no.test:9/{i}")).collect();
    for r in run(&mut c, &urls) {
        let err = r.expect_err("refused");
        assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::Refused), "{err}");
    }
    assert_eq!(dns.queries_of("no.test", TYPE_A), 1, "one shared lookup");
}

#[test]
fn more_requests_than_max_per_origin_to_a_missing_name() {
    let dns = DnsServer::zone(&[]);
    let files = DnsFiles::new(RESOLV_CONF, "");
    // Default max_per_origin is 6: the first six share the lookup, the rest are admitted
    // after its NXDOMAIN was cached.
    let mut c = client(&files, &dns, |_| {});
    let urls: Vec<String> = (0..10).map(|i| format!("http://gone.test:9/{i}")).collect();
    for r in run(&mut c, &urls) {
        let err = r.expect_err("nxdomain");
        assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::NxDomain), "{err}");
    }
    assert_eq!(dns.queries_of("gone.test", TYPE_A), 1);
}
