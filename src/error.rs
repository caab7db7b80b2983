//! The one public error type. A caller matches on [`ErrorKind`]; the message and the
//! URL say what went wrong in words a person can act on.

use std::fmt;
use std::time::Duration;

/// The phase of a request that a timeout or failure happened in.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Name resolution.
    Dns,
    /// TCP connect.
    Connect,
    /// TLS handshake.
    Tls,
    /// Writing the request head and body.
    Send,
    /// Waiting for the complete response head after the request was written.
    Head,
    /// Receiving the body.
    Body,
    /// No byte received for the idle timeout.
    Idle,
    /// The whole request's deadline.
    Total,
}

impl Phase {
    /// A short lower-case name: `dns`, `connect`, `tls`, `send`, `head`, `body`, `idle`, `total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Send => "send",
            Phase::Head => "head",
            Phase::Body => "body",
            Phase::Idle => "idle",
            Phase::Total => "total",
        }
    }
}

/// Why a name lookup failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsFailure {
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The server failed (SERVFAIL).
    ServFail,
    /// The server refused (REFUSED).
    Refused,
    /// No server answered in time.
    Timeout,
    /// The name exists but has no A/AAAA records.
    NoAddress,
    /// The answer could not be parsed or did not fit the question.
    BadResponse,
    /// Resolution could not start (no servers, socket error).
    Setup,
}

/// Why a TLS session could not be established or was broken.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsFailure {
    /// The certificate chain does not lead to a trusted root.
    UnknownIssuer,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// The certificate is not valid for the host name (or IP address).
    WrongHost,
    /// Some other problem with the certificate.
    BadCertificate,
    /// The server sent a fatal alert.
    Alert,
    /// No protocol version in common.
    Version,
    /// The peer closed without `close_notify` where the data's end depended on it.
    Truncated,
    /// Any other TLS protocol error.
    Protocol,
    /// The local configuration (roots, client certificate) is unusable.
    Config,
}

/// What kind of failure an [`Error`] is; stable for callers to match on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The URL could not be parsed or uses an unsupported scheme.
    InvalidUrl,
    /// A request was built wrong (bad header name or value, bad method).
    InvalidRequest,
    /// Name resolution failed.
    Dns(DnsFailure),
    /// TCP connect failed (refused, unreachable, reset during connect).
    Connect,
    /// TLS failed.
    Tls(TlsFailure),
    /// A timer ran out in the given phase.
    Timeout(Phase),
    /// The peer broke HTTP/1.1 (bad head, bad framing, body cut short, head too large...).
    Protocol,
    /// More redirects than the limit allows.
    TooManyRedirects,
    /// A redirect that cannot be followed (bad `Location`, non-http scheme).
    Redirect,
    /// Local I/O (file sinks, request body files) or a socket error after connect.
    Io,
    /// The request was cancelled by the caller.
    Cancelled,
    /// The body exceeded the configured limit.
    BodyLimit,
    /// The client's configuration is unusable.
    Config,
}

impl ErrorKind {
    /// The short name used in reports: `dns`, `connect`, `tls`, `timeout`, `protocol`,
    /// `redirect`, `io`, `cancelled`, `url`, `request`, `body-limit`, `config`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidUrl => "url",
            ErrorKind::InvalidRequest => "request",
            ErrorKind::Dns(_) => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls(_) => "tls",
            ErrorKind::Timeout(_) => "timeout",
            ErrorKind::Protocol => "protocol",
            ErrorKind::TooManyRedirects | ErrorKind::Redirect => "redirect",
            ErrorKind::Io => "io",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::BodyLimit => "body-limit",
            ErrorKind::Config => "config",
        }
    }
}

/// A failed request or an unusable configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    url: String,
    message: String,
    /// Set when the failure came from an `io::Error`, so callers can tell e.g. ENOSPC.
    io_kind: Option<std::io::ErrorKind>,
    raw_os_error: Option<i32>,
}

impl Error {
    /// A new error of `kind` with a human-readable `message`; the URL is added later
    /// by whoever knows it ([`Error::with_url`]).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, url: String::new(), message: message.into(), io_kind: None, raw_os_error: None }
    }

    /// An error of `kind` caused by an I/O error; the message says `context: io error`.
    pub fn from_io(kind: ErrorKind, context: &str, err: &std::io::Error) -> Error {
        Error {
            kind,
            url: String::new(),
            message: if context.is_empty() { err.to_string() } else { format!("{context}: {err}") },
            io_kind: Some(err.kind()),
            raw_os_error: err.raw_os_error(),
        }
    }

    /// Shorthand for a protocol error.
    pub fn protocol(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Protocol, message)
    }

    /// A protocol error because the peer closed before the response ended (a body cut
    /// short, a head never finished). It carries `io_kind() == Some(UnexpectedEof)`, so a
    /// caller can tell a cut transfer, worth retrying, from a malformed response.
    pub fn truncated(message: impl Into<String>) -> Error {
        let mut e = Error::new(ErrorKind::Protocol, message);
        e.io_kind = Some(std::io::ErrorKind::UnexpectedEof);
        e
    }

    /// Shorthand for a timeout in `phase` after `after`.
    pub fn timeout(phase: Phase, after: Duration) -> Error {
        Error::new(
            ErrorKind::Timeout(phase),
            format!("{} timeout after {:.3}s", phase.as_str(), after.as_secs_f64()),
        )
    }

    /// Attach the URL this error is about (keeps an existing one).
    pub fn with_url(mut self, url: &str) -> Error {
        if self.url.is_empty() {
            self.url = url.to_string();
        }
        self
    }

    /// The kind, for matching.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The URL the failure is about (empty for configuration errors).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What went wrong, without the URL.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `io::ErrorKind` behind this error, if it came from one.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        self.io_kind
    }

    /// The OS error number behind this error, if any (e.g. `ENOSPC`, `EMFILE`).
    pub fn raw_os_error(&self) -> Option<i32> {
        self.raw_os_error
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Dns(_) => "dns error",
            ErrorKind::Connect => "connect error",
            ErrorKind::Tls(_) => "tls error",
            ErrorKind::Timeout(_) => "timeout",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::TooManyRedirects => "too many redirects",
            ErrorKind::Redirect => "bad redirect",
            ErrorKind::Io => "i/o error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::BodyLimit => "body too large",
            ErrorKind::InvalidUrl => "invalid url",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Config => "configuration error",
        };
        if self.url.is_empty() {
            write!(f, "{what}: {}", self.message)
        } else {
            write!(f, "{}: {what}: {}", self.url, self.message)
        }
    }
}

impl std::error::Error for Error {}
