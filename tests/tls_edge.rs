//! HTTPS edge cases through the public API: pause/resume against rustls's plaintext
//! buffer, cancel, close_notify in the middle of a framed body, handshake failures
//! from raw peers (alerts, plain HTTP, silence), timeouts that name their phase,
//! request bodies and file sinks over TLS.

mod support;

use support::tls::tls_server as pki_setup;
use support::within;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use support::tls::{server_config, TestPki, TestResponse, TlsTestServer};
use volley::{BodyTarget, Client, Config, Error, ErrorKind, Event, Phase, Request, RequestId};
use volley::{Stats, TlsFailure};

/// Every event of one request, checked for order: Head before Body, nothing after
/// the single Done/Failed.
#[derive(Debug, Default)]
struct Trace {
    head: Option<u16>,
    streamed: Vec<u8>,
    end: Option<Result<(Stats, Vec<u8>), Error>>,
}

impl Trace {
    fn record(&mut self, ev: Event<'_>) {
        assert!(self.end.is_none(), "event after the end: {ev:?}");
        match ev {
            Event::Head { response, .. } => {
                assert!(self.head.is_none(), "two heads");
                self.head = Some(response.status);
            }
            Event::Body { data, .. } => {
                assert!(self.head.is_some(), "body before head");
                self.streamed.extend_from_slice(data);
            }
            Event::Done { stats, body, .. } => self.end = Some(Ok((stats, body.unwrap_or_default()))),
            Event::Failed { error, .. } => self.end = Some(Err(error)),
            _ => {}
        }
    }

    fn ok(self) -> (Stats, Vec<u8>) {
        match self.end {
            Some(Ok(v)) => v,
            Some(Err(e)) => panic!("expected success, got {:?}: {e}", e.kind()),
            None => panic!("never ended"),
        }
    }

    fn err(self) -> Error {
        match self.end {
            Some(Err(e)) => e,
            Some(Ok((_, b))) => panic!("expected an error, got Done with {} bytes", b.len()),
            None => panic!("never ended"),
        }
    }
}

fn fetch(config: Config, url: &str) -> Trace {
    let url = url.to_string();
    within(30, move || {
        let mut client = Client::new(config).expect("client");
        let req = Request::get(&url).expect("url").target(BodyTarget::Collect);
        client.submit(req).expect("submit");
        let mut t = Trace::default();
        client.run(|_, ev| t.record(ev)).expect("run");
        t
    })
}

fn body_of(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 13 + seed * 7) % 253) as u8).collect()
}

/// A raw TCP peer on 127.0.0.1:0: each accepted connection goes to `script`.
fn raw_peer(script: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            script(s);
        }
    });
    port
}

/// Read whatever the client sends first (its ClientHello), up to one read.
fn read_some(s: &mut TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 4096];
    let _ = s.read(&mut buf);
}

// ---- flow control --------------------------------------------------------------------

/// When [`pause_resume`] pauses: on the Head event, or on a Body event when the test
/// says so given (bytes so far including this event, body length).
#[derive(Clone, Copy)]
enum PauseOn {
    Head,
    Body(fn(usize, usize) -> bool),
}

