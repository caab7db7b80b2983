#![allow(clippy::unwrap_used)]
//! Response framing (RFC 9112 §6) and the exact request bytes, against a scripted
//! loopback server.

mod support;

use std::time::Duration;
use support::http::{drive, get, ok, response, test_config, Action, Server};
use volley::{Client, Request, Version};

#[test]
fn request_bytes_are_exact() {
    let server = Server::always(ok("x"));
    let out = get(&server.url("/path?q"));
    assert_eq!(out.body(), b"x");
    let seen = server.only();
    let want = format!(
        "GET /path?q HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: volley/0.1.0\r\n\r\n",
        server.port()
    );
    assert_eq!(seen.head_str(), want);
    assert!(seen.raw_body.is_empty());
}

#[test]
fn caller_headers_follow_host_and_user_agent_in_order() {
    let server = Server::always(ok("x"));
    let req = Request::get(&server.url("/h")).unwrap().header("Accept", "*/*").header("X-Two", "2");
    let out = support::http::fetch(req);
    assert_eq!(out.status(), 200);
    let want = format!(
        "GET /h HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: volley/0.1.0\r\nAccept: */*\r\nX-Two: 2\r\n\r\n",
        server.port()
    );
    assert_eq!(server.only().head_str(), want);
}

#[test]
fn fragment_is_never_sent_and_empty_path_is_slash() {
    let server = Server::always(ok("x"));
    get(&server.url("/a/b?c=d#frag"));
    get(&server.url(""));
    let seen = server.seen();
    assert_eq!(seen[0].target, "/a/b?c=d");
    assert_eq!(seen[1].target, "/");
}

#[test]
fn content_length_body() {
    let server = Server::always(response(200, &[("X-A", "1")], "hello, world"));
    let out = get(&server.url("/cl"));
    assert_eq!(out.status(), 200);
    let head = out.head.as_ref().unwrap();
    assert_eq!(head.version, Version::Http11);
    assert_eq!(head.reason, "OK");
    assert_eq!(head.headers.get("x-a"), Some("1"));
    assert_eq!(out.body(), b"hello, world");
    assert_eq!(out.stats().body_bytes, 12);
    assert_eq!(out.stats().status, 200);
}

#[test]
fn content_length_body_trickled_in_pieces() {
    let bytes = ok("0123456789abcdef");
    let server = Server::start(move |_| Action::Trickle {
        pieces: bytes.chunks(7).map(<[u8]>::to_vec).collect(),
        delay: Duration::from_millis(20),
        close: false,
    });
    let out = get(&server.url("/t"));
    assert_eq!(out.body(), b"0123456789abcdef");
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let body = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                5;ext=1\r\nhello\r\n6;a;b=\"c d\"\r\n world\r\nA\r\n0123456789\r\n0;last\r\nX-Trailer: t\r\nX-Other: o\r\n\r\n";
    let server = Server::always(body);
    let mut client = Client::new(test_config()).unwrap();
    let a = client.submit(Request::get(&server.url("/c1")).unwrap()).unwrap();
    let mut outs = drive(&mut client);
    let b = client.submit(Request::get(&server.url("/c2")).unwrap()).unwrap();
    outs.extend(drive(&mut client));
    for id in [a, b] {
        assert_eq!(outs[&id].body(), b"hello world0123456789", "{:#?}", outs[&id]);
        assert_eq!(outs[&id].stats().body_bytes, 21);
    }
    // The trailers were consumed exactly: the connection was reusable.
    assert_eq!(server.connections(), 1);
    assert!(outs[&b].stats().reused);
}

#[test]
fn chunked_trickled_one_byte_at_a_time() {
    let body =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n";
    let server = Server::start(move |_| Action::trickle_bytes(body, Duration::from_millis(1), false));
    let out = get(&server.url("/c"));
    assert_eq!(out.body(), b"abcde");
}

