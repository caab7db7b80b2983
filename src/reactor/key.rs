//! Token layout. A connection's token carries its slab index, a generation and a
//! sub-socket number (0..15, for Happy Eyeballs attempts), so a readiness event for a
//! closed connection can never reach the connection that reuses its slab slot.
//! DNS sockets and caller-registered sources live in ranges of their own above.

use mio::Token;

const INDEX_BITS: u32 = 24;
const GEN_BITS: u32 = 12;
const SUB_BITS: u32 = 4;
// Connection tokens must stay below the resolver's range.
const _: () =
    assert!(1usize << (INDEX_BITS + GEN_BITS + SUB_BITS) <= crate::reactor::resolver::DNS_TOKEN_BASE);
/// Most simultaneous connect attempts for one connection (sub 0 is unused).
pub(crate) const MAX_SUB: u8 = (1 << SUB_BITS) - 1;
/// Largest slab index a connection may have (16 M connections).
pub(crate) const MAX_INDEX: usize = (1 << INDEX_BITS) - 1;
/// Tokens of sources the caller registers: `EXTERNAL_BASE + key`.
pub(crate) const EXTERNAL_BASE: usize = 1 << 41;

/// A connection's generation; wraps, which is fine because a stale event also has to
/// match the slab index and the socket number.
pub(crate) type Gen = u16;

pub(crate) fn next_gen(gen: Gen) -> Gen {
    (gen + 1) & ((1 << GEN_BITS) - 1)
}

/// The token for socket `sub` of connection `index` in generation `gen`.
pub(crate) fn conn_token(index: usize, gen: Gen, sub: u8) -> Token {
    debug_assert!(index <= MAX_INDEX && sub <= MAX_SUB);
    Token(index | (usize::from(gen) << INDEX_BITS) | (usize::from(sub) << (INDEX_BITS + GEN_BITS)))
}

/// What a token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Conn { index: usize, gen: Gen, sub: u8 },
    Dns,
    External(usize),
}

pub(crate) fn owner(token: Token) -> Owner {
    let t = token.0;
    if t >= EXTERNAL_BASE {
        Owner::External(t - EXTERNAL_BASE)
    } else if crate::reactor::resolver::Resolver::owns(token) {
        Owner::Dns
    } else {
        Owner::Conn {
            index: t & MAX_INDEX,
            gen: ((t >> INDEX_BITS) & ((1 << GEN_BITS) - 1)) as Gen,
            sub: ((t >> (INDEX_BITS + GEN_BITS)) & usize::from(MAX_SUB)) as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_ranges_do_not_overlap() {
        for (i, g, s) in [(0, 0, 0), (MAX_INDEX, 4095, MAX_SUB), (12345, 7, 3)] {
            assert_eq!(owner(conn_token(i, g, s)), Owner::Conn { index: i, gen: g, sub: s });
        }
        assert_eq!(owner(Token(crate::reactor::resolver::DNS_TOKEN_BASE + 5)), Owner::Dns);
        assert_eq!(owner(Token(EXTERNAL_BASE + 9)), Owner::External(9));
        assert_eq!(next_gen(4095), 0);
    }
}
