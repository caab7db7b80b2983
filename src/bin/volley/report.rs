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
        ReportError {
            kind: ErrorClass::from_kind(err.kind()),
            message: err.message().to_string(),
        }
    }

    /// An error status from the server.
    pub fn http(status: u16, reason: &str) -> ReportError {
        let message = if reason.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status} {reason}")
        };
        ReportError {
            kind: ErrorClass::Http,
            message,
        }
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
        let file =
            File::create(path).map_err(|e| format!("cannot create report file {path:?}: {e}"))?;
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
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use volley::{DnsFailure, ErrorKind, Phase, TlsFailure};

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn ok_record() -> Record {
        Record {
            url: "http://h/a".into(),
            final_url: "http://h/b".into(),
            status: Some(200),
            path: Some("./b".into()),
            bytes: 4096,
            elapsed_ms: 12,
            attempts: 1,
            resumed_from: None,
            error: None,
        }
    }

    #[test]
    fn record_json_shape() {
        let json = serde_json::to_string(&ok_record()).unwrap();
        assert_eq!(
            json,
            r#"{"url":"http://h/a","final_url":"http://h/b","status":200,"path":"./b","bytes":4096,"elapsed_ms":12,"attempts":1,"resumed_from":null,"error":null}"#
        );
        let failed = Record {
            status: None,
            path: None,
            resumed_from: Some(100),
            attempts: 3,
            error: Some(ReportError::from_error(&volley::Error::new(
                ErrorKind::Dns(DnsFailure::NxDomain),
                "no such host",
            ))),
            ..ok_record()
        };
        let v: serde_json::Value = serde_json::to_value(&failed).unwrap();
        assert_eq!(v["status"], serde_json::Value::Null);
        assert_eq!(v["path"], serde_json::Value::Null);
        assert_eq!(v["resumed_from"], 100);
        assert_eq!(v["error"]["kind"], "dns");
        assert_eq!(v["error"]["message"], "no such host");
    }

    #[test]
    fn kind_strings_are_exact() {
        use ErrorClass::*;
        let all = [
            Dns, Connect, Tls, Timeout, Protocol, Http, Redirect, Io, Checksum, Cancelled,
        ];
        let names: Vec<String> = all
            .iter()
            .map(|k| {
                serde_json::to_value(k)
                    .unwrap()
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "dns",
                "connect",
                "tls",
                "timeout",
                "protocol",
                "http",
                "redirect",
                "io",
                "checksum",
                "cancelled"
            ]
        );
        for k in all {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn library_kinds_map() {
        let f = ErrorClass::from_kind;
        assert_eq!(f(ErrorKind::Dns(DnsFailure::Timeout)), ErrorClass::Dns);
        assert_eq!(f(ErrorKind::Connect), ErrorClass::Connect);
        assert_eq!(f(ErrorKind::Tls(TlsFailure::Expired)), ErrorClass::Tls);
        assert_eq!(f(ErrorKind::Timeout(Phase::Idle)), ErrorClass::Timeout);
        assert_eq!(f(ErrorKind::Protocol), ErrorClass::Protocol);
        assert_eq!(f(ErrorKind::InvalidUrl), ErrorClass::Protocol);
        assert_eq!(f(ErrorKind::InvalidRequest), ErrorClass::Protocol);
        assert_eq!(f(ErrorKind::BodyLimit), ErrorClass::Protocol);
        assert_eq!(f(ErrorKind::TooManyRedirects), ErrorClass::Redirect);
        assert_eq!(f(ErrorKind::Redirect), ErrorClass::Redirect);
        assert_eq!(f(ErrorKind::Io), ErrorClass::Io);
        assert_eq!(f(ErrorKind::Config), ErrorClass::Io);
        assert_eq!(f(ErrorKind::Cancelled), ErrorClass::Cancelled);
        assert_eq!(
            ReportError::http(404, "Not Found").message,
            "HTTP 404 Not Found"
        );
        assert_eq!(ReportError::http(500, "").message, "HTTP 500");
        assert_eq!(ReportError::http(500, "").kind, ErrorClass::Http);
    }

    #[test]
    fn writer_emits_one_line_per_record() {
        let buf = Shared::default();
        let mut w = ReportWriter::new(Box::new(buf.clone()));
        w.write(&ok_record()).unwrap();
        w.write(&Record {
            url: "http://h/\"q\"\n".into(),
            ..ok_record()
        })
        .unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        for l in lines {
            let _: serde_json::Value = serde_json::from_str(l).unwrap();
        }
    }

    #[test]
    fn file_writer_flushes_per_line_and_names_bad_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut w = ReportWriter::create(path.to_str().unwrap()).unwrap();
        w.write(&ok_record()).unwrap();
        // Still open, yet the line is on disk.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("null}\n"), "{text}");
        drop(w);
        let bad = dir.path().join("no/such/dir/r.jsonl");
        let err = ReportWriter::create(bad.to_str().unwrap())
            .err()
            .unwrap_or_default();
        assert!(
            err.starts_with("cannot create report file") && err.contains("no/such/dir"),
            "{err}"
        );
    }
}
