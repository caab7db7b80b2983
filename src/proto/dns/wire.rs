//! DNS message wire format: building A/AAAA queries and parsing responses, sans-IO.
//!
//! - RFC 1035 §4.1 (header, question, resource records), §4.1.4 (name compression),
//!   §2.3.4 (labels at most 63 octets, names at most 255 octets), §4.2.2 (TCP length prefix).
//! - RFC 3596 §2 (AAAA records), RFC 6891 §6 (the EDNS0 OPT pseudo-record; we offer a
//!   1232-byte UDP payload, the DNS Flag Day 2020 value that avoids IP fragmentation).
//! - RFC 2181 §5.2 (RRset TTLs, we take the minimum), §8 (a TTL with the top bit set is 0),
//!   §10.1 (CNAME chains).
//! - RFC 2308 §5 (negative-answer TTL = min(SOA TTL, SOA MINIMUM)).
//!
//! Every read is bounds-checked: hostile input yields `Err(WireError)`, never a panic or
//! a loop. Compression pointers must point strictly backwards (before the name segment
//! they occur in), which guarantees termination; a jump limit backs that up.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) const TYPE_A: u16 = 1;
pub(crate) const TYPE_CNAME: u16 = 5;
pub(crate) const TYPE_SOA: u16 = 6;
pub(crate) const TYPE_AAAA: u16 = 28;
pub(crate) const TYPE_OPT: u16 = 41;
pub(crate) const CLASS_IN: u16 = 1;
/// RFC 6891 §6.2.5: the UDP payload size we advertise (and the buffer we read into).
pub(crate) const EDNS_PAYLOAD: u16 = 1232;
const MAX_LABEL: usize = 63;
const MAX_NAME: usize = 255;
/// RFC 1035 allows chains of any length; real ones are short. Bounded so a hostile answer
/// with many CNAMEs cannot make us walk for long.
const MAX_CNAME_CHAIN: usize = 16;
/// More jumps than labels fit in 255 octets cannot be legitimate.
const MAX_JUMPS: usize = 128;

pub(crate) const RCODE_NOERROR: u8 = 0;
pub(crate) const RCODE_SERVFAIL: u8 = 2;
pub(crate) const RCODE_NXDOMAIN: u8 = 3;
pub(crate) const RCODE_REFUSED: u8 = 5;

/// Why a message was rejected. The text is for logs and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError(pub(crate) &'static str);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The two record types we ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum QType {
    A,
    Aaaa,
}

impl QType {
    pub(crate) fn code(self) -> u16 {
        match self {
            QType::A => TYPE_A,
            QType::Aaaa => TYPE_AAAA,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            QType::A => "A",
            QType::Aaaa => "AAAA",
        }
    }
}

/// A domain name in presentation form, lower-cased (RFC 1035 §2.3.3: comparisons are
/// case-insensitive), without the trailing dot; the root is "". Octets outside
/// `[a-z0-9-_]` and dots inside labels are escaped as `\DDD` so distinct names stay distinct.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Name(pub(crate) String);

impl Name {
    /// Parses a textual host name (an optional trailing dot means absolute, and is dropped).
    pub(crate) fn from_text(text: &str) -> Result<Name, WireError> {
        let t = text.strip_suffix('.').unwrap_or(text);
        if t.is_empty() {
            return Err(WireError("empty name"));
        }
        let mut wire_len = 1;
        for label in t.split('.') {
            if label.is_empty() {
                return Err(WireError("empty label"));
            }
            if label.len() > MAX_LABEL {
                return Err(WireError("label longer than 63 octets"));
            }
            if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(WireError("name has characters outside [A-Za-z0-9-_]"));
            }
            wire_len += 1 + label.len();
        }
        if wire_len > MAX_NAME {
            return Err(WireError("name longer than 255 octets"));
        }
        Ok(Name(t.to_ascii_lowercase()))
    }

    fn write_wire(&self, out: &mut Vec<u8>) {
        if !self.0.is_empty() {
            // from_text guarantees plain labels without escapes.
            for label in self.0.split('.') {
                out.push(label.len() as u8);
                out.extend_from_slice(label.as_bytes());
            }
        }
        out.push(0);
    }
}

