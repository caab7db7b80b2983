//! Where the URLs come from: the command line first, then the input file, each glob
//! expanded lazily and filtered by `--shard`, as one iterator of [`Job`]s. Nothing is
//! materialised: memory stays O(1) however many URLs there are.
//!
//! Command-line globs are parsed up front, so a bad pattern there is a usage error
//! before anything is downloaded; input-file problems are per-item errors naming the
//! line, and the iteration goes on. An input item's `out=` and `checksum=` apply to
//! every URL its pattern expands to (names then collide and get `.1`, `.2`, ...).
//!
//! Sharding needs the host, so URLs are parsed here; a URL that does not parse is kept
//! by shard 1 only, so that exactly one of the N runs reports it.

use crate::glob::{Expansion, Glob};
use crate::input::{InputError, InputItem};
use crate::shard::Shard;
use std::fmt;

/// Where a job came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The n-th URL argument (1-based).
    Arg(usize),
    /// A line of the input file (1-based).
    Line(usize),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Arg(n) => write!(f, "URL argument {n}"),
            Origin::Line(n) => write!(f, "input line {n}"),
        }
    }
}

/// One URL to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The URL (not yet validated, except for the shard's host check).
    pub url: String,
    /// The output name from the input file's `out=`.
    pub out: Option<String>,
    /// The expected SHA-256 from `checksum=`.
    pub checksum: Option<[u8; 32]>,
    /// Where it came from.
    pub origin: Origin,
}

/// An input line that gave no job.
#[derive(Debug)]
pub struct SourceError {
    /// Where.
    pub origin: Origin,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

impl From<InputError> for SourceError {
    fn from(e: InputError) -> SourceError {
        SourceError { origin: Origin::Line(e.line), message: e.message }
    }
}

type InputIter = Box<dyn Iterator<Item = Result<InputItem, InputError>>>;

/// The lazy job stream.
pub struct Sources {
    args: std::vec::IntoIter<(usize, Glob)>,
    input: Option<InputIter>,
    glob: bool,
    shard: Option<Shard>,
    /// The pattern being expanded and the job fields shared by its expansions.
    current: Option<(Expansion, Job)>,
    yielded: u64,
    exhausted: bool,
    /// Warnings from input items (unknown options), taken by the driver.
    warnings: Vec<String>,
}

impl Sources {
    /// Jobs from `urls` then `input`; `glob` false is `-g`. Fails on a bad glob in `urls`.
    pub fn new(
        urls: &[String],
        input: Option<InputIter>,
        glob: bool,
        shard: Option<Shard>,
    ) -> Result<Sources, String> {
        let mut args = Vec::with_capacity(urls.len());
        for (i, u) in urls.iter().enumerate() {
            let g = if glob {
                Glob::parse(u).map_err(|e| format!("URL argument {} ({u}): {e}", i + 1))?
            } else {
                Glob::literal(u)
            };
            args.push((i + 1, g));
        }
        Ok(Sources {
            args: args.into_iter(),
            input,
            glob,
            shard,
            current: None,
            yielded: 0,
            exhausted: false,
            warnings: Vec::new(),
        })
    }

    /// How many jobs the command-line URLs alone expand to (before sharding), for a
    /// progress total when there is no input file.
    pub fn args_total(urls: &[String], glob: bool) -> Option<u64> {
        urls.iter().try_fold(0u64, |acc, u| {
            let n = if glob { Glob::parse(u).ok()?.count() } else { 1 };
            acc.checked_add(n)
        })
    }

    /// The number of jobs, once every source has been read to its end.
    pub fn total_if_known(&self) -> Option<u64> {
        self.exhausted.then_some(self.yielded)
    }

    /// Warnings collected since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// The next pattern to expand, or an input error, or `None` at the end.
    fn next_pattern(&mut self) -> Option<Result<(Expansion, Job), SourceError>> {
        if let Some((n, g)) = self.args.next() {
            let job = Job { url: String::new(), out: None, checksum: None, origin: Origin::Arg(n) };
            return Some(Ok((g.into_iter(), job)));
        }
        let item = match self.input.as_mut()?.next()? {
            Ok(item) => item,
            Err(e) => return Some(Err(e.into())),
        };
        self.warnings.extend(item.warnings.iter().cloned());
        let origin = Origin::Line(item.line);
        let glob = if self.glob {
            match Glob::parse(&item.url) {
                Ok(g) => g,
                Err(e) => return Some(Err(SourceError { origin, message: e.to_string() })),
            }
        } else {
            Glob::literal(&item.url)
        };
        let job = Job { url: String::new(), out: item.out, checksum: item.checksum, origin };
        Some(Ok((glob.into_iter(), job)))
    }
}

/// Whether `url` belongs to `shard` (see the module docs for unparseable URLs).
fn keep(shard: Option<Shard>, url: &str) -> bool {
    let Some(shard) = shard else { return true };
    match volley::Url::parse(url.trim()) {
        Ok(u) => shard.contains(u.host_str().unwrap_or("")),
        Err(_) => shard.k == 1,
    }
}

impl Iterator for Sources {
    type Item = Result<Job, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((exp, template)) = self.current.as_mut() {
                match exp.next() {
                    Some(url) => {
                        if !keep(self.shard, &url) {
                            continue;
                        }
                        self.yielded += 1;
                        return Some(Ok(Job { url, ..template.clone() }));
                    }
                    None => self.current = None,
                }
            }
            match self.next_pattern() {
                Some(Ok(p)) => self.current = Some(p),
                Some(Err(e)) => return Some(Err(e)),
                None => {
                    self.exhausted = true;
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