/// Serve `resp` (whose body is `len` bytes), stream it with `Events`, pause as `on`
/// says and resume three turns later. Returns the trace, the number of Body events seen
/// in turns after a pause (must be 0) and the time taken.
fn pause_resume(resp: TestResponse, len: usize, on: PauseOn) -> (Trace, usize, Duration) {
    let (server, mut config) = pki_setup(move |_| resp.clone());
    // A stalled request fails fast instead of hanging the suite.
    config.idle_timeout = Duration::from_secs(3);
    let url = server.url("localhost", "/big");
    within(60, move || {
        let _server = server;
        let mut client = Client::new(config).expect("client");
        let req = Request::get(&url).expect("url").target(BodyTarget::Events);
        let id = client.submit(req).expect("submit");
        let mut t = Trace::default();
        let (mut paused_turns, mut leaks) = (None::<u32>, 0);
        let started = Instant::now();
        while !client.is_idle() {
            let was_paused = paused_turns.is_some();
            client
                .turn(Some(Duration::from_millis(5)), |ctl, ev| {
                    let pause = match (&ev, on) {
                        (Event::Body { .. }, _) if was_paused => {
                            leaks += 1;
                            false
                        }
                        (Event::Head { .. }, PauseOn::Head) => true,
                        (Event::Body { data, .. }, PauseOn::Body(f)) => {
                            paused_turns.is_none() && f(t.streamed.len() + data.len(), len)
                        }
                        _ => false,
                    };
                    if pause {
                        ctl.pause(id);
                        paused_turns = Some(0);
                    }
                    t.record(ev);
                })
                .expect("turn");
            if let Some(n) = paused_turns.as_mut() {
                *n += 1;
                if *n == 3 {
                    client.resume(id);
                    paused_turns = None;
                }
            }
        }
        (t, leaks, started.elapsed())
    })
}

#[test]
fn pause_and_resume_over_tls_keep_every_byte() {
    // Pause often, but never on the last Body event (see the next test).
    let len = 4 << 20;
    let resp = TestResponse::ok(body_of(len, 1));
    let on = PauseOn::Body(|so_far, len| so_far + 64 * 1024 < len);
    let (trace, leaks, took) = pause_resume(resp, len, on);
    let streamed = trace.streamed.clone();
    trace.ok();
    assert!(streamed == body_of(len, 1), "got {} of {len} bytes", streamed.len());
    assert_eq!(leaks, 0, "Body events while paused");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn resume_after_pausing_on_the_last_body_event_finishes() {
    // Pause on the Body event that completes the body; after resume, Done must follow
    // at once. Observed: nothing until the idle timeout (or the server closing).
    let resp = TestResponse::ok(body_of(1000, 1));
    let on = PauseOn::Body(|so_far, len| so_far == len);
    let (trace, _, took) = pause_resume(resp, 1000, on);
    assert_eq!(trace.streamed.len(), 1000);
    let (stats, _) = trace.ok();
    assert_eq!(stats.body_bytes, 1000);
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn resume_after_pausing_on_head_delivers_a_small_body() {
    // Head and body arrive in one TLS record; the pause leaves the body in the
    // connection's buffer. Observed: after resume nothing happens until the idle
    // timeout ("got 0 bytes"), for Content-Length, chunked and empty bodies alike.
    for (name, resp, len) in [
        ("length", TestResponse::ok(body_of(1000, 1)), 1000),
        ("chunked", TestResponse::ok(body_of(1000, 1)).chunked(), 1000),
        ("empty", TestResponse::ok(Vec::new()), 0),
    ] {
        let (trace, leaks, took) = pause_resume(resp, len, PauseOn::Head);
        assert_eq!(leaks, 0);
        let streamed = trace.streamed.clone();
        let (stats, _) = trace.ok();
        assert!(streamed == body_of(len, 1), "{name}: {} bytes", streamed.len());
        assert_eq!(stats.body_bytes, len as u64, "{name}");
        assert!(took < Duration::from_secs(2), "{name}: took {took:?}");
    }
}

#[test]
fn resume_after_pausing_on_head_keeps_a_close_delimited_body() {
    // Head, body and close_notify arrive together. Observed: Done with body_bytes 0 and
    // no Body event -- silent truncation, the worst outcome.
    let resp = TestResponse::ok(body_of(1000, 1)).close_delimited();
    let (trace, _, _) = pause_resume(resp, 1000, PauseOn::Head);
    let streamed = trace.streamed.clone();
    let (stats, _) = trace.ok();
    assert_eq!(streamed.len(), 1000, "body bytes delivered");
    assert!(streamed == body_of(1000, 1));
    assert_eq!(stats.body_bytes, 1000);
}

#[test]
fn pause_on_head_then_resume_streams_a_large_body() {
    let len = 1 << 20;
    let (trace, leaks, _) = pause_resume(TestResponse::ok(body_of(len, 1)), len, PauseOn::Head);
    assert_eq!(leaks, 0, "Body events while paused");
    let streamed = trace.streamed.clone();
    trace.ok();
    assert!(streamed == body_of(len, 1), "got {} bytes", streamed.len());
}

#[test]
fn cancel_mid_body_then_the_next_request_succeeds() {
    let (server, config) = pki_setup(|t| match t {
        "/big" => TestResponse::ok(body_of(8 << 20, 2)),
        _ => TestResponse::ok("small"),
    });
    let (big, small) = (server.url("localhost", "/big"), server.url("localhost", "/small"));
    let (first, second) = within(30, move || {
        let mut client = Client::new(config).expect("client");
        let id = client.submit(Request::get(&big).expect("url")).expect("submit");
        let mut traces: HashMap<RequestId, Trace> = HashMap::new();
        let mut next = None;
        client
            .run(|ctl, ev| {
                let eid = ev.id();
                if eid == id && matches!(ev, Event::Body { .. }) && next.is_none() {
                    ctl.cancel(id);
                    let req = Request::get(&small).expect("url").target(BodyTarget::Collect);
                    next = Some(ctl.submit(req));
                }
                traces.entry(eid).or_default().record(ev);
            })
            .expect("run");
        let second = traces.remove(&next.expect("submitted")).expect("trace");
        (traces.remove(&id).expect("trace"), second)
    });
    assert_eq!(first.err().kind(), ErrorKind::Cancelled);
    assert_eq!(second.ok().1, b"small");
}

// ---- close_notify in the wrong place -----------------------------------------------

#[test]
fn close_notify_before_content_length_is_complete_is_an_error() {
    let mut raw = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".to_vec();
    raw.extend_from_slice(&[b'z'; 50]);
    let (server, config) = pki_setup(move |_| TestResponse::raw(raw.clone()).close());
    let err = fetch(config, &server.url("localhost", "/")).err();
    assert_ne!(err.kind(), ErrorKind::Cancelled, "{err}");
}

#[test]
fn close_notify_inside_a_chunked_body_is_an_error() {
    let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec();
    let (server, config) = pki_setup(move |_| TestResponse::raw(raw.clone()).close());
    let err = fetch(config, &server.url("localhost", "/")).err();
    assert_ne!(err.kind(), ErrorKind::Cancelled, "{err}");
}

// ---- handshake failures from raw peers -----------------------------------------------

fn raw_url(port: u16) -> String {
    format!("https://localhost:{port}/")
}

fn trusting_config() -> Config {
    Config { tls: TestPki::new().tls_config(), connect_timeout: Duration::from_secs(5), ..Config::default() }
}

#[test]
fn protocol_version_alert_is_a_version_error() {
    let port = raw_peer(|mut s| {
        read_some(&mut s);
        // TLS 1.2 record: fatal alert, protocol_version (70).
        let _ = s.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 70]);
        let _ = s.shutdown(Shutdown::Write);
    });
    let url = raw_url(port);
    let err = fetch(trusting_config(), &url).err();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Version), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}

