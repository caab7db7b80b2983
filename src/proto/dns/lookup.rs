//! The lookup of one host name, as a sans-IO state machine: `now` and answer bytes in,
//! "send these bytes to server S over UDP/TCP" ([`Transmit`]) and "wake me at t"
//! ([`Lookup::poll_timeout`]) out. It never touches a socket or the clock.
//!
//! - Candidate names follow glibc's res_search: a name with a trailing dot is absolute;
//!   one with at least `ndots` dots is tried as-is before the search list, others after.
//!   NXDOMAIN or NODATA for both families moves to the next candidate (RFC 1535 §5 notes
//!   the risks of search lists; glibc's order is what users expect from their system).
//!   Any other failure ends the lookup at once rather than waiting out every candidate.
//! - A and AAAA are asked in parallel (RFC 8305 §3). Each family retries on its own:
//!   `attempts` rounds over the servers (resolv.conf(5)), starting at a rotating offset
//!   when `rotate` is set; a timeout, SERVFAIL, REFUSED or a malformed answer moves on to
//!   the next server (as glibc's res_send does).
//! - A truncated answer (TC, RFC 1035 §4.2.1) is asked again over TCP to the same server
//!   with the 2-octet length prefix of RFC 1035 §4.2.2.
//! - RFC 8305 §3 "resolution delay": when one family has addresses and the other has not
//!   answered, the result is given 50 ms later with what is there. Unlike §3, a positive
//!   AAAA also waits the 50 ms for A: the result is handed over once, and IPv6 alone would
//!   lose the IPv4 fallback Happy Eyeballs needs.
//! - Anti-spoofing, RFC 5452 §9.1: an answer counts only if it comes from the server asked,
//!   carries the query's random ID and echoes its question; anything else is dropped and
//!   counted, and the query keeps waiting.

pub(crate) use super::outputs::{Failure, QueryTag, Resolved, Transmit, Transport};
use super::sysconf::{candidates, ResolvConf};
use super::wire::{self, Name, Outcome, QType, CLASS_IN};
use super::IdSource;
use crate::error::DnsFailure;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// RFC 8305 §3: how long to wait for the other family after the first positive answer.
pub(crate) const RESOLUTION_DELAY: Duration = Duration::from_millis(50);
/// RFC 1035 §4.2.2: a TCP message is at most 65535 octets after its length prefix.
const MAX_TCP_MESSAGE: usize = 2 + 65535;

