//! One request on one connection: start the exchange, deliver the head and the body,
//! follow redirects, finish or fail the request, and hand the connection back to the
//! pool (or close it) according to the exchange's keep-alive verdict.

use super::conn::{Busy, ConnState};
use super::req::{InMemoryBody, Sink};
use super::{Handler, Reactor};
use crate::error::{Error, ErrorKind};
use crate::event::{Event, Response};
use crate::proto::h1::exchange::Exchange;
use crate::proto::h1::head::{HeadLimits, ResponseHead};
use crate::proto::h1::request::{write_request_head, BodyLen, RequestWriter};
use crate::proto::redirect::{is_redirect, next_hop};
use crate::request::Method;
use std::time::Instant;

impl Reactor {
    /// Put request `ri` on connection `ci` (fresh, or `reused` from the pool).
    pub(super) fn begin_exchange(
        &mut self,
        ci: usize,
        ri: usize,
        reused: bool,
        now: Instant,
        h: &mut Handler<'_>,
    ) {
        self.attach(ci, ri, reused, now);
        let mut head = Vec::with_capacity(256);
        let (len, bytes) = match self.write_head(ri, &mut head) {
            Ok(x) => x,
            Err(e) => {
                self.reqs[ri].conn = None;
                self.release_conn(ci, true, now, h);
                self.fail_request(ri, e, now, h);
                return;
            }
        };
        let req = &mut self.reqs[ri];
        let close = req.headers.has_token("connection", "close");
        let mut writer = RequestWriter::new(head, len);
        let mut body_finished = len == BodyLen::None;
        if let Some(b) = bytes {
            let pushed = writer.push_body(&b).and_then(|()| writer.finish_body());
            if let Err(e) = pushed {
                req.conn = None;
                self.release_conn(ci, true, now, h);
                self.fail_request(ri, e, now, h);
                return;
            }
            body_finished = true;
        }
        let exchange = Exchange::new(req.method == Method::Head, close, self.head_limits());
        let busy = Busy { req: ri, writer, exchange, sent_at: None, reused, body_finished, pipelined: false };
        self.conns[ci].leftover.clear();
        self.set_state(ci, ConnState::Busy(Box::new(busy)), now);
        self.fill_pipeline(ci, now, h);
        self.flush_writes(ci, now, h);
    }

    /// Tie request `ri` to connection `ci`; its clock starts if this is its first.
    pub(super) fn attach(&mut self, ci: usize, ri: usize, reused: bool, now: Instant) {
        self.start_request_clock(ri, now);
        let req = &mut self.reqs[ri];
        req.conn = Some(ci);
        req.stats.reused = reused;
        if reused {
            req.stats.dns = Default::default();
            req.stats.connect = Default::default();
            req.stats.tls = Default::default();
        }
    }

    /// Serialise request `ri`'s head onto `out`: its body framing and in-memory body.
    pub(super) fn write_head(
        &mut self,
        ri: usize,
        out: &mut Vec<u8>,
    ) -> Result<(BodyLen, Option<InMemoryBody>), Error> {
        let req = &mut self.reqs[ri];
        let (len, bytes) = req.open_body()?;
        write_request_head(
            out,
            req.method.as_str(),
            &req.target(),
            &req.host_header(),
            &self.config.user_agent,
            &req.headers,
            len,
        );
        Ok((len, bytes))
    }

    pub(super) fn head_limits(&self) -> HeadLimits {
        HeadLimits { max_head_size: self.config.max_head_size, max_headers: self.config.max_headers }
    }

