//! `volley`: download many URLs at once over one single-threaded HTTP/1.1 client.
//!
//! This file will hold the driver (the loop over `volley::Client`); the building blocks
//! live in sibling modules, each pure enough to be unit-tested without a network.

// The building blocks are wired into the driver in the next step; until then most of
// their items are only used by their tests.
#![allow(dead_code)]

mod checksum;
mod glob;
mod input;
mod shard;

fn main() {}
