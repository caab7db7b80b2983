//! HTTPS through the public API: certificate verification (roots, validity, names, IP
//! SANs), insecure mode and mutual TLS, against the rustls test server in
//! `support/tls.rs`.

mod support;

use support::within;

use std::time::Duration;

use support::tls::{server_config, server_config_with_versions, TestPki, TestResponse};
use support::tls::{TlsTestServer, Validity};
use volley::{BodyTarget, Client, Config, Error, ErrorKind, Event, Request, Stats, TlsFailure};

/// What one request ended with, plus a check that it ended exactly once.
#[derive(Debug)]
struct Outcome {
    status: Option<u16>,
    result: Result<(Stats, Vec<u8>), Error>,
}

impl Outcome {
    fn ok(self) -> (u16, Stats, Vec<u8>) {
        match self.result {
            Ok((stats, body)) => (self.status.expect("a head before Done"), stats, body),
            Err(e) => panic!("expected success, got error: {e} ({:?})", e.kind()),
        }
    }

    fn err(self) -> Error {
        match self.result {
            Ok((_, body)) => panic!("expected an error, got Done with {} bytes", body.len()),
            Err(e) => e,
        }
    }
}

/// One GET with `config`, body collected; panics if the request ends twice or never.
fn fetch(config: Config, url: &str) -> Outcome {
    let url = url.to_string();
    within(30, move || {
        let mut client = Client::new(config).expect("client");
        let req = Request::get(&url).expect("url");
        let id = client.submit(req.target(BodyTarget::Collect)).expect("submit");
        let mut status = None;
        let mut ends: Vec<Result<(Stats, Vec<u8>), Error>> = Vec::new();
        client
            .run(|_, ev| {
                assert_eq!(ev.request_id(), Some(id), "event for an unknown request");
                match ev {
                    Event::Head { response, .. } => status = Some(response.status),
                    Event::Done { stats, body, .. } => ends.push(Ok((stats, body.unwrap_or_default()))),
                    Event::Failed { error, .. } => ends.push(Err(error)),
                    _ => {}
                }
            })
            .expect("run");
        assert_eq!(ends.len(), 1, "request must end exactly once: {ends:?}");
        Outcome { status, result: ends.pop().expect("one end") }
    })
}

fn config_trusting(pki: &TestPki) -> Config {
    Config { tls: pki.tls_config(), ..Config::default() }
}

fn assert_tls(err: &Error, want: TlsFailure, url: &str) {
    assert_eq!(err.kind(), ErrorKind::Tls(want), "wrong kind for: {err}");
    assert!(err.to_string().contains(url), "error must name the URL: {err}");
}

fn body_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn custom_root_succeeds_with_exact_body() {
    let pki = TestPki::new();
    let body = body_of(10_000);
    let expect = body.clone();
    let server =
        TlsTestServer::start(server_config(&pki.server_cert(&["localhost", "127.0.0.1"]), None), move |_| {
            TestResponse::ok(body.clone())
        });
    let (status, stats, got) = fetch(config_trusting(&pki), &server.url("localhost", "/a")).ok();
    assert_eq!(status, 200);
    assert_eq!(got, expect);
    assert_eq!(stats.body_bytes, expect.len() as u64);
    assert!(!stats.reused);
    assert_eq!(server.handshakes(), 1);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].target, "/a");
    assert_eq!(reqs[0].header("host"), Some(format!("localhost:{}", server.port()).as_str()));
}

#[test]
fn roots_from_a_pem_file_work_too() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |_| {
        TestResponse::ok("from file")
    });
    let mut config = Config::default();
    config.tls.extra_roots_pem = vec![pki.write_ca(dir.path())];
    config.tls.only_extra_roots = true;
    let (_, _, got) = fetch(config, &server.url("localhost", "/")).ok();
    assert_eq!(got, b"from file");
}

#[test]
fn unknown_issuer_with_default_roots() {
    let pki = TestPki::new();
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |_| {
        TestResponse::ok("secret")
    });
    let url = server.url("localhost", "/x");
    let err = fetch(Config::default(), &url).err();
    assert_tls(&err, TlsFailure::UnknownIssuer, &url);
    assert!(server.requests().is_empty(), "no request may be sent");
}

