//! TLS records read from the socket in large reads. rustls's own `read_tls` reads at
//! most 4 KiB per system call; with many small responses in flight that is one
//! `recvfrom` per response, and a 1 GiB download makes 260,000 of them. Here the
//! socket is read into one shared 256 KiB buffer and rustls is fed from it. Bytes a
//! connection did not get to (its turn ended: read quota, rate limit, pause) move to
//! that connection's own `Conn::cipher_left`, so the shared buffer is free for the
//! next connection and an idle connection holds nothing.

use super::key::Gen;
use crate::proto::tls::TlsSession;
use std::io::{self, Read};

const CIPHER_BUF_SIZE: usize = 256 * 1024;

pub(crate) struct CipherBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The connection whose bytes are in `buf[start..end]`.
    owner: Option<(usize, Gen)>,
}

impl CipherBuf {
    pub(crate) fn new() -> CipherBuf {
        CipherBuf { buf: Vec::new(), start: 0, end: 0, owner: None }
    }

    /// Give rustls more records for connection `key`: its spilled bytes first, then
    /// what the last read left, then a new read of at most `max` bytes from `sock`.
    /// `Ok(0)` is the end of the stream, as from `read_tls`.
    pub(crate) fn feed(
        &mut self,
        key: (usize, Gen),
        sock: &mut impl Read,
        tls: &mut TlsSession,
        left: &mut Vec<u8>,
        max: usize,
    ) -> io::Result<usize> {
        if !left.is_empty() {
            let n = tls.read_tls(&mut left.as_slice())?;
            left.drain(..n);
            if left.is_empty() {
                *left = Vec::new();
            }
            return Ok(n);
        }
        if self.owner != Some(key) || self.start == self.end {
            debug_assert!(self.owner.is_none_or(|o| o == key || self.start == self.end), "unspilled bytes");
            if self.buf.is_empty() {
                self.buf = vec![0; CIPHER_BUF_SIZE];
            }
            let want = max.clamp(1, self.buf.len());
            let n = match sock.read(&mut self.buf[..want]) {
                Ok(n) => n,
                Err(e) => {
                    if e.kind() == io::ErrorKind::WouldBlock {
                        // rustls shrinks its record buffer back to 4 KiB only when it
                        // is asked to read with nothing buffered: let it, or every slow
                        // connection keeps a full 16 KiB record buffer (measured: +18 KiB
                        // per connection over 1,000 slow HTTPS downloads).
                        let _ = tls.read_tls(&mut NothingYet);
                    }
                    return Err(e);
                }
            };
            if n == 0 {
                return Ok(0);
            }
            self.owner = Some(key);
            self.start = 0;
            self.end = n;
        }
        let n = tls.read_tls(&mut &self.buf[self.start..self.end])?;
        self.start += n;
        Ok(n)
    }

    /// The connection's turn is over: keep what it has not consumed in `left`.
    pub(crate) fn spill(&mut self, key: (usize, Gen), left: Option<&mut Vec<u8>>) {
        if self.owner == Some(key) {
            if let Some(left) = left {
                left.extend_from_slice(&self.buf[self.start..self.end]);
            }
            self.owner = None;
            self.start = 0;
            self.end = 0;
        }
    }
}

/// A reader with nothing to give yet, for the call above.
struct NothingYet;

impl Read for NothingYet {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spill_keeps_unconsumed_bytes_for_their_owner_only() {
        let mut c = CipherBuf::new();
        c.buf = b"abcdef".to_vec();
        c.owner = Some((3, 1));
        c.start = 2;
        c.end = 6;
        let mut other = Vec::new();
        c.spill((4, 1), Some(&mut other));
        assert!(other.is_empty(), "not the owner");
        let mut left = Vec::new();
        c.spill((3, 1), Some(&mut left));
        assert_eq!(left, b"cdef");
        assert_eq!(c.owner, None);
    }
}
