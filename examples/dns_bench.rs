//! DNS throughput of the in-loop stub resolver: resolve N distinct names (and fetch one
//! tiny response for each from a loopback HTTP server this program starts) on one
//! thread, and report lookups per second.
//!
//! Against dnsmasq on loopback, answering every name under volley.test with 127.0.0.1:
//!
//! ```text
//! dnsmasq --no-daemon --conf-file=/dev/null --pid-file= --port=5353 \
//!     --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
//!     --address=/volley.test/127.0.0.1 &
//! cargo run --release --no-default-features --example dns_bench -- --server 127.0.0.1:5353
//! ```
//!
//! Options: `--server ADDR` (required), `--names N` (default 1000), `--rounds R` (default
//! 3; a fresh client and fresh names each round, so nothing comes from volley's cache),
//! `--parallel P` (requests admitted at once, default 100; each one in flight holds two
//! UDP sockets while resolving, so mind `ulimit -n`).
//!
//! Above ~128 at once the numbers stop measuring the resolver: this program's HTTP
//! listener has std's backlog of 128, so extra SYNs wait for the 1 s retransmit, and bursts
//! of several hundred queries overflow UDP receive buffers (`RcvbufErrors` in
//! /proc/net/snmp), which shows as lookups taking one resolv.conf timeout (2 s) longer.
//!
//! "lookups/s" is N divided by the time from submitting every request to the last one's
//! lookup ending (`Stats::queued + Stats::dns`, both measured from submission); the
//! run's wall time, which includes connecting and the HTTP exchange, is shown beside it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};
use volley::{BodyTarget, Client, Config, DnsConfig, Event, Request};

struct Args {
    server: SocketAddr,
    names: usize,
    rounds: usize,
    parallel: usize,
}

fn usage(msg: &str) -> ! {
    eprintln!("dns_bench: {msg}");
    eprintln!("usage: dns_bench --server 127.0.0.1:PORT [--names N] [--rounds R] [--parallel P]");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args =
        Args { server: SocketAddr::from(([0, 0, 0, 0], 0)), names: 1000, rounds: 3, parallel: 100 };
    let mut server = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = || {
            value.parse::<usize>().ok().filter(|&n| n > 0).unwrap_or_else(|| usage(&format!("bad {flag}")))
        };
        match flag.as_str() {
            "--server" => server = Some(value.parse().unwrap_or_else(|_| usage("bad --server"))),
            "--names" => args.names = num(),
            "--rounds" => args.rounds = num(),
            "--parallel" => args.parallel = num(),
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    args.server = server.unwrap_or_else(|| usage("--server is required"));
    args
}

/// A one-thread HTTP server on 127.0.0.1 answering `200 ok` with `Connection: close`.
fn http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind http");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    port
}

struct Round {
    lookups_per_s: f64,
    wall: Duration,
    dns: Vec<Duration>,
    failed: usize,
}

fn round(args: &Args, files: &tempfile::TempDir, port: u16, r: usize) -> Round {
    let config = Config {
        max_connections: args.parallel,
        max_per_origin: args.parallel,
        dns: DnsConfig {
            servers: vec![args.server],
            resolv_conf: Some(files.path().join("resolv.conf")),
            hosts_file: Some(files.path().join("hosts")),
            cache_size: Some(args.names * 2),
            ..DnsConfig::default()
        },
        ..Config::default()
    };
    let mut client = Client::new(config).expect("client");
    for w in client.warnings() {
        eprintln!("warning: {w}");
    }
    let started = Instant::now();
    for i in 0..args.names {
        let url = format!("http://r{r}n{i}.volley.test:{port}/");
        let req = Request::get(&url).expect("url").target(BodyTarget::Collect);
        client.submit(req).expect("submit");
    }
    let (mut dns, mut last, mut failed) = (Vec::new(), Duration::ZERO, 0);
    client
        .run(|_, ev| match ev {
            Event::Done { stats, .. } => {
                last = last.max(stats.queued + stats.dns);
                dns.push(stats.dns);
            }
            Event::Failed { error, stats, .. } => {
                if failed < 3 {
                    eprintln!("failed: {error}");
                }
                failed += 1;
                last = last.max(stats.queued + stats.dns);
            }
            _ => {}
        })
        .expect("run");
    Round {
        lookups_per_s: args.names as f64 / last.as_secs_f64().max(1e-9),
        wall: started.elapsed(),
        dns,
        failed,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args = parse_args();
    let files = tempfile::tempdir().expect("tempdir");
    // Only the given server is asked; nothing falls back to the system's files.
    let resolv = format!("nameserver {}\noptions timeout:2 attempts:2\n", args.server.ip());
    std::fs::write(files.path().join("resolv.conf"), resolv).expect("write resolv.conf");
    std::fs::write(files.path().join("hosts"), "").expect("write hosts");
    let port = http_server();
    println!("{} distinct names per round against {}, {} at once", args.names, args.server, args.parallel);
    let mut rates = Vec::new();
    for r in 0..args.rounds {
        let mut res = round(&args, &files, port, r);
        res.dns.sort();
        let pct = |p: f64| res.dns.get(((res.dns.len() as f64 - 1.0) * p) as usize).map_or(0.0, |d| ms(*d));
        println!(
            "round {r}: {:>9.0} lookups/s   wall {:>7.1} ms ({:.0} requests/s)   \
             lookup p50 {:.2} ms p99 {:.2} ms max {:.2} ms   failed {}",
            res.lookups_per_s,
            ms(res.wall),
            args.names as f64 / res.wall.as_secs_f64(),
            pct(0.5),
            pct(0.99),
            pct(1.0),
            res.failed
        );
        rates.push(res.lookups_per_s);
    }
    rates.sort_by(f64::total_cmp);
    println!("median {:.0} lookups/s, best {:.0} lookups/s", rates[rates.len() / 2], rates[rates.len() - 1]);
}