/// Builds a recursive query (RD set) for `name`/`qtype` class IN with an EDNS0 OPT record.
pub(crate) fn build_query(id: u16, name: &Name, qtype: QType) -> Vec<u8> {
    let mut q = Vec::with_capacity(12 + name.0.len() + 2 + 4 + 11);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00]); // QR=0, OPCODE=QUERY, RD=1 (RFC 1035 §4.1.1)
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]); // QD=1 AN=0 NS=0 AR=1
    name.write_wire(&mut q);
    q.extend_from_slice(&qtype.code().to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    // OPT RR (RFC 6891 §6.1.2): root owner, TYPE 41, CLASS = payload size, TTL = ext-rcode,
    // version 0, flags 0 (no DO: we do not validate DNSSEC), RDLEN 0.
    q.push(0);
    q.extend_from_slice(&TYPE_OPT.to_be_bytes());
    q.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    q
}

/// The fixed 12-octet header (RFC 1035 §4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) id: u16,
    pub(crate) qr: bool,
    pub(crate) opcode: u8,
    pub(crate) aa: bool,
    pub(crate) tc: bool,
    pub(crate) rd: bool,
    pub(crate) ra: bool,
    pub(crate) rcode: u8,
    pub(crate) qdcount: u16,
    pub(crate) ancount: u16,
    pub(crate) nscount: u16,
    pub(crate) arcount: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Question {
    pub(crate) name: Name,
    pub(crate) qtype: u16,
    pub(crate) qclass: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(Name),
    /// Only the fields negative caching needs (RFC 2308 §5).
    Soa {
        minimum: u32,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) name: Name,
    pub(crate) rtype: u16,
    pub(crate) class: u16,
    pub(crate) ttl: u32,
    pub(crate) data: RData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) header: Header,
    pub(crate) questions: Vec<Question>,
    pub(crate) answers: Vec<Record>,
    pub(crate) authority: Vec<Record>,
    pub(crate) additional: Vec<Record>,
}

/// Reads only the header: enough to check the ID and the TC bit before parsing the rest.
pub(crate) fn parse_header(buf: &[u8]) -> Result<Header, WireError> {
    let h = buf.get(..12).ok_or(WireError("message shorter than the 12-octet header"))?;
    let u16_at = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    Ok(Header {
        id: u16_at(0),
        qr: h[2] & 0x80 != 0,
        opcode: (h[2] >> 3) & 0x0f,
        aa: h[2] & 0x04 != 0,
        tc: h[2] & 0x02 != 0,
        rd: h[2] & 0x01 != 0,
        ra: h[3] & 0x80 != 0,
        rcode: h[3] & 0x0f,
        qdcount: u16_at(4),
        ancount: u16_at(6),
        nscount: u16_at(8),
        arcount: u16_at(10),
    })
}

/// Parses a whole message. A truncated (TC) message may end early: the caller must check
/// `header.tc` and retry over TCP rather than trust the sections.
pub(crate) fn parse(buf: &[u8]) -> Result<Message, WireError> {
    let header = parse_header(buf)?;
    let mut pos = 12;
    // Each question is at least 5 octets, each record at least 11: counts larger than the
    // buffer allows are rejected by the reads below, and capacity is capped by length.
    let cap = |n: u16, min: usize| (n as usize).min(buf.len() / min);
    let mut questions = Vec::with_capacity(cap(header.qdcount, 5));
    for _ in 0..header.qdcount {
        let name = read_name(buf, &mut pos)?;
        let qtype = read_u16(buf, &mut pos)?;
        let qclass = read_u16(buf, &mut pos)?;
        questions.push(Question { name, qtype, qclass });
    }
    let mut sections = [
        Vec::with_capacity(cap(header.ancount, 11)),
        Vec::with_capacity(cap(header.nscount, 11)),
        Vec::with_capacity(cap(header.arcount, 11)),
    ];
    let counts = [header.ancount, header.nscount, header.arcount];
    for (section, &count) in sections.iter_mut().zip(counts.iter()) {
        for _ in 0..count {
            section.push(read_record(buf, &mut pos)?);
        }
    }
    let [answers, authority, additional] = sections;
    Ok(Message { header, questions, answers, authority, additional })
}

