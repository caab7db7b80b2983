#![no_main]
// Parses arbitrary bytes as a DNS response; see volley::fuzzing::dns_message.
libfuzzer_sys::fuzz_target!(|data: &[u8]| volley::fuzzing::dns_message(data));
