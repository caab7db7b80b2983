//! CLI: `-c` resume after a kill, restart when the server ignores the range, If-Range,
//! complete files, 416, and `--max-bytes`.

mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use support::bytes;
use support::cli_server::{path_str as s, run};
use support::cli_server::{temp_dir, volley, CliServer, Route};

fn report_line(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).expect("report");
    serde_json::from_str(text.lines().next().expect("a line")).expect("json")
}

#[test]
fn resume_after_kill_is_byte_exact() {
    let srv = CliServer::start();
    let body = bytes(3 << 20, 7);
    srv.route(
        "/big.bin",
        Route::file(body.clone()).header("ETag", "\"v1\"").trickle(32 * 1024, Duration::from_millis(20)),
    );
    let dir = temp_dir("resume-kill");
    let part = dir.join("big.bin.part");
    let mut child = volley().args(["-c", "-q", "-P", s(&dir), &srv.url("/big.bin")]).spawn().expect("spawn");
    let t0 = Instant::now();
    while fs::metadata(&part).map_or(0, |m| m.len()) < 200_000 {
        assert!(t0.elapsed() < Duration::from_secs(20), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill by pid");
    let _ = child.wait();
    let have = fs::metadata(&part).expect("part kept").len();
    assert!(have > 0 && have < body.len() as u64);
    assert!(!dir.join("big.bin").exists());
    // The second run fetches only the rest.
    srv.route("/big.bin", Route::file(body.clone()).header("ETag", "\"v1\""));
    let report = dir.join("r.jsonl");
    let (code, err) = run(&["-c", "-P", s(&dir), "--report", s(&report), &srv.url("/big.bin")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("big.bin")).expect("file"), body);
    assert!(!part.exists() && !dir.join("big.bin.part.meta").exists());
    let last = srv.seen_for("/big.bin").pop().expect("request");
    assert_eq!(last.header("range"), Some(format!("bytes={have}-").as_str()));
    assert_eq!(last.header("if-range"), Some("\"v1\""));
    let rec = report_line(&report);
    assert_eq!(rec["resumed_from"], have);
    assert_eq!(rec["bytes"], body.len() as u64 - have);
    assert_eq!(rec["status"], 206);
    // A third run finds the file complete and fetches nothing.
    let before = srv.seen().len();
    let (code, err) = run(&["-c", "-P", s(&dir), &srv.url("/big.bin")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(srv.seen().len(), before);
    assert!(!dir.join("big.bin.1").exists());
}

#[test]
fn a_200_to_a_range_request_starts_over() {
    let srv = CliServer::start();
    let body = bytes(50_000, 3);
    srv.route("/f.bin", Route::file(body.clone()).no_ranges());
    let dir = temp_dir("resume-200");
    fs::write(dir.join("f.bin.part"), b"stale bytes from another version").expect("part");
    let (code, err) = run(&["-c", "-P", s(&dir), &srv.url("/f.bin")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("f.bin")).expect("file"), body);
    let seen = srv.seen_for("/f.bin");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("range"), Some("bytes=32-"));
}

#[test]
fn a_changed_validator_restarts_cleanly() {
    let srv = CliServer::start();
    let body = bytes(40_000, 4);
    srv.route("/v.bin", Route::file(body.clone()).header("ETag", "\"new\""));
    let dir = temp_dir("resume-ifrange");
    fs::write(dir.join("v.bin.part"), bytes(10_000, 99)).expect("part");
    fs::write(dir.join("v.bin.part.meta"), "\"old\"\n").expect("meta");
    let (code, err) = run(&["-c", "-P", s(&dir), &srv.url("/v.bin")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("v.bin")).expect("file"), body);
    let seen = srv.seen_for("/v.bin");
    assert_eq!(seen[0].header("if-range"), Some("\"old\""));
    assert_eq!(seen[0].header("range"), Some("bytes=10000-"));
}

#[test]
fn a_complete_part_finishes_on_416() {
    let srv = CliServer::start();
    let body = bytes(20_000, 5);
    srv.route("/c.bin", Route::file(body.clone()));
    let dir = temp_dir("resume-416");
    fs::write(dir.join("c.bin.part"), &body).expect("part");
    let (code, err) = run(&["-c", "-P", s(&dir), &srv.url("/c.bin")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("c.bin")).expect("file"), body);
    assert!(!dir.join("c.bin.part").exists());
}

#[test]
fn max_bytes_asks_for_a_range_and_truncates() {
    let srv = CliServer::start();
    let body = bytes(100_000, 6);
    srv.route("/r.bin", Route::file(body.clone()));
    srv.route("/n.bin", Route::file(body.clone()).no_ranges());
    let dir = temp_dir("maxbytes");
    let (code, err) = run(&["--max-bytes", "1000", "-P", s(&dir), &srv.url("/r.bin"), &srv.url("/n.bin")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("r.bin")).expect("r"), &body[..1000]);
    assert_eq!(fs::read(dir.join("n.bin")).expect("n"), &body[..1000]);
    assert_eq!(srv.seen_for("/r.bin")[0].header("range"), Some("bytes=0-999"));
    assert!(!dir.join("n.bin.part").exists());
}

#[test]
fn resume_with_a_server_given_name() {
    let srv = CliServer::start();
    let body = bytes(50_000, 8);
    srv.route(
        "/dl",
        Route::file(body.clone()).header("Content-Disposition", "attachment; filename=\"report.bin\""),
    );
    let dir = temp_dir("resume-cd");
    fs::write(dir.join("report.bin.part"), &body[..20_000]).expect("part");
    let (code, err) = run(&["-c", "--content-disposition", "-P", s(&dir), &srv.url("/dl")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("report.bin")).expect("file"), body);
    let seen = srv.seen_for("/dl");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("range"), Some("bytes=20000-"));
    // Complete now: the next run asks once (for the name) and keeps the file.
    let (code, err) = run(&["-c", "--content-disposition", "-P", s(&dir), &srv.url("/dl")]);
    assert_eq!(code, 0, "{err}");
    assert!(!dir.join("report.bin.1").exists());
    assert_eq!(fs::read(dir.join("report.bin")).expect("file"), body);
}
