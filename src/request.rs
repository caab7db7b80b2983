//! What a caller submits: method, URL, headers, an optional body, where the response
//! body should go, and per-request overrides of the client's timeouts.

use crate::error::{Error, ErrorKind};
use crate::headers::Headers;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Identifies a submitted request in every event about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub(crate) u64);

impl RequestId {
    /// The id as a number (unique within one client, increasing in submit order).
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// An HTTP method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// OPTIONS
    Options,
    /// Any other token (checked when parsed).
    Other(String),
}

impl Method {
    /// Parse a method token (RFC 9110 §9.1: a `token`, case-sensitive).
    pub fn parse(s: &str) -> Result<Method, Error> {
        Ok(match s {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            _ if !s.is_empty() && s.bytes().all(is_tchar) => Method::Other(s.to_string()),
            _ => return Err(Error::new(ErrorKind::InvalidRequest, format!("invalid method {s:?}"))),
        })
    }

    /// The method as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
            Method::Other(s) => s,
        }
    }

    /// Safe to repeat (RFC 9110 §9.2.2): may be retried on a fresh connection.
    pub fn is_idempotent(&self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Put | Method::Delete | Method::Options)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 9110 §5.6.2 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A request body.
pub enum Body {
    /// No body.
    Empty,
    /// Bytes in memory (shared, so a 307/308 redirect can send them again cheaply).
    Bytes(Arc<[u8]>),
    /// A file, streamed; its length is taken when the request is sent. Re-opened for
    /// a 307/308 redirect.
    File(PathBuf),
    /// Any reader, streamed; with a known length it is sent with `Content-Length`,
    /// otherwise chunked. Cannot be replayed: a 307/308 redirect of it fails.
    Reader(Box<dyn Read + Send>, Option<u64>),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::File(p) => write!(f, "File({})", p.display()),
            Body::Reader(_, len) => write!(f, "Reader({len:?})"),
        }
    }
}

/// Where a response body goes.
pub enum BodyTarget {
    /// Delivered as [`crate::Event::Body`] events (the default).
    Events,
    /// Collected into memory (up to [`crate::Config::max_collect`]) and handed over in
    /// [`crate::Event::Done`].
    Collect,
    /// Written to any writer as it arrives.
    Writer(Box<dyn std::io::Write + Send>),
    /// Written to a file (created or truncated) as it arrives.
    File(PathBuf),
}

impl fmt::Debug for BodyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyTarget::Events => f.write_str("Events"),
            BodyTarget::Collect => f.write_str("Collect"),
            BodyTarget::Writer(_) => f.write_str("Writer"),
            BodyTarget::File(p) => write!(f, "File({})", p.display()),
        }
    }
}

/// Per-request overrides of the client's [`crate::Config`].
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Overrides `Config::connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// Overrides `Config::head_timeout`.
    pub head_timeout: Option<Duration>,
    /// Overrides `Config::idle_timeout`.
    pub idle_timeout: Option<Duration>,
    /// Overrides `Config::total_timeout`.
    pub total_timeout: Option<Duration>,
    /// Overrides `Config::max_redirects` (0: do not follow).
    pub max_redirects: Option<u32>,
    /// Fail with `BodyLimit` past this many body bytes.
    pub max_body: Option<u64>,
}

/// One HTTP request, built with chained setters.
#[derive(Debug)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: Headers,
    pub(crate) body: Body,
    pub(crate) target: BodyTarget,
    pub(crate) options: RequestOptions,
}

impl Request {
    /// A request with `method` for `url` (`http` or `https` only).
    pub fn new(method: Method, url: &str) -> Result<Request, Error> {
        let url = parse_url(url)?;
        Ok(Request::from_url(method, url))
    }

    /// A request for an already parsed URL (checked to be `http`/`https` with a host
    /// when submitted).
    pub fn from_url(method: Method, url: Url) -> Request {
        Request {
            method,
            url,
            headers: Headers::new(),
            body: Body::Empty,
            target: BodyTarget::Events,
            options: RequestOptions::default(),
        }
    }

    /// `GET url`.
    pub fn get(url: &str) -> Result<Request, Error> {
        Request::new(Method::Get, url)
    }

    /// `HEAD url`.
    pub fn head(url: &str) -> Result<Request, Error> {
        Request::new(Method::Head, url)
    }

    /// `POST url` with `body`.
    pub fn post(url: &str, body: impl Into<Vec<u8>>) -> Result<Request, Error> {
        Ok(Request::new(Method::Post, url)?.body_bytes(body))
    }

    /// Add a header field. Names must be tokens and values must not hold CR, LF or
    /// NUL; a bad one makes [`crate::Client::submit`] fail with `InvalidRequest`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Request {
        self.headers.push(name, value);
        self
    }

    /// Send `body` from memory.
    pub fn body_bytes(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = Body::Bytes(Arc::from(body.into()));
        self
    }

    /// Stream the body from a file.
    pub fn body_file(mut self, path: impl Into<PathBuf>) -> Request {
        self.body = Body::File(path.into());
        self
    }

    /// Stream the body from a reader (`len` known: `Content-Length`; else chunked).
    pub fn body_reader(mut self, reader: impl Read + Send + 'static, len: Option<u64>) -> Request {
        self.body = Body::Reader(Box::new(reader), len);
        self
    }

    /// Where the response body goes (default: events).
    pub fn target(mut self, target: BodyTarget) -> Request {
        self.target = target;
        self
    }

    /// Per-request overrides.
    pub fn options(mut self, options: RequestOptions) -> Request {
        self.options = options;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The caller's header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Check header names and values (RFC 9110 §5.1, §5.5) so nothing a caller passes
    /// can split the request.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_url(&self.url)?;
        for (name, value) in self.headers.iter() {
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(Error::new(ErrorKind::InvalidRequest, format!("invalid header name {name:?}")));
            }
            if value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(Error::new(
                    ErrorKind::InvalidRequest,
                    format!("header {name} has a CR, LF or NUL in its value"),
                ));
            }
        }
        Ok(())
    }
}

/// Parse and check an absolute `http`/`https` URL.
pub fn parse_url(s: &str) -> Result<Url, Error> {
    let url =
        Url::parse(s.trim()).map_err(|e| Error::new(ErrorKind::InvalidUrl, format!("{e}")).with_url(s))?;
    check_url(&url)?;
    Ok(url)
}

fn check_url(url: &Url) -> Result<(), Error> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::new(ErrorKind::InvalidUrl, format!("unsupported scheme {other:?}"))
                .with_url(url.as_str()))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::new(ErrorKind::InvalidUrl, "no host").with_url(url.as_str()));
    }
    Ok(())
}
