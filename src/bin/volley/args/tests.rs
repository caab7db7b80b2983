//! Tests for the option parsers and the `Args` definition.

use super::*;
use clap::CommandFactory;

fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
    Args::try_parse_from(std::iter::once("volley").chain(argv.iter().copied()))
}

#[test]
fn clap_definition_is_consistent() {
    Args::command().debug_assert();
}

#[test]
fn rates_and_sizes() {
    assert_eq!(parse_rate("100"), Ok(100));
    assert_eq!(parse_rate("500k"), Ok(500 * 1024));
    assert_eq!(parse_rate("500K"), Ok(500 * 1024));
    assert_eq!(parse_rate("2M"), Ok(2 << 20));
    assert_eq!(parse_rate("1.5M"), Ok(3 << 19));
    assert_eq!(parse_rate("1MiB"), Ok(1 << 20));
    assert_eq!(parse_rate("1MB/s"), Ok(1 << 20));
    assert!(parse_rate("0").unwrap_err().contains("at least 1"));
    for bad in ["", "k", "abc", "1x", "-5", "1.2.3M", "5 M k", "NaN", "inf"] {
        let e = parse_rate(bad).unwrap_err();
        assert!(e.starts_with("invalid rate"), "{bad}: {e}");
    }
    assert_eq!(parse_size("64M"), Ok(64 << 20));
    assert_eq!(parse_size("0"), Ok(0));
    assert_eq!(parse_size("2g"), Ok(2 << 30));
    assert_eq!(parse_size("1T"), Ok(1 << 40));
    assert!(parse_size("99999999999T").unwrap_err().contains("too large"));
    assert!(parse_size("é").unwrap_err().starts_with("invalid size"));
}

