//! A submitted request's life inside the reactor: its current URL and method (they
//! change across redirects), its effective timeouts, where its body goes, and the
//! timings collected for [`crate::Stats`].

use crate::error::{Error, ErrorKind};
use crate::event::{Response, Stats};
use crate::headers::Headers;
use crate::proto::h1::request::BodyLen;
use crate::proto::redirect::Hop;
use crate::request::{Body, BodyTarget, Method, Request, RequestId};
use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use url::Url;

/// Timeouts after per-request overrides are applied.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) head: Duration,
    pub(crate) idle: Duration,
    pub(crate) total: Option<Duration>,
}

/// Where body bytes go.
pub(crate) enum Sink {
    Events,
    Collect(Vec<u8>),
    Writer(Box<dyn Write + Send>),
    File(PathBuf, Option<File>),
}

impl Sink {
    pub(crate) fn from_target(target: BodyTarget) -> Sink {
        match target {
            BodyTarget::Events => Sink::Events,
            BodyTarget::Collect => Sink::Collect(Vec::new()),
            BodyTarget::Writer(w) => Sink::Writer(w),
            BodyTarget::File(p) => Sink::File(p, None),
        }
    }

    /// Called at the final head: a file sink starts (or restarts) its file here.
    pub(crate) fn start(&mut self) -> Result<(), Error> {
        match self {
            Sink::File(path, file) => {
                *file = Some(File::create(&*path).map_err(|e| {
                    Error::from_io(ErrorKind::Io, &format!("cannot create {}", path.display()), &e)
                })?);
            }
            Sink::Collect(v) => v.clear(),
            Sink::Events | Sink::Writer(_) => {}
        }
        Ok(())
    }

    /// Write body bytes to a non-event sink.
    pub(crate) fn write(&mut self, data: &[u8], max_collect: usize) -> Result<(), Error> {
        match self {
            Sink::Events => Ok(()),
            Sink::Collect(v) => {
                if v.len() + data.len() > max_collect {
                    return Err(Error::new(
                        ErrorKind::BodyLimit,
                        format!("body larger than the {max_collect}-byte collect limit"),
                    ));
                }
                v.extend_from_slice(data);
                Ok(())
            }
            Sink::Writer(w) => {
                w.write_all(data).map_err(|e| Error::from_io(ErrorKind::Io, "writing body", &e))
            }
            Sink::File(path, Some(f)) => f
                .write_all(data)
                .map_err(|e| Error::from_io(ErrorKind::Io, &format!("writing {}", path.display()), &e)),
            Sink::File(path, None) => {
                Err(Error::new(ErrorKind::Io, format!("{} was not opened", path.display())))
            }
        }
    }

    pub(crate) fn finish(&mut self) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Sink::Collect(v) => Ok(Some(std::mem::take(v))),
            Sink::Writer(w) => {
                w.flush().map(|_| None).map_err(|e| Error::from_io(ErrorKind::Io, "flushing body", &e))
            }
            Sink::File(_, f) => {
                // Close the file now rather than when the request is dropped.
                f.take();
                Ok(None)
            }
            Sink::Events => Ok(None),
        }
    }
}

/// A body held in memory, shared so a 307/308 can send it again.
pub(crate) type InMemoryBody = std::sync::Arc<[u8]>;

pub(crate) struct Req {
    pub(crate) id: RequestId,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Headers,
    pub(crate) body: Body,
    /// The body was a one-shot reader that has been consumed.
    pub(crate) body_spent: bool,
    pub(crate) sink: Sink,
    pub(crate) t: Timeouts,
    pub(crate) max_redirects: u32,
    pub(crate) max_body: Option<u64>,
    pub(crate) origin: usize,
    /// Connection slab index while attached to one.
    pub(crate) conn: Option<usize>,
    pub(crate) paused: bool,
    pub(crate) stats: Stats,
    pub(crate) queued_at: Instant,
    /// Left the queue (first time); the total deadline counts from here.
    pub(crate) started: Option<Instant>,
    pub(crate) total_deadline: Option<Instant>,
    pub(crate) response: Option<Response>,
    /// Draining the body of a redirect before following it.
    pub(crate) redirect: Option<Hop>,
    /// Must not use a pooled connection (retry after a reused one failed).
    pub(crate) force_fresh: bool,
    /// Open body stream while the request is being sent.
    pub(crate) body_reader: Option<Box<dyn Read + Send>>,
}

impl Req {
    pub(crate) fn new(
        id: RequestId,
        r: Request,
        t: Timeouts,
        max_redirects: u32,
        origin: usize,
        now: Instant,
    ) -> Req {
        Req {
            id,
            method: r.method,
            url: r.url,
            headers: r.headers,
            body: r.body,
            body_spent: false,
            sink: Sink::from_target(r.target),
            t,
            max_redirects,
            max_body: r.options.max_body,
            origin,
            conn: None,
            paused: false,
            stats: Stats::default(),
            queued_at: now,
            started: None,
            total_deadline: None,
            response: None,
            redirect: None,
            force_fresh: false,
            body_reader: None,
        }
    }

    /// Origin-form request target (RFC 9112 §3.2.1): path and query, never the fragment.
    pub(crate) fn target(&self) -> String {
        let path = self.url.path();
        let path = if path.is_empty() { "/" } else { path };
        match self.url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        }
    }

    /// The Host header value (RFC 9110 §7.2): host, and the port when not the default.
    pub(crate) fn host_header(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }

    /// The request carries content (an empty body sends none).
    pub(crate) fn has_body(&self) -> bool {
        !matches!(self.body, Body::Empty)
    }

    /// Whether the body can be sent again (for a retry or a 307/308).
    pub(crate) fn body_replayable(&self) -> bool {
        !self.body_spent
    }

    /// Open the body for sending: its framing, and the bytes or stream behind it.
    pub(crate) fn open_body(&mut self) -> Result<(BodyLen, Option<InMemoryBody>), Error> {
        self.body_reader = None;
        if self.body_spent {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "the request body was a one-shot reader and cannot be sent again",
            ));
        }
        match &mut self.body {
            Body::Empty => {
                // RFC 9110 §8.6: a POST/PUT/PATCH without a body still says so.
                let len = match self.method {
                    Method::Post | Method::Put | Method::Patch => BodyLen::Known(0),
                    _ => BodyLen::None,
                };
                Ok((len, None))
            }
            Body::Bytes(b) => Ok((BodyLen::Known(b.len() as u64), Some(b.clone()))),
            Body::File(path) => {
                let f = File::open(&*path).map_err(|e| {
                    Error::from_io(ErrorKind::Io, &format!("cannot open body file {}", path.display()), &e)
                })?;
                let len = f
                    .metadata()
                    .map_err(|e| {
                        Error::from_io(ErrorKind::Io, &format!("cannot stat {}", path.display()), &e)
                    })?
                    .len();
                self.body_reader = Some(Box::new(f));
                Ok((BodyLen::Known(len), None))
            }
            Body::Reader(r, len) => {
                let len = *len;
                let r = std::mem::replace(r, Box::new(std::io::empty()));
                self.body_spent = true;
                self.body_reader = Some(r);
                Ok((len.map_or(BodyLen::Chunked, BodyLen::Known), None))
            }
        }
    }
}
