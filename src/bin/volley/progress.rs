//! The live progress display on a terminal: one overall line (files done/total, bytes,
//! speed, ETA) and lines for the few largest active downloads.
//!
//! Driven explicitly: the download loop calls [`Progress::tick`] with its `now`; there is
//! no tick thread (volley is single-threaded, and a thread would race the loop's
//! output). Redraws are limited to 10 per second twice over: `tick` skips calls less
//! than 100 ms apart, and indicatif's `stderr_with_hz(10)` target drops faster draws.
//!
//! All the text is computed by [`ProgressState`] (pure, tested); indicatif only puts the
//! lines on the terminal and redraws them in place. Its own speed/ETA are not used because
//! a line shows different downloads over time. Shown only when stderr is a terminal and
//! not `-q` ([`should_show`]); otherwise the line formats of `output.rs` are used.

use crate::output::{escape_control, human_bytes};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Lines given to active downloads.
pub const ACTIVE_LINES: usize = 3;
/// Longest name shown on an active line, in characters.
const NAME_WIDTH: usize = 40;
/// Least time between redraws.
const REDRAW_EVERY: Duration = Duration::from_millis(100);
/// Time constant of the speed average: long enough to be steady, short enough to follow.
const RATE_TAU_SECS: f64 = 2.0;

