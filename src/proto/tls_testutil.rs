//! Fixtures for the adapter tests, sans-IO: a test PKI made with rcgen, server configs,
//! and a pump that moves bytes between a [`TlsSession`] and a `rustls::ServerConnection`
//! through in-memory buffers.

// Tests may panic on their own fixtures; the lint guards untrusted data in library code.
#![allow(clippy::unwrap_used)]

pub(super) use super::*;
pub(super) use rcgen::ExtendedKeyUsagePurpose;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
pub(super) use rustls::{ServerConfig, ServerConnection};

/// When a test certificate is valid.
#[derive(Clone, Copy)]
pub(super) enum Validity {
    Now,
    Expired,
    NotYetValid,
}

/// A test CA and what it issued.
pub(super) struct Pki {
    pub(super) ca: rcgen::Certificate,
    pub(super) ca_key: KeyPair,
}

/// A certificate chain and its key, as rustls wants them.
pub(super) struct Leaf {
    pub(super) chain: Vec<CertificateDer<'static>>,
    pub(super) key: PrivateKeyDer<'static>,
    pub(super) cert_pem: String,
    pub(super) key_pem: String,
}

impl Pki {
    pub(super) fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        Pki { ca, ca_key }
    }

    pub(super) fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    pub(super) fn issue(&self, names: &[&str], validity: Validity, eku: ExtendedKeyUsagePurpose) -> Leaf {
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

    pub(super) fn server(&self, names: &[&str], validity: Validity) -> Leaf {
        self.issue(names, validity, ExtendedKeyUsagePurpose::ServerAuth)
    }

    pub(super) fn client(&self) -> Leaf {
        self.issue(&[], Validity::Now, ExtendedKeyUsagePurpose::ClientAuth)
    }

    pub(super) fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).unwrap();
        roots
    }
}

pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config for `leaf`; `client_ca` makes a client certificate mandatory.
pub(super) fn server_config(
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
pub(super) fn trusting(pki: &Pki) -> TlsConfig {
    TlsConfig {
        extra_roots_pem_data: vec![pki.ca_pem().into_bytes()],
        only_extra_roots: true,
        ..TlsConfig::default()
    }
}

/// The outcome of pumping bytes until neither side has anything to say.
pub(super) struct Pumped {
    pub(super) client: Result<(), Error>,
    pub(super) server: Result<(), rustls::Error>,
}

/// Move bytes both ways until quiet or until either side fails (its alert still
/// delivered to the other side once, as a real socket would).
pub(super) fn pump(client: &mut TlsSession, server: &mut ServerConnection) -> Pumped {
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
pub(super) fn connect(
    cfg: &TlsConfig,
    host: &str,
    server_cfg: Arc<ServerConfig>,
) -> (TlsSession, ServerConnection, Pumped) {
    let ctx = TlsContext::new(cfg).unwrap();
    connect_with(&ctx, host, server_cfg)
}

pub(super) fn connect_with(
    ctx: &TlsContext,
    host: &str,
    server_cfg: Arc<ServerConfig>,
) -> (TlsSession, ServerConnection, Pumped) {
    let mut client = ctx.start(host).unwrap();
    let mut server = ServerConnection::new(server_cfg).unwrap();
    let pumped = pump(&mut client, &mut server);
    (client, server, pumped)
}

pub(super) fn client_failure(p: &Pumped) -> (TlsFailure, String) {
    match &p.client {
        Err(e) => match e.kind() {
            ErrorKind::Tls(f) => (f, e.message().to_string()),
            other => panic!("not a TLS error: {other:?} {e}"),
        },
        Ok(()) => panic!("client succeeded; server said {:?}", p.server),
    }
}

pub(super) fn read_all_plaintext(client: &mut TlsSession) -> (Vec<u8>, io::Result<usize>) {
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