/// Reads the single question of a response (RFC 5452 §9.1: the answer must echo it).
pub(crate) fn parse_question(buf: &[u8]) -> Result<Question, WireError> {
    let header = parse_header(buf)?;
    if header.qdcount != 1 {
        return Err(WireError("response does not have exactly one question"));
    }
    let mut pos = 12;
    let name = read_name(buf, &mut pos)?;
    let qtype = read_u16(buf, &mut pos)?;
    let qclass = read_u16(buf, &mut pos)?;
    Ok(Question { name, qtype, qclass })
}

fn read_u16(buf: &[u8], pos: &mut usize) -> Result<u16, WireError> {
    let b = buf.get(*pos..*pos + 2).ok_or(WireError("truncated field"))?;
    *pos += 2;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn read_u32(buf: &[u8], pos: &mut usize) -> Result<u32, WireError> {
    let b = buf.get(*pos..*pos + 4).ok_or(WireError("truncated field"))?;
    *pos += 4;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_record(buf: &[u8], pos: &mut usize) -> Result<Record, WireError> {
    let name = read_name(buf, pos)?;
    let rtype = read_u16(buf, pos)?;
    let class = read_u16(buf, pos)?;
    let raw_ttl = read_u32(buf, pos)?;
    // RFC 2181 §8: a TTL with the most significant bit set is treated as zero.
    let ttl = if raw_ttl & 0x8000_0000 != 0 { 0 } else { raw_ttl };
    let rdlen = read_u16(buf, pos)? as usize;
    let start = *pos;
    let end = start.checked_add(rdlen).ok_or(WireError("rdlength overflow"))?;
    let rdata = buf.get(start..end).ok_or(WireError("rdata runs past the message end"))?;
    let data = match (rtype, class) {
        (TYPE_A, CLASS_IN) => {
            let b: [u8; 4] = rdata.try_into().map_err(|_| WireError("A rdlength is not 4"))?;
            RData::A(Ipv4Addr::from(b))
        }
        (TYPE_AAAA, CLASS_IN) => {
            let b: [u8; 16] = rdata.try_into().map_err(|_| WireError("AAAA rdlength is not 16"))?;
            RData::Aaaa(Ipv6Addr::from(b))
        }
        (TYPE_CNAME, _) => {
            let mut p = start;
            let target = read_name(buf, &mut p)?;
            if p != end {
                return Err(WireError("CNAME rdlength does not match its name"));
            }
            RData::Cname(target)
        }
        (TYPE_SOA, _) => {
            let mut p = start;
            read_name(buf, &mut p)?; // MNAME
            read_name(buf, &mut p)?; // RNAME
            for _ in 0..4 {
                read_u32(buf, &mut p)?; // SERIAL REFRESH RETRY EXPIRE
            }
            let minimum = read_u32(buf, &mut p)?;
            if p != end {
                return Err(WireError("SOA rdlength does not match its fields"));
            }
            RData::Soa { minimum }
        }
        _ => RData::Other,
    };
    *pos = end;
    Ok(Record { name, rtype, class, ttl, data })
}

/// Reads a possibly compressed name at `*pos` and advances `*pos` past it (past the first
/// pointer, if any). RFC 1035 §4.1.4; bounds per §2.3.4.
pub(crate) fn read_name(buf: &[u8], pos: &mut usize) -> Result<Name, WireError> {
    let mut out = String::new();
    let mut wire_len = 1; // the root label
    let mut p = *pos;
    // Start of the segment being read: a pointer must land strictly before it, so the
    // positions visited strictly decrease across jumps and the walk must end.
    let mut segment_start = p;
    let mut end_after: Option<usize> = None;
    let mut jumps = 0;
    loop {
        let len = *buf.get(p).ok_or(WireError("name runs past the message end"))? as usize;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    *pos = end_after.unwrap_or(p + 1);
                    return Ok(Name(out));
                }
                wire_len += 1 + len;
                if wire_len > MAX_NAME {
                    return Err(WireError("name longer than 255 octets"));
                }
                let label =
                    buf.get(p + 1..p + 1 + len).ok_or(WireError("label runs past the message end"))?;
                if !out.is_empty() {
                    out.push('.');
                }
                for &b in label {
                    let b = b.to_ascii_lowercase();
                    if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                        out.push(b as char);
                    } else {
                        out.push_str(&format!("\\{b:03}"));
                    }
                }
                p += 1 + len;
            }
            0xc0 => {
                let lo = *buf.get(p + 1).ok_or(WireError("pointer runs past the message end"))? as usize;
                let target = ((len & 0x3f) << 8) | lo;
                if target >= segment_start {
                    return Err(WireError("compression pointer does not point backwards"));
                }
                jumps += 1;
                if jumps > MAX_JUMPS {
                    return Err(WireError("too many compression pointers"));
                }
                if end_after.is_none() {
                    end_after = Some(p + 2);
                }
                p = target;
                segment_start = target;
            }
            // 0x40 and 0x80 are the obsolete/undefined label types (RFC 6891 §5).
            _ => return Err(WireError("unknown label type")),
        }
    }
}

