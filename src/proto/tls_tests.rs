//! Adapter tests, sans-IO: a [`TlsSession`] and a `rustls::ServerConnection` exchange
//! bytes through in-memory buffers; certificates are made with rcgen per test.

// Tests may panic on their own fixtures; the lint guards untrusted data in library code.
#![allow(clippy::unwrap_used)]

use super::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ServerConfig, ServerConnection};

/// When a test certificate is valid.
#[derive(Clone, Copy)]
enum Validity {
    Now,
    Expired,
    NotYetValid,
}

/// A test CA and what it issued.
struct Pki {
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

/// A certificate chain and its key, as rustls wants them.
struct Leaf {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    cert_pem: String,
    key_pem: String,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        Pki { ca, ca_key }
    }

    fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    fn issue(&self, names: &[&str], validity: Validity, eku: ExtendedKeyUsagePurpose) -> Leaf {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "volley test leaf");
        params.extended_key_usages = vec![eku];
        match validity {
            Validity::Now => {}
            Validity::Expired => {
                params.not_before = rcgen::date_time_ymd(2000, 1, 1);
                params.not_after = rcgen::date_time_ymd(2001, 1, 1);
            }
            Validity::NotYetValid => {
                params.not_before = rcgen::date_time_ymd(2090, 1, 1);
                params.not_after = rcgen::date_time_ymd(2091, 1, 1);
            }
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    fn server(&self, names: &[&str], validity: Validity) -> Leaf {
        self.issue(names, validity, ExtendedKeyUsagePurpose::ServerAuth)
    }

    fn client(&self) -> Leaf {
        self.issue(&[], Validity::Now, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).unwrap();
        roots
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config for `leaf`; `client_ca` makes a client certificate mandatory.
fn server_config(
    leaf: &Leaf,
    versions: &[&'static SupportedProtocolVersion],
    client_ca: Option<&Pki>,
) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(provider()).with_protocol_versions(versions).unwrap();
    let builder = match client_ca {
        Some(ca) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(Arc::new(ca.roots()), provider()).build().unwrap(),
        ),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(leaf.chain.clone(), leaf.key.clone_key()).unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A client config trusting only `pki`'s CA.
fn trusting(pki: &Pki) -> TlsConfig {
    TlsConfig {
        extra_roots_pem_data: vec![pki.ca_pem().into_bytes()],
        only_extra_roots: true,
        ..TlsConfig::default()
    }
}

/// The outcome of pumping bytes until neither side has anything to say.
struct Pumped {
    client: Result<(), Error>,
    server: Result<(), rustls::Error>,
}

/// Move bytes both ways until quiet or until either side fails (its alert still
/// delivered to the other side once, as a real socket would).
fn pump(client: &mut TlsSession, server: &mut ServerConnection) -> Pumped {
    let mut out = Pumped { client: Ok(()), server: Ok(()) };
    for _ in 0..100 {
        let mut moved = false;
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() && out.server.is_ok() {
            moved = true;
            let mut rd = &buf[..];
            while !rd.is_empty() {
                server.read_tls(&mut rd).unwrap();
                if let Err(e) = server.process_new_packets() {
                    out.server = Err(e);
                    break;
                }
            }
        }
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() && out.client.is_ok() {
            moved = true;
            let mut rd = &buf[..];
            while !rd.is_empty() {
                client.read_tls(&mut rd).unwrap();
                if let Err(e) = client.process() {
                    out.client = Err(e);
                    break;
                }
            }
        }
        if !moved || (out.client.is_err() && out.server.is_err()) {
            break;
        }
    }
    out
}

/// Handshake `host` against a server with `leaf`; both results.
fn connect(
    cfg: &TlsConfig,
    host: &str,
    server_cfg: Arc<ServerConfig>,
) -> (TlsSession, ServerConnection, Pumped) {
    let ctx = TlsContext::new(cfg).unwrap();
    connect_with(&ctx, host, server_cfg)
}

fn connect_with(
    ctx: &TlsContext,
    host: &str,
    server_cfg: Arc<ServerConfig>,
) -> (TlsSession, ServerConnection, Pumped) {
    let mut client = ctx.start(host).unwrap();
    let mut server = ServerConnection::new(server_cfg).unwrap();
    let pumped = pump(&mut client, &mut server);
    (client, server, pumped)
}

fn client_failure(p: &Pumped) -> (TlsFailure, String) {
    match &p.client {
        Err(e) => match e.kind() {
            ErrorKind::Tls(f) => (f, e.message().to_string()),
            other => panic!("not a TLS error: {other:?} {e}"),
        },
        Ok(()) => panic!("client succeeded; server said {:?}", p.server),
    }
}

fn read_all_plaintext(client: &mut TlsSession) -> (Vec<u8>, io::Result<usize>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match client.read_plaintext(&mut buf) {
            Ok(0) => return (got, Ok(0)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Err(e)),
        }
    }
}

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
fn plaintext_queued_during_handshake_is_sent_after_it() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let ctx = TlsContext::new(&trusting(&pki)).unwrap();
    let mut client = ctx.start("example.test").unwrap();
    assert!(client.is_handshaking());
    assert_eq!(client.write_plaintext(b"early").unwrap(), 5);
    let mut server = ServerConnection::new(server_config(&leaf, DEFAULT_VERSIONS, None)).unwrap();
    pump(&mut client, &mut server).client.unwrap();
    let mut req = [0u8; 16];
    let n = server.reader().read(&mut req).unwrap();
    assert_eq!(&req[..n], b"early");
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
fn resumption_tls13_and_tls12() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    for versions in [&[&rustls::version::TLS13][..], &[&rustls::version::TLS12][..]] {
        let server_cfg = server_config(&leaf, versions, None);
        let ctx = TlsContext::new(&trusting(&pki)).unwrap();
        let (first, server, p) = connect_with(&ctx, "example.test", server_cfg.clone());
        p.client.unwrap();
        assert!(!first.was_resumed());
        assert_eq!(server.handshake_kind(), Some(HandshakeKind::Full));
        let (second, server, p) = connect_with(&ctx, "example.test", server_cfg.clone());
        p.client.unwrap();
        assert!(second.was_resumed(), "{:?}", second.protocol_version());
        assert_eq!(server.handshake_kind(), Some(HandshakeKind::Resumed));
        // Another context has its own cache: a full handshake again.
        let other = TlsContext::new(&trusting(&pki)).unwrap();
        let (third, _, p) = connect_with(&other, "example.test", server_cfg);
        p.client.unwrap();
        assert!(!third.was_resumed());
    }
}

#[test]
fn close_notify_is_a_clean_end() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    server.writer().write_all(b"last bytes").unwrap();
    server.send_close_notify();
    pump(&mut client, &mut server).client.unwrap();
    assert!(client.received_close_notify());
    assert!(!client.wants_read());
    let (got, end) = read_all_plaintext(&mut client);
    assert_eq!(got, b"last bytes");
    assert_eq!(end.unwrap(), 0);
    // read_tls after close_notify is Ok(0) without touching the transport.
    assert_eq!(client.read_tls(&mut &b"junk"[..]).unwrap(), 0);
    // Our own close_notify goes out for the server.
    client.send_close_notify();
    assert!(client.wants_write());
    pump(&mut client, &mut server).server.unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(server.reader().read(&mut buf).unwrap(), 0);
}

#[test]
fn eof_without_close_notify_is_detectable() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    server.writer().write_all(b"partial").unwrap();
    pump(&mut client, &mut server).client.unwrap();
    // Transport EOF: an empty reader.
    assert_eq!(client.read_tls(&mut io::empty()).unwrap(), 0);
    client.process().unwrap();
    assert!(!client.received_close_notify());
    let (got, end) = read_all_plaintext(&mut client);
    assert_eq!(got, b"partial");
    assert_eq!(end.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    let err = TlsSession::truncation_error();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Truncated));
    assert!(err.message().contains("close_notify"));
}

