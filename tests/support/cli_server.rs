//! A small scripted HTTP/1.1 server on 127.0.0.1 for the CLI tests: std threads, one
//! per connection, keep-alive. Routes serve fixed bodies (honouring `Range` and
//! `If-Range`), extra headers, scripted first answers (e.g. 429 + Retry-After), and
//! slow trickles; every request is recorded.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The `volley` binary under test.
pub fn volley() -> Command {
    Command::new(env!("CARGO_BIN_EXE_volley"))
}

/// A fresh empty directory under the target directory's tmp.
pub fn temp_dir(name: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = base.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// What one path answers.
#[derive(Clone, Debug)]
pub struct Route {
    /// Status of a normal answer.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// Extra response headers.
    pub headers: Vec<(String, String)>,
    /// Honour `Range` (else always send the whole body with 200).
    pub ranges: bool,
    /// Send the body in chunks of this size with this pause between them.
    pub trickle: Option<(usize, Duration)>,
    /// Answers for the first calls (status, headers), before the normal one.
    pub first: Vec<(u16, Vec<(String, String)>)>,
    /// After the scripted first answers, this many calls send only `cut_at` body bytes
    /// and then close the connection.
    pub cut_calls: usize,
    /// See `cut_calls`.
    pub cut_at: usize,
}

impl Route {
    /// 200 with `body`, ranges honoured.
    pub fn file(body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            body: body.into(),
            headers: Vec::new(),
            ranges: true,
            trickle: None,
            first: Vec::new(),
            cut_calls: 0,
            cut_at: 0,
        }
    }

    /// `status` with a short body.
    pub fn status(status: u16) -> Route {
        Route { status, ..Route::file(format!("status {status}\n")) }
    }

    /// Add a response header.
    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Ignore `Range`.
    pub fn no_ranges(mut self) -> Route {
        self.ranges = false;
        self
    }

    /// Send slowly.
    pub fn trickle(mut self, chunk: usize, pause: Duration) -> Route {
        self.trickle = Some((chunk, pause));
        self
    }

    /// The next call sends `n` body bytes, then closes the connection.
    pub fn cut_once_at(mut self, n: usize) -> Route {
        self.cut_calls += 1;
        self.cut_at = n;
        self
    }

    /// Answer the next first call with `status` and `headers` (body: a short text).
    pub fn then_first(mut self, status: u16, headers: &[(&str, &str)]) -> Route {
        let h = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        self.first.push((status, h));
        self
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Request target.
    pub path: String,
    /// Header fields (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// When it arrived.
    pub at: Instant,
    /// The request body.
    pub body: Vec<u8>,
}

impl Seen {
    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    routes: HashMap<String, Route>,
    calls: HashMap<String, usize>,
    seen: Vec<Seen>,
    record: bool,
}

/// The server; it runs until the test process ends.
pub struct CliServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl CliServer {
    /// Listen on 127.0.0.1:0.
    pub fn start() -> CliServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Mutex::new(Shared { record: true, ..Shared::default() }));
        let sh = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let sh = sh.clone();
                thread::spawn(move || serve(stream, &sh));
            }
        });
        CliServer { addr, shared }
    }

    /// Serve `route` at `path`; a path ending in `*` matches every path with that prefix.
    pub fn route(&self, path: &str, route: Route) {
        let mut s = self.shared.lock().expect("lock");
        s.routes.insert(path.to_string(), route);
        s.calls.remove(path);
    }

    /// Stop recording requests (for runs with very many).
    pub fn no_record(&self) {
        self.shared.lock().expect("lock").record = false;
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().expect("lock").seen.clone()
    }

    /// Requests seen for `path`.
    pub fn seen_for(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }
}

fn serve(stream: TcpStream, shared: &Mutex<Shared>) {
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("/").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let mut seen = Seen { method, path, headers, at: Instant::now(), body: Vec::new() };
        let len: usize = seen.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        seen.body = vec![0; len];
        if reader.read_exact(&mut seen.body).is_err() {
            return;
        }
        if !respond(&mut out, &seen, shared) {
            return;
        }
    }
}

