#![allow(clippy::unwrap_used)]
//! Request bodies on the wire (bytes, files, readers of known and unknown length) and
//! response body targets (events, collect, writer, file).

mod support;

use std::io::{Cursor, Read, Write};
use std::sync::{Arc, Mutex};
use support::http::{fetch, ok, Action, Server};
use volley::{BodyTarget, ErrorKind, Method, Request};

/// A server that answers every request with the body it received.
fn echo() -> Server {
    Server::start(|r| Action::Reply(ok(&r.body)))
}

#[test]
fn post_bytes_exact_head_and_body() {
    let server = echo();
    let out = fetch(Request::post(&server.url("/p"), "hello").unwrap());
    assert_eq!(out.body(), b"hello");
    let seen = server.only();
    assert_eq!(
        seen.head_str(),
        format!(
            "POST /p HTTP/1.1\r\nHost: {}\r\nUser-Agent: volley/0.1.0\r\nContent-Length: 5\r\n\r\n",
            server.host()
        )
    );
    assert_eq!(seen.raw_body, b"hello");
}

#[test]
fn post_without_body_sends_content_length_zero() {
    let server = echo();
    fetch(Request::new(Method::Post, &server.url("/p")).unwrap());
    let seen = server.only();
    assert_eq!(seen.header("content-length"), Some("0"));
    assert!(seen.raw_body.is_empty());
}

#[test]
fn get_sends_no_framing_headers() {
    let server = echo();
    fetch(Request::get(&server.url("/g")).unwrap());
    let seen = server.only();
    assert!(
        !seen.has_header("content-length") && !seen.has_header("transfer-encoding"),
        "{}",
        seen.head_str()
    );
}

#[test]
fn caller_framing_headers_are_replaced_by_ours() {
    let server = echo();
    let req = Request::post(&server.url("/p"), "12345")
        .unwrap()
        .header("Content-Length", "999")
        .header("Transfer-Encoding", "chunked");
    let out = fetch(req);
    assert_eq!(out.body(), b"12345");
    let seen = server.only();
    let cl: Vec<_> = seen.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-length")).collect();
    assert_eq!(cl.len(), 1, "{}", seen.head_str());
    assert_eq!(seen.header("content-length"), Some("5"));
    assert!(!seen.has_header("transfer-encoding"));
}

#[test]
fn binary_post_body_is_sent_byte_exact() {
    let body = support::bytes(300_000, 7);
    let server = echo();
    let out = fetch(Request::post(&server.url("/bin"), body.clone()).unwrap());
    let seen = server.only();
    assert_eq!(seen.header("content-length"), Some("300000"));
    assert!(seen.body == body, "server saw different bytes");
    assert!(out.body() == body, "echo differs");
}

#[test]
fn put_from_file_is_streamed_with_its_length() {
    let body = support::bytes(5 * 1024 * 1024 + 3, 11);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&body).unwrap();
    file.flush().unwrap();
    let server = Server::start(|r| Action::Reply(ok(format!("{}", r.body.len()))));
    let out = fetch(Request::new(Method::Put, &server.url("/f")).unwrap().body_file(file.path()));
    assert_eq!(out.body(), format!("{}", body.len()).as_bytes());
    let seen = server.only();
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.header("content-length"), Some(body.len().to_string().as_str()));
    assert!(seen.body == body, "file bytes differ on the wire");
}

#[test]
fn missing_body_file_is_io_error() {
    let server = echo();
    let dir = tempfile::tempdir().unwrap();
    let out = fetch(Request::new(Method::Put, &server.url("/f")).unwrap().body_file(dir.path().join("nope")));
    assert_eq!(out.error().kind(), ErrorKind::Io, "{}", out.error());
    assert!(out.error().to_string().contains("nope"), "{}", out.error());
}

#[test]
fn reader_of_unknown_length_is_sent_chunked() {
    let body = support::bytes(200_000, 3);
    let server = echo();
    let req =
        Request::new(Method::Post, &server.url("/r")).unwrap().body_reader(Cursor::new(body.clone()), None);
    let out = fetch(req);
    let seen = server.only();
    assert_eq!(seen.header("transfer-encoding"), Some("chunked"), "{}", seen.head_str());
    assert!(!seen.has_header("content-length"));
    assert!(seen.raw_body.ends_with(b"\r\n0\r\n\r\n"), "chunked framing ends with the last chunk");
    assert!(seen.body == body, "decoded bytes differ");
    assert!(out.body() == body);
}

#[test]
fn empty_reader_of_unknown_length_sends_only_the_last_chunk() {
    let server = echo();
    let req = Request::new(Method::Post, &server.url("/r")).unwrap().body_reader(std::io::empty(), None);
    let out = fetch(req);
    assert_eq!(out.body(), b"");
    assert_eq!(server.only().raw_body, b"0\r\n\r\n");
}

#[test]
fn reader_of_known_length_uses_content_length() {
    let server = echo();
    let req = Request::new(Method::Post, &server.url("/r"))
        .unwrap()
        .body_reader(Cursor::new(b"abcdef".to_vec()), Some(6));
    fetch(req);
    let seen = server.only();
    assert_eq!(seen.header("content-length"), Some("6"));
    assert_eq!(seen.raw_body, b"abcdef");
}

#[test]
fn reader_shorter_than_declared_length_fails_without_hanging() {
    let server = echo();
    let req = Request::new(Method::Post, &server.url("/r"))
        .unwrap()
        .body_reader(Cursor::new(b"abc".to_vec()), Some(10));
    let out = fetch(req);
    assert!(out.failed.is_some(), "{out:#?}");
    assert!(matches!(out.error().kind(), ErrorKind::InvalidRequest | ErrorKind::Io), "{}", out.error());
}

