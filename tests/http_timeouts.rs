#![allow(clippy::unwrap_used)]
//! Timeouts: every wait has a timer and every timeout names its phase. Short timers
//! (hundreds of milliseconds) keep the suite fast; servers delay, the client never sleeps.

mod support;

use std::time::{Duration, Instant};
use support::http::{drive, fetch, fetch_with, ok, test_config, Action, Server};
use volley::{Client, Config, ErrorKind, Phase, Request, RequestOptions};

const SHORT: Duration = Duration::from_millis(300);

fn config(f: impl FnOnce(&mut Config)) -> Config {
    let mut c = test_config();
    f(&mut c);
    c
}

/// Asserts the elapsed time is at least `min` and well under `max`.
fn assert_between(start: Instant, min: Duration, max: Duration) {
    let took = start.elapsed();
    assert!(took >= min, "fired too early: {took:?} < {min:?}");
    assert!(took < max, "fired too late: {took:?} >= {max:?}");
}

#[test]
fn head_timeout_with_head_trickled_one_byte_per_100ms() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: aaaaaaaaaaaaaaaa\r\n\r\nok";
    let server = Server::start(move |_| Action::trickle_bytes(head, Duration::from_millis(100), true));
    let start = Instant::now();
    // The idle timer is long and each byte resets it; only the head timer can fire.
    let out =
        fetch_with(config(|c| c.head_timeout = SHORT), Request::get(&server.url("/slow-head")).unwrap());
    assert_between(start, SHORT, Duration::from_secs(2));
    let e = out.error();
    assert_eq!(e.kind(), ErrorKind::Timeout(Phase::Head), "{e}");
    assert!(e.to_string().contains("/slow-head"), "{e}");
    assert!(out.head.is_none());
}

#[test]
fn hang_before_any_byte_is_a_head_timeout() {
    let server = Server::start(|_| Action::Hang(Duration::from_secs(5)));
    let start = Instant::now();
    let out = fetch_with(config(|c| c.head_timeout = SHORT), Request::get(&server.url("/hang")).unwrap());
    assert_between(start, SHORT, Duration::from_secs(2));
    assert_eq!(out.error().kind(), ErrorKind::Timeout(Phase::Head), "{}", out.error());
    assert_eq!(server.requests(), 1, "the request was sent");
}

#[test]
fn per_request_head_timeout_overrides_config() {
    let server = Server::start(|_| Action::Hang(Duration::from_secs(5)));
    let req = Request::get(&server.url("/hang"))
        .unwrap()
        .options(RequestOptions { head_timeout: Some(SHORT), ..Default::default() });
    let start = Instant::now();
    let out = fetch(req); // config head timeout is 10 s
    assert_between(start, SHORT, Duration::from_secs(2));
    assert_eq!(out.error().kind(), ErrorKind::Timeout(Phase::Head));
}

#[test]
fn idle_timeout_after_head_then_silence() {
    let server = Server::start(|_| {
        Action::ReplyThenHang(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec(),
            Duration::from_secs(5),
        )
    });
    let start = Instant::now();
    let out = fetch_with(config(|c| c.idle_timeout = SHORT), Request::get(&server.url("/idle")).unwrap());
    assert_between(start, SHORT, Duration::from_secs(2));
    let e = out.error();
    assert_eq!(e.kind(), ErrorKind::Timeout(Phase::Idle), "{e}");
    assert_eq!(out.status(), 200, "the head was delivered before the silence");
    assert_eq!(out.event_body, b"abc");
    assert!(out.done.is_none());
}

#[test]
fn idle_timer_is_reset_by_each_byte() {
    // 20 bytes 100 ms apart take 2 s; a 300 ms idle timer must not fire.
    let server = Server::start(|_| {
        let mut pieces = vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".to_vec()];
        pieces.extend((0..10u8).map(|i| vec![b'0' + i]));
        Action::Trickle { pieces, delay: Duration::from_millis(100), close: false }
    });
    let out = fetch_with(config(|c| c.idle_timeout = SHORT), Request::get(&server.url("/steady")).unwrap());
    assert_eq!(out.body(), b"0123456789", "{out:#?}");
}

