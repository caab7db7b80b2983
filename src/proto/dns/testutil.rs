//! Test-only builders of DNS responses, shared by the unit tests of `wire`, `lookup` and
//! the scripted server in the resolver's tests. Names are written uncompressed.

use super::wire::{self, CLASS_IN, TYPE_A, TYPE_AAAA, TYPE_CNAME, TYPE_SOA};
use std::net::{Ipv4Addr, Ipv6Addr};

/// One resource record to put in a scripted answer.
#[derive(Debug, Clone)]
pub(crate) enum Rr {
    A(&'static str, u32, Ipv4Addr),
    Aaaa(&'static str, u32, Ipv6Addr),
    Cname(&'static str, u32, &'static str),
    Soa(&'static str, u32, u32),
}

pub(crate) fn name_wire(name: &str, out: &mut Vec<u8>) {
    for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

fn rr(out: &mut Vec<u8>, name: &str, rtype: u16, ttl: u32, rdata: &[u8]) {
    name_wire(name, out);
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

fn write_rr(out: &mut Vec<u8>, r: &Rr) {
    match r {
        Rr::A(n, ttl, a) => rr(out, n, TYPE_A, *ttl, &a.octets()),
        Rr::Aaaa(n, ttl, a) => rr(out, n, TYPE_AAAA, *ttl, &a.octets()),
        Rr::Cname(n, ttl, t) => {
            let mut d = Vec::new();
            name_wire(t, &mut d);
            rr(out, n, TYPE_CNAME, *ttl, &d);
        }
        Rr::Soa(n, ttl, min) => {
            let mut d = Vec::new();
            name_wire("ns.invalid", &mut d);
            name_wire("admin.invalid", &mut d);
            for v in [1u32, 2, 3, 4, *min] {
                d.extend_from_slice(&v.to_be_bytes());
            }
            rr(out, n, TYPE_SOA, *ttl, &d);
        }
    }
}

/// A response to `query` (same ID and question) with `rcode`, answers and authority.
pub(crate) fn response(query: &[u8], rcode: u8, tc: bool, answers: &[Rr], authority: &[Rr]) -> Vec<u8> {
    let mut pos = 12;
    wire::read_name(query, &mut pos).expect("test query name");
    let qend = pos + 4;
    let mut out = Vec::new();
    out.extend_from_slice(&query[..2]);
    out.push(0x81 | if tc { 0x02 } else { 0 }); // QR, RD, TC
    out.push(0x80 | rcode); // RA
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    out.extend_from_slice(&(authority.len() as u16).to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&query[12..qend]);
    for r in answers {
        write_rr(&mut out, r);
    }
    for r in authority {
        write_rr(&mut out, r);
    }
    out
}

/// The question name and type of a query, for scripted servers to decide their answer.
pub(crate) fn question(query: &[u8]) -> (String, u16) {
    let msg = wire::parse(query).expect("test query");
    let q = &msg.questions[0];
    (q.name.0.clone(), q.qtype)
}
