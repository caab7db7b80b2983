//! The client resolves and fetches on the caller's thread alone: 1,000 distinct names at
//! once, and the process never has more threads than before the client existed. This
//! binary holds this one test so no other test's threads come and go meanwhile.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use support::dns::*;
use volley::{BodyTarget, Client, Event, Request};

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("Threads: line")
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

#[test]
fn thousand_lookups_on_the_callers_thread() {
    const N: usize = 1000;
    // The peers' threads (two for DNS, one for HTTP) exist before the baseline.
    let dns = DnsServer::start(|q| {
        let known = q.name.strip_prefix('n').and_then(|r| r.strip_suffix(".test"));
        match known.and_then(|n| n.parse::<usize>().ok()) {
            Some(i) if i < N => Reply::addrs(q, &[IpAddr::V4(Ipv4Addr::LOCALHOST)]),
            _ => Reply::rcode(RCODE_NXDOMAIN),
        }
    });
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let baseline = threads();

    let mut client = Client::new(files.config(&[dns.addr])).expect("client");
    let fds_before = open_fds();
    for i in 0..N {
        let url = format!("http://n{i}.test:{}/", http.port);
        let req = Request::get(&url).expect("url").target(BodyTarget::Collect);
        client.submit(req).expect("submit");
    }
    let (mut done, mut samples, mut most) = (0, 0, 0);
    client
        .run(|_, ev| {
            let now = threads();
            samples += 1;
            most = most.max(now);
            assert_eq!(now, baseline, "a thread appeared while the client ran");
            match ev {
                Event::Done { body, .. } => {
                    assert_eq!(body.as_deref(), Some(BODY));
                    done += 1;
                }
                Event::Failed { error, .. } => panic!("{error}"),
                _ => {}
            }
        })
        .expect("run");
    assert_eq!(done, N);
    assert!(samples >= N);
    assert_eq!(most, baseline);
    assert_eq!(threads(), baseline);
    assert_eq!(http.hosts().len(), N);
    // Every DNS socket and connection is closed again (the server says Connection: close).
    // (The HTTP server thread may still be closing its last connection: allow it 1 s.)
    let until = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while open_fds() != fds_before && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(open_fds(), fds_before, "file descriptors leaked");
    // One A and one AAAA query per name: nothing asked twice, nothing lost.
    assert_eq!(dns.udp_queries(), 2 * N);
    assert_eq!(dns.queries_of("n999.test", TYPE_A), 1);
}
