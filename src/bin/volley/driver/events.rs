//! Reacting to the library's events: response heads (resume decisions, error statuses,
//! opening the `.part`), body bytes (to the file or the `--cat` queue), signals, and
//! the end of each request.

use super::*;

impl State {
    pub(super) fn on_event(&mut self, ctl: &mut Control, ev: Event<'_>) {
        self.dispatch_event(ctl, ev);
        for (host, until) in self.holds.drain(..) {
            ctl.hold_host(&host, until);
        }
    }

    fn dispatch_event(&mut self, ctl: &mut Control, ev: Event<'_>) {
        match ev {
            Event::Ready { key } if key == SIGNAL_KEY => self.on_signal(ctl),
            Event::Ready { .. } => {}
            Event::Head { id, response } => self.on_head(ctl, id, response),
            Event::Body { id, data } => self.on_body(ctl, id, data),
            Event::Redirect { id, status, location } => {
                if let Some(dl) = self.active.get(&id) {
                    let line = format!("< redirect {status} from {} to {location}", dl.url);
                    self.ui.verbose_note(&line);
                }
            }
            Event::Done { id, stats, .. } => {
                if let Some(mut dl) = self.active.remove(&id) {
                    dl.absorb(&stats);
                    let end = dl.ending.take().unwrap_or(End::Ok);
                    self.conclude(*dl, end);
                }
            }
            Event::Failed { id, error, stats } => {
                if let Some(mut dl) = self.active.remove(&id) {
                    dl.absorb(&stats);
                    let end = dl.ending.take().unwrap_or_else(|| End::Fail {
                        err: ReportError::from_error(&error),
                        transient: backoff::is_transient_error(&error),
                        retry_after: None,
                        keep: true,
                    });
                    self.conclude(*dl, end);
                }
            }
        }
    }

    pub(super) fn on_signal(&mut self, ctl: &mut Control) {
        let n = self.signals.as_mut().map_or(0, |s| s.pending().count());
        if n == 0 {
            return;
        }
        if self.interrupted || n > 1 {
            // A second signal: leave at once.
            let _ = io::stderr().write_all(b"volley: interrupted again, exiting\n");
            std::process::exit(130);
        }
        self.interrupted = true;
        self.ui.warn("interrupted: stopping (partial downloads are kept as .part)");
        self.stop(ctl);
    }

    /// Stop admitting and cancel everything in flight (their `.part` files stay).
    pub(super) fn stop(&mut self, ctl: &mut Control) {
        self.stopping = true;
        for (id, dl) in &mut self.active {
            if !matches!(dl.ending, Some(End::Ok)) {
                dl.ending =
                    Some(End::Fail { err: cancelled(), transient: false, retry_after: None, keep: true });
            }
            ctl.cancel(*id);
        }
        for dl in self.delayed.drain_all() {
            self.fail(dl, cancelled(), true);
        }
    }

    /// End the current attempt of `id` with `end` once the library confirms.
    pub(super) fn end_with(&mut self, ctl: &mut Control, id: RequestId, end: End) {
        if let Some(dl) = self.active.get_mut(&id) {
            dl.ending = Some(end);
            ctl.cancel(id);
        }
    }

    /// End the attempt at its head: a small body is read to its end (and ignored) so
    /// the connection can be reused; a large or unknown one is cut off.
    pub(super) fn end_at_head(&mut self, ctl: &mut Control, id: RequestId, len: Option<u64>, end: End) {
        match len {
            Some(l) if l <= DRAIN_MAX => {
                if let Some(dl) = self.active.get_mut(&id) {
                    dl.ending = Some(end);
                }
            }
            _ => self.end_with(ctl, id, end),
        }
    }