    /// The final or redirecting response head arrived.
    pub(super) fn on_head(
        &mut self,
        ci: usize,
        ri: usize,
        head: ResponseHead,
        now: Instant,
        h: &mut Handler<'_>,
    ) {
        let req = &mut self.reqs[ri];
        if req.max_redirects > 0 && is_redirect(head.status) {
            match next_hop(head.status, &req.method, &req.url, &head.headers) {
                Ok(Some(hop)) => {
                    if req.stats.redirects >= req.max_redirects {
                        let e = Error::new(
                            ErrorKind::TooManyRedirects,
                            format!("more than {} redirects (last to {})", req.max_redirects, hop.url),
                        );
                        self.exchange_failed(ci, e, false, now, h);
                        return;
                    }
                    if !hop.drop_body && !req.body_replayable() {
                        let e = Error::new(
                            ErrorKind::Redirect,
                            format!(
                                "{} redirect needs the body again, but it was a one-shot reader",
                                head.status
                            ),
                        );
                        self.exchange_failed(ci, e, false, now, h);
                        return;
                    }
                    // Drain this response's body, then follow (see on_exchange_done).
                    req.stats.status = head.status;
                    req.redirect = Some(hop);
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    self.exchange_failed(ci, e, false, now, h);
                    return;
                }
            }
        }
        req.stats.status = head.status;
        if let Err(e) = req.sink.start() {
            self.exchange_failed(ci, e, false, now, h);
            return;
        }
        req.response = Some(Response {
            status: head.status,
            reason: head.reason,
            version: head.version,
            headers: head.headers,
            url: req.url.clone(),
        });
        if let Some(response) = req.response.as_ref() {
            h(&mut self.ctl, Event::Head { id: req.id, response });
        }
        self.apply_commands(now, h);
    }

    /// Body bytes for request `ri`.
    pub(super) fn on_body(&mut self, ci: usize, ri: usize, data: &[u8], now: Instant, h: &mut Handler<'_>) {
        let req = &mut self.reqs[ri];
        if req.redirect.is_some() || data.is_empty() {
            return; // a redirect's own body is discarded
        }
        req.stats.body_bytes += data.len() as u64;
        if let Some(max) = req.max_body {
            if req.stats.body_bytes > max {
                let e = Error::new(ErrorKind::BodyLimit, format!("body larger than the {max}-byte limit"));
                self.exchange_failed(ci, e, false, now, h);
                return;
            }
        }
        if let Sink::Events = req.sink {
            h(&mut self.ctl, Event::Body { id: req.id, data });
            self.apply_commands(now, h);
        } else if let Err(e) = req.sink.write(data, self.config.max_collect) {
            self.exchange_failed(ci, e, false, now, h);
        }
    }

    /// The response is complete. `more` means bytes followed it: the next pipelined
    /// response, or, with nothing sent behind, bytes unasked for, after which the
    /// connection cannot be trusted for another exchange.
    pub(super) fn on_exchange_done(
        &mut self,
        ci: usize,
        ri: usize,
        more: bool,
        now: Instant,
        h: &mut Handler<'_>,
    ) {
        let c = &mut self.conns[ci];
        let (keep, body) = match &c.state {
            ConnState::Busy(b) => {
                let keep =
                    b.exchange.keep_alive() && b.writer.is_finished() && (!more || !c.behind.is_empty());
                c.proven |= keep && b.exchange.persistent_http11();
                (keep, b.exchange.body_received())
            }
            _ => (false, 0),
        };
        c.served += 1;
        c.largest_body = c.largest_body.max(body);
        self.reqs[ri].conn = None;
        if self.reqs[ri].redirect.is_some() {
            self.follow_redirect(ri, now, h);
        } else {
            self.complete_request(ri, now, h);
            // Before the connection takes its next request: the handler may have held
            // the host (Retry-After) or withdrawn requests from behind.
            self.apply_commands(now, h);
        }
        let Some(c) = self.conns.get(ci) else { return };
        if keep && !c.behind.is_empty() {
            self.promote_behind(ci, now);
        } else {
            // A draining connection owes nothing more once its wanted responses are in.
            self.release_conn(ci, keep && !c.draining, now, h);
        }
    }

