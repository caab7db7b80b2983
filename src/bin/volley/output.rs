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
    format!(
        "[*] saving {} to {}",
        escape_control(url),
        escape_control(path)
    )
}

/// `[+] URL -> PATH (BYTES in SECS)`
pub fn done_line(url: &str, path: &str, bytes: u64, elapsed: Duration) -> String {
    format!(
        "[+] {} -> {} ({bytes} in {})",
        escape_control(url),
        escape_control(path),
        secs(elapsed)
    )
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
    let mut out = format!(
        "> {} {} HTTP/1.1\n",
        escape_control(method),
        escape_control(&target)
    );
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
        let _ = writeln!(
            out,
            "{mark} {}: {}",
            escape_control(name),
            escape_control(&value)
        );
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
    pub fn summary(
        &mut self,
        ok: u64,
        failed: u64,
        bytes: u64,
        elapsed: Duration,
    ) -> io::Result<()> {
        self.line(&summary_line(ok, failed, bytes, elapsed))?;
        self.out.flush()
    }

    /// The writer back (for tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 19), "1.5 MiB");
        assert_eq!(human_bytes((1 << 20) - 1), "1.0 MiB");
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn rates_and_seconds() {
        assert_eq!(human_rate(12_897_485, Duration::from_secs(1)), "12.3 MiB/s");
        assert_eq!(human_rate(0, Duration::ZERO), "0 B/s");
        assert_eq!(human_rate(1024, Duration::ZERO), "1000.0 KiB/s");
        assert_eq!(secs(Duration::from_millis(5)), "0.01s");
        assert_eq!(secs(Duration::from_millis(12_345)), "12.35s");
    }

    #[test]
    fn event_lines() {
        assert_eq!(
            saving_line("http://h/a", "./a"),
            "[*] saving http://h/a to ./a"
        );
        assert_eq!(
            done_line("http://h/a", "./a", 4096, Duration::from_millis(10)),
            "[+] http://h/a -> ./a (4096 in 0.01s)"
        );
        assert_eq!(
            failed_line("http://h/a", "HTTP 404 Not\u{1b}[2J Found"),
            "[-] http://h/a: HTTP 404 Not\\u{1b}[2J Found"
        );
        assert_eq!(
            summary_line(3, 1, 3 << 19, Duration::from_secs(2)),
            "3 ok, 1 failed, 1.5 MiB in 2.00s (768.0 KiB/s)"
        );
    }

    #[test]
    fn heads() {
        let url = Url::parse("http://h:8080/x?y=1").unwrap();
        let mut hs = volley::Headers::new();
        hs.push("Accept", "*/*");
        assert_eq!(
            request_head("GET", &url, &hs),
            "> GET /x?y=1 HTTP/1.1\n> Host: h:8080\n> Accept: */*\n"
        );
        let mut headers = volley::Headers::new();
        headers.push("Content-Length", "3");
        headers.push("X-Evil", b"a\x1bb\xff".to_vec());
        let resp = volley::Response {
            status: 200,
            reason: "OK".into(),
            version: volley::Version::Http11,
            headers,
            url: url.clone(),
        };
        assert_eq!(
            response_head(&resp),
            "< HTTP/1.1 200 OK\n< Content-Length: 3\n< X-Evil: a\\u{1b}b\u{fffd}\n"
        );
        let resp = volley::Response {
            reason: String::new(),
            version: volley::Version::Http10,
            ..resp
        };
        assert!(response_head(&resp).starts_with("< HTTP/1.0 200\n"));
    }

    #[test]
    fn printer_respects_verbosity() {
        let run = |v: Verbosity| {
            let mut p = Printer::new(Vec::new(), v);
            p.saving("u", "p").unwrap();
            p.head("> GET / HTTP/1.1\n").unwrap();
            p.done("u", "p", 1, Duration::ZERO).unwrap();
            p.failed("v", "boom").unwrap();
            p.summary(1, 1, 1, Duration::from_secs(1)).unwrap();
            String::from_utf8(p.into_inner()).unwrap()
        };
        assert_eq!(
            run(Verbosity::Quiet),
            "[-] v: boom\n1 ok, 1 failed, 1 B in 1.00s (1 B/s)\n"
        );
        let normal = run(Verbosity::Normal);
        assert!(normal.starts_with("[*] saving u to p\n[+] u -> p (1 in 0.00s)\n[-] v: boom\n"));
        assert!(!normal.contains("> GET"));
        assert!(run(Verbosity::Verbose).contains("[*] saving u to p\n> GET / HTTP/1.1\n[+]"));
        assert_eq!(Verbosity::from_flags(true, false), Verbosity::Quiet);
        assert_eq!(Verbosity::from_flags(false, true), Verbosity::Verbose);
        assert_eq!(Verbosity::from_flags(false, false), Verbosity::Normal);
    }
}
