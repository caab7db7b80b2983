#![no_main]
// Drives the response-head parser and every body decoder with arbitrary bytes and
// splits; see volley::fuzzing::response for the properties checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| volley::fuzzing::response(data));
