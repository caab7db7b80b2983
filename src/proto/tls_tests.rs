//! Adapter tests, sans-IO: certificate and trust decisions (roots, names, dates, IP
//! SANs, client certificates, versions, PEM loading, insecure mode).

// Tests may panic on their own fixtures; the lint guards untrusted data in library code.
#![allow(clippy::unwrap_used)]

use super::testutil::*;

#[test]
fn custom_root_success_and_data_both_ways() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    p.server.unwrap();
    assert!(!client.is_handshaking());
    assert!(!client.was_resumed());
    assert_eq!(client.protocol_version(), Some("TLSv1.3"));
    assert_eq!(server.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(server.server_name(), Some("example.test"), "SNI sent for a DNS name");

    assert_eq!(client.write_plaintext(b"GET / HTTP/1.1\r\n\r\n").unwrap(), 18);
    server.writer().write_all(b"HTTP/1.1 200 OK\r\n\r\nhello").unwrap();
    let p = pump(&mut client, &mut server);
    p.client.unwrap();
    let mut req = [0u8; 64];
    let n = server.reader().read(&mut req).unwrap();
    assert_eq!(&req[..n], b"GET / HTTP/1.1\r\n\r\n");
    let (got, end) = read_all_plaintext(&mut client);
    assert_eq!(got, b"HTTP/1.1 200 OK\r\n\r\nhello");
    assert_eq!(end.unwrap_err().kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn unknown_issuer() {
    let pki = Pki::new("ca");
    let other = Pki::new("other ca");
    let leaf = other.server(&["example.test"], Validity::Now);
    let (_, _, p) = connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    let (f, msg) = client_failure(&p);
    assert_eq!(f, TlsFailure::UnknownIssuer);
    assert!(msg.contains("unknown issuer"), "{msg}");
    // The client told the server why (RFC 8446 §6.2).
    assert!(p.server.is_err());
}

#[test]
fn built_in_roots_do_not_trust_a_test_ca() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (_, _, p) =
        connect(&TlsConfig::default(), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    assert_eq!(client_failure(&p).0, TlsFailure::UnknownIssuer);
}

#[test]
fn expired() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Expired);
    let (_, _, p) = connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    let (f, msg) = client_failure(&p);
    assert_eq!(f, TlsFailure::Expired);
    assert!(msg.contains("certificate expired"), "{msg}");
}

#[test]
fn not_yet_valid() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::NotYetValid);
    let (_, _, p) = connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    let (f, msg) = client_failure(&p);
    assert_eq!(f, TlsFailure::NotYetValid);
    assert!(msg.contains("not valid yet"), "{msg}");
}

#[test]
fn wrong_host() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (_, _, p) = connect(&trusting(&pki), "other.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    let (f, msg) = client_failure(&p);
    assert_eq!(f, TlsFailure::WrongHost);
    assert!(msg.contains("certificate not valid for name \"other.test\""), "{msg}");
    assert!(msg.contains("example.test"), "names what the certificate is for: {msg}");
}

#[test]
fn ip_san_success_without_sni_and_ip_mismatch() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["127.0.0.1", "::1", "localhost"], Validity::Now);
    let cfg = trusting(&pki);
    for host in ["127.0.0.1", "::1"] {
        let (_, server, p) = connect(&cfg, host, server_config(&leaf, DEFAULT_VERSIONS, None));
        p.client.unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(server.server_name(), None, "no SNI for an IP literal (RFC 6066 §3)");
    }
    let (_, _, p) = connect(&cfg, "127.0.0.2", server_config(&leaf, DEFAULT_VERSIONS, None));
    let (f, msg) = client_failure(&p);
    assert_eq!(f, TlsFailure::WrongHost);
    assert!(msg.contains("\"127.0.0.2\""), "{msg}");
    // A DNS SAN spelled like an address does not match an IP literal, and vice versa.
    let dns_only = pki.server(&["localhost"], Validity::Now);
    let (_, _, p) = connect(&cfg, "127.0.0.1", server_config(&dns_only, DEFAULT_VERSIONS, None));
    assert_eq!(client_failure(&p).0, TlsFailure::WrongHost);
}

#[test]
fn invalid_server_name_is_a_config_error() {
    let ctx = TlsContext::new(&TlsConfig::default()).unwrap();
    let err = ctx.start("bad name with spaces").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Config));
    assert!(err.message().contains("bad name with spaces"));
}

