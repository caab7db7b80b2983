//! STAND-IN (replaced by the h1 branch at merge).
#![allow(dead_code, unused_variables, missing_docs, clippy::all)]
use crate::error::Error;
use crate::event::Version;
use crate::headers::Headers;
use std::ops::Range;
pub(crate) fn fuzz_entry(_data: &[u8]) {}
pub(crate) mod request {
    use super::*;
    pub(crate) enum BodyLen { None, Known(u64), Chunked }
    pub(crate) fn write_request_head(out: &mut Vec<u8>, method: &str, target: &str, host_header: &str, user_agent: &str, headers: &Headers, body: BodyLen) { todo!() }
    pub(crate) struct RequestWriter;
    impl RequestWriter {
        pub(crate) fn new(head: Vec<u8>, body: BodyLen) -> Self { todo!() }
        pub(crate) fn pending(&self) -> &[u8] { todo!() }
        pub(crate) fn advance(&mut self, n: usize) { todo!() }
        pub(crate) fn wants_body(&self) -> bool { todo!() }
        pub(crate) fn push_body(&mut self, data: &[u8]) -> Result<(), Error> { todo!() }
        pub(crate) fn finish_body(&mut self) -> Result<(), Error> { todo!() }
        pub(crate) fn is_finished(&self) -> bool { todo!() }
        pub(crate) fn head_written(&self) -> bool { todo!() }
    }
}
pub(crate) mod head {
    use super::*;
    pub(crate) struct HeadLimits { pub(crate) max_head_size: usize, pub(crate) max_headers: usize }
    pub(crate) struct ResponseHead { pub(crate) version: Version, pub(crate) status: u16, pub(crate) reason: String, pub(crate) headers: Headers }
}
pub(crate) mod exchange {
    use super::*;
    use super::head::*;
    pub(crate) enum Step { NeedMore, Head(ResponseHead), Body(Range<usize>), Done }
    pub(crate) struct Exchange;
    impl Exchange {
        pub(crate) fn new(request_was_head: bool, request_close: bool, limits: HeadLimits) -> Self { todo!() }
        pub(crate) fn handle_read(&mut self, buf: &[u8]) -> Result<(usize, Step), Error> { todo!() }
        pub(crate) fn handle_eof(&mut self) -> Result<Step, Error> { todo!() }
        pub(crate) fn is_done(&self) -> bool { todo!() }
        pub(crate) fn has_head(&self) -> bool { todo!() }
        pub(crate) fn got_any_byte(&self) -> bool { todo!() }
        pub(crate) fn is_close_delimited(&self) -> bool { todo!() }
        pub(crate) fn keep_alive(&self) -> bool { todo!() }
        pub(crate) fn body_received(&self) -> u64 { todo!() }
    }
}
