#![allow(clippy::unwrap_used)]
//! The client never starts a thread. This file holds one test so that no other test
//! thread of the harness runs beside it; the scripted server's threads are named
//! `srv-*` and left out of the count.

mod support;

use std::time::Duration;
use support::http::{ok, record, test_config, Action, Server};
use volley::{Client, Config, Event, Request};

/// Names of this process's threads, from /proc/self/task/*/comm.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|s| s.trim().to_string())
        .collect()
}

/// Threads that are not the scripted server's.
fn client_side_threads() -> usize {
    thread_names()
        .iter()
        .filter(|n| !n.starts_with("srv-"))
        .count()
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
    let before = client_side_threads();
    let mut client = Client::new(Config {
        max_connections: 64,
        max_per_origin: 64,
        ..test_config()
    })
    .unwrap();
    assert_eq!(
        client_side_threads(),
        before,
        "Client::new started a thread: {:?}",
        thread_names()
    );
    for i in 0..200 {
        client
            .submit(Request::get(&server.url(&format!("/{i}"))).unwrap())
            .unwrap();
    }
    let mut max_seen = before;
    let mut samples = 0;
    let mut outs = std::collections::HashMap::new();
    let start = std::time::Instant::now();
    // Sample while requests are in flight, from inside the handler.
    while !client.is_idle() {
        assert!(start.elapsed() < Duration::from_secs(20), "still running");
        client
            .turn(Some(Duration::from_millis(20)), |_, e| {
                if let Event::Head { .. } = e {
                    samples += 1;
                    max_seen = max_seen.max(client_side_threads());
                }
                record(&mut outs, &e);
            })
            .unwrap();
    }
    assert_eq!(samples, 200);
    assert_eq!(outs.len(), 200);
    assert!(outs.values().all(|o| o.done.is_some()));
    assert_eq!(server.requests(), 200);
    assert_eq!(
        max_seen,
        before,
        "threads while running: {:?}",
        thread_names()
    );
    drop(client);
    assert_eq!(client_side_threads(), before);
}