#[test]
fn client_certificate_required_with_and_without_mtls() {
    let pki = Pki::new("ca");
    let client_pki = Pki::new("client ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let server_cfg = server_config(&leaf, DEFAULT_VERSIONS, Some(&client_pki));

    // Without a client certificate: the TLS 1.3 client finishes its side of the
    // handshake, then learns of the rejection from the server's alert.
    let (_, _, p) = connect(&trusting(&pki), "example.test", server_cfg.clone());
    let (f, msg) = client_failure(&p);
    assert_eq!(f, TlsFailure::Alert);
    assert!(msg.contains("server alert: certificate_required"), "{msg}");

    // With one, from PEM files as the configuration names them.
    let dir = tempfile::tempdir().unwrap();
    let client_leaf = client_pki.client();
    let cert_path = dir.path().join("client.pem");
    let key_path = dir.path().join("client.key");
    std::fs::write(&cert_path, &client_leaf.cert_pem).unwrap();
    std::fs::write(&key_path, &client_leaf.key_pem).unwrap();
    let cfg =
        TlsConfig { client_cert_pem: Some(cert_path), client_key_pem: Some(key_path), ..trusting(&pki) };
    let (_, server, p) = connect(&cfg, "example.test", server_cfg);
    p.client.unwrap();
    p.server.unwrap();
    assert_eq!(server.peer_certificates().map(|c| c.len()), Some(1));
}

#[test]
fn client_cert_without_key_is_a_config_error() {
    let cfg = TlsConfig { client_cert_pem: Some("/nonexistent.pem".into()), ..TlsConfig::default() };
    let err = TlsContext::new(&cfg).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Config));
}

#[test]
fn version_mismatch() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    // Client 1.3 only vs server 1.2 only, and the reverse.
    let cases = [
        (&[&rustls::version::TLS13][..], &[&rustls::version::TLS12][..]),
        (&[&rustls::version::TLS12][..], &[&rustls::version::TLS13][..]),
    ];
    for (client_versions, server_versions) in cases {
        let ctx = TlsContext::with_versions(&trusting(&pki), client_versions).unwrap();
        let (_, _, p) = connect_with(&ctx, "example.test", server_config(&leaf, server_versions, None));
        let (f, msg) = client_failure(&p);
        assert_eq!(f, TlsFailure::Version, "{msg}");
        assert!(msg.contains("protocol"), "{msg}");
    }
}

#[test]
fn insecure_accepts_unknown_issuer_wrong_name_and_expired() {
    let other = Pki::new("untrusted");
    let leaf = other.server(&["example.test"], Validity::Expired);
    let cfg = TlsConfig { insecure: true, only_extra_roots: true, ..TlsConfig::default() };
    let (mut client, mut server, p) =
        connect(&cfg, "wrong.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    p.server.unwrap();
    server.writer().write_all(b"ok").unwrap();
    pump(&mut client, &mut server).client.unwrap();
    assert_eq!(read_all_plaintext(&mut client).0, b"ok");
    // TLS 1.2 signatures are still checked through the same verifier.
    let ctx = TlsContext::with_versions(&cfg, &[&rustls::version::TLS12]).unwrap();
    let tls12 = server_config(&leaf, &[&rustls::version::TLS12], None);
    connect_with(&ctx, "wrong.test", tls12).2.client.unwrap();
}

#[test]
fn bad_pem_files_are_config_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, b"this is not PEM at all\n").unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(&broken, b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n").unwrap();
    let not_a_cert = dir.path().join("not-a-cert.pem");
    std::fs::write(
        &not_a_cert,
        b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");
    for path in [&garbage, &broken, &not_a_cert, &missing] {
        let cfg = TlsConfig { extra_roots_pem: vec![path.clone()], ..TlsConfig::default() };
        let err = TlsContext::new(&cfg).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Config), "{err}");
        assert!(err.message().contains(&path.display().to_string()), "{err}");
    }
    // A bad client key names the key file.
    let pki = Pki::new("ca");
    let leaf = pki.client();
    let cert = dir.path().join("c.pem");
    std::fs::write(&cert, &leaf.cert_pem).unwrap();
    let cfg = TlsConfig {
        client_cert_pem: Some(cert),
        client_key_pem: Some(garbage.clone()),
        ..TlsConfig::default()
    };
    let err = TlsContext::new(&cfg).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Config));
    assert!(err.message().contains("garbage.pem"), "{err}");
}

#[test]
fn only_extra_roots_without_roots_is_a_config_error() {
    let cfg = TlsConfig { only_extra_roots: true, ..TlsConfig::default() };
    let err = TlsContext::new(&cfg).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Config));
}

#[test]
fn roots_from_a_pem_file() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roots.pem");
    // Two certificates in one file: another CA first, then ours.
    let bundle = format!("{}{}", Pki::new("other").ca_pem(), pki.ca_pem());
    std::fs::write(&path, bundle).unwrap();
    let cfg = TlsConfig { extra_roots_pem: vec![path], only_extra_roots: true, ..TlsConfig::default() };
    let (_, _, p) = connect(&cfg, "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
}

#[test]
fn alert_names_follow_the_rfc_spelling() {
    assert_eq!(alert_name(AlertDescription::HandshakeFailure), "handshake_failure");
    assert_eq!(alert_name(AlertDescription::BadCertificate), "bad_certificate");
    assert_eq!(alert_name(AlertDescription::Unknown(200)), "unknown alert 200");
}
