//! A scripted HTTP/1.1 server on `127.0.0.1:0` for integration tests, plus helpers
//! that drive a `volley::Client` and collect what happened to each request.
//!
//! The server runs one accept thread (a non-blocking listener polled every
//! millisecond, stopping when the [`Server`] is dropped or after [`SERVER_LIFETIME`])
//! and one thread per connection. Each connection thread reads a request head (up to
//! CRLFCRLF) and its body (`Content-Length` or chunked), records the exact bytes as a
//! [`SeenRequest`], then asks the script what to do ([`Action`]). Connection threads end
//! when the client closes its socket, when an action closes, or after a read timeout.
//! Threads are named `srv-*` so a test can tell them from the client's.

use std::collections::HashMap;
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use volley::{Client, Config, Control, Error, Event, Request, RequestId, Response, Stats};

/// The accept thread gives up after this long even if the server is never dropped.
pub const SERVER_LIFETIME: Duration = Duration::from_secs(60);
/// A connection thread waiting this long for a request gives up.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request head or body the server accepts (a test bug beyond that).
const MAX_REQUEST: usize = 64 * 1024 * 1024;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// Connection number, counted from 1 in accept order.
    pub conn: usize,
    /// Position on its connection, counted from 0.
    pub index: usize,
    /// Position among all requests the server saw, counted from 0.
    pub seq: usize,
    /// The exact head bytes, request line through the empty line.
    pub head: Vec<u8>,
    /// The exact body bytes as they came on the wire (chunk framing included).
    pub raw_body: Vec<u8>,
    /// The body after removing chunked framing.
    pub body: Vec<u8>,
    /// Request method.
    pub method: String,
    /// Request target as sent (origin-form).
    pub target: String,
    /// Header fields in order, as text.
    pub headers: Vec<(String, String)>,
    /// Chunked trailer fields, if any.
    pub trailers: Vec<(String, String)>,
}

