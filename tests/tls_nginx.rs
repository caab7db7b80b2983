//! Interop with a real nginx (OpenSSL on the other end): static files over HTTPS and
//! HTTP compared byte for byte, keep-alive, TLS 1.2, session resumption, chunked and
//! close-delimited bodies, mutual TLS. Skips (passing, with a SKIPPED line) when nginx
//! is not installed.

mod support;

use support::within;

use std::collections::{BTreeSet, HashMap};

use support::nginx::{self, Nginx, Port};
use volley::{BodyTarget, Client, Config, Error, Event, Headers, Request, RequestId, Stats};

type Fetched = Result<(u16, Stats, Vec<u8>), Error>;

/// How nginx framed each response body (by URL): "length", "chunked" or "close".
type Framings = HashMap<String, &'static str>;

/// Submit every URL at once; results in the order given, each ended exactly once.
fn fetch_all(config: Config, urls: Vec<String>) -> Vec<Fetched> {
    fetch_all_with(config, urls, &[])
}

/// [`fetch_all`] with extra request header fields.
fn fetch_all_with(config: Config, urls: Vec<String>, headers: &[(&str, &str)]) -> Vec<Fetched> {
    fetch_framed(config, urls, headers).0
}

/// [`fetch_all_with`], also reporting each response's framing.
fn fetch_framed(config: Config, urls: Vec<String>, headers: &[(&str, &str)]) -> (Vec<Fetched>, Framings) {
    let reqs = urls
        .iter()
        .map(|u| {
            let mut req = Request::get(u).expect("url");
            for (n, v) in headers {
                req = req.header(*n, *v);
            }
            req
        })
        .collect();
    let (results, heads) = fetch_requests(config, reqs);
    let mut framings = Framings::new();
    for (url, head) in urls.iter().zip(heads) {
        let Some(h) = head else { continue };
        let framing = if h.has_token("transfer-encoding", "chunked") {
            "chunked"
        } else if h.contains("content-length") {
            "length"
        } else {
            "close"
        };
        framings.insert(url.clone(), framing);
    }
    (results, framings)
}

/// Submit every request at once (bodies collected); results and response headers in
/// the order given, each request ended exactly once.
fn fetch_requests(config: Config, reqs: Vec<Request>) -> (Vec<Fetched>, Vec<Option<Headers>>) {
    within(120, move || {
        let mut client = Client::new(config).expect("client");
        let ids: Vec<(RequestId, String)> = reqs
            .into_iter()
            .map(|req| {
                let url = req.url().to_string();
                let id = client.submit(req.target(BodyTarget::Collect)).expect("submit");
                (id, url)
            })
            .collect();
        let mut heads: HashMap<RequestId, (u16, Headers)> = HashMap::new();
        let mut ends: HashMap<RequestId, Vec<Fetched>> = HashMap::new();
        client
            .run(|_, ev| match ev {
                Event::Head { id, response } => {
                    heads.insert(id, (response.status, response.headers.clone()));
                }
                Event::Done { id, stats, body } => {
                    let s = heads.get(&id).map_or(0, |h| h.0);
                    ends.entry(id).or_default().push(Ok((s, stats, body.unwrap_or_default())));
                }
                Event::Failed { id, error, .. } => ends.entry(id).or_default().push(Err(error)),
                _ => {}
            })
            .expect("run");
        ids.iter()
            .map(|(id, url)| {
                let mut e = ends.remove(id).unwrap_or_default();
                assert_eq!(e.len(), 1, "{url} must end exactly once: {e:?}");
                (e.pop().expect("one end"), heads.remove(id).map(|h| h.1))
            })
            .unzip()
    })
}

fn config_for(nginx: &Nginx) -> Config {
    Config { tls: nginx.tls_config(), ..Config::default() }
}

/// Deterministic bytes; `text` avoids '<' so nginx's SSI filter passes them through.
fn data(len: usize, seed: u32, text: bool) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if text {
                b'a' + (x % 26) as u8
            } else {
                (x >> 8) as u8
            }
        })
        .collect()
}

fn sample_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty.bin", Vec::new()),
        ("one.txt", b"x".to_vec()),
        ("hello.txt", b"hello from nginx\n".to_vec()),
        ("1k.bin", data(1024, 1, false)),
        ("16k-plus-one.bin", data(16 * 1024 + 1, 2, false)),
        ("64k.bin", data(64 * 1024, 3, false)),
        ("5mib.bin", data(5 << 20, 4, false)),
        ("sub/dir/nested.bin", data(100_000, 5, false)),
        ("with space.txt", b"spaced out".to_vec()),
    ]
}

fn check_bodies(nginx: &Nginx, files: &[(&str, Vec<u8>)], results: &[Fetched], urls: &[String]) {
    for (((name, want), got), url) in files.iter().zip(results).zip(urls) {
        match got {
            Ok((status, stats, body)) => {
                assert_eq!(*status, 200, "{url}");
                assert!(body == want, "{name}: got {} bytes, want {}", body.len(), want.len());
                assert_eq!(stats.body_bytes, want.len() as u64, "{url}");
            }
            Err(e) => panic!("{url}: {e}\n{}", nginx.error_log()),
        }
    }
}

