//! The command line: every option of `volley`, with its help text, and the parsers for
//! option values (rates, sizes, durations, `K/N`, headers, DNS servers). Parse errors go
//! through clap, which prints them with the option's name and exits with status 2.

use crate::shard::Shard;
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

mod values;
pub use values::*;

const LONG_ABOUT: &str = "\
Download many URLs at once: hundreds to millions, over one single-threaded HTTP/1.1 \
client with connection reuse, per-host limits, retries and resumable downloads.

URLs come from the command line and/or an input file (-i). Each is saved in the output \
directory (-P) under the last segment of its path (index.html if empty), written first to \
NAME.part and renamed when complete; existing files are never replaced unless --overwrite \
is given (NAME.1, NAME.2, ... are used instead).

URLs may hold curl-style globs, expanded lazily: [1-100], [001-100], [0-100:10], [a-z], \
{a,b,c}; escape with \\[ or turn globbing off with -g.

Examples:
  volley https://example.org/file.iso
  volley -P imgs 'https://cdn.example.org/img/[0001-9999].jpg'
  volley -i urls.txt -j 64 --per-host 4 --report report.jsonl
  volley -c -O debian.iso https://example.org/debian.iso
  volley --cat 'https://example.org/part{1,2,3}.csv' > all.csv
  volley -i urls.txt --shard 2/8        # the second of 8 machines";

const AFTER_HELP: &str = "\
Sizes and rates take an optional binary suffix: k (1024), M, G, T (e.g. 500k, 1.5M, 64M).

Exit status: 0 if every download succeeded, 1 if some failed, 2 on a usage or configuration \
error.";

/// Every option of the `volley` command.
#[derive(Debug, Clone, Parser)]
#[command(name = "volley", version, about = "Download many URLs at once", long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// URLs (or glob patterns) to download.
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    // ---- input -------------------------------------------------------------------
    /// Read URLs from FILE ('-' for stdin), one per line. Blank lines and lines starting
    /// with '#' are skipped. Indented lines below a URL set options for it:
    /// 'out=NAME' (output file name) and 'checksum=sha-256=HEX' (verified after download).
    #[arg(short = 'i', long, value_name = "FILE", help_heading = "Input")]
    pub input_file: Option<String>,

    /// Do not expand [..] and {..} globs in URLs: take them literally.
    #[arg(short = 'g', long = "no-glob", help_heading = "Input")]
    pub no_glob: bool,

    /// Only download URLs whose host falls into shard K of N (1 <= K <= N). Hosts are
    /// assigned by a stable hash, so N machines given the same list and --shard 1/N ..
    /// N/N split it without overlap.
    #[arg(long, value_name = "K/N", value_parser = Shard::parse, help_heading = "Input")]
    pub shard: Option<Shard>,

    // ---- output ------------------------------------------------------------------
    /// Save files into DIR.
    #[arg(short = 'P', long, value_name = "DIR", default_value = ".", help_heading = "Output")]
    pub directory: PathBuf,

    /// Save the (single) URL to FILE; '-' writes the body to stdout.
    #[arg(short = 'O', long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<String>,

    /// Recreate the URL's directories under DIR: HOST[_PORT]/dir/.../NAME.
    #[arg(short = 'x', long, help_heading = "Output")]
    pub force_directories: bool,

    /// Name files after the server's Content-Disposition header when it gives a name
    /// (only its last path component is used).
    #[arg(long, help_heading = "Output")]
    pub content_disposition: bool,

    /// Replace existing files instead of choosing NAME.1, NAME.2, ...
    #[arg(long, help_heading = "Output")]
    pub overwrite: bool,

    /// Resume partial downloads: continue NAME.part with a Range request, and skip
    /// files that are already complete.
    #[arg(short = 'c', long = "continue", help_heading = "Output")]
    pub resume: bool,

    /// Write all bodies to stdout, one after another in input order, instead of files.
    /// Later bodies are held in memory (up to --cat-buffer) while an earlier one is
    /// still downloading.
    #[arg(long, conflicts_with_all = ["output", "force_directories", "resume"], help_heading = "Output")]
    pub cat: bool,

    /// With --cat: memory for bodies waiting for their turn; past it they are spilled
    /// to temporary files ($TMPDIR, unlinked at once) until their turn comes.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size, help_heading = "Output")]
    pub cat_buffer: u64,

    /// Download only the first N bytes of each body (suffixes allowed): asked for with
    /// 'Range: bytes=0-(N-1)' and cut locally if the server sends more.
    #[arg(long, value_name = "N", value_parser = parse_size, help_heading = "Output")]
    pub max_bytes: Option<u64>,

    /// Keep the body of failed responses (HTTP status >= 400) as the output file
    /// instead of deleting it.
    #[arg(long, help_heading = "Output")]
    pub save_errors: bool,

    /// Write one JSON line per URL (url, final_url, status, path, bytes, elapsed_ms,
    /// attempts, resumed_from, error) to FILE; '-' for stdout.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub report: Option<String>,

    /// Print only errors and the final summary.
    #[arg(short = 'q', long, conflicts_with = "verbose", help_heading = "Output")]
    pub quiet: bool,

    /// Also print every request and response head.
    #[arg(short = 'v', long, help_heading = "Output")]
    pub verbose: bool,

    // ---- connections -------------------------------------------------------------
    /// Download up to N URLs at the same time (open connections at most).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 16, value_parser = parse_count, help_heading = "Connections")]
    pub parallel: usize,

    /// Open at most N connections to one host (scheme, host and port).
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = parse_count, help_heading = "Connections")]
    pub per_host: usize,

    /// Send up to N requests on one connection before the first is answered (HTTP/1.1
    /// pipelining); 1 turns it off. Only GET and HEAD, only to a server that has kept a
    /// connection open, never behind a large file; a server that drops pipelined
    /// requests gets them again one at a time.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = parse_count, help_heading = "Connections")]
    pub pipeline: usize,

    /// Limit the total download rate to RATE bytes per second (e.g. 500k, 2M).
    #[arg(long, value_name = "RATE", value_parser = parse_rate, help_heading = "Connections")]
    pub limit_rate: Option<u64>,

    /// Retry a failed download up to N times after transient failures (connection
    /// refused or reset, timeouts, DNS failures, HTTP 408, 429, 500, 502, 503, 504),
    /// with exponential backoff and honouring Retry-After.
    #[arg(long, value_name = "N", default_value_t = 2, help_heading = "Connections")]
    pub retries: u32,

    /// Give up on a download after SECS seconds in total (default: no limit).
    #[arg(long, value_name = "SECS", value_parser = parse_secs, help_heading = "Timeouts")]
    pub timeout: Option<Duration>,

    /// Time allowed to connect (TCP, all addresses) [default: 10].
    #[arg(long, value_name = "SECS", value_parser = parse_secs, help_heading = "Timeouts")]
    pub connect_timeout: Option<Duration>,

    /// Time allowed from sending the request to the complete response head [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs, help_heading = "Timeouts")]
    pub head_timeout: Option<Duration>,

    /// Fail a download when no byte arrives for SECS seconds [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_secs, help_heading = "Timeouts")]
    pub idle_timeout: Option<Duration>,

    // ---- request -----------------------------------------------------------------
    /// Use METHOD instead of GET (POST with -d or --data-file).
    #[arg(short = 'X', long, value_name = "METHOD", value_parser = parse_method, help_heading = "Request")]
    pub method: Option<String>,

    /// Add a request header, 'Name: value'; repeatable.
    #[arg(short = 'H', long = "header", value_name = "HEADER", value_parser = parse_header, help_heading = "Request")]
    pub headers: Vec<Header>,

    /// Send DATA as the request body (implies POST unless -X is given).
    #[arg(short = 'd', long, value_name = "DATA", help_heading = "Request")]
    pub data: Option<String>,

    /// Send the contents of FILE as the request body (implies POST unless -X is given).
    #[arg(long, value_name = "FILE", conflicts_with = "data", help_heading = "Request")]
    pub data_file: Option<PathBuf>,

    /// Send User-Agent: UA [default: volley/VERSION].
    #[arg(short = 'A', long, value_name = "UA", value_parser = parse_header_value, help_heading = "Request")]
    pub user_agent: Option<String>,

    /// Follow at most N redirects.
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Request")]
    pub max_redirects: u32,

    /// Do not follow redirects: a 3xx response is saved as it is.
    #[arg(long, conflicts_with = "max_redirects", help_heading = "Request")]
    pub no_redirect: bool,

    // ---- TLS and DNS -------------------------------------------------------------
    /// Also trust the CA certificates in FILE (PEM); repeatable.
    #[arg(long, value_name = "FILE", help_heading = "TLS and DNS")]
    pub cacert: Vec<PathBuf>,

    /// Trust only the --cacert certificates, not the built-in roots.
    #[arg(long, requires = "cacert", help_heading = "TLS and DNS")]
    pub no_default_roots: bool,

    /// Do not verify server certificates or host names. Dangerous: for testing only.
    #[arg(short = 'k', long, help_heading = "TLS and DNS")]
    pub insecure: bool,

    /// Client certificate chain for mutual TLS (PEM; needs --key).
    #[arg(long, value_name = "FILE", requires = "key", help_heading = "TLS and DNS")]
    pub cert: Option<PathBuf>,

    /// Private key for --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert", help_heading = "TLS and DNS")]
    pub key: Option<PathBuf>,

    /// Resolve names with the DNS server at ADDR (port 53 unless given; IPv6 as
    /// [::1]:5353) instead of those in /etc/resolv.conf; repeatable.
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_dns_server, help_heading = "TLS and DNS")]
    pub dns_server: Vec<SocketAddr>,
}

