//! CLI: output names — collisions, `-x`, unsafe names, Content-Disposition, no-clobber,
//! globs, the input-file form (`out=`, `checksum=`) and `--shard`.

mod support;

use std::fs;
use std::path::Path;
use support::bytes;
use support::cli_server::run;
use support::cli_server::{temp_dir, CliServer, Route};

/// Run volley with `args`; returns (exit code, stderr).
/// Every file under `dir`, as relative paths, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn names_and_collisions() {
    let srv = CliServer::start();
    srv.route("/d/a.txt", Route::file("one"));
    srv.route("/e/a.txt", Route::file("two"));
    srv.route("/dir/", Route::file("index"));
    srv.route("/my%20file.txt", Route::file("spaced"));
    let dir = temp_dir("names");
    let d = dir.to_str().expect("utf-8");
    let (code, err) = run(&[
        "-j",
        "1",
        "-P",
        d,
        &srv.url("/d/a.txt"),
        &srv.url("/e/a.txt"),
        &srv.url("/dir/"),
        &srv.url("/my%20file.txt"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&dir), ["a.txt", "a.txt.1", "index.html", "my file.txt"]);
    assert_eq!(fs::read(dir.join("a.txt")).expect("a"), b"one");
    assert_eq!(fs::read(dir.join("a.txt.1")).expect("a.1"), b"two");
    assert!(err.contains("4 ok, 0 failed"), "{err}");
    assert!(err.contains("[+] "), "{err}");
}

#[test]
fn force_directories() {
    let srv = CliServer::start();
    srv.route("/x/y/z.bin", Route::file("deep"));
    let dir = temp_dir("forcedirs");
    let (code, err) = run(&["-x", "-P", dir.to_str().expect("utf-8"), &srv.url("/x/y/z.bin")]);
    assert_eq!(code, 0, "{err}");
    let port = srv.url("").rsplit(':').next().expect("port").to_string();
    assert_eq!(files(&dir), [format!("127.0.0.1_{port}/x/y/z.bin")]);
}