#[test]
fn nginx_static_files_over_https_and_http_are_byte_exact() {
    let Some(bin) = nginx::binary_or_skip() else {
        return;
    };
    let files = sample_files();
    let nginx = Nginx::start(&bin, &files);
    for which in [Port::Https, Port::Http, Port::Tls12] {
        let urls: Vec<String> =
            files.iter().map(|(n, _)| nginx.url(which, &format!("/{}", n.replace(' ', "%20")))).collect();
        let results = fetch_all(config_for(&nginx), urls.clone());
        check_bodies(&nginx, &files, &results, &urls);
    }
    let log = nginx.log(3 * files.len());
    let tls13 = log.iter().filter(|l| l.port == nginx.port(Port::Https));
    assert!(
        tls13.clone().count() == files.len() && tls13.clone().all(|l| l.protocol == "TLSv1.3"),
        "{log:?}"
    );
    let tls12 = log.iter().filter(|l| l.port == nginx.port(Port::Tls12));
    assert!(tls12.clone().count() == files.len() && tls12.clone().all(|l| l.protocol == "TLSv1.2"));
}

#[test]
fn nginx_missing_file_is_a_404_response_not_a_failure() {
    let Some(bin) = nginx::binary_or_skip() else {
        return;
    };
    let nginx = Nginx::start(&bin, &sample_files());
    let urls = vec![nginx.url(Port::Https, "/nope"), nginx.url(Port::Https, "/one.txt")];
    let results = fetch_all(config_for(&nginx), urls);
    let (status, _, _) = results[0].as_ref().expect("a 404 is a response");
    assert_eq!(*status, 404);
    assert_eq!(results[1].as_ref().expect("after the 404").2, b"x");
}

#[test]
fn nginx_keep_alive_serves_many_files_on_few_connections() {
    let Some(bin) = nginx::binary_or_skip() else {
        return;
    };
    let files: Vec<(String, Vec<u8>)> =
        (0..40).map(|i| (format!("small/{i}.bin"), data(100 + i * 37, i as u32, false))).collect();
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let nginx = Nginx::start(&bin, &refs);
    for which in [Port::Https, Port::Http] {
        let urls: Vec<String> = refs.iter().map(|(n, _)| nginx.url(which, &format!("/{n}"))).collect();
        let config = Config { max_per_origin: 2, ..config_for(&nginx) };
        let results = fetch_all(config, urls.clone());
        check_bodies(&nginx, &refs, &results, &urls);
        let reused = results.iter().filter(|r| matches!(r, Ok((_, s, _)) if s.reused)).count();
        let port = nginx.port(which);
        let log: Vec<_> = nginx.log(40).into_iter().filter(|l| l.port == port).collect();
        assert_eq!(log.len(), 40, "{which:?}");
        let conns: BTreeSet<u64> = log.iter().map(|l| l.connection).collect();
        assert!(conns.len() <= 2, "{which:?}: {} connections for 40 files", conns.len());
        assert_eq!(reused, 40 - conns.len(), "{which:?}: reused flags vs nginx's log");
    }
}

#[test]
fn nginx_chunked_and_close_delimited_bodies() {
    let Some(bin) = nginx::binary_or_skip() else {
        return;
    };
    let big = data(3 << 20, 9, true);
    let small = data(5000, 10, true);
    let files = vec![
        ("chunked/big.txt", big.clone()),
        ("chunked/small.txt", small.clone()),
        ("close/big.txt", big),
        ("close/small.txt", small),
    ];
    let nginx = Nginx::start(&bin, &files);
    for which in [Port::Https, Port::Http] {
        let urls: Vec<String> = files.iter().map(|(n, _)| nginx.url(which, &format!("/{n}"))).collect();
        let (results, framings) = fetch_framed(config_for(&nginx), urls.clone(), &[]);
        check_bodies(&nginx, &files, &results, &urls);
        for url in &urls {
            let want = if url.contains("/chunked/") { "chunked" } else { "close" };
            assert_eq!(framings.get(url).copied(), Some(want), "{url}: {framings:?}");
        }
    }
}

