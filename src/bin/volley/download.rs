//! One URL's download across its attempts: what the driver remembers between the
//! events of its requests, and how an attempt ends. Small on purpose: only the
//! downloads being fetched or waiting for a retry exist at any time.

use crate::naming::Slot;
use crate::report::{ErrorClass, Record, ReportError};
use crate::sink::PartFile;
use crate::sources::Job;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How an attempt ends, decided by the driver before the library's final event.
#[derive(Debug)]
pub enum End {
    /// Complete: finish the `.part` (or the stdout body) and report success.
    Ok,
    /// Failed; retried if `transient` and attempts remain.
    Fail {
        /// What went wrong.
        err: ReportError,
        /// Worth retrying.
        transient: bool,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
        /// Keep the `.part` (resumable).
        keep: bool,
    },
    /// Start the request again after `delay` without counting an attempt (a 416 on
    /// resume that needs a full refetch, or no file descriptor for the `.part`).
    Relaunch {
        /// Wait this long.
        delay: Duration,
        /// Do not send a Range on the next attempt.
        no_range: bool,
    },
}

impl End {
    /// A final failure that is not retried.
    pub fn fail(kind: ErrorClass, message: impl Into<String>, keep: bool) -> End {
        End::Fail {
            err: ReportError { kind, message: message.into() },
            transient: false,
            retry_after: None,
            keep,
        }
    }
}

/// One URL being downloaded (or waiting for its next attempt).
pub struct Download {
    /// Input order (for `--cat` and the progress display).
    pub seq: u64,
    /// The URL as given.
    pub url: String,
    /// `out=` from the input file.
    pub out: Option<String>,
    /// `checksum=` from the input file.
    pub checksum: Option<[u8; 32]>,
    /// The final path, once chosen.
    pub dest: Option<PathBuf>,
    /// Where `dest` is in the allocator's `name`, `name.1`, … sequence (`None`: fixed).
    pub slot: Option<Slot>,
    /// The open `.part` of the current attempt.
    pub part: Option<PartFile>,
    /// A `.part` of this download exists on disk (made by this run, or resumed with -c).
    pub part_made: bool,
    /// `[*] saving` was printed.
    pub announced: bool,
    /// Requests sent.
    pub attempts: u32,
    /// Relaunches that did not count as attempts (bounded so a loop cannot spin).
    pub requeues: u32,
    /// When the first attempt started.
    pub started: Option<Instant>,
    /// Offset a `-c` download resumed at.
    pub resumed_from: Option<u64>,
    /// Body bytes received in this run (all attempts).
    pub bytes: u64,
    /// `If-Range` validator (ETag or Last-Modified).
    pub validator: Option<String>,
    /// A `NAME.part.meta` sidecar was written for this download (remove it at the end).
    pub meta_written: bool,
    /// Send no Range next time (after a 416 asked for a refetch).
    pub no_range: bool,
    /// Range start of the current attempt.
    pub offset: u64,
    /// The current attempt sent a Range.
    pub range_sent: bool,
    /// Bytes of the output so far (file length or bytes accepted for stdout).
    pub pos: u64,
    /// Stdout: leading body bytes to drop (a 200 answered a resumed request).
    pub skip: u64,
    /// Final status of the last response.
    pub status: Option<u16>,
    /// URL after redirects.
    pub final_url: String,
    /// `--save-errors`: the error status whose body is being saved.
    pub http_error: Option<ReportError>,
    /// Set when the driver ended the attempt itself (cancel, limit reached).
    pub ending: Option<End>,
    /// `-c` found the file complete: nothing was fetched.
    pub skipped: bool,
}

impl Download {
    /// A download of `job`, number `seq` in input order.
    pub fn new(seq: u64, job: Job) -> Download {
        Download {
            seq,
            url: job.url,
            out: job.out,
            checksum: job.checksum,
            dest: None,
            slot: None,
            part: None,
            part_made: false,
            announced: false,
            attempts: 0,
            requeues: 0,
            started: None,
            resumed_from: None,
            bytes: 0,
            validator: None,
            meta_written: false,
            no_range: false,
            offset: 0,
            range_sent: false,
            pos: 0,
            skip: 0,
            status: None,
            final_url: String::new(),
            http_error: None,
            ending: None,
            skipped: false,
        }
    }

    /// Take what the library's stats say about the last attempt.
    pub fn absorb(&mut self, stats: &volley::Stats) {
        if stats.status != 0 {
            self.status = Some(stats.status);
        }
        if !stats.final_url.is_empty() {
            self.final_url.clone_from(&stats.final_url);
        }
    }

    /// `dest` after the file moved on to another name of its slot (or tried to: the
    /// slot holds what the allocator has claimed for it, which `dest` must release).
    pub fn follow_slot(&mut self) {
        if let Some(slot) = &self.slot {
            self.dest = Some(slot.path());
        }
    }

    /// Time since the first attempt.
    pub fn elapsed(&self) -> Duration {
        self.started.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// The report record for this download's end.
    pub fn record(&self, path: Option<String>, error: Option<ReportError>) -> Record {
        Record {
            url: self.url.clone(),
            final_url: if self.final_url.is_empty() { self.url.clone() } else { self.final_url.clone() },
            status: self.status,
            path,
            bytes: self.bytes,
            elapsed_ms: u64::try_from(self.elapsed().as_millis()).unwrap_or(u64::MAX),
            attempts: self.attempts,
            resumed_from: self.resumed_from,
            error,
        }
    }
}

/// How an error reads after `[-] URL: `.
pub fn error_text(err: &ReportError) -> String {
    match err.kind {
        ErrorClass::Http | ErrorClass::Checksum => err.message.clone(),
        ErrorClass::Cancelled => format!("cancelled: {}", err.message),
        k => format!("{} error: {}", k.as_str(), err.message),
    }
}
