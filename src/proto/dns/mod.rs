//! DNS stub resolver, sans-IO: the wire format (`wire`, RFC 1035/3596/6891), the system
//! configuration (`sysconf`: resolv.conf and hosts text), the per-name lookup state machine
//! (`lookup`: search list, retries, TC→TCP, RFC 5452 anti-spoofing) and the answer cache
//! (`cache`, RFC 2308 negative caching). The sockets live in `reactor::resolver`.
//!
//! This module also owns the one source of query IDs: RFC 5452 §9.2 asks for IDs an
//! off-path attacker cannot predict, so they come from the OS through `ring` (named here
//! only), behind the [`IdSource`] trait so tests can script them.

pub(crate) mod cache;
pub(crate) mod lookup;
pub(crate) mod outputs;
pub(crate) mod sysconf;
pub(crate) mod wire;

#[cfg(test)]
pub(crate) mod testutil;

/// Where query IDs come from.
pub(crate) trait IdSource {
    fn next_id(&mut self) -> u16;
}

/// Query IDs from the operating system's CSPRNG (RFC 5452 §9.2).
pub(crate) struct SystemIds {
    rng: ring::rand::SystemRandom,
    /// Bytes drawn in bulk so one getrandom call serves many queries.
    pool: [u8; 64],
    used: usize,
}

impl SystemIds {
    pub(crate) fn new() -> SystemIds {
        SystemIds { rng: ring::rand::SystemRandom::new(), pool: [0; 64], used: 64 }
    }
}

impl IdSource for SystemIds {
    fn next_id(&mut self) -> u16 {
        use ring::rand::SecureRandom;
        if self.used + 2 > self.pool.len() {
            // getrandom does not fail on Linux once the pool is seeded; if it ever did,
            // falling back to a mix of the old pool keeps lookups working with IDs that are
            // still hard to guess for the query at hand rather than crashing the loop.
            if self.rng.fill(&mut self.pool).is_err() {
                self.pool.rotate_left(7);
                for (i, b) in self.pool.iter_mut().enumerate() {
                    *b = b.wrapping_mul(31).wrapping_add(i as u8);
                }
            }
            self.used = 0;
        }
        let id = u16::from_be_bytes([self.pool[self.used], self.pool[self.used + 1]]);
        self.used += 2;
        id
    }
}

/// Parses arbitrary bytes as a response and touches every accessor; must never panic.
pub(crate) fn fuzz_entry(data: &[u8]) {
    let _ = wire::parse_header(data);
    // The lookup machine must survive the same bytes as a UDP answer and over TCP.
    fuzz_feed(data);
    let Ok(msg) = wire::parse(data) else { return };
    let h = msg.header;
    let _ = (h.id, h.qr, h.opcode, h.aa, h.tc, h.rd, h.ra, h.rcode);
    assert_eq!(msg.questions.len(), h.qdcount as usize);
    assert_eq!(msg.answers.len(), h.ancount as usize);
    for q in &msg.questions {
        assert!(q.name.0.len() <= 4 * 255);
        for qtype in [wire::QType::A, wire::QType::Aaaa] {
            let _ = wire::outcome(&msg, &q.name, qtype);
        }
        let _ = (q.qtype, q.qclass);
    }
    for r in msg.answers.iter().chain(&msg.authority).chain(&msg.additional) {
        assert!(r.ttl < 0x8000_0000);
        let _ = (&r.name, r.rtype, r.class, &r.data);
    }
}

/// Fuzz helper: feeds `data` to a lookup whose IDs and question match it where possible,
/// as a UDP answer and as a TCP stream split in two; nothing may panic.
fn fuzz_feed(data: &[u8]) {
    use lookup::{Lookup, Transport};
    use std::net::SocketAddr;
    use std::time::Instant;
    use sysconf::ResolvConf;
    use wire::Name;
    struct Fixed(u16);
    impl IdSource for Fixed {
        fn next_id(&mut self) -> u16 {
            self.0
        }
    }
    let id = wire::parse_header(data).map_or(0, |h| h.id);
    let host = match wire::parse_question(data) {
        Ok(q) if Name::from_text(&q.name.0).is_ok() => format!("{}.", q.name.0),
        _ => "example.com.".to_string(),
    };
    let server: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 53));
    let conf = ResolvConf { nameservers: vec![server], ..ResolvConf::default() };
    let mut ids = Fixed(id);
    let now = Instant::now();
    let mut lookup = Lookup::new(&host, &conf, 0, now, &mut ids);
    for _ in 0..8 {
        let Some(t) = lookup.poll_transmit() else {
            break;
        };
        match t.transport {
            Transport::Udp => lookup.handle_datagram(t.tag, server, data, now, &mut ids),
            Transport::Tcp => {
                let mut framed = (data.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(data);
                let (a, b) = framed.split_at(framed.len() / 2);
                lookup.handle_tcp_data(t.tag, a, now, &mut ids);
                lookup.handle_tcp_data(t.tag, b, now, &mut ids);
            }
        }
    }
    let mut t = now;
    while let Some(d) = lookup.poll_timeout() {
        t = t.max(d);
        lookup.handle_timeout(t, &mut ids);
        while lookup.poll_transmit().is_some() {}
    }
    let _ = lookup.poll_result();
}