#[test]
fn nginx_resumes_tls_sessions_on_new_connections() {
    let Some(bin) = nginx::binary_or_skip() else {
        return;
    };
    let nginx = Nginx::start(&bin, &sample_files());
    for which in [Port::Close, Port::Tls12] {
        // Port::Close closes after each response (TLS 1.3); on Tls12 the request's own
        // `Connection: close` makes nginx close, and the client must not reuse either.
        let config = Config { max_per_origin: 1, ..config_for(&nginx) };
        let urls: Vec<String> = (0..4).map(|_| nginx.url(which, "/hello.txt")).collect();
        let close: &[(&str, &str)] = match which {
            Port::Tls12 => &[("Connection", "close")],
            _ => &[],
        };
        for r in fetch_all_with(config, urls, close) {
            let (status, stats, body) = r.unwrap_or_else(|e| panic!("{which:?}: {e}"));
            assert_eq!((status, body.as_slice()), (200, &b"hello from nginx\n"[..]));
            assert!(!stats.reused, "{which:?}");
        }
        let port = nginx.port(which);
        let log: Vec<_> = nginx.log(4).into_iter().filter(|l| l.port == port).collect();
        let conns: BTreeSet<u64> = log.iter().map(|l| l.connection).collect();
        assert_eq!(conns.len(), 4, "{which:?}: one connection per request: {log:?}");
        assert!(log.iter().any(|l| l.session_reused), "{which:?}: no resumed session: {log:?}");
    }
}

#[test]
fn nginx_mutual_tls() {
    let Some(bin) = nginx::binary_or_skip() else {
        return;
    };
    let nginx = Nginx::start(&bin, &sample_files());
    let url = nginx.url(Port::Mtls, "/hello.txt");
    let (cert, key) = nginx.client_cert();
    let mut config = config_for(&nginx);
    config.tls.client_cert_pem = Some(cert);
    config.tls.client_key_pem = Some(key);
    let r = fetch_all(config, vec![url.clone()]).remove(0);
    let (status, _, body) = r.unwrap_or_else(|e| panic!("{e}\n{}", nginx.error_log()));
    assert_eq!((status, body.as_slice()), (200, &b"hello from nginx\n"[..]));
    // Without a certificate nginx finishes the handshake and answers 400 itself.
    let r = fetch_all(config_for(&nginx), vec![url]).remove(0);
    assert_eq!(r.expect("nginx answers in HTTP").0, 400);
    let verify: Vec<String> = nginx.log(2).into_iter().map(|l| l.client_verify).collect();
    assert_eq!(verify, ["SUCCESS", "NONE"]);
}

#[test]
fn nginx_head_304_and_206_keep_the_connection_in_step() {
    let Some(bin) = nginx::binary_or_skip() else {
        return;
    };
    let files = sample_files();
    let nginx = Nginx::start(&bin, &files);
    let config = Config { max_per_origin: 1, ..config_for(&nginx) };
    let big = nginx.url(Port::Https, "/5mib.bin");
    let (first, heads) = fetch_requests(config.clone(), vec![Request::head(&big).expect("url")]);
    let (status, _, body) = first[0].as_ref().expect("HEAD");
    assert_eq!((*status, body.len()), (200, 0), "HEAD has no body");
    let head = heads[0].as_ref().expect("head");
    assert_eq!(head.get("content-length"), Some("5242880"));
    let etag = head.get("etag").expect("nginx sends an ETag").to_string();
    let reqs = vec![
        Request::head(&big).expect("url"),
        Request::get(&big).expect("url").header("If-None-Match", etag.as_str()),
        Request::get(&big).expect("url").header("Range", "bytes=1000-1999"),
        Request::get(&nginx.url(Port::Https, "/hello.txt")).expect("url"),
    ];
    let (results, _) = fetch_requests(config, reqs);
    let got: Vec<(u16, usize, bool)> = results
        .iter()
        .map(|r| {
            let (status, stats, body) = r.as_ref().unwrap_or_else(|e| panic!("{e}"));
            (*status, body.len(), stats.reused)
        })
        .collect();
    assert_eq!(got, [(200, 0, false), (304, 0, true), (206, 1000, true), (200, 17, true)]);
    let range = &results[2].as_ref().expect("206").2;
    assert!(range[..] == files[6].1[1000..2000], "the range's bytes");
    let conns: BTreeSet<u64> = nginx.log(5).iter().skip(1).map(|l| l.connection).collect();
    assert_eq!(conns.len(), 1, "one connection for all four");
}

#[test]
fn nginx_keepalive_requests_limit_closes_and_the_client_reconnects() {
    let Some(bin) = nginx::binary_or_skip() else {
        return;
    };
    let nginx = Nginx::start(&bin, &sample_files());
    let config = Config { max_per_origin: 1, ..config_for(&nginx) };
    let urls: Vec<String> = (0..20).map(|_| nginx.url(Port::Limit, "/hello.txt")).collect();
    let results = fetch_all(config, urls);
    let mut reused = 0;
    for r in &results {
        let (status, stats, body) = r.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((*status, body.as_slice()), (200, &b"hello from nginx\n"[..]));
        reused += usize::from(stats.reused);
    }
    let log = nginx.log(20);
    let conns: BTreeSet<u64> = log.iter().map(|l| l.connection).collect();
    assert_eq!(conns.len(), 7, "keepalive_requests 3: 20 requests need 7 connections");
    assert!(log.iter().all(|l| l.connection_requests <= 3), "{log:?}");
    assert_eq!(reused, 20 - 7);
}
