#![allow(clippy::unwrap_used)]
//! Persistent connections (RFC 9112 §9.3): reuse, close signals, stale pooled
//! connections and the retry of idempotent requests on a fresh connection.

mod support;

use std::time::{Duration, Instant};
use support::http::{drive, ok, response, test_config, Action, Outcome, SeenRequest, Server};
use volley::{Client, ErrorKind, Method, Request};

/// Run `requests` one after another on the same client, each to completion.
fn sequential(client: &mut Client, requests: Vec<Request>) -> Vec<Outcome> {
    requests
        .into_iter()
        .map(|r| {
            let id = client.submit(r).unwrap();
            drive(client).remove(&id).unwrap()
        })
        .collect()
}

fn gets(server: &Server, paths: &[&str]) -> Vec<Request> {
    paths.iter().map(|p| Request::get(&server.url(p)).unwrap()).collect()
}

/// Turn the client for `d` without any request in flight (lets it notice closes).
fn idle_turns(client: &mut Client, d: Duration) {
    let end = Instant::now() + d;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        client.turn(Some(left), |_, e| panic!("unexpected event {e:?}")).unwrap();
    }
}

/// A server that closes without answering the second request on the first
/// connection (the race of a keep-alive timer firing as the client reuses it), and
/// answers everything else with `reply`.
fn second_request_unanswered(reply: impl Fn(&SeenRequest) -> Vec<u8> + Send + Sync + 'static) -> Server {
    Server::start(move |r| if (r.conn, r.index) == (1, 1) { Action::Close } else { Action::Reply(reply(r)) })
}

