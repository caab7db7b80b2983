//! HTTP/1.1 (RFC 9112), sans-IO.

pub(crate) fn fuzz_entry(_data: &[u8]) {}
