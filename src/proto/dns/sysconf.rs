//! The system's resolver configuration, parsed from text: resolv.conf (resolv.conf(5) as
//! glibc reads it: `nameserver`, `search`, `domain`, `options ndots: timeout: attempts:
//! rotate`) and the hosts file (hosts(5)). Parsers take `&str`; only [`load`] reads files,
//! once when the client is created, never in the loop. Anything missing or malformed
//! falls back to glibc's defaults and leaves a warning; nothing here fails.

use crate::config::DnsConfig;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// glibc limits (resolv.h): MAXNS, MAXDNSRCH, RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY.
const MAX_NS: usize = 3;
const MAX_SEARCH: usize = 6;
const MAX_NDOTS: u32 = 15;
const MAX_TIMEOUT_S: u64 = 30;
const MAX_ATTEMPTS: u32 = 5;

/// What the lookup machine needs from resolv.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvConf {
    pub(crate) nameservers: Vec<SocketAddr>,
    /// Search domains, lower-case, without leading or trailing dots.
    pub(crate) search: Vec<String>,
    pub(crate) ndots: u32,
    /// Per-try timeout.
    pub(crate) timeout: Duration,
    /// Rounds over all name servers.
    pub(crate) attempts: u32,
    /// Start each lookup at the next server rather than always the first.
    pub(crate) rotate: bool,
}

/// The names to try for `host`, in order, from the search list and `ndots` (glibc
/// res_search): a trailing dot is absolute; with at least `ndots` dots the name
/// itself comes first, otherwise last.
pub(crate) fn candidates(host: &str, search: &[String], ndots: u32) -> Vec<String> {
    if host.ends_with('.') {
        return vec![host.to_string()];
    }
    let dots = host.bytes().filter(|&b| b == b'.').count();
    let searched = search.iter().map(|d| format!("{host}.{d}"));
    if dots >= ndots as usize {
        std::iter::once(host.to_string()).chain(searched).collect()
    } else {
        searched.chain(std::iter::once(host.to_string())).collect()
    }
}

impl Default for ResolvConf {
    fn default() -> ResolvConf {
        ResolvConf {
            nameservers: vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53)],
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
            rotate: false,
        }
    }
}

/// Parses resolv.conf text. Unknown keywords are ignored as glibc does; malformed values
/// of known ones leave a warning.
pub(crate) fn parse_resolv_conf(text: &str, warnings: &mut Vec<String>) -> ResolvConf {
    let mut conf = ResolvConf { nameservers: Vec::new(), ..ResolvConf::default() };
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        let warn =
            |w: &mut Vec<String>, what: &str| w.push(format!("resolv.conf line {}: {what}: {raw:?}", n + 1));
        match key {
            "nameserver" => match words.next().map(|w| w.parse::<IpAddr>()) {
                Some(Ok(ip)) if conf.nameservers.len() < MAX_NS => {
                    conf.nameservers.push(SocketAddr::new(ip, 53))
                }
                Some(Ok(_)) => warn(warnings, "more than 3 name servers, ignored"),
                _ => warn(warnings, "bad name server address"),
            },
            // The last `search` or `domain` line wins, as in glibc.
            "search" | "domain" => {
                conf.search = words
                    .map(|d| d.trim_matches('.').to_ascii_lowercase())
                    .filter(|d| !d.is_empty())
                    .take(if key == "domain" { 1 } else { MAX_SEARCH })
                    .collect();
            }
            "options" => {
                for opt in words {
                    let (name, value) = opt.split_once(':').unwrap_or((opt, ""));
                    let num = value.parse::<u32>();
                    match (name, num) {
                        ("ndots", Ok(v)) => conf.ndots = v.min(MAX_NDOTS),
                        ("timeout", Ok(v)) => {
                            conf.timeout = Duration::from_secs(u64::from(v.max(1)).min(MAX_TIMEOUT_S))
                        }
                        ("attempts", Ok(v)) => conf.attempts = v.clamp(1, MAX_ATTEMPTS),
                        ("rotate", _) => conf.rotate = true,
                        ("ndots" | "timeout" | "attempts", Err(_)) => warn(warnings, "bad option value"),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if conf.nameservers.is_empty() {
        // glibc's default when no name server is listed.
        warnings.push("resolv.conf names no name server; using 127.0.0.1:53".to_string());
        conf.nameservers = ResolvConf::default().nameservers;
    }
    conf
}

/// Host names from the hosts file, lower-case, to their addresses in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Hosts {
    map: HashMap<String, Vec<IpAddr>>,
}

impl Hosts {
    /// The addresses for `name` (lower-case, no trailing dot), if listed.
    pub(crate) fn get(&self, name: &str) -> Option<&[IpAddr]> {
        self.map.get(name).map(Vec::as_slice)
    }
}

/// Parses hosts-file text: `address canonical-name [aliases...]`, `#` starts a comment.
pub(crate) fn parse_hosts(text: &str, warnings: &mut Vec<String>) -> Hosts {
    let mut hosts = Hosts::default();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(addr) = words.next() else { continue };
        // A zone (`fe80::1%eth0`) cannot be carried in an IpAddr; such lines are skipped.
        let Ok(ip) = addr.parse::<IpAddr>() else {
            warnings.push(format!("hosts line {}: bad address: {raw:?}", n + 1));
            continue;
        };
        for name in words {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let list = hosts.map.entry(name).or_default();
            if !list.contains(&ip) {
                list.push(ip);
            }
        }
    }
    hosts
}

fn read(path: &Path, what: &str, warnings: &mut Vec<String>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) => {
            warnings.push(format!("cannot read {what} {}: {e}; using defaults", path.display()));
            None
        }
    }
}