    pub(super) fn on_head(&mut self, ctl: &mut Control, id: RequestId, resp: &Response) {
        self.ui.response_head(resp);
        let Some(dl) = self.active.get_mut(&id) else {
            return;
        };
        if dl.ending.is_some() {
            return;
        }
        let status = resp.status;
        dl.status = Some(status);
        dl.final_url = resp.url.to_string();
        let content_range = resp.headers.get("content-range");
        let content_length = resp.headers.get("content-length").and_then(|v| v.parse::<u64>().ok());
        let mut append = false;
        let mut handled_as_range = false;
        if dl.range_sent {
            use crate::resume::Decision;
            handled_as_range = true;
            match crate::resume::decide(dl.offset, status, content_range) {
                Decision::Append => append = true,
                Decision::Truncate => {}
                Decision::Complete => return self.end_at_head(ctl, id, content_length, End::Ok),
                Decision::Refetch => {
                    let end = End::Relaunch { delay: Duration::ZERO, no_range: true };
                    return self.end_at_head(ctl, id, content_length, end);
                }
                Decision::NotRange => handled_as_range = false,
                Decision::Fail(m) => return self.end_with(ctl, id, End::fail(ErrorClass::Protocol, m, true)),
            }
        }
        if !handled_as_range && status >= 400 {
            let err = ReportError::http(status, &resp.reason);
            let transient = backoff::is_transient_status(status);
            let retry_after = resp
                .headers
                .get("retry-after")
                .and_then(|v| backoff::parse_retry_after(v, SystemTime::now()));
            let can_retry = transient && dl.attempts <= self.s.retries;
            if can_retry || !self.s.save_errors {
                let end = End::Fail { err, transient, retry_after, keep: true };
                return self.end_at_head(ctl, id, content_length, end);
            }
            dl.http_error = Some(err);
        }
        let total = if append {
            crate::resume::total_size(dl.offset, content_range, content_length)
        } else {
            content_length
        };
        if let Some(cat) = &mut self.cat {
            if !append {
                dl.validator = sys::validator_of(&resp.headers);
                if dl.offset > 0 && cat.head() == dl.seq {
                    // A 200 to a resumed request repeats what is already on stdout,
                    // which cannot be taken back: drop that much of the new body.
                    dl.skip = dl.offset;
                    dl.pos = dl.offset;
                } else {
                    // Held bytes of a later body can be dropped: start it over.
                    cat.restart(dl.seq);
                    dl.pos = 0;
                }
            }
            if !dl.announced {
                dl.announced = true;
                let (seq, url) = (dl.seq, dl.url.clone());
                self.ui.saving(seq, &url, "-", total);
            }
            return;
        }
        if let Err(end) = self.open_part(id, resp, append, content_length) {
            return self.end_with(ctl, id, end);
        }
        let Some(dl) = self.active.get_mut(&id) else {
            return;
        };
        if !dl.announced {
            dl.announced = true;
            let path = dl.dest.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
            let (seq, url) = (dl.seq, dl.url.clone());
            self.ui.saving(seq, &url, &path, total);
        } else {
            self.ui.set_size(dl.seq, total);
        }
        if self.s.max_bytes.is_some_and(|m| dl.pos >= m) {
            self.end_with(ctl, id, End::Ok);
        }
    }

    /// Open (or continue) the `.part` of download `id` for the response `resp`.
    pub(super) fn open_part(
        &mut self,
        id: RequestId,
        resp: &Response,
        append: bool,
        len: Option<u64>,
    ) -> Result<(), End> {
        let Some(mut dl) = self.active.remove(&id) else {
            return Ok(());
        };
        let r = self.open_part_of(&mut dl, resp, append, len);
        self.active.insert(id, dl);
        r
    }

