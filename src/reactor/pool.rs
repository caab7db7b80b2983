//! Origins (scheme, host, port), their FIFO queues of waiting requests, their idle
//! keep-alive connections, and the round-robin list of origins that have work waiting.
//! Limits are enforced by the admission step in `reactor/mod.rs`, which asks this
//! module what is waiting; the queue holds slab indices only, so memory grows with
//! the requests themselves and nothing else.

use slab::Slab;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

pub(crate) struct Origin {
    pub(crate) key: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: bool,
    /// Requests waiting for a connection, in submit order (request slab indices).
    pub(crate) queue: VecDeque<usize>,
    /// Connections open or opening to this origin.
    pub(crate) open: usize,
    /// Idle keep-alive connections (connection slab indices), most recent last.
    pub(crate) idle: Vec<usize>,
    /// A connection to it dropped pipelined requests unanswered: send one at a time.
    pub(crate) no_pipelining: bool,
    /// No new request is sent before this instant (`Control::hold_host`).
    pub(crate) held_until: Option<Instant>,
    /// Listed in `Pool::ready`.
    ready: bool,
}

impl Origin {
    fn is_unused(&self) -> bool {
        self.open == 0 && self.queue.is_empty() && self.idle.is_empty() && !self.ready
    }
}

#[derive(Default)]
pub(crate) struct Pool {
    origins: Slab<Origin>,
    by_key: HashMap<String, usize>,
    /// Origins with queued requests that may be admissible, oldest first.
    ready: VecDeque<usize>,
    /// Origins that may have become unused this turn.
    unused: Vec<usize>,
    /// Host holds still running, by bare host name, for origins made meanwhile.
    holds: HashMap<String, Instant>,
}

impl Pool {
    /// The origin index for `url`, created on first use.
    pub(crate) fn origin_for(&mut self, url: &url::Url) -> usize {
        let tls = url.scheme() == "https";
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
        let key = format!("{}://{}:{}", url.scheme(), host, port);
        if let Some(&i) = self.by_key.get(&key) {
            return i;
        }
        // url keeps IPv6 literals bracketed; sockets and TLS want them bare.
        let bare = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let held_until = self.holds.get(&bare).copied();
        let i = self.origins.insert(Origin {
            key: key.clone(),
            host: bare,
            port,
            tls,
            queue: VecDeque::new(),
            open: 0,
            idle: Vec::new(),
            no_pipelining: false,
            held_until,
            ready: false,
        });
        self.by_key.insert(key, i);
        i
    }

    pub(crate) fn get(&self, i: usize) -> &Origin {
        &self.origins[i]
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> &mut Origin {
        &mut self.origins[i]
    }

    /// Queue a request; `front` puts it first (a retry keeps its place).
    pub(crate) fn enqueue(&mut self, origin: usize, req: usize, front: bool) {
        let o = &mut self.origins[origin];
        if front {
            o.queue.push_front(req);
        } else {
            o.queue.push_back(req);
        }
        self.mark_ready(origin);
    }

    /// Put an origin on the ready list if it has work waiting.
    pub(crate) fn mark_ready(&mut self, origin: usize) {
        let o = &mut self.origins[origin];
        if !o.ready && !o.queue.is_empty() {
            o.ready = true;
            self.ready.push_back(origin);
        }
    }

    pub(crate) fn pop_ready(&mut self) -> Option<usize> {
        let i = self.ready.pop_front()?;
        self.origins[i].ready = false;
        Some(i)
    }

    /// Put an origin back at the head of the ready list (admission stopped at it).
    pub(crate) fn unpop_ready(&mut self, origin: usize) {
        let o = &mut self.origins[origin];
        if !o.ready {
            o.ready = true;
            self.ready.push_front(origin);
        }
    }

    /// Remove a queued request (cancelled); O(queue length), only on cancel.
    pub(crate) fn dequeue(&mut self, origin: usize, req: usize) -> bool {
        let q = &mut self.origins[origin].queue;
        match q.iter().position(|&r| r == req) {
            Some(p) => {
                q.remove(p);
                true
            }
            None => false,
        }
    }

    /// Note that an origin may have nothing open, idle or queued any more. It is
    /// forgotten at the end of the turn if it is still unused ([`Pool::sweep`]), so a
    /// crawl over a million hosts does not keep a million entries, while no origin
    /// index goes stale in the middle of a turn.
    pub(crate) fn release_if_unused(&mut self, origin: usize) {
        if self.origins.get(origin).is_some_and(Origin::is_unused) {
            self.unused.push(origin);
        }
    }

    /// Forget the origins noted by `release_if_unused` that are still unused.
    pub(crate) fn sweep(&mut self) {
        for origin in std::mem::take(&mut self.unused) {
            if self.origins.get(origin).is_some_and(Origin::is_unused) {
                let o = self.origins.remove(origin);
                self.by_key.remove(&o.key);
            }
        }
    }

    /// Hold every origin of `host` (bare, as in [`Origin::host`]) until `until`.
    pub(crate) fn hold_host(&mut self, host: &str, until: Instant) {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        self.holds.insert(host.clone(), until);
        for (_, o) in self.origins.iter_mut() {
            if o.host.eq_ignore_ascii_case(&host) {
                o.held_until = Some(until);
            }
        }
    }

    /// Whether `origin` may not send a new request at `now`.
    pub(crate) fn is_held(&self, origin: usize, now: Instant) -> bool {
        self.origins.get(origin).and_then(|o| o.held_until).is_some_and(|t| now < t)
    }

    /// Holds that ended by `now` are lifted and their origins listed ready again.
    pub(crate) fn lift_holds(&mut self, now: Instant) {
        self.holds.retain(|_, until| now < *until);
        let lifted: Vec<usize> = self
            .origins
            .iter_mut()
            .filter(|(_, o)| o.held_until.is_some_and(|t| t <= now))
            .map(|(i, o)| {
                o.held_until = None;
                i
            })
            .collect();
        for i in lifted {
            self.mark_ready(i);
        }
    }

    pub(crate) fn is_live(&self, origin: usize) -> bool {
        self.origins.contains(origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("test url")
    }

    #[test]
    fn origins_are_scheme_host_port_and_fifo() {
        let mut p = Pool::default();
        let a = p.origin_for(&url("http://h/x"));
        assert_eq!(p.origin_for(&url("http://h:80/y")), a);
        assert_ne!(p.origin_for(&url("https://h/x")), a);
        let v6 = p.origin_for(&url("http://[::1]:8080/"));
        assert_eq!(p.get(v6).host, "::1");
        p.enqueue(a, 1, false);
        p.enqueue(a, 2, false);
        p.enqueue(a, 0, true);
        assert_eq!(p.get(a).queue.iter().copied().collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(p.pop_ready(), Some(a));
        assert_eq!(p.pop_ready(), None);
        assert!(p.dequeue(a, 1));
        assert!(!p.dequeue(a, 1));
    }

    #[test]
    fn unused_origins_are_released() {
        let mut p = Pool::default();
        let a = p.origin_for(&url("http://h/x"));
        p.release_if_unused(a);
        assert!(p.is_live(a), "kept until the end of the turn");
        p.sweep();
        assert!(!p.is_live(a));
    }
}
