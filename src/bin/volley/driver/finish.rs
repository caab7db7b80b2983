//! How a download ends: success (verify and rename), a retry scheduled on the loop's
//! timer, or a final failure (report, keep or remove the `.part`).

use super::*;

impl State {
    /// The attempt ended: finish, retry or fail.
    pub(super) fn conclude(&mut self, mut dl: Download, end: End) {
        let now = Instant::now();
        match end {
            End::Ok => self.complete(dl),
            End::Relaunch { delay, no_range } => {
                if let Some(p) = dl.part.take() {
                    p.abandon(true);
                }
                dl.requeues += 1;
                dl.attempts = dl.attempts.saturating_sub(1);
                if no_range {
                    dl.no_range = true;
                }
                if dl.requeues > MAX_REQUEUES {
                    let m = "gave up: no file descriptor became free".to_string();
                    return self.fail(dl, ReportError { kind: ErrorClass::Io, message: m }, true);
                }
                self.delayed.push(now + delay, dl);
            }
            End::Fail { err, transient, retry_after, keep } => {
                if transient && !self.stopping && dl.attempts <= self.s.retries {
                    let delay =
                        backoff::retry_delay(&mut self.backoff, dl.attempts.saturating_sub(1), retry_after);
                    if dl.status.is_some_and(backoff::is_slow_down_status) && err.kind == ErrorClass::Http {
                        if let Ok(u) = Url::parse(&dl.url) {
                            let host = u.host_str().unwrap_or("");
                            self.hosts.slow_down(host, now + delay);
                            // Requests to it already handed to the library wait too.
                            self.holds.push((host.to_string(), now + delay));
                        }
                    }
                    if let Some(p) = dl.part.take() {
                        p.abandon(true);
                    }
                    self.ui.note(&format!(
                        "[*] retrying {} in {:.1}s (attempt {} of {}): {}",
                        dl.url,
                        delay.as_secs_f64(),
                        dl.attempts + 1,
                        self.s.retries + 1,
                        error_text(&err)
                    ));
                    self.delayed.push(now + delay, dl);
                } else {
                    self.fail(dl, err, keep);
                }
            }
        }
    }

    /// Success (or a saved error body with `--save-errors`).
    pub(super) fn complete(&mut self, mut dl: Download) {
        let mut path = dl.dest.as_deref().map(|p| p.display().to_string());
        if let Some(cat) = &mut self.cat {
            path = Some("-".to_string());
            if let Err(e) = cat.finish(dl.seq, true) {
                let m = format!("cannot write to stdout: {e}");
                return self.fail(dl, ReportError { kind: ErrorClass::Io, message: m }, true);
            }
        } else if let Some(part) = match self.take_part(&mut dl) {
            Ok(p) => p,
            Err(e) => return self.fail(dl, sink_error(&e), true),
        } {
            let dest = part.dest().to_path_buf();
            let finished = part.finish(self.names.others(dl.slot.as_mut()));
            dl.follow_slot();
            match finished {
                Ok(p) => {
                    if dl.meta_written || self.s.resume {
                        sys::remove_validator(&dest);
                    }
                    path = Some(p.display().to_string());
                }
                Err(SinkError::Checksum(m)) => {
                    sys::remove_validator(&dest);
                    let err = ReportError { kind: ErrorClass::Checksum, message: m.to_string() };
                    dl.part_made = false;
                    return self.fail(dl, err, false);
                }
                Err(e) => return self.fail(dl, sink_error(&e), true),
            }
        }
        if let Some(dest) = &dl.dest {
            self.names.release(dest);
        }
        let path_s = path.clone().unwrap_or_default();
        if let Some(err) = dl.http_error.take() {
            self.ui.failed(dl.seq, &dl.url, &error_text(&err));
            self.ui.record(&dl.record(path, Some(err)));
            return;
        }
        let bytes = if dl.skipped { 0 } else { dl.pos };
        self.ui.done(dl.seq, &dl.url, &path_s, bytes, dl.elapsed());
        self.ui.record(&dl.record(path, None));
    }

    /// The open `.part`, or the one on disk when the server said it is complete
    /// (416 on resume, `--max-bytes` already reached).
    pub(super) fn take_part(&mut self, dl: &mut Download) -> Result<Option<PartFile>, SinkError> {
        if let Some(p) = dl.part.take() {
            return Ok(Some(p));
        }
        match &dl.dest {
            Some(dest) if dl.part_made && !dl.skipped => {
                PartFile::resume(dest, self.s.overwrite, dl.checksum).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Final failure.
    pub(super) fn fail(&mut self, mut dl: Download, err: ReportError, keep: bool) {
        if let Some(part) = dl.part.take() {
            let keep = keep && part.len() > 0;
            if !keep {
                if let Some(d) = &dl.dest {
                    sys::remove_validator(d);
                }
            }
            part.abandon(keep);
        }
        if let Some(cat) = &mut self.cat {
            let _ = cat.finish(dl.seq, false);
        }
        if let Some(dest) = &dl.dest {
            self.names.release(dest);
        }
        self.ui.failed(dl.seq, &dl.url, &error_text(&err));
        let path = None;
        self.ui.record(&dl.record(path, Some(err)));
    }
}
