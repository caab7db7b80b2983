//! `--cat`: bodies go to stdout one after another in input order, although many
//! downloads run at once. The body at the head of the order streams straight through;
//! bodies of later jobs wait in memory until it is their turn.
//!
//! Memory is bounded by `--cat-buffer`: past it, later bodies are spilled to unnamed
//! temporary files (created in the temp directory and unlinked at once, so nothing is
//! left behind even after a crash) and copied out when their turn comes. Without a
//! spill directory, or when a spill file cannot be created, [`CatQueue::is_full`] tells
//! the driver to start no new downloads and pause the running ones except the head,
//! which always drains the queue.
//!
//! Jobs are numbered by the driver in input order (`0, 1, 2, ...`); every number must be
//! [`CatQueue::finish`]ed, successful or not, for later bodies to be written. What a
//! failed job received is written too: stdout is a stream that cannot be rewound, and
//! the `[-]` line and exit status 1 say which body is incomplete.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::PathBuf;

#[derive(Debug, Default)]
struct Waiting {
    /// Bytes held in memory (they come before those in `spill`).
    chunks: Vec<Vec<u8>>,
    /// Bytes in `chunks`.
    mem: u64,
    /// Bytes accepted in all (memory and spill file).
    bytes: u64,
    /// Where bytes go once memory is full; once used, every later byte of this job
    /// goes there too, to keep the order.
    spill: Option<File>,
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
    /// Directory for spill files (`None`: hold everything in memory and report full).
    spill_dir: Option<PathBuf>,
    /// A spill file could not be created: fall back to pausing.
    spill_broken: bool,
    spills: u64,
}

impl<W: Write> CatQueue<W> {
    /// A queue writing to `out`, holding at most about `limit` bytes of later bodies.
    pub fn new(out: W, limit: u64) -> CatQueue<W> {
        CatQueue {
            out,
            head: 0,
            head_written: 0,
            waiting: BTreeMap::new(),
            buffered: 0,
            limit,
            spill_dir: None,
            spill_broken: false,
            spills: 0,
        }
    }

    /// Spill later bodies to unlinked files in `dir` once memory is full.
    pub fn with_spill_dir(mut self, dir: PathBuf) -> CatQueue<W> {
        self.spill_dir = Some(dir);
        self
    }

    /// A new unnamed file in the spill directory.
    fn spill_file(&mut self) -> io::Result<File> {
        let dir = self.spill_dir.clone().ok_or_else(|| io::Error::other("no spill directory"))?;
        self.spills += 1;
        let path = dir.join(format!(".volley-cat-{}-{}", std::process::id(), self.spills));
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        std::fs::remove_file(&path)?;
        Ok(file)
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
        self.buffered >= self.limit && (self.spill_dir.is_none() || self.spill_broken)
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
            self.buffered -= w.mem;
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
        let len = bytes.len() as u64;
        let over = self.buffered + len > self.limit;
        let needs_file = over
            && !self.spill_broken
            && self.spill_dir.is_some()
            && self.waiting.get(&seq).is_none_or(|w| w.spill.is_none() && w.ended.is_none());
        let new_file = if needs_file {
            match self.spill_file() {
                Ok(f) => Some(f),
                Err(_) => {
                    self.spill_broken = true;
                    None
                }
            }
        } else {
            None
        };
        let w = self.waiting.entry(seq).or_default();
        if w.ended.is_some() {
            return Ok(());
        }
        if w.spill.is_none() {
            w.spill = new_file;
        }
        match &mut w.spill {
            Some(f) => f.write_all(bytes)?,
            None => {
                w.chunks.push(bytes.to_vec());
                w.mem += len;
                self.buffered += len;
            }
        }
        w.bytes += len;
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
            self.buffered -= w.mem;
            for chunk in w.chunks.drain(..) {
                self.out.write_all(&chunk)?;
                self.head_written += chunk.len() as u64;
            }
            if let Some(mut f) = w.spill.take() {
                f.rewind()?;
                self.head_written += io::copy(&mut f, &mut self.out)?;
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