#[test]
fn handshake_failure_alert_is_an_alert_error() {
    let port = raw_peer(|mut s| {
        read_some(&mut s);
        let _ = s.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40]);
        let _ = s.shutdown(Shutdown::Write);
    });
    let err = fetch(trusting_config(), &raw_url(port)).err();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Alert), "{err}");
}

#[test]
fn plain_http_server_on_an_https_url_is_a_tls_error() {
    let port = raw_peer(|mut s| {
        read_some(&mut s);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        let _ = s.shutdown(Shutdown::Write);
    });
    let err = fetch(trusting_config(), &raw_url(port)).err();
    assert!(matches!(err.kind(), ErrorKind::Tls(_)), "{:?}: {err}", err.kind());
}

#[test]
fn server_closing_during_the_handshake_is_a_tls_error() {
    let port = raw_peer(|mut s| {
        read_some(&mut s);
        let _ = s.shutdown(Shutdown::Both);
    });
    let url = raw_url(port);
    let err = fetch(trusting_config(), &url).err();
    assert!(matches!(err.kind(), ErrorKind::Tls(_)), "{:?}: {err}", err.kind());
    assert!(err.to_string().contains(&url), "{err}");
}

#[test]
fn silent_server_times_out_in_the_tls_phase() {
    let port = raw_peer(|mut s| {
        read_some(&mut s);
        std::thread::sleep(Duration::from_secs(5));
    });
    let config = Config { connect_timeout: Duration::from_millis(300), ..trusting_config() };
    let started = Instant::now();
    let err = fetch(config, &raw_url(port)).err();
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Tls), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[test]
fn slow_response_times_out_in_the_head_phase() {
    let (server, mut config) = pki_setup(|_| TestResponse::ok("late").delay(Duration::from_secs(3)));
    config.head_timeout = Duration::from_millis(300);
    let err = fetch(config, &server.url("localhost", "/")).err();
    assert_eq!(err.kind(), ErrorKind::Timeout(Phase::Head), "{err}");
}