#[test]
fn total_timeout_fires_on_a_steady_but_slow_body() {
    let server = Server::start(|_| {
        let mut pieces = vec![b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".to_vec()];
        pieces.extend((0..100).map(|_| b"x".to_vec()));
        Action::Trickle { pieces, delay: Duration::from_millis(50), close: true }
    });
    let start = Instant::now();
    let cfg = config(|c| c.total_timeout = Some(Duration::from_millis(500)));
    let out = fetch_with(cfg, Request::get(&server.url("/total")).unwrap());
    assert_between(start, Duration::from_millis(500), Duration::from_secs(3));
    let e = out.error();
    assert_eq!(e.kind(), ErrorKind::Timeout(Phase::Total), "{e}");
    assert!(e.to_string().contains("/total"), "{e}");
}

#[test]
fn per_request_total_timeout() {
    let server = Server::start(|_| Action::Hang(Duration::from_secs(5)));
    let req = Request::get(&server.url("/t"))
        .unwrap()
        .options(RequestOptions { total_timeout: Some(SHORT), ..Default::default() });
    let start = Instant::now();
    let out = fetch(req);
    assert_between(start, SHORT, Duration::from_secs(2));
    assert_eq!(out.error().kind(), ErrorKind::Timeout(Phase::Total), "{}", out.error());
}

#[test]
fn total_timeout_spans_redirects() {
    // Each hop answers after 200 ms; three hops exceed a 500 ms total.
    let server = Server::start(|r| {
        let n: u32 = r.path()[2..].parse().unwrap_or(0);
        let reply = support::http::redirect(302, &format!("/r{}", n + 1));
        Action::Trickle { pieces: vec![reply], delay: Duration::from_millis(200), close: false }
    });
    let cfg = config(|c| c.total_timeout = Some(Duration::from_millis(500)));
    let out = fetch_with(cfg, Request::get(&server.url("/r0")).unwrap());
    assert_eq!(out.error().kind(), ErrorKind::Timeout(Phase::Total), "{}", out.error());
    assert!(server.requests() <= 4, "{} requests", server.requests());
}

#[test]
fn a_timeout_does_not_disturb_a_concurrent_request() {
    let server = Server::start(|r| {
        if r.path() == "/hang" {
            Action::Hang(Duration::from_secs(5))
        } else {
            Action::Trickle { pieces: vec![ok("fast")], delay: Duration::from_millis(10), close: false }
        }
    });
    let mut client = Client::new(config(|c| c.head_timeout = SHORT)).unwrap();
    let slow = client.submit(Request::get(&server.url("/hang")).unwrap()).unwrap();
    let fast = client.submit(Request::get(&server.url("/fast")).unwrap()).unwrap();
    let outs = drive(&mut client);
    assert_eq!(outs[&slow].error().kind(), ErrorKind::Timeout(Phase::Head));
    assert_eq!(outs[&fast].body(), b"fast");
}

#[test]
fn next_deadline_reflects_the_head_timer() {
    let server = Server::start(|_| Action::Hang(Duration::from_secs(5)));
    let mut client = Client::new(config(|c| c.head_timeout = SHORT)).unwrap();
    client.submit(Request::get(&server.url("/hang")).unwrap()).unwrap();
    let start = Instant::now();
    // Turn until the request is on the wire and waiting for the head.
    while server.requests() == 0 && start.elapsed() < Duration::from_secs(2) {
        client.turn(Some(Duration::from_millis(10)), |_, e| panic!("early event {e:?}")).unwrap();
    }
    let deadline = client.next_deadline().expect("a deadline while waiting for the head");
    assert!(
        deadline <= Instant::now() + SHORT,
        "{:?} away",
        deadline.saturating_duration_since(Instant::now())
    );
    assert_eq!(client.in_flight(), 1);
    let outs = drive(&mut client);
    assert_eq!(outs.values().next().unwrap().error().kind(), ErrorKind::Timeout(Phase::Head));
    assert_eq!(client.in_flight(), 0);
}

#[test]
fn turn_with_none_returns_when_the_timer_fires() {
    // `turn(None, ..)` waits for internal deadlines: a hung server must not block it forever.
    let server = Server::start(|_| Action::Hang(Duration::from_secs(5)));
    let mut client = Client::new(config(|c| c.head_timeout = SHORT)).unwrap();
    let id = client.submit(Request::get(&server.url("/hang")).unwrap()).unwrap();
    let start = Instant::now();
    let mut failed = None;
    while failed.is_none() {
        assert!(start.elapsed() < Duration::from_secs(3), "no timeout after 3 s");
        client
            .turn(None, |_, e| {
                if let volley::Event::Failed { id: got, error, .. } = e {
                    assert_eq!(got, id);
                    failed = Some(error.kind());
                }
            })
            .unwrap();
    }
    assert_eq!(failed, Some(ErrorKind::Timeout(Phase::Head)));
}

#[test]
fn head_timeout_on_a_reused_connection() {
    let server = Server::start(|r| {
        if r.index == 0 {
            Action::Reply(ok("first"))
        } else {
            Action::Hang(Duration::from_secs(5))
        }
    });
    let mut client = Client::new(config(|c| c.head_timeout = SHORT)).unwrap();
    let a = client.submit(Request::get(&server.url("/a")).unwrap()).unwrap();
    let mut outs = drive(&mut client);
    let b = client.submit(Request::get(&server.url("/b")).unwrap()).unwrap();
    let start = Instant::now();
    outs.extend(drive(&mut client));
    assert_between(start, SHORT, Duration::from_secs(2));
    assert_eq!(outs[&a].body(), b"first");
    assert_eq!(outs[&b].error().kind(), ErrorKind::Timeout(Phase::Head), "{}", outs[&b].error());
    assert_eq!(server.connections(), 1, "a timeout is not retried");
}

#[test]
fn idle_timer_starts_fresh_on_a_connection_that_sat_in_the_pool() {
    // The pooled connection sits idle longer than the idle timeout; reusing it must
    // not count that time against the new exchange.
    let server = Server::start(|r| Action::Trickle {
        pieces: vec![ok(r.path())],
        delay: Duration::from_millis(150),
        close: false,
    });
    let mut client = Client::new(config(|c| c.idle_timeout = SHORT)).unwrap();
    let a = client.submit(Request::get(&server.url("/a")).unwrap()).unwrap();
    let mut outs = drive(&mut client);
    let end = Instant::now() + Duration::from_millis(600);
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        client.turn(Some(left), |_, e| panic!("unexpected {e:?}")).unwrap();
    }
    let b = client.submit(Request::get(&server.url("/b")).unwrap()).unwrap();
    outs.extend(drive(&mut client));
    assert_eq!(outs[&a].body(), b"/a");
    assert_eq!(outs[&b].body(), b"/b", "{:#?}", outs[&b]);
    assert!(outs[&b].stats().reused);
}

#[test]
fn upload_to_a_server_that_stops_reading_times_out_in_send() {
    // The server reads the head only and then neither reads nor answers; once the
    // socket buffers are full the upload makes no progress.
    let server = Server::start_early(|_| Action::Hang(Duration::from_secs(10)));
    let body = std::io::Read::take(std::io::repeat(b'u'), 1 << 30);
    let req = Request::new(volley::Method::Put, &server.url("/up")).unwrap().body_reader(body, None);
    let start = Instant::now();
    let out = fetch_with(config(|c| c.idle_timeout = SHORT), req);
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert_eq!(out.error().kind(), ErrorKind::Timeout(Phase::Send), "{}", out.error());
}

#[test]
fn endless_interim_responses_hit_the_head_timeout() {
    let server = Server::start(|_| Action::Trickle {
        pieces: vec![b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(); 100],
        delay: Duration::from_millis(50),
        close: true,
    });
    let start = Instant::now();
    let out = fetch_with(config(|c| c.head_timeout = SHORT), Request::get(&server.url("/1xx")).unwrap());
    assert_between(start, SHORT, Duration::from_secs(2));
    assert_eq!(out.error().kind(), ErrorKind::Timeout(Phase::Head), "{}", out.error());
}