#[test]
fn a_different_ca_is_an_unknown_issuer() {
    let (pki, other) = (TestPki::new(), TestPki::named("some other CA"));
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |_| {
        TestResponse::ok("secret")
    });
    let url = server.url("localhost", "/");
    let err = fetch(config_trusting(&other), &url).err();
    assert_tls(&err, TlsFailure::UnknownIssuer, &url);
}

#[test]
fn expired_certificate() {
    let pki = TestPki::new();
    let cert = pki.server_cert_with_validity(&["localhost"], Validity::Expired);
    let server = TlsTestServer::start(server_config(&cert, None), |_| TestResponse::ok("x"));
    let url = server.url("localhost", "/");
    let err = fetch(config_trusting(&pki), &url).err();
    assert_tls(&err, TlsFailure::Expired, &url);
}

#[test]
fn not_yet_valid_certificate() {
    let pki = TestPki::new();
    let cert = pki.server_cert_with_validity(&["localhost"], Validity::NotYetValid);
    let server = TlsTestServer::start(server_config(&cert, None), |_| TestResponse::ok("x"));
    let url = server.url("localhost", "/");
    let err = fetch(config_trusting(&pki), &url).err();
    assert_tls(&err, TlsFailure::NotYetValid, &url);
}

#[test]
fn wrong_host_by_name_and_by_ip() {
    let pki = TestPki::new();
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["other.example"]), None), |_| {
        TestResponse::ok("x")
    });
    for host in ["localhost", "127.0.0.1"] {
        let url = server.url(host, "/");
        let err = fetch(config_trusting(&pki), &url).err();
        assert_tls(&err, TlsFailure::WrongHost, &url);
    }
    assert!(server.requests().is_empty());
}

#[test]
fn dns_san_does_not_cover_an_ip_literal() {
    // A certificate for "localhost" only: https://127.0.0.1 must not be accepted.
    let pki = TestPki::new();
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |_| {
        TestResponse::ok("x")
    });
    let url = server.url("127.0.0.1", "/");
    let err = fetch(config_trusting(&pki), &url).err();
    assert_tls(&err, TlsFailure::WrongHost, &url);
}

#[test]
fn ip_san_matches_an_ip_literal() {
    let pki = TestPki::new();
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["127.0.0.1"]), None), |req| {
        TestResponse::ok(format!("ip {}", req.target))
    });
    let (status, _, got) = fetch(config_trusting(&pki), &server.url("127.0.0.1", "/ip")).ok();
    assert_eq!((status, got.as_slice()), (200, &b"ip /ip"[..]));
}

#[test]
fn insecure_accepts_unknown_issuer_wrong_host_and_expired() {
    let pki = TestPki::new();
    let cert = pki.server_cert_with_validity(&["other.example"], Validity::Expired);
    let server = TlsTestServer::start(server_config(&cert, None), |_| TestResponse::ok("ok"));
    let mut config = Config::default();
    config.tls.insecure = true;
    let (status, _, got) = fetch(config, &server.url("localhost", "/")).ok();
    assert_eq!((status, got.as_slice()), (200, &b"ok"[..]));
}

#[test]
fn tls12_only_server_works() {
    let pki = TestPki::new();
    let config =
        server_config_with_versions(&pki.server_cert(&["localhost"]), &[&rustls::version::TLS12], None);
    let server = TlsTestServer::start(config, |_| TestResponse::ok("twelve"));
    let (_, _, got) = fetch(config_trusting(&pki), &server.url("localhost", "/")).ok();
    assert_eq!(got, b"twelve");
}

fn mtls_config(pki: &TestPki, dir: &std::path::Path) -> Config {
    let (cert, key) = pki.client_cert().write_to(dir, "client");
    let mut config = config_trusting(pki);
    config.tls.client_cert_pem = Some(cert);
    config.tls.client_key_pem = Some(key);
    config
}

#[test]
fn mtls_with_client_certificate_succeeds() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    for versions in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let sc = server_config_with_versions(&pki.server_cert(&["localhost"]), &[versions], Some(&pki));
        let server = TlsTestServer::start(sc, |_| TestResponse::ok("hello client"));
        let (status, _, got) = fetch(mtls_config(&pki, dir.path()), &server.url("localhost", "/")).ok();
        assert_eq!((status, got.as_slice()), (200, &b"hello client"[..]));
        assert_eq!(server.handshakes(), 1, "{:?}", server.handshake_errors());
    }
}