// ---- bodies both ways --------------------------------------------------------------

#[test]
fn post_body_over_tls_arrives_exactly() {
    let body = body_of(1 << 20, 3);
    let expect = body.clone();
    let pki = TestPki::new();
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |req| {
        TestResponse::ok(format!("{} bytes", req.body.len()))
    });
    let url = server.url("localhost", "/upload");
    let config = Config { tls: pki.tls_config(), ..Config::default() };
    let results = within(30, move || {
        volley::fetch_all(config, vec![Request::post(&url, body).expect("url")]).expect("fetch")
    });
    let r = results.into_iter().next().expect("one").expect("ok");
    assert_eq!(r.body, format!("{} bytes", 1 << 20).as_bytes());
    let req = &server.requests()[0];
    assert_eq!(req.method, "POST");
    assert!(req.body == expect, "server got {} bytes", req.body.len());
}

#[test]
fn file_target_over_tls_is_byte_exact() {
    let body = body_of(3 << 20, 4);
    let expect = body.clone();
    let (server, config) = pki_setup(move |_| TestResponse::ok(body.clone()).chunked());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.bin");
    let (url, p) = (server.url("localhost", "/f"), path.clone());
    let trace = within(30, move || {
        let mut client = Client::new(config).expect("client");
        let req = Request::get(&url).expect("url").target(BodyTarget::File(p));
        client.submit(req).expect("submit");
        let mut t = Trace::default();
        client.run(|_, ev| t.record(ev)).expect("run");
        t
    });
    let (stats, _) = trace.ok();
    assert_eq!(stats.body_bytes, expect.len() as u64);
    assert!(std::fs::read(&path).expect("read") == expect);
}

#[test]
fn head_and_204_over_tls_leave_the_connection_reusable() {
    // Raw, because the scripted server would send a body after these heads.
    let (server, config) = pki_setup(|t| match t {
        "/h" => TestResponse::raw(&b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"[..]),
        "/nc" => TestResponse::raw(&b"HTTP/1.1 204 No Content\r\n\r\n"[..]),
        _ => TestResponse::ok(body_of(5000, 5)),
    });
    let urls = [("HEAD", "/h"), ("GET", "/nc"), ("GET", "/g")];
    let base = server.url("localhost", "");
    let traces = within(30, move || {
        let mut client = Client::new(config).expect("client");
        let mut traces = Vec::new();
        for (method, path) in urls {
            let url = format!("{base}{path}");
            let req = match method {
                "HEAD" => Request::head(&url),
                _ => Request::get(&url),
            };
            client.submit(req.expect("url").target(BodyTarget::Collect)).expect("submit");
            let mut t = Trace::default();
            client.run(|_, ev| t.record(ev)).expect("run");
            traces.push(t);
        }
        traces
    });
    let bodies: Vec<Vec<u8>> = traces.into_iter().map(|t| t.ok().1).collect();
    assert_eq!(bodies, [Vec::new(), Vec::new(), body_of(5000, 5)]);
    assert_eq!(server.connections(), 1);
}
