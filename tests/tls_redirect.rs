//! Redirects between HTTP and HTTPS through the public API: the hop is followed, the
//! body is exact, and credentials (`Authorization`, `Cookie`) never cross to another
//! origin (RFC 9110 §15.4, §11.6.2). The HTTP side is a tiny scripted std server.

mod support;

use support::within;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::tls::{server_config, TestPki, TestResponse, TlsTestServer};
use volley::{BodyTarget, Client, Config, Error, ErrorKind, Event, Request, Stats, TlsFailure};

/// A plain HTTP/1.1 server: one request per connection, answered with
/// `respond(target)` (which must include its own framing) and then closed.
struct PlainServer {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl PlainServer {
    fn start(respond: impl Fn(&str) -> String + Send + 'static) -> PlainServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match s.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split(' ').nth(1).unwrap_or("").to_string();
                seen.lock().expect("lock").push(head);
                let _ = s.write_all(respond(&target).as_bytes());
                let _ = s.shutdown(std::net::Shutdown::Write);
                // Drain until the client closes, so it sees FIN rather than RST.
                let mut sink = [0u8; 1024];
                while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
            }
        });
        PlainServer { port, heads }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("lock").clone()
    }
}

fn plain_ok(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

fn plain_redirect(location: &str) -> String {
    format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

fn has_header(head: &str, name: &str) -> bool {
    head.split("\r\n").filter_map(|l| l.split_once(':')).any(|(n, _)| n.trim().eq_ignore_ascii_case(name))
}

type Fetched = Result<(Stats, Vec<u8>), Error>;

/// The request, with credentials attached; returns (redirect locations seen, result).
fn fetch_with_credentials(config: Config, url: &str) -> (Vec<String>, Fetched) {
    let url = url.to_string();
    within(30, move || {
        let mut client = Client::new(config).expect("client");
        let req = Request::get(&url)
            .expect("url")
            .header("Authorization", "Bearer s3cret")
            .header("Cookie", "session=s3cret")
            .target(BodyTarget::Collect);
        client.submit(req).expect("submit");
        let (mut hops, mut ends) = (Vec::new(), Vec::new());
        client
            .run(|_, ev| match ev {
                Event::Redirect { location, .. } => hops.push(location.to_string()),
                Event::Done { stats, body, .. } => ends.push(Ok((stats, body.unwrap_or_default()))),
                Event::Failed { error, .. } => ends.push(Err(error)),
                _ => {}
            })
            .expect("run");
        assert_eq!(ends.len(), 1, "must end exactly once: {ends:?}");
        (hops, ends.pop().expect("one end"))
    })
}

fn tls_setup() -> (TestPki, Config) {
    let pki = TestPki::new();
    let config = Config { tls: pki.tls_config(), ..Config::default() };
    (pki, config)
}

#[test]
fn https_to_http_drops_credentials() {
    let (pki, config) = tls_setup();
    let plain = PlainServer::start(|t| plain_ok(&format!("plain {t}")));
    let land = plain.url("/land");
    let to = land.clone();
    let tls = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), move |_| {
        TestResponse::new(302, "").header("Location", &to)
    });
    let (hops, result) = fetch_with_credentials(config, &tls.url("localhost", "/start"));
    let (stats, body) = result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body, b"plain /land");
    assert_eq!(hops, std::slice::from_ref(&land));
    assert_eq!((stats.redirects, stats.status), (1, 200));
    assert_eq!(stats.final_url, land);
    let first = &tls.requests()[0];
    assert_eq!(first.header("authorization"), Some("Bearer s3cret"));
    let heads = plain.heads();
    assert_eq!(heads.len(), 1);
    assert!(!has_header(&heads[0], "authorization"), "leaked: {}", heads[0]);
    assert!(!has_header(&heads[0], "cookie"), "leaked: {}", heads[0]);
    assert!(heads[0].starts_with("GET /land HTTP/1.1\r\n"), "{}", heads[0]);
}

#[test]
fn http_to_https_drops_credentials() {
    let (pki, config) = tls_setup();
    let tls = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |req| {
        TestResponse::ok(format!("secure {}", req.target))
    });
    let land = tls.url("localhost", "/land");
    let to = land.clone();
    let plain = PlainServer::start(move |_| plain_redirect(&to));
    let (hops, result) = fetch_with_credentials(config, &plain.url("/start"));
    let (stats, body) = result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body, b"secure /land");
    assert_eq!(hops, std::slice::from_ref(&land));
    assert_eq!(stats.final_url, land);
    assert!(has_header(&plain.heads()[0], "authorization"));
    let reqs = tls.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("authorization"), None, "leaked across origins");
    assert_eq!(reqs[0].header("cookie"), None, "leaked across origins");
    assert_eq!(reqs[0].header("host"), Some(format!("localhost:{}", tls.port()).as_str()));
}

#[test]
fn same_origin_https_redirect_keeps_credentials_and_connection() {
    let (pki, config) = tls_setup();
    let tls = TlsTestServer::start(server_config(&pki.server_cert(&["localhost"]), None), |req| {
        match req.target.as_str() {
            "/a" => TestResponse::new(302, "moved").header("Location", "/b"),
            t => TestResponse::ok(format!("at {t}")),
        }
    });
    let (_, result) = fetch_with_credentials(config, &tls.url("localhost", "/a"));
    let (stats, body) = result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body, b"at /b");
    let reqs = tls.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("authorization"), Some("Bearer s3cret"));
    assert_eq!(tls.connections(), 1, "the redirect body was read; the connection is reusable");
    assert!(stats.reused);
}

#[test]
fn https_to_another_https_port_drops_credentials() {
    let (pki, config) = tls_setup();
    let cfg = server_config(&pki.server_cert(&["localhost"]), None);
    let second = TlsTestServer::start(cfg.clone(), |_| TestResponse::ok("second"));
    let to = second.url("localhost", "/2");
    let first = TlsTestServer::start(cfg, move |_| TestResponse::new(301, "").header("Location", &to));
    let (_, result) = fetch_with_credentials(config, &first.url("localhost", "/1"));
    assert_eq!(result.unwrap_or_else(|e| panic!("{e}")).1, b"second");
    assert_eq!(second.requests()[0].header("authorization"), None);
    assert_eq!(second.requests()[0].header("cookie"), None);
}

#[test]
fn redirect_to_an_untrusted_https_server_fails_naming_it() {
    let (_, config) = tls_setup();
    let stranger = TestPki::named("stranger CA");
    let tls = TlsTestServer::start(server_config(&stranger.server_cert(&["localhost"]), None), |_| {
        TestResponse::ok("should not be read")
    });
    let land = tls.url("localhost", "/land");
    let to = land.clone();
    let plain = PlainServer::start(move |_| plain_redirect(&to));
    let (_, result) = fetch_with_credentials(config, &plain.url("/start"));
    let err = result.expect_err("untrusted certificate after a redirect");
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::UnknownIssuer), "{err}");
    assert!(err.to_string().contains(&land), "error must name the failing URL: {err}");
    assert!(tls.requests().is_empty());
}
