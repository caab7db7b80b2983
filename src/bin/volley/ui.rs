//! Everything the driver tells the user: the `[*]`/`[+]`/`[-]` lines or the live
//! progress display on stderr, the `--report` records, and the counters behind the
//! final summary. One place, so the driver's logic never decides how things look.

use crate::output::{failed_line, request_head, response_head, Printer, Verbosity};
use crate::progress::Progress;
use crate::report::{Record, ReportWriter};
use std::io;
use std::time::{Duration, Instant};

/// Stderr output, report and counters.
pub struct Ui {
    printer: Printer<io::Stderr>,
    progress: Option<Progress>,
    report: Option<ReportWriter>,
    report_failed: bool,
    /// Downloads that succeeded.
    pub ok: u64,
    /// Downloads that failed (or were cancelled, or never started).
    pub failed: u64,
    /// Body bytes received in this run.
    pub bytes: u64,
    started: Instant,
}

impl Ui {
    /// `progress`: draw the live display (stderr is a terminal and not `-q`).
    pub fn new(verbosity: Verbosity, progress: bool, report: Option<ReportWriter>, started: Instant) -> Ui {
        Ui {
            printer: Printer::new(io::stderr(), verbosity),
            progress: progress.then(|| Progress::stderr(started)),
            report,
            report_failed: false,
            ok: 0,
            failed: 0,
            bytes: 0,
            started,
        }
    }

    fn verbosity(&self) -> Verbosity {
        self.printer.verbosity()
    }

    /// Whether the progress display is drawn (then the loop must tick it).
    pub fn has_progress(&self) -> bool {
        self.progress.is_some()
    }

    /// The number of URLs, once known.
    pub fn set_total(&mut self, total: Option<u64>) {
        if let Some(p) = &mut self.progress {
            p.state.set_total(total);
        }
    }

    /// A line that is neither an event nor an error (retries, notes); not with `-q`.
    pub fn note(&mut self, line: &str) {
        if self.verbosity() < Verbosity::Normal {
            return;
        }
        match &self.progress {
            Some(p) if self.verbosity() >= Verbosity::Verbose => p.println(line),
            Some(_) => {}
            None => eprintln!("{line}"),
        }
    }

    /// A line shown only with `-v`.
    pub fn verbose_note(&mut self, line: &str) {
        if self.verbosity() >= Verbosity::Verbose {
            self.head_text(&format!("{line}\n"));
        }
    }

    /// A warning: always shown.
    pub fn warn(&mut self, msg: &str) {
        let line = format!("volley: warning: {msg}");
        match &self.progress {
            Some(p) => p.println(&line),
            None => eprintln!("{line}"),
        }
    }

    /// Download `key` started writing to `path`.
    pub fn saving(&mut self, key: u64, url: &str, path: &str, total: Option<u64>) {
        match &mut self.progress {
            Some(p) => {
                let name = path.rsplit('/').next().unwrap_or(path);
                p.state.start(key, name, total);
            }
            None => {
                let _ = self.printer.saving(url, path);
            }
        }
    }

    /// The size of download `key` became known.
    pub fn set_size(&mut self, key: u64, total: Option<u64>) {
        if let Some(p) = &mut self.progress {
            p.state.set_size(key, total);
        }
    }

    /// `n` body bytes arrived for download `key`.
    pub fn add_bytes(&mut self, key: u64, n: u64) {
        self.bytes += n;
        if let Some(p) = &mut self.progress {
            p.state.add_bytes(key, n);
        }
    }

    /// Download `key` finished.
    pub fn done(&mut self, key: u64, url: &str, path: &str, bytes: u64, elapsed: Duration) {
        self.ok += 1;
        match &mut self.progress {
            Some(p) => p.state.finish(key, true),
            None => {
                let _ = self.printer.done(url, path, bytes, elapsed);
            }
        }
    }

    /// Download `key` failed.
    pub fn failed(&mut self, key: u64, url: &str, error: &str) {
        self.failed += 1;
        match &mut self.progress {
            Some(p) => {
                p.state.finish(key, false);
                p.println(&failed_line(url, error));
            }
            None => {
                let _ = self.printer.failed(url, error);
            }
        }
    }

    /// `-v`: a request head.
    pub fn request_head(&mut self, method: &str, url: &volley::Url, headers: &volley::Headers) {
        if self.verbosity() >= Verbosity::Verbose {
            self.head_text(&request_head(method, url, headers));
        }
    }

    /// `-v`: a response head.
    pub fn response_head(&mut self, resp: &volley::Response) {
        if self.verbosity() >= Verbosity::Verbose {
            self.head_text(&response_head(resp));
        }
    }

    fn head_text(&mut self, text: &str) {
        match &self.progress {
            Some(p) => p.println(text.trim_end()),
            None => {
                let _ = self.printer.head(text);
            }
        }
    }

    /// Write a report record (a failed write is warned about once, then ignored).
    pub fn record(&mut self, rec: &Record) {
        let Some(r) = &mut self.report else { return };
        if let Err(e) = r.write(rec) {
            if !self.report_failed {
                self.report_failed = true;
                self.warn(&format!("cannot write the report: {e}"));
            }
        }
    }

    /// Redraw the display (rate-limited inside).
    pub fn tick(&mut self, now: Instant) {
        if let Some(p) = &mut self.progress {
            p.tick(now);
        }
    }

    /// Remove the display and print the summary line.
    pub fn summary(&mut self) {
        if let Some(p) = &mut self.progress {
            p.finish();
        }
        let _ = self.printer.summary(self.ok, self.failed, self.bytes, self.started.elapsed());
    }
}