/// One outstanding try of one family.
#[derive(Debug)]
struct Query {
    tag: QueryTag,
    id: u16,
    try_no: u32,
    server: SocketAddr,
    transport: Transport,
    deadline: Instant,
    /// The query message without length prefix, to repeat it over TCP.
    bytes: Vec<u8>,
    tcp_buf: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Answer {
    Addrs(Vec<IpAddr>, u32),
    NoData(Option<u32>),
    NxDomain(Option<u32>, SocketAddr),
    Failed(DnsFailure, String),
}

#[derive(Debug)]
enum FamilyState {
    Asking(Query),
    Done(Answer),
}

#[derive(Debug)]
struct Family {
    qtype: QType,
    state: FamilyState,
}

/// The lookup of one host name. See the module docs for the rules.
#[derive(Debug)]
pub(crate) struct Lookup {
    host: String,
    candidates: Vec<Name>,
    cand: usize,
    servers: Vec<SocketAddr>,
    timeout: Duration,
    attempts: u32,
    offset: usize,
    /// AAAA first: ties in this order favour IPv6 (RFC 8305 §3).
    fams: [Family; 2],
    first_positive: Option<Instant>,
    saw_nodata: bool,
    neg_ttl: Option<u32>,
    outbox: VecDeque<Transmit>,
    next_tag: QueryTag,
    spoofed: u64,
    result: Option<Result<Resolved, Failure>>,
    finished: bool,
}

impl Lookup {
    /// Starts looking up `host` (normalized, not an IP literal); the first queries are
    /// waiting in [`Lookup::poll_transmit`]. `offset` picks the first server (rotate).
    pub(crate) fn new(
        host: &str,
        conf: &ResolvConf,
        offset: usize,
        now: Instant,
        ids: &mut dyn IdSource,
    ) -> Lookup {
        let candidates: Vec<Name> = candidates(host, &conf.search, conf.ndots)
            .iter()
            .filter_map(|c| Name::from_text(c).ok())
            .collect();
        let pending = || Family { qtype: QType::A, state: FamilyState::Done(Answer::NoData(None)) };
        let mut lookup = Lookup {
            host: host.to_string(),
            candidates,
            cand: 0,
            servers: conf.nameservers.clone(),
            timeout: conf.timeout,
            attempts: conf.attempts.max(1),
            offset,
            fams: [pending(), pending()],
            first_positive: None,
            saw_nodata: false,
            neg_ttl: None,
            outbox: VecDeque::new(),
            next_tag: 0,
            spoofed: 0,
            result: None,
            finished: false,
        };
        lookup.fams[0].qtype = QType::Aaaa;
        if lookup.candidates.is_empty() || Name::from_text(host).is_err() {
            lookup.finish(Err(Failure {
                kind: DnsFailure::Setup,
                message: format!("{host}: not a valid DNS name"),
                cacheable: false,
                neg_ttl: None,
            }));
        } else if lookup.servers.is_empty() {
            lookup.finish(Err(Failure {
                kind: DnsFailure::Setup,
                message: format!("{host}: no name server configured"),
                cacheable: false,
                neg_ttl: None,
            }));
        } else {
            lookup.start_candidate(now, ids);
        }
        lookup
    }

    /// The next message to send, if any.
    pub(crate) fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop_front()
    }