#[test]
fn mtls_without_client_certificate_fails() {
    let pki = TestPki::new();
    for versions in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let sc = server_config_with_versions(&pki.server_cert(&["localhost"]), &[versions], Some(&pki));
        let server = TlsTestServer::start(sc, |_| TestResponse::ok("secret"));
        let url = server.url("localhost", "/");
        let err = fetch(config_trusting(&pki), &url).err();
        assert!(
            matches!(err.kind(), ErrorKind::Tls(_)),
            "{versions:?}: expected a TLS error, got {:?}: {err}",
            err.kind()
        );
        assert!(err.to_string().contains(&url), "{err}");
        assert!(server.requests().is_empty(), "server must not serve");
    }
}

#[test]
fn mtls_with_a_client_certificate_from_another_ca_fails() {
    let (pki, other) = (TestPki::new(), TestPki::named("untrusted client CA"));
    let dir = tempfile::tempdir().expect("tempdir");
    let sc = server_config(&pki.server_cert(&["localhost"]), Some(&pki));
    let server = TlsTestServer::start(sc, |_| TestResponse::ok("secret"));
    let mut config = mtls_config(&other, dir.path());
    config.tls = volley::TlsConfig {
        client_cert_pem: config.tls.client_cert_pem.take(),
        client_key_pem: config.tls.client_key_pem.take(),
        ..pki.tls_config()
    };
    let url = server.url("localhost", "/");
    let err = fetch(config, &url).err();
    assert!(matches!(err.kind(), ErrorKind::Tls(_)), "{err}");
    assert!(server.requests().is_empty());
}

#[test]
fn missing_client_key_file_is_a_config_error() {
    let pki = TestPki::new();
    let mut config = config_trusting(&pki);
    config.tls.client_cert_pem = Some("/nonexistent/volley/client.pem".into());
    config.tls.client_key_pem = Some("/nonexistent/volley/client.key".into());
    assert!(Client::new(config).is_err());
}

#[test]
fn fresh_handshakes_report_a_tls_duration() {
    // A full handshake over loopback takes a round trip and real crypto, so a fresh
    // connection must report tls > 0. Observed: 0ns in about 15% of fresh connections,
    // because the duration is `now - since` with `now` read once per turn.
    let pki = TestPki::new();
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |_| {
        TestResponse::ok("x")
    });
    for i in 0..40 {
        let (_, stats, _) = fetch(config_trusting(&pki), &server.url("localhost", "/")).ok();
        assert!(!stats.reused);
        assert!(stats.tls > Duration::ZERO, "fresh connection {i}: {stats:?}");
    }
}

#[test]
fn bad_tls_configuration_fails_at_client_creation() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem").expect("write");
    let (cert_a, _) = pki.client_cert().write_to(dir.path(), "a");
    let (_, key_b) = pki.client_cert().write_to(dir.path(), "b");
    let cases = [
        (
            "garbage root file",
            volley::TlsConfig { extra_roots_pem: vec![garbage.clone()], ..Default::default() },
        ),
        (
            "missing root file",
            volley::TlsConfig { extra_roots_pem: vec![dir.path().join("nope.pem")], ..Default::default() },
        ),
        (
            "garbage root data",
            volley::TlsConfig { extra_roots_pem_data: vec![b"junk".to_vec()], ..Default::default() },
        ),
        ("only extra roots, none given", volley::TlsConfig { only_extra_roots: true, ..Default::default() }),
        (
            "certificate without key",
            volley::TlsConfig { client_cert_pem: Some(cert_a.clone()), ..Default::default() },
        ),
        (
            "key of another certificate",
            volley::TlsConfig {
                client_cert_pem: Some(cert_a),
                client_key_pem: Some(key_b),
                ..Default::default()
            },
        ),
    ];
    for (name, tls) in cases {
        let err = match Client::new(Config { tls, ..Config::default() }) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Config), "{name}: {err}");
    }
}

#[test]
fn client_certificate_unused_when_the_server_does_not_ask() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |_| {
        TestResponse::ok("no mtls")
    });
    let (_, _, got) = fetch(mtls_config(&pki, dir.path()), &server.url("localhost", "/")).ok();
    assert_eq!(got, b"no mtls");
}
