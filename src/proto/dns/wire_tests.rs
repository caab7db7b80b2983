//! Unit tests for `wire`: round trips and hostile messages.

use super::*;
use crate::proto::dns::testutil::{response, Rr};

fn query(name: &str, qtype: QType) -> Vec<u8> {
    build_query(0xbeef, &Name::from_text(name).expect("name"), qtype)
}

#[test]
fn query_layout() {
    let q = query("Example.COM.", QType::Aaaa);
    assert_eq!(&q[..12], &[0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    assert_eq!(&q[12..25], b"\x07example\x03com\x00");
    assert_eq!(&q[25..29], &[0, 28, 0, 1]);
    assert_eq!(&q[29..], &[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    let m = parse(&q).expect("parse own query");
    assert_eq!(m.questions[0].name.0, "example.com");
    assert_eq!(m.additional[0].rtype, TYPE_OPT);
}

#[test]
fn names_are_validated() {
    assert!(Name::from_text("").is_err());
    assert!(Name::from_text("a..b").is_err());
    assert!(Name::from_text(&"a".repeat(64)).is_err());
    assert!(Name::from_text(&"a".repeat(63)).is_ok());
    let long = vec!["abcdefghi"; 26].join(".");
    assert!(Name::from_text(&long).is_err());
    assert!(Name::from_text("bad name").is_err());
}

#[test]
fn cname_chain_and_min_ttl() {
    let q = query("www.example.com", QType::A);
    let r = response(
        &q,
        0,
        false,
        &[
            Rr::Cname("www.example.com", 300, "a.example.net"),
            Rr::Cname("a.example.net", 60, "b.example.net"),
            Rr::A("b.example.net", 100, "192.0.2.1".parse().expect("ip")),
            Rr::A("b.example.net", 200, "192.0.2.2".parse().expect("ip")),
            Rr::A("other.example", 1, "192.0.2.9".parse().expect("ip")),
        ],
        &[],
    );
    let m = parse(&r).expect("parse");
    let name = Name::from_text("www.example.com").expect("name");
    match outcome(&m, &name, QType::A) {
        Outcome::Addresses { addrs, ttl } => {
            assert_eq!(addrs.len(), 2);
            assert_eq!(ttl, 60);
        }
        o => panic!("unexpected {o:?}"),
    }
}

#[test]
fn cname_loop_is_bad() {
    let q = query("a.example", QType::A);
    let r = response(
        &q,
        0,
        false,
        &[Rr::Cname("a.example", 1, "b.example"), Rr::Cname("b.example", 1, "a.example")],
        &[],
    );
    let m = parse(&r).expect("parse");
    assert!(matches!(outcome(&m, &Name::from_text("a.example").expect("n"), QType::A), Outcome::Bad(_)));
}

#[test]
fn negative_ttl_from_soa() {
    let q = query("nx.example", QType::A);
    let r = response(&q, 3, false, &[], &[Rr::Soa("example", 900, 20)]);
    let m = parse(&r).expect("parse");
    let o = outcome(&m, &Name::from_text("nx.example").expect("n"), QType::A);
    assert_eq!(o, Outcome::NxDomain { neg_ttl: Some(20) });
    let r = response(&q, 0, false, &[], &[]);
    let m = parse(&r).expect("parse");
    assert_eq!(
        outcome(&m, &Name::from_text("nx.example").expect("n"), QType::A),
        Outcome::NoData { neg_ttl: None }
    );
}

#[test]
fn compression_pointer_backwards_ok() {
    // Answer owner is a pointer to the question name at offset 12.
    let mut r = query("ex.com", QType::A);
    r.truncate(12 + 8 + 4);
    r[2] = 0x81;
    r[7] = 1; // ANCOUNT
    r[11] = 0; // ARCOUNT
    r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0x80, 0, 0, 1, 0, 4, 10, 0, 0, 1]);
    let m = parse(&r).expect("parse");
    assert_eq!(m.answers[0].name.0, "ex.com");
    assert_eq!(m.answers[0].ttl, 0, "RFC 2181 §8: top bit set means 0");
}

fn hostile(bytes: &[u8]) {
    assert!(parse(bytes).is_err(), "accepted {bytes:?}");
}

#[test]
fn pointer_loop_rejected() {
    let mut m = vec![0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]); // points at itself
    hostile(&m);
    let mut m = vec![0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1]); // back to its own start
    hostile(&m);
}

