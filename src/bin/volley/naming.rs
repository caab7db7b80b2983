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
    let replaced: String = raw
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
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
            if let (Some(h), Some(l)) = (
                s.get(i + 1).and_then(|&b| hex(b)),
                s.get(i + 2).and_then(|&b| hex(b)),
            ) {
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

/// Hands out output paths so that no two downloads of one run share a file, and —
/// unless overwriting — no existing file (or its `.part`) is touched.
///
/// Memory: the driver calls [`NameAllocator::release`] once a download has ended and its
/// file is on disk (the disk check then protects it), so the set holds the active
/// downloads only. With `overwrite`, released names are kept (the disk check is off, so
/// the set is what stops two URLs of one run writing the same file).
#[derive(Debug, Default)]
pub struct NameAllocator {
    claimed: HashSet<PathBuf>,
    overwrite: bool,
}

impl NameAllocator {
    /// An allocator; `overwrite` allows replacing files that existed before the run.
    pub fn new(overwrite: bool) -> NameAllocator {
        NameAllocator {
            claimed: HashSet::new(),
            overwrite,
        }
    }

    /// Claim `dir/name`, or wget-style `name.1`, `name.2`, … when that is taken in
    /// this run or (without overwrite) exists on disk, or its `.part` does.
    pub fn allocate(
        &mut self,
        dir: &Path,
        name: &str,
        exists: impl Fn(&Path) -> bool,
    ) -> Result<PathBuf, String> {
        for n in 0..=MAX_SUFFIX {
            let candidate = if n == 0 {
                dir.join(name)
            } else {
                dir.join(format!("{name}.{n}"))
            };
            if self.is_free(&candidate, &exists) {
                self.claimed.insert(candidate.clone());
                return Ok(candidate);
            }
        }
        Err(format!(
            "no free file name for {:?}: {name} up to {name}.{MAX_SUFFIX} are all taken",
            dir.join(name)
        ))
    }

    fn is_free(&self, path: &Path, exists: &impl Fn(&Path) -> bool) -> bool {
        !self.claimed.contains(path)
            && (self.overwrite || (!exists(path) && !exists(&part_path(path))))
    }

    /// Claim exactly `path` (for `-O`, `-c`, `out=`); false if this run already uses it.
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
mod tests {
    use super::*;
    use std::path::Component;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn safe_component_rules() {
        assert_eq!(safe_component("a.txt").as_deref(), Some("a.txt"));
        assert_eq!(safe_component("a/b\\c").as_deref(), Some("a_b_c"));
        assert_eq!(
            safe_component("a\u{1b}[31mred\u{7f}\u{85}").as_deref(),
            Some("a_[31mred__")
        );
        assert_eq!(safe_component(".bashrc").as_deref(), Some("bashrc"));
        assert_eq!(safe_component("..").as_deref(), None);
        assert_eq!(safe_component(" . ").as_deref(), None);
        assert_eq!(safe_component("").as_deref(), None);
        assert_eq!(safe_component("-rf").as_deref(), Some("_rf"));
        assert_eq!(safe_component("  x y  ").as_deref(), Some("x y"));
        assert_eq!(
            safe_component("../../etc/passwd").as_deref(),
            Some("_.._etc_passwd")
        );
    }

    #[test]
    fn long_names_keep_extension_and_utf8() {
        let long = format!("{}.tar.gz", "€".repeat(100));
        let s = safe_component(&long).unwrap();
        assert!(s.len() <= MAX_NAME_BYTES, "{}", s.len());
        assert!(s.ends_with("€.gz") || s.ends_with(".gz"));
        assert!(s.ends_with(".gz"));
        let no_ext = "x".repeat(300);
        assert_eq!(safe_component(&no_ext).unwrap().len(), MAX_NAME_BYTES);
        let huge_ext = format!("a.{}", "e".repeat(300));
        assert_eq!(safe_component(&huge_ext).unwrap().len(), MAX_NAME_BYTES);
    }

    #[test]
    fn names_from_urls() {
        assert_eq!(name_from_url(&url("http://h/a/b.iso")), "b.iso");
        assert_eq!(name_from_url(&url("http://h/a/b.iso?x=1#f")), "b.iso");
        assert_eq!(name_from_url(&url("http://h/")), "index.html");
        assert_eq!(name_from_url(&url("http://h")), "index.html");
        assert_eq!(name_from_url(&url("http://h/dir/")), "index.html");
        assert_eq!(
            name_from_url(&url("http://h/%E2%82%AC%20rates.txt")),
            "€ rates.txt"
        );
        assert_eq!(name_from_url(&url("http://h/a%2Fb")), "a_b");
        assert_eq!(name_from_url(&url("http://h/%2e%2e")), "index.html");
        assert_eq!(name_from_url(&url("http://h/x%ff%zz")), "x\u{fffd}%zz");
        assert_eq!(name_from_url(&url("http://h/100%")), "100%");
        assert_eq!(name_from_url(&url("http://h/%0a.txt")), "_.txt");
    }

    #[test]
    fn force_directories_cannot_escape() {
        // The URL parser already resolves `..` and `%2e%2e` segments.
        let p = force_dir_path(&url("http://Example.org:8080/a/%2e%2e/b%2Fc/../d/f.txt"));
        assert_eq!(p, PathBuf::from("example.org_8080/d/f.txt"));
        let p = force_dir_path(&url("http://h/a/b%2Fc/.hidden/-d/f.txt"));
        assert_eq!(p, PathBuf::from("h/a/b_c/hidden/_d/f.txt"));
        assert_eq!(
            force_dir_path(&url("https://h:443/x")),
            PathBuf::from("h/x")
        );
        assert_eq!(
            force_dir_path(&url("http://h/dir/")),
            PathBuf::from("h/dir/index.html")
        );
        assert_eq!(
            force_dir_path(&url("http://[::1]:81/a")),
            PathBuf::from("[::1]_81/a")
        );
        for u in [
            "http://h/..%2f..%2fx",
            "http://h/%2e./.%2e/y",
            "http://h/a/%5c..%5c/z",
        ] {
            let p = force_dir_path(&url(u));
            assert!(
                p.components().all(|c| matches!(c, Component::Normal(_))),
                "{u}: {p:?}"
            );
        }
    }

    #[test]
    fn content_disposition() {
        let cd = |s: &str| content_disposition_filename(s.as_bytes());
        assert_eq!(
            cd("attachment; filename=\"a b.txt\"").as_deref(),
            Some("a b.txt")
        );
        assert_eq!(
            cd("attachment; filename=plain.txt").as_deref(),
            Some("plain.txt")
        );
        assert_eq!(
            cd("attachment; filename=\"EURO rates.txt\"; filename*=UTF-8''%e2%82%ac%20rates.txt")
                .as_deref(),
            Some("€ rates.txt")
        );
        assert_eq!(
            cd("attachment; filename*=utf-8'en'%e2%82%ac.txt; filename=\"x.txt\"").as_deref(),
            Some("€.txt")
        );
        assert_eq!(
            cd("attachment; filename*=iso-8859-1''%A3%20rates").as_deref(),
            Some("£ rates")
        );
        // Undecodable filename* falls back to filename.
        assert_eq!(
            cd("attachment; filename*=UTF-8''%ff; filename=ok").as_deref(),
            Some("ok")
        );
        assert_eq!(
            cd("attachment; filename*=koi8-r''x; filename=ok").as_deref(),
            Some("ok")
        );
        assert_eq!(
            cd(r#"attachment; filename="q\"uote""#).as_deref(),
            Some("q\"uote")
        );
        // An escaped backslash is still a directory separator for the last-part rule.
        assert_eq!(cd(r#"attachment; filename="q\\d""#).as_deref(), Some("d"));
        assert_eq!(
            cd("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            cd("attachment; filename=\"C:\\\\x\\\\evil.exe\"").as_deref(),
            Some("evil.exe")
        );
        assert_eq!(cd("attachment; filename=\"..\"").as_deref(), None);
        assert_eq!(cd("inline").as_deref(), None);
        assert_eq!(
            cd("attachment; foo; size=3; FILENAME=\"up.txt\"").as_deref(),
            Some("up.txt")
        );
        assert_eq!(
            cd("attachment; filename=\"unterminated").as_deref(),
            Some("unterminated")
        );
        assert_eq!(
            cd("attachment; filename=\"a\"junk; x=y").as_deref(),
            Some("a")
        );
        // Raw Latin-1 bytes in the header.
        assert_eq!(
            content_disposition_filename(b"attachment; filename=\"\xa3.txt\"").as_deref(),
            Some("£.txt")
        );
    }

    #[test]
    fn allocator_suffixes_and_parts() {
        let on_disk: HashSet<PathBuf> = ["d/a", "d/b.part", "d/c.1"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let exists = |p: &Path| on_disk.contains(p);
        let mut alloc = NameAllocator::new(false);
        let dir = Path::new("d");
        assert_eq!(alloc.allocate(dir, "a", exists), Ok(PathBuf::from("d/a.1")));
        assert_eq!(alloc.allocate(dir, "a", exists), Ok(PathBuf::from("d/a.2")));
        assert_eq!(alloc.allocate(dir, "b", exists), Ok(PathBuf::from("d/b.1")));
        assert_eq!(alloc.allocate(dir, "c", exists), Ok(PathBuf::from("d/c")));
        assert_eq!(alloc.allocate(dir, "c", exists), Ok(PathBuf::from("d/c.2")));
        alloc.release(Path::new("d/c"));
        assert_eq!(alloc.allocate(dir, "c", exists), Ok(PathBuf::from("d/c")));
        assert!(!alloc.claim(Path::new("d/a.1")));
        assert!(alloc.claim(Path::new("d/z")));
        let all = |_: &Path| true;
        let err = alloc.allocate(dir, "full", all).unwrap_err();
        assert!(err.contains("no free file name"), "{err}");
    }

    #[test]
    fn allocator_overwrite_ignores_disk_not_the_run() {
        let mut alloc = NameAllocator::new(true);
        let dir = Path::new("d");
        let all = |_: &Path| true;
        assert_eq!(alloc.allocate(dir, "a", all), Ok(PathBuf::from("d/a")));
        assert_eq!(alloc.allocate(dir, "a", all), Ok(PathBuf::from("d/a.1")));
        alloc.release(Path::new("d/a"));
        assert_eq!(alloc.allocate(dir, "a", all), Ok(PathBuf::from("d/a.2")));
        assert_eq!(alloc.len(), 3);
    }

    #[test]
    fn allocator_against_a_real_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("f.bin"), b"old").unwrap();
        std::fs::write(dir.join("f.bin.1.part"), b"partial").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("missing"), dir.join("link")).unwrap();
        let mut alloc = NameAllocator::new(false);
        assert_eq!(
            alloc.allocate(dir, "f.bin", exists_on_disk),
            Ok(dir.join("f.bin.2"))
        );
        #[cfg(unix)]
        assert_eq!(
            alloc.allocate(dir, "link", exists_on_disk),
            Ok(dir.join("link.1"))
        );
        assert_eq!(part_path(&dir.join("x")), dir.join("x.part"));
    }
}
