//! `volley`: download many URLs at once over one single-threaded HTTP/1.1 client.
//!
//! This file will hold the driver (the loop over `volley::Client`); the building blocks
//! live in sibling modules, each pure enough to be unit-tested without a network.

// The building blocks are wired into the driver in the next step; until then most of
// their items are only used by their tests.
#![allow(dead_code)]
// A panic is how a unit test fails; the non-test build (also linted by
// `clippy --all-targets`) keeps `unwrap_used` so user input never panics.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod args;
mod backoff;
mod cat;
mod checksum;
mod delay_queue;
mod glob;
mod input;
mod naming;
mod output;
mod progress;
mod report;
mod resume;
mod shard;
mod sink;
mod sources;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with status 2.
    let args = args::Args::parse();
    if let Err(e) = args.validate() {
        eprintln!("volley: {e}");
        return ExitCode::from(2);
    }
    eprintln!("volley: the download driver is not written yet");
    ExitCode::from(2)
}
