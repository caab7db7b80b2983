//! Output file names: from the URL, from `Content-Disposition`, or as a directory tree
//! (`-x`), always made safe, plus the per-run [`NameAllocator`] that avoids collisions.
//!
//! A name comes from the network, so it is untrusted. [`safe_component`] turns any text
//! into one harmless path component:
//! - `/`, `\` and control characters (C0, DEL, C1) become `_` — no directory parts, no
//!   terminal escapes in later listings;
//! - surrounding white space is trimmed and *leading dots are stripped*, so neither `.`,
//!   `..` nor hidden files such as `.bashrc` or `.ssh` can be produced;
//! - a leading `-` becomes `_`, so a name is never read as an option by a later command;
//! - at most [`MAX_NAME_BYTES`] bytes, cut on a UTF-8 boundary and keeping a short
//!   extension, which leaves room for `.part` and `.N` under the usual 255-byte limit.
//!
//! Query strings are not part of the name (as curl `-O`, unlike wget). Windows device
//! names (`CON`, `NUL`) are not special-cased: volley targets Unix-like systems.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use volley::Url;

/// Longest file name produced, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
/// The name used when the URL path ends in `/` or nothing usable is left.
pub const FALLBACK_NAME: &str = "index.html";
/// Downloads are written to `NAME.part` and renamed when complete.
pub const PART_SUFFIX: &str = ".part";
/// Longest extension kept when a name is shortened (`.tar.gz` counts as `.gz`).
const MAX_EXT_BYTES: usize = 16;

/// Make `raw` a safe single path component (see the module docs); `None` when
/// nothing usable remains.
pub fn safe_component(raw: &str) -> Option<String> {
    let replaced: String =
        raw.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).collect();
    let trimmed = replaced.trim().trim_start_matches('.').trim_start();
    if trimmed.is_empty() {
        return None;
    }
    let mut name = match trimmed.strip_prefix('-') {
        Some(rest) => format!("_{rest}"),
        None => trimmed.to_string(),
    };
    if name.len() > MAX_NAME_BYTES {
        name = shorten(&name, MAX_NAME_BYTES);
    }
    Some(name)
}

/// Cut `name` to at most `max` bytes on a character boundary, keeping its extension.
fn shorten(name: &str, max: usize) -> String {
    let ext = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= MAX_EXT_BYTES => &name[i..],
        _ => "",
    };
    let mut cut = max - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &name[..cut])
}

/// Decode `%XX` escapes; invalid escapes stay as written and invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(s.as_bytes())).into_owned()
}

fn percent_decode_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hex = |b: u8| char::from(b).to_digit(16);
            if let (Some(h), Some(l)) =
                (s.get(i + 1).and_then(|&b| hex(b)), s.get(i + 2).and_then(|&b| hex(b)))
            {
                // Two hex digits make a value below 256.
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// The name for `url`: its last path segment, decoded and made safe, or `index.html`.
pub fn name_from_url(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut segs| segs.next_back())
        .and_then(|last| safe_component(&percent_decode(last)))
        .unwrap_or_else(|| FALLBACK_NAME.to_string())
}

/// `-x/--force-directories`: `host[_port]/dir/.../name`, relative, every component made
/// safe, so joining it to the output directory can never leave that directory. The port
/// appears only when the URL names a non-default one.
pub fn force_dir_path(url: &Url) -> PathBuf {
    let host = url.host_str().unwrap_or("");
    let host = match url.port() {
        Some(port) => format!("{host}_{port}"),
        None => host.to_string(),
    };
    let mut path = PathBuf::from(safe_component(&host).unwrap_or_else(|| "no-host".to_string()));
    if let Some(segs) = url.path_segments() {
        let segs: Vec<&str> = segs.collect();
        if let Some((_, dirs)) = segs.split_last() {
            for dir in dirs {
                if let Some(c) = safe_component(&percent_decode(dir)) {
                    path.push(c);
                }
            }
        }
    }
    path.push(name_from_url(url));
    path
}

/// The file name from a `Content-Disposition` value (RFC 6266), made safe: a valid
/// `filename*` (RFC 8187; UTF-8 or ISO-8859-1) is preferred over `filename`; only the
/// part after the last `/` or `\` is kept. `None` if there is no usable name.
pub fn content_disposition_filename(value: &[u8]) -> Option<String> {
    // Header values may carry obs-text: read non-UTF-8 bytes as ISO-8859-1.
    let text = match std::str::from_utf8(value) {
        Ok(s) => s.to_string(),
        Err(_) => value.iter().map(|&b| char::from(b)).collect(),
    };
    let mut plain = None;
    let mut extended = None;
    for (name, val) in parameters(&text) {
        if name.eq_ignore_ascii_case("filename*") {
            extended = extended.or_else(|| decode_ext_value(&val));
        } else if name.eq_ignore_ascii_case("filename") {
            plain = plain.or(Some(val));
        }
    }
    let chosen = extended.or(plain)?;
    let last = chosen.rsplit(['/', '\\']).next().unwrap_or("");
    safe_component(last)
}