/// Write the answer; false to close the connection.
fn respond(out: &mut TcpStream, req: &Seen, shared: &Mutex<Shared>) -> bool {
    let (route, call) = {
        let mut s = shared.lock().expect("lock");
        if s.record {
            s.seen.push(req.clone());
        }
        let key = if s.routes.contains_key(&req.path) {
            Some(req.path.clone())
        } else {
            s.routes
                .keys()
                .filter(|k| k.ends_with('*') && req.path.starts_with(&k[..k.len() - 1]))
                .max_by_key(|k| k.len())
                .cloned()
        };
        match key {
            Some(k) => {
                let n = s.calls.entry(k.clone()).or_insert(0);
                *n += 1;
                let n = *n;
                (s.routes.get(&k).cloned(), n)
            }
            None => (None, 0),
        }
    };
    let route = route.unwrap_or_else(|| Route::status(404));
    if let Some((status, headers)) = route.first.get(call.wrapping_sub(1)) {
        let body = format!("status {status}\n");
        return write_head(out, *status, headers, body.len(), body.as_bytes());
    }
    let total = route.body.len();
    let mut status = route.status;
    let mut range = 0..total;
    let mut extra = route.headers.clone();
    let etag = route.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("etag")).map(|(_, v)| v.clone());
    let if_range_ok = match (req.header("if-range"), &etag) {
        (Some(v), Some(e)) => v == e,
        (Some(_), None) => false,
        (None, _) => true,
    };
    if let (true, 200, Some(r)) = (route.ranges && if_range_ok, status, req.header("range")) {
        if let Some((a, b)) = r.strip_prefix("bytes=").and_then(|r| r.split_once('-')) {
            let first: usize = a.parse().unwrap_or(0);
            let last: usize = b.parse().unwrap_or(usize::MAX).min(total.saturating_sub(1));
            if first >= total {
                extra.push(("Content-Range".into(), format!("bytes */{total}")));
                return write_head(out, 416, &extra, 0, &[]);
            }
            status = 206;
            range = first..last + 1;
            extra.push(("Content-Range".into(), format!("bytes {first}-{last}/{total}")));
        }
    }
    let body = &route.body[range];
    let cut = call > route.first.len() && call <= route.first.len() + route.cut_calls;
    if cut {
        let n = route.cut_at.min(body.len());
        let _ = write_head(out, status, &extra, body.len(), &body[..n]);
        let _ = out.shutdown(std::net::Shutdown::Both);
        return false;
    }
    if req.method == "HEAD" {
        return write_head(out, status, &extra, body.len(), &[]);
    }
    match route.trickle {
        None => write_head(out, status, &extra, body.len(), body),
        Some((chunk, pause)) => {
            if !write_head(out, status, &extra, body.len(), &[]) {
                return false;
            }
            for piece in body.chunks(chunk.max(1)) {
                if !write_all(out, piece) {
                    return false;
                }
                thread::sleep(pause);
            }
            true
        }
    }
}

/// Write the head and (in the same write, so Nagle cannot delay it) `body`.
fn write_head(
    out: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    len: usize,
    body: &[u8],
) -> bool {
    let mut head = format!("HTTP/1.1 {status} Scripted\r\nContent-Length: {len}\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut all = head.into_bytes();
    all.extend_from_slice(body);
    write_all(out, &all)
}

fn write_all(out: &mut TcpStream, b: &[u8]) -> bool {
    out.write_all(b).and_then(|()| out.flush()).is_ok()
}

/// Run the CLI with `args`: its exit code and stderr.
pub fn run(args: &[&str]) -> (i32, String) {
    let out = volley().args(args).output().expect("run volley");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

/// A path as a command-line argument.
pub fn path_str(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}
