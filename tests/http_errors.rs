#![allow(clippy::unwrap_used)]
//! Peers that break HTTP/1.1: each failure is a typed error naming the URL, never a
//! `Done` with a wrong body, never a hang, and never a disturbance to other requests.

mod support;

use std::time::{Duration, Instant};
use support::http::{drive, fetch_with, get, ok, test_config, Action, Outcome, Server};
use volley::{Client, Config, ErrorKind, Request, RequestOptions};

/// Fetch from a server that answers once with `bytes` and closes.
fn answer_and_close(bytes: &'static [u8]) -> (Server, Outcome) {
    let server = Server::start(move |_| Action::ReplyClose(bytes.to_vec()));
    let out = get(&server.url("/e"));
    (server, out)
}

/// Fetch from a server that answers with `bytes` and keeps the connection open.
fn answer_and_keep(bytes: &'static [u8]) -> (Server, Outcome) {
    let server = Server::start(move |_| Action::Reply(bytes.to_vec()));
    let out = get(&server.url("/e"));
    (server, out)
}

fn assert_protocol(out: &Outcome, server: &Server) {
    let e = out.error();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert!(e.to_string().contains(&server.url("/e")), "error names the URL: {e}");
    assert!(out.done.is_none());
}

#[test]
fn truncated_content_length_body_is_protocol_error() {
    let (server, out) = answer_and_close(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    assert_protocol(&out, &server);
    assert_eq!(out.status(), 200);
    assert_eq!(out.event_body, b"abc", "the bytes that came were delivered");
}

#[test]
fn truncated_chunked_body_mid_chunk_is_error() {
    let (server, out) = answer_and_close(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    assert_protocol(&out, &server);
}

#[test]
fn chunked_body_without_last_chunk_is_error() {
    let (server, out) =
        answer_and_close(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    assert_protocol(&out, &server);
    assert_eq!(out.event_body, b"hello");
}

#[test]
fn chunked_body_without_final_crlf_is_error() {
    let (server, out) =
        answer_and_close(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n");
    assert_protocol(&out, &server);
}

#[test]
fn invalid_chunk_size_is_protocol_error() {
    let (server, out) =
        answer_and_keep(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    assert_protocol(&out, &server);
}

#[test]
fn chunk_data_longer_than_its_size_is_protocol_error() {
    let (server, out) =
        answer_and_keep(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n");
    assert_protocol(&out, &server);
}

#[test]
fn chunked_and_content_length_together_is_protocol_error() {
    let (server, out) = answer_and_keep(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert_protocol(&out, &server);
    assert!(out.event_body.is_empty(), "no body bytes from an ambiguous response");
}

#[test]
fn two_different_content_lengths_is_protocol_error() {
    let (server, out) =
        answer_and_keep(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    assert_protocol(&out, &server);
}

#[test]
fn content_length_list_with_different_values_is_protocol_error() {
    let (server, out) = answer_and_keep(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!");
    assert_protocol(&out, &server);
}

#[test]
fn invalid_content_length_values_are_protocol_errors() {
    for bad in ["-1", "abc", "+5", "0x10", "99999999999999999999999"] {
        let bytes: &'static [u8] =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\nhello").into_bytes().leak();
        let (server, out) = answer_and_keep(bytes);
        assert_protocol(&out, &server);
    }
}

#[test]
fn unsupported_transfer_coding_is_protocol_error() {
    let (server, out) = answer_and_keep(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert_protocol(&out, &server);
}

#[test]
fn head_larger_than_max_head_size_is_protocol_error_naming_the_size() {
    let pad = "a".repeat(2000);
    let server = Server::always(format!("HTTP/1.1 200 OK\r\nX-Pad: {pad}\r\nContent-Length: 2\r\n\r\nok"));
    let cfg = Config { max_head_size: 1024, ..test_config() };
    let out = fetch_with(cfg, Request::get(&server.url("/e")).unwrap());
    assert_protocol(&out, &server);
    assert!(out.error().message().contains("1024"), "{}", out.error());
}

#[test]
fn endless_head_fails_at_the_limit_not_at_a_timeout() {
    // Header lines without end, then silence: the limit must trip, not a timer.
    let line = "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(200);
    let bytes = format!("HTTP/1.1 200 OK\r\n{line}").into_bytes();
    let server = Server::start(move |_| Action::ReplyThenHang(bytes.clone(), Duration::from_secs(5)));
    let cfg = Config { max_head_size: 4096, head_timeout: Duration::from_secs(3), ..test_config() };
    let start = Instant::now();
    let out = fetch_with(cfg, Request::get(&server.url("/e")).unwrap());
    assert_protocol(&out, &server);
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
}

#[test]
fn large_head_under_the_default_limit_is_fine() {
    let pad = "b".repeat(50 * 1024);
    let server = Server::always(format!("HTTP/1.1 200 OK\r\nX-Pad: {pad}\r\nContent-Length: 2\r\n\r\nok"));
    let out = get(&server.url("/e"));
    assert_eq!(out.body(), b"ok");
    assert_eq!(out.head.as_ref().unwrap().headers.get("x-pad").map(str::len), Some(50 * 1024));
}

#[test]
fn more_than_max_headers_fields_is_error() {
    let fields: String = (0..20).map(|i| format!("X-F{i}: {i}\r\n")).collect();
    let server = Server::always(format!("HTTP/1.1 200 OK\r\n{fields}Content-Length: 2\r\n\r\nok"));
    let cfg = Config { max_headers: 10, ..test_config() };
    let out = fetch_with(cfg.clone(), Request::get(&server.url("/e")).unwrap());
    assert_protocol(&out, &server);
    assert!(out.error().message().contains("10"), "{}", out.error());
    // Exactly at the limit is fine (9 fields + Content-Length = 10).
    let fields: String = (0..9).map(|i| format!("X-F{i}: {i}\r\n")).collect();
    let server = Server::always(format!("HTTP/1.1 200 OK\r\n{fields}Content-Length: 2\r\n\r\nok"));
    let out = fetch_with(cfg, Request::get(&server.url("/e")).unwrap());
    assert_eq!(out.body(), b"ok");
}

#[test]
fn garbage_status_lines_are_protocol_errors() {
    for bad in [
        &b"garbage\r\n\r\n"[..],
        b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
    ] {
        let (server, out) = answer_and_keep(bad);
        assert_protocol(&out, &server);
    }
}

#[test]
fn empty_response_on_fresh_connection_is_an_error() {
    let server = Server::start(|_| Action::Close);
    let out = get(&server.url("/e"));
    let e = out.error();
    assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Io), "{e:?}");
    assert!(e.to_string().contains(&server.url("/e")), "{e}");
    assert_eq!(server.requests(), 1, "a fresh connection is not retried");
}

#[test]
fn connection_refused_is_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/nobody");
    let out = get(&url);
    assert_eq!(out.error().kind(), ErrorKind::Connect, "{}", out.error());
    assert!(out.error().to_string().contains(&url), "{}", out.error());
}

#[test]
fn body_over_max_body_is_body_limit() {
    let server = Server::always(ok(vec![b'x'; 1000]));
    let req = Request::get(&server.url("/e"))
        .unwrap()
        .options(RequestOptions { max_body: Some(100), ..Default::default() });
    let out = support::http::fetch(req);
    assert_eq!(out.error().kind(), ErrorKind::BodyLimit, "{}", out.error());
    assert!(out.event_body.len() <= 100, "{} bytes delivered past the limit", out.event_body.len());
}

#[test]
fn collect_over_max_collect_is_body_limit() {
    let server = Server::always(ok(vec![b'x'; 1000]));
    let cfg = Config { max_collect: 100, ..test_config() };
    let out = fetch_with(cfg, Request::get(&server.url("/e")).unwrap().target(volley::BodyTarget::Collect));
    assert_eq!(out.error().kind(), ErrorKind::BodyLimit, "{}", out.error());
}

#[test]
fn one_broken_request_does_not_disturb_nine_others() {
    let server = Server::start(|r| {
        if r.path() == "/broken" {
            Action::head_then_close(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".to_vec())
        } else {
            Action::Reply(ok(format!("body for {}", r.path())))
        }
    });
    let mut client = Client::new(test_config()).unwrap();
    let mut ids = Vec::new();
    for i in 0..10 {
        let path = if i == 4 { "/broken".to_string() } else { format!("/ok{i}") };
        ids.push((client.submit(Request::get(&server.url(&path)).unwrap()).unwrap(), path));
    }
    let outs = drive(&mut client);
    for (id, path) in ids {
        let o = &outs[&id];
        if path == "/broken" {
            assert_eq!(o.error().kind(), ErrorKind::Protocol);
        } else {
            assert_eq!(o.body(), format!("body for {path}").as_bytes(), "{o:#?}");
        }
    }
}

#[test]
fn invalid_request_headers_are_refused_at_submit() {
    let mut client = Client::new(test_config()).unwrap();
    for (n, v) in [("X-Bad", "a\r\nInjected: 1"), ("Bad Name", "v"), ("", "v"), ("X-Nul", "a\0b")] {
        let r = Request::get("http://127.0.0.1:9/x").unwrap().header(n, v);
        let e = client.submit(r).expect_err("bad header must be refused");
        assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{n:?}: {e}");
    }
    assert_eq!(client.in_flight(), 0);
}

#[test]
fn overflowing_chunk_size_is_protocol_error() {
    let (server, out) = answer_and_keep(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    );
    assert_protocol(&out, &server);
}

#[test]
fn truncated_head_is_protocol_error() {
    let (server, out) = answer_and_close(b"HTTP/1.1 200 OK\r\nContent-Len");
    assert_protocol(&out, &server);
    assert!(out.head.is_none());
}

#[test]
fn truncated_redirect_body_fails_the_request() {
    let (server, out) =
        answer_and_close(b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 50\r\n\r\nshort");
    assert_protocol(&out, &server);
    assert_eq!(server.requests(), 1, "the redirect was not followed");
}

#[test]
fn interim_response_then_close_is_an_error() {
    let (server, out) = answer_and_close(b"HTTP/1.1 100 Continue\r\n\r\n");
    assert_protocol(&out, &server);
    assert!(out.head.is_none(), "a 1xx is never the final head");
}

#[test]
fn oversized_chunk_extension_and_trailer_are_refused() {
    let ext = "e".repeat(64 * 1024);
    let server = Server::always(format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;{ext}\r\nhello\r\n0\r\n\r\n"
    ));
    let out = get(&server.url("/e"));
    assert_protocol(&out, &server);
    let trailer = format!("X-T: {}\r\n", "t".repeat(1000)).repeat(200);
    let server = Server::always(format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n{trailer}\r\n"
    ));
    let out = get(&server.url("/e"));
    assert_protocol(&out, &server);
}
