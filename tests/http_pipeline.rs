#![allow(clippy::unwrap_used)]
//! HTTP/1.1 pipelining as the server sees it. A raw server on 127.0.0.1 parses the
//! exact bytes and notes, for every request, how many responses it had written on
//! that connection when the request had arrived whole: a request that arrived before
//! the response to the one ahead of it was sent pipelined. The server waits briefly
//! before each answer, so a client that pipelines shows it. One connection at a time
//! (`max_connections: 1`) keeps the order of events deterministic.

mod support;

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use support::http::{decode_chunked, drive_steering, ok, response, test_config, Outcome};
use support::within;
use volley::{Client, Config, Control, ErrorKind, Event, Method, Request, RequestId};

/// How long the server waits for more requests before it writes an answer: ample for
/// a pipelining client's next heads to cross loopback, so the record shows them.
const LINGER: Duration = Duration::from_millis(30);
/// How long the server waits for requests a script expects before going on without.
const PATIENCE: Duration = Duration::from_secs(3);
/// Every test ends within this many seconds or fails.
const WATCHDOG: u64 = 20;
/// A head timeout that never fires unless a test means it to.
const NO_HURRY: Duration = Duration::from_secs(10);

/// One request as the server received it.
#[derive(Debug, Clone)]
struct Arrival {
    /// Connection number, from 1 in accept order.
    conn: usize,
    /// Position on its connection, from 0.
    index: usize,
    method: String,
    path: String,
    body: Vec<u8>,
    /// Responses the server had written on the connection when this request was whole.
    answered: usize,
    /// Which read on the connection completed it, from 1.
    read: usize,
}

impl Arrival {
    /// It came before the response to the request ahead of it was written.
    fn pipelined(&self) -> bool {
        self.answered < self.index
    }

    /// Requests on its connection without an answer when it arrived, itself included.
    fn outstanding(&self) -> usize {
        self.index + 1 - self.answered
    }
}

/// One accepted connection, as a script drives it.
struct Peer {
    conn: usize,
    stream: TcpStream,
    /// Received bytes not yet a whole request.
    buf: Vec<u8>,
    /// Whole requests the script has not taken yet.
    untaken: VecDeque<Arrival>,
    answered: usize,
    arrived: usize,
    reads: usize,
    eof: bool,
    log: Arc<Mutex<Vec<Arrival>>>,
}

impl Peer {
    /// Wait (up to [`PATIENCE`]) until `n` requests have arrived that were not taken
    /// yet, and take them; fewer if the client closes or sends no more.
    fn take(&mut self, n: usize) -> Vec<Arrival> {
        self.wait_for(n);
        let k = n.min(self.untaken.len());
        self.untaken.drain(..k).collect()
    }

    /// Wait (up to [`PATIENCE`]) until `n` requests not taken yet have arrived.
    fn wait_for(&mut self, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.untaken.len() < n && !self.eof {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.read_for(left);
        }
    }

    /// Take what has arrived, plus what arrives within [`LINGER`].
    fn take_arrived(&mut self) -> Vec<Arrival> {
        self.listen();
        self.untaken.drain(..).collect()
    }

    /// Record what arrives within [`LINGER`].
    fn listen(&mut self) {
        let deadline = Instant::now() + LINGER;
        while !self.eof {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.read_for(left);
        }
    }

    /// Write `bytes`, which complete `answers` responses.
    fn send(&mut self, bytes: &[u8], answers: usize) {
        // A client that gave up may have reset the connection; what it got is the test.
        let _ = self.stream.write_all(bytes);
        self.answered += answers;
    }

    /// Write `responses` in one write.
    fn answer(&mut self, responses: &[Vec<u8>]) {
        self.send(&responses.concat(), responses.len());
    }

    /// Read (recording what arrives) until the client closes.
    fn until_eof(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        while !self.eof && Instant::now() < deadline {
            self.read_for(Duration::from_millis(50));
        }
    }

