//! CLI: retries that resume mid-body, host slow-downs, `--cat` under a small buffer,
//! `--save-errors`, request options (-X, -d, --data-file, -H, -A, --no-redirect) and
//! `--report -`.

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;
use support::bytes;
use support::cli_server::{temp_dir, volley, CliServer, Route};

fn run(args: &[&str]) -> (i32, String, Vec<u8>) {
    let out = volley().args(args).output().expect("run volley");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr, out.stdout)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn records(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

#[test]
fn a_cut_download_retries_from_where_it_stopped() {
    let srv = CliServer::start();
    let body = bytes(100_000, 1);
    srv.route("/m.bin", Route::file(body.clone()).cut_once_at(30_000));
    let dir = temp_dir("retry-range");
    let (code, err, out) = run(&["-P", s(&dir), "--report", "-", &srv.url("/m.bin")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("m.bin")).expect("file"), body);
    let seen = srv.seen_for("/m.bin");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("range"), None);
    assert_eq!(seen[1].header("range"), Some("bytes=30000-"));
    let rec = &records(&String::from_utf8_lossy(&out))[0];
    assert_eq!(rec["attempts"], 2);
    assert_eq!(rec["bytes"], 100_000, "no byte fetched twice");
}

#[test]
fn a_503_slows_down_the_whole_host() {
    let srv = CliServer::start();
    srv.route("/a", Route::file("a").then_first(503, &[("Retry-After", "1")]));
    srv.route("/b", Route::file("b"));
    srv.route("/c", Route::file("c"));
    let dir = temp_dir("slowdown");
    let urls = [srv.url("/a"), srv.url("/b"), srv.url("/c")];
    let (code, err, _) = run(&["-j", "1", "-P", s(&dir), &urls[0], &urls[1], &urls[2]]);
    assert_eq!(code, 0, "{err}");
    let first = srv.seen_for("/a")[0].at;
    let c = srv.seen_for("/c")[0].at;
    assert!(c.duration_since(first) >= Duration::from_millis(900), "c was not held back");
    assert_eq!(srv.seen_for("/a").len(), 2);
}

#[test]
fn cat_with_a_small_buffer_spills_and_keeps_order() {
    let srv = CliServer::start();
    srv.route("/0", Route::file(bytes(30_000, 10)).trickle(3000, Duration::from_millis(20)));
    for i in 1..6 {
        srv.route(&format!("/{i}"), Route::file(bytes(200_000, 10 + i)));
    }
    let mut want = bytes(30_000, 10);
    for i in 1..6 {
        want.extend(bytes(200_000, 10 + i));
    }
    let url = srv.url("/[0-5]");
    let args = ["--cat", "--cat-buffer", "16k", "-j", "6", "--per-host", "6", &url];
    let (code, err, out) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out == want, "stdout differs ({} bytes, want {})", out.len(), want.len());
    // No usable temp directory: later downloads are paused instead.
    let out = volley().args(args).env("TMPDIR", "/nonexistent/volley-test").output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout == want, "stdout differs when pausing");
}

#[test]
fn save_errors_keeps_the_error_body() {
    let srv = CliServer::start();
    srv.route("/e", Route { status: 404, ..Route::file("oops") });
    let dir = temp_dir("save-errors");
    let (code, err, out) = run(&["--save-errors", "--report", "-", "-P", s(&dir), &srv.url("/e")]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(fs::read(dir.join("e")).expect("saved"), b"oops");
    let rec = &records(&String::from_utf8_lossy(&out))[0];
    assert_eq!(rec["error"]["kind"], "http");
    assert!(rec["path"].as_str().expect("path").ends_with("e"));
}

#[test]
fn request_options_are_sent() {
    let srv = CliServer::start();
    srv.route("/p", Route::file("posted"));
    srv.route("/r", Route::status(302).header("Location", "/p"));
    let dir = temp_dir("reqopts");
    let (code, err, _) =
        run(&["-X", "PUT", "-d", "hello", "-H", "X-Test: 1", "-A", "agent/1", "-P", s(&dir), &srv.url("/p")]);
    assert_eq!(code, 0, "{err}");
    let req = &srv.seen_for("/p")[0];
    assert_eq!(req.method, "PUT");
    assert_eq!(req.body, b"hello");
    assert_eq!(req.header("x-test"), Some("1"));
    assert_eq!(req.header("user-agent"), Some("agent/1"));
    let data = dir.join("data.bin");
    fs::write(&data, b"from a file").expect("data");
    let (code, err, _) = run(&["--data-file", s(&data), "-P", s(&dir), &srv.url("/p")]);
    assert_eq!(code, 0, "{err}");
    let req = srv.seen_for("/p").pop().expect("second");
    assert_eq!(req.method, "POST");
    assert_eq!(req.body, b"from a file");
    // --no-redirect saves the 302 itself.
    let (code, err, _) = run(&["--no-redirect", "-P", s(&dir), &srv.url("/r")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("r")).expect("302 body"), b"status 302\n");
    assert_eq!(srv.seen_for("/p").len(), 2);
    // -v shows the heads.
    let (_, err, _) = run(&["-v", "-O", "-", &srv.url("/p")]);
    assert!(err.contains("> GET /p HTTP/1.1") && err.contains("< HTTP/1.1 200"), "{err}");
}

#[test]
fn cat_retries_resume_without_repeating_bytes() {
    let srv = CliServer::start();
    srv.route(
        "/0",
        Route::file(bytes(50_000, 20)).cut_once_at(10_000).trickle(5000, Duration::from_millis(10)),
    );
    srv.route("/1", Route::file(bytes(60_000, 21)).cut_once_at(25_000));
    srv.route("/2", Route::file(bytes(30_000, 22)).no_ranges().cut_once_at(7_000));
    let (code, err, out) = run(&["--cat", &srv.url("/[0-2]")]);
    assert_eq!(code, 0, "{err}");
    let mut want = bytes(50_000, 20);
    want.extend(bytes(60_000, 21));
    want.extend(bytes(30_000, 22));
    assert!(out == want, "stdout differs ({} bytes, want {})", out.len(), want.len());
    assert_eq!(srv.seen_for("/0")[1].header("range"), Some("bytes=10000-"));
    assert_eq!(srv.seen_for("/1")[1].header("range"), Some("bytes=25000-"));
}
