//! Head parser tests beyond those the exchange runs: incremental scanning.

use super::head::{HeadLimits, HeadParser};
use crate::event::Version;

#[test]
fn grows_byte_by_byte_and_reports_consumed() {
    let input = b"HTTP/1.0 404 Not Found\r\nA: 1\r\n\r\nbody";
    let mut parser = HeadParser::new(HeadLimits { max_head_size: 1024, max_headers: 8 });
    let head_len = input.len() - 4;
    for end in 0..head_len {
        assert!(parser.parse(&input[..end]).expect("partial").is_none(), "complete at {end}");
    }
    let (n, head) = parser.parse(input).expect("ok").expect("complete");
    assert_eq!(n, head_len);
    assert_eq!((head.version, head.status, head.reason.as_str()), (Version::Http10, 404, "Not Found"));
    assert_eq!(head.headers.get("a"), Some("1"));
}

#[test]
fn end_found_when_split_inside_the_empty_line() {
    let mut parser = HeadParser::new(HeadLimits { max_head_size: 1024, max_headers: 8 });
    let input = b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
    for cut in [input.len() - 3, input.len() - 2, input.len() - 1] {
        let mut p = HeadParser::new(HeadLimits { max_head_size: 1024, max_headers: 8 });
        assert!(p.parse(&input[..cut]).expect("partial").is_none());
        assert_eq!(p.parse(input).expect("ok").map(|(n, _)| n), Some(input.len()));
    }
    assert!(parser.parse(input).expect("ok").is_some());
}

#[test]
fn missing_reason_phrase_is_empty() {
    let mut parser = HeadParser::new(HeadLimits { max_head_size: 1024, max_headers: 8 });
    let (_, head) = parser.parse(b"HTTP/1.1 200\r\n\r\n").expect("ok").expect("complete");
    assert_eq!((head.status, head.reason.as_str()), (200, ""));
}
