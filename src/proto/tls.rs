//! The TLS adapter: a sans-IO wrapper around a `rustls` client connection. This is the
//! only library file that names `rustls` or `webpki-roots`, so a rustls upgrade touches
//! this file alone.
//!
//! What it owns:
//! - [`TlsContext`]: one per client. It reads the trust roots and the client certificate
//!   once (PEM files, at `Client::new`) and holds ONE shared `Arc<rustls::ClientConfig>`,
//!   so that session resumption works across connections: TLS 1.3 tickets
//!   (RFC 8446 §2.2, §4.6.1) and TLS 1.2 session ids / tickets (RFC 5246 §7.3, RFC 5077)
//!   are kept in one in-memory cache keyed by server name.
//! - [`TlsSession`]: one per connection. Bytes in ([`TlsSession::read_tls`]), bytes out
//!   ([`TlsSession::write_tls`]), plaintext in and out; it never owns a socket, so the
//!   reactor decides when to read and write, and tests pump bytes in memory.
//!
//! Protocol choices:
//! - TLS 1.2 and 1.3 only (RFC 8996 retired 1.0/1.1); ALPN offers only `http/1.1`
//!   (RFC 7301).
//! - Server names: a DNS name is sent as SNI (RFC 6066 §3) and checked against the
//!   certificate's DNS SANs (RFC 6125 §6.4, via webpki; no CN fallback); an IP literal sends no SNI (RFC 6066
//!   §3 forbids it) and is checked against IP SANs.
//! - Closure: a peer's `close_notify` (RFC 8446 §6.1, RFC 5246 §7.2.1) is a clean end of
//!   data; a transport EOF without it is only acceptable where HTTP framing already told
//!   us where the body ends. Where the body's end depends on the close (a close-delimited
//!   body), EOF without `close_notify` is a truncation: [`TlsSession::truncation_error`].
//!
//! Driving a session (the reactor's contract):
//! 1. on readable, repeat: `read_tls`; `process`; drain plaintext (`read_plaintext`, or
//!    `plaintext_chunk` + `consume_plaintext`) until `WouldBlock` — until `read_tls`
//!    gives `WouldBlock` or `Ok(0)`, or `wants_read` turns false. rustls refuses
//!    `read_tls` (an `Other` error, "received plaintext buffer full") while ~16 KiB of
//!    plaintext is undrained, and `wants_read` is false then: the backpressure for pause.
//! 2. `read_tls` returns `Ok(0)` both for a transport EOF and once `close_notify` has
//!    been received; `received_close_notify` tells them apart.
//! 3. after every input, `write_tls` while `wants_write` — also after `process` failed,
//!    because rustls queues the alert that tells the server why (RFC 8446 §6.2).

use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, HandshakeKind,
    PeerIncompatible, RootCertStore, SignatureScheme, SupportedProtocolVersion,
};

use crate::config::TlsConfig;
use crate::error::{Error, ErrorKind, TlsFailure};

/// Session tickets / ids kept for resumption. rustls's default (256) is sized for a
/// browser tab; a download run may touch thousands of hosts.
const RESUMPTION_CACHE_ENTRIES: usize = 4096;

/// The versions offered by default: TLS 1.3 preferred, TLS 1.2 still widely deployed.
static DEFAULT_VERSIONS: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

fn tls_error(failure: TlsFailure, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Tls(failure), message)
}

/// Client-wide TLS state: trust roots, client certificate and the session cache.
/// Cloning shares the configuration and so the session cache.
#[derive(Clone)]
pub(crate) struct TlsContext {
    config: Arc<ClientConfig>,
}

impl TlsContext {
    /// Build the context from the configuration, reading every PEM file now so a bad
    /// file fails `Client::new` instead of the first request.
    pub(crate) fn new(cfg: &TlsConfig) -> Result<TlsContext, Error> {
        TlsContext::with_versions(cfg, DEFAULT_VERSIONS)
    }

