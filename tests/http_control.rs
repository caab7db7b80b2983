#![allow(clippy::unwrap_used)]
//! Steering requests while they run: cancel, pause and resume, and submitting from the
//! handler; body events add up to the server's body exactly.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::http::{drive, ok, record, test_config, Action, Outcome, Server};
use volley::{Client, Config, ErrorKind, Event, Request, RequestId};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 253) as u8).collect()
}

/// A server that trickles `/slow` (head at once, then a byte every 50 ms) and answers
/// anything else with its path.
fn slow_and_fast() -> Server {
    Server::start(|r| {
        if r.path() == "/slow" {
            let mut pieces = vec![b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".to_vec()];
            pieces.extend((0..100).map(|_| b"s".to_vec()));
            Action::Trickle { pieces, delay: Duration::from_millis(50), close: true }
        } else {
            Action::Reply(ok(r.path()))
        }
    })
}

/// Turn until idle (failing after `limit`), cancelling `victim` at its first body
/// event; every request's outcome.
fn run_cancelling_at_first_body(
    client: &mut Client,
    victim: RequestId,
    limit: Duration,
    tick: Duration,
) -> HashMap<RequestId, Outcome> {
    let mut outs: HashMap<RequestId, Outcome> = HashMap::new();
    let start = Instant::now();
    while !client.is_idle() {
        assert!(start.elapsed() < limit, "still running");
        client
            .turn(Some(tick), |ctl, e| {
                if let Event::Body { id, .. } = &e {
                    if *id == victim {
                        ctl.cancel(victim);
                    }
                }
                record(&mut outs, &e);
            })
            .unwrap();
    }
    outs
}

#[test]
fn cancel_in_flight_request_from_the_handler() {
    let server = slow_and_fast();
    let mut client = Client::new(test_config()).unwrap();
    let slow = client.submit(Request::get(&server.url("/slow")).unwrap()).unwrap();
    let fast: Vec<RequestId> = (0..5)
        .map(|i| client.submit(Request::get(&server.url(&format!("/f{i}"))).unwrap()).unwrap())
        .collect();
    let start = Instant::now();
    let outs =
        run_cancelling_at_first_body(&mut client, slow, Duration::from_secs(5), Duration::from_millis(50));
    assert!(start.elapsed() < Duration::from_secs(2), "cancel did not end the slow request early");
    let o = &outs[&slow];
    assert_eq!(o.error().kind(), ErrorKind::Cancelled);
    assert!(o.error().to_string().contains("/slow"), "{}", o.error());
    assert!(o.event_body.len() < 100);
    for (i, id) in fast.iter().enumerate() {
        assert_eq!(outs[id].body(), format!("/f{i}").as_bytes());
    }
}

#[test]
fn cancel_from_outside_the_handler() {
    let server = slow_and_fast();
    let mut client = Client::new(test_config()).unwrap();
    let slow = client.submit(Request::get(&server.url("/slow")).unwrap()).unwrap();
    let mut outs = HashMap::new();
    let start = Instant::now();
    while server.requests() == 0 && start.elapsed() < Duration::from_secs(2) {
        client.turn(Some(Duration::from_millis(10)), |_, e| record(&mut outs, &e)).unwrap();
    }
    client.cancel(slow);
    outs.extend(drive(&mut client));
    assert_eq!(outs[&slow].error().kind(), ErrorKind::Cancelled);
    assert_eq!(client.in_flight(), 0);
}

#[test]
fn cancel_of_a_queued_request_never_sends_it() {
    let server = slow_and_fast();
    let mut client = Client::new(Config { max_per_origin: 1, ..test_config() }).unwrap();
    let first = client.submit(Request::get(&server.url("/a")).unwrap()).unwrap();
    let queued = client.submit(Request::get(&server.url("/queued")).unwrap()).unwrap();
    client.cancel(queued);
    let outs = drive(&mut client);
    assert_eq!(outs[&first].body(), b"/a");
    assert_eq!(outs[&queued].error().kind(), ErrorKind::Cancelled);
    assert!(server.seen().iter().all(|s| s.path() != "/queued"));
}

#[test]
fn cancel_of_a_finished_request_is_harmless() {
    let server = slow_and_fast();
    let mut client = Client::new(test_config()).unwrap();
    let id = client.submit(Request::get(&server.url("/a")).unwrap()).unwrap();
    let outs = drive(&mut client);
    assert_eq!(outs[&id].body(), b"/a");
    client.cancel(id);
    let after = drive(&mut client);
    assert!(after.is_empty(), "{after:#?}");
}

/// Pause at the first body byte, resume `hold` later from the test's loop.
fn pause_then_resume(config: Config, hold: Duration) {
    let body = pattern(1024 * 1024);
    let server = Server::always(ok(&body));
    let mut client = Client::new(config).unwrap();
    let id = client.submit(Request::get(&server.url("/big")).unwrap()).unwrap();
    let mut outs: HashMap<RequestId, Outcome> = HashMap::new();
    let mut paused_at: Option<Instant> = None;
    let mut resumed = false;
    let mut during_pause = 0;
    let start = Instant::now();
    while !client.is_idle() {
        assert!(start.elapsed() < Duration::from_secs(10), "still running");
        if let Some(t) = paused_at {
            if !resumed && t.elapsed() >= hold {
                client.resume(id);
                resumed = true;
            }
        }
        client
            .turn(Some(Duration::from_millis(20)), |ctl, e| {
                if let Event::Body { .. } = &e {
                    if paused_at.is_some() && !resumed {
                        during_pause += 1;
                    }
                    if paused_at.is_none() {
                        ctl.pause(id);
                        paused_at = Some(Instant::now());
                    }
                }
                record(&mut outs, &e);
            })
            .unwrap();
    }
    assert!(resumed, "finished without being resumed: {:#?}", outs[&id]);
    assert_eq!(during_pause, 0, "body events arrived while paused");
    let o = &outs[&id];
    assert!(o.done.is_some(), "{:#?}", o.failed);
    assert_eq!(o.event_body.len(), body.len());
    assert!(o.event_body == body, "body differs after pause/resume");
}

#[test]
fn pause_then_resume_from_a_timer_delivers_the_whole_body() {
    pause_then_resume(test_config(), Duration::from_millis(300));
}

#[test]

fn a_paused_request_is_not_idle_timed_out() {
    // The client chose not to read; the peer is not idle. A pause longer than the
    // idle timeout must not fail the request.
    let config = Config { idle_timeout: Duration::from_millis(200), ..test_config() };
    pause_then_resume(config, Duration::from_millis(600));
}

#[test]
fn body_events_add_up_to_one_mebibyte_chunked() {
    let body = pattern(1024 * 1024);
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let mut rest = &body[..];
    let mut size = 1;
    while !rest.is_empty() {
        let n = size.min(rest.len());
        wire.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        wire.extend_from_slice(&rest[..n]);
        wire.extend_from_slice(b"\r\n");
        rest = &rest[n..];
        size = size * 3 % 70_001 + 1;
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let server = Server::always(wire);
    let out = support::http::get(&server.url("/mib"));
    assert_eq!(out.event_body.len(), body.len());
    assert!(out.event_body == body);
    assert_eq!(out.stats().body_bytes, body.len() as u64);
}

#[test]
fn body_events_add_up_across_concurrent_one_mebibyte_responses() {
    let server = Server::start(|r| {
        let n: usize = r.path()[1..].parse().unwrap();
        Action::Reply(ok(pattern(1024 * 1024 + n)))
    });
    let mut client = Client::new(test_config()).unwrap();
    let ids: Vec<(usize, RequestId)> = (0..6)
        .map(|n| (n, client.submit(Request::get(&server.url(&format!("/{n}"))).unwrap()).unwrap()))
        .collect();
    let outs = drive(&mut client);
    for (n, id) in ids {
        assert!(outs[&id].event_body == pattern(1024 * 1024 + n), "body {n} differs");
    }
}

#[test]
fn submit_from_the_handler() {
    let server = slow_and_fast();
    let mut client = Client::new(test_config()).unwrap();
    let first = client.submit(Request::get(&server.url("/first")).unwrap()).unwrap();
    let url = server.url("/second");
    let mut second = None;
    let mut outs: HashMap<RequestId, Outcome> = HashMap::new();
    client
        .run(|ctl, e| {
            if let Event::Done { id, .. } = &e {
                if *id == first {
                    second = Some(ctl.submit(Request::get(&url).unwrap()));
                }
            }
            record(&mut outs, &e);
        })
        .unwrap();
    let second = second.expect("submitted");
    assert_ne!(second, first);
    assert_eq!(outs[&first].body(), b"/first");
    assert_eq!(outs[&second].body(), b"/second");
    assert_eq!(server.connections(), 1, "the handler's request reused the connection");
}

/// Submit one GET, pause it when `pause_on` says so, resume `hold` later; return the
/// outcome and the number of events seen while paused.
fn pause_resume_with(
    server: &Server,
    config: Config,
    hold: Duration,
    pause_on: impl Fn(&Event<'_>) -> bool,
) -> (Outcome, usize) {
    let mut client = Client::new(config).unwrap();
    let id = client.submit(Request::get(&server.url("/p")).unwrap()).unwrap();
    let mut outs: HashMap<RequestId, Outcome> = HashMap::new();
    let mut paused_at: Option<Instant> = None;
    let mut resumed = false;
    let mut during_pause = 0;
    let start = Instant::now();
    while !client.is_idle() {
        assert!(start.elapsed() < Duration::from_secs(10), "still running: {outs:#?}");
        if paused_at.is_some_and(|t| !resumed && t.elapsed() >= hold) {
            client.resume(id);
            resumed = true;
        }
        client
            .turn(Some(Duration::from_millis(20)), |ctl, e| {
                if paused_at.is_some() && !resumed {
                    during_pause += 1;
                }
                if paused_at.is_none() && pause_on(&e) {
                    ctl.pause(id);
                    paused_at = Some(Instant::now());
                }
                record(&mut outs, &e);
            })
            .unwrap();
    }
    assert!(resumed, "never paused or finished while paused: {outs:#?}");
    (outs.remove(&id).unwrap(), during_pause)
}

#[test]

fn pause_at_head_with_the_whole_body_already_buffered() {
    // Head and body arrive in one segment; the body bytes sit in the client's buffer
    // while paused and must be delivered on resume, without any more socket reads.
    let server = Server::always(ok("small body in the same segment"));
    let config = Config { idle_timeout: Duration::from_secs(2), ..test_config() };
    let (out, during) =
        pause_resume_with(&server, config, Duration::from_millis(200), |e| matches!(e, Event::Head { .. }));
    assert_eq!(during, 0);
    assert_eq!(out.body(), b"small body in the same segment", "{out:#?}");
}

#[test]
fn pause_through_server_close_of_a_close_delimited_body() {
    // The server writes a close-delimited body and closes while the request is paused;
    // after resume the body must be complete, ended by the close.
    let body = pattern(512 * 1024);
    let mut wire = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    wire.extend_from_slice(&body);
    let server = Server::start(move |_| Action::ReplyClose(wire.clone()));
    let (out, during) = pause_resume_with(&server, test_config(), Duration::from_millis(300), |e| {
        matches!(e, Event::Body { .. })
    });
    assert_eq!(during, 0);
    assert!(out.done.is_some(), "{:?}", out.failed);
    assert!(out.event_body == body, "{} of {} bytes", out.event_body.len(), body.len());
}

#[test]
fn cancel_in_the_head_handler_leaves_the_others_alone() {
    let server = Server::start(|r| Action::Reply(ok(r.path())));
    let mut client = Client::new(Config { max_per_origin: 2, ..test_config() }).unwrap();
    let ids: Vec<RequestId> = (0..6)
        .map(|i| client.submit(Request::get(&server.url(&format!("/{i}"))).unwrap()).unwrap())
        .collect();
    let victim = ids[1];
    let mut outs: HashMap<RequestId, Outcome> = HashMap::new();
    client
        .run(|ctl, e| {
            if let Event::Head { id, .. } = &e {
                if *id == victim {
                    ctl.cancel(victim);
                }
            }
            record(&mut outs, &e);
        })
        .unwrap();
    for (i, id) in ids.iter().enumerate() {
        if *id == victim {
            assert_eq!(outs[id].error().kind(), ErrorKind::Cancelled);
            assert!(outs[id].done.is_none());
        } else {
            assert_eq!(outs[id].body(), format!("/{i}").as_bytes(), "{:#?}", outs[id]);
        }
    }
}

#[test]
fn download_rate_cap_slows_and_keeps_the_body_exact() {
    let body = pattern(150_000);
    let server = Server::always(ok(&body));
    let config = Config { max_download_rate: Some(300_000), ..test_config() };
    let start = Instant::now();
    let out = support::http::fetch_with(config, Request::get(&server.url("/rate")).unwrap());
    let took = start.elapsed();
    assert!(out.event_body == body, "{} bytes", out.event_body.len());
    // 150 kB at 300 kB/s is 0.5 s; allow for the initial burst.
    assert!(took >= Duration::from_millis(350), "rate cap not applied: {took:?}");
    assert!(took < Duration::from_secs(3), "too slow: {took:?}");
}

#[test]
fn tiny_read_quota_still_delivers_every_byte() {
    let server = Server::start(|r| Action::Reply(ok(pattern(300_000 + r.path().len()))));
    let mut client = Client::new(Config { read_quota: 1, ..test_config() }).unwrap();
    let ids: Vec<_> = (0..4)
        .map(|i| client.submit(Request::get(&server.url(&"/x".repeat(i + 1))).unwrap()).unwrap())
        .collect();
    let outs = drive(&mut client);
    for (i, id) in ids.iter().enumerate() {
        assert!(outs[id].event_body == pattern(300_000 + 2 * (i + 1)), "body {i}");
    }
}

#[test]
fn event_order_is_redirect_head_body_done() {
    let server = Server::start(|r| {
        Action::Reply(if r.path() == "/r" { support::http::redirect(302, "/f") } else { ok("abc") })
    });
    let mut client = Client::new(test_config()).unwrap();
    client.submit(Request::get(&server.url("/r")).unwrap()).unwrap();
    let mut order = Vec::new();
    client
        .run(|_, e| {
            order.push(match e {
                Event::Redirect { .. } => "redirect",
                Event::Head { .. } => "head",
                Event::Body { .. } => "body",
                Event::Done { .. } => "done",
                Event::Failed { .. } => "failed",
                Event::Ready { .. } => "ready",
            })
        })
        .unwrap();
    assert_eq!(order, ["redirect", "head", "body", "done"]);
}

#[test]
fn paused_before_the_response_then_resumed() {
    let server = Server::always(ok("whole"));
    let mut client = Client::new(test_config()).unwrap();
    let id = client.submit(Request::get(&server.url("/p")).unwrap()).unwrap();
    client.pause(id);
    let end = Instant::now() + Duration::from_millis(300);
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        client.turn(Some(left), |_, e| panic!("event while paused: {e:?}")).unwrap();
    }
    assert_eq!(server.requests(), 1, "the request is sent even though reading is paused");
    client.resume(id);
    let outs = drive(&mut client);
    assert_eq!(outs[&id].body(), b"whole", "{:#?}", outs[&id]);
}

#[test]
fn resume_or_pause_of_unknown_ids_is_harmless() {
    let server = Server::always(ok("x"));
    let mut client = Client::new(test_config()).unwrap();
    let id = client.submit(Request::get(&server.url("/a")).unwrap()).unwrap();
    let outs = drive(&mut client);
    assert_eq!(outs[&id].body(), b"x");
    client.resume(id);
    client.pause(id);
    assert!(drive(&mut client).is_empty());
}

#[test]
fn external_source_readiness_arrives_as_ready_events() {
    let server = Server::always(ok("x"));
    let mut client = Client::new(test_config()).unwrap();
    let mut udp = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let to = udp.local_addr().unwrap();
    client.register(&mut udp, 7).unwrap();
    let id = client.submit(Request::get(&server.url("/a")).unwrap()).unwrap();
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().send_to(b"ping", to).unwrap();
    let mut ready = Vec::new();
    let mut outs = HashMap::new();
    let start = Instant::now();
    while ready.is_empty() || !client.is_idle() {
        assert!(start.elapsed() < Duration::from_secs(5), "no Ready event");
        client
            .turn(Some(Duration::from_millis(20)), |_, e| {
                if let Event::Ready { key } = e {
                    ready.push(key);
                }
                record(&mut outs, &e);
            })
            .unwrap();
    }
    assert_eq!(ready, [7]);
    let mut buf = [0u8; 16];
    assert_eq!(udp.recv_from(&mut buf).unwrap().0, 4);
    assert_eq!(outs[&id].body(), b"x");
}

#[test]

fn pause_at_the_last_body_event_still_completes_after_resume() {
    // The whole body comes in one event; pausing there must not lose the `Done`
    // that follows without any further byte from the server.
    paused_at_first_body_completes(ok("entire body in one event"), b"entire body in one event");
}

#[test]

fn pause_between_chunks_already_buffered() {
    // Several chunks in one segment: pausing at the first must keep the rest for resume.
    paused_at_first_body_completes(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n0\r\n\r\n",
        b"onetwothree",
    );
}

/// Pause at the first body event for 200 ms with `response` already received: no event
/// comes while paused, and after resume the request completes with exactly `body`.
fn paused_at_first_body_completes(response: impl Into<Vec<u8>>, body: &[u8]) {
    let server = Server::always(response);
    let config = Config { idle_timeout: Duration::from_secs(2), ..test_config() };
    let (out, during) =
        pause_resume_with(&server, config, Duration::from_millis(200), |e| matches!(e, Event::Body { .. }));
    assert_eq!(during, 0, "events while paused");
    assert!(out.done.is_some(), "{:?}", out.failed);
    assert_eq!(out.body(), body);
}

#[test]
fn cancel_while_rate_limited_leaves_the_other_exact() {
    let body = pattern(200_000);
    let server = Server::always(ok(&body));
    let mut client = Client::new(Config { max_download_rate: Some(400_000), ..test_config() }).unwrap();
    let victim = client.submit(Request::get(&server.url("/v")).unwrap()).unwrap();
    let keeper = client.submit(Request::get(&server.url("/k")).unwrap()).unwrap();
    let outs =
        run_cancelling_at_first_body(&mut client, victim, Duration::from_secs(10), Duration::from_millis(20));
    assert_eq!(outs[&victim].error().kind(), ErrorKind::Cancelled);
    assert!(outs[&keeper].event_body == body);
}

#[test]
fn a_held_host_gets_no_new_request_until_the_hold_ends() {
    let server = Server::start(|r| {
        if r.path() == "/busy" {
            Action::Reply(support::http::response(503, &[("Retry-After", "1")], "busy"))
        } else {
            Action::Reply(ok(r.path()))
        }
    });
    let config = Config { max_connections: 1, max_per_origin: 1, ..test_config() };
    let mut client = Client::new(config).unwrap();
    let busy = client.submit(Request::get(&server.url("/busy")).unwrap()).unwrap();
    let later: Vec<RequestId> = (0..3)
        .map(|i| client.submit(Request::get(&server.url(&format!("/{i}"))).unwrap()).unwrap())
        .collect();
    let hold = Duration::from_millis(400);
    let mut held_at = None;
    let mut done_at = HashMap::new();
    let start = Instant::now();
    while !client.is_idle() {
        assert!(start.elapsed() < Duration::from_secs(10), "still running");
        client
            .turn(Some(Duration::from_millis(20)), |ctl, e| match e {
                Event::Head { id, response } if id == busy && response.status == 503 => {
                    let at = Instant::now();
                    held_at = Some(at);
                    ctl.hold_host("127.0.0.1", at + hold);
                }
                Event::Done { id, .. } => {
                    done_at.insert(id, Instant::now());
                }
                _ => {}
            })
            .unwrap();
    }
    let held_at = held_at.expect("the 503 arrived");
    for id in later {
        let at = done_at[&id];
        assert!(at >= held_at + hold, "{id:?} finished {:?} into the hold", at - held_at);
    }
    assert_eq!(server.requests(), 4, "each request sent once");
}