    /// Close the way a server does between requests: FIN first, then read until the
    /// client closes too, since closing with unread bytes would reset the connection
    /// and could destroy responses still in flight to the client.
    fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        self.until_eof();
    }

    fn read_for(&mut self, wait: Duration) {
        let mut chunk = [0u8; 64 * 1024];
        let _ = self.stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        match self.stream.read(&mut chunk) {
            Ok(0) => self.eof = true,
            Ok(n) => {
                self.reads += 1;
                self.buf.extend_from_slice(&chunk[..n]);
                while let Some((len, method, path, body)) = parse_request(&self.buf) {
                    self.buf.drain(..len);
                    let a = Arrival {
                        conn: self.conn,
                        index: self.arrived,
                        method,
                        path,
                        body,
                        answered: self.answered,
                        read: self.reads,
                    };
                    self.arrived += 1;
                    self.log.lock().unwrap().push(a.clone());
                    self.untaken.push_back(a);
                }
            }
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut | IoKind::Interrupted) => {}
            Err(_) => self.eof = true,
        }
    }
}

/// A whole request at the start of `buf`: (bytes, method, path, body).
fn parse_request(buf: &[u8]) -> Option<(usize, String, String, Vec<u8>)> {
    let mut fields = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut fields);
    let head_len = match req.parse(buf).expect("a well-formed request head") {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return None,
    };
    let field = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
    };
    let rest = &buf[head_len..];
    let (used, body) = if field("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let (used, body, _) = decode_chunked(rest)?;
        (used, body)
    } else {
        let len: usize = field("content-length").map_or(0, |v| v.parse().expect("a numeric Content-Length"));
        (len, rest.get(..len)?.to_vec())
    };
    Some((head_len + used, req.method?.to_string(), req.path?.to_string(), body))
}

type Script = dyn Fn(&mut Peer) + Send + Sync;

