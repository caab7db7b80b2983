//! TLS connection lifecycle through the public API: pooled connections the server has
//! closed, requests the server drops on a reused connection (retry rules, RFC 9110
//! §9.2.2), close_notify without a TCP FIN, KeyUpdate mid-body, one-byte records,
//! large heads across TLS records.

mod support;

use support::within;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use support::tls::{server_config, TestPki, TestRequest, TestResponse, TlsTestServer};
use volley::{BodyTarget, Client, Config, Error, ErrorKind, Event, Request, Stats};

type Ended = Result<(Stats, Vec<u8>), Error>;

fn setup(handler: impl Fn(&TestRequest) -> TestResponse + Send + Sync + 'static) -> (TlsTestServer, Config) {
    let pki = TestPki::new();
    let server =
        TlsTestServer::start(server_config(&pki.server_cert(&["localhost", "127.0.0.1"]), None), handler);
    let config = Config { tls: pki.tls_config(), idle_timeout: Duration::from_secs(5), ..Config::default() };
    (server, config)
}

/// Run `reqs` one after another on one client, each submitted from the previous one's
/// end event after `pause`; every request must end exactly once.
fn sequential(config: Config, mut reqs: Vec<Request>, pause: Duration) -> Vec<Ended> {
    let n = reqs.len();
    reqs.reverse();
    within(30, move || {
        let mut client = Client::new(config).expect("client");
        let first = reqs.pop().expect("a request");
        client.submit(first.target(BodyTarget::Collect)).expect("submit");
        let mut ends: Vec<Ended> = Vec::new();
        client
            .run(|ctl, ev| {
                let end = match ev {
                    Event::Done { stats, body, .. } => Ok((stats, body.unwrap_or_default())),
                    Event::Failed { error, .. } => Err(error),
                    _ => return,
                };
                ends.push(end);
                if let Some(next) = reqs.pop() {
                    std::thread::sleep(pause);
                    ctl.submit(next.target(BodyTarget::Collect));
                }
            })
            .expect("run");
        assert_eq!(ends.len(), n, "every request ends exactly once: {ends:?}");
        ends
    })
}

fn gets(server: &TlsTestServer, paths: &[&str]) -> Vec<Request> {
    paths.iter().map(|p| Request::get(&server.url("localhost", p)).expect("url")).collect()
}

fn ok(end: &Ended) -> (&Stats, &[u8]) {
    match end {
        Ok((s, b)) => (s, b),
        Err(e) => panic!("expected success, got {:?}: {e}", e.kind()),
    }
}

/// A keep-alive response (no `Connection: close`) followed by the server closing:
/// with close_notify (`clean`) or with a bare TCP close.
fn answer_then_close(req: &TestRequest, clean: bool) -> TestResponse {
    let body = format!("answer {}", req.target);
    let raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    let r = TestResponse::raw(raw.clone());
    if clean {
        r.close()
    } else {
        r.truncate_after(raw.len())
    }
}

#[test]
fn pooled_connection_the_server_closed_is_not_reused() {
    for clean in [true, false] {
        let (server, config) = setup(move |req| answer_then_close(req, clean));
        // The pause lets the close reach the client before the next request.
        let ends = sequential(config, gets(&server, &["/1", "/2", "/3"]), Duration::from_millis(100));
        for (i, end) in ends.iter().enumerate() {
            let (stats, body) = ok(end);
            assert_eq!(body, format!("answer /{}", i + 1).as_bytes(), "clean {clean}");
            assert!(!stats.reused, "clean {clean}: request {i}");
        }
        assert_eq!(server.connections(), 3, "clean {clean}");
    }
}

/// The server reads the second request on a connection and closes without answering
/// (as a server whose keep-alive timer fired just then would).
fn drop_second_request(req: &TestRequest, clean: bool) -> TestResponse {
    if req.index_on_connection == 1 {
        let r = TestResponse::raw(Vec::new());
        return if clean { r.close() } else { r.truncate_after(0) };
    }
    TestResponse::ok(format!("ok {}", req.target))
}

#[test]
fn get_dropped_on_a_reused_connection_is_retried_once_on_a_fresh_one() {
    for clean in [true, false] {
        let (server, config) = setup(move |req| drop_second_request(req, clean));
        let ends = sequential(config, gets(&server, &["/1", "/2"]), Duration::ZERO);
        assert_eq!(ok(&ends[0]).1, b"ok /1");
        let (stats, body) = ok(&ends[1]);
        assert_eq!(body, b"ok /2", "clean {clean}");
        assert_eq!(stats.retries, 1, "clean {clean}");
        assert!(!stats.reused, "the retry runs on a fresh connection");
        let seen: Vec<(usize, String)> =
            server.requests().into_iter().map(|r| (r.connection, r.target)).collect();
        assert_eq!(seen, [(0, "/1".into()), (0, "/2".into()), (1, "/2".into())]);
    }
}

