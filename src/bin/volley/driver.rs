//! The download loop: pulls jobs from [`Sources`] lazily, submits them to one
//! `volley::Client`, turns its loop, and reacts to events (write bodies, finish files,
//! retry, report). Everything runs on this one thread; timers (retries, host slow-downs,
//! progress redraws) become the `turn` timeout.
//!
//! Admission is lazy: a job is taken from the sources only while fewer than `window`
//! downloads are in flight or waiting for a retry, so memory does not grow with the
//! length of the input.

use crate::args::Header;
use crate::backoff::{self, Backoff, HostDelays, XorShift64};
use crate::cat::CatQueue;
use crate::delay_queue::DelayQueue;
use crate::download::{error_text, Download, End};
use crate::naming::{self, NameAllocator, Slot};
use crate::report::{ErrorClass, ReportError};
use crate::sink::{PartFile, SinkError};
use crate::sources::Sources;
use crate::sys;
use crate::ui::Ui;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use volley::{Client, Control, Event, Method, Request, RequestId, Response, Url};

mod events;
mod finish;

/// The key under which the signal pipe is registered with the client.
pub const SIGNAL_KEY: usize = 1;
/// Redraw period of the progress display.
const TICK: Duration = Duration::from_millis(100);
/// Relaunches (EMFILE, refetch) allowed per download before it fails.
const MAX_REQUEUES: u32 = 600;
/// Above this size (or of unknown size) a `.part.meta` validator is written even
/// without `-c`, so that a later `-c` can resume safely.
const META_MIN_SIZE: u64 = 1 << 20;
/// Unwanted bodies up to this size are read and dropped rather than cutting the
/// connection (which could then not be reused).
const DRAIN_MAX: u64 = 64 * 1024;

/// What the options ask for, distilled.
pub struct Settings {
    pub dir: PathBuf,
    /// `-O FILE` (not `-`).
    pub output_file: Option<PathBuf>,
    /// Bodies go to stdout (`--cat` or `-O -`).
    pub stdout: bool,
    pub resume: bool,
    pub overwrite: bool,
    pub content_disposition: bool,
    pub force_dirs: bool,
    pub max_bytes: Option<u64>,
    pub save_errors: bool,
    pub retries: u32,
    pub method: Method,
    pub data: Option<Vec<u8>>,
    pub data_file: Option<PathBuf>,
    pub headers: Vec<Header>,
    pub cat_buffer: u64,
    pub window: usize,
}

/// The driver's state (everything but the client, which the event handler cannot
/// borrow at the same time).
pub struct State {
    s: Settings,
    sources: Sources,
    sources_done: bool,
    next_seq: u64,
    /// Boxed: a download is moved out and back around calls that need `&mut self`,
    /// and the struct is hundreds of bytes; those moves showed in profiles.
    active: HashMap<RequestId, Box<Download>>,
    delayed: DelayQueue<Download>,
    names: NameAllocator,
    cat: Option<CatQueue<BufWriter<io::Stdout>>>,
    paused: Vec<(RequestId, u64)>,
    backoff: Backoff,
    hosts: HostDelays,
    /// Host slow-downs not yet passed to the library (`Control::hold_host`).
    holds: Vec<(String, Instant)>,
    full_dirs: HashSet<PathBuf>,
    pub ui: Ui,
    stopping: bool,
    /// SIGINT/SIGTERM arrived.
    pub interrupted: bool,
    signals: Option<signal_hook_mio::v1_0::Signals>,
}

impl State {
    pub fn new(s: Settings, sources: Sources, ui: Ui) -> State {
        let cat = s.stdout.then(|| {
            CatQueue::new(BufWriter::new(io::stdout()), s.cat_buffer).with_spill_dir(std::env::temp_dir())
        });
        let overwrite = s.overwrite;
        State {
            s,
            sources,
            sources_done: false,
            next_seq: 0,
            active: HashMap::new(),
            delayed: DelayQueue::new(),
            names: NameAllocator::new(overwrite),
            cat,
            paused: Vec::new(),
            backoff: Backoff::new(XorShift64::from_clock()),
            hosts: HostDelays::new(),
            holds: Vec::new(),
            full_dirs: HashSet::new(),
            ui,
            stopping: false,
            interrupted: false,
            signals: None,
        }
    }

