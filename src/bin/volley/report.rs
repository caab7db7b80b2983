//! `--report FILE`: one JSON object per URL, one per line (JSON Lines), written as each
//! download ends and flushed at once, so the file can be tailed and a crash loses at
//! most the line being written.
//!
//! Record fields (always all present; `null` where marked):
//! `url` (as requested), `final_url` (after redirects; the URL itself when none
//! happened or no response came), `status` (final HTTP status or null), `path` (the saved
//! file or null), `bytes` (body bytes received in this run), `elapsed_ms`, `attempts`
//! (1 + retries), `resumed_from` (the byte offset a `-c` download resumed at, or null),
//! `error` (null or `{"kind": ..., "message": ...}`).
//!
//! Error kinds are exactly: `dns`, `connect`, `tls`, `timeout`, `protocol`, `http`
//! (an error status), `redirect`, `io`, `checksum`, `cancelled`.

use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};

/// The class of a failure in a report record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorClass {
    /// Name resolution failed.
    Dns,
    /// TCP connect failed.
    Connect,
    /// TLS failed.
    Tls,
    /// A timer ran out.
    Timeout,
    /// The server (or the request) broke HTTP, or a limit was exceeded.
    Protocol,
    /// The server answered with an error status (>= 400).
    Http,
    /// A redirect could not be followed, or there were too many.
    Redirect,
    /// A local file or socket error.
    Io,
    /// The body's SHA-256 is not the one the input file gave.
    Checksum,
    /// Stopped by the user (Ctrl-C) or by the driver.
    Cancelled,
}

impl ErrorClass {
    /// The string used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Dns => "dns",
            ErrorClass::Connect => "connect",
            ErrorClass::Tls => "tls",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Protocol => "protocol",
            ErrorClass::Http => "http",
            ErrorClass::Redirect => "redirect",
            ErrorClass::Io => "io",
            ErrorClass::Checksum => "checksum",
            ErrorClass::Cancelled => "cancelled",
        }
    }

    /// The class of a library error. The library's finer kinds fold in as follows:
    /// `InvalidUrl` and `InvalidRequest` → `protocol` (the request could not be expressed
    /// in HTTP); `BodyLimit` (`--max-bytes`) → `protocol` (the response broke a limit,
    /// as an oversized head does); `TooManyRedirects` and `Redirect` → `redirect`;
    /// `Config` (e.g. an unreadable certificate file) → `io`; any kind added to the
    /// library later → `protocol` until it gets its own mapping.
    pub fn from_kind(kind: volley::ErrorKind) -> ErrorClass {
        use volley::ErrorKind as K;
        match kind {
            K::Dns(_) => ErrorClass::Dns,
            K::Connect => ErrorClass::Connect,
            K::Tls(_) => ErrorClass::Tls,
            K::Timeout(_) => ErrorClass::Timeout,
            K::TooManyRedirects | K::Redirect => ErrorClass::Redirect,
            K::Io | K::Config => ErrorClass::Io,
            K::Cancelled => ErrorClass::Cancelled,
            K::Protocol | K::InvalidUrl | K::InvalidRequest | K::BodyLimit => ErrorClass::Protocol,
            _ => ErrorClass::Protocol,
        }
    }
}

/// The `error` member of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportError {
    /// The class.
    pub kind: ErrorClass,
    /// What went wrong, for people.
    pub message: String,
}

impl ReportError {
    /// From a library error (its message without the URL, which the record has).
    pub fn from_error(err: &volley::Error) -> ReportError {
        ReportError { kind: ErrorClass::from_kind(err.kind()), message: err.message().to_string() }
    }

    /// An error status from the server.
    pub fn http(status: u16, reason: &str) -> ReportError {
        let message =
            if reason.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status} {reason}") };
        ReportError { kind: ErrorClass::Http, message }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The URL as requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// Final status, if a response came.
    pub status: Option<u16>,
    /// The saved file, if any.
    pub path: Option<String>,
    /// Body bytes received in this run.
    pub bytes: u64,
    /// Wall time from first attempt to the end, in milliseconds.
    pub elapsed_ms: u64,
    /// Attempts made (1 + retries).
    pub attempts: u32,
    /// Where a resumed download started.
    pub resumed_from: Option<u64>,
    /// Why it failed, if it did.
    pub error: Option<ReportError>,
}

/// Writes records as JSON Lines to a file or stdout.
pub struct ReportWriter {
    out: Box<dyn Write>,
}

impl ReportWriter {
    /// Open `path` for writing (created or truncated); `-` is stdout.
    pub fn create(path: &str) -> Result<ReportWriter, String> {
        if path == "-" {
            return Ok(ReportWriter::new(Box::new(io::stdout())));
        }
        let file = File::create(path).map_err(|e| format!("cannot create report file {path:?}: {e}"))?;
        Ok(ReportWriter::new(Box::new(BufWriter::new(file))))
    }

    /// Write to any writer.
    pub fn new(out: Box<dyn Write>) -> ReportWriter {
        ReportWriter { out }
    }

    /// Write one record as one line and flush it.
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests;