#[test]
fn gets_dropped_on_two_reused_connections_are_retried() {
    // As above, but the origin has two connections, so neither failure leaves it
    // empty: this path works, which narrows the bug above to the origin's last
    // connection.
    let (server, mut config) = setup(|req| drop_second_request(req, false));
    config.max_per_origin = 2;
    let ends = within(30, move || {
        let mut client = Client::new(config).expect("client");
        let mut ends: Vec<(String, Ended)> = Vec::new();
        for batch in 0..2 {
            for i in 0..2 {
                let url = server.url("localhost", &format!("/{batch}{i}"));
                let req = Request::get(&url).expect("url");
                client.submit(req.target(BodyTarget::Collect)).expect("submit");
            }
            client
                .run(|_, ev| match ev {
                    Event::Done { stats, body, .. } => {
                        ends.push((stats.final_url.clone(), Ok((stats, body.unwrap_or_default()))))
                    }
                    Event::Failed { error, .. } => ends.push((error.url().into(), Err(error))),
                    _ => {}
                })
                .expect("run");
        }
        assert_eq!(server.connections(), 4);
        ends
    });
    assert_eq!(ends.len(), 4);
    for (url, end) in &ends {
        let (stats, body) = ok(end);
        let path = &url[url.rfind('/').expect("path")..];
        assert_eq!(body, format!("ok {path}").as_bytes());
        let second_batch = path.starts_with("/1");
        assert_eq!(stats.retries, u32::from(second_batch), "{url}");
    }
}

#[test]
fn post_dropped_on_a_reused_connection_is_not_retried() {
    let (server, config) = setup(|req| drop_second_request(req, false));
    let reqs = vec![
        Request::get(&server.url("localhost", "/1")).expect("url"),
        Request::post(&server.url("localhost", "/2"), "payload").expect("url"),
    ];
    let ends = sequential(config, reqs, Duration::ZERO);
    assert_eq!(ok(&ends[0]).1, b"ok /1");
    let err = ends[1].as_ref().expect_err("a POST is not replayed");
    assert!(err.to_string().contains("/2"), "{err}");
    assert_eq!(server.requests().len(), 2, "the POST was sent once");
}

#[test]
fn request_dropped_on_a_fresh_connection_fails_without_retry() {
    let (server, config) = setup(|_| TestResponse::raw(Vec::new()).truncate_after(0));
    let ends = sequential(config, gets(&server, &["/x"]), Duration::ZERO);
    let err = ends[0].as_ref().expect_err("nothing to retry on");
    assert_ne!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(server.requests().len(), 1);
}

type ServerStream = rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>;

/// A hand-driven rustls server: for each connection, read one request head, then run
/// `script`, then hold the TCP connection open for a while (no FIN unless scripted).
fn scripted_tls_server(script: fn(&mut ServerStream)) -> (u16, Config) {
    let pki = TestPki::new();
    let sc = server_config(&pki.server_cert(&["localhost"]), None);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            let _ = sock.set_nodelay(true);
            let conn = rustls::ServerConnection::new(Arc::clone(&sc)).expect("conn");
            let mut tls = rustls::StreamOwned::new(conn, sock);
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
            script(&mut tls);
            std::thread::sleep(Duration::from_secs(10));
        }
    });
    let config = Config { tls: pki.tls_config(), idle_timeout: Duration::from_secs(5), ..Config::default() };
    (port, config)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn fetch_scripted(script: fn(&mut ServerStream)) -> (Ended, Duration) {
    let (port, config) = scripted_tls_server(script);
    let started = std::time::Instant::now();
    let req = Request::get(&format!("https://localhost:{port}/")).expect("url");
    let mut ends = sequential(config, vec![req], Duration::ZERO);
    (ends.pop().expect("one"), started.elapsed())
}