    /// Catch SIGINT and SIGTERM as readiness events of the client's poll.
    pub fn register_signals(&mut self, client: &mut Client) -> io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook_mio::v1_0::Signals::new([SIGINT, SIGTERM])?;
        client.register(&mut signals, SIGNAL_KEY)?;
        self.signals = Some(signals);
        Ok(())
    }

    /// Run until every job has ended (or the run was interrupted).
    pub fn run(&mut self, client: &mut Client) -> Result<(), String> {
        loop {
            self.admit(client);
            if self.is_finished() {
                break;
            }
            let now = Instant::now();
            let mut timeout = Duration::from_secs(1);
            if let Some(due) = self.delayed.next_due() {
                timeout = timeout.min(due.saturating_duration_since(now));
            }
            if self.ui.has_progress() {
                timeout = timeout.min(TICK);
            }
            client.turn(Some(timeout), |ctl, ev| self.on_event(ctl, ev)).map_err(|e| e.to_string())?;
            self.resume_paused(client);
            self.ui.tick(Instant::now());
        }
        if let Some(cat) = self.cat.take() {
            if let Err(e) = cat.into_inner() {
                self.ui.warn(&format!("cannot write to stdout: {e}"));
            }
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.active.is_empty() && self.delayed.is_empty() && (self.sources_done || self.stopping)
    }

    fn cat_full(&self) -> bool {
        self.cat.as_ref().is_some_and(CatQueue::is_full)
    }

    /// Start due retries, then take new jobs while there is room.
    fn admit(&mut self, client: &mut Client) {
        let now = Instant::now();
        while let Some(dl) = self.delayed.pop_due(now) {
            self.launch(client, dl);
        }
        while !self.stopping
            && !self.sources_done
            && self.active.len() + self.delayed.len() < self.s.window
            && !self.cat_full()
        {
            let next = self.sources.next();
            for w in self.sources.take_warnings() {
                self.ui.warn(&w);
            }
            match next {
                None => {
                    self.sources_done = true;
                    self.ui.set_total(self.sources.total_if_known());
                }
                Some(Err(e)) => {
                    let seq = self.take_seq();
                    let mut dl = Download::new(
                        seq,
                        crate::sources::Job {
                            url: e.origin.to_string(),
                            out: None,
                            checksum: None,
                            origin: e.origin,
                        },
                    );
                    let err = ReportError { kind: ErrorClass::Protocol, message: e.message };
                    dl.attempts = 0;
                    self.fail(dl, err, false);
                }
                Some(Ok(job)) => {
                    let seq = self.take_seq();
                    self.launch(client, Download::new(seq, job));
                }
            }
        }
    }

    fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Choose the output path of `dl` (`cd_name`: from Content-Disposition), and the
    /// slot to move on from when the disk holds it already (`None`: the path is fixed).
    fn pick_dest(
        &mut self,
        url: &Url,
        dl: &Download,
        cd_name: Option<String>,
    ) -> Result<(PathBuf, Option<Slot>), String> {
        if let Some(p) = &self.s.output_file {
            if !self.names.claim(p) {
                return Err(format!("{} is already used by this run", p.display()));
            }
            if !self.s.overwrite && !self.s.resume {
                if naming::exists_on_disk(p) {
                    return Err(format!("{} already exists (use --overwrite, or -c to resume)", p.display()));
                }
                if naming::exists_on_disk(&naming::part_path(p)) {
                    return Err(format!("{} exists (use -c to resume it)", naming::part_path(p).display()));
                }
            }
            return Ok((p.clone(), None));
        }
        let name = if let Some(o) = &dl.out {
            naming::safe_component(o).unwrap_or_else(|| naming::FALLBACK_NAME.to_string())
        } else if let Some(n) = cd_name {
            n
        } else if self.s.force_dirs {
            naming::force_dir_path(url).to_string_lossy().into_owned()
        } else {
            naming::name_from_url(url)
        };
        let slot = self.names.allocate(&self.s.dir, &name)?;
        // With -c the name must not move: running the same command again has to find
        // the same `.part` files.
        Ok((slot.path(), (!self.s.resume).then_some(slot)))
    }

    fn dir_of(&self, dest: Option<&Path>) -> PathBuf {
        dir_of(&self.s.dir, dest)
    }

    /// Submit the next attempt of `dl` (or finish it at once when nothing needs fetching).
    fn launch(&mut self, client: &mut Client, mut dl: Download) {
        let now = Instant::now();
        if self.stopping {
            return self.fail(dl, cancelled(), true);
        }
        let url = match volley::request::parse_url(&dl.url) {
            Ok(u) => u,
            Err(e) => return self.fail(dl, ReportError::from_error(&e), false),
        };
        if let Some(at) = self.hosts.ready_at(url.host_str().unwrap_or(""), now) {
            self.delayed.push(at, dl);
            return;
        }
        dl.started.get_or_insert(now);
        if !self.s.stdout
            && dl.dest.is_none()
            && !(self.s.content_disposition && dl.out.is_none() && self.s.output_file.is_none())
        {
            match self.pick_dest(&url, &dl, None) {
                Ok((p, slot)) => (dl.dest, dl.slot) = (Some(p), slot),
                Err(m) => return self.fail(dl, ReportError { kind: ErrorClass::Io, message: m }, false),
            }
        }
        if !self.s.stdout && self.full_dirs.contains(&self.dir_of(dl.dest.as_deref())) {
            let m = format!("not started: the disk of {} is full", self.dir_of(dl.dest.as_deref()).display());
            return self.fail(dl, ReportError { kind: ErrorClass::Io, message: m }, true);
        }
        // Where this attempt starts.
        dl.offset = 0;
        if let Some(cat) = &mut self.cat {
            // Resume after what stdout or the queue already holds.
            dl.offset = cat.accepted(dl.seq);
        } else if let Some(dest) = dl.dest.clone() {
            if self.s.resume || dl.part_made {
                match naming::part_path(&dest).symlink_metadata() {
                    Ok(m) if m.is_file() => {
                        dl.part_made = true;
                        dl.offset = m.len();
                        if dl.attempts == 0 && m.len() > 0 {
                            dl.resumed_from = Some(m.len());
                        }
                        if dl.validator.is_none() {
                            dl.validator = sys::read_validator(&dest);
                        }
                    }
                    _ if self.s.resume && dl.attempts == 0 && naming::exists_on_disk(&dest) => {
                        // -c and the file is complete: nothing to fetch.
                        dl.skipped = true;
                        return self.complete(dl);
                    }
                    _ => {}
                }
            }
        }
        if dl.no_range {
            dl.offset = 0;
        }
        if let Some(max) = self.s.max_bytes {
            if dl.offset >= max {
                // The part already holds the first N bytes.
                return self.finish_without_fetch(dl);
            }
        }
        let mut req = Request::from_url(self.s.method.clone(), url.clone());
        for h in &self.s.headers {
            req = req.header(h.name.clone(), h.value.clone());
        }
        dl.range_sent = dl.offset > 0 || self.s.max_bytes.is_some();
        if dl.range_sent {
            let range = match self.s.max_bytes {
                Some(max) => format!("bytes={}-{}", dl.offset, max - 1),
                None => crate::resume::range_header(dl.offset),
            };
            req = req.header("Range", range);
            if dl.offset > 0 {
                if let Some(v) = &dl.validator {
                    req = req.header("If-Range", v.clone());
                }
            }
        }
        if let Some(d) = &self.s.data {
            req = req.body_bytes(d.clone());
        } else if let Some(f) = &self.s.data_file {
            req = req.body_file(f.clone());
        }
        self.ui.request_head(self.s.method.as_str(), &url, req.headers());
        dl.attempts += 1;
        dl.pos = dl.offset;
        dl.skip = 0;
        dl.ending = None;
        match client.submit(req) {
            Ok(id) => {
                self.active.insert(id, Box::new(dl));
            }
            Err(e) => self.fail(dl, ReportError::from_error(&e), true),
        }
    }

    /// `--max-bytes` with a `.part` that already holds them: finish it.
    fn finish_without_fetch(&mut self, mut dl: Download) {
        if let Some(dest) = &dl.dest {
            match PartFile::resume(dest, self.s.overwrite, dl.checksum) {
                Ok(p) => dl.part = Some(p),
                Err(e) => return self.fail(dl, sink_error(&e), true),
            }
        }
        self.complete(dl)
    }

    /// `--cat`: let paused downloads go on when there is room or it is their turn.
    fn resume_paused(&mut self, client: &mut Client) {
        let Some(cat) = &self.cat else { return };
        if self.paused.is_empty() {
            return;
        }
        let (full, head) = (cat.is_full(), cat.head());
        let active = &self.active;
        self.paused.retain(|&(id, seq)| {
            if !active.contains_key(&id) {
                return false;
            }
            if !full || seq == head {
                client.resume(id);
                return false;
            }
            true
        });
    }
}

/// The directory a download writes into.
fn dir_of(dir: &Path, dest: Option<&Path>) -> PathBuf {
    dest.and_then(Path::parent).map_or_else(|| dir.to_path_buf(), Path::to_path_buf)
}

fn cancelled() -> ReportError {
    ReportError { kind: ErrorClass::Cancelled, message: "interrupted".to_string() }
}

fn sink_error(e: &SinkError) -> ReportError {
    match e {
        SinkError::Checksum(m) => ReportError { kind: ErrorClass::Checksum, message: m.to_string() },
        SinkError::Io(m) => ReportError { kind: ErrorClass::Io, message: m.clone() },
    }
}
