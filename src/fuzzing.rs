//! Entry points for the fuzz targets in `fuzz/` and for `tests/fuzz_corpus.rs`, which
//! replays their checked-in corpora on stable. Not part of the public API.

/// Response parsing: head parser plus body decoders, whole and split; panics only when
/// a property of the parser is broken.
pub fn response(data: &[u8]) {
    crate::proto::h1::fuzz_entry(data);
}

/// DNS message parsing with hostile input; panics only when a property is broken.
pub fn dns_message(data: &[u8]) {
    crate::proto::dns::fuzz_entry(data);
}

/// Parse one complete response head with volley's parser (for `examples/parse_bench.rs`);
/// returns the bytes consumed.
pub fn parse_head(data: &[u8]) -> Option<usize> {
    use crate::proto::h1::head::{HeadLimits, HeadParser};
    let mut p = HeadParser::new(HeadLimits { max_head_size: 64 * 1024, max_headers: 100 });
    p.parse(data).ok().flatten().map(|(n, _)| n)
}

/// Decode a whole chunked body (for `examples/parse_bench.rs`); returns body bytes.
pub fn decode_chunked(mut data: &[u8]) -> Option<usize> {
    let mut d = crate::proto::h1::chunked::ChunkedDecoder::new();
    let mut body = 0;
    while !d.is_done() {
        let (used, range) = d.decode(data).ok()?;
        if used == 0 {
            return None;
        }
        body += range.len();
        data = &data[used..];
    }
    Some(body)
}
