//! Chunked decoder tests, run three ways through a chunked `BodyDecoder`.

use super::body::BodyDecoder;
use super::chunked::ChunkedDecoder;
use super::drive::{End, Outcome};
use super::framing::Framing;
use super::testutil::{err, three_ways};

fn chunked(input: &[u8]) -> Outcome {
    three_ways(|| BodyDecoder::new(Framing::Chunked), input, true)
}

#[test]
fn data_ranges_are_not_merged() {
    let mut d = ChunkedDecoder::new();
    let buf = b"2\r\nab\r\n2\r\ncd\r\n0\r\n\r\nX";
    assert_eq!(d.decode(buf).expect("first"), (5, 3..5));
    assert_eq!(d.decode(&buf[5..]).expect("second"), (7, 5..7));
    assert!(!d.is_done());
    let (n, data) = d.decode(&buf[12..]).expect("last");
    assert_eq!((n, data.is_empty()), (7, true));
    assert!(d.is_done());
    assert_eq!(d.decode(&buf[19..]).expect("after").0, 0, "bytes after the message stay");
}

#[test]
fn hex_sizes_upper_and_lower_case() {
    let mut input = b"a\r\n0123456789\r\nB\r\nabcdefghijk\r\n00\r\n\r\n".to_vec();
    let out = chunked(&input);
    assert_eq!((out.end, out.body.len()), (End::Done, 21));
    input.truncate(input.len() - 2);
    assert!(err(&chunked(&input)).starts_with("chunked body ended"));
}

#[test]
fn largest_size_accepted_one_more_digit_rejected() {
    let out = chunked(b"ffffffffffffffff\r\nabc");
    assert_eq!(out.body, b"abc");
    assert!(err(&out).starts_with("chunked body ended"));
    assert_eq!(err(&chunked(b"10000000000000000\r\n")), "chunk size too large");
}

#[test]
fn malformed_chunk_lines_rejected() {
    let bad: [&[u8]; 7] = [
        b"\r\n",                  // no digits
        b"x\r\n",                 // not hex
        b"5x\r\nhello\r\n",       // junk after size
        b"5\nhello\r\n",          // bare LF ending the size line
        b"5;a\nhello\r\n",        // bare LF after an extension
        b"5\rhello\r\n",          // CR without LF
        b"5;a\x00b\r\nhello\r\n", // control byte in an extension
    ];
    for input in bad {
        let out = chunked(input);
        assert!(matches!(out.end, End::Err(_)), "{:?} gave {out:?}", String::from_utf8_lossy(input));
        assert!(out.body.is_empty());
    }
}

#[test]
fn crlf_after_data_is_strict() {
    for input in [&b"3\r\nabc\n0\r\n\r\n"[..], b"3\r\nabc\r0\r\n\r\n", b"3\r\nabcd\r\n0\r\n\r\n"] {
        let out = chunked(input);
        assert_eq!(out.body, b"abc");
        assert!(err(&out).contains("not followed by CRLF"), "{}", err(&out));
    }
}

#[test]
fn extension_length_is_bounded() {
    let mut input = b"1;".to_vec();
    input.extend_from_slice(&[b'a'; 5000]);
    let out = three_ways(|| BodyDecoder::new(Framing::Chunked), &input, false);
    assert!(err(&out).contains("chunk extensions longer than"), "{}", err(&out));
}

#[test]
fn trailer_section_is_bounded() {
    let mut input = b"0\r\n".to_vec();
    for _ in 0..2000 {
        input.extend_from_slice(b"X-Trailer: 0123456789012345678901234\r\n");
    }
    let out = three_ways(|| BodyDecoder::new(Framing::Chunked), &input, false);
    assert!(err(&out).contains("trailer section larger than"), "{}", err(&out));
}

#[test]
fn trailer_bare_lf_tolerated_bare_cr_rejected() {
    let out = chunked(b"1\r\na\r\n0\r\nA: b\nC: d\r\n\n");
    assert_eq!((out.end, out.body), (End::Done, b"a".to_vec()));
    let out = chunked(b"0\r\nA: b\rC: d\r\n\r\n");
    assert!(err(&out).contains("bare CR"), "{}", err(&out));
}

#[test]
fn whitespace_before_extension_accepted() {
    let out = chunked(b"3 \t;ext=\"q;x\"\r\nabc\r\n0 ;last\r\n\r\n");
    assert_eq!((out.end, out.body), (End::Done, b"abc".to_vec()));
}
