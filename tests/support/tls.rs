//! Test-side TLS: a CA and certificates made with rcgen at test time, rustls server
//! configurations, and [`TlsTestServer`], a blocking TLS HTTP/1.1 server on
//! `127.0.0.1:0` that serves scripted responses and counts connections, handshakes and
//! resumed handshakes.
//!
//! ```ignore
//! let pki = TestPki::new();
//! let server = TlsTestServer::start(
//!     server_config(&pki.server_cert(&["localhost", "127.0.0.1"]), None),
//!     |req| TestResponse::ok(format!("you asked for {}", req.target)),
//! );
//! let mut config = volley::Config::default();
//! config.tls = pki.tls_config();
//! // ... request server.url("localhost", "/a") ...
//! assert_eq!(server.handshakes(), 1);
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    HandshakeKind, RootCertStore, ServerConfig, ServerConnection, StreamOwned, SupportedProtocolVersion,
};

/// When a test certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From 1975 to 4096 (rcgen's defaults): valid for any test run.
    Now,
    /// 2000-01-01 to 2001-01-01.
    Expired,
    /// 2090-01-01 to 2091-01-01.
    NotYetValid,
    /// January 1st of the first year to January 1st of the second.
    Years(i32, i32),
}

/// A test certificate authority. `ca_pem` is what a client adds as a trusted root.
pub struct TestPki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

/// A certificate issued by a [`TestPki`], with its key, as PEM and as rustls wants them.
pub struct Issued {
    /// The leaf certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The chain for rustls (leaf only; the CA is the trust anchor).
    pub chain: Vec<CertificateDer<'static>>,
    /// The key for rustls.
    pub key: PrivateKeyDer<'static>,
}

impl Issued {
    /// Write `<name>.pem` and `<name>.key` into `dir`; returns (cert path, key path),
    /// e.g. for `TlsConfig::client_cert_pem` / `client_key_pem`.
    pub fn write_to(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, &self.cert_pem).expect("write certificate");
        std::fs::write(&key, &self.key_pem).expect("write key");
        (cert, key)
    }
}

impl Default for TestPki {
    fn default() -> TestPki {
        TestPki::new()
    }
}

impl TestPki {
    /// A new CA named "volley test CA".
    pub fn new() -> TestPki {
        TestPki::named("volley test CA")
    }

    /// A new CA with the common name `name`.
    pub fn named(name: &str) -> TestPki {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = params.self_signed(&ca_key).expect("self-sign CA");
        TestPki { ca_pem: ca.pem(), ca, ca_key }
    }

    /// A server certificate valid now for `names` (DNS names or IP literals, which
    /// become IP SANs).
    pub fn server_cert(&self, names: &[&str]) -> Issued {
        self.server_cert_with_validity(names, Validity::Now)
    }

    /// A server certificate for `names` with the given validity period.
    pub fn server_cert_with_validity(&self, names: &[&str], validity: Validity) -> Issued {
        self.issue(names, validity, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate (for mutual TLS) valid now.
    pub fn client_cert(&self) -> Issued {
        self.issue(&[], Validity::Now, ExtendedKeyUsagePurpose::ClientAuth)
    }

    /// The CA as a rustls root store (e.g. to verify client certificates).
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).expect("add CA root");
        roots
    }

    /// Write the CA certificate to `dir/ca.pem` and return the path.
    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write CA");
        path
    }

    /// A client `TlsConfig` trusting this CA only.
    pub fn tls_config(&self) -> volley::TlsConfig {
        volley::TlsConfig {
            extra_roots_pem_data: vec![self.ca_pem.clone().into_bytes()],
            only_extra_roots: true,
            ..volley::TlsConfig::default()
        }
    }

    fn issue(&self, names: &[&str], validity: Validity, eku: ExtendedKeyUsagePurpose) -> Issued {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, "volley test leaf");
        params.extended_key_usages = vec![eku];
        let years = match validity {
            Validity::Now => None,
            Validity::Expired => Some((2000, 2001)),
            Validity::NotYetValid => Some((2090, 2091)),
            Validity::Years(from, to) => Some((from, to)),
        };
        if let Some((from, to)) = years {
            params.not_before = rcgen::date_time_ymd(from, 1, 1);
            params.not_after = rcgen::date_time_ymd(to, 1, 1);
        }
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).expect("sign leaf");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::try_from(key.serialize_der()).expect("leaf key DER"),
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration presenting `cert`, TLS 1.2 and 1.3, ALPN `http/1.1`;
/// `client_ca` makes a client certificate from that CA mandatory.
pub fn server_config(cert: &Issued, client_ca: Option<&TestPki>) -> Arc<ServerConfig> {
    server_config_with_versions(cert, &[&rustls::version::TLS13, &rustls::version::TLS12], client_ca)
}