    fn follow_redirect(&mut self, ri: usize, now: Instant, h: &mut Handler<'_>) {
        let req = &mut self.reqs[ri];
        let Some(hop) = req.redirect.take() else {
            return;
        };
        h(&mut self.ctl, Event::Redirect { id: req.id, status: req.stats.status, location: &hop.url });
        req.stats.redirects += 1;
        if hop.drop_body {
            req.body = crate::request::Body::Empty;
            req.body_reader = None;
            for name in ["content-type", "content-length", "content-encoding", "transfer-encoding"] {
                req.headers.remove(name);
            }
        }
        if hop.cross_origin {
            // Credentials belong to the origin they were given for (RFC 9110 §15.4).
            for name in ["authorization", "cookie", "proxy-authorization"] {
                req.headers.remove(name);
            }
        }
        req.method = hop.method;
        req.url = hop.url;
        req.force_fresh = false;
        self.requeue_front(ri);
        self.apply_commands(now, h);
    }

    fn complete_request(&mut self, ri: usize, now: Instant, h: &mut Handler<'_>) {
        let mut req = self.take_request(ri, now);
        match req.sink.finish() {
            Ok(body) => h(&mut self.ctl, Event::Done { id: req.id, stats: req.stats, body }),
            Err(e) => {
                let error = e.with_url(req.url.as_str());
                h(&mut self.ctl, Event::Failed { id: req.id, error, stats: req.stats });
            }
        }
    }

    /// Put a request back at the head of its origin's queue (retry, redirect, or no
    /// descriptor free). The origin is looked up again: closing the connection may
    /// have released the old entry.
    pub(super) fn requeue_front(&mut self, ri: usize) {
        let origin = self.pool.origin_for(&self.reqs[ri].url);
        self.reqs[ri].origin = origin;
        self.reqs[ri].conn = None;
        self.pool.enqueue(origin, ri, true);
    }

    /// Remove an ending request from the tables, with its final timings.
    fn take_request(&mut self, ri: usize, now: Instant) -> super::req::Req {
        let mut req = self.reqs.remove(ri);
        self.ids.remove(&req.id.0);
        req.stats.total = req.started.map_or_else(Default::default, |s| now.saturating_duration_since(s));
        req.stats.final_url = req.url.to_string();
        req
    }

    /// Give a connection back after an exchange: to the next queued request of its
    /// origin, to the idle pool, or closed.
    pub(super) fn release_conn(&mut self, ci: usize, keep: bool, now: Instant, h: &mut Handler<'_>) {
        if !self.conns.contains(ci) {
            return;
        }
        if !keep {
            self.close_conn(ci, now);
            return;
        }
        let oi = self.conns[ci].origin;
        let held = self.pool.is_held(oi, now);
        let next = self.pool.get(oi).queue.front().copied().filter(|&r| !self.reqs[r].force_fresh && !held);
        if let Some(ri) = next {
            self.pool.get_mut(oi).queue.pop_front();
            self.begin_exchange(ci, ri, true, now, h);
            return;
        }
        let o = self.pool.get_mut(oi);
        if o.idle.len() >= self.config.pool_max_idle_per_origin {
            self.close_conn(ci, now);
            return;
        }
        o.idle.push(ci);
        self.set_state(ci, ConnState::Idle, now);
        self.pool.mark_ready(oi);
    }