#[test]
fn three_sequential_requests_share_one_connection() {
    let server = Server::start(|r| Action::Reply(ok(format!("body of {}", r.path()))));
    let mut client = Client::new(test_config()).unwrap();
    let outs = sequential(&mut client, gets(&server, &["/1", "/2", "/3"]));
    for (i, o) in outs.iter().enumerate() {
        assert_eq!(o.body(), format!("body of /{}", i + 1).as_bytes());
        assert_eq!(o.stats().reused, i > 0, "request {i}");
        assert_eq!(o.stats().retries, 0);
    }
    assert_eq!(server.connections(), 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    for (i, s) in seen.iter().enumerate() {
        assert_eq!((s.conn, s.index), (1, i), "{s:#?}");
    }
}

#[test]
fn connection_close_from_server_forces_a_new_connection() {
    // The server keeps the socket open: only the header says close. Reusing it
    // anyway would be a client bug the counters catch.
    let server = Server::start(|r| Action::Reply(response(200, &[("Connection", "close")], r.path())));
    let mut client = Client::new(test_config()).unwrap();
    let outs = sequential(&mut client, gets(&server, &["/a", "/b"]));
    assert_eq!(outs[0].body(), b"/a");
    assert_eq!(outs[1].body(), b"/b");
    assert!(!outs[1].stats().reused);
    assert_eq!(server.connections(), 2);
    let seen = server.seen();
    assert_eq!((seen[0].conn, seen[1].conn), (1, 2));
}

#[test]
fn connection_close_among_other_tokens_is_honoured() {
    let server = Server::start(|_| Action::Reply(response(200, &[("Connection", "Upgrade, CLOSE")], "x")));
    let mut client = Client::new(test_config()).unwrap();
    sequential(&mut client, gets(&server, &["/a", "/b"]));
    assert_eq!(server.connections(), 2);
}

#[test]
fn request_connection_close_is_sent_and_not_reused() {
    let server = Server::always(ok("x"));
    let mut client = Client::new(test_config()).unwrap();
    let reqs = vec![
        Request::get(&server.url("/a")).unwrap().header("Connection", "close"),
        Request::get(&server.url("/b")).unwrap(),
    ];
    sequential(&mut client, reqs);
    assert_eq!(server.seen()[0].header("connection"), Some("close"));
    assert_eq!(server.connections(), 2);
}

#[test]
fn http10_response_without_keep_alive_is_not_reused() {
    let server = Server::start(|r| {
        Action::Reply(format!("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", &r.path()[1..3]).into_bytes())
    });
    let mut client = Client::new(test_config()).unwrap();
    let outs = sequential(&mut client, gets(&server, &["/aa", "/bb"]));
    assert_eq!(outs[0].body(), b"aa");
    assert_eq!(outs[1].body(), b"bb");
    assert_eq!(server.connections(), 2);
}

#[test]
fn http10_response_with_keep_alive_works() {
    let server = Server::always("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    let mut client = Client::new(test_config()).unwrap();
    let outs = sequential(&mut client, gets(&server, &["/a", "/b"]));
    assert_eq!(outs[0].body(), b"ok");
    assert_eq!(outs[1].body(), b"ok");
    assert!(server.connections() <= 2);
}

#[test]
fn server_closing_idle_pooled_connection_is_noticed() {
    let server = Server::start(|r| Action::ReplyThenCloseAfter(ok(r.path()), Duration::from_millis(50)));
    let mut client = Client::new(test_config()).unwrap();
    let first = sequential(&mut client, gets(&server, &["/one"]));
    idle_turns(&mut client, Duration::from_millis(300));
    let second = sequential(&mut client, gets(&server, &["/two"]));
    assert_eq!(first[0].body(), b"/one");
    assert_eq!(second[0].body(), b"/two");
    assert!(!second[0].stats().reused);
    assert_eq!(server.connections(), 2);
    assert_eq!(server.requests(), 2, "the closed connection must not get the request");
}

#[test]
fn stale_pooled_connection_found_at_reuse_still_succeeds() {
    // The client does not turn while the server closes, so it learns of the close
    // only when it wants the connection again.
    let server = Server::start(|r| Action::ReplyThenCloseAfter(ok(r.path()), Duration::from_millis(20)));
    let mut client = Client::new(test_config()).unwrap();
    let first = sequential(&mut client, gets(&server, &["/one"]));
    std::thread::sleep(Duration::from_millis(200)); // the test thread, not the client
    let second = sequential(&mut client, gets(&server, &["/two"]));
    assert_eq!(first[0].body(), b"/one");
    assert_eq!(second[0].body(), b"/two", "{:#?}", second[0]);
    assert_eq!(server.connections(), 2);
}

#[test]

fn get_is_retried_once_when_reused_connection_closes_unanswered() {
    let server = second_request_unanswered(|r| ok(r.path()));
    let mut client = Client::new(test_config()).unwrap();
    let outs = sequential(&mut client, gets(&server, &["/first", "/second"]));
    assert_eq!(outs[0].body(), b"/first");
    assert_eq!(outs[1].body(), b"/second", "{:#?}", outs[1]);
    assert_eq!(outs[1].stats().retries, 1);
    assert!(!outs[1].stats().reused, "the retry ran on a fresh connection");
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!((seen[1].conn, seen[1].index, seen[1].path()), (1, 1, "/second"));
    assert_eq!((seen[2].conn, seen[2].index, seen[2].path()), (2, 0, "/second"));
    assert_eq!(seen[1].head, seen[2].head, "the retry sends the same request");
}

#[test]

fn retry_happens_at_most_once() {
    // Every reused connection closes unanswered, and so does the retry's connection
    // when it is reused... but the retry is on a fresh one; make fresh ones fail too
    // after the first request.
    let server = Server::start(|r| if r.seq == 0 { Action::Reply(ok("a")) } else { Action::Close });
    let mut client = Client::new(test_config()).unwrap();
    let outs = sequential(&mut client, gets(&server, &["/a", "/b"]));
    assert_eq!(outs[0].body(), b"a");
    let e = outs[1].error();
    assert_eq!(outs[1].failed.as_ref().unwrap().1.retries, 1);
    assert!(e.to_string().contains("/b"), "{e}");
    assert_eq!(server.requests(), 3, "original, one retry, no more");
}

#[test]

fn put_with_bytes_is_retried_with_the_same_body() {
    let server = second_request_unanswered(|r| ok(r.method.clone()));
    let mut client = Client::new(test_config()).unwrap();
    let reqs = vec![
        Request::get(&server.url("/warm")).unwrap(),
        Request::new(Method::Put, &server.url("/put")).unwrap().body_bytes(&b"payload"[..]),
    ];
    let outs = sequential(&mut client, reqs);
    assert_eq!(outs[1].body(), b"PUT", "{:#?}", outs[1]);
    assert_eq!(outs[1].stats().retries, 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].body, b"payload");
    assert_eq!(seen[2].header("content-length"), Some("7"));
}

#[test]
fn post_is_not_retried_on_reused_connection_close() {
    let server = second_request_unanswered(|_| ok("fine"));
    let mut client = Client::new(test_config()).unwrap();
    let reqs = vec![
        Request::get(&server.url("/warm")).unwrap(),
        Request::post(&server.url("/post"), "data").unwrap(),
    ];
    let outs = sequential(&mut client, reqs);
    assert_eq!(outs[0].body(), b"fine");
    let e = outs[1].error();
    assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Io), "{e:?}");
    assert!(e.to_string().contains("/post"), "error names the URL: {e}");
    assert_eq!(outs[1].failed.as_ref().unwrap().1.retries, 0);
    assert_eq!(server.requests(), 2, "POST was sent once only");
    assert_eq!(server.seen()[1].body, b"data");
}

