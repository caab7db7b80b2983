//! Sans-IO protocol logic: bytes in, bytes out, `now` passed in. Nothing here touches
//! a socket, a file or the clock, so every decision can be tested byte by byte.

pub(crate) mod dns;
pub(crate) mod h1;
pub(crate) mod happy;
pub(crate) mod redirect;
pub(crate) mod tls;
