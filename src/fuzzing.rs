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