#[test]
fn durations() {
    assert_eq!(parse_secs("30"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_secs("0.25"), Ok(Duration::from_millis(250)));
    assert!(parse_secs("0").unwrap_err().contains("more than 0"));
    assert!(parse_secs("-1").unwrap_err().contains("more than 0"));
    assert!(parse_secs("NaN").unwrap_err().contains("more than 0"));
    assert!(parse_secs("1e30").unwrap_err().contains("too large"));
    assert!(parse_secs("10s").unwrap_err().contains("expected seconds"));
}

#[test]
fn headers() {
    assert_eq!(
        parse_header("X-Token:  abc def "),
        Ok(Header { name: "X-Token".into(), value: "abc def".into() })
    );
    assert_eq!(parse_header("Empty:"), Ok(Header { name: "Empty".into(), value: String::new() }));
    assert_eq!(parse_header("A: b:c").map(|h| h.value), Ok("b:c".to_string()));
    assert!(parse_header("NoColon").unwrap_err().contains("expected 'Name: value'"));
    assert!(parse_header(": v").unwrap_err().contains("must be a token"));
    assert!(parse_header("Bad Name: v").unwrap_err().contains("\"Bad Name\""));
    assert!(parse_header("X: a\r\nEvil: 1").unwrap_err().contains("CR, LF or NUL"));
    assert!(parse_header_value("ua\n").is_err());
}

#[test]
fn dns_servers() {
    let sa = |s: &str| s.parse::<SocketAddr>().unwrap();
    assert_eq!(parse_dns_server("1.1.1.1"), Ok(sa("1.1.1.1:53")));
    assert_eq!(parse_dns_server("127.0.0.1:5353"), Ok(sa("127.0.0.1:5353")));
    assert_eq!(parse_dns_server("::1"), Ok(sa("[::1]:53")));
    assert_eq!(parse_dns_server("[::1]"), Ok(sa("[::1]:53")));
    assert_eq!(parse_dns_server("[::1]:5353"), Ok(sa("[::1]:5353")));
    for bad in ["dns.google", "1.1.1.1:99999", "[::1", "", "1.1.1.1:"] {
        assert!(parse_dns_server(bad).unwrap_err().contains("invalid DNS server"), "{bad}");
    }
}

#[test]
fn methods_and_counts() {
    assert_eq!(parse_method("PROPFIND"), Ok("PROPFIND".into()));
    assert!(parse_method("GE T").unwrap_err().contains("invalid method"));
    assert!(parse_method("").is_err());
    assert_eq!(parse_count("64"), Ok(64));
    assert!(parse_count("0").unwrap_err().contains("at least 1"));
    assert!(parse_count("x").unwrap_err().contains("whole number"));
}

#[test]
fn defaults() {
    let a = parse(&["http://h/"]).unwrap();
    assert_eq!(a.parallel, 16);
    assert_eq!(a.per_host, 6);
    assert_eq!(a.retries, 2);
    assert_eq!(a.max_redirects, 10);
    assert_eq!(a.cat_buffer, 64 << 20);
    assert_eq!(a.directory, PathBuf::from("."));
    assert_eq!(a.effective_method(), "GET");
    assert!(a.validate().is_ok());
    let c = a.client_config();
    assert_eq!(c.max_connections, 16);
    assert_eq!(c.max_per_origin, 6);
    assert_eq!(c.max_redirects, 10);
    assert_eq!(c.connect_timeout, volley::Config::default().connect_timeout);
}

#[test]
fn every_option_parses() {
    let a = parse(&[
        "-i",
        "-",
        "-g",
        "-P",
        "out",
        "-x",
        "--content-disposition",
        "--overwrite",
        "-c",
        "--max-bytes",
        "1M",
        "-j",
        "64",
        "--per-host",
        "2",
        "-X",
        "PUT",
        "-H",
        "A: 1",
        "-H",
        "B: 2",
        "-d",
        "x=1",
        "-A",
        "bot/1",
        "--max-redirects",
        "3",
        "--timeout",
        "60",
        "--connect-timeout",
        "1.5",
        "--head-timeout",
        "5",
        "--idle-timeout",
        "7",
        "--retries",
        "0",
        "--limit-rate",
        "2M",
        "--shard",
        "2/4",
        "-v",
        "--report",
        "r.jsonl",
        "--save-errors",
        "--cacert",
        "a.pem",
        "--cacert",
        "b.pem",
        "--no-default-roots",
        "-k",
        "--cert",
        "c.pem",
        "--key",
        "k.pem",
        "--dns-server",
        "127.0.0.1:5353",
        "--dns-server",
        "[::1]",
    ])
    .unwrap();
    assert_eq!(a.input_file.as_deref(), Some("-"));
    assert!(a.no_glob && a.force_directories && a.content_disposition && a.overwrite);
    assert!(a.resume && a.verbose && a.save_errors && a.insecure && a.no_default_roots);
    assert_eq!(a.headers.len(), 2);
    assert_eq!(a.shard, Some(Shard { k: 2, n: 4 }));
    assert_eq!(a.effective_method(), "PUT");
    assert_eq!(a.dns_server.len(), 2);
    let c = a.client_config();
    assert_eq!(c.max_connections, 64);
    assert_eq!(c.total_timeout, Some(Duration::from_secs(60)));
    assert_eq!(c.connect_timeout, Duration::from_millis(1500));
    assert_eq!(c.max_download_rate, Some(2 << 20));
    assert_eq!(c.user_agent, "bot/1");
    assert_eq!(c.tls.extra_roots_pem.len(), 2);
    assert!(c.tls.only_extra_roots && c.tls.insecure);
    assert_eq!(c.dns.servers.len(), 2);
    assert!(a.validate().is_ok());
}

#[test]
fn usage_errors() {
    // clap exits with status 2 for these.
    for argv in [
        &["-q", "-v", "u"][..],
        &["-d", "x", "--data-file", "f", "u"],
        &["--no-redirect", "--max-redirects", "3", "u"],
        &["--cat", "-O", "f", "u"],
        &["--key", "k.pem", "u"],
        &["--no-default-roots", "u"],
        &["--shard", "5/4", "u"],
        &["-j", "0", "u"],
        &["--limit-rate", "fast", "u"],
        &["-H", "bad", "u"],
        &["--bogus", "u"],
    ] {
        let e = parse(argv).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{argv:?}");
    }
    let msg = parse(&["--limit-rate", "fast", "u"]).unwrap_err().to_string();
    assert!(msg.contains("--limit-rate") && msg.contains("invalid rate \"fast\""), "{msg}");
}

#[test]
fn cross_option_checks() {
    let v = |argv: &[&str]| parse(argv).unwrap().validate();
    assert!(v(&[]).unwrap_err().contains("no URLs given"));
    assert!(v(&["-O", "f", "a", "b"]).unwrap_err().contains("single URL"));
    assert!(v(&["-O", "f", "-i", "l", "a"]).unwrap_err().contains("single URL"));
    assert!(v(&["-O", "", "a"]).unwrap_err().contains("needs a file name"));
    assert!(v(&["--cat", "--report", "-", "a"]).unwrap_err().contains("stdout"));
    assert!(v(&["-O", "-", "--report", "-", "a"]).unwrap_err().contains("stdout"));
    assert!(v(&["-i", "list"]).is_ok());
    assert_eq!(parse(&["-d", "x", "u"]).unwrap().effective_method(), "POST");
    assert_eq!(parse(&["--no-redirect", "u"]).unwrap().redirect_limit(), 0);
}

#[test]
fn help_documents_every_option() {
    let help = Args::command().render_long_help().to_string();
    for opt in [
        "--input-file",
        "--no-glob",
        "--directory",
        "--output",
        "--force-directories",
        "--content-disposition",
        "--overwrite",
        "--continue",
        "--cat",
        "--cat-buffer",
        "--max-bytes",
        "--parallel",
        "--per-host",
        "--method",
        "--header",
        "--data",
        "--data-file",
        "--user-agent",
        "--max-redirects",
        "--no-redirect",
        "--timeout",
        "--connect-timeout",
        "--head-timeout",
        "--idle-timeout",
        "--retries",
        "--limit-rate",
        "--shard",
        "--quiet",
        "--verbose",
        "--report",
        "--save-errors",
        "--cacert",
        "--no-default-roots",
        "--insecure",
        "--cert",
        "--key",
        "--dns-server",
        "Examples:",
        "Exit status",
    ] {
        assert!(help.contains(opt), "help lacks {opt}");
    }
    for arg in Args::command().get_arguments() {
        assert!(arg.get_help().is_some(), "{} has no help", arg.get_id());
    }
}
