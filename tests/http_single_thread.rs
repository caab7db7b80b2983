#![allow(clippy::unwrap_used)]
//! The client never starts a thread. This file holds one test so that no other test
//! thread of the harness runs beside it. The scripted server's threads are named
//! `srv-*`; a thread names itself only once it runs, so a thread seen unnamed while the
//! client runs is checked again at the end (the server's connection threads live as
//! long as the client keeps its connections): it must by then be a `srv-*` thread.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use support::http::{ok, record, test_config, Action, Server};
use volley::{Client, Config, Event, Request};

/// This process's threads: tid -> name, from /proc/self/task/*/comm.
fn threads() -> BTreeMap<u64, String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| {
            let t = t.ok()?;
            let tid = t.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(t.path().join("comm")).ok()?;
            Some((tid, name.trim().to_string()))
        })
        .collect()
}

/// Thread ids that are not (yet) named as the server's.
fn unnamed_tids() -> BTreeSet<u64> {
    threads().into_iter().filter(|(_, n)| !n.starts_with("srv-")).map(|(t, _)| t).collect()
}

#[test]
fn the_client_never_spawns_threads() {
    if !std::path::Path::new("/proc/self/task").exists() {
        eprintln!("no /proc: skipped");
        return;
    }
    let server = Server::start(|r| Action::Trickle {
        pieces: vec![ok(r.path())],
        delay: Duration::from_millis(20),
        close: false,
    });
    let start = Instant::now();
    while !threads().values().any(|n| n.starts_with("srv-accept")) {
        assert!(start.elapsed() < Duration::from_secs(5), "server thread never named itself");
        std::thread::sleep(Duration::from_millis(1));
    }
    let baseline = unnamed_tids();
    let mut client =
        Client::new(Config { max_connections: 64, max_per_origin: 64, ..test_config() }).unwrap();
    let mut suspects: BTreeSet<u64> = unnamed_tids().difference(&baseline).copied().collect();
    for i in 0..200 {
        client.submit(Request::get(&server.url(&format!("/{i}"))).unwrap()).unwrap();
    }
    let mut samples = 0;
    let mut outs = HashMap::new();
    // Sample while requests are in flight, from inside the handler.
    while !client.is_idle() {
        assert!(start.elapsed() < Duration::from_secs(20), "still running");
        client
            .turn(Some(Duration::from_millis(20)), |_, e| {
                if let Event::Head { .. } = e {
                    samples += 1;
                    suspects.extend(unnamed_tids().difference(&baseline));
                }
                record(&mut outs, &e);
            })
            .unwrap();
    }
    assert_eq!(samples, 200);
    assert_eq!(outs.len(), 200);
    assert!(outs.values().all(|o| o.done.is_some()));
    assert_eq!(server.requests(), 200);
    // Every thread that was not named as the server's when sampled must be one now.
    let now = threads();
    let client_threads: Vec<_> =
        suspects.iter().filter(|t| !now.get(t).is_some_and(|n| n.starts_with("srv-"))).collect();
    assert!(client_threads.is_empty(), "threads not from the server: {client_threads:?}; all: {now:?}");
    drop(client);
}
