//! Unit tests for `report.rs`.

use super::*;
use std::sync::{Arc, Mutex};
use volley::{DnsFailure, ErrorKind, Phase, TlsFailure};

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().map_err(|_| io::Error::other("poisoned"))?.extend_from_slice(b);
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
    let all = [Dns, Connect, Tls, Timeout, Protocol, Http, Redirect, Io, Checksum, Cancelled];
    let names: Vec<String> =
        all.iter().map(|k| serde_json::to_value(k).unwrap().as_str().unwrap_or("").to_string()).collect();
    assert_eq!(
        names,
        ["dns", "connect", "tls", "timeout", "protocol", "http", "redirect", "io", "checksum", "cancelled"]
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
    assert_eq!(ReportError::http(404, "Not Found").message, "HTTP 404 Not Found");
    assert_eq!(ReportError::http(500, "").message, "HTTP 500");
    assert_eq!(ReportError::http(500, "").kind, ErrorClass::Http);
}

#[test]
fn writer_emits_one_line_per_record() {
    let buf = Shared::default();
    let mut w = ReportWriter::new(Box::new(buf.clone()));
    w.write(&ok_record()).unwrap();
    w.write(&Record { url: "http://h/\"q\"\n".into(), ..ok_record() }).unwrap();
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
    let err = ReportWriter::create(bad.to_str().unwrap()).err().unwrap_or_default();
    assert!(err.starts_with("cannot create report file") && err.contains("no/such/dir"), "{err}");
}