/// What an answer says about one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Addresses of the asked type, with the smallest TTL along the CNAME chain.
    Addresses {
        addrs: Vec<IpAddr>,
        ttl: u32,
    },
    /// The name exists but has no record of that type (NOERROR, empty answer).
    NoData {
        neg_ttl: Option<u32>,
    },
    NxDomain {
        neg_ttl: Option<u32>,
    },
    ServFail,
    Refused,
    /// Any other RCODE (FORMERR, NOTIMP, ...), or a CNAME chain that is too long or loops.
    Bad(String),
}

/// Follows the CNAME chain from `qname` inside the answer section (RFC 2181 §10.1,
/// bounded) and collects the records of `qtype` at its end.
pub(crate) fn outcome(msg: &Message, qname: &Name, qtype: QType) -> Outcome {
    match msg.header.rcode {
        RCODE_NOERROR | RCODE_NXDOMAIN => {}
        RCODE_SERVFAIL => return Outcome::ServFail,
        RCODE_REFUSED => return Outcome::Refused,
        other => return Outcome::Bad(format!("RCODE {other}")),
    }
    let mut current = qname;
    let mut ttl = u32::MAX;
    let mut steps = 0;
    while let Some(rec) = msg.answers.iter().find(|r| r.name == *current && matches!(r.data, RData::Cname(_)))
    {
        steps += 1;
        if steps > MAX_CNAME_CHAIN {
            return Outcome::Bad("CNAME chain too long or looping".to_string());
        }
        ttl = ttl.min(rec.ttl);
        if let RData::Cname(target) = &rec.data {
            current = target;
        }
    }
    let mut addrs = Vec::new();
    for rec in msg.answers.iter().filter(|r| r.name == *current && r.class == CLASS_IN) {
        match (&rec.data, qtype) {
            (RData::A(a), QType::A) => addrs.push(IpAddr::V4(*a)),
            (RData::Aaaa(a), QType::Aaaa) => addrs.push(IpAddr::V6(*a)),
            _ => continue,
        }
        ttl = ttl.min(rec.ttl);
    }
    if !addrs.is_empty() {
        addrs.dedup();
        return Outcome::Addresses { addrs, ttl };
    }
    // RFC 2308 §5: the negative TTL is the smaller of the SOA's TTL and its MINIMUM.
    let neg_ttl = msg.authority.iter().find_map(|r| match r.data {
        RData::Soa { minimum } => Some(minimum.min(r.ttl)),
        _ => None,
    });
    if msg.header.rcode == RCODE_NXDOMAIN {
        Outcome::NxDomain { neg_ttl }
    } else {
        Outcome::NoData { neg_ttl }
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
