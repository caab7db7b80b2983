//! Unit tests for `output.rs`.

use super::*;

#[test]
fn human_sizes() {
    assert_eq!(human_bytes(0), "0 B");
    assert_eq!(human_bytes(1023), "1023 B");
    assert_eq!(human_bytes(1024), "1.0 KiB");
    assert_eq!(human_bytes(1536), "1.5 KiB");
    assert_eq!(human_bytes(3 << 19), "1.5 MiB");
    assert_eq!(human_bytes((1 << 20) - 1), "1.0 MiB");
    assert_eq!(human_bytes(5 << 30), "5.0 GiB");
    assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
}

#[test]
fn rates_and_seconds() {
    assert_eq!(human_rate(12_897_485, Duration::from_secs(1)), "12.3 MiB/s");
    assert_eq!(human_rate(0, Duration::ZERO), "0 B/s");
    assert_eq!(human_rate(1024, Duration::ZERO), "1000.0 KiB/s");
    assert_eq!(secs(Duration::from_millis(5)), "0.01s");
    assert_eq!(secs(Duration::from_millis(12_345)), "12.35s");
}

#[test]
fn event_lines() {
    assert_eq!(saving_line("http://h/a", "./a"), "[*] saving http://h/a to ./a");
    assert_eq!(
        done_line("http://h/a", "./a", 4096, Duration::from_millis(10)),
        "[+] http://h/a -> ./a (4096 in 0.01s)"
    );
    assert_eq!(
        failed_line("http://h/a", "HTTP 404 Not\u{1b}[2J Found"),
        "[-] http://h/a: HTTP 404 Not\\u{1b}[2J Found"
    );
    assert_eq!(
        summary_line(3, 1, 3 << 19, Duration::from_secs(2)),
        "3 ok, 1 failed, 1.5 MiB in 2.00s (768.0 KiB/s)"
    );
}

#[test]
fn heads() {
    let url = Url::parse("http://h:8080/x?y=1").unwrap();
    let mut hs = volley::Headers::new();
    hs.push("Accept", "*/*");
    assert_eq!(request_head("GET", &url, &hs), "> GET /x?y=1 HTTP/1.1\n> Host: h:8080\n> Accept: */*\n");
    let mut headers = volley::Headers::new();
    headers.push("Content-Length", "3");
    headers.push("X-Evil", b"a\x1bb\xff".to_vec());
    let resp = volley::Response {
        status: 200,
        reason: "OK".into(),
        version: volley::Version::Http11,
        headers,
        url: url.clone(),
    };
    assert_eq!(response_head(&resp), "< HTTP/1.1 200 OK\n< Content-Length: 3\n< X-Evil: a\\u{1b}b\u{fffd}\n");
    let resp = volley::Response { reason: String::new(), version: volley::Version::Http10, ..resp };
    assert!(response_head(&resp).starts_with("< HTTP/1.0 200\n"));
}

#[test]
fn printer_respects_verbosity() {
    let run = |v: Verbosity| {
        let mut p = Printer::new(Vec::new(), v);
        p.saving("u", "p").unwrap();
        p.head("> GET / HTTP/1.1\n").unwrap();
        p.done("u", "p", 1, Duration::ZERO).unwrap();
        p.failed("v", "boom").unwrap();
        p.summary(1, 1, 1, Duration::from_secs(1)).unwrap();
        String::from_utf8(p.into_inner()).unwrap()
    };
    assert_eq!(run(Verbosity::Quiet), "[-] v: boom\n1 ok, 1 failed, 1 B in 1.00s (1 B/s)\n");
    let normal = run(Verbosity::Normal);
    assert!(normal.starts_with("[*] saving u to p\n[+] u -> p (1 in 0.00s)\n[-] v: boom\n"));
    assert!(!normal.contains("> GET"));
    assert!(run(Verbosity::Verbose).contains("[*] saving u to p\n> GET / HTTP/1.1\n[+]"));
    assert_eq!(Verbosity::from_flags(true, false), Verbosity::Quiet);
    assert_eq!(Verbosity::from_flags(false, true), Verbosity::Verbose);
    assert_eq!(Verbosity::from_flags(false, false), Verbosity::Normal);
}