#[test]
fn forward_and_out_of_range_pointers_rejected() {
    let mut m = vec![0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&[0xc0, 20, 0, 1, 0, 1, 0, 0, 0]);
    hostile(&m);
    let mut m = vec![0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&[0xff, 0xff, 0, 1, 0, 1]);
    hostile(&m);
}

#[test]
fn truncations_rejected_everywhere() {
    let q = query("www.example.com", QType::Aaaa);
    let r =
        response(&q, 0, false, &[Rr::Aaaa("www.example.com", 5, "2001:db8::1".parse().expect("ip"))], &[]);
    assert!(parse(&r).is_ok());
    for cut in 0..r.len() {
        hostile(&r[..cut]);
    }
}

#[test]
fn bad_rdlength_rejected() {
    let q = query("a.b", QType::A);
    let mut r = response(&q, 0, false, &[Rr::A("a.b", 5, "192.0.2.1".parse().expect("ip"))], &[]);
    let len = r.len();
    r[len - 5] = 5; // rdlength 5 with 4 octets left
    hostile(&r);
    r[len - 5] = 3; // rdlength 3: A must be 4
    hostile(&r);
}

#[test]
fn bad_label_types_and_long_names_rejected() {
    let mut m = vec![0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&[0x40, 0, 1, 0, 1]);
    hostile(&m);
    // 5 labels of 63 octets = 321 octets > 255.
    let mut m = vec![0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for _ in 0..5 {
        m.push(63);
        m.extend_from_slice(&[b'a'; 63]);
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    hostile(&m);
}

#[test]
fn huge_counts_do_not_allocate_or_hang() {
    let m = [0, 1, 0x81, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    hostile(&m);
}

#[test]
fn odd_octets_are_escaped() {
    let mut m = vec![0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&[3, b'a', b'.', b'B', 0, 0, 1, 0, 1]);
    let msg = parse(&m).expect("parse");
    assert_eq!(msg.questions[0].name.0, "a\\046b");
}

#[test]
fn corpus_seeds_mean_what_their_names_say() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/dns_message");
    let read = |f: &str| std::fs::read(dir.join(f)).expect("seed file");
    let addrs = |f: &str, name: &str, qtype| match outcome(
        &parse(&read(f)).expect(f),
        &Name::from_text(name).expect("n"),
        qtype,
    ) {
        Outcome::Addresses { addrs, ttl } => (addrs, ttl),
        o => panic!("{f}: {o:?}"),
    };
    assert_eq!(addrs("seed-a-answer", "example.com", QType::A).0, vec![IpAddr::from([192, 0, 2, 1])]);
    let (v6, ttl) = addrs("seed-aaaa-two", "v6.example", QType::Aaaa);
    assert_eq!((v6.len(), ttl), (2, 30));
    assert_eq!(
        addrs("seed-cname-chain", "www.example.com", QType::A),
        (vec![IpAddr::from([198, 51, 100, 7])], 60)
    );
    let nx = parse(&read("seed-nxdomain-soa")).expect("nx");
    assert_eq!(
        outcome(&nx, &Name::from_text("nx.example").expect("n"), QType::A),
        Outcome::NxDomain { neg_ttl: Some(15) }
    );
    assert!(parse_header(&read("seed-truncated-tc")).expect("tc").tc);
    assert_eq!(parse(&read("seed-servfail")).map(|m| m.header.rcode), Ok(RCODE_SERVFAIL));
    assert_eq!(parse(&read("seed-edns-opt")).map(|m| m.additional[0].rtype), Ok(TYPE_OPT));
    for bad in ["seed-pointer-loop", "seed-forward-pointer", "seed-bad-rdlength"] {
        assert!(parse(&read(bad)).is_err(), "{bad}");
    }
}

/// A cheap stand-in for the fuzzer on stable: deterministic random mutations of the seeds
/// (flipped octets, cuts, inserted pointers) through the fuzz entry point.
#[test]
fn mutated_seeds_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/dns_message");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    seeds.sort();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..ITERATIONS {
        let mut m = seeds[(rand() % seeds.len() as u64) as usize].clone();
        for _ in 0..1 + rand() % 4 {
            let len = m.len().max(1) as u64;
            let at = (rand() % len) as usize;
            match rand() % 4 {
                0 if !m.is_empty() => m[at] = rand() as u8,
                1 => m.truncate(at),
                2 => m.splice(at.min(m.len())..at.min(m.len()), [0xc0, (rand() % 64) as u8]).for_each(drop),
                _ => m.insert(at.min(m.len()), rand() as u8),
            }
        }
        crate::proto::dns::fuzz_entry(&m);
    }
}

const ITERATIONS: usize = 20_000;