/// Reads resolv.conf and the hosts file named by `cfg` (or the system ones) once.
/// `cfg.servers`, when set, replace resolv.conf's name servers.
pub(crate) fn load(cfg: &DnsConfig) -> (ResolvConf, Hosts, Vec<String>) {
    let mut warnings = Vec::new();
    let resolv_path = cfg.resolv_conf.as_deref().unwrap_or(Path::new("/etc/resolv.conf"));
    let mut conf = match read(resolv_path, "resolv.conf", &mut warnings) {
        Some(text) => {
            let mut w = Vec::new();
            let conf = parse_resolv_conf(&text, &mut w);
            // With explicit servers, a resolv.conf without name servers is not a problem.
            warnings
                .extend(w.into_iter().filter(|m| cfg.servers.is_empty() || !m.contains("no name server")));
            conf
        }
        None => ResolvConf::default(),
    };
    if !cfg.servers.is_empty() {
        conf.nameservers = cfg.servers.clone();
    }
    let hosts_path = cfg.hosts_file.as_deref().unwrap_or(Path::new("/etc/hosts"));
    let hosts = match read(hosts_path, "hosts file", &mut warnings) {
        Some(text) => parse_hosts(&text, &mut warnings),
        None => Hosts::default(),
    };
    (conf, hosts, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_full() {
        let mut w = Vec::new();
        let text = "# comment\nnameserver 10.0.0.1\nnameserver 2001:db8::53 ; v6\ndomain old.example\n\
                    search Corp.Example. lab.example\noptions ndots:2 timeout:3 attempts:4 rotate edns0\n\
                    sortlist 1.2.3.4\n";
        let c = parse_resolv_conf(text, &mut w);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            c.nameservers,
            vec!["10.0.0.1:53".parse().expect("sa"), "[2001:db8::53]:53".parse().expect("sa")]
        );
        assert_eq!(c.search, vec!["corp.example", "lab.example"]);
        assert_eq!((c.ndots, c.timeout, c.attempts, c.rotate), (2, Duration::from_secs(3), 4, true));
    }

    #[test]
    fn last_search_or_domain_wins_and_limits_apply() {
        let mut w = Vec::new();
        let c = parse_resolv_conf(
            "search a b\ndomain c.example\noptions ndots:99 attempts:0 timeout:999\n",
            &mut w,
        );
        assert_eq!(c.search, vec!["c.example"]);
        assert_eq!((c.ndots, c.attempts, c.timeout), (15, 1, Duration::from_secs(30)));
    }

    #[test]
    fn malformed_falls_back_with_warnings() {
        let mut w = Vec::new();
        let c = parse_resolv_conf("nameserver banana\noptions ndots:x\n\0\u{1}garbage", &mut w);
        assert_eq!(c, ResolvConf::default());
        assert_eq!(w.len(), 3, "{w:?}");
    }

    #[test]
    fn hosts_file() {
        let mut w = Vec::new();
        let h = parse_hosts(
            "127.0.0.1 localhost\n::1 localhost ip6-localhost # c\n192.0.2.5 Web.Example web # x\n\
             # 10.0.0.1 hidden\nnot-an-ip foo\n192.0.2.6 web\n",
            &mut w,
        );
        assert_eq!(w.len(), 1);
        assert_eq!(h.get("localhost").map(<[IpAddr]>::len), Some(2));
        assert_eq!(h.get("web.example"), Some(&["192.0.2.5".parse().expect("ip")][..]));
        assert_eq!(h.get("web").map(<[IpAddr]>::len), Some(2));
        assert!(h.get("hidden").is_none());
    }

    #[test]
    fn load_missing_files_and_override() {
        let cfg = DnsConfig {
            servers: vec!["127.0.0.1:5353".parse().expect("sa")],
            resolv_conf: Some("/nonexistent/resolv.conf".into()),
            hosts_file: Some("/nonexistent/hosts".into()),
            ..DnsConfig::default()
        };
        let (c, h, w) = load(&cfg);
        assert_eq!(c.nameservers, cfg.servers);
        assert_eq!(h, Hosts::default());
        assert_eq!(w.len(), 2);
    }
}
