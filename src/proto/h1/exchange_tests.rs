//! Exchange tests: every response runs through the three-ways helper.

use super::drive::End;
use super::exchange::{CloseReason, Exchange, Step};
use super::head::HeadLimits;
use super::testutil::{err, finished, get, limits, three_ways};
use crate::error::ErrorKind;
use crate::event::Version;

#[test]
fn content_length_body() {
    let (ex, out) = finished(false, false, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello");
    assert_eq!(out.end, End::Done);
    assert_eq!(out.body, b"hello");
    let head = &out.heads[0];
    assert_eq!((head.version, head.status, head.reason.as_str()), (Version::Http11, 200, "OK"));
    assert_eq!(head.headers.get("x-a"), Some("b"));
    assert!(ex.is_done() && ex.has_head() && ex.got_any_byte() && ex.keep_alive());
    assert!(!ex.is_close_delimited());
    assert_eq!(ex.body_received(), 5);
}

#[test]
fn zero_length_body_is_done_at_once() {
    let out = get(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!((out.end, out.body.len()), (End::Done, 0));
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;name=val;x\r\nhello\r\n6 ; q=\"a b\"\r\n world\r\nA\r\n0123456789\r\n\
        0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n";
    let (ex, out) = finished(false, false, input);
    assert_eq!(out.end, End::Done);
    assert_eq!(out.body, b"hello world0123456789");
    assert!(ex.keep_alive());
    assert_eq!(ex.body_received(), 21);
}

#[test]
fn chunk_size_overflow_rejected() {
    let out = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n");
    assert!(err(&out).contains("chunk size too large"), "{}", err(&out));
}

#[test]
fn bad_crlf_after_chunk_data_rejected() {
    let out = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n");
    assert!(err(&out).contains("not followed by CRLF"), "{}", err(&out));
    assert_eq!(out.body, b"hello", "data before the bad byte is still delivered");
    let out = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n");
    assert_eq!(err(&out), "bare LF in chunk line (CRLF required)");
}

#[test]
fn close_delimited_ends_at_eof() {
    let (ex, out) = finished(false, false, b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nabc\r\n\r\ndef");
    assert_eq!(out.end, End::DoneAtEof);
    assert_eq!(out.body, b"abc\r\n\r\ndef");
    assert!(ex.is_close_delimited() && ex.is_done() && !ex.keep_alive());
    assert_eq!(ex.close_reason(), Some(CloseReason::CloseDelimited));
    // Without EOF it is simply not finished.
    let out = three_ways(|| Exchange::new(false, false, limits()), b"HTTP/1.1 200 OK\r\n\r\nabc", false);
    assert_eq!((out.end, out.body), (End::Incomplete, b"abc".to_vec()));
}

#[test]
fn no_body_for_head_204_304() {
    let (ex, out) = finished(true, false, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    assert_eq!((out.end, out.body.len()), (End::Done, 0));
    assert!(ex.keep_alive());
    let (_, out) = finished(true, false, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!((out.end, out.body.len()), (End::Done, 0));
    let out = get(b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n");
    assert_eq!((out.end, out.heads[0].status, out.body.len()), (End::Done, 204, 0));
    let out = get(b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n");
    assert_eq!((out.end, out.heads[0].status, out.body.len()), (End::Done, 304, 0));
}

#[test]
fn interim_responses_are_skipped() {
    let input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
        HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let (ex, out) = finished(false, false, input);
    assert_eq!(out.heads.len(), 1);
    assert_eq!(out.heads[0].status, 200);
    assert!(!out.heads[0].headers.contains("link"), "interim fields must not leak");
    assert_eq!((out.end, out.body), (End::Done, b"ok".to_vec()));
    assert!(ex.keep_alive());
}

#[test]
fn interim_only_then_eof_is_an_error() {
    let out = get(b"HTTP/1.1 100 Continue\r\n\r\n");
    assert!(out.heads.is_empty());
    assert!(err(&out).contains("before the response head"), "{}", err(&out));
}

#[test]
fn switching_protocols_rejected() {
    let (ex, out) = finished(false, false, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
    assert!(err(&out).contains("101"), "{}", err(&out));
    assert!(!ex.keep_alive() && !ex.has_head());
}

#[test]
fn te_with_cl_rejected() {
    let out = get(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert!(err(&out).contains("both Transfer-Encoding and Content-Length"), "{}", err(&out));
    assert!(out.heads.is_empty(), "a framing error comes instead of the head");
}

#[test]
fn different_content_lengths_rejected() {
    let out = get(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    assert!(err(&out).contains("conflicting Content-Length"), "{}", err(&out));
    let out = get(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!");
    assert!(err(&out).contains("conflicting Content-Length"), "{}", err(&out));
    let out = get(b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello");
    assert!(err(&out).contains("invalid Content-Length"), "{}", err(&out));
}

#[test]
fn identical_content_lengths_accepted() {
    let out = get(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello");
    assert_eq!((out.end, out.body), (End::Done, b"hello".to_vec()));
    let out = get(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello");
    assert_eq!((out.end, out.body), (End::Done, b"hello".to_vec()));
}

fn small(max_head_size: usize, max_headers: usize) -> impl Fn() -> Exchange {
    move || Exchange::new(false, false, HeadLimits { max_head_size, max_headers })
}

#[test]
fn oversized_head_is_an_error_not_a_hang() {
    // No end in sight: fails once max_head_size bytes are buffered, without EOF.
    let mut input = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
    input.extend_from_slice(&[b'a'; 200]);
    let out = three_ways(small(64, 10), &input, false);
    assert_eq!(err(&out), "response head larger than 64 bytes");
    // A complete head that is too long is refused the same way.
    input.extend_from_slice(b"\r\n\r\n");
    let out = three_ways(small(64, 10), &input, false);
    assert_eq!(err(&out), "response head larger than 64 bytes");
    // A head of exactly the limit is fine.
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let out = three_ways(small(head.len(), 10), head, false);
    assert_eq!(out.end, End::Done);
    let out = three_ways(small(head.len() - 1, 10), head, false);
    assert!(err(&out).contains("larger than"));
}

#[test]
fn too_many_headers_is_an_error() {
    let input = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    let out = three_ways(small(1024, 3), input, true);
    assert_eq!(err(&out), "response head has more than 3 header fields");
    let out = three_ways(small(1024, 4), input, true);
    assert_eq!(out.end, End::DoneAtEof);
}

#[test]
fn keep_alive_rules() {
    let cases: [(&[u8], bool, Option<CloseReason>); 6] = [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, None),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false, Some(CloseReason::Http10)),
        (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", false, None),
        (
            b"HTTP/1.1 200 OK\r\nConnection: foo, close\r\nContent-Length: 0\r\n\r\n",
            false,
            Some(CloseReason::ResponseClose),
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true, Some(CloseReason::RequestClose)),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nbody", false, Some(CloseReason::CloseDelimited)),
    ];
    for (input, request_close, reason) in cases {
        let (ex, out) = finished(false, request_close, input);
        assert!(matches!(out.end, End::Done | End::DoneAtEof), "{out:?}");
        assert_eq!(ex.close_reason(), reason, "{}", String::from_utf8_lossy(input));
        assert_eq!(ex.keep_alive(), reason.is_none());
    }
}

#[test]
fn truncated_bodies_fail_at_eof() {
    let (ex, out) = finished(false, false, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
    assert_eq!(err(&out), "body cut short: got 5 of 10 bytes");
    assert_eq!(out.body, b"hello");
    assert!(ex.has_head() && !ex.is_done() && !ex.keep_alive());
    assert_eq!(ex.body_received(), 5);
    let out = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    assert!(err(&out).starts_with("chunked body ended before the last chunk"), "{}", err(&out));
    // Cut inside the trailer section: the last chunk came, the message did not end.
    let out = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n");
    assert!(err(&out).starts_with("chunked body ended"), "{}", err(&out));
    let (ex, out) = finished(false, false, b"HTTP/1.1 200 OK\r\nContent-Le");
    assert!(err(&out).contains("before the response head"), "{}", err(&out));
    assert!(ex.got_any_byte() && !ex.has_head());
    let (ex, out) = finished(false, false, b"");
    assert!(err(&out).contains("no response bytes"), "{}", err(&out));
    assert!(!ex.got_any_byte());
}

#[test]
fn malformed_heads_rejected() {
    let bad: [&[u8]; 8] = [
        b"HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A : a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX A: a\r\n\r\n",
        b"HTTP/1.1 600 Nope\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
    ];
    for input in bad {
        let out = get(input);
        assert!(out.heads.is_empty() && matches!(out.end, End::Err(_)), "{out:?}");
        assert!(out.body.is_empty());
    }
}

#[test]
fn garbage_fails_before_the_head_limit() {
    // A TLS alert on a plain-HTTP port: refused on the first bytes, no EOF needed.
    let out = three_ways(|| Exchange::new(false, false, limits()), b"\x15\x03\x01\x00\x02\x02\x46", false);
    assert!(err(&out).contains("HTTP/1.x status line"), "{}", err(&out));
}

#[test]
fn leading_empty_lines_and_bare_lf_tolerated() {
    let out = get(b"\r\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok");
    assert_eq!((out.heads[0].status, out.end, out.body), (200, End::Done, b"ok".to_vec()));
}

#[test]
fn unknown_transfer_coding_rejected() {
    let out = get(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    assert!(err(&out).contains("unsupported transfer coding"), "{}", err(&out));
}

#[test]
fn after_done_nothing_is_consumed() {
    let mut ex = Exchange::new(false, false, limits());
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1";
    let (n, step) = ex.handle_read(input).expect("head");
    assert!(matches!(step, Step::Head(_)));
    let rest = &input[n..];
    assert_eq!(ex.handle_read(rest).expect("body"), (1, Step::Body(0..1)));
    assert_eq!(ex.handle_read(&rest[1..]).expect("done"), (0, Step::Done));
    assert_eq!(ex.handle_read(&rest[1..]).expect("idle"), (0, Step::NeedMore));
    assert_eq!(ex.handle_eof().expect("eof after done"), Step::Done);
}

#[test]
fn errors_are_sticky_and_protocol_kind() {
    let mut ex = Exchange::new(false, false, limits());
    let e = ex.handle_read(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").expect_err("bad CL");
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(ex.handle_read(b"").is_err());
    assert!(ex.handle_eof().is_err());
    assert!(!ex.keep_alive());
}