impl Args {
    /// Checks that involve several options (clap has done the single-option ones).
    pub fn validate(&self) -> Result<(), String> {
        if self.urls.is_empty() && self.input_file.is_none() {
            return Err("no URLs given: pass URLs as arguments or use -i FILE".to_string());
        }
        if self.output.is_some() && (self.urls.len() > 1 || self.input_file.is_some()) {
            return Err("-O/--output takes a single URL (use -P DIR for several)".to_string());
        }
        if self.output.as_deref() == Some("") {
            return Err("-O/--output needs a file name".to_string());
        }
        if self.cat && self.report.as_deref() == Some("-") {
            return Err("--cat and --report - would both write to stdout".to_string());
        }
        if self.output.as_deref() == Some("-") && self.report.as_deref() == Some("-") {
            return Err("-O - and --report - would both write to stdout".to_string());
        }
        Ok(())
    }

    /// The method to send: -X, else POST when a body is given, else GET.
    pub fn effective_method(&self) -> String {
        match &self.method {
            Some(m) => m.clone(),
            None if self.data.is_some() || self.data_file.is_some() => "POST".to_string(),
            None => "GET".to_string(),
        }
    }

    /// The redirect limit after --no-redirect.
    pub fn redirect_limit(&self) -> u32 {
        if self.no_redirect {
            0
        } else {
            self.max_redirects
        }
    }