#[test]
fn unrequested_bytes_after_response_prevent_reuse() {
    // Extra bytes after a complete Content-Length body: the connection cannot be
    // trusted (RFC 9112 §9.3 / response smuggling); the next request must use a new one.
    let server = Server::start(|r| {
        let mut b = ok(r.path());
        if r.index == 0 {
            b.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!");
        }
        Action::Reply(b)
    });
    let mut client = Client::new(test_config()).unwrap();
    let outs = sequential(&mut client, gets(&server, &["/a", "/b"]));
    assert_eq!(outs[0].body(), b"/a");
    assert_eq!(outs[1].body(), b"/b", "{:#?}", outs[1]);
    assert_eq!(server.connections(), 2);
}

#[test]
fn queued_requests_reuse_a_single_allowed_connection() {
    let server = Server::start(|r| Action::Reply(ok(r.path())));
    let mut client = Client::new(volley::Config { max_per_origin: 1, ..test_config() }).unwrap();
    let ids: Vec<_> = (0..5)
        .map(|i| client.submit(Request::get(&server.url(&format!("/q{i}"))).unwrap()).unwrap())
        .collect();
    let outs = drive(&mut client);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(outs[id].body(), format!("/q{i}").as_bytes());
    }
    assert_eq!(server.connections(), 1);
    assert_eq!(server.max_open(), 1);
    let idx: Vec<usize> = server.seen().iter().map(|s| s.index).collect();
    assert_eq!(idx, vec![0, 1, 2, 3, 4]);
}

#[test]
fn one_shot_reader_is_not_retried_on_reused_connection_close() {
    let server = second_request_unanswered(|_| ok("fine"));
    let mut client = Client::new(test_config()).unwrap();
    let reqs = vec![
        Request::get(&server.url("/warm")).unwrap(),
        Request::new(Method::Put, &server.url("/put"))
            .unwrap()
            .body_reader(std::io::Cursor::new(b"once".to_vec()), Some(4)),
    ];
    let outs = sequential(&mut client, reqs);
    assert!(outs[1].failed.is_some(), "{:#?}", outs[1]);
    assert_eq!(server.requests(), 2, "a one-shot body cannot be sent again");
}

#[test]
fn pooled_connection_is_closed_after_pool_idle_timeout() {
    let server = Server::start(|r| Action::Reply(ok(r.path())));
    let config = volley::Config { pool_idle_timeout: Duration::from_millis(200), ..test_config() };
    let mut client = Client::new(config).unwrap();
    sequential(&mut client, gets(&server, &["/a"]));
    assert_eq!(server.open_now(), 1, "kept alive after the response");
    idle_turns(&mut client, Duration::from_millis(500));
    let start = Instant::now();
    while server.open_now() != 0 && start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5)); // the server thread notices EOF
    }
    assert_eq!(server.open_now(), 0, "the client closed its idle connection");
    let outs = sequential(&mut client, gets(&server, &["/b"]));
    assert_eq!(outs[0].body(), b"/b");
    assert!(!outs[0].stats().reused);
    assert_eq!(server.connections(), 2);
}

#[test]
fn no_idle_pool_means_no_reuse() {
    let server = Server::start(|r| Action::Reply(ok(r.path())));
    let config = volley::Config { pool_max_idle_per_origin: 0, ..test_config() };
    let mut client = Client::new(config).unwrap();
    let outs = sequential(&mut client, gets(&server, &["/a", "/b", "/c"]));
    assert!(outs.iter().all(|o| !o.stats().reused));
    assert_eq!(server.connections(), 3);
}

#[test]
fn retry_works_while_the_origin_has_other_queued_requests() {
    // Same fault as above, but a third request keeps the origin queued, so the retry
    // path is reached without the origin being released first.
    let server = second_request_unanswered(|r| ok(r.path()));
    let mut client = Client::new(volley::Config { max_per_origin: 1, ..test_config() }).unwrap();
    let ids: Vec<_> = ["/a", "/b", "/c"]
        .iter()
        .map(|p| client.submit(Request::get(&server.url(p)).unwrap()).unwrap())
        .collect();
    let outs = drive(&mut client);
    assert_eq!(outs[&ids[0]].body(), b"/a");
    assert_eq!(outs[&ids[1]].body(), b"/b", "{:#?}", outs[&ids[1]]);
    assert_eq!(outs[&ids[1]].stats().retries, 1);
    assert_eq!(outs[&ids[2]].body(), b"/c");
    let seen: Vec<(usize, usize, String)> =
        server.seen().iter().map(|s| (s.conn, s.index, s.target.clone())).collect();
    assert_eq!(seen[..3], [(1, 0, "/a".into()), (1, 1, "/b".into()), (2, 0, "/b".into())]);
}
