//! `--cat`: bodies go to stdout one after another in input order, although many
//! downloads run at once. The body at the head of the order streams straight through;
//! bodies of later jobs wait in memory until it is their turn.
//!
//! Memory is bounded by `--cat-buffer`: when [`CatQueue::is_full`], the driver starts no
//! new downloads and pauses the running ones except the head, which always drains the
//! queue. Bytes that were already received when the limit was reached are still accepted,
//! so the bound can be exceeded by what is in flight (at most one read per connection).
//!
//! Jobs are numbered by the driver in input order (`0, 1, 2, ...`); every number must be
//! [`CatQueue::finish`]ed, successful or not, for later bodies to be written. What a
//! failed job received is written too: stdout is a stream that cannot be rewound, and
//! the `[-]` line and exit status 1 say which body is incomplete.

use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Debug, Default)]
struct Waiting {
    chunks: Vec<Vec<u8>>,
    bytes: u64,
    /// `Some(ok)` once the job ended.
    ended: Option<bool>,
}

/// The in-order writer.
pub struct CatQueue<W: Write> {
    out: W,
    /// The job whose body is being written.
    head: u64,
    /// Bytes of the head's body written so far.
    head_written: u64,
    waiting: BTreeMap<u64, Waiting>,
    buffered: u64,
    limit: u64,
}

impl<W: Write> CatQueue<W> {
    /// A queue writing to `out`, holding at most about `limit` bytes of later bodies.
    pub fn new(out: W, limit: u64) -> CatQueue<W> {
        CatQueue { out, head: 0, head_written: 0, waiting: BTreeMap::new(), buffered: 0, limit }
    }

    /// The job being written now.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// Bytes held for later jobs.
    pub fn buffered(&self) -> u64 {
        self.buffered
    }

    /// Whether later downloads should wait (see the module docs).
    pub fn is_full(&self) -> bool {
        self.buffered >= self.limit
    }

    /// Body bytes of job `seq` already accepted (written or held): where a retry of it
    /// must resume (with a Range request) so nothing is written twice.
    pub fn accepted(&self, seq: u64) -> u64 {
        if seq == self.head {
            self.head_written
        } else {
            self.waiting.get(&seq).map_or(0, |w| w.bytes)
        }
    }

    /// Job `seq` will be retried from the start: drop what it held. For the head, bytes
    /// already on stdout cannot be taken back, so it returns how many were written and
    /// the retry must resume there.
    pub fn restart(&mut self, seq: u64) -> u64 {
        if seq == self.head {
            return self.head_written;
        }
        if let Some(w) = self.waiting.get_mut(&seq) {
            self.buffered -= w.bytes;
            *w = Waiting::default();
        }
        0
    }

    /// Body bytes for job `seq`.
    pub fn data(&mut self, seq: u64, bytes: &[u8]) -> io::Result<()> {
        if seq < self.head {
            // A finished job cannot get more data; ignoring it keeps stdout consistent.
            return Ok(());
        }
        if seq == self.head {
            self.out.write_all(bytes)?;
            self.head_written += bytes.len() as u64;
            return Ok(());
        }
        let w = self.waiting.entry(seq).or_default();
        if w.ended.is_none() {
            w.chunks.push(bytes.to_vec());
            w.bytes += bytes.len() as u64;
            self.buffered += bytes.len() as u64;
        }
        Ok(())
    }

    /// Job `seq` ended (`ok` false: failed or skipped). Writes every following body that
    /// is complete, and what has arrived of the next incomplete one.
    pub fn finish(&mut self, seq: u64, ok: bool) -> io::Result<()> {
        if seq > self.head {
            self.waiting.entry(seq).or_default().ended = Some(ok);
            return Ok(());
        }
        if seq < self.head {
            return Ok(());
        }
        loop {
            self.head += 1;
            self.head_written = 0;
            let Some(mut w) = self.waiting.remove(&self.head) else {
                break;
            };
            self.buffered -= w.bytes;
            for chunk in w.chunks.drain(..) {
                self.out.write_all(&chunk)?;
                self.head_written += chunk.len() as u64;
            }
            match w.ended {
                // The new head is complete too: go on to the next.
                Some(_) => continue,
                None => break,
            }
        }
        self.out.flush()
    }

    /// Flush and hand back the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests;