/// Split `type; a=b; c="d"` into `(name, value)` pairs, unescaping quoted strings
/// (RFC 9110 §5.6.4). Lenient: a missing closing quote ends the value at the end.
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    // Skip the disposition type.
    for c in chars.by_ref() {
        if c == ';' {
            break;
        }
    }
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ';').is_some() {}
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ';') {
            name.push(c);
        }
        if chars.peek().is_none() && name.is_empty() {
            break;
        }
        if chars.next_if_eq(&'=').is_none() {
            continue; // a parameter without a value: ignore it
        }
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
            // Skip anything between the closing quote and the next ';'.
            while chars.next_if(|c| *c != ';').is_some() {}
        } else {
            while let Some(c) = chars.next_if(|c| *c != ';') {
                value.push(c);
            }
            value = value.trim_end().to_string();
        }
        out.push((name.trim().to_string(), value));
    }
    out
}

/// RFC 8187 `ext-value`: `charset'[language]'pct-encoded`.
fn decode_ext_value(v: &str) -> Option<String> {
    let mut it = v.splitn(3, '\'');
    let (charset, _lang, encoded) = (it.next()?, it.next()?, it.next()?);
    let bytes = percent_decode_bytes(encoded.as_bytes());
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.iter().map(|&b| char::from(b)).collect())
    } else {
        None
    }
}

/// `path` with `.part` appended to its file name.
pub fn part_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(PART_SUFFIX);
    PathBuf::from(s)
}

/// Whether anything (even a dangling symlink) is at `path`: never write through one.
pub fn exists_on_disk(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// Most `.N` suffixes tried before giving up on a name.
const MAX_SUFFIX: u32 = 9999;

/// `base` for `n` = 0, else `base.n` (wget style).
fn numbered(base: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return base.to_path_buf();
    }
    let mut s = base.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// A path handed out by [`NameAllocator::allocate`]: `name.N` (or `name`), with its
/// place in that sequence so the download can move on to a later `N` when the disk
/// turns out to hold the name already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    base: PathBuf,
    n: u32,
}

impl Slot {
    /// The path this slot holds now.
    pub fn path(&self) -> PathBuf {
        numbered(&self.base, self.n)
    }
}

/// Hands out output paths so that no two downloads of one run share a file.
///
/// It never looks at the disk: checking each name with a `stat` (and its `.part`) cost
/// about a quarter of the time of a small download. Whether a name is free on disk is
/// learnt where the kernel says so anyway — the exclusive create of the `.part` and the
/// no-replace rename — and the download then moves on through [`NameAllocator::others`].
///
/// Memory: the driver calls [`NameAllocator::release`] once a download has ended and its
/// file is on disk (a later download of that name then finds it there), so the set holds
/// the active downloads only. With `overwrite`, released names are kept (the disk does
/// not stop anything then, so the set is what stops two URLs of one run writing the
/// same file).
#[derive(Debug, Default)]
pub struct NameAllocator {
    claimed: HashSet<PathBuf>,
    overwrite: bool,
}

impl NameAllocator {
    /// An allocator; `overwrite` means downloads replace files that existed before the run.
    pub fn new(overwrite: bool) -> NameAllocator {
        NameAllocator { claimed: HashSet::new(), overwrite }
    }

    /// Claim `dir/name`, or wget-style `name.1`, `name.2`, … when that is taken in this run.
    pub fn allocate(&mut self, dir: &Path, name: &str) -> Result<Slot, String> {
        let base = dir.join(name);
        match self.first_free(&base, 0) {
            Some(n) => {
                let slot = Slot { base, n };
                self.claimed.insert(slot.path());
                Ok(slot)
            }
            None => Err(format!(
                "no free file name for {:?}: {name} up to {name}.{MAX_SUFFIX} are all used by this run",
                base
            )),
        }
    }

    fn first_free(&self, base: &Path, from: u32) -> Option<u32> {
        (from..=MAX_SUFFIX).find(|&n| !self.claimed.contains(&numbered(base, n)))
    }

    /// The names after `slot`'s that this run does not use, for when the disk holds
    /// `slot`'s: taking one gives up the slot's name and claims the new one, so the slot
    /// always holds what is claimed. Ends at `name.9999`; empty for `None` (a name that
    /// must not change, as with `-O` or `-c`).
    pub fn others<'a>(&'a mut self, slot: Option<&'a mut Slot>) -> impl Iterator<Item = PathBuf> + 'a {
        let mut slot = slot;
        std::iter::from_fn(move || {
            let slot = slot.as_deref_mut()?;
            let n = self.first_free(&slot.base, slot.n.checked_add(1)?)?;
            // The old name is someone else's file now, whatever `overwrite` says.
            self.claimed.remove(&slot.path());
            slot.n = n;
            let path = slot.path();
            self.claimed.insert(path.clone());
            Some(path)
        })
    }

    /// Claim exactly `path` (for `-O`); false if this run already uses it.
    pub fn claim(&mut self, path: &Path) -> bool {
        self.claimed.insert(path.to_path_buf())
    }

    /// A download of `path` has ended (see the type's docs for why this bounds memory).
    pub fn release(&mut self, path: &Path) {
        if !self.overwrite {
            self.claimed.remove(path);
        }
    }

    /// How many paths are held.
    pub fn len(&self) -> usize {
        self.claimed.len()
    }
}

#[cfg(test)]
mod tests;
