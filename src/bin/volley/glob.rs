//! curl-style URL globbing, expanded lazily.
//!
//! Syntax (as curl's `--globoff`-less mode):
//! - `[1-100]` numbers, `[001-100]` zero-padded to the width of the first number,
//!   `[0-100:10]` with a step;
//! - `[a-z]`, `[A-Z]`, `[a-z:2]` letters (both ends the same case);
//! - `{a,b,c}` alternatives (an element may be empty: `{,s}`);
//! - several globs in one pattern form the cartesian product, the leftmost varying
//!   slowest, like curl;
//! - `\[ \] \{ \} \, \\` are literal characters; any other `\` is kept as is;
//! - a bracket holding an IPv6 address (`http://[::1]:8080/`) is left alone, as curl does.
//!
//! Expansion is an iterator that builds one URL at a time from per-glob counters, so a
//! pattern of a million URLs costs the same memory as one. `-g/--no-glob` is the caller's
//! business: it simply does not call [`Glob::parse`].

use std::fmt;

/// A parse error: what is wrong and the 1-based character column where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobError {
    /// 1-based column (in characters) of the offending character.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for GlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad URL glob at column {}: {} (escape with \\ or use -g/--no-glob)",
            self.column, self.message
        )
    }
}

impl std::error::Error for GlobError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    List(Vec<String>),
    Number { start: u64, step: u64, count: u64, width: usize },
    Letter { start: u8, step: u8, count: u64 },
}

impl Part {
    /// How many values this part takes (literals: 1).
    fn count(&self) -> u64 {
        match self {
            Part::Literal(_) => 1,
            Part::List(v) => v.len() as u64,
            Part::Number { count, .. } | Part::Letter { count, .. } => *count,
        }
    }

    /// Append value number `i` (< count) to `out`.
    fn push_value(&self, i: u64, out: &mut String) {
        match self {
            Part::Literal(s) => out.push_str(s),
            Part::List(v) => out.push_str(usize::try_from(i).ok().and_then(|i| v.get(i)).map_or("", |s| s)),
            Part::Number { start, step, width, .. } => {
                // Cannot overflow: count was computed so that start + (count-1)*step <= end.
                let n = start + i * step;
                out.push_str(&format!("{n:0width$}"));
            }
            Part::Letter { start, step, .. } => {
                let c = u64::from(*start) + i * u64::from(*step);
                out.push(char::from(u8::try_from(c).unwrap_or(b'?')));
            }
        }
    }
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    parts: Vec<Part>,
    count: u64,
}

impl Glob {
    /// Parse `pattern`; a pattern without globs expands to itself.
    pub fn parse(pattern: &str) -> Result<Glob, GlobError> {
        // Most lines of a long list have no glob at all: skip the char-by-char parse.
        if !pattern.contains(['\\', '{', '}', '[', ']']) {
            return Ok(Glob::literal(pattern));
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\\' if chars.get(i + 1).is_some_and(|n| is_escapable(*n)) => {
                    lit.push(chars[i + 1]);
                    i += 2;
                }
                '{' => {
                    let (list, next) = parse_list(&chars, i)?;
                    flush(&mut lit, &mut parts);
                    parts.push(Part::List(list));
                    i = next;
                }
                '[' => {
                    let close = (i + 1..chars.len())
                        .find(|&j| chars[j] == ']')
                        .ok_or_else(|| err(i, "'[' is never closed"))?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    if is_ipv6_literal(&inner) {
                        lit.push('[');
                        lit.push_str(&inner);
                        lit.push(']');
                    } else {
                        let part = parse_range(&inner, i)?;
                        flush(&mut lit, &mut parts);
                        parts.push(part);
                    }
                    i = close + 1;
                }
                ']' | '}' => return Err(err(i, &format!("unmatched '{c}'"))),
                _ => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        flush(&mut lit, &mut parts);
        let mut count: u64 = 1;
        for p in &parts {
            count = count.checked_mul(p.count()).ok_or_else(|| GlobError {
                column: 1,
                message: "the pattern expands to more than 2^64 URLs".to_string(),
            })?;
        }
        Ok(Glob { parts, count })
    }

    /// A pattern taken literally (`-g`): it expands to itself.
    pub fn literal(s: &str) -> Glob {
        Glob { parts: vec![Part::Literal(s.to_string())], count: 1 }
    }

    /// How many URLs the pattern expands to.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the pattern holds any glob (false: it expands to itself once).
    pub fn has_globs(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Literal(_)))
    }
}

impl IntoIterator for Glob {
    type Item = String;
    type IntoIter = Expansion;