#[test]
fn zero_copy_plaintext_chunks() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    assert_eq!(client.plaintext_chunk().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    let body: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    // rustls holds ~16 KiB of plaintext before refusing more TLS input, so feed and
    // drain in turns like the reactor will.
    while got.len() < body.len() {
        if sent < body.len() {
            let end = body.len().min(sent + 10_000);
            sent += server.writer().write(&body[sent..end]).unwrap();
        }
        pump(&mut client, &mut server).client.unwrap();
        loop {
            let chunk = match client.plaintext_chunk() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            };
            assert!(!chunk.is_empty() && chunk.len() <= 16 * 1024);
            // Take part of a chunk to show consume's partial use works.
            let take = chunk.len().min(1000);
            got.extend_from_slice(&chunk[..take]);
            client.consume_plaintext(take);
        }
    }
    assert_eq!(got, body);
    server.send_close_notify();
    pump(&mut client, &mut server).client.unwrap();
    assert_eq!(client.plaintext_chunk().unwrap(), b"");
}

#[test]
fn undrained_plaintext_stops_reading() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    assert!(client.wants_read());
    server.writer().write_all(&[7u8; 40_000]).unwrap();
    let mut buf = Vec::new();
    while server.wants_write() {
        server.write_tls(&mut buf).unwrap();
    }
    let mut rd = &buf[..];
    let mut refused = false;
    while !rd.is_empty() {
        match client.read_tls(&mut rd) {
            Ok(_) => client.process().unwrap(),
            Err(e) => {
                assert_eq!(e.kind(), io::ErrorKind::Other);
                refused = true;
                break;
            }
        }
    }
    assert!(refused, "rustls applies backpressure");
    assert!(!client.wants_read());
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

#[test]
fn handshake_and_data_one_byte_at_a_time() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let ctx = TlsContext::new(&trusting(&pki)).unwrap();
    let mut client = ctx.start("example.test").unwrap();
    let mut server = ServerConnection::new(server_config(&leaf, DEFAULT_VERSIONS, None)).unwrap();
    let mut got = Vec::new();
    let mut sent_response = false;
    for _ in 0..20 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).unwrap();
            server.process_new_packets().unwrap();
        }
        if !server.is_handshaking() && !sent_response {
            server.writer().write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
            server.send_close_notify();
            sent_response = true;
        }
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        for byte in buf.chunks(1) {
            assert_eq!(client.read_tls(&mut &byte[..]).unwrap(), 1);
            client.process().unwrap();
            let mut pt = [0u8; 64];
            match client.read_plaintext(&mut pt) {
                Ok(n) => got.extend_from_slice(&pt[..n]),
                Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
            }
        }
        if client.received_close_notify() {
            break;
        }
    }
    assert!(client.received_close_notify());
    assert_eq!(got, b"HTTP/1.1 200 OK\r\n\r\n");
}

#[test]
fn eof_during_handshake() {
    let ctx = TlsContext::new(&TlsConfig::default()).unwrap();
    let mut client = ctx.start("example.test").unwrap();
    let mut hello = Vec::new();
    client.write_tls(&mut hello).unwrap();
    assert!(hello.len() > 100, "a ClientHello went out");
    assert_eq!(client.read_tls(&mut io::empty()).unwrap(), 0);
    client.process().unwrap();
    assert!(client.is_handshaking());
    let err = TlsSession::handshake_eof_error();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Protocol));
    assert!(format!("{client:?}").contains("example.test"));
}