#[test]
fn unsafe_names_stay_inside_the_directory() {
    let srv = CliServer::start();
    srv.route("/*", Route::file("x"));
    srv.route(
        "/cd",
        Route::file("cd").header("Content-Disposition", "attachment; filename=\"../../etc/passwd\""),
    );
    srv.route(
        "/cd2",
        Route::file("cd2").header(
            "Content-Disposition",
            "attachment; filename=\"plain.txt\"; filename*=UTF-8''%2E%2E%2Fr%C3%A9sum%C3%A9.txt",
        ),
    );
    let base = temp_dir("unsafe");
    let dir = base.join("out");
    let d = dir.to_str().expect("utf-8");
    let urls = ["/a/..", "/..%2F..%2Fevil", "/%2E%2E", "/%2Fetc%2Fpasswd", "/.hidden", "/-rf", "/cd", "/cd2"];
    let mut args = vec!["--content-disposition", "-j", "1", "-P", d];
    let urls: Vec<String> = urls.iter().map(|u| srv.url(u)).collect();
    args.extend(urls.iter().map(String::as_str));
    let (code, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    // Nothing outside the output directory.
    assert_eq!(files(&base).iter().filter(|f| !f.starts_with("out/")).count(), 0);
    let got = files(&dir);
    assert_eq!(got.len(), 8, "{got:?}");
    for f in &got {
        assert!(!f.contains('/') && !f.starts_with('.') && !f.starts_with('-'), "{f}");
    }
    assert!(got.contains(&"passwd".to_string()), "{got:?}");
    assert!(got.contains(&"_etc_passwd".to_string()), "{got:?}");
    assert!(got.contains(&"résumé.txt".to_string()), "{got:?}");
}

#[test]
fn existing_files_are_not_clobbered() {
    let srv = CliServer::start();
    srv.route("/a.txt", Route::file("new"));
    let dir = temp_dir("noclobber");
    fs::write(dir.join("a.txt"), "old").expect("write");
    let d = dir.to_str().expect("utf-8");
    let (code, err) = run(&["-P", d, &srv.url("/a.txt")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("a.txt")).expect("a"), b"old");
    assert_eq!(fs::read(dir.join("a.txt.1")).expect("a.1"), b"new");
    // --overwrite replaces it.
    let (code, err) = run(&["--overwrite", "-P", d, &srv.url("/a.txt")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(dir.join("a.txt")).expect("a"), b"new");
    // -O onto an existing file is refused.
    let target = dir.join("a.txt");
    let (code, err) = run(&["-O", target.to_str().expect("utf-8"), &srv.url("/a.txt")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("already exists"), "{err}");
}

/// `(url, path)` of each record in a `--report` file.
fn reported_paths(report: &Path) -> Vec<(String, String)> {
    fs::read_to_string(report)
        .expect("report")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (v["url"].as_str().expect("url").to_string(), v["path"].as_str().expect("path").to_string())
        })
        .collect()
}

#[test]
fn a_name_on_disk_is_found_at_the_rename_and_reported() {
    // Nothing is stat'ed before the download: the no-replace rename finds `a.txt` and
    // the file takes the next name that neither the disk nor this run uses.
    let srv = CliServer::start();
    srv.route("/d/a.txt", Route::file("one"));
    srv.route("/e/a.txt", Route::file("two"));
    let dir = temp_dir("taken-at-rename");
    let out = dir.join("out");
    fs::create_dir(&out).expect("mkdir");
    fs::write(out.join("a.txt"), "old").expect("write");
    let report = dir.join("r.jsonl");
    let (d, r) = (out.to_str().expect("utf-8"), report.to_str().expect("utf-8"));
    let (code, err) = run(&["-P", d, "--report", r, &srv.url("/d/a.txt"), &srv.url("/e/a.txt")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&out), ["a.txt", "a.txt.1", "a.txt.2"]);
    assert_eq!(fs::read(out.join("a.txt")).expect("a"), b"old");
    let got = reported_paths(&report);
    assert_eq!(got.len(), 2, "{got:?}");
    for (url, path) in got {
        let want: &[u8] = if url.ends_with("/d/a.txt") { b"one" } else { b"two" };
        assert_eq!(fs::read(&path).expect("reported file"), want, "{url} -> {path}");
        assert!(err.contains(&format!("[+] {url} -> {path} (")), "{url} -> {path}: {err}");
    }
}

#[test]
fn a_leftover_part_is_left_for_its_resume() {
    let srv = CliServer::start();
    let body = bytes(5000, 3);
    srv.route("/b.bin", Route::file(body.clone()));
    let dir = temp_dir("leftover-part");
    let out = dir.join("out");
    fs::create_dir(&out).expect("mkdir");
    fs::write(out.join("b.bin.part"), &body[..1000]).expect("part");
    let report = dir.join("r.jsonl");
    let (d, r) = (out.to_str().expect("utf-8"), report.to_str().expect("utf-8"));
    let url = srv.url("/b.bin");
    let (code, err) = run(&["-P", d, "--report", r, &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&out), ["b.bin.1", "b.bin.part"]);
    assert_eq!(fs::read(out.join("b.bin.part")).expect("part"), &body[..1000]);
    assert_eq!(fs::read(out.join("b.bin.1")).expect("b.1"), body);
    let path = out.join("b.bin.1").to_str().expect("utf-8").to_string();
    assert_eq!(reported_paths(&report), [(url.clone(), path.clone())]);
    assert!(err.contains(&format!("[*] saving {url} to {path}")), "{err}");
    assert!(err.contains(&format!("[+] {url} -> {path} (")), "{err}");
    // Untouched, so `-c` still resumes it where it stopped.
    let (code, err) = run(&["-c", "-P", d, &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(fs::read(out.join("b.bin")).expect("b"), body);
    let last = srv.seen_for("/b.bin").pop().expect("request");
    assert_eq!(last.header("range"), Some("bytes=1000-"));
}

#[test]
fn glob_ranges_and_lists() {
    let srv = CliServer::start();
    srv.route("/f/*", Route::file("g"));
    let dir = temp_dir("glob");
    let (code, err) =
        run(&["-P", dir.to_str().expect("utf-8"), &srv.url("/f/[1-5].txt"), &srv.url("/f/{x,y}.dat")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&dir), ["1.txt", "2.txt", "3.txt", "4.txt", "5.txt", "x.dat", "y.dat"]);
    assert_eq!(srv.seen().len(), 7);
    // -g takes brackets literally (a 404 here).
    let (code, _) = run(&["-g", "-P", dir.to_str().expect("utf-8"), &srv.url("/g/[1-2]")]);
    assert_eq!(code, 1);
    assert!(srv.seen().iter().any(|s| s.path == "/g/%5B1-2%5D" || s.path == "/g/[1-2]"));
}

#[test]
fn input_file_names_and_checksums() {
    let srv = CliServer::start();
    let good = bytes(5000, 1);
    srv.route("/good", Route::file(good.clone()));
    srv.route("/bad", Route::file(bytes(5000, 2)));
    let sha = |b: &[u8]| {
        let d = ring::digest::digest(&ring::digest::SHA256, b);
        d.as_ref().iter().map(|x| format!("{x:02x}")).collect::<String>()
    };
    let dir = temp_dir("inputfile");
    let list = dir.join("list.txt");
    fs::write(
        &list,
        format!(
            "# comment\n\n{}\n  out=renamed.bin\n  checksum=sha-256={}\n{}\n  out=bad.bin\n  checksum=sha-256={}\n",
            srv.url("/good"),
            sha(&good),
            srv.url("/bad"),
            sha(&good)
        ),
    )
    .expect("write list");
    let out = dir.join("out");
    let report = dir.join("report.jsonl");
    let (code, err) = run(&[
        "-i",
        list.to_str().expect("utf-8"),
        "-P",
        out.to_str().expect("utf-8"),
        "--report",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(files(&out), ["renamed.bin"]);
    assert_eq!(fs::read(out.join("renamed.bin")).expect("renamed"), good);
    let rep = fs::read_to_string(&report).expect("report");
    let bad: serde_json::Value = rep
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|v| v["url"].as_str().is_some_and(|u| u.ends_with("/bad")))
        .expect("bad record");
    assert_eq!(bad["error"]["kind"], "checksum");
    assert!(err.contains("sha-256 mismatch"), "{err}");
}

#[test]
fn shards_partition_the_hosts() {
    // Names that fail fast at a DNS "server" that refuses: the reports say which
    // shard took which URL without any traffic leaving 127.0.0.1.
    let urls: Vec<String> = (0..40).map(|i| format!("http://host{i}.test/f{i}")).collect();
    let dir = temp_dir("shard");
    let mut all = Vec::new();
    for k in 1..=3 {
        let report = dir.join(format!("r{k}.jsonl"));
        let shard = format!("{k}/3");
        let mut args = vec![
            "--dns-server",
            "127.0.0.1:1",
            "--retries",
            "0",
            "-q",
            "--shard",
            &shard,
            "--report",
            report.to_str().expect("utf-8"),
        ];
        args.extend(urls.iter().map(String::as_str));
        let (code, err) = run(&args);
        assert!(code == 1 || code == 0, "{err}");
        let rep = fs::read_to_string(&report).expect("report");
        let got: Vec<String> = rep
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                v["url"].as_str().expect("url").to_string()
            })
            .collect();
        assert!(got.len() < urls.len(), "shard {k} took everything");
        all.extend(got);
    }
    all.sort();
    let mut want = urls.clone();
    want.sort();
    assert_eq!(all, want, "union of shards must be every URL exactly once");
}

#[test]
fn a_part_symlink_is_never_written_through() {
    let srv = CliServer::start();
    srv.route("/s.txt", Route::file("evil"));
    let dir = temp_dir("symlink");
    let target = dir.join("target");
    fs::write(&target, "precious").expect("target");
    std::os::unix::fs::symlink(&target, dir.join("s.txt.part")).expect("symlink");
    for extra in ["-c", "--overwrite"] {
        let (code, err) = run(&[extra, "-P", dir.to_str().expect("utf-8"), &srv.url("/s.txt")]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
    assert_eq!(fs::read(&target).expect("target"), b"precious");
}

/// More directories than the CLI keeps open (256): every file still lands in its own.
#[test]
fn force_directories_beyond_the_open_directory_cache() {
    let srv = CliServer::start();
    srv.route("/*", Route::file("x"));
    let dir = temp_dir("manydirs");
    let urls: Vec<String> = (0..300).map(|i| srv.url(&format!("/d{i}/f.bin"))).collect();
    let mut args = vec!["-x", "-j", "8", "-P", dir.to_str().expect("utf-8")];
    args.extend(urls.iter().map(String::as_str));
    let (code, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let port = srv.url("").rsplit(':').next().expect("port").to_string();
    let mut want: Vec<String> = (0..300).map(|i| format!("127.0.0.1_{port}/d{i}/f.bin")).collect();
    want.sort();
    assert_eq!(files(&dir), want);
}

/// `-O NAME` without a directory writes into the current one.
#[test]
fn a_bare_output_name_is_in_the_current_directory() {
    let srv = CliServer::start();
    srv.route("/a.txt", Route::file("here"));
    let dir = temp_dir("bare");
    let out = support::cli_server::volley()
        .current_dir(&dir)
        .args(["-O", "got.txt", &srv.url("/a.txt")])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(files(&dir), ["got.txt"]);
    assert_eq!(fs::read(dir.join("got.txt")).expect("got"), b"here");
}
