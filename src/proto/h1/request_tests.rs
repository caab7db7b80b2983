//! Request serialisation tests, byte for byte.

use super::request::{write_request_head, BodyLen, RequestWriter};
use crate::error::ErrorKind;
use crate::headers::Headers;

fn head(method: &str, target: &str, headers: &Headers, body: BodyLen) -> String {
    let mut out = Vec::new();
    write_request_head(&mut out, method, target, "example.org:8080", "volley/0.1", headers, body);
    String::from_utf8(out).expect("ascii head")
}

#[test]
fn defaults_host_and_user_agent() {
    let mut h = Headers::new();
    h.push("Accept", "*/*");
    assert_eq!(
        head("GET", "/a%20b?q=1", &h, BodyLen::None),
        "GET /a%20b?q=1 HTTP/1.1\r\nHost: example.org:8080\r\nUser-Agent: volley/0.1\r\nAccept: */*\r\n\r\n"
    );
}

#[test]
fn caller_overrides_and_framing_fields_dropped() {
    let mut h = Headers::new();
    h.push("Accept", "x");
    h.push("user-agent", "me/2");
    h.push("host", "other.example");
    h.push("Content-Length", "3");
    h.push("Transfer-Encoding", "gzip");
    h.push("X-Dup", "1");
    h.push("X-Dup", "2");
    assert_eq!(
        head("POST", "/", &h, BodyLen::Known(5)),
        "POST / HTTP/1.1\r\nHost: other.example\r\nAccept: x\r\nuser-agent: me/2\r\n\
         X-Dup: 1\r\nX-Dup: 2\r\nContent-Length: 5\r\n\r\n"
    );
}

#[test]
fn body_framing_fields() {
    let h = Headers::new();
    let base = "Host: example.org:8080\r\nUser-Agent: volley/0.1\r\n";
    assert_eq!(
        head("PUT", "/x", &h, BodyLen::Known(0)),
        format!("PUT /x HTTP/1.1\r\n{base}Content-Length: 0\r\n\r\n")
    );
    assert_eq!(
        head("POST", "/x", &h, BodyLen::Chunked),
        format!("POST /x HTTP/1.1\r\n{base}Transfer-Encoding: chunked\r\n\r\n")
    );
}

/// Writes everything pending in pieces of `step` bytes, like a transport that takes a
/// little at a time, and returns what was written.
fn drain(w: &mut RequestWriter, step: usize) -> Vec<u8> {
    let mut written = Vec::new();
    while !w.pending().is_empty() {
        let n = step.min(w.pending().len());
        written.extend_from_slice(&w.pending()[..n]);
        w.advance(n);
    }
    written
}

#[test]
fn chunked_body_is_framed() {
    let mut w = RequestWriter::new(b"HEAD\r\n\r\n".to_vec(), BodyLen::Chunked);
    assert!(!w.head_written() && w.wants_body());
    w.advance(3);
    assert!(!w.head_written());
    w.advance(5);
    assert!(w.head_written());
    w.push_body(b"hello").expect("chunk");
    w.push_body(b"").expect("empty push is nothing");
    w.push_body(&[b'z'; 17]).expect("chunk");
    assert!(!w.is_finished());
    w.finish_body().expect("finish");
    assert!(!w.wants_body() && !w.is_finished());
    let written = drain(&mut w, 4);
    assert_eq!(written, b"5\r\nhello\r\n11\r\nzzzzzzzzzzzzzzzzz\r\n0\r\n\r\n");
    assert!(w.is_finished());
    assert!(w.push_body(b"late").is_err());
}

#[test]
fn counted_body_exact_short_and_over() {
    let mut w = RequestWriter::new(b"H\r\n\r\n".to_vec(), BodyLen::Known(6));
    w.push_body(b"abc").expect("part");
    let e = w.push_body(b"defg").expect_err("over");
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
    assert!(e.message().contains("7 bytes pushed, 6 expected"), "{}", e.message());
    let e = w.finish_body().expect_err("short");
    assert!(e.message().contains("3 bytes sent, 6 expected"), "{}", e.message());
    w.push_body(b"def").expect("rest");
    assert!(!w.wants_body());
    w.finish_body().expect("complete is fine");
    assert_eq!(drain(&mut w, 2), b"H\r\n\r\nabcdef");
    assert!(w.is_finished() && w.head_written());
}

#[test]
fn no_body_finishes_with_the_head() {
    let mut w = RequestWriter::new(b"GET / HTTP/1.1\r\n\r\n".to_vec(), BodyLen::None);
    assert!(!w.wants_body() && !w.is_finished());
    assert!(w.push_body(b"x").is_err());
    drain(&mut w, 100);
    assert!(w.is_finished());
    let w = RequestWriter::new(Vec::new(), BodyLen::Known(0));
    assert!(w.is_finished() && w.head_written());
}

#[test]
fn backpressure_and_interleaved_writes_keep_order() {
    let mut w = RequestWriter::new(b"H\r\n\r\n".to_vec(), BodyLen::Chunked);
    let block = vec![b'q'; 30_000];
    let mut pushed = 0;
    while w.wants_body() {
        w.push_body(&block).expect("push");
        pushed += 1;
    }
    assert_eq!(pushed, 3, "stops asking once 64 KiB are pending");
    let mut written = drain_some(&mut w, 50_000);
    assert!(w.wants_body());
    w.push_body(b"end").expect("push");
    w.finish_body().expect("finish");
    written.extend(drain(&mut w, 7_777));
    let mut expected = b"H\r\n\r\n".to_vec();
    for _ in 0..3 {
        expected.extend_from_slice(b"7530\r\n");
        expected.extend_from_slice(&block);
        expected.extend_from_slice(b"\r\n");
    }
    expected.extend_from_slice(b"3\r\nend\r\n0\r\n\r\n");
    assert!(written == expected, "bytes out of order or lost");
}

fn drain_some(w: &mut RequestWriter, n: usize) -> Vec<u8> {
    let out = w.pending()[..n].to_vec();
    w.advance(n);
    out
}