    pub(super) fn open_part_of(
        &mut self,
        dl: &mut Download,
        resp: &Response,
        append: bool,
        len: Option<u64>,
    ) -> Result<(), End> {
        if dl.dest.is_none() {
            let url = volley::request::parse_url(&dl.url)
                .map_err(|e| End::fail(ErrorClass::Protocol, e.message(), false))?;
            let cd =
                resp.headers.get_bytes("content-disposition").and_then(naming::content_disposition_filename);
            let (dest, slot) =
                self.pick_dest(&url, dl, cd).map_err(|m| End::fail(ErrorClass::Io, m, false))?;
            (dl.dest, dl.slot) = (Some(dest.clone()), slot);
            if self.full_dirs.contains(&self.dir_of(Some(&dest))) {
                let m = format!("not started: the disk of {} is full", self.dir_of(Some(&dest)).display());
                return Err(End::fail(ErrorClass::Io, m, true));
            }
            if self.s.resume && !dl.range_sent {
                // -c with a name from the server: only now is it known that a `.part`
                // (or the complete file) exists; ask again, this time resuming.
                let part = naming::part_path(&dest);
                let has_part = part.symlink_metadata().is_ok_and(|m| m.is_file() && m.len() > 0);
                let complete = naming::exists_on_disk(&dest) && !naming::exists_on_disk(&part);
                if has_part || complete {
                    return Err(End::Relaunch { delay: Duration::ZERO, no_range: false });
                }
            }
        }
        let Some(dest) = dl.dest.clone() else {
            return Ok(());
        };
        let part_path = naming::part_path(&dest);
        // A fresh `.part` is made with create_new, which refuses anything already there
        // (symlinks included); only a resume or an overwrite has to look first.
        let may_exist = self.s.resume || self.s.overwrite || dl.part_made;
        let metadata = if may_exist {
            part_path.symlink_metadata()
        } else {
            Err(std::io::Error::from(std::io::ErrorKind::NotFound))
        };
        let existing = match metadata {
            Ok(m) if !m.is_file() => {
                // Never write through a symlink (or into anything but a plain file).
                let m = format!("{} is not a regular file", part_path.display());
                return Err(End::fail(ErrorClass::Io, m, true));
            }
            Ok(_) => true,
            Err(_) => false,
        };
        let opened = if existing && (self.s.resume || dl.part_made) {
            PartFile::resume(&dest, self.s.overwrite, dl.checksum)
        } else {
            PartFile::create(&dest, self.s.overwrite, dl.checksum, self.names.others(dl.slot.as_mut()))
        };
        dl.follow_slot();
        let mut part = match opened {
            Ok(p) => p,
            Err(SinkError::Io(m)) if sys::is_fd_exhaustion(&m) => {
                return Err(End::Relaunch { delay: Duration::from_millis(100), no_range: false })
            }
            Err(e) => {
                return Err(End::Fail {
                    err: sink_error(&e),
                    transient: false,
                    retry_after: None,
                    keep: true,
                })
            }
        };
        dl.part_made = true;
        let dest = part.dest().to_path_buf();
        if append && part.len() != dl.offset {
            part.abandon(true);
            return Err(End::fail(
                ErrorClass::Io,
                format!("{} changed during the download", naming::part_path(&dest).display()),
                true,
            ));
        }
        if !append && part.len() > 0 {
            if let Err(e) = part.truncate() {
                part.abandon(true);
                return Err(End::fail(ErrorClass::Io, e.to_string(), true));
            }
        }
        if !append {
            match sys::validator_of(&resp.headers) {
                Some(v) if self.s.resume || len.is_none_or(|l| l >= META_MIN_SIZE) => {
                    sys::write_validator(&dest, &v);
                    dl.meta_written = true;
                    dl.validator = Some(v);
                }
                v => dl.validator = v,
            }
        }
        dl.pos = part.len();
        dl.part = Some(part);
        Ok(())
    }

    pub(super) fn on_body(&mut self, ctl: &mut Control, id: RequestId, data: &[u8]) {
        let Some(dl) = self.active.get_mut(&id) else {
            return;
        };
        if dl.ending.is_some() {
            return;
        }
        let n = data.len() as u64;
        dl.bytes += n;
        let seq = dl.seq;
        let mut data = data;
        if dl.skip > 0 {
            let k = usize::try_from(dl.skip.min(n)).unwrap_or(data.len());
            data = &data[k..];
            dl.skip -= k as u64;
        }
        let mut reached = false;
        if let Some(max) = self.s.max_bytes {
            let room = max.saturating_sub(dl.pos);
            if data.len() as u64 >= room {
                data = &data[..usize::try_from(room).unwrap_or(data.len())];
                reached = true;
            }
        }
        dl.pos += data.len() as u64;
        let result = if let Some(cat) = &mut self.cat {
            cat.data(seq, data).map_err(|e| format!("cannot write to stdout: {e}"))
        } else if let Some(part) = &mut dl.part {
            part.write(data).map_err(|e| e.to_string())
        } else {
            Ok(())
        };
        self.ui.add_bytes(seq, n);
        if let Err(m) = result {
            if self.cat.is_some() {
                // Nobody reads stdout any more: stop everything.
                self.end_with(ctl, id, End::fail(ErrorClass::Io, m, true));
                self.stop(ctl);
                return;
            }
            if sys::is_disk_full(&m) {
                let dir = dir_of(&self.s.dir, dl.dest.as_deref());
                self.full_dirs.insert(dir);
            }
            return self.end_with(ctl, id, End::fail(ErrorClass::Io, m, true));
        }
        if reached {
            return self.end_with(ctl, id, End::Ok);
        }
        if let Some(cat) = &self.cat {
            if cat.is_full() && seq != cat.head() {
                ctl.pause(id);
                self.paused.push((id, seq));
            }
        }
    }
}