/// Whether to draw the display: stderr is a terminal and `-q` was not given.
pub fn should_show(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// An exponentially weighted moving average of bytes per second.
#[derive(Debug, Clone, Default)]
pub struct RateEstimator {
    last: Option<(Instant, u64)>,
    rate: Option<f64>,
}

impl RateEstimator {
    /// Record that `total` bytes had arrived by `now` (samples closer than 100 ms apart
    /// are ignored: too noisy).
    pub fn sample(&mut self, now: Instant, total: u64) {
        let Some((at, bytes)) = self.last else {
            self.last = Some((now, total));
            return;
        };
        let dt = now.saturating_duration_since(at).as_secs_f64();
        if dt < 0.1 {
            return;
        }
        let inst = total.saturating_sub(bytes) as f64 / dt;
        let alpha = 1.0 - (-dt / RATE_TAU_SECS).exp();
        self.rate = Some(match self.rate {
            Some(r) => r + alpha * (inst - r),
            None => inst,
        });
        self.last = Some((now, total));
    }

    /// Bytes per second, once two samples were taken.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }
}

#[derive(Debug, Clone)]
struct Active {
    name: String,
    done: u64,
    total: Option<u64>,
}

/// Everything the display shows, kept by the driver as events arrive.
#[derive(Debug)]
pub struct ProgressState {
    started: Instant,
    ok: u64,
    failed: u64,
    total: Option<u64>,
    bytes: u64,
    rate: RateEstimator,
    active: HashMap<u64, Active>,
}

impl ProgressState {
    /// Nothing done yet; `started` is the run's start.
    pub fn new(started: Instant) -> ProgressState {
        ProgressState {
            started,
            ok: 0,
            failed: 0,
            total: None,
            bytes: 0,
            rate: RateEstimator::default(),
            active: HashMap::new(),
        }
    }

    /// The number of URLs, once known (e.g. after the input file was read to its end).
    pub fn set_total(&mut self, total: Option<u64>) {
        self.total = total;
    }

    /// Download `id` started, saving as `name`, with `total` bytes if known.
    pub fn start(&mut self, id: u64, name: &str, total: Option<u64>) {
        self.active.insert(id, Active { name: escape_control(name), done: 0, total });
    }

    /// The size of download `id` became known (from its response head).
    pub fn set_size(&mut self, id: u64, total: Option<u64>) {
        if let Some(a) = self.active.get_mut(&id) {
            a.total = total;
        }
    }

    /// `n` more body bytes arrived for download `id`.
    pub fn add_bytes(&mut self, id: u64, n: u64) {
        self.bytes += n;
        if let Some(a) = self.active.get_mut(&id) {
            a.done += n;
        }
    }

    /// Download `id` ended.
    pub fn finish(&mut self, id: u64, ok: bool) {
        self.active.remove(&id);
        if ok {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
    }

    /// Take a speed sample.
    pub fn sample(&mut self, now: Instant) {
        self.rate.sample(now, self.bytes);
    }

    /// The ETA: from bytes when everything left is active with known sizes and the speed
    /// is known (the big-file case); else from the average time per finished file.
    pub fn eta(&self, now: Instant) -> Option<Duration> {
        let total = self.total?;
        let done = self.ok + self.failed;
        let left = total.saturating_sub(done);
        if left == 0 {
            return Some(Duration::ZERO);
        }
        let sizes: Option<u64> =
            self.active.values().map(|a| a.total.map(|t| t.saturating_sub(a.done))).sum();
        if let (Some(rest), Some(rate)) = (sizes, self.rate.rate()) {
            if left == self.active.len() as u64 && rate > 0.0 {
                return Duration::try_from_secs_f64(rest as f64 / rate).ok();
            }
        }
        if done == 0 {
            return None;
        }
        let per_file = now.saturating_duration_since(self.started).as_secs_f64() / done as f64;
        Duration::try_from_secs_f64(per_file * left as f64).ok()
    }

    /// The overall line: `120/1000 files (2 failed)  1.5 GiB  12.3 MiB/s  ETA 0:01:05`.
    pub fn overall_line(&self, now: Instant) -> String {
        let done = self.ok + self.failed;
        let mut s = match self.total {
            Some(t) => format!("{done}/{t} files"),
            None => format!("{done}/? files"),
        };
        if self.failed > 0 {
            s.push_str(&format!(" ({} failed)", self.failed));
        }
        s.push_str(&format!("  {}", human_bytes(self.bytes)));
        match self.rate.rate() {
            Some(r) => s.push_str(&format!("  {}/s", human_bytes(r as u64))),
            None => s.push_str("  -/s"),
        }
        match self.eta(now) {
            Some(d) => s.push_str(&format!("  ETA {}", clock(d))),
            None => s.push_str("  ETA ?"),
        }
        s
    }

    /// Lines for the `max` largest active downloads (by size, else bytes so far), as
    /// `  name  1.2 MiB / 10.0 MiB  12%`.
    pub fn active_lines(&self, max: usize) -> Vec<String> {
        let mut list: Vec<&Active> = self.active.values().collect();
        list.sort_by(|a, b| {
            b.total.unwrap_or(b.done).cmp(&a.total.unwrap_or(a.done)).then_with(|| a.name.cmp(&b.name))
        });
        list.iter()
            .take(max)
            .map(|a| {
                let name = ellipsize(&a.name, NAME_WIDTH);
                match a.total {
                    Some(t) if t > 0 => format!(
                        "  {name:<NAME_WIDTH$}  {} / {}  {}%",
                        human_bytes(a.done),
                        human_bytes(t),
                        (a.done.min(t) * 100) / t
                    ),
                    _ => format!("  {name:<NAME_WIDTH$}  {}", human_bytes(a.done)),
                }
            })
            .collect()
    }
}

/// `H:MM:SS`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// At most `max` characters: the start and the end with `…` between (the end of a name
/// — its number, its extension — tells files apart best).
fn ellipsize(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// The terminal display.
pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    lines: Vec<ProgressBar>,
    last_draw: Option<Instant>,
    /// What is shown; the driver updates it.
    pub state: ProgressState,
}

fn line_style() -> ProgressStyle {
    // A fixed template cannot fail to parse; the fallback only keeps this panic-free.
    ProgressStyle::with_template("{wide_msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl Progress {
    /// A display on stderr, redrawn at most 10 times per second.
    pub fn stderr(started: Instant) -> Progress {
        Progress::with_target(ProgressDrawTarget::stderr_with_hz(10), started)
    }

    /// A display drawn nowhere (tests, and when stderr is not a terminal).
    pub fn hidden(started: Instant) -> Progress {
        Progress::with_target(ProgressDrawTarget::hidden(), started)
    }

    fn with_target(target: ProgressDrawTarget, started: Instant) -> Progress {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::no_length().with_style(line_style()));
        Progress { multi, overall, lines: Vec::new(), last_draw: None, state: ProgressState::new(started) }
    }

    /// Update the lines from the state, unless the last redraw was < 100 ms ago.
    pub fn tick(&mut self, now: Instant) {
        if self.last_draw.is_some_and(|t| now.saturating_duration_since(t) < REDRAW_EVERY) {
            return;
        }
        self.last_draw = Some(now);
        self.state.sample(now);
        self.overall.set_message(self.state.overall_line(now));
        let texts = self.state.active_lines(ACTIVE_LINES);
        while self.lines.len() < texts.len() {
            self.lines.push(self.multi.add(ProgressBar::no_length().with_style(line_style())));
        }
        while self.lines.len() > texts.len() {
            if let Some(bar) = self.lines.pop() {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
        for (bar, text) in self.lines.iter().zip(texts) {
            bar.set_message(text);
        }
    }

    /// Print a line above the display (e.g. an error) without tearing it.
    pub fn println(&self, line: &str) {
        // A failed write to the terminal is not worth failing downloads for.
        let _ = self.multi.println(line);
    }

    /// Remove the display (before the summary line is printed).
    pub fn finish(&mut self) {
        for bar in self.lines.drain(..) {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }

    /// How many active-download lines are shown.
    pub fn active_line_count(&self) -> usize {
        self.lines.len()
    }
}

#[cfg(test)]
mod tests;
