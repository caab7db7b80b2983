//! CLI over HTTPS: `--cacert`, an unknown issuer reported as `tls`, and `-k` with its
//! warning.

mod support;

use std::fs;
use support::cli_server::{temp_dir, volley};
use support::tls::{server_config, TestPki, TestResponse, TlsTestServer};

#[test]
fn https_with_cacert_unknown_issuer_and_insecure() {
    let pki = TestPki::new();
    let cert = pki.server_cert(&["127.0.0.1"]);
    let srv = TlsTestServer::start(server_config(&cert, None), |_| TestResponse::ok("secret"));
    let dir = temp_dir("cli-tls");
    let ca = pki.write_ca(&dir);
    let url = srv.url("127.0.0.1", "/s.txt");
    let out = dir.join("out");
    let o = out.to_str().expect("utf-8");

    let r = volley().args(["--cacert", ca.to_str().expect("utf-8"), "-P", o, &url]).output().expect("run");
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(fs::read(out.join("s.txt")).expect("file"), b"secret");

    let report = dir.join("r.jsonl");
    let r = volley()
        .args(["--retries", "0", "-P", o, "--report", report.to_str().expect("utf-8"), &url])
        .output()
        .expect("run");
    assert_eq!(r.status.code(), Some(1));
    let rec: serde_json::Value =
        serde_json::from_str(fs::read_to_string(&report).expect("report").trim()).expect("json");
    assert_eq!(rec["error"]["kind"], "tls");
    assert!(!out.join("s.txt.1").exists());

    let r = volley().args(["-k", "-O", "-", &url]).output().expect("run");
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{err}");
    assert_eq!(r.stdout, b"secret");
    assert!(err.contains("warning") && err.contains("--insecure"), "{err}");
}
