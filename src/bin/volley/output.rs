//! What volley prints on stderr when it is not drawing a progress display: one line per
//! event, in fixed formats that scripts may parse.
//!
//! ```text
//! [*] saving URL to PATH                      a download started (not with -q)
//! [+] URL -> PATH (BYTES in SECS s)           it finished: `(4096 in 0.01s)`, raw byte count,
//!                                             seconds with 2 decimals (not with -q)
//! [-] URL: ERROR                              it failed (always)
//! N ok, M failed, SIZE in SECS s (RATE)       the summary (always):
//!                                             `3 ok, 1 failed, 1.5 MiB in 2.00s (768.0 KiB/s)`
//! > GET /x HTTP/1.1  /  < HTTP/1.1 200 OK     request/response heads (only with -v)
//! ```
//! Sizes are binary: `512 B`, `1.5 KiB`, `12.3 MiB` (one decimal above 1 KiB).
//! Control characters from the network (a reason phrase, a header) are shown escaped
//! (`\u{1b}`) so a server cannot drive the terminal.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;
use volley::Url;

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors and the summary.
    Quiet,
    /// Start, finish, error lines and the summary.
    Normal,
    /// `-v`: also request and response heads.
    Verbose,
}

impl Verbosity {
    /// From the `-q` and `-v` flags (clap makes them exclusive).
    pub fn from_flags(quiet: bool, verbose: bool) -> Verbosity {
        if quiet {
            Verbosity::Quiet
        } else if verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        }
    }
}

/// `s` with control characters escaped (`\n`, `\u{1b}`), everything else unchanged.
pub fn escape_control(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A byte count for people: `512 B`, `1.5 KiB`, `12.3 MiB`, up to EiB.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    // Promote at 1023.95 so rounding never shows `1024.0 KiB`.
    while v >= 1023.95 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Bytes per second for people: `12.3 MiB/s`. A zero `elapsed` counts as 1 ms.
pub fn human_rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let per_sec = (bytes as f64 / secs).min(u64::MAX as f64) as u64;
    format!("{}/s", human_bytes(per_sec))
}

/// Seconds with two decimals: `0.01s`.
pub fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

/// `[*] saving URL to PATH`
pub fn saving_line(url: &str, path: &str) -> String {
    format!("[*] saving {} to {}", escape_control(url), escape_control(path))
}

/// `[+] URL -> PATH (BYTES in SECS)`
pub fn done_line(url: &str, path: &str, bytes: u64, elapsed: Duration) -> String {
    format!("[+] {} -> {} ({bytes} in {})", escape_control(url), escape_control(path), secs(elapsed))
}

/// `[-] URL: ERROR`
pub fn failed_line(url: &str, error: &str) -> String {
    format!("[-] {}: {}", escape_control(url), escape_control(error))
}

/// `N ok, M failed, SIZE in SECS (RATE)`
pub fn summary_line(ok: u64, failed: u64, bytes: u64, elapsed: Duration) -> String {
    format!(
        "{ok} ok, {failed} failed, {} in {} ({})",
        human_bytes(bytes),
        secs(elapsed),
        human_rate(bytes, elapsed)
    )
}

/// The request head as `> ` lines: `> GET /x?y HTTP/1.1`, `> Host: h`, then `headers`.
pub fn request_head(method: &str, url: &Url, headers: &volley::Headers) -> String {
    let mut target = url.path().to_string();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let mut out = format!("> {} {} HTTP/1.1\n", escape_control(method), escape_control(&target));
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => String::new(),
    };
    let _ = writeln!(out, "> Host: {}", escape_control(&host));
    push_headers(&mut out, '>', headers);
    out
}

/// The response head as `< ` lines: `< HTTP/1.1 200 OK`, then every header.
pub fn response_head(resp: &volley::Response) -> String {
    let version = match resp.version {
        volley::Version::Http10 => "HTTP/1.0",
        volley::Version::Http11 => "HTTP/1.1",
    };
    let mut out = format!("< {version} {}", resp.status);
    if !resp.reason.is_empty() {
        out.push(' ');
        out.push_str(&escape_control(&resp.reason));
    }
    out.push('\n');
    push_headers(&mut out, '<', &resp.headers);
    out
}

fn push_headers(out: &mut String, mark: char, headers: &volley::Headers) {
    for (name, value) in headers.iter() {
        let value = String::from_utf8_lossy(value);
        let _ = writeln!(out, "{mark} {}: {}", escape_control(name), escape_control(&value));
    }
}

/// Prints the event lines to a writer (stderr in the binary) according to verbosity.
/// Write errors are returned; the driver ignores a closed stderr rather than fail downloads.
pub struct Printer<W: Write> {
    out: W,
    verbosity: Verbosity,
}

impl<W: Write> Printer<W> {
    /// A printer to `out`.
    pub fn new(out: W, verbosity: Verbosity) -> Printer<W> {
        Printer { out, verbosity }
    }

    /// The verbosity.
    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    fn line(&mut self, s: &str) -> io::Result<()> {
        writeln!(self.out, "{s}")
    }

    /// A download started.
    pub fn saving(&mut self, url: &str, path: &str) -> io::Result<()> {
        if self.verbosity >= Verbosity::Normal {
            self.line(&saving_line(url, path))?;
        }
        Ok(())
    }

    /// A download finished.
    pub fn done(&mut self, url: &str, path: &str, bytes: u64, elapsed: Duration) -> io::Result<()> {
        if self.verbosity >= Verbosity::Normal {
            self.line(&done_line(url, path, bytes, elapsed))?;
        }
        Ok(())
    }

    /// A download failed (printed even with -q).
    pub fn failed(&mut self, url: &str, error: &str) -> io::Result<()> {
        self.line(&failed_line(url, error))
    }

    /// A head, already formatted by [`request_head`] or [`response_head`] (only with -v).
    pub fn head(&mut self, text: &str) -> io::Result<()> {
        if self.verbosity >= Verbosity::Verbose {
            self.out.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    /// The final summary (printed even with -q).
    pub fn summary(&mut self, ok: u64, failed: u64, bytes: u64, elapsed: Duration) -> io::Result<()> {
        self.line(&summary_line(ok, failed, bytes, elapsed))?;
        self.out.flush()
    }

    /// The writer back (for tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests;