    /// The transport ended while an exchange was running.
    pub(super) fn on_eof(&mut self, ci: usize, clean: bool, now: Instant, h: &mut Handler<'_>) {
        // Closing with requests sent behind, unannounced: the server drops pipelines.
        self.note_pipeline_failure(ci);
        let c = &mut self.conns[ci];
        let is_tls = c.tls.is_some();
        let ConnState::Busy(busy) = &mut c.state else {
            self.close_conn(ci, now);
            return;
        };
        let ri = busy.req;
        let close_delimited = busy.exchange.is_close_delimited();
        match busy.exchange.handle_eof() {
            Ok(_) if is_tls && !clean && close_delimited => {
                // RFC 8446 §6.1: without close_notify the end of a close-delimited body
                // may be an attacker's truncation.
                let e = crate::proto::tls::TlsSession::truncation_error();
                self.exchange_failed(ci, e, false, now, h);
            }
            Ok(_) => {
                self.reqs[ri].conn = None;
                if self.reqs[ri].redirect.is_some() {
                    self.follow_redirect(ri, now, h);
                } else {
                    self.complete_request(ri, now, h);
                }
                self.close_conn(ci, now);
            }
            Err(e) => self.exchange_failed(ci, e, true, now, h),
        }
    }

    /// An exchange failed. If it failed on a reused connection before any response
    /// byte and the request can safely be sent again, it is retried once on a fresh
    /// connection (the server may have closed the idle connection as we wrote);
    /// otherwise the request fails. A request sent pipelined that got no byte goes
    /// back to the queue like the ones behind it: it was never answered, so that is
    /// not a retry of its own. The connection is closed either way.
    pub(super) fn exchange_failed(
        &mut self,
        ci: usize,
        err: Error,
        retryable: bool,
        now: Instant,
        h: &mut Handler<'_>,
    ) {
        let Some(c) = self.conns.get(ci) else { return };
        let ConnState::Busy(busy) = &c.state else {
            self.conn_failed(ci, err, now, h);
            return;
        };
        let ri = busy.req;
        let no_byte = !busy.exchange.got_any_byte();
        // Bounded: `note_pipeline_failure` stops pipelining to the origin, so the
        // request goes alone next time and takes the ordinary retry rules.
        let unanswered = retryable && busy.pipelined && no_byte;
        let may_retry = retryable && busy.reused && no_byte;
        if retryable {
            self.note_pipeline_failure(ci);
        }
        self.close_conn(ci, now);
        let req = &mut self.reqs[ri];
        req.conn = None;
        if unanswered {
            req.force_fresh = true;
            self.requeue_front(ri);
            return;
        }
        if may_retry && req.method.is_idempotent() && req.body_replayable() && req.stats.retries == 0 {
            req.stats.retries += 1;
            req.force_fresh = true;
            self.requeue_front(ri);
            return;
        }
        self.fail_request(ri, err, now, h);
    }

    /// End a request with `err` (it must not be attached to a connection any more).
    pub(super) fn fail_request(&mut self, ri: usize, err: Error, now: Instant, h: &mut Handler<'_>) {
        if !self.reqs.contains(ri) {
            return;
        }
        let req = self.take_request(ri, now);
        let error = err.with_url(req.url.as_str());
        h(&mut self.ctl, Event::Failed { id: req.id, error, stats: req.stats });
    }

    /// Cancel or time out a request wherever it is: queued, connecting or exchanging.
    pub(super) fn abort_request(&mut self, ri: usize, err: Error, now: Instant, h: &mut Handler<'_>) {
        let Some(req) = self.reqs.get(ri) else { return };
        match req.conn {
            Some(ci) => {
                let busy_with_it = matches!(&self.conns[ci].state, ConnState::Busy(b) if b.req == ri);
                if busy_with_it {
                    self.close_conn(ci, now);
                } else if self.withdraw_behind(ci, ri) {
                    // Its response will be read and dropped; the connection lives on.
                } else if let Some(c) = self.conns.get_mut(ci) {
                    // Still connecting for it: let the connection finish into the pool
                    // would need a request; simpler and cheaper to drop it.
                    c.waiting_req = None;
                    self.close_conn(ci, now);
                }
                self.reqs[ri].conn = None;
            }
            None => {
                let origin = req.origin;
                if self.pool.is_live(origin) {
                    self.pool.dequeue(origin, ri);
                }
            }
        }
        self.fail_request(ri, err, now, h);
    }
}