#[test]
fn close_notify_ends_a_close_delimited_body_without_waiting_for_fin() {
    let (end, took) = fetch_scripted(|tls| {
        let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nno fin here");
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    assert_eq!(ok(&end).1, b"no fin here");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn key_updates_in_the_middle_of_a_body_are_transparent() {
    let (end, _) = fetch_scripted(|tls| {
        let body = pattern(300_000);
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        let _ = tls.write_all(head.as_bytes());
        for part in body.chunks(100_000) {
            let _ = tls.write_all(part);
            let _ = tls.flush();
            // TLS 1.3 KeyUpdate (RFC 8446 §4.6.3), asking the client to update too.
            tls.conn.refresh_traffic_keys().expect("key update");
        }
        let _ = tls.flush();
    });
    assert!(ok(&end).1 == pattern(300_000));
}

#[test]
fn one_byte_tls_records_parse_like_one_big_one() {
    for close_delimited in [false, true] {
        let script: fn(&mut ServerStream) = if close_delimited {
            |tls| {
                let mut all = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
                all.extend_from_slice(&pattern(3000));
                for b in all {
                    let _ = tls.write_all(&[b]);
                    let _ = tls.flush();
                }
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        } else {
            |tls| {
                let mut all = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                for c in pattern(3000).chunks(7) {
                    all.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                    all.extend_from_slice(c);
                    all.extend_from_slice(b"\r\n");
                }
                all.extend_from_slice(b"0\r\n\r\n");
                for b in all {
                    let _ = tls.write_all(&[b]);
                    let _ = tls.flush();
                }
            }
        };
        let (end, _) = fetch_scripted(script);
        assert!(ok(&end).1 == pattern(3000), "close-delimited {close_delimited}");
    }
}

#[test]
fn heads_spanning_several_tls_records_parse_up_to_the_limit() {
    let (server, config) = setup(|req| {
        let size: usize = req.target[1..].parse().expect("size");
        TestResponse::ok("body").header("X-Big", &"v".repeat(size))
    });
    for size in [20_000, 40_000, 63_000] {
        let ends = sequential(config.clone(), gets(&server, &[&format!("/{size}")]), Duration::ZERO);
        assert_eq!(ok(&ends[0]).1, b"body", "{size}");
    }
    for size in [70_000, 300_000] {
        let ends = sequential(config.clone(), gets(&server, &[&format!("/{size}")]), Duration::ZERO);
        let err = ends[0].as_ref().expect_err("head over max_head_size");
        assert_eq!(err.kind(), ErrorKind::Protocol, "{size}: {err}");
    }
}

#[test]
fn redirect_loop_and_collect_limit_over_tls() {
    let (server, mut config) = setup(|req| match req.target.as_str() {
        "/big" => TestResponse::ok(vec![0u8; 100_000]).close_delimited(),
        _ => TestResponse::new(302, "").header("Location", "/loop"),
    });
    config.max_collect = 1000;
    let ends = sequential(config, gets(&server, &["/loop", "/big"]), Duration::ZERO);
    let loop_err = ends[0].as_ref().expect_err("loop");
    assert_eq!(loop_err.kind(), ErrorKind::TooManyRedirects, "{loop_err}");
    let big_err = ends[1].as_ref().expect_err("over max_collect");
    assert_eq!(big_err.kind(), ErrorKind::BodyLimit, "{big_err}");
}

#[test]
fn connection_idle_past_pool_idle_timeout_is_not_reused() {
    // Batches of work on one client, as an embedding program does: run, wait, run.
    // Observed: the second batch reuses the 500 ms old connection although
    // pool_idle_timeout is 200 ms, because `turn` admits queued requests (taking any
    // idle connection) before it fires the pool's expiry timers.
    let (server, mut config) = setup(|_| TestResponse::ok("x"));
    config.pool_idle_timeout = Duration::from_millis(200);
    let url = server.url("localhost", "/");
    let reused = within(30, move || {
        let mut client = Client::new(config).expect("client");
        let mut reused = Vec::new();
        for _ in 0..2 {
            let req = Request::get(&url).expect("url").target(BodyTarget::Collect);
            client.submit(req).expect("submit");
            client
                .run(|_, ev| match ev {
                    Event::Done { stats, .. } => reused.push(stats.reused),
                    Event::Failed { error, .. } => panic!("{error}"),
                    _ => {}
                })
                .expect("run");
            std::thread::sleep(Duration::from_millis(500));
        }
        reused
    });
    assert_eq!(reused, [false, false], "the expired connection must not be reused");
    assert_eq!(server.connections(), 2);
}

#[test]
fn uploads_from_a_reader_and_a_file_arrive_exactly() {
    let data = pattern(3_000_000);
    let (server, config) = setup(|req| {
        let te = req.header("transfer-encoding").unwrap_or("-").to_string();
        TestResponse::ok(format!("{} {te}", req.body.len()))
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("up.bin");
    std::fs::write(&file, &data).expect("write");
    let url = server.url("localhost", "/up");
    let reqs = vec![
        Request::new(volley::Method::Put, &url)
            .expect("url")
            .body_reader(std::io::Cursor::new(data.clone()), None),
        Request::new(volley::Method::Put, &url).expect("url").body_file(&file),
    ];
    let ends = sequential(config, reqs, Duration::ZERO);
    assert_eq!(ok(&ends[0]).1, b"3000000 chunked", "unknown length goes chunked");
    assert_eq!(ok(&ends[1]).1, b"3000000 -", "a file has a Content-Length");
    for req in server.requests() {
        assert!(req.body == data, "{} bytes differ", req.body.len());
    }
}

#[test]
fn early_response_while_uploading_is_delivered() {
    // The server answers 413 after the head alone, sends close_notify and never reads
    // the 20 MB body; the client must report the 413, not a write error.
    let (port, config) = scripted_tls_server(|tls| {
        let _ = tls.write_all(
            b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!",
        );
        tls.conn.send_close_notify();
        let _ = tls.flush();
    });
    let req = Request::post(&format!("https://localhost:{port}/"), vec![0u8; 20_000_000]);
    let ends = sequential(config, vec![req.expect("url")], Duration::ZERO);
    let (stats, body) = ok(&ends[0]);
    assert_eq!((stats.status, body), (413, &b"too big!"[..]));
}
