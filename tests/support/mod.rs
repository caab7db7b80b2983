// Each integration test uses a different part of the support code.
#![allow(dead_code)]

pub mod cli_server;
pub mod dns;
pub mod http;
pub mod nginx;
pub mod tls;