    /// The result, once; afterwards the lookup is finished and has no live queries.
    pub(crate) fn poll_result(&mut self) -> Option<Result<Resolved, Failure>> {
        self.result.take()
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether answers for `tag` are still wanted; sockets of dead tags can be closed.
    pub(crate) fn is_live(&self, tag: QueryTag) -> bool {
        self.fams.iter().any(|f| matches!(&f.state, FamilyState::Asking(q) if q.tag == tag))
    }

    /// Answers dropped as spoofed or stale since the last call.
    pub(crate) fn take_spoofed(&mut self) -> u64 {
        std::mem::take(&mut self.spoofed)
    }

    /// When [`Lookup::handle_timeout`] must be called next.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        let query_deadlines = self.fams.iter().filter_map(|f| match &f.state {
            FamilyState::Asking(q) => Some(q.deadline),
            FamilyState::Done(_) => None,
        });
        query_deadlines.chain(self.first_positive.map(|t| t + RESOLUTION_DELAY)).min()
    }

    /// Fires every deadline at or before `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant, ids: &mut dyn IdSource) {
        if self.finished {
            return;
        }
        if self.first_positive.is_some_and(|t| t + RESOLUTION_DELAY <= now) {
            self.finish_with_addresses();
            return;
        }
        for i in 0..2 {
            if let FamilyState::Asking(q) = &self.fams[i].state {
                if q.deadline <= now {
                    self.try_failed(i, DnsFailure::Timeout, String::new(), now, ids);
                }
            }
        }
        self.evaluate(now, ids);
    }

    /// A datagram arrived from `from` on the socket of `tag`.
    pub(crate) fn handle_datagram(
        &mut self,
        tag: QueryTag,
        from: SocketAddr,
        data: &[u8],
        now: Instant,
        ids: &mut dyn IdSource,
    ) {
        let Some(i) = self.asking(tag, Transport::Udp) else {
            self.spoofed += 1;
            return;
        };
        if let FamilyState::Asking(q) = &self.fams[i].state {
            if from != q.server {
                self.spoofed += 1;
                return;
            }
        }
        self.handle_message(i, data, now, ids);
    }

    /// Stream bytes arrived on the TCP connection of `tag`.
    pub(crate) fn handle_tcp_data(
        &mut self,
        tag: QueryTag,
        data: &[u8],
        now: Instant,
        ids: &mut dyn IdSource,
    ) {
        let Some(i) = self.asking(tag, Transport::Tcp) else {
            return;
        };
        let FamilyState::Asking(q) = &mut self.fams[i].state else {
            return;
        };
        let room = MAX_TCP_MESSAGE.saturating_sub(q.tcp_buf.len());
        q.tcp_buf.extend_from_slice(&data[..data.len().min(room)]);
        // "Need more bytes" is not an error: wait for the rest of the frame.
        let Some(&[hi, lo]) = q.tcp_buf.get(..2) else {
            return;
        };
        let end = 2 + usize::from(u16::from_be_bytes([hi, lo]));
        if q.tcp_buf.len() < end {
            return;
        }
        let message = q.tcp_buf[2..end].to_vec();
        self.handle_message(i, &message, now, ids);
    }

    /// The socket of `tag` failed (could not be opened, connection refused, TCP closed
    /// before a whole answer): that try is over; `kind` says how to report it if it was
    /// the last.
    pub(crate) fn handle_transport_error(
        &mut self,
        tag: QueryTag,
        kind: DnsFailure,
        detail: &str,
        now: Instant,
        ids: &mut dyn IdSource,
    ) {
        let Some(i) =
            self.fams.iter().position(|f| matches!(&f.state, FamilyState::Asking(q) if q.tag == tag))
        else {
            return;
        };
        self.try_failed(i, kind, detail.to_string(), now, ids);
        self.evaluate(now, ids);
    }

    fn asking(&self, tag: QueryTag, transport: Transport) -> Option<usize> {
        self.fams.iter().position(
            |f| matches!(&f.state, FamilyState::Asking(q) if q.tag == tag && q.transport == transport),
        )
    }

    fn start_candidate(&mut self, now: Instant, ids: &mut dyn IdSource) {
        self.first_positive = None;
        for i in 0..2 {
            self.send_try(i, 0, Transport::Udp, now, ids);
        }
    }

    fn send_try(
        &mut self,
        i: usize,
        try_no: u32,
        transport: Transport,
        now: Instant,
        ids: &mut dyn IdSource,
    ) {
        let server = self.servers[(self.offset + try_no as usize) % self.servers.len()];
        let id = ids.next_id();
        let bytes = wire::build_query(id, &self.candidates[self.cand], self.fams[i].qtype);
        self.send(
            i,
            Query {
                tag: 0,
                id,
                try_no,
                server,
                transport,
                deadline: now + self.timeout,
                bytes,
                tcp_buf: Vec::new(),
            },
        );
    }

    fn send(&mut self, i: usize, mut q: Query) {
        q.tag = self.next_tag;
        self.next_tag += 1;
        let bytes = match q.transport {
            Transport::Udp => q.bytes.clone(),
            Transport::Tcp => {
                let mut framed = Vec::with_capacity(2 + q.bytes.len());
                framed.extend_from_slice(&(q.bytes.len() as u16).to_be_bytes());
                framed.extend_from_slice(&q.bytes);
                framed
            }
        };
        self.outbox.push_back(Transmit { tag: q.tag, server: q.server, transport: q.transport, bytes });
        self.fams[i].state = FamilyState::Asking(q);
    }

    fn handle_message(&mut self, i: usize, data: &[u8], now: Instant, ids: &mut dyn IdSource) {
        let FamilyState::Asking(q) = &self.fams[i].state else {
            return;
        };
        let (id, server, transport) = (q.id, q.server, q.transport);
        let qtype = self.fams[i].qtype;
        let name = &self.candidates[self.cand];
        // RFC 5452 §9.1: same ID, a response, a standard query, the same question.
        let genuine = wire::parse_header(data).is_ok_and(|h| h.id == id && h.qr && h.opcode == 0)
            && wire::parse_question(data)
                .is_ok_and(|qn| qn.name == *name && qn.qtype == qtype.code() && qn.qclass == CLASS_IN);
        if !genuine {
            self.spoofed += 1;
            if transport == Transport::Tcp {
                // The connection is to the right server; it will not send anything better.
                self.try_failed(
                    i,
                    DnsFailure::BadResponse,
                    format!("mismatched answer over TCP from {server}"),
                    now,
                    ids,
                );
                self.evaluate(now, ids);
            }
            return;
        }
        let msg = match wire::parse(data) {
            Ok(msg) => msg,
            Err(_) if transport == Transport::Udp && wire::parse_header(data).is_ok_and(|h| h.tc) => {
                return self.retry_over_tcp(i, now);
            }
            Err(e) => {
                self.try_failed(
                    i,
                    DnsFailure::BadResponse,
                    format!("malformed answer from {server} ({e})"),
                    now,
                    ids,
                );
                return self.evaluate(now, ids);
            }
        };
        if msg.header.tc && transport == Transport::Udp {
            return self.retry_over_tcp(i, now);
        }
        let answer = match wire::outcome(&msg, name, qtype) {
            Outcome::Addresses { addrs, ttl } => Answer::Addrs(addrs, ttl),
            Outcome::NoData { neg_ttl } => Answer::NoData(neg_ttl),
            Outcome::NxDomain { neg_ttl } => Answer::NxDomain(neg_ttl, server),
            Outcome::ServFail => {
                return self.fail_and_evaluate(
                    i,
                    DnsFailure::ServFail,
                    format!("SERVFAIL from {server}"),
                    now,
                    ids,
                )
            }
            Outcome::Refused => {
                return self.fail_and_evaluate(
                    i,
                    DnsFailure::Refused,
                    format!("REFUSED by {server}"),
                    now,
                    ids,
                )
            }
            Outcome::Bad(why) => {
                return self.fail_and_evaluate(
                    i,
                    DnsFailure::BadResponse,
                    format!("{why} from {server}"),
                    now,
                    ids,
                )
            }
        };
        self.fams[i].state = FamilyState::Done(answer);
        self.evaluate(now, ids);
    }

    fn fail_and_evaluate(
        &mut self,
        i: usize,
        kind: DnsFailure,
        message: String,
        now: Instant,
        ids: &mut dyn IdSource,
    ) {
        self.try_failed(i, kind, message, now, ids);
        self.evaluate(now, ids);
    }

    /// RFC 1035 §4.2.1: a truncated UDP answer is asked again over TCP, same server, same
    /// message; the try keeps its number so a TCP failure moves on to the next server.
    fn retry_over_tcp(&mut self, i: usize, now: Instant) {
        let FamilyState::Asking(q) = &self.fams[i].state else {
            return;
        };
        let next = Query {
            tag: 0,
            id: q.id,
            try_no: q.try_no,
            server: q.server,
            transport: Transport::Tcp,
            deadline: now + self.timeout,
            bytes: q.bytes.clone(),
            tcp_buf: Vec::new(),
        };
        self.send(i, next);
    }

    /// The current try of family `i` failed with `kind`: ask the next server, or give up.
    fn try_failed(
        &mut self,
        i: usize,
        kind: DnsFailure,
        detail: String,
        now: Instant,
        ids: &mut dyn IdSource,
    ) {
        let FamilyState::Asking(q) = &self.fams[i].state else {
            return;
        };
        let next = q.try_no + 1;
        let total = self.attempts * self.servers.len() as u32;
        if next < total {
            return self.send_try(i, next, Transport::Udp, now, ids);
        }
        let message = if kind == DnsFailure::Timeout && detail.is_empty() {
            let tried: Vec<String> = self.servers.iter().map(ToString::to_string).collect();
            format!(
                "{}: no answer from {} ({} query, {total} tries, {}s each)",
                self.host,
                tried.join(", "),
                self.fams[i].qtype.as_str(),
                self.timeout.as_secs_f64()
            )
        } else {
            format!("{}: {detail}", self.host)
        };
        self.fams[i].state = FamilyState::Done(Answer::Failed(kind, message));
    }

    /// Decides what follows from the families' states: a result, the resolution delay,
    /// or the next candidate.
    fn evaluate(&mut self, now: Instant, ids: &mut dyn IdSource) {
        if self.finished {
            return;
        }
        let done: Vec<Option<&Answer>> = self
            .fams
            .iter()
            .map(|f| match &f.state {
                FamilyState::Done(a) => Some(a),
                FamilyState::Asking(_) => None,
            })
            .collect();
        let positive = done.iter().any(|a| matches!(a, Some(Answer::Addrs(..))));
        if done.iter().any(Option::is_none) {
            if positive && self.first_positive.is_none() {
                self.first_positive = Some(now);
            }
            return;
        }
        if positive {
            return self.finish_with_addresses();
        }
        if let Some(Answer::Failed(kind, message)) =
            done.iter().flatten().find(|a| matches!(a, Answer::Failed(..)))
        {
            let failure = Failure { kind: *kind, message: message.clone(), cacheable: false, neg_ttl: None };
            return self.finish(Err(failure));
        }
        // Both NXDOMAIN or NODATA: remember, and try the next candidate.
        let mut nx_server = None;
        for a in done.iter().flatten() {
            match a {
                Answer::NoData(t) => {
                    self.saw_nodata = true;
                    self.neg_ttl = min_opt(self.neg_ttl, *t);
                }
                Answer::NxDomain(t, s) => {
                    self.neg_ttl = min_opt(self.neg_ttl, *t);
                    nx_server = Some(*s);
                }
                _ => {}
            }
        }
        if self.cand + 1 < self.candidates.len() {
            self.cand += 1;
            return self.start_candidate(now, ids);
        }
        let tried: Vec<&str> = self.candidates.iter().map(|n| n.0.as_str()).collect();
        let tried = if tried.len() > 1 { format!(" (tried {})", tried.join(", ")) } else { String::new() };
        let failure = if self.saw_nodata {
            Failure {
                kind: DnsFailure::NoAddress,
                message: format!("{}: no A or AAAA records{tried}", self.host),
                cacheable: true,
                neg_ttl: self.neg_ttl,
            }
        } else {
            let server = nx_server.map_or_else(String::new, |s| format!(" from {s}"));
            Failure {
                kind: DnsFailure::NxDomain,
                message: format!("{}: NXDOMAIN{server}{tried}", self.host),
                cacheable: true,
                neg_ttl: self.neg_ttl,
            }
        };
        self.finish(Err(failure));
    }

    fn finish_with_addresses(&mut self) {
        let mut addrs = Vec::new();
        let mut ttl = u32::MAX;
        for f in &self.fams {
            if let FamilyState::Done(Answer::Addrs(a, t)) = &f.state {
                addrs.extend_from_slice(a);
                ttl = ttl.min(*t);
            }
        }
        let complete = self.fams.iter().all(|f| matches!(f.state, FamilyState::Done(_)));
        // A result cut short by the resolution delay is not cached (TTL 0): the next
        // lookup should see both families.
        let ttl = if complete { ttl } else { 0 };
        self.finish(Ok(Resolved { addrs: crate::proto::happy::interleave(addrs), ttl }));
    }

    fn finish(&mut self, result: Result<Resolved, Failure>) {
        // Retire any query still asking so its socket is closed.
        for f in &mut self.fams {
            if matches!(f.state, FamilyState::Asking(_)) {
                f.state = FamilyState::Done(Answer::NoData(None));
            }
        }
        self.result = Some(result);
        self.finished = true;
    }
}

fn min_opt(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
#[path = "lookup_tests.rs"]
mod tests;