/// A reader that fails after some bytes.
struct Failing(usize);
impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(b'z');
        self.0 -= n;
        Ok(n)
    }
}

#[test]
fn failing_reader_is_io_error() {
    let server = echo();
    let req = Request::new(Method::Post, &server.url("/r")).unwrap().body_reader(Failing(1000), None);
    let out = fetch(req);
    assert_eq!(out.error().kind(), ErrorKind::Io, "{}", out.error());
}

#[test]
fn collect_target_hands_the_body_in_done() {
    let body = support::bytes(100_000, 5);
    let server = Server::always(ok(&body));
    let out = fetch(Request::get(&server.url("/c")).unwrap().target(BodyTarget::Collect));
    assert_eq!(out.body_events, 0, "collected bodies are not also sent as events");
    let collected = out.done.as_ref().unwrap().1.as_ref().expect("collected body");
    assert!(*collected == body);
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);
impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn writer_target_receives_the_body() {
    let body = support::bytes(700_000, 9);
    let server = Server::always(ok(&body));
    let sink = Shared::default();
    let out =
        fetch(Request::get(&server.url("/w")).unwrap().target(BodyTarget::Writer(Box::new(sink.clone()))));
    assert_eq!(out.stats().body_bytes, body.len() as u64);
    assert_eq!(out.body_events, 0);
    assert!(*sink.0.lock().unwrap() == body);
}

#[test]
fn file_target_writes_the_body() {
    let body = support::bytes(1_500_000, 13);
    let server = Server::always(ok(&body));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.bin");
    std::fs::write(&path, b"old content that is longer than nothing").unwrap();
    let out = fetch(Request::get(&server.url("/f")).unwrap().target(BodyTarget::File(path.clone())));
    assert_eq!(out.stats().body_bytes, body.len() as u64);
    assert!(std::fs::read(&path).unwrap() == body, "file content differs");
}

#[test]
fn file_target_after_redirect_holds_only_the_final_body() {
    let server = Server::start(|r| {
        Action::Reply(if r.path() == "/r" {
            support::http::response(302, &[("Location", "/final")], "redirect body")
        } else {
            ok("final body")
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    fetch(Request::get(&server.url("/r")).unwrap().target(BodyTarget::File(path.clone())));
    assert_eq!(std::fs::read(&path).unwrap(), b"final body");
}

#[test]
fn file_target_in_missing_directory_is_io_error() {
    let server = Server::always(ok("x"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/out");
    let out = fetch(Request::get(&server.url("/f")).unwrap().target(BodyTarget::File(path)));
    assert_eq!(out.error().kind(), ErrorKind::Io, "{}", out.error());
}

#[test]
fn chunked_response_body_to_every_target_is_identical() {
    let body = support::bytes(400_000, 17);
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(12_345) {
        wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        wire.extend_from_slice(piece);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let server = Server::always(wire);
    let events = fetch(Request::get(&server.url("/e")).unwrap());
    assert!(events.event_body == body);
    let collect = fetch(Request::get(&server.url("/c")).unwrap().target(BodyTarget::Collect));
    assert!(collect.body() == body);
    let sink = Shared::default();
    fetch(Request::get(&server.url("/w")).unwrap().target(BodyTarget::Writer(Box::new(sink.clone()))));
    assert!(*sink.0.lock().unwrap() == body);
}

#[test]
fn early_error_response_during_a_large_upload_is_delivered() {
    // RFC 9112 §9.3 / RFC 9110 §15.5.14: the server answers 413 after the head and
    // ignores the body; the client must deliver that answer, not a write error.
    let server = Server::start_early(|_| {
        Action::ReplyClose(support::http::response(413, &[("Connection", "close")], "too big"))
    });
    let body = vec![b'u'; 16 * 1024 * 1024];
    let out = fetch(Request::post(&server.url("/upload"), body).unwrap());
    assert_eq!(out.status(), 413, "{out:#?}");
    assert_eq!(out.body(), b"too big");
}

#[test]
fn early_final_response_to_a_streamed_upload_is_delivered() {
    let server = Server::start_early(|_| {
        Action::Reply(support::http::response(200, &[("Connection", "close")], "ok early"))
    });
    let req = Request::new(Method::Put, &server.url("/stream"))
        .unwrap()
        .body_reader(std::io::repeat(b'r').take(16 * 1024 * 1024), None);
    let out = fetch(req);
    assert_eq!(out.status(), 200, "{out:#?}");
    assert_eq!(out.body(), b"ok early");
}

#[test]
fn early_keep_alive_response_with_unfinished_upload_is_not_reused() {
    let server = Server::start_early(|_| Action::Reply(ok("early")));
    let other = Server::always(ok("next"));
    let mut client = volley::Client::new(support::http::test_config()).unwrap();
    let body = std::io::repeat(b'q').take(32 * 1024 * 1024);
    let a = client
        .submit(Request::new(Method::Put, &server.url("/up")).unwrap().body_reader(body, None))
        .unwrap();
    let mut outs = support::http::drive(&mut client);
    let b = client.submit(Request::get(&server.url("/again")).unwrap()).unwrap();
    let c = client.submit(Request::get(&other.url("/x")).unwrap()).unwrap();
    outs.extend(support::http::drive(&mut client));
    assert_eq!(outs[&a].body(), b"early", "{:#?}", outs[&a]);
    assert_eq!(outs[&b].body(), b"early", "{:#?}", outs[&b]);
    assert_eq!(outs[&c].body(), b"next");
    assert_eq!(server.connections(), 2, "the half-sent connection was not reused");
}