/// A server that runs `script` on every connection it accepts, one thread each.
struct PipeServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Arrival>>>,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl PipeServer {
    fn start(script: impl Fn(&mut Peer) + Send + Sync + 'static) -> PipeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let server = PipeServer {
            addr: listener.local_addr().unwrap(),
            log: Arc::default(),
            accepted: Arc::default(),
            stop: Arc::default(),
        };
        let (log, accepted, stop) = (server.log.clone(), server.accepted.clone(), server.stop.clone());
        let script: Arc<Script> = Arc::new(script);
        thread::spawn(move || {
            let give_up = Instant::now() + Duration::from_secs(WATCHDOG);
            while !stop.load(Ordering::SeqCst) && Instant::now() < give_up {
                let Ok((stream, peer)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(1));
                    continue;
                };
                assert!(peer.ip().is_loopback(), "connection from {peer}");
                stream.set_nonblocking(false).unwrap();
                stream.set_nodelay(true).unwrap();
                let conn = accepted.fetch_add(1, Ordering::SeqCst) + 1;
                let (log, script) = (log.clone(), script.clone());
                thread::spawn(move || {
                    let mut peer = Peer {
                        conn,
                        stream,
                        buf: Vec::new(),
                        untaken: VecDeque::new(),
                        answered: 0,
                        arrived: 0,
                        reads: 0,
                        eof: false,
                        log,
                    };
                    script(&mut peer);
                    peer.close();
                });
            }
        });
        server
    }

    /// A server whose first connection answers the request it opens with (sent alone:
    /// nothing is known of the server yet), then runs `script`; later connections
    /// are served plainly ([`serve_ok`]).
    fn first_conn(script: impl Fn(&mut Peer) + Send + Sync + 'static) -> PipeServer {
        PipeServer::start(move |peer| {
            if peer.conn > 1 {
                return serve_ok(peer);
            }
            for a in peer.take(1) {
                peer.answer(&[ok(body_for(&a.path))]);
            }
            script(peer);
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Every request received so far, in arrival order.
    fn arrivals(&self) -> Vec<Arrival> {
        self.log.lock().unwrap().clone()
    }

    /// Paths of the requests that arrived pipelined on connection `conn`.
    fn pipelined_on(&self, conn: usize) -> Vec<String> {
        self.arrivals().into_iter().filter(|a| a.conn == conn && a.pipelined()).map(|a| a.path).collect()
    }

    /// How many times `path` reached the server.
    fn times(&self, path: &str) -> usize {
        self.arrivals().iter().filter(|a| a.path == path).count()
    }
}

impl Drop for PipeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The body served for `path`: unlike any other path's, so a response given to the
/// wrong request shows.
fn body_for(path: &str) -> Vec<u8> {
    format!("body of {path}").into_bytes()
}

/// Serve until the client closes: after each request wait [`LINGER`], then answer
/// everything that arrived meanwhile in one write.
fn serve(peer: &mut Peer, respond: impl Fn(&Arrival) -> Vec<u8>) {
    loop {
        let mut batch = peer.take(1);
        if batch.is_empty() {
            return;
        }
        batch.extend(peer.take_arrived());
        let responses: Vec<Vec<u8>> = batch.iter().map(&respond).collect();
        peer.answer(&responses);
    }
}

/// [`serve`] with `200 OK` and [`body_for`] the path.
fn serve_ok(peer: &mut Peer) {
    serve(peer, |a| ok(body_for(&a.path)));
}

/// One connection at a time, so every request goes the same way in every run.
fn config(depth: usize) -> Config {
    Config { pipeline_depth: depth, max_connections: 1, max_per_origin: 1, ..test_config() }
}

/// GETs for `paths`, submitted in order.
fn submit_gets(client: &mut Client, server: &PipeServer, paths: &[&str]) -> Vec<RequestId> {
    paths.iter().map(|p| client.submit(Request::get(&server.url(p)).unwrap()).unwrap()).collect()
}

/// Run `client` to idle, letting `steer` act on every event first. The driver checks
/// that every request ended exactly once.
fn finish(client: &mut Client, steer: impl FnMut(&mut Control, &Event<'_>)) -> HashMap<RequestId, Outcome> {
    drive_steering(client, Duration::from_secs(WATCHDOG - 5), steer)
}

/// The outcomes of `ids`, in order; none may be missing.
fn in_order(outs: &mut HashMap<RequestId, Outcome>, ids: &[RequestId]) -> Vec<Outcome> {
    ids.iter().map(|id| outs.remove(id).unwrap_or_else(|| panic!("request {id:?} lost"))).collect()
}

/// Submit `requests` in order and run them all; their outcomes in the same order.
fn run(config: Config, requests: Vec<Request>) -> Vec<Outcome> {
    let mut client = Client::new(config).unwrap();
    let ids: Vec<RequestId> = requests.into_iter().map(|r| client.submit(r).unwrap()).collect();
    in_order(&mut finish(&mut client, |_, _| {}), &ids)
}

/// Run GETs for `paths` on one connection at a time, pipelining up to `depth`; each
/// must come back with the body for its path.
fn get_all(server: &PipeServer, depth: usize, head_timeout: Duration, paths: &[&str]) -> Vec<Outcome> {
    let requests = paths.iter().map(|p| Request::get(&server.url(p)).unwrap()).collect();
    let outs = run(Config { head_timeout, ..config(depth) }, requests);
    assert_bodies(&outs, paths);
    outs
}

/// Every outcome completed with the body for its path.
fn assert_bodies(outs: &[Outcome], paths: &[&str]) {
    for (o, p) in outs.iter().zip(paths) {
        assert_eq!(o.status(), 200, "{p}: {o:#?}");
        assert_eq!(String::from_utf8_lossy(&o.body()), String::from_utf8_lossy(&body_for(p)), "{p}");
    }
}

fn strings(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

/// GETs /0../4 with `depth`: all on one connection, kept and reused, and never a
/// second request out on it.
fn assert_one_at_a_time(server: &PipeServer, depth: usize) {
    let paths = ["/0", "/1", "/2", "/3", "/4"];
    let outs = get_all(server, depth, NO_HURRY, &paths);
    assert_eq!(server.pipelined_on(1), Vec::<String>::new(), "{:#?}", server.arrivals());
    assert!(outs[1..].iter().all(|o| o.stats().reused), "the connection was kept and reused");
    assert_eq!(server.connections(), 1);
}

#[test]
fn gets_are_pipelined_once_the_server_answered_persistently() {
    within(WATCHDOG, || {
        let server = PipeServer::start(serve_ok);
        let paths = ["/0", "/1", "/2", "/3"];
        let outs = get_all(&server, 8, NO_HURRY, &paths);
        let arrivals = server.arrivals();
        assert_eq!(arrivals.len(), 4, "{arrivals:#?}");
        // Nothing is known of a new connection's server: the first request goes alone.
        assert_eq!(arrivals[0].answered, 0);
        for a in &arrivals[1..] {
            assert_eq!(a.answered, 1, "{} arrived after the server answered /1: {arrivals:#?}", a.path);
            assert_eq!(a.read, arrivals[1].read, "/1../3 were not sent in one write: {arrivals:#?}");
        }
        assert_eq!(server.pipelined_on(1), strings(&["/2", "/3"]));
        assert!(!outs[0].stats().reused);
        for (o, p) in outs.iter().zip(paths).skip(1) {
            assert!(o.stats().reused, "{p}");
            assert_eq!(o.stats().retries, 0, "{p}");
        }
        assert_eq!(server.connections(), 1);
    });
}

#[test]
fn depth_one_never_has_two_requests_outstanding() {
    within(WATCHDOG, || {
        let server = PipeServer::start(serve_ok);
        assert_one_at_a_time(&server, 1);
    });
}

#[test]
fn pipeline_refills_up_to_depth_as_responses_end() {
    const DEPTH: usize = 3;
    const PATHS: [&str; 7] = ["/0", "/1", "/2", "/3", "/4", "/5", "/6"];
    within(WATCHDOG, || {
        let server = PipeServer::start(|peer| {
            for answered in 0..PATHS.len() {
                // Answer one at a time, each once as many requests are out as may be
                // (waiting, not asserting: the record shows what came when).
                let may = if answered == 0 { 1 } else { DEPTH.min(PATHS.len() - answered) };
                peer.wait_for(may);
                let Some(a) = peer.take(1).pop() else { return };
                peer.answer(&[ok(body_for(&a.path))]);
            }
        });
        get_all(&server, DEPTH, NO_HURRY, &PATHS);
        let arrivals = server.arrivals();
        let outstanding: Vec<usize> = arrivals.iter().map(Arrival::outstanding).collect();
        // /0 alone, then 3 out at every moment: each answer lets one more request go.
        assert_eq!(outstanding, [1, 1, 2, 3, 3, 3, 3], "{arrivals:#?}");
        assert_eq!(server.connections(), 1);
    });
}

/// GETs /0../5. The first connection gets /1../5 together once /0 is answered,
/// answers /1 with `last` (its body given) and closes. Every request must end once
/// with its own body and none counts a retry: the ones left unanswered were given
/// back, not failed.
fn close_after_one_of_a_pipeline(last: fn(Vec<u8>) -> Vec<u8>) -> PipeServer {
    let server = PipeServer::first_conn(move |peer| {
        let batch = peer.take(5);
        peer.answer(&[last(body_for(&batch[0].path))]);
    });
    let paths = ["/0", "/1", "/2", "/3", "/4", "/5"];
    let outs = get_all(&server, 8, NO_HURRY, &paths);
    assert_eq!(server.pipelined_on(1), strings(&["/2", "/3", "/4", "/5"]), "{:#?}", server.arrivals());
    for p in ["/0", "/1"] {
        assert_eq!(server.times(p), 1, "{p}");
    }
    for p in ["/2", "/3", "/4", "/5"] {
        assert_eq!(server.times(p), 2, "{p}: sent once pipelined, once on the new connection");
    }
    for (o, p) in outs.iter().zip(paths) {
        assert_eq!(o.stats().retries, 0, "{p}: left unanswered is not a failed attempt");
    }
    assert_eq!(server.connections(), 2);
    server
}

#[test]
fn unannounced_close_mid_pipeline_resends_the_rest_once_and_stops_pipelining() {
    within(WATCHDOG, || {
        let server = close_after_one_of_a_pipeline(ok);
        assert_eq!(server.pipelined_on(2), Vec::<String>::new(), "{:#?}", server.arrivals());
    });
}

#[test]
fn announced_close_mid_pipeline_resends_the_rest_and_keeps_pipelining() {
    within(WATCHDOG, || {
        let server = close_after_one_of_a_pipeline(|body| response(200, &[("Connection", "close")], body));
        // On the new connection /2 goes alone (the server is new again), /3 after it,
        // and the rest behind /3: the origin is still trusted with pipelines.
        assert_eq!(server.pipelined_on(2), strings(&["/4", "/5"]), "{:#?}", server.arrivals());
    });
}

#[test]
fn http10_keep_alive_server_is_never_pipelined_to() {
    within(WATCHDOG, || {
        let server = PipeServer::start(|peer| {
            serve(peer, |a| {
                let body = body_for(&a.path);
                let head = format!(
                    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                [head.into_bytes(), body].concat()
            })
        });
        assert_one_at_a_time(&server, 8);
    });
}

#[test]
fn nothing_is_pipelined_behind_or_after_a_large_response() {
    const LARGE: usize = 2 * 1024 * 1024;
    within(WATCHDOG, || {
        let server = PipeServer::first_conn(|peer| {
            // /big and /after, sent together before /big's size was known.
            let batch = peer.take(2);
            let body = vec![b'L'; LARGE];
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {LARGE}\r\n\r\n");
            peer.send(&[head.as_bytes(), &body[..LARGE / 2]].concat(), 0);
            // The client submits more at /big's head; they must wait, not queue behind it.
            let early = peer.take_arrived();
            peer.send(&body[LARGE / 2..], 1);
            let mut rest = vec![ok(body_for(&batch[1].path))];
            rest.extend(early.iter().map(|a| ok(body_for(&a.path))));
            peer.answer(&rest);
            serve_ok(peer);
        });
        let mut client = Client::new(config(8)).unwrap();
        let ids = submit_gets(&mut client, &server, &["/0", "/big", "/after"]);
        let later_paths = ["/3", "/4", "/5"];
        let mut later = Vec::new();
        let mut outs = finish(&mut client, |ctl, e| {
            if matches!(e, Event::Head { id, .. } if *id == ids[1]) {
                later.extend(later_paths.map(|p| ctl.submit(Request::get(&server.url(p)).unwrap())));
            }
        });
        let first = in_order(&mut outs, &ids);
        assert_bodies(&first[..1], &["/0"]);
        assert_bodies(&first[2..], &["/after"]);
        assert_eq!(first[1].body().len(), LARGE);
        assert!(first[1].body().iter().all(|&b| b == b'L'));
        let later = in_order(&mut outs, &later);
        assert_bodies(&later, &later_paths);
        // /after went behind /big before its head came; nothing after that did.
        assert_eq!(server.pipelined_on(1), strings(&["/after"]), "{:#?}", server.arrivals());
        assert!(later.iter().all(|o| o.stats().reused), "the connection was kept and reused");
        assert_eq!(server.connections(), 1);
    });
}

#[test]
fn requests_with_a_body_are_never_pipelined() {
    within(WATCHDOG, || {
        let server = PipeServer::start(serve_ok);
        let url = |p: &str| server.url(p);
        let requests = vec![
            Request::get(&url("/0")).unwrap(),
            Request::get(&url("/1")).unwrap(),
            Request::get(&url("/2")).unwrap(),
            Request::new(Method::Post, &url("/p0")).unwrap(),
            Request::get(&url("/3")).unwrap(),
            Request::get(&url("/4")).unwrap(),
            Request::post(&url("/p1"), "one").unwrap(),
            Request::get(&url("/5")).unwrap(),
            Request::get(&url("/6")).unwrap(),
            Request::get(&url("/g")).unwrap().body_bytes("two"),
            Request::get(&url("/7")).unwrap(),
        ];
        let paths = ["/0", "/1", "/2", "/p0", "/3", "/4", "/p1", "/5", "/6", "/g", "/7"];
        let outs = run(config(8), requests);
        assert_bodies(&outs, &paths);
        let arrivals = server.arrivals();
        let sent: Vec<(&str, &str, &[u8])> =
            arrivals.iter().map(|a| (a.method.as_str(), a.path.as_str(), a.body.as_slice())).collect();
        assert_eq!(
            sent,
            [
                ("GET", "/0", &b""[..]),
                ("GET", "/1", b""),
                ("GET", "/2", b""),
                ("POST", "/p0", b""),
                ("GET", "/3", b""),
                ("GET", "/4", b""),
                ("POST", "/p1", b"one"),
                ("GET", "/5", b""),
                ("GET", "/6", b""),
                ("GET", "/g", b"two"),
                ("GET", "/7", b""),
            ]
        );
        // A POST (even without a body) or a request with a body waits for a free
        // connection and keeps the ones after it in order behind it: only the GETs
        // right behind a bodiless GET go early.
        assert_eq!(server.pipelined_on(1), strings(&["/2", "/4", "/6"]), "{arrivals:#?}");
        assert_eq!(server.connections(), 1);
    });
}

#[test]
fn cancelling_a_request_waiting_behind_drains_the_connection() {
    within(WATCHDOG, || {
        let server = PipeServer::first_conn(|peer| {
            let batch = peer.take(4);
            let whole = ok(body_for(&batch[0].path));
            let body_at = whole.len() - body_for(&batch[0].path).len();
            peer.send(&whole[..body_at], 0);
            // The client cancels /3 at /1's head, while /2, /3 and /4 wait behind /1;
            // the pause lets it read the head apart from what follows.
            thread::sleep(LINGER);
            // A server answers all it was sent.
            let mut rest = whole[body_at..].to_vec();
            for a in &batch[1..] {
                rest.extend(ok(body_for(&a.path)));
            }
            peer.send(&rest, batch.len());
        });
        let mut client = Client::new(config(8)).unwrap();
        let paths = ["/0", "/1", "/2", "/3", "/4"];
        let ids = submit_gets(&mut client, &server, &paths);
        let outs = in_order(
            &mut finish(&mut client, |ctl, e| {
                if matches!(e, Event::Head { id, .. } if *id == ids[1]) {
                    ctl.cancel(ids[3]);
                }
            }),
            &ids,
        );
        assert_eq!(outs[3].error().kind(), ErrorKind::Cancelled);
        assert!(outs[3].head.is_none(), "{:#?}", outs[3]);
        assert_bodies(&outs[..3], &paths[..3]);
        assert_bodies(&outs[4..], &paths[4..]);
        assert_eq!(server.pipelined_on(1), strings(&["/2", "/3", "/4"]), "{:#?}", server.arrivals());
        // /2 was answered on the draining connection; /4, after the cancelled one, went
        // back to the queue and out again on a new connection.
        assert_eq!(server.times("/2"), 1);
        assert_eq!(server.times("/4"), 2);
        assert_eq!(outs[4].stats().retries, 0);
        assert_eq!(server.connections(), 2);
    });
}

#[test]
fn server_ignoring_pipelined_requests_times_out_into_a_retry_without_pipelining() {
    within(WATCHDOG, || {
        let server = PipeServer::first_conn(|peer| {
            // Answer the first request of the read, ignore the ones that came with it.
            let batch = [peer.take(1), peer.take_arrived()].concat();
            peer.answer(&[ok(body_for(&batch[0].path))]);
            peer.until_eof();
        });
        let paths = ["/0", "/1", "/2", "/3", "/4", "/5"];
        get_all(&server, 8, Duration::from_millis(500), &paths);
        assert_eq!(server.pipelined_on(1), strings(&["/2", "/3", "/4", "/5"]), "{:#?}", server.arrivals());
        assert_eq!(server.pipelined_on(2), Vec::<String>::new(), "{:#?}", server.arrivals());
        assert_eq!(server.times("/2"), 2);
        assert_eq!(server.connections(), 2);
    });
}

#[test]
fn a_pipelined_requests_head_timer_starts_when_it_becomes_current() {
    const PACE: Duration = Duration::from_millis(300);
    within(WATCHDOG, || {
        let server = PipeServer::first_conn(|peer| {
            // /3 is answered 3 paces after it was sent but 1 pace after /2's answer.
            for a in peer.take(3) {
                thread::sleep(PACE);
                peer.answer(&[ok(body_for(&a.path))]);
            }
            serve_ok(peer);
        });
        let paths = ["/0", "/1", "/2", "/3"];
        let outs = get_all(&server, 8, PACE + PACE * 2 / 3, &paths);
        assert_eq!(server.pipelined_on(1), strings(&["/2", "/3"]), "{:#?}", server.arrivals());
        assert!(outs.iter().all(|o| o.stats().retries == 0), "a request timed out waiting its turn");
        assert_eq!(server.connections(), 1);
    });
}

/// Four pipelined responses, each ending where the next begins: chunked with an
/// extension, the answer to a HEAD (a length but no body), a plain one, and chunked
/// with a trailer.
fn split_responses() -> Vec<Vec<u8>> {
    vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"
            .to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec(),
        ok(body_for("/plain")),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Check: 1\r\n\r\n".to_vec(),
    ]
}

/// Where each of [`split_responses`] ends in the stream of them all.
fn split_ends() -> Vec<usize> {
    split_responses()
        .iter()
        .scan(0, |at, r| {
            *at += r.len();
            Some(*at)
        })
        .collect()
}

/// Send [`split_responses`] to pipelined requests, cut at offsets `cuts` into the
/// stream, `gap` apart so each piece is a read of its own; every response must come
/// out whole and in order.
fn check_split(cuts: Vec<usize>, gap: Duration) {
    within(WATCHDOG, move || {
        let server = PipeServer::first_conn(move |peer| {
            let batch = peer.take(4);
            assert_eq!(batch.len(), 4, "{batch:#?}");
            let (stream, ends) = (split_responses().concat(), split_ends());
            let mut from = 0;
            for &to in cuts.iter().chain([&stream.len()]) {
                thread::sleep(gap);
                let answers = ends.iter().filter(|&&e| from < e && e <= to).count();
                peer.send(&stream[from..to], answers);
                from = to;
            }
        });
        let url = |p: &str| server.url(p);
        let requests = vec![
            Request::get(&url("/0")).unwrap(),
            Request::get(&url("/chunked")).unwrap(),
            Request::head(&url("/head")).unwrap(),
            Request::get(&url("/plain")).unwrap(),
            Request::get(&url("/trailer")).unwrap(),
        ];
        let outs = run(config(8), requests);
        let pipelined = strings(&["/head", "/plain", "/trailer"]);
        assert_eq!(server.pipelined_on(1), pipelined, "{:#?}", server.arrivals());
        let bodies: Vec<String> =
            outs.iter().map(|o| String::from_utf8_lossy(&o.body()).into_owned()).collect();
        assert_eq!(bodies, ["body of /0", "hello, world", "", "body of /plain", "abc"]);
        let head = outs[2].head.as_ref().unwrap();
        assert_eq!(head.headers.get("content-length"), Some("1000"));
        assert!(outs.iter().all(|o| o.status() == 200));
        assert_eq!(server.connections(), 1);
    });
}

#[test]
fn pipelined_responses_cut_at_awkward_places_parse_right() {
    let ends = split_ends();
    let chunk_line = ends[2] + split_responses()[3].windows(3).position(|w| w == b"3\r\n").unwrap() + 1;
    let cuts = vec![
        10,          // inside the first status line
        ends[0] - 1, // before the chunked body's last LF...
        ends[2] - 3, // ...which comes with the HEAD answer and most of the next
        chunk_line,  // the last body bytes with a head and half a chunk-size line
        ends[3] - 2, // inside the empty line that ends the trailer
    ];
    check_split(cuts, LINGER);
}

#[test]
fn pipelined_responses_one_byte_at_a_time_parse_right() {
    check_split((1..split_ends()[3]).collect(), Duration::from_millis(1));
}
