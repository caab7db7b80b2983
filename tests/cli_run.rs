//! CLI: exit codes, the report, retries with Retry-After, `--cat` order, SIGINT,
//! `--limit-rate`, running out of descriptors, and a long input list in bounded memory.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::bytes;
use support::cli_server::{path_str as s, run};
use support::cli_server::{temp_dir, volley, CliServer, Route};

fn records(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .expect("report")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn exit_codes() {
    let srv = CliServer::start();
    srv.route("/ok", Route::file("fine"));
    let dir = temp_dir("exit");
    assert_eq!(run(&[]).0, 2, "no URL is a usage error");
    assert_eq!(run(&["-j", "0", "http://127.0.0.1:1/"]).0, 2);
    assert_eq!(run(&["--bogus-option"]).0, 2);
    let (code, err) = run(&["-i", s(&dir.join("missing.txt"))]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("missing.txt"), "{err}");
    assert_eq!(run(&["-P", s(&dir), "[1-"]).0, 2, "a bad glob");
    let (code, err) = run(&["-P", s(&dir), &srv.url("/ok")]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(&["-P", s(&dir), &srv.url("/ok"), &srv.url("/missing")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("1 ok, 1 failed"), "{err}");
    assert!(err.contains("[-] ") && err.contains("404"), "{err}");
}

#[test]
fn report_records() {
    let srv = CliServer::start();
    let body = bytes(12_345, 9);
    srv.route("/a.bin", Route::file(body.clone()));
    srv.route("/moved", Route::status(302).header("Location", "/a.bin"));
    srv.route("/gone", Route::status(410));
    let dir = temp_dir("report");
    let report = dir.join("r.jsonl");
    let refused = format!("http://127.0.0.1:{}/x", closed_port());
    let (code, err) = run(&[
        "-j",
        "1",
        "--retries",
        "0",
        "-P",
        s(&dir.join("out")),
        "--report",
        s(&report),
        &srv.url("/a.bin"),
        &srv.url("/moved"),
        &srv.url("/gone"),
        &refused,
    ]);
    assert_eq!(code, 1, "{err}");
    let recs = records(&report);
    assert_eq!(recs.len(), 4, "{recs:?}");
    let by = |suffix: &str| {
        recs.iter().find(|r| r["url"].as_str().is_some_and(|u| u.ends_with(suffix))).expect("record").clone()
    };
    let a = by("/a.bin");
    for key in
        ["url", "final_url", "status", "path", "bytes", "elapsed_ms", "attempts", "resumed_from", "error"]
    {
        assert!(a.get(key).is_some(), "{key} missing in {a}");
    }
    assert_eq!(a["status"], 200);
    assert_eq!(a["bytes"], 12_345);
    assert_eq!(a["attempts"], 1);
    assert!(a["error"].is_null() && a["resumed_from"].is_null());
    assert!(a["path"].as_str().expect("path").ends_with("a.bin"));
    let moved = by("/moved");
    assert!(moved["final_url"].as_str().expect("final").ends_with("/a.bin"));
    // Named after the URL asked for, as curl -O and wget do.
    assert!(moved["path"].as_str().expect("path").ends_with("moved"));
    let gone = by("/gone");
    assert_eq!(gone["status"], 410);
    assert_eq!(gone["error"]["kind"], "http");
    assert!(gone["path"].is_null());
    assert!(!dir.join("out/gone").exists() && !dir.join("out/gone.part").exists());
    assert_eq!(by("/x")["error"]["kind"], "connect");
}

#[test]
fn retries_honour_retry_after() {
    let srv = CliServer::start();
    srv.route("/busy", Route::file("at last").then_first(429, &[("Retry-After", "1")]));
    let dir = temp_dir("retry");
    let report = dir.join("r.jsonl");
    let (code, err) = run(&["-P", s(&dir), "--report", s(&report), &srv.url("/busy")]);
    assert_eq!(code, 0, "{err}");
    let rec = &records(&report)[0];
    assert_eq!(rec["attempts"], 2);
    assert_eq!(rec["status"], 200);
    let seen = srv.seen_for("/busy");
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(gap >= Duration::from_millis(950), "{gap:?}");
    assert_eq!(fs::read(dir.join("busy")).expect("file"), b"at last");
    // --retries 0: the 503 is final.
    srv.route("/down", Route::file("x").then_first(503, &[]));
    let (code, _) = run(&["--retries", "0", "-P", s(&dir), &srv.url("/down")]);
    assert_eq!(code, 1);
}

#[test]
fn cat_keeps_input_order() {
    let srv = CliServer::start();
    let first = bytes(40_000, 1);
    srv.route("/1", Route::file(first.clone()).trickle(4000, Duration::from_millis(40)));
    srv.route("/2", Route::file(bytes(30_000, 2)));
    srv.route("/3", Route::file(bytes(20_000, 3)));
    let out = volley().args(["--cat", &srv.url("/{1,2,3}")]).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let mut want = first;
    want.extend(bytes(30_000, 2));
    want.extend(bytes(20_000, 3));
    assert!(out.stdout == want, "bodies out of order");
    // -O - writes one body to stdout.
    let out = volley().args(["-q", "-O", "-", &srv.url("/2")]).output().expect("run");
    assert_eq!(out.stdout, bytes(30_000, 2));
}

#[test]
fn sigint_keeps_parts_and_exits_130() {
    let srv = CliServer::start();
    srv.route("/*", Route::file(bytes(4 << 20, 4)).trickle(16 * 1024, Duration::from_millis(20)));
    let dir = temp_dir("sigint");
    let child = volley()
        .args(["-P", s(&dir), &srv.url("/a"), &srv.url("/b")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t0 = Instant::now();
    while fs::metadata(dir.join("a.part")).map_or(0, |m| m.len()) == 0 {
        assert!(t0.elapsed() < Duration::from_secs(20), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("0 ok, 2 failed"), "{err}");
    assert!(fs::metadata(dir.join("a.part")).expect("kept").len() > 0);
    assert!(!dir.join("a").exists());
}

#[test]
fn limit_rate_is_kept() {
    let srv = CliServer::start();
    srv.route("/r", Route::file(bytes(600 * 1024, 5)));
    let dir = temp_dir("rate");
    let t0 = Instant::now();
    let (code, err) = run(&["--limit-rate", "200k", "-P", s(&dir), &srv.url("/r")]);
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{err}");
    // 600 KiB at 200 KiB/s: 3 s, within ±25 %.
    assert!((2.25..=3.75).contains(&secs), "took {secs:.2}s");
}

#[test]
fn out_of_descriptors_queues_instead_of_failing() {
    let srv = CliServer::start();
    srv.route("/f/*", Route::file(bytes(2000, 6)));
    let dir = temp_dir("emfile");
    let list = dir.join("list.txt");
    let text: String = (0..300).map(|i| format!("{}\n", srv.url(&format!("/f/{i}")))).collect();
    fs::write(&list, text).expect("list");
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 64; exec \"$0\" -q -j 200 --per-host 200 -P \"$1\" -i \"$2\"")
        .arg(env!("CARGO_BIN_EXE_volley"))
        .arg(dir.join("out"))
        .arg(&list)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("300 ok, 0 failed"), "{err}");
    assert_eq!(fs::read_dir(dir.join("out")).expect("out").count(), 300);
}

#[test]
fn a_long_list_runs_in_bounded_memory() {
    let srv = CliServer::start();
    srv.no_record();
    let dir = temp_dir("biglist");
    let list = dir.join("list.txt");
    let text: String = (0..100_000).map(|i| format!("{}\n", srv.url(&format!("/missing/{i}")))).collect();
    fs::write(&list, text).expect("list");
    // 100,000 `[-]` lines: to a file, as a pipe nobody reads would block the run.
    let log = fs::File::create(dir.join("stderr.txt")).expect("log");
    let mut child = volley()
        .args(["-q", "--retries", "0", "-P", s(&dir), "-i", s(&list)])
        .stderr(log)
        .spawn()
        .expect("spawn");
    let status_file = format!("/proc/{}/status", child.id());
    let mut hwm_kb = 0u64;
    let t0 = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if let Ok(text) = fs::read_to_string(&status_file) {
            if let Some(v) = text.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                hwm_kb = hwm_kb.max(v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0));
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "too slow");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().expect("wait");
    let err = fs::read_to_string(dir.join("stderr.txt")).expect("log");
    let summary = err.lines().last().unwrap_or("");
    assert_eq!(status.code(), Some(1), "{summary}");
    assert!(summary.starts_with("0 ok, 100000 failed"), "{summary}");
    eprintln!("100k list: {:.1}s, peak RSS {hwm_kb} kB", t0.elapsed().as_secs_f64());
    assert!(hwm_kb > 0 && hwm_kb < 24 * 1024, "peak RSS {hwm_kb} kB");
}