    fn into_iter(self) -> Expansion {
        let counters = vec![0; self.parts.len()];
        Expansion { remaining: self.count, glob: self, counters }
    }
}

/// The lazy expansion of a [`Glob`]: one `String` per step, leftmost glob slowest.
#[derive(Debug, Clone)]
pub struct Expansion {
    glob: Glob,
    counters: Vec<u64>,
    remaining: u64,
}

impl Iterator for Expansion {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let mut out = String::new();
        for (part, &i) in self.glob.parts.iter().zip(&self.counters) {
            part.push_value(i, &mut out);
        }
        // Odometer step: the rightmost glob varies fastest.
        for (part, counter) in self.glob.parts.iter().zip(self.counters.iter_mut()).rev() {
            *counter += 1;
            if *counter < part.count() {
                break;
            }
            *counter = 0;
        }
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, usize::try_from(self.remaining).ok())
    }
}

fn is_escapable(c: char) -> bool {
    matches!(c, '[' | ']' | '{' | '}' | ',' | '\\')
}

fn err(index: usize, message: &str) -> GlobError {
    GlobError { column: index + 1, message: message.to_string() }
}

fn flush(lit: &mut String, parts: &mut Vec<Part>) {
    if !lit.is_empty() {
        parts.push(Part::Literal(std::mem::take(lit)));
    }
}

/// An IPv6 host (`::1`, `fe80::1%25eth0`): curl leaves such brackets unglobbed.
fn is_ipv6_literal(s: &str) -> bool {
    s.contains(':')
        && !s.contains('-')
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.' || c == '%' || c.is_ascii_alphanumeric())
}

/// Parse `{a,b,...}` starting at `open`; returns the elements and the index after `}`.
fn parse_list(chars: &[char], open: usize) -> Result<(Vec<String>, usize), GlobError> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if chars.get(i + 1).is_some_and(|n| is_escapable(*n)) => {
                cur.push(chars[i + 1]);
                i += 2;
                continue;
            }
            ',' => items.push(std::mem::take(&mut cur)),
            '}' => {
                items.push(cur);
                if items.len() == 1 && items[0].is_empty() {
                    return Err(err(open, "empty '{}' list"));
                }
                return Ok((items, i + 1));
            }
            '{' => return Err(err(i, "nested '{' inside a '{...}' list")),
            '[' | ']' => return Err(err(i, "'[' or ']' inside a '{...}' list (escape it with \\)")),
            c => cur.push(c),
        }
        i += 1;
    }
    Err(err(open, "'{' is never closed"))
}

/// Parse the inside of `[...]` (at index `open`) as a number or letter range.
fn parse_range(inner: &str, open: usize) -> Result<Part, GlobError> {
    let bad = |why: &str| err(open, &format!("invalid range [{inner}]: {why}"));
    let (range, step) = match inner.split_once(':') {
        Some((r, s)) => {
            let step: u64 = s.parse().map_err(|_| bad(&format!("step {s:?} is not a whole number")))?;
            (r, Some(step))
        }
        None => (inner, None),
    };
    if step == Some(0) {
        return Err(bad("step must be at least 1"));
    }
    let step = step.unwrap_or(1);
    let (a, b) = range.split_once('-').ok_or_else(|| bad("expected START-END, e.g. [1-10] or [a-z]"))?;
    let letters = |s: &str| {
        let mut it = s.chars();
        match (it.next(), it.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Some(c as u8),
            _ => None,
        }
    };
    if let (Some(x), Some(y)) = (letters(a), letters(b)) {
        if x.is_ascii_lowercase() != y.is_ascii_lowercase() {
            return Err(bad("both letters must be the same case"));
        }
        if x > y {
            return Err(bad("start is after end"));
        }
        let step = u8::try_from(step).map_err(|_| bad("step is too large"))?;
        let count = u64::from((y - x) / step) + 1;
        return Ok(Part::Letter { start: x, step, count });
    }
    let number = |s: &str, which: &str| -> Result<u64, GlobError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(&format!("{which} {s:?} is neither a number nor a single letter")));
        }
        s.parse().map_err(|_| bad(&format!("{which} {s:?} is too large")))
    };
    let start = number(a, "start")?;
    let end = number(b, "end")?;
    if start > end {
        return Err(bad("start is after end"));
    }
    // curl pads to the width of the first number when it has a leading zero.
    let width = if a.len() > 1 && a.starts_with('0') { a.len() } else { 0 };
    Ok(Part::Number { start, step, count: (end - start) / step + 1, width })
}

#[cfg(test)]
mod tests;
