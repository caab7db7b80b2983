//! HTTP/1.1 pipelining on a busy connection, as `proto::h1::pipeline` allows it:
//! queuing waiting requests' heads behind the current request, making the next one
//! current when a response ends, and giving back the ones left unanswered when the
//! connection closes or one of them is withdrawn.

use super::conn::{Busy, ConnState};
use super::{Handler, Reactor};
use crate::proto::h1::exchange::Exchange;
use crate::proto::h1::pipeline::{request_may_pipeline, room, ConnView};
use crate::proto::h1::request::{BodyLen, RequestWriter};
use crate::request::Method;
use std::collections::VecDeque;
use std::time::Instant;

impl Reactor {
    /// Queue the heads of waiting requests of the connection's origin behind its
    /// current request, as many as the policy allows. Returns whether any was queued;
    /// the caller flushes, so one write carries them all.
    pub(super) fn fill_pipeline(&mut self, ci: usize, now: Instant, h: &mut Handler<'_>) -> bool {
        let depth = self.config.pipeline_depth;
        if depth <= 1 {
            return false;
        }
        let Some(c) = self.conns.get(ci) else { return false };
        let ConnState::Busy(b) = &c.state else { return false };
        let Some(current) = self.reqs.get(b.req) else { return false };
        let view = ConnView {
            proven_persistent: c.proven,
            current_complete: b.writer.is_complete(),
            current_settled: b.exchange.has_head()
                || request_may_pipeline(&current.method, current.has_body(), &current.headers),
            closing: b.exchange.closes_connection(),
            current_length: b.exchange.announced_length(),
            largest_body: c.largest_body,
            queued_behind: c.behind.len(),
            draining: c.draining,
        };
        let oi = c.origin;
        let allowed = !self.pool.get(oi).no_pipelining && !self.pool.is_held(oi, now);
        let mut room = room(depth, allowed, &view);
        let mut added = false;
        while room > 0 {
            let Some(&ri) = self.pool.get(oi).queue.front() else { break };
            let r = &self.reqs[ri];
            if r.force_fresh || r.paused || !request_may_pipeline(&r.method, r.has_body(), &r.headers) {
                break; // keep the queue's order: the next request waits for a connection
            }
            self.pool.get_mut(oi).queue.pop_front();
            self.attach(ci, ri, true, now);
            let mut out = std::mem::take(&mut self.conns[ci].out);
            match self.write_head(ri, &mut out) {
                Ok(_) => {
                    let c = &mut self.conns[ci];
                    c.out = out;
                    c.behind.push_back(ri);
                    added = true;
                    room -= 1;
                }
                Err(e) => {
                    self.conns[ci].out = out;
                    self.reqs[ri].conn = None;
                    self.fail_request(ri, e, now, h);
                }
            }
        }
        added
    }

    /// The current response ended and the connection stays: the first request sent
    /// behind it becomes current. Its head timer starts now, not when it was sent,
    /// since it could not be answered before the responses ahead of it.
    pub(super) fn promote_behind(&mut self, ci: usize, now: Instant) -> bool {
        let Some(ri) = self.conns[ci].behind.pop_front() else { return false };
        let head_only = self.reqs[ri].method == Method::Head;
        let busy = Busy {
            req: ri,
            // Its head is in `Conn::out` or already sent: nothing of its own to write.
            writer: RequestWriter::new(Vec::new(), BodyLen::None),
            exchange: Exchange::new(head_only, false, self.head_limits()),
            sent_at: Some(now),
            reused: true,
            body_finished: true,
            pipelined: true,
        };
        self.set_state(ci, ConnState::Busy(Box::new(busy)), now);
        true
    }

    /// Put requests that were sent but will not be answered on their connection back
    /// at the front of their queues, first one first. They were never answered, so
    /// this is not a retry of theirs.
    pub(super) fn requeue_unanswered(&mut self, unanswered: VecDeque<usize>) {
        for ri in unanswered.into_iter().rev() {
            if self.reqs.contains(ri) {
                self.requeue_front(ri);
            }
        }
    }

    /// Withdraw request `ri` (cancelled or timed out) from behind the current one on
    /// connection `ci`. Its response will still come, so the connection takes no more
    /// and closes after the responses before it; the ones after it go back to the
    /// queue. False if `ri` is not waiting behind on `ci`.
    pub(super) fn withdraw_behind(&mut self, ci: usize, ri: usize) -> bool {
        let Some(c) = self.conns.get_mut(ci) else { return false };
        let Some(at) = c.behind.iter().position(|&r| r == ri) else { return false };
        let mut after = c.behind.split_off(at);
        after.pop_front();
        c.draining = true;
        self.requeue_unanswered(after);
        true
    }

    /// The connection is failing with requests unanswered behind its current one, or
    /// its current one was sent pipelined and got nothing: the server (or something
    /// between) does not handle pipelining. Send one at a time to this origin.
    pub(super) fn note_pipeline_failure(&mut self, ci: usize) {
        let Some(c) = self.conns.get(ci) else { return };
        let lost_pipelined = match &c.state {
            ConnState::Busy(b) => b.pipelined && !b.exchange.got_any_byte(),
            _ => false,
        };
        if !c.behind.is_empty() || lost_pipelined {
            let origin = c.origin;
            self.pool.get_mut(origin).no_pipelining = true;
        }
    }
}
