//! Client-wide configuration: limits, timeouts, TLS trust and DNS settings. Every size
//! has a limit and every wait a timer; the defaults are listed in the README.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the client trusts servers.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// Extra trusted roots, as PEM files (each may hold several certificates).
    pub extra_roots_pem: Vec<PathBuf>,
    /// Extra trusted roots, as PEM text (for embedding programs and tests).
    pub extra_roots_pem_data: Vec<Vec<u8>>,
    /// Use only the extra roots, not the built-in webpki roots.
    pub only_extra_roots: bool,
    /// Accept any certificate and host name. Dangerous: for testing only.
    pub insecure: bool,
    /// Client certificate chain (PEM file) for mutual TLS.
    pub client_cert_pem: Option<PathBuf>,
    /// Client private key (PEM file) for mutual TLS.
    pub client_key_pem: Option<PathBuf>,
}

/// How names are resolved.
#[derive(Debug, Clone, Default)]
pub struct DnsConfig {
    /// Name servers to use instead of those in resolv.conf (`127.0.0.1:5353`).
    pub servers: Vec<SocketAddr>,
    /// Path of resolv.conf (default `/etc/resolv.conf`).
    pub resolv_conf: Option<PathBuf>,
    /// Path of the hosts file (default `/etc/hosts`).
    pub hosts_file: Option<PathBuf>,
    /// Upper bound on how long a positive answer is cached (default 300 s).
    pub max_ttl: Option<Duration>,
    /// How many names the cache holds (default 10,000).
    pub cache_size: Option<usize>,
}

/// Everything a [`crate::Client`] needs to know up front.
#[derive(Debug, Clone)]
pub struct Config {
    /// Open connections at most, over all origins (default 64).
    pub max_connections: usize,
    /// Open connections at most per origin (scheme, host, port) (default 6).
    pub max_per_origin: usize,
    /// TCP connect timeout (including Happy Eyeballs racing) (default 10 s).
    pub connect_timeout: Duration,
    /// From request written to complete response head (default 30 s).
    pub head_timeout: Duration,
    /// No byte received for this long fails the request (default 30 s).
    pub idle_timeout: Duration,
    /// Whole-request deadline, from leaving the queue to the body's end (default none).
    pub total_timeout: Option<Duration>,
    /// How long an idle pooled connection is kept (default 15 s).
    pub pool_idle_timeout: Duration,
    /// Idle pooled connections kept per origin (default 6).
    pub pool_max_idle_per_origin: usize,
    /// Redirects followed at most (default 10); 0 disables following.
    pub max_redirects: u32,
    /// Largest response head, in bytes (default 64 KiB).
    pub max_head_size: usize,
    /// Most header fields in a response head (default 100).
    pub max_headers: usize,
    /// Largest body collected into memory by [`crate::BodyTarget::Collect`] (default 64 MiB).
    pub max_collect: usize,
    /// The default `User-Agent` (default `volley/<version>`).
    pub user_agent: String,
    /// Delay between Happy Eyeballs connection attempts (RFC 8305 §5, default 250 ms).
    pub connection_attempt_delay: Duration,
    /// Bytes read from one socket per readiness event before others get a turn (default 256 KiB).
    pub read_quota: usize,
    /// Total download rate cap in bytes per second (default none).
    pub max_download_rate: Option<u64>,
    /// Requests outstanding at most on one connection (HTTP/1.1 pipelining, RFC 9112
    /// §9.3.2); 1 turns pipelining off (default 8). Only GET and HEAD without a body are
    /// pipelined, only once the server has answered on that connection with a
    /// persistent HTTP/1.1 response, fewer the bigger the responses; requests left
    /// unanswered when a connection closes are sent again on another connection, and
    /// an origin that drops them is not pipelined to again.
    pub pipeline_depth: usize,
    /// TLS trust and client certificates.
    pub tls: TlsConfig,
    /// DNS servers, files and cache.
    pub dns: DnsConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_connections: 64,
            max_per_origin: 6,
            connect_timeout: Duration::from_secs(10),
            head_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            total_timeout: None,
            pool_idle_timeout: Duration::from_secs(15),
            pool_max_idle_per_origin: 6,
            max_redirects: 10,
            max_head_size: 64 * 1024,
            max_headers: 100,
            max_collect: 64 * 1024 * 1024,
            user_agent: concat!("volley/", env!("CARGO_PKG_VERSION")).to_string(),
            connection_attempt_delay: Duration::from_millis(250),
            read_quota: 256 * 1024,
            max_download_rate: None,
            pipeline_depth: 8,
            tls: TlsConfig::default(),
            dns: DnsConfig::default(),
        }
    }
}