/// As [`server_config`], offering only `versions`. rustls's default server session
/// cache (stateful ids for TLS 1.2, tickets by id for TLS 1.3) allows resumption.
pub fn server_config_with_versions(
    cert: &Issued,
    versions: &[&'static SupportedProtocolVersion],
    client_ca: Option<&TestPki>,
) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .expect("server versions");
    let builder = match client_ca {
        Some(ca) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(Arc::new(ca.roots()), provider())
                .build()
                .expect("client verifier"),
        ),
        None => builder.with_no_client_auth(),
    };
    let mut config =
        builder.with_single_cert(cert.chain.clone(), cert.key.clone_key()).expect("server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct TestRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// The request target as sent (`/a?b`).
    pub target: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked if it was chunked).
    pub body: Vec<u8>,
    /// The exact head bytes, up to and including the blank line.
    pub raw_head: Vec<u8>,
    /// Which accepted connection it came on (0, 1, ...).
    pub connection: usize,
    /// Its position on that connection (0 for the first request).
    pub index_on_connection: usize,
}

impl TestRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// How a response's body is framed and how the connection goes on afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    ContentLength,
    Chunked,
    /// No length: the body ends with the connection (close_notify, then TCP close).
    CloseDelimited,
    /// `body` is the whole response, sent as is.
    Raw,
}

/// A scripted response.
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    framing: Framing,
    close: bool,
    truncate_after: Option<usize>,
    delay: Duration,
}

impl TestResponse {
    /// `200 OK` with `body` and `Content-Length`.
    pub fn ok(body: impl Into<Vec<u8>>) -> TestResponse {
        TestResponse::new(200, body)
    }

    /// `status` with `body` and `Content-Length`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> TestResponse {
        TestResponse {
            status,
            reason: reason(status).to_string(),
            headers: Vec::new(),
            body: body.into(),
            framing: Framing::ContentLength,
            close: false,
            truncate_after: None,
            delay: Duration::ZERO,
        }
    }

    /// `bytes` sent exactly as given (head and body); the connection stays open.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> TestResponse {
        TestResponse { framing: Framing::Raw, ..TestResponse::new(200, bytes) }
    }

    /// Add a header field.
    pub fn header(mut self, name: &str, value: &str) -> TestResponse {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Send the body chunked (one chunk per 4 KiB).
    pub fn chunked(mut self) -> TestResponse {
        self.framing = Framing::Chunked;
        self
    }

    /// No `Content-Length`: the body ends when the server closes (with close_notify).
    pub fn close_delimited(mut self) -> TestResponse {
        self.framing = Framing::CloseDelimited;
        self.close = true;
        self
    }

    /// Send `Connection: close`, then close_notify and close the connection.
    pub fn close(mut self) -> TestResponse {
        self.close = true;
        self
    }

    /// After the head and `n` body bytes, close TCP WITHOUT close_notify (a truncation
    /// as RFC 8446 §6.1 warns of). The head still announces the full framing.
    pub fn truncate_after(mut self, n: usize) -> TestResponse {
        self.truncate_after = Some(n);
        self
    }

    /// Wait this long before sending anything (for timeout tests).
    pub fn delay(mut self, delay: Duration) -> TestResponse {
        self.delay = delay;
        self
    }

    /// The response as bytes on the wire.
    fn encode(&self) -> (Vec<u8>, usize) {
        if self.framing == Framing::Raw {
            return (self.body.clone(), 0);
        }
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (n, v) in &self.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        match self.framing {
            Framing::ContentLength => head.push_str(&format!("Content-Length: {}\r\n", self.body.len())),
            Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
            Framing::CloseDelimited | Framing::Raw => {}
        }
        if self.close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        let head_len = out.len();
        if self.framing == Framing::Chunked {
            for chunk in self.body.chunks(4096) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(&self.body);
        }
        (out, head_len)
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

#[derive(Default)]
struct Shared {
    connections: AtomicUsize,
    handshakes: AtomicUsize,
    resumed: AtomicUsize,
    handshake_errors: Mutex<Vec<String>>,
    requests: Mutex<Vec<TestRequest>>,
    stop: AtomicBool,
}

type Handler = dyn Fn(&TestRequest) -> TestResponse + Send + Sync;

/// A blocking TLS HTTP/1.1 server on `127.0.0.1:0`, one thread per connection,
/// keep-alive by default. Dropping it stops accepting.
pub struct TlsTestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TlsTestServer {
    /// Listen and serve every request with `handler`.
    pub fn start<H>(config: Arc<ServerConfig>, handler: H) -> TlsTestServer
    where
        H: Fn(&TestRequest) -> TestResponse + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let accept_shared = shared.clone();
        let accept_thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let index = accept_shared.connections.fetch_add(1, Ordering::SeqCst);
                let (shared, handler, config) = (accept_shared.clone(), handler.clone(), config.clone());
                std::thread::spawn(move || serve(index, stream, config, &shared, &*handler));
            }
        });
        TlsTestServer { addr, shared, accept_thread: Some(accept_thread) }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://{host}:{port}{path}`; `host` is what the client puts in SNI and checks
    /// the certificate against (resolve it to 127.0.0.1, or use "127.0.0.1").
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.addr.port())
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// TLS handshakes completed (full or resumed).
    pub fn handshakes(&self) -> usize {
        self.shared.handshakes.load(Ordering::SeqCst)
    }

    /// TLS handshakes that resumed an earlier session.
    pub fn resumed_handshakes(&self) -> usize {
        self.shared.resumed.load(Ordering::SeqCst)
    }

    /// Why handshakes failed, as the server saw it (e.g. the client's alert).
    pub fn handshake_errors(&self) -> Vec<String> {
        self.shared.handshake_errors.lock().expect("lock").clone()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<TestRequest> {
        self.shared.requests.lock().expect("lock").clone()
    }
}