    /// As [`TlsContext::new`], offering only `versions` (tests force a version mismatch).
    pub(crate) fn with_versions(
        cfg: &TlsConfig,
        versions: &[&'static SupportedProtocolVersion],
    ) -> Result<TlsContext, Error> {
        // Named explicitly rather than through rustls's process-wide default, so an
        // embedding program that installs another provider does not change us.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = load_roots(cfg)?;
        let client_auth = load_client_auth(cfg)?;

        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| tls_error(TlsFailure::Config, format!("protocol versions: {e}")))?;
        let builder = if cfg.insecure {
            let verifier = AcceptAnyServerCert { algorithms: provider.signature_verification_algorithms };
            builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier))
        } else {
            if roots.is_empty() {
                return Err(tls_error(
                    TlsFailure::Config,
                    "no trusted roots: only extra roots were asked for, but none were given",
                ));
            }
            builder.with_root_certificates(roots)
        };
        let mut config = match client_auth {
            Some((chain, key, files)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error(TlsFailure::Config, format!("client certificate {files}: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.resumption = Resumption::in_memory_sessions(RESUMPTION_CACHE_ENTRIES);
        Ok(TlsContext { config: Arc::new(config) })
    }

    /// Start a client session for `host`: a DNS name, or a bare IP literal (no brackets).
    pub(crate) fn start(&self, host: &str) -> Result<TlsSession, Error> {
        // `try_from` recognises IP literals, which turns SNI off and makes webpki check
        // IP SANs instead of DNS SANs.
        let name = ServerName::try_from(host.to_string()).map_err(|_| {
            tls_error(TlsFailure::Config, format!("\"{host}\" is not a valid TLS server name"))
        })?;
        let conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| tls_error(TlsFailure::Config, format!("cannot start TLS session: {e}")))?;
        Ok(TlsSession { conn, host: host.to_string(), peer_closed: false })
    }
}

/// The built-in webpki roots (unless `only_extra_roots`) plus every extra root.
fn load_roots(cfg: &TlsConfig) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    if !cfg.only_extra_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for path in &cfg.extra_roots_pem {
        let data = read_file(path, "root certificate file")?;
        add_roots(&mut roots, &data, &format!("root certificate file {}", path.display()))?;
    }
    for (i, data) in cfg.extra_roots_pem_data.iter().enumerate() {
        add_roots(&mut roots, data, &format!("root certificate data #{}", i + 1))?;
    }
    Ok(roots)
}

fn add_roots(roots: &mut RootCertStore, pem: &[u8], what: &str) -> Result<(), Error> {
    let certs = parse_certs(pem, what)?;
    for cert in certs {
        roots.add(cert).map_err(|e| tls_error(TlsFailure::Config, format!("{what}: {e}")))?;
    }
    Ok(())
}

/// Every certificate in a PEM text; none at all is an error, since a file that adds no
/// root is surely not what the user meant.
fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(TlsFailure::Config, format!("{what}: bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(tls_error(TlsFailure::Config, format!("{what}: no PEM certificate found")));
    }
    Ok(certs)
}

type ClientAuth = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String);

fn load_client_auth(cfg: &TlsConfig) -> Result<Option<ClientAuth>, Error> {
    let (cert_path, key_path) = match (&cfg.client_cert_pem, &cfg.client_key_pem) {
        (None, None) => return Ok(None),
        (Some(c), Some(k)) => (c, k),
        (Some(_), None) => {
            return Err(tls_error(TlsFailure::Config, "client certificate given without its key"))
        }
        (None, Some(_)) => {
            return Err(tls_error(TlsFailure::Config, "client key given without its certificate"))
        }
    };
    let what = format!("client certificate file {}", cert_path.display());
    let chain = parse_certs(&read_file(cert_path, "client certificate file")?, &what)?;
    let key_data = read_file(key_path, "client key file")?;
    let key = PrivateKeyDer::from_pem_slice(&key_data)
        .map_err(|e| tls_error(TlsFailure::Config, format!("client key file {}: {e}", key_path.display())))?;
    let files = format!("{} / {}", cert_path.display(), key_path.display());
    Ok(Some((chain, key, files)))
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| {
        Error::from_io(ErrorKind::Tls(TlsFailure::Config), &format!("{what} {}", path.display()), &e)
    })
}

