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
        InputReader {
            reader,
            line: 0,
            pending: None,
            finished: false,
            buf: Vec::new(),
        }
    }

    /// Read one physical line (without its line ending), at most [`MAX_LINE`] bytes.
    fn read_line(&mut self) -> io::Result<Line> {
        self.buf.clear();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut self.buf)?;
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
            Err(e) => Ok(Line::Bad(format!(
                "not valid UTF-8 (at byte {})",
                e.valid_up_to() + 1
            ))),
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> InputError {
        InputError {
            line,
            message: message.into(),
        }
    }
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
                        return Some(Err(self.error(
                            self.line,
                            format!("option {:?} is not below a URL", t.trim()),
                        )))
                    }
                    Ok(Line::Text(t)) => break (self.line, t.trim().to_string()),
                }
            },
        };
        let mut item = InputItem {
            url,
            out: None,
            checksum: None,
            line,
            warnings: Vec::new(),
        };
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
        item.warnings
            .push(format!("line {line}: ignoring {opt:?}: expected key=value"));
        return Ok(());
    };
    let (key, value) = (key.trim(), value.trim());
    match key {
        "out" => {
            if value.is_empty() {
                return Err("out= needs a file name".to_string());
            }
            if item.out.replace(value.to_string()).is_some() {
                item.warnings
                    .push(format!("line {line}: out= given twice; using the last"));
            }
        }
        "checksum" => {
            let digest = checksum::parse_spec(value)?;
            if item.checksum.replace(digest).is_some() {
                item.warnings.push(format!(
                    "line {line}: checksum= given twice; using the last"
                ));
            }
        }
        _ => item
            .warnings
            .push(format!("line {line}: ignoring unknown option {key:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const HEX: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn read_all(text: &str) -> Vec<Result<InputItem, String>> {
        InputReader::new(Cursor::new(text.as_bytes().to_vec()))
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    fn item(url: &str, line: usize) -> InputItem {
        InputItem {
            url: url.into(),
            out: None,
            checksum: None,
            line,
            warnings: vec![],
        }
    }

    #[test]
    fn urls_comments_blanks_and_options() {
        let text = format!(
            "\u{feff}# list\n\nhttp://a/1\r\n  out=one.bin\n\t checksum=sha-256={HEX}\n\n# c\n  # indented comment\nhttp://a/2\n   \nhttp://a/3"
        );
        let got = read_all(&text);
        let mut first = item("http://a/1", 3);
        first.out = Some("one.bin".into());
        first.checksum = checksum::hex_decode_sha256(HEX).ok();
        assert_eq!(
            got,
            vec![
                Ok(first),
                Ok(item("http://a/2", 9)),
                Ok(item("http://a/3", 11))
            ]
        );
    }

    #[test]
    fn unknown_options_warn() {
        let got = read_all("http://a/\n  split=4\n  noequals\n  out=x\n  out=y\n");
        let Some(Ok(it)) = got.first() else {
            panic!("{got:?}")
        };
        assert_eq!(it.out.as_deref(), Some("y"));
        assert_eq!(it.warnings.len(), 3, "{:?}", it.warnings);
        assert!(it.warnings[0].contains("line 2: ignoring unknown option \"split\""));
        assert!(it.warnings[1].contains("expected key=value"));
        assert!(it.warnings[2].contains("given twice"));
    }

    #[test]
    fn errors_name_the_line_and_reading_continues() {
        let text = "  out=x\nhttp://a/1\n  checksum=md5=00\nhttp://a/2\n  checksum=sha-256=abc\n  out=\nhttp://a/3\n";
        let got = read_all(text);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(
            got[0],
            Err("input line 1: option \"out=x\" is not below a URL".into())
        );
        let e = got[1].clone().unwrap_err();
        assert!(
            e.starts_with("input line 3: unsupported checksum algorithm \"md5\""),
            "{e}"
        );
        // The first bad option is reported.
        assert!(got[2]
            .clone()
            .unwrap_err()
            .starts_with("input line 5: sha-256 digest must be 64"));
        assert_eq!(got[3], Ok(item("http://a/3", 7)));
    }

    #[test]
    fn bad_utf8_and_overlong_lines() {
        let mut bytes = b"http://a/1\n\xff\xfe\n".to_vec();
        bytes.extend(vec![b'x'; MAX_LINE + 10]);
        bytes.extend(b"\nhttp://a/2\n");
        let got: Vec<_> = InputReader::new(Cursor::new(bytes))
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0], Ok(item("http://a/1", 1)));
        assert!(got[1]
            .clone()
            .unwrap_err()
            .contains("line 2: not valid UTF-8"));
        assert!(got[2]
            .clone()
            .unwrap_err()
            .contains(&format!("line 3: line is longer than {MAX_LINE}")));
        assert_eq!(got[3], Ok(item("http://a/2", 4)));
    }

    /// A reader that makes lines on the fly, so the test itself holds no big buffer.
    struct Generated {
        next: usize,
        total: usize,
        cur: Vec<u8>,
        pos: usize,
    }

    impl Read for Generated {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.cur.len() {
                if self.next == self.total {
                    return Ok(0);
                }
                self.cur = format!("http://h/{}\n", self.next).into_bytes();
                self.next += 1;
                self.pos = 0;
            }
            let n = out.len().min(self.cur.len() - self.pos);
            out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn a_million_lines_stream() {
        let src = Generated {
            next: 0,
            total: 1_000_000,
            cur: Vec::new(),
            pos: 0,
        };
        let mut reader = InputReader::new(io::BufReader::new(src));
        let mut n = 0usize;
        let mut last = None;
        for r in reader.by_ref() {
            let it = r.map_err(|e| e.to_string());
            last = Some(it.clone());
            n += 1;
            assert!(it.is_ok());
        }
        assert_eq!(n, 1_000_000);
        assert_eq!(last, Some(Ok(item("http://h/999999", 1_000_000))));
        // The reader kept one line's buffer, not the input.
        assert!(reader.buf.capacity() < 1024);
    }

    #[test]
    fn read_errors_stop_iteration() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let got: Vec<_> = InputReader::new(io::BufReader::new(Failing)).collect();
        assert_eq!(got.len(), 1);
        assert!(got[0]
            .as_ref()
            .is_err_and(|e| e.to_string().contains("read error: disk on fire")));
    }
}