#[test]
fn close_delimited_body() {
    let server =
        Server::start(|_| Action::ReplyClose(b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nuntil the end".to_vec()));
    let out = get(&server.url("/close"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.body(), b"until the end");
}

#[test]
fn close_delimited_http10_body() {
    let server = Server::start(|_| Action::ReplyClose(b"HTTP/1.0 200 OK\r\n\r\nold school".to_vec()));
    let out = get(&server.url("/10"));
    assert_eq!(out.head.as_ref().unwrap().version, Version::Http10);
    assert_eq!(out.body(), b"old school");
}

/// Asserts that a bodiless response (`first`) is complete without reading a body and
/// that the connection is then reused for a second request.
fn bodiless_then_reuse(method_first: &str, first: &'static str) {
    let server = Server::start(move |r| {
        if r.path() == "/first" {
            Action::Reply(first.as_bytes().to_vec())
        } else {
            Action::Reply(ok("second"))
        }
    });
    let mut client = Client::new(test_config()).unwrap();
    let method = volley::Method::parse(method_first).unwrap();
    let a = client.submit(Request::new(method, &server.url("/first")).unwrap()).unwrap();
    let mut outs = drive(&mut client);
    let b = client.submit(Request::get(&server.url("/second")).unwrap()).unwrap();
    outs.extend(drive(&mut client));
    assert!(outs[&a].done.is_some(), "{:#?}", outs[&a]);
    assert_eq!(outs[&a].body(), b"");
    assert_eq!(outs[&a].stats().body_bytes, 0);
    assert_eq!(outs[&b].body(), b"second", "{:#?}", outs[&b]);
    assert_eq!(server.connections(), 1, "connection should be reused");
    let seen = server.seen();
    assert_eq!(seen[0].method, method_first);
    assert_eq!((seen[1].conn, seen[1].index), (1, 1));
}

#[test]
fn head_gets_no_body_even_with_content_length() {
    bodiless_then_reuse("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
}

#[test]
fn head_gets_no_body_even_with_chunked() {
    bodiless_then_reuse("HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
}

#[test]
fn status_204_has_no_body() {
    bodiless_then_reuse("GET", "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n");
}

#[test]
fn status_304_has_no_body_even_with_content_length() {
    bodiless_then_reuse("GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n");
}

#[test]
fn interim_100_continue_is_skipped() {
    let server = Server::always(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: 1\r\n\r\nfinal",
    );
    let mut client = Client::new(test_config()).unwrap();
    let id = client.submit(Request::get(&server.url("/100")).unwrap()).unwrap();
    let mut heads = 0;
    let mut outs = std::collections::HashMap::new();
    client
        .run(|_, e| {
            if matches!(e, volley::Event::Head { .. }) {
                heads += 1;
            }
            support::http::record(&mut outs, &e);
        })
        .unwrap();
    assert_eq!(heads, 1, "only the final head is an event");
    let out = &outs[&id];
    assert_eq!(out.status(), 200);
    assert_eq!(out.head.as_ref().unwrap().headers.get("x-final"), Some("1"));
    assert_eq!(out.body(), b"final");
}

#[test]
fn several_interim_responses_are_skipped() {
    let server = Server::always(
        "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\
         HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let out = get(&server.url("/103"));
    assert_eq!(out.status(), 200);
    assert!(!out.head.as_ref().unwrap().headers.contains("link"));
    assert_eq!(out.body(), b"ok");
}

#[test]
fn zero_content_length_completes_at_once() {
    let server = Server::always("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let out = get(&server.url("/zero"));
    assert_eq!(out.status(), 200);
    assert_eq!(out.body(), b"");
}

#[test]
fn header_values_and_duplicates_are_kept_in_order() {
    let server = Server::always("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Space:   padded  \r\nContent-Length: 0\r\n\r\n");
    let out = get(&server.url("/dups"));
    let h = &out.head.as_ref().unwrap().headers;
    let cookies: Vec<&[u8]> = h.get_all("Set-Cookie").collect();
    assert_eq!(cookies, vec![&b"a=1"[..], &b"b=2"[..]]);
    assert_eq!(h.get("x-space"), Some("padded"));
}

#[test]
fn large_body_across_many_reads() {
    let body: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i: u32| (i % 251) as u8).collect();
    let server = Server::always(ok(&body));
    let out = get(&server.url("/big"));
    assert_eq!(out.event_body.len(), body.len());
    assert!(out.event_body == body, "body bytes differ");
    assert!(out.body_events > 1);
}

#[test]
fn caller_host_and_user_agent_replace_ours() {
    let server = Server::always(ok("x"));
    let req = Request::get(&server.url("/v"))
        .unwrap()
        .header("User-Agent", "mine/1")
        .header("Host", "example.test");
    support::http::fetch(req);
    assert_eq!(
        server.only().head_str(),
        "GET /v HTTP/1.1\r\nHost: example.test\r\nUser-Agent: mine/1\r\n\r\n"
    );
}

#[test]
fn configured_user_agent_is_sent() {
    let server = Server::always(ok("x"));
    let cfg = volley::Config { user_agent: "crawler/9".into(), ..test_config() };
    support::http::fetch_with(cfg, Request::get(&server.url("/")).unwrap());
    assert_eq!(server.only().header("user-agent"), Some("crawler/9"));
}

#[test]
fn target_is_percent_encoded() {
    let server = Server::always(ok("x"));
    get(&format!("{}/a b/ü?q=x y", server.url("")));
    assert_eq!(server.only().target, "/a%20b/%C3%BC?q=x%20y");
}

#[test]
fn stats_are_consistent() {
    let server = Server::always(ok("0123456789"));
    let out = get(&server.url("/s"));
    let s = out.stats();
    assert_eq!((s.status, s.body_bytes, s.redirects, s.retries, s.reused), (200, 10, 0, 0, false));
    assert!(s.first_byte <= s.total, "{s:?}");
    assert_eq!(s.final_url, server.url("/s"));
}

#[test]
fn close_delimited_redirect_is_followed() {
    let server = Server::start(|r| {
        if r.path() == "/r" {
            Action::ReplyClose(
                b"HTTP/1.1 302 Found\r\nLocation: /f\r\n\r\nredirect body until close".to_vec(),
            )
        } else {
            Action::Reply(ok("final"))
        }
    });
    let out = get(&server.url("/r"));
    assert_eq!(out.body(), b"final", "{out:#?}");
    assert_eq!(out.stats().redirects, 1);
    assert_eq!(server.connections(), 2);
}

#[test]
fn userinfo_in_the_url_never_reaches_the_wire_as_host_or_target() {
    let server = Server::always(ok("x"));
    let url = format!("http://user:secret@127.0.0.1:{}/u", server.port());
    let out = get(&url);
    assert_eq!(out.body(), b"x");
    let seen = server.only();
    assert_eq!(seen.header("host"), Some(server.host().as_str()));
    assert_eq!(seen.target, "/u");
}

#[test]
fn lenient_but_valid_forms_are_accepted() {
    for (wire, body) in [
        // Empty reason phrase (RFC 9112 §4: reason-phrase may be empty, SP required).
        (&b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok"[..], &b"ok"[..]),
        // Empty field value.
        (b"HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 2\r\n\r\nok", b"ok"),
        // Chunk size with leading zeros, upper-case hex, BWS before an extension (§7.1.1).
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0005\r\nhello\r\nA ;x=1\r\n0123456789\r\n0\r\n\r\n", b"hello0123456789"),
        // Transfer coding names are case-insensitive.
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", b"ok"),
        // Identical Content-Length values (RFC 9110 §8.6 allows accepting them).
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", b"ok"),
    ] {
        let server = Server::always(wire.to_vec());
        let out = get(&server.url("/l"));
        assert_eq!(out.body(), body, "{}: {out:#?}", String::from_utf8_lossy(wire));
    }
}

#[test]
fn bare_lf_line_endings_are_accepted() {
    let server = Server::always("HTTP/1.1 200 OK\nContent-Length: 2\nX: y\n\nok");
    let out = get(&server.url("/lf"));
    assert_eq!(out.body(), b"ok");
    assert_eq!(out.head.as_ref().unwrap().headers.get("x"), Some("y"));
}

#[test]
fn head_of_exactly_max_head_size_is_accepted_one_more_is_not() {
    let limit = 1024;
    let head_with_pad = |pad: usize| {
        let base = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: \r\n\r\n".len();
        format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: {}\r\n\r\nok", "p".repeat(pad - base))
    };
    let cfg = || volley::Config { max_head_size: limit, ..test_config() };
    let exact = Server::always(head_with_pad(limit));
    let out = support::http::fetch_with(cfg(), Request::get(&exact.url("/x")).unwrap());
    assert_eq!(out.body(), b"ok", "{out:#?}");
    let over = Server::always(head_with_pad(limit + 1));
    let out = support::http::fetch_with(cfg(), Request::get(&over.url("/x")).unwrap());
    assert_eq!(out.error().kind(), volley::ErrorKind::Protocol);
}

#[test]
fn http10_keep_alive_without_length_reads_to_close() {
    let server = Server::start(|_| {
        Action::ReplyClose(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nuntil close".to_vec())
    });
    let mut client = Client::new(test_config()).unwrap();
    let a = client.submit(Request::get(&server.url("/a")).unwrap()).unwrap();
    let mut outs = drive(&mut client);
    let b = client.submit(Request::get(&server.url("/b")).unwrap()).unwrap();
    outs.extend(drive(&mut client));
    assert_eq!(outs[&a].body(), b"until close");
    assert_eq!(outs[&b].body(), b"until close");
    assert_eq!(server.connections(), 2);
}

#[test]
fn body_sent_with_204_is_not_taken_as_the_next_response() {
    let server = Server::start(|r| {
        Action::Reply(if r.path() == "/a" {
            b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfake".to_vec()
        } else {
            ok("real")
        })
    });
    let mut client = Client::new(test_config()).unwrap();
    let a = client.submit(Request::get(&server.url("/a")).unwrap()).unwrap();
    let mut outs = drive(&mut client);
    let b = client.submit(Request::get(&server.url("/b")).unwrap()).unwrap();
    outs.extend(drive(&mut client));
    assert_eq!(outs[&a].status(), 204);
    assert_eq!(outs[&a].body(), b"");
    assert_eq!(outs[&b].body(), b"real", "{:#?}", outs[&b]);
    assert_eq!(server.connections(), 2, "bytes after a 204 make the connection unusable");
}