/// `insecure` mode: any chain, any name, any validity period. Handshake signatures are
/// still checked (cheaply), so the server at least holds the key of the certificate it sent.
#[derive(Debug)]
struct AcceptAnyServerCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// One client TLS session over one transport connection.
pub(crate) struct TlsSession {
    conn: ClientConnection,
    /// Kept for error messages ("not valid for name ...").
    host: String,
    /// rustls reports `close_notify` only through `process_new_packets`'s `IoState` (and
    /// the reader), so the last report is kept here for a `&self` getter.
    peer_closed: bool,
}

impl TlsSession {
    /// Socket → rustls. `Ok(0)` is a transport EOF, or `close_notify` was already received
    /// (see [`TlsSession::received_close_notify`]). Call [`TlsSession::process`] after each
    /// successful read.
    pub(crate) fn read_tls(&mut self, rd: &mut dyn Read) -> io::Result<usize> {
        self.conn.read_tls(rd)
    }

    /// Decrypt and act on the records read so far. A failure is final: rustls keeps
    /// returning it, and may have queued an alert for [`TlsSession::write_tls`].
    pub(crate) fn process(&mut self) -> Result<(), Error> {
        match self.conn.process_new_packets() {
            Ok(state) => {
                self.peer_closed = state.peer_has_closed();
                Ok(())
            }
            Err(e) => Err(map_error(&e, &self.host)),
        }
    }

    /// rustls → socket.
    pub(crate) fn write_tls(&mut self, wr: &mut dyn Write) -> io::Result<usize> {
        self.conn.write_tls(wr)
    }

    /// TLS bytes are queued for the socket.
    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// rustls would take more bytes from the socket: false while undrained plaintext is
    /// buffered (backpressure) or after `close_notify`.
    #[cfg_attr(not(test), allow(dead_code))] // for the zero-copy and memory work of the benchmark issue
    pub(crate) fn wants_read(&self) -> bool {
        self.conn.wants_read()
    }

    /// The handshake has not finished yet.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Plaintext out: `Ok(n > 0)` bytes; `Ok(0)` = peer sent `close_notify` (clean end);
    /// `Err(WouldBlock)` = no plaintext buffered now; `Err(UnexpectedEof)` = the transport
    /// ended without `close_notify` and everything buffered has been read. `buf` must not
    /// be empty (an empty `buf` also gives `Ok(0)`).
    pub(crate) fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.conn.reader().read(buf)
    }

    /// Zero-copy plaintext out: rustls's own buffer (one decrypted record, at most
    /// 16 KiB). Same results as [`TlsSession::read_plaintext`], with `Ok(&[])` meaning
    /// `close_notify`. Follow with [`TlsSession::consume_plaintext`].
    pub(crate) fn plaintext_chunk(&mut self) -> io::Result<&[u8]> {
        self.conn.reader().into_first_chunk()
    }

    /// Mark `n` bytes of the last [`TlsSession::plaintext_chunk`] as used.
    pub(crate) fn consume_plaintext(&mut self, n: usize) {
        self.conn.reader().consume(n);
    }

    /// Queue plaintext for sending (rustls buffers it, also during the handshake);
    /// returns bytes accepted, which is less than `data.len()` (maybe 0) at the buffer
    /// limit: then `write_tls` to make room.
    pub(crate) fn write_plaintext(&mut self, data: &[u8]) -> io::Result<usize> {
        self.conn.writer().write(data)
    }

    /// The peer ended the session cleanly.
    pub(crate) fn received_close_notify(&self) -> bool {
        self.peer_closed
    }

    /// Queue our `close_notify` (flush with [`TlsSession::write_tls`]).
    pub(crate) fn send_close_notify(&mut self) {
        self.conn.send_close_notify();
    }

    /// This session resumed an earlier one (no full handshake, no certificate check).
    pub(crate) fn was_resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    /// Limit on bytes buffered for sending (plaintext queued before the handshake ends
    /// plus TLS records not yet written); `None` = unlimited.
    #[allow(dead_code)] // for the memory work of the benchmark issue
    pub(crate) fn set_buffer_limit(&mut self, bytes: Option<usize>) {
        self.conn.set_buffer_limit(bytes);
    }

    /// The negotiated version as `"TLSv1.3"` / `"TLSv1.2"`, once known (for stats).
    #[cfg_attr(not(test), allow(dead_code))] // for the zero-copy and memory work of the benchmark issue
    pub(crate) fn protocol_version(&self) -> Option<&'static str> {
        match self.conn.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => Some("TLSv1.3"),
            rustls::ProtocolVersion::TLSv1_2 => Some("TLSv1.2"),
            _ => Some("TLS"),
        }
    }

    /// The error to report when the transport ends before the handshake finished:
    /// typically a server that rejects the SNI name or the offered versions silently.
    pub(crate) fn handshake_eof_error() -> Error {
        tls_error(TlsFailure::Protocol, "connection closed during the TLS handshake")
    }

    /// The error to report when the transport hits EOF without `close_notify` while the
    /// body's end depends on it (truncation attack, RFC 8446 §6.1).
    pub(crate) fn truncation_error() -> Error {
        tls_error(
            TlsFailure::Truncated,
            "connection closed without TLS close_notify; the response may be truncated",
        )
    }
}