impl SeenRequest {
    /// The head as text (lossy).
    pub fn head_str(&self) -> String {
        String::from_utf8_lossy(&self.head).into_owned()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether header `name` is present.
    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// The path part of the target (before `?`).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What the server does after reading a request.
#[derive(Debug, Clone)]
pub enum Action {
    /// Write the bytes and keep the connection open for the next request.
    Reply(Vec<u8>),
    /// Write the bytes, then close.
    ReplyClose(Vec<u8>),
    /// Write the bytes, wait `after`, then close (a server closing an idle
    /// keep-alive connection).
    ReplyThenCloseAfter(Vec<u8>, Duration),
    /// Write the bytes, then say nothing for `hold`, then close.
    ReplyThenHang(Vec<u8>, Duration),
    /// Write each piece with `delay` before it; close afterwards if `close`.
    Trickle {
        /// The pieces, in order.
        pieces: Vec<Vec<u8>>,
        /// Pause before each piece.
        delay: Duration,
        /// Close after the last piece (otherwise keep reading requests).
        close: bool,
    },
    /// Write nothing; hold the connection for the duration, then close.
    Hang(Duration),
    /// Close at once without writing anything.
    Close,
}

impl Action {
    /// Write a complete head and part of a body, then close mid-body.
    pub fn head_then_close(head_and_partial_body: impl Into<Vec<u8>>) -> Action {
        Action::ReplyClose(head_and_partial_body.into())
    }

    /// `bytes` split into one-byte pieces, each after `delay`.
    pub fn trickle_bytes(bytes: &[u8], delay: Duration, close: bool) -> Action {
        Action::Trickle { pieces: bytes.iter().map(|&b| vec![b]).collect(), delay, close }
    }
}

/// `HTTP/1.1 200 OK` with `Content-Length` and `body`.
pub fn ok(body: impl AsRef<[u8]>) -> Vec<u8> {
    response(200, &[], body)
}

/// A complete HTTP/1.1 response with `Content-Length` computed from `body`.
pub fn response(status: u16, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Vec<u8> {
    let body = body.as_ref();
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// A redirect with `Location` and an empty body.
pub fn redirect(status: u16, location: &str) -> Vec<u8> {
    response(status, &[("Location", location)], b"")
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        _ => "Whatever",
    }
}

type Script = dyn Fn(&SeenRequest) -> Action + Send + Sync;

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Answer right after the head, without reading the body, then drain until EOF.
    early: AtomicBool,
    accepted: AtomicUsize,
    open: AtomicUsize,
    max_open: AtomicUsize,
    requests: AtomicUsize,
    seen: Mutex<Vec<SeenRequest>>,
}

/// A scripted HTTP/1.1 server on `127.0.0.1`; stops accepting when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    /// Start a server that answers every request with `script(&request)`.
    pub fn start(script: impl Fn(&SeenRequest) -> Action + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared::default());
        let script: Arc<Script> = Arc::new(script);
        let sh = shared.clone();
        thread::Builder::new()
            .name(format!("srv-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, sh, script))
            .expect("spawn accept thread");
        Server { addr, shared }
    }

    /// A server that answers right after reading a request head, before (and
    /// without) reading its body, then reads and discards everything until the client
    /// closes. `SeenRequest::body` is empty.
    pub fn start_early(script: impl Fn(&SeenRequest) -> Action + Send + Sync + 'static) -> Server {
        let server = Server::start(script);
        server.shared.early.store(true, Ordering::SeqCst);
        server
    }

    /// Connections open right now (as the server sees them).
    pub fn open_now(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// A server answering every request with the same bytes, keeping connections open.
    pub fn always(bytes: impl Into<Vec<u8>>) -> Server {
        let bytes = bytes.into();
        Server::start(move |_| Action::Reply(bytes.clone()))
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The `Host` header value the client should send.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once.
    pub fn max_open(&self) -> usize {
        self.shared.max_open.load(Ordering::SeqCst)
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.shared.seen.lock().expect("seen lock").clone()
    }

    /// The only request seen (panics if there were not exactly one).
    pub fn only(&self) -> SeenRequest {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "expected exactly one request, saw {seen:#?}");
        seen.into_iter().next().expect("one request")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, script: Arc<Script>) {
    let deadline = Instant::now() + SERVER_LIFETIME;
    while !shared.stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, peer)) => {
                assert!(peer.ip().is_loopback(), "connection from outside loopback: {peer}");
                let n = shared.accepted.fetch_add(1, Ordering::SeqCst) + 1;
                let open = shared.open.fetch_add(1, Ordering::SeqCst) + 1;
                shared.max_open.fetch_max(open, Ordering::SeqCst);
                let (sh, sc) = (shared.clone(), script.clone());
                let spawned = thread::Builder::new().name(format!("srv-conn-{n}")).spawn(move || {
                    serve_conn(stream, n, &sh, &*sc);
                    sh.open.fetch_sub(1, Ordering::SeqCst);
                });
                if spawned.is_err() {
                    shared.open.fetch_sub(1, Ordering::SeqCst);
                }
            }
            Err(e) if e.kind() == IoKind::WouldBlock || e.kind() == IoKind::Interrupted => {
                thread::sleep(Duration::from_millis(1));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve_conn(mut stream: TcpStream, conn: usize, shared: &Shared, script: &Script) {
    if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(READ_TIMEOUT)).is_err() {
        return;
    }
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    let mut index = 0;
    loop {
        let early = shared.early.load(Ordering::SeqCst);
        let Some(mut req) = read_request(&mut stream, &mut buf, early) else {
            return;
        };
        req.conn = conn;
        req.index = index;
        index += 1;
        {
            let mut seen = shared.seen.lock().expect("seen lock");
            req.seq = seen.len();
            seen.push(req.clone());
            shared.requests.fetch_add(1, Ordering::SeqCst);
        }
        let keep_open = match script(&req) {
            Action::Reply(bytes) => stream.write_all(&bytes).is_ok(),
            Action::ReplyClose(bytes) => {
                let _ = stream.write_all(&bytes);
                false
            }
            Action::ReplyThenCloseAfter(bytes, after) | Action::ReplyThenHang(bytes, after) => {
                let _ = stream.write_all(&bytes);
                thread::sleep(after);
                false
            }
            Action::Trickle { pieces, delay, close } => {
                let mut ok = true;
                for p in pieces {
                    thread::sleep(delay);
                    if stream.write_all(&p).is_err() {
                        ok = false;
                        break;
                    }
                }
                ok && !close
            }
            Action::Hang(hold) => {
                thread::sleep(hold);
                false
            }
            Action::Close => false,
        };
        if early {
            // The body was never read: half-close if the action closes, then discard
            // whatever comes until the client closes (closing with unread data would
            // reset the connection and could destroy the answer in flight).
            if !keep_open {
                let _ = stream.shutdown(Shutdown::Write);
            }
            let mut sink = [0u8; 64 * 1024];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
        if !keep_open {
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Fill `buf` from the stream until `done(buf)` says how many bytes make the unit;
/// `None` on EOF, error or an oversized request.
fn read_until(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    done: impl Fn(&[u8]) -> Option<usize>,
) -> Option<usize> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(n) = done(buf) {
            return Some(n);
        }
        if buf.len() > MAX_REQUEST {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, head_only: bool) -> Option<SeenRequest> {
    let head_len = read_until(stream, buf, |b| find(b, b"\r\n\r\n").map(|i| i + 4))?;
    let head: Vec<u8> = buf.drain(..head_len).collect();
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((n, v)) => (n.to_string(), v.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect();
    let get = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let chunked = get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let (raw_body, body, trailers) = if head_only {
        (Vec::new(), Vec::new(), Vec::new())
    } else if chunked {
        let raw_len = read_until(stream, buf, |b| decode_chunked(b).map(|(n, _, _)| n))?;
        let (_, body, trailers) = decode_chunked(&buf[..raw_len])?;
        (buf.drain(..raw_len).collect(), body, trailers)
    } else {
        let len: usize = get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        read_until(stream, buf, |b| (b.len() >= len).then_some(len))?;
        let raw: Vec<u8> = buf.drain(..len).collect();
        (raw.clone(), raw, Vec::new())
    };
    Some(SeenRequest { conn: 0, index: 0, seq: 0, head, raw_body, body, method, target, headers, trailers })
}

/// Header or trailer fields as text.
pub type Fields = Vec<(String, String)>;

/// A complete chunked body at the start of `b`: (bytes used, data, trailers).
pub fn decode_chunked(b: &[u8]) -> Option<(usize, Vec<u8>, Fields)> {
    let mut pos = 0;
    let mut data = Vec::new();
    loop {
        let line_end = pos + find(&b[pos..], b"\r\n")?;
        let line = std::str::from_utf8(&b[pos..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        pos = line_end + 2;
        if size == 0 {
            break;
        }
        if b.len() < pos + size + 2 {
            return None;
        }
        data.extend_from_slice(&b[pos..pos + size]);
        pos += size + 2;
    }
    let mut trailers = Vec::new();
    loop {
        let line_end = pos + find(&b[pos..], b"\r\n")?;
        let line = String::from_utf8_lossy(&b[pos..line_end]).into_owned();
        pos = line_end + 2;
        if line.is_empty() {
            return Some((pos, data, trailers));
        }
        if let Some((n, v)) = line.split_once(':') {
            trailers.push((n.to_string(), v.trim().to_string()));
        }
    }
}

// ---------------------------------------------------------------------------------
// Client side helpers.

/// A configuration with short timeouts so a broken exchange fails fast.
pub fn test_config() -> Config {
    Config {
        connect_timeout: Duration::from_secs(5),
        head_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        ..Config::default()
    }
}

/// What happened to one request.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The final head, if one was delivered.
    pub head: Option<Response>,
    /// Concatenated `Event::Body` data.
    pub event_body: Vec<u8>,
    /// Number of `Event::Body` events.
    pub body_events: usize,
    /// `(status, location)` of every followed redirect.
    pub redirects: Vec<(u16, String)>,
    /// `Done` stats and collected body.
    pub done: Option<(Stats, Option<Vec<u8>>)>,
    /// `Failed` error and stats.
    pub failed: Option<(Error, Stats)>,
    /// Events seen after the request ended (must stay 0).
    pub after_end: usize,
}

impl Outcome {
    /// The response body: the collected one if any, else the event data.
    pub fn body(&self) -> Vec<u8> {
        match &self.done {
            Some((_, Some(b))) => b.clone(),
            _ => self.event_body.clone(),
        }
    }

    /// Stats of the completed request; panics (with the error) if it failed.
    pub fn stats(&self) -> &Stats {
        match (&self.done, &self.failed) {
            (Some((s, _)), None) => s,
            _ => panic!("request did not complete cleanly: {self:#?}"),
        }
    }

    /// The error of a failed request; panics if it completed.
    pub fn error(&self) -> &Error {
        match (&self.done, &self.failed) {
            (None, Some((e, _))) => e,
            _ => panic!("request did not fail: {self:#?}"),
        }
    }

    /// The final status; panics if no head came.
    pub fn status(&self) -> u16 {
        self.head.as_ref().map(|h| h.status).unwrap_or_else(|| panic!("no head: {self:#?}"))
    }

    /// Whether the request ended exactly once.
    pub fn ended(&self) -> bool {
        self.done.is_some() != self.failed.is_some()
    }
}

/// Record one event into `outcomes`.
pub fn record(outcomes: &mut HashMap<RequestId, Outcome>, event: &Event<'_>) {
    let Some(id) = event.request_id() else { return };
    let o = outcomes.entry(id).or_default();
    if o.done.is_some() || o.failed.is_some() {
        o.after_end += 1;
    }
    match event {
        Event::Head { response, .. } => o.head = Some((*response).clone()),
        Event::Body { data, .. } => {
            o.event_body.extend_from_slice(data);
            o.body_events += 1;
        }
        Event::Redirect { status, location, .. } => o.redirects.push((*status, location.to_string())),
        Event::Done { stats, body, .. } => o.done = Some((stats.clone(), body.clone())),
        Event::Failed { error, stats, .. } => o.failed = Some((error.clone(), stats.clone())),
        Event::Ready { .. } => {}
    }
}

/// Turn `client` until it is idle, recording every event; panics if that takes
/// longer than `limit` (a hang is a failure, not a stuck test run).
pub fn drive_for(client: &mut Client, limit: Duration) -> HashMap<RequestId, Outcome> {
    drive_steering(client, limit, |_, _| {})
}

/// [`drive_for`], showing every event to `steer` first so it can cancel, pause or
/// submit through the [`Control`] at a chosen moment.
pub fn drive_steering(
    client: &mut Client,
    limit: Duration,
    mut steer: impl FnMut(&mut Control, &Event<'_>),
) -> HashMap<RequestId, Outcome> {
    let mut outcomes = HashMap::new();
    let deadline = Instant::now() + limit;
    while !client.is_idle() {
        assert!(Instant::now() < deadline, "client still busy after {limit:?}: {outcomes:#?}");
        client
            .turn(Some(Duration::from_millis(50)), |ctl, event| {
                steer(ctl, &event);
                record(&mut outcomes, &event);
            })
            .expect("turn");
    }
    for (id, o) in &outcomes {
        assert!(
            o.ended(),
            "request {id:?} ended {} times: {o:#?}",
            u8::from(o.done.is_some()) + u8::from(o.failed.is_some())
        );
        assert_eq!(o.after_end, 0, "events after the end of {id:?}");
    }
    outcomes
}

/// Turn `client` until idle (at most 20 s), recording every event.
pub fn drive(client: &mut Client) -> HashMap<RequestId, Outcome> {
    drive_for(client, Duration::from_secs(20))
}

/// Submit `request` on a fresh client with `config` and run it to the end.
pub fn fetch_with(config: Config, request: Request) -> Outcome {
    let mut client = Client::new(config).expect("client");
    let id = client.submit(request).expect("submit");
    let mut outcomes = drive(&mut client);
    outcomes.remove(&id).expect("an outcome for the request")
}

/// `fetch_with(test_config(), request)`.
pub fn fetch(request: Request) -> Outcome {
    fetch_with(test_config(), request)
}

/// `GET url` with `test_config()`.
pub fn get(url: &str) -> Outcome {
    fetch(Request::get(url).expect("request"))
}