    /// The library configuration these options ask for; unset options keep the
    /// library's defaults.
    pub fn client_config(&self) -> volley::Config {
        let d = volley::Config::default();
        volley::Config {
            max_connections: self.parallel,
            max_per_origin: self.per_host,
            // Keep every connection of a burst for the next one instead of reopening.
            pool_max_idle_per_origin: self.per_host,
            pipeline_depth: self.pipeline,
            connect_timeout: self.connect_timeout.unwrap_or(d.connect_timeout),
            head_timeout: self.head_timeout.unwrap_or(d.head_timeout),
            idle_timeout: self.idle_timeout.unwrap_or(d.idle_timeout),
            total_timeout: self.timeout.or(d.total_timeout),
            max_redirects: self.redirect_limit(),
            user_agent: self.user_agent.clone().unwrap_or_else(|| d.user_agent.clone()),
            max_download_rate: self.limit_rate,
            tls: volley::TlsConfig {
                extra_roots_pem: self.cacert.clone(),
                only_extra_roots: self.no_default_roots,
                insecure: self.insecure,
                client_cert_pem: self.cert.clone(),
                client_key_pem: self.key.clone(),
                ..volley::TlsConfig::default()
            },
            dns: volley::DnsConfig { servers: self.dns_server.clone(), ..volley::DnsConfig::default() },
            ..d
        }
    }
}

#[cfg(test)]
mod tests;