impl std::fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsContext").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSession")
            .field("host", &self.host)
            .field("handshaking", &self.conn.is_handshaking())
            .field("peer_closed", &self.peer_closed)
            .finish_non_exhaustive()
    }
}

/// A rustls error as a volley error. Certificate problems come first because they are
/// the ones a user can act on (install a root, fix the clock, use the right name).
fn map_error(e: &rustls::Error, host: &str) -> Error {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => tls_error(
                TlsFailure::UnknownIssuer,
                "certificate unknown issuer (not signed by a trusted root)",
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                tls_error(TlsFailure::Expired, "certificate expired")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                tls_error(TlsFailure::NotYetValid, "certificate not valid yet")
            }
            CertificateError::NotValidForName => {
                tls_error(TlsFailure::WrongHost, format!("certificate not valid for name \"{host}\""))
            }
            CertificateError::NotValidForNameContext { presented, .. } => tls_error(
                TlsFailure::WrongHost,
                format!("certificate not valid for name \"{host}\" (it is for: {})", presented.join(", ")),
            ),
            _ => tls_error(TlsFailure::BadCertificate, e.to_string()),
        },
        E::NoCertificatesPresented => {
            tls_error(TlsFailure::BadCertificate, "server presented no certificate")
        }
        E::AlertReceived(AlertDescription::ProtocolVersion) => {
            tls_error(TlsFailure::Version, "server alert: protocol_version (no common protocol version)")
        }
        E::AlertReceived(alert) => {
            let hint = match alert {
                AlertDescription::CertificateRequired => " (the server requires a client certificate)",
                AlertDescription::HandshakeFailure => " (no common cipher suite or parameters)",
                _ => "",
            };
            tls_error(TlsFailure::Alert, format!("server alert: {}{hint}", alert_name(*alert)))
        }
        E::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::SupportedVersionsExtensionRequired
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled,
        ) => tls_error(TlsFailure::Version, format!("no common protocol version ({e})")),
        _ => tls_error(TlsFailure::Protocol, e.to_string()),
    }
}

/// The RFC spelling of an alert (`handshake_failure`), from rustls's `HandshakeFailure`.
fn alert_name(alert: AlertDescription) -> String {
    if let AlertDescription::Unknown(code) = alert {
        return format!("unknown alert {code}");
    }
    let debug = format!("{alert:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[path = "tls_session_tests.rs"]
mod session_tests;
#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
#[cfg(test)]
#[path = "tls_testutil.rs"]
mod testutil;