impl Drop for TlsTestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

/// Serve one connection: handshake, then requests until the client goes away or a
/// response closes the connection.
fn serve(index: usize, sock: TcpStream, config: Arc<ServerConfig>, shared: &Shared, handler: &Handler) {
    if shared.stop.load(Ordering::SeqCst) {
        return;
    }
    // A stuck client must not keep a thread forever.
    let _ = sock.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            shared.handshake_errors.lock().expect("lock").push(e.to_string());
            return;
        }
    }
    shared.handshakes.fetch_add(1, Ordering::SeqCst);
    if tls.conn.handshake_kind() == Some(HandshakeKind::Resumed) {
        shared.resumed.fetch_add(1, Ordering::SeqCst);
    }

    let mut buf = Vec::new();
    for nth in 0.. {
        let Some(mut req) = read_request(&mut tls, &mut buf) else {
            return;
        };
        req.connection = index;
        req.index_on_connection = nth;
        shared.requests.lock().expect("lock").push(req.clone());
        let mut resp = handler(&req);
        // A client asking to close gets `Connection: close` back and a clean close.
        if req.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            resp.close = true;
        }
        if !resp.delay.is_zero() {
            std::thread::sleep(resp.delay);
        }
        let (bytes, head_len) = resp.encode();
        if let Some(n) = resp.truncate_after {
            let end = bytes.len().min(head_len + n);
            let _ = tls.write_all(&bytes[..end]);
            let _ = tls.flush();
            // No close_notify: just the TCP close.
            let _ = tls.sock.shutdown(Shutdown::Both);
            return;
        }
        if tls.write_all(&bytes).and_then(|()| tls.flush()).is_err() {
            return;
        }
        if resp.close || req.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            tls.conn.send_close_notify();
            let _ = tls.flush();
            let _ = tls.sock.shutdown(Shutdown::Write);
            // Drain until the client closes so the kernel sends FIN, not RST.
            let mut sink = [0u8; 4096];
            while matches!(tls.sock.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
    }
}

/// Read one request (head, then a Content-Length or chunked body). `None` at the end
/// of the connection or on a malformed request.
fn read_request(
    tls: &mut StreamOwned<ServerConnection, TcpStream>,
    buf: &mut Vec<u8>,
) -> Option<TestRequest> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(tls, buf)?;
    };
    let raw_head: Vec<u8> = buf.drain(..head_end).collect();
    let text = String::from_utf8_lossy(&raw_head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_string(), v.trim().to_string()))
        .collect();
    let mut req = TestRequest {
        method,
        target,
        headers,
        body: Vec::new(),
        raw_head,
        connection: 0,
        index_on_connection: 0,
    };
    if req.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                fill(tls, buf)?;
            };
            let line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            if size == 0 {
                // Skip trailers up to the blank line.
                loop {
                    let end = loop {
                        if let Some(i) = find(buf, b"\r\n") {
                            break i;
                        }
                        fill(tls, buf)?;
                    };
                    buf.drain(..end + 2);
                    if end == 0 {
                        break;
                    }
                }
                break;
            }
            while buf.len() < size + 2 {
                fill(tls, buf)?;
            }
            req.body.extend(buf.drain(..size));
            buf.drain(..2);
        }
    } else if let Some(len) = req.header("content-length") {
        let len: usize = len.parse().ok()?;
        while buf.len() < len {
            fill(tls, buf)?;
        }
        req.body = buf.drain(..len).collect();
    }
    Some(req)
}

/// Read more plaintext into `buf`; `None` at the end of the connection.
fn fill(tls: &mut StreamOwned<ServerConnection, TcpStream>, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match tls.read(&mut chunk) {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A TLS test server for `localhost`/`127.0.0.1` answering by request target, and a
/// client configuration that trusts only its CA.
pub fn tls_server(
    handler: impl Fn(&str) -> TestResponse + Send + Sync + 'static,
) -> (TlsTestServer, volley::Config) {
    let pki = TestPki::new();
    let server = TlsTestServer::start(
        server_config(&pki.server_cert(&["localhost", "127.0.0.1"]), None),
        move |req| handler(&req.target),
    );
    let config = volley::Config { tls: pki.tls_config(), ..volley::Config::default() };
    (server, config)
}
