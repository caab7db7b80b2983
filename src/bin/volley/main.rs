//! `volley`: download many URLs at once over one single-threaded HTTP/1.1 client.
//!
//! `main` turns the options into a [`driver::Settings`], the job [`sources::Sources`]
//! and a `volley::Client`, then hands over to the driver's loop. Usage and
//! configuration errors exit with status 2 before anything is fetched.

// Some helpers of the building blocks are used only by their unit tests.
#![allow(dead_code)]
// A panic is how a unit test fails; the non-test build (also linted by
// `clippy --all-targets`) keeps `unwrap_used` so user input never panics.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod args;
mod backoff;
mod cat;
mod checksum;
mod delay_queue;
mod download;
mod driver;
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
mod sys;
mod ui;

use clap::Parser;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with status 2.
    let args = args::Args::parse();
    if let Err(e) = args.validate() {
        eprintln!("volley: {e}");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("volley: {e}");
            ExitCode::from(2)
        }
    }
}

/// Set everything up (errors here are configuration errors: status 2), then run.
fn run(args: &args::Args) -> Result<u8, String> {
    let started = Instant::now();
    let method = volley::Method::parse(&args.effective_method()).map_err(|e| e.to_string())?;
    if let Some(f) = &args.data_file {
        std::fs::metadata(f).map_err(|e| format!("cannot read --data-file {}: {e}", f.display()))?;
    }
    let input = match &args.input_file {
        Some(path) => {
            let reader = input::open(path)?;
            Some(Box::new(input::InputReader::new(reader)) as Box<dyn Iterator<Item = _>>)
        }
        None => None,
    };
    let sources = sources::Sources::new(&args.urls, input, !args.no_glob, args.shard)?;
    let report = match &args.report {
        Some(p) => Some(report::ReportWriter::create(p)?),
        None => None,
    };
    let verbosity = output::Verbosity::from_flags(args.quiet, args.verbose);
    let mut ui = ui::Ui::new(verbosity, progress::should_show(args.quiet), report, started);
    if args.input_file.is_none() && args.shard.is_none() {
        ui.set_total(sources::Sources::args_total(&args.urls, !args.no_glob));
    }
    if args.insecure {
        ui.warn("--insecure: server certificates and host names are NOT verified");
    }

    let mut config = args.client_config();
    let fd_cap = sys::max_connections_for(sys::fd_soft_limit());
    if config.max_connections > fd_cap {
        if args.verbose {
            ui.warn(&format!("the open-file limit allows {fd_cap} connections; using -j {fd_cap}"));
        }
        config.max_connections = fd_cap;
    }
    let parallel = config.max_connections;
    let pipeline = config.pipeline_depth.max(1);
    let mut client = volley::Client::new(config).map_err(|e| e.to_string())?;
    if args.verbose {
        for w in client.warnings() {
            ui.warn(&w);
        }
    }

    let stdout = args.cat || args.output.as_deref() == Some("-");
    let settings = driver::Settings {
        dir: args.directory.clone(),
        output_file: args.output.as_deref().filter(|o| *o != "-").map(std::path::PathBuf::from),
        stdout,
        resume: args.resume,
        overwrite: args.overwrite,
        content_disposition: args.content_disposition,
        force_dirs: args.force_directories,
        max_bytes: args.max_bytes,
        save_errors: args.save_errors,
        retries: args.retries,
        method,
        data: args.data.as_ref().map(|d| d.as_bytes().to_vec()),
        data_file: args.data_file.clone(),
        headers: args.headers.clone(),
        cat_buffer: args.cat_buffer,
        // Enough jobs in the library for every connection to fill its pipeline, plus
        // one more round to take over as they finish.
        window: parallel.saturating_mul(pipeline + 1).max(2),
    };
    let mut state = driver::State::new(settings, sources, ui);
    state.register_signals(&mut client).map_err(|e| format!("cannot catch signals: {e}"))?;
    let result = state.run(&mut client);
    if let Err(e) = &result {
        state.ui.warn(&format!("the download loop failed: {e}"));
    }
    state.ui.summary();
    Ok(if state.interrupted {
        130
    } else if result.is_err() || state.ui.failed > 0 {
        1
    } else {
        0
    })
}
