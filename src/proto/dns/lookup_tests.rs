//! Unit tests for `lookup`: a fake clock, scripted IDs and scripted answer bytes.

use super::*;
use crate::error::ErrorKind;
use crate::proto::dns::testutil::{question, response, Rr};
use crate::proto::dns::wire::{TYPE_A, TYPE_AAAA};

struct SeqIds(u16);
impl IdSource for SeqIds {
    fn next_id(&mut self) -> u16 {
        self.0 = self.0.wrapping_add(1);
        self.0
    }
}

const S1: &str = "10.0.0.1:53";
const S2: &str = "10.0.0.2:53";

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

fn conf(search: &[&str], ndots: u32) -> ResolvConf {
    ResolvConf {
        nameservers: vec![sa(S1), sa(S2)],
        search: search.iter().map(|s| s.to_string()).collect(),
        ndots,
        timeout: Duration::from_secs(2),
        attempts: 2,
        rotate: false,
    }
}

struct Harness {
    lookup: Lookup,
    ids: SeqIds,
    now: Instant,
}

impl Harness {
    fn new(host: &str, conf: &ResolvConf) -> Harness {
        let mut ids = SeqIds(0x1000);
        let now = Instant::now();
        let lookup = Lookup::new(host, conf, 0, now, &mut ids);
        Harness { lookup, ids, now }
    }

    fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.lookup.poll_transmit()).collect()
    }

    fn udp(&mut self, t: &Transmit, bytes: &[u8]) {
        self.lookup.handle_datagram(t.tag, t.server, bytes, self.now, &mut self.ids);
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.lookup.handle_timeout(self.now, &mut self.ids);
    }

    fn failure(&mut self) -> Failure {
        match self.lookup.poll_result() {
            Some(Err(f)) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    fn resolved(&mut self) -> Resolved {
        match self.lookup.poll_result() {
            Some(Ok(r)) => r,
            other => panic!("expected addresses, got {other:?}"),
        }
    }
}

fn a(name: &'static str, ip: &str) -> Rr {
    Rr::A(name, 60, ip.parse().expect("v4"))
}

fn aaaa(name: &'static str, ip: &str) -> Rr {
    Rr::Aaaa(name, 30, ip.parse().expect("v6"))
}

fn answer_for(t: &Transmit, a_rrs: &[Rr], aaaa_rrs: &[Rr]) -> Vec<u8> {
    let (_, qtype) = question(&t.bytes);
    response(&t.bytes, 0, false, if qtype == TYPE_A { a_rrs } else { aaaa_rrs }, &[])
}

#[test]
fn candidate_order_follows_glibc() {
    let search = vec!["a.example".to_string(), "b.example".to_string()];
    assert_eq!(candidates("www", &search, 1), ["www.a.example", "www.b.example", "www"]);
    assert_eq!(candidates("www.x", &search, 1), ["www.x", "www.x.a.example", "www.x.b.example"]);
    assert_eq!(candidates("www.x", &search, 2), ["www.x.a.example", "www.x.b.example", "www.x"]);
    assert_eq!(candidates("www.x.", &search, 1), ["www.x."]);
    assert_eq!(candidates("www", &[], 1), ["www"]);
}

#[test]
fn both_families_answered() {
    let mut h = Harness::new("example.com", &conf(&[], 1));
    let ts = h.transmits();
    assert_eq!(ts.len(), 2);
    assert!(ts.iter().all(|t| t.server == sa(S1) && t.transport == Transport::Udp));
    let qtypes: Vec<u16> = ts.iter().map(|t| question(&t.bytes).1).collect();
    assert_eq!(qtypes, [TYPE_AAAA, TYPE_A]);
    for t in &ts {
        let r = answer_for(t, &[a("example.com", "192.0.2.1")], &[aaaa("example.com", "2001:db8::1")]);
        h.udp(t, &r);
    }
    let r = h.resolved();
    assert_eq!(r.addrs, vec!["2001:db8::1".parse::<IpAddr>().expect("ip"), "192.0.2.1".parse().expect("ip")]);
    assert_eq!(r.ttl, 30);
    assert!(h.lookup.is_finished());
    assert_eq!(h.lookup.poll_timeout(), None);
}

#[test]
fn resolution_delay_gives_first_family_after_50ms() {
    let mut h = Harness::new("example.com", &conf(&[], 1));
    let ts = h.transmits();
    let a_query = &ts[1];
    h.udp(a_query, &answer_for(a_query, &[a("example.com", "192.0.2.1")], &[]));
    assert!(h.lookup.poll_result().is_none());
    assert_eq!(h.lookup.poll_timeout(), Some(h.now + RESOLUTION_DELAY));
    h.advance(Duration::from_millis(49));
    assert!(h.lookup.poll_result().is_none());
    h.advance(Duration::from_millis(1));
    let r = h.resolved();
    assert_eq!(r.addrs.len(), 1);
    assert_eq!(r.ttl, 0, "partial results are not cached");
    assert!(!h.lookup.is_live(ts[0].tag), "the AAAA socket can be closed");
}

#[test]
fn nxdomain_moves_to_next_search_candidate() {
    let mut h = Harness::new("www", &conf(&["a.example", "b.example"], 1));
    for t in h.transmits() {
        assert_eq!(question(&t.bytes).0, "www.a.example");
        h.udp(&t, &response(&t.bytes, 3, false, &[], &[]));
    }
    let next = h.transmits();
    assert_eq!(next.len(), 2);
    for t in &next {
        assert_eq!(question(&t.bytes).0, "www.b.example");
        h.udp(t, &answer_for(t, &[a("www.b.example", "192.0.2.9")], &[]));
    }
    assert_eq!(h.resolved().addrs, vec!["192.0.2.9".parse::<IpAddr>().expect("ip")]);
}

#[test]
fn all_candidates_nxdomain_or_nodata() {
    let mut h = Harness::new("www", &conf(&["a.example"], 1));
    for round in 0..2 {
        for t in h.transmits() {
            h.udp(&t, &response(&t.bytes, 3, false, &[], &[Rr::Soa("example", 60, 10 + round)]));
        }
    }
    let f = h.failure();
    assert_eq!(f.kind, DnsFailure::NxDomain);
    assert_eq!(f.message, "www: NXDOMAIN from 10.0.0.1:53 (tried www.a.example, www)");
    assert!(f.cacheable);
    assert_eq!(f.neg_ttl, Some(10));

    let mut h = Harness::new("only.example", &conf(&[], 1));
    for t in h.transmits() {
        h.udp(&t, &response(&t.bytes, 0, false, &[], &[]));
    }
    let f = h.failure();
    assert_eq!(f.kind, DnsFailure::NoAddress);
    assert_eq!(f.to_error().kind(), ErrorKind::Dns(DnsFailure::NoAddress));
}

#[test]
fn servfail_tries_next_server_then_fails() {
    let mut h = Harness::new("example.com", &conf(&[], 1));
    let mut servers = Vec::new();
    for _ in 0..4 {
        for t in h.transmits() {
            servers.push(t.server);
            h.udp(&t, &response(&t.bytes, 2, false, &[], &[]));
        }
    }
    assert_eq!(servers, [S1, S1, S2, S2, S1, S1, S2, S2].map(sa));
    let f = h.failure();
    assert_eq!(f.kind, DnsFailure::ServFail);
    assert_eq!(f.message, "example.com: SERVFAIL from 10.0.0.2:53");
    assert!(!f.cacheable);
}

#[test]
fn refused_is_distinct() {
    let mut h = Harness::new("example.com", &conf(&[], 1));
    for _ in 0..4 {
        for t in h.transmits() {
            h.udp(&t, &response(&t.bytes, 5, false, &[], &[]));
        }
    }
    assert_eq!(h.failure().kind, DnsFailure::Refused);
}

#[test]
fn timeouts_rotate_through_servers_and_attempts() {
    let mut c = conf(&[], 1);
    c.rotate = true;
    let mut ids = SeqIds(0);
    let t0 = Instant::now();
    let mut lookup = Lookup::new("example.com", &c, 1, t0, &mut ids);
    let mut servers = Vec::new();
    let mut now = t0;
    loop {
        while let Some(t) = lookup.poll_transmit() {
            servers.push(t.server);
        }
        let Some(next) = lookup.poll_timeout() else {
            break;
        };
        assert_eq!(next, now + Duration::from_secs(2));
        now = next;
        lookup.handle_timeout(now, &mut ids);
    }
    // Offset 1 (rotate) starts at the second server; 2 attempts x 2 servers per family.
    assert_eq!(servers, [S2, S2, S1, S1, S2, S2, S1, S1].map(sa));
    assert_eq!(now, t0 + Duration::from_secs(8));
    let f = lookup.poll_result().expect("done").expect_err("timeout");
    assert_eq!(f.kind, DnsFailure::Timeout);
    assert!(f.message.starts_with("example.com: no answer from 10.0.0.1:53, 10.0.0.2:53"), "{}", f.message);
}

#[test]
fn first_server_silent_second_answers() {
    let mut h = Harness::new("example.com", &conf(&[], 1));
    let first = h.transmits();
    h.advance(Duration::from_secs(2));
    let second = h.transmits();
    assert!(second.iter().all(|t| t.server == sa(S2)));
    assert!(first.iter().all(|t| !h.lookup.is_live(t.tag)));
    // A late answer on the retired query counts as dropped, not accepted.
    h.udp(&first[1], &answer_for(&first[1], &[a("example.com", "192.0.2.66")], &[]));
    assert_eq!(h.lookup.take_spoofed(), 1);
    for t in &second {
        h.udp(t, &answer_for(t, &[a("example.com", "192.0.2.1")], &[]));
    }
    assert_eq!(h.resolved().addrs, vec!["192.0.2.1".parse::<IpAddr>().expect("ip")]);
}

#[test]
fn truncated_answer_is_retried_over_tcp_one_byte_at_a_time() {
    let mut h = Harness::new("big.example", &conf(&[], 1));
    for t in h.transmits() {
        h.udp(&t, &response(&t.bytes, 0, true, &[], &[]));
    }
    let tcp = h.transmits();
    assert_eq!(tcp.len(), 2);
    for t in &tcp {
        assert_eq!((t.transport, t.server), (Transport::Tcp, sa(S1)));
        let len = usize::from(u16::from_be_bytes([t.bytes[0], t.bytes[1]]));
        assert_eq!(len, t.bytes.len() - 2);
        let r = answer_for(
            &Transmit { bytes: t.bytes[2..].to_vec(), ..t.clone() },
            &[a("big.example", "192.0.2.1")],
            &[aaaa("big.example", "2001:db8::1")],
        );
        let mut framed = (r.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&r);
        for b in framed.chunks(1) {
            h.lookup.handle_tcp_data(t.tag, b, h.now, &mut h.ids);
        }
    }
    assert_eq!(h.resolved().addrs.len(), 2);
}

#[test]
fn tcp_closed_early_moves_to_next_server() {
    let mut h = Harness::new("big.example", &conf(&[], 1));
    let ts = h.transmits();
    h.udp(&ts[1], &response(&ts[1].bytes, 0, true, &[], &[]));
    let tcp = h.transmits();
    h.lookup.handle_tcp_data(tcp[0].tag, &[0, 40, 1, 2], h.now, &mut h.ids);
    h.lookup.handle_transport_error(tcp[0].tag, DnsFailure::Timeout, "connection closed", h.now, &mut h.ids);
    let next = h.transmits();
    assert_eq!((next[0].server, next[0].transport), (sa(S2), Transport::Udp));
}

#[test]
fn spoofed_answers_are_dropped_and_counted() {
    let mut h = Harness::new("example.com", &conf(&[], 1));
    let ts = h.transmits();
    let t = &ts[1];
    let good = answer_for(t, &[a("example.com", "192.0.2.1")], &[]);
    let evil = answer_for(t, &[a("example.com", "203.0.113.66")], &[]);
    // Wrong ID.
    let mut wrong_id = evil.clone();
    wrong_id[1] ^= 0x55;
    h.udp(t, &wrong_id);
    // Wrong question: an answer to another name, with the right ID.
    let other = wire::build_query(
        u16::from_be_bytes([t.bytes[0], t.bytes[1]]),
        &Name::from_text("evil.example").expect("n"),
        QType::A,
    );
    h.udp(t, &response(&other, 0, false, &[a("evil.example", "203.0.113.66")], &[]));
    // Wrong source.
    h.lookup.handle_datagram(t.tag, sa("10.6.6.6:53"), &evil, h.now, &mut h.ids);
    // Not a response (QR clear), and garbage.
    let mut not_response = evil.clone();
    not_response[2] &= 0x7f;
    h.udp(t, &not_response);
    h.udp(t, b"\x00");
    assert_eq!(h.lookup.take_spoofed(), 5);
    assert_eq!(h.lookup.take_spoofed(), 0);
    assert!(h.lookup.is_live(t.tag), "still waiting for the real answer");
    h.udp(t, &good);
    h.udp(&ts[0], &response(&ts[0].bytes, 0, false, &[], &[]));
    assert_eq!(h.resolved().addrs, vec!["192.0.2.1".parse::<IpAddr>().expect("ip")]);
}

#[test]
fn case_of_the_echoed_question_does_not_matter() {
    let mut h = Harness::new("example.com", &conf(&[], 1));
    for t in h.transmits() {
        let mut r = answer_for(&t, &[a("EXAMPLE.com", "192.0.2.1")], &[]);
        r[13] = b'E'; // question name's first octet, upper-cased (RFC 1035 §2.3.3)
        h.udp(&t, &r);
    }
    assert_eq!(h.resolved().addrs.len(), 1);
}

#[test]
fn malformed_answer_with_right_question_tries_next_server() {
    let mut h = Harness::new("example.com", &conf(&[], 1));
    let ts = h.transmits();
    let mut r = answer_for(&ts[1], &[a("example.com", "192.0.2.1")], &[]);
    r.truncate(r.len() - 2);
    h.udp(&ts[1], &r);
    assert_eq!(h.lookup.take_spoofed(), 0);
    let next = h.transmits();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].server, sa(S2));
}

#[test]
fn invalid_name_and_no_servers_fail_at_once() {
    let mut h = Harness::new("bad name", &conf(&[], 1));
    assert_eq!(h.failure().kind, DnsFailure::Setup);
    let mut c = conf(&[], 1);
    c.nameservers.clear();
    let mut h = Harness::new("example.com", &c);
    let f = h.failure();
    assert_eq!(f.kind, DnsFailure::Setup);
    assert!(h.transmits().is_empty());
}

#[test]
fn fuzz_feed_survives_hostile_inputs() {
    let q = wire::build_query(7, &Name::from_text("x.example").expect("n"), QType::A);
    for bytes in [
        Vec::new(),
        vec![0; 12],
        response(&q, 0, true, &[], &[]),
        response(&q, 0, false, &[Rr::Cname("x.example", 5, "x.example")], &[]),
        response(&q, 3, false, &[], &[Rr::Soa("example", 1, 1)]),
    ] {
        crate::proto::dns::fuzz_entry(&bytes);
    }
}
