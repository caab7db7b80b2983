//! The `-i/--input-file` reader: one URL per line, read lazily from any `BufRead`
//! (`-` is stdin), so a list of millions of URLs costs O(1) memory.
//!
//! Format (a subset of aria2c's):
//! ```text
//! # a comment; blank lines are skipped too
//! https://example.org/a.iso
//!   out=debian.iso
//!   checksum=sha-256=5f1e...64 hex digits...
//! https://example.org/b
//! ```
//! Lines indented with a space or tab are `key=value` options for the URL above them:
//! `out=NAME` (the output file name) and `checksum=sha-256=HEX`. Unknown options give a
//! warning on the item, not an error, so files written for aria2c still work. Glob
//! expansion of the URL is the caller's step ([`crate::glob`]), as for command-line URLs.
//!
//! Errors name the line. They are not terminal: after an error the reader goes on
//! with the next line, and the driver decides whether to stop.

use crate::checksum;
use std::fmt;
use std::io::{self, BufRead, Read};

/// Longest accepted line; a longer one is an error (and is skipped) so that a binary
/// file given by mistake cannot make the reader buffer gigabytes.
pub const MAX_LINE: usize = 64 * 1024;

/// One URL from the input file, with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputItem {
    /// The URL (or glob pattern) as written, trimmed.
    pub url: String,
    /// `out=NAME`.
    pub out: Option<String>,
    /// `checksum=sha-256=HEX`.
    pub checksum: Option<[u8; 32]>,
    /// 1-based line number of the URL.
    pub line: usize,
    /// Non-fatal problems with the option lines (unknown options, repeats).
    pub warnings: Vec<String>,
}

/// A line that cannot be used.
#[derive(Debug)]
pub struct InputError {
    /// 1-based line number (0 when a read failed before any line).
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for InputError {}

/// The lazy reader; an iterator of items or per-line errors.
pub struct InputReader<R> {
    reader: R,
    line: usize,
    /// The next URL line (or unusable line), read while looking for the options of the
    /// previous item.
    pending: Option<Result<(usize, String), InputError>>,
    /// Set after an I/O error or end of input.
    finished: bool,
    buf: Vec<u8>,
}

enum Line {
    Eof,
    Text(String),
    Bad(String),
}

impl<R: BufRead> InputReader<R> {
    /// Read from `reader`.
    pub fn new(reader: R) -> InputReader<R> {
        InputReader { reader, line: 0, pending: None, finished: false, buf: Vec::new() }
    }

    /// Read one physical line (without its line ending), at most [`MAX_LINE`] bytes.
    fn read_line(&mut self) -> io::Result<Line> {
        self.buf.clear();
        let n = (&mut self.reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(Line::Eof);
        }
        self.line += 1;
        if self.buf.last() != Some(&b'\n') && self.buf.len() > MAX_LINE {
            // Skip the rest of the over-long line without keeping it.
            loop {
                let chunk = self.reader.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                if let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
                    self.reader.consume(pos + 1);
                    break;
                }
                let len = chunk.len();
                self.reader.consume(len);
            }
            return Ok(Line::Bad(format!("line is longer than {MAX_LINE} bytes")));
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        let mut bytes = self.buf.as_slice();
        if self.line == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Line::Text(s.to_string())),
            Err(e) => Ok(Line::Bad(format!("not valid UTF-8 (at byte {})", e.valid_up_to() + 1))),
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> InputError {
        InputError { line, message: message.into() }
    }
}

/// Open the `-i` argument: `-` is stdin, anything else a file (the error names it).
pub fn open(path: &str) -> Result<Box<dyn BufRead>, String> {
    if path == "-" {
        return Ok(Box::new(io::BufReader::new(io::stdin())));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open input file {path:?}: {e}"))?;
    Ok(Box::new(io::BufReader::new(file)))
}

fn is_indented(s: &str) -> bool {
    s.starts_with([' ', '\t'])
}

fn is_skippable(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t.starts_with('#')
}

impl<R: BufRead> Iterator for InputReader<R> {
    type Item = Result<InputItem, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Find the item's URL line: the pending one, or the next meaningful line.
        let (line, url) = match self.pending.take() {
            Some(Ok(p)) => p,
            Some(Err(e)) => return Some(Err(e)),
            None => loop {
                if self.finished {
                    return None;
                }
                match self.read_line() {
                    Err(e) => {
                        self.finished = true;
                        return Some(Err(self.error(self.line, format!("read error: {e}"))));
                    }
                    Ok(Line::Eof) => {
                        self.finished = true;
                        return None;
                    }
                    Ok(Line::Bad(msg)) => return Some(Err(self.error(self.line, msg))),
                    Ok(Line::Text(t)) if is_skippable(&t) => continue,
                    Ok(Line::Text(t)) if is_indented(&t) => {
                        return Some(Err(
                            self.error(self.line, format!("option {:?} is not below a URL", t.trim()))
                        ))
                    }
                    Ok(Line::Text(t)) => break (self.line, t.trim().to_string()),
                }
            },
        };
        let mut item = InputItem { url, out: None, checksum: None, line, warnings: Vec::new() };
        let mut failure: Option<InputError> = None;
        // Peek at following lines: indented ones are options for this item; the first
        // unindented URL line is kept for the next call.
        while !self.finished {
            match self.read_line() {
                Err(e) => {
                    self.finished = true;
                    failure.get_or_insert(self.error(self.line, format!("read error: {e}")));
                }
                Ok(Line::Eof) => self.finished = true,
                Ok(Line::Bad(msg)) => {
                    // Whether a broken line was meant as an option or a URL is unknowable;
                    // it ends this item and is reported on its own.
                    self.pending = Some(Err(self.error(self.line, msg)));
                    break;
                }
                Ok(Line::Text(t)) if is_skippable(&t) => {}
                Ok(Line::Text(t)) if is_indented(&t) => {
                    if let Err(msg) = apply_option(&mut item, t.trim(), self.line) {
                        failure.get_or_insert(self.error(self.line, msg));
                    }
                }
                Ok(Line::Text(t)) => {
                    self.pending = Some(Ok((self.line, t.trim().to_string())));
                    break;
                }
            }
        }
        Some(match failure {
            Some(e) => Err(e),
            None => Ok(item),
        })
    }
}

/// Apply one `key=value` option line to `item`.
fn apply_option(item: &mut InputItem, opt: &str, line: usize) -> Result<(), String> {
    let Some((key, value)) = opt.split_once('=') else {
        item.warnings.push(format!("line {line}: ignoring {opt:?}: expected key=value"));
        return Ok(());
    };
    let (key, value) = (key.trim(), value.trim());
    match key {
        "out" => {
            if value.is_empty() {
                return Err("out= needs a file name".to_string());
            }
            if item.out.replace(value.to_string()).is_some() {
                item.warnings.push(format!("line {line}: out= given twice; using the last"));
            }
        }
        "checksum" => {
            let digest = checksum::parse_spec(value)?;
            if item.checksum.replace(digest).is_some() {
                item.warnings.push(format!("line {line}: checksum= given twice; using the last"));
            }
        }
        _ => item.warnings.push(format!("line {line}: ignoring unknown option {key:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
