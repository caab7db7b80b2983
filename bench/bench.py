#!/usr/bin/env python3
"""Measure, verify and report the volley benchmark (driven by bench/run.sh).

run.sh has already started nginx (CPU 0), made the TLS files and an output tmpfs,
and exported their locations.  This file makes the corpus, writes the URL lists,
runs every client N times interleaved, pinned to CPU 1 under /usr/bin/time, checks
every output byte against the corpus, and writes bench/results/latest.{md,csv}.
stdlib only, so it runs on any python3 >= 3.9.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

KiB, MiB, GiB = 1024, 1024**2, 1024**3
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

ENV = os.environ
WORK = Path(ENV.get("BENCH_DIR", "/tmp/volley-bench"))
OUT_ROOT = Path(ENV.get("OUT_ROOT", WORK / "out"))
VOLLEY = ENV.get("VOLLEY", str(HERE.parent / "target/release/volley"))
CA_PEM = ENV.get("CA_PEM", str(WORK / "tls/ca.pem"))
CLIENT_CPU = ENV.get("CLIENT_CPU", "1")
PORTS = {
    (False, False): int(ENV.get("PORT_HTTP", 18080)),
    (True, False): int(ENV.get("PORT_HTTPS", 18443)),
    (False, True): int(ENV.get("PORT_SLOW_HTTP", 18081)),
    (True, True): int(ENV.get("PORT_SLOW_HTTPS", 18444)),
}
RUN_TIMEOUT = float(ENV.get("BENCH_TIMEOUT", 600))  # any single client run
HUGE_TIMEOUT = float(ENV.get("HUGE_TIMEOUT", 900))  # the 1M-URL volley run

# curl clamps --parallel-max to 300 (MAX_PARALLEL in src/tool_main.h), so in the
# 1,000-connection scenario it really holds at most 300 connections open.
CURL_MAX_PARALLEL = 300

# name -> (file count, file size).  Files are random bytes: incompressible, and a
# client that returns the wrong file or a truncated one cannot pass verification.
CORPORA = {
    "small": (10_000, 4 * KiB),
    "medium": (1_000, 256 * KiB),
    "large": (1, GiB),
    "large-quick": (1, 256 * MiB),
    # nginx's limit_rate lets the first second's worth (50 KiB) go at once, so a file
    # of 3 x 50 KiB takes ~2 s: long enough for all 1,000 downloads to overlap.
    "slow": (1_000, 150 * KiB),
    "tiny": (1_000, 64),  # huge-list and the slow scenario's baseline run
}


@dataclass
class Scenario:
    name: str
    kind: str  # "fetch" (throughput), "slow" (RSS per connection), "huge" (list size)
    corpus: str
    count: int
    quick_count: int
    tls: bool = False
    par: int = 64
    quick_corpus: str | None = None
    what: str = ""


SCENARIOS = {
    s.name: s
    for s in [
        Scenario("small-http", "fetch", "small", 10_000, 2_000, what="10,000 x 4 KiB, 64 conns"),
        Scenario("small-https", "fetch", "small", 10_000, 2_000, tls=True, what="10,000 x 4 KiB, 64 conns, TLS"),
        Scenario("medium-http", "fetch", "medium", 1_000, 200, what="1,000 x 256 KiB, 64 conns"),
        Scenario("medium-https", "fetch", "medium", 1_000, 200, tls=True, what="1,000 x 256 KiB, 64 conns, TLS"),
        Scenario("large-http", "fetch", "large", 1, 1, quick_corpus="large-quick", what="1 x 1 GiB, 1 conn"),
        Scenario("large-https", "fetch", "large", 1, 1, tls=True, quick_corpus="large-quick", what="1 x 1 GiB, 1 conn, TLS"),
        Scenario("slow-http", "slow", "slow", 1_000, 1_000, par=1000, what="1,000 concurrent x 150 KiB at 50 KB/s"),
        Scenario("slow-https", "slow", "slow", 1_000, 1_000, tls=True, par=1000, what="1,000 concurrent x 150 KiB at 50 KB/s, TLS"),
        Scenario("huge-list", "huge", "tiny", 1_000_000, 200_000, what="1,000,000-URL list vs 1,000 (volley only)"),
    ]
}
ALIASES = {
    "all": list(SCENARIOS),
    "small": ["small-http", "small-https"],
    "medium": ["medium-http", "medium-https"],
    "large": ["large-http", "large-https"],
    "slow": ["slow-http", "slow-https"],
    "http": ["small-http", "medium-http", "large-http"],
    "https": ["small-https", "medium-https", "large-https"],
}
ALL_CLIENTS = ["curl", "aria2c", "wget2", "volley"]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------- corpus
def corpus_manifest(name: str) -> dict[str, tuple[int, str]]:
    """Create corpus/<name>/ if needed; return {file name: (size, sha256)}.

    The manifest is cached next to (not inside) the docroot and trusted only if it
    matches the wanted shape and every file still has the recorded size."""
    count, size = CORPORA[name]
    d = WORK / "corpus" / name
    mpath = WORK / "manifests" / f"{name}.json"
    if mpath.exists():
        m = json.loads(mpath.read_text())
        if m["count"] == count and m["size"] == size:
            files = {k: tuple(v) for k, v in m["files"].items()}
            try:
                if all((d / f).stat().st_size == size for f in files):
                    return files
            except FileNotFoundError:
                pass
    log(f"generating corpus {name}: {count} x {size} bytes")
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    files = {}
    chunk = 4 * MiB
    for i in range(count):
        fname = f"{name}-{i:05d}.bin" if count > 1 else f"{name}.bin"
        h = hashlib.sha256()
        with open(d / fname, "wb") as f:
            left = size
            while left:
                b = os.urandom(min(chunk, left))
                h.update(b)
                f.write(b)
                left -= len(b)
        files[fname] = (size, h.hexdigest())
    mpath.parent.mkdir(parents=True, exist_ok=True)
    mpath.write_text(json.dumps({"count": count, "size": size, "files": files}))
    return files


def file_sha256(p: Path) -> str:
    with open(p, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest() if hasattr(hashlib, "file_digest") else _slow_sha(f)


def _slow_sha(f) -> str:
    h = hashlib.sha256()
    for b in iter(lambda: f.read(1 << 20), b""):
        h.update(b)
    return h.hexdigest()


# ------------------------------------------------------------------------ lists
@dataclass
class Job:
    """One URL list and what a correct run must leave in the output directory."""
    label: str
    urls: list[str]
    expect: dict[str, tuple[int, str]]  # output file name -> (size, sha256)
    plain: Path = field(default=Path())
    curlcfg: Path = field(default=Path())

    def write(self, out_dir: Path) -> None:
        # The lists depend only on the label, so reuse them across runs/invocations.
        ldir = WORK / "lists"
        ldir.mkdir(exist_ok=True)
        self.plain = ldir / f"{self.label}.txt"
        self.curlcfg = ldir / f"{self.label}.curl"
        with open(self.plain, "w") as f:
            f.writelines(u + "\n" for u in self.urls)
        # curl needs an explicit output per URL; -O would work too but output= makes
        # the name choice identical to the others by construction.
        with open(self.curlcfg, "w") as f:
            for u, name in zip(self.urls, self.expect):
                f.write(f'url = "{u}"\noutput = "{out_dir / name}"\n')


def base_url(tls: bool, slow: bool) -> str:
    return f"{'https' if tls else 'http'}://127.0.0.1:{PORTS[(tls, slow)]}"


def corpus_job(label: str, corpus: str, n: int, tls: bool, slow: bool) -> Job:
    files = corpus_manifest(corpus)
    names = list(files)[:n]
    b = base_url(tls, slow)
    return Job(label, [f"{b}/{corpus}/{f}" for f in names], {f: files[f] for f in names})


def huge_job(label: str, n: int) -> Job:
    # nginx maps /huge/<i>-tiny-<k>.bin to corpus/tiny/tiny-<k>.bin (see run.sh):
    # every URL and output name is distinct, the server needs only 1,000 files.
    tiny = corpus_manifest("tiny")
    names = list(tiny)
    b = base_url(False, False)
    urls, expect = [], {}
    for i in range(n):
        src = names[i % len(names)]
        out = f"{i:07d}-{src}"
        urls.append(f"{b}/huge/{out}")
        expect[out] = tiny[src]
    return Job(label, urls, expect)


# ---------------------------------------------------------------------- clients
def client_argv(client: str, job: Job, out: Path, par: int, tls: bool) -> list[str]:
    """The peers' command lines exactly as in the issue; see README for the quirks."""
    if client == "curl":
        a = ["curl", "--parallel", "--parallel-immediate", "--parallel-max", str(par),
             "--http1.1", "-sS", "-f", "-K", str(job.curlcfg)]
        return a + (["--cacert", CA_PEM] if tls else [])
    if client == "aria2c":
        a = ["aria2c", "-i", str(job.plain), "-j", str(par), "-x1", "-s1", "--deferred-input=true",
             "--file-allocation=none", "-q", "-d", str(out)]
        return a + ([f"--ca-certificate={CA_PEM}"] if tls else [])
    if client == "wget2":
        a = ["wget2", f"--max-threads={par}", "-i", str(job.plain), "-nd", "--no-http2", "-q", "-P", str(out)]
        return a + ([f"--ca-certificate={CA_PEM}"] if tls else [])
    if client == "volley":
        a = [VOLLEY, "-i", str(job.plain), "-P", str(out), "-j", str(par), "--per-host", str(par), "-q"]
        return a + (["--cacert", CA_PEM] if tls else [])
    raise ValueError(client)


def effective_conns(client: str, par: int) -> int:
    return min(par, CURL_MAX_PARALLEL) if client == "curl" else par


# ---------------------------------------------------------------------- running
def verify(out: Path, expect: dict[str, tuple[int, str]]) -> tuple[bool, str, int, int]:
    """Exactly the expected files (no extra, no missing, no partial/temp files), and
    every byte equal to the corpus (sha256).  Returns (ok, reason, files, bytes)."""
    found: list[str] = []
    for root, _dirs, files in os.walk(out):
        rel = os.path.relpath(root, out)
        found += [f if rel == "." else os.path.join(rel, f) for f in files]
    got = set(found)
    missing = [n for n in expect if n not in got]
    extra = sorted(got - expect.keys())
    nbytes = 0
    if missing or extra:
        return False, f"missing {len(missing)} {missing[:2]} extra {len(extra)} {extra[:2]}", len(found), 0
    for name, (size, sha) in expect.items():
        p = out / name
        st = p.stat().st_size
        if st != size:
            return False, f"{name}: size {st} != {size}", len(found), nbytes
        if file_sha256(p) != sha:
            return False, f"{name}: content differs from corpus", len(found), nbytes
        nbytes += size
    return True, "", len(found), nbytes


def clean_dir(d: Path) -> None:
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)


def client_env() -> dict[str, str]:
    """A hermetic environment: an empty HOME (no ~/.curlrc, ~/.wget2rc, ~/.aria2/,
    and no OCSP/HSTS caches carried from one run to the next, e.g. wget2 writes
    ~/.wget-ocsp), and no proxy or CA variables that would change the peers' paths."""
    home = WORK / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    drop = ("proxy", "curl_", "wget", "ssl_cert", "xdg_")
    env = {k: v for k, v in ENV.items() if not any(d in k.lower() for d in drop)}
    env["HOME"] = str(home)
    return env


def run_measured(argv: list[str], logf: Path, timeout: float) -> dict:
    """Run argv pinned to CLIENT_CPU under GNU time; wall from our own monotonic clock
    (GNU time's %e has 10 ms resolution), CPU and peak RSS from the kernel's rusage."""
    tfile = WORK / "time.out"
    tfile.unlink(missing_ok=True)
    cmd = ["taskset", "-c", CLIENT_CPU, "/usr/bin/time", "-f", "TIME %e %U %S %M", "-o", str(tfile)] + argv
    timed_out = threading.Event()
    env = client_env()
    with open(logf, "wb") as lf:
        t0 = time.monotonic()
        # Own session: on timeout or Ctrl-C we kill exactly this client's group.
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                             start_new_session=True, env=env)

        def expire() -> None:
            timed_out.set()
            os.killpg(p.pid, signal.SIGKILL)

        # A blocking wait returns the moment the client exits. `p.wait(timeout=...)`
        # polls with sleeps growing to 50 ms, which rounded every sub-second wall time
        # up to the next ~50 ms step (0.19 s read as 0.21, 0.35 s as 0.37).
        killer = threading.Timer(timeout, expire)
        killer.start()
        try:
            rc = p.wait()
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        finally:
            killer.cancel()
        wall = time.monotonic() - t0
    r = {"rc": rc, "wall": wall, "timed_out": timed_out.is_set(), "user": None, "sys": None, "rss_kib": None}
    if tfile.exists():
        for line in tfile.read_text().splitlines():
            if line.startswith("TIME "):
                _, _e, u, s, m = line.split()
                r.update(user=float(u), sys=float(s), rss_kib=int(m))
    return r


class ConnSampler:
    """Counts established server-side sockets on a port every 0.2 s (slow scenarios),
    to show how many connections a client really held open at once."""

    def __init__(self, port: int):
        self.port, self.peak, self._stop = port, 0, threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        cmd = ["ss", "-Htn", "state", "established", f"( sport = :{self.port} )"]
        while not self._stop.wait(0.2):
            p = subprocess.run(cmd, capture_output=True, text=True)
            self.peak = max(self.peak, len(p.stdout.splitlines()))

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def nginx_accepts() -> int | None:
    """nginx's total accepted connections (stub_status); None if unavailable."""
    try:
        url = f"http://127.0.0.1:{PORTS[(False, False)]}/nginx_status"
        with urllib.request.urlopen(url, timeout=5) as r:
            return int(r.read().decode().splitlines()[2].split()[0])
    except Exception:
        return None


def one_run(scen: Scenario, client: str, run: int, job: Job, out: Path, timeout: float,
            sample_port: int | None = None) -> dict:
    clean_dir(out)
    logf = WORK / "logs" / f"{job.label}.{client}.{run}.log"
    logf.parent.mkdir(exist_ok=True)
    argv = client_argv(client, job, out, scen.par, scen.tls)
    acc0 = nginx_accepts()
    if sample_port:
        with ConnSampler(sample_port) as smp:
            r = run_measured(argv, logf, timeout)
        r["peak_conns"] = smp.peak
    else:
        r = run_measured(argv, logf, timeout)
    acc1 = nginx_accepts()
    # -1: the status request that read acc0 was itself a new connection.
    opened = acc1 - acc0 - 1 if acc0 is not None and acc1 is not None else None
    row = {"scenario": scen.name, "job": job.label, "client": client, "run": run,
           "wall_s": round(r["wall"], 4), "user_s": r["user"], "sys_s": r["sys"],
           "rss_kib": r["rss_kib"], "conns": effective_conns(client, scen.par),
           "peak_conns": r.get("peak_conns"), "opened": opened,
           "files": 0, "bytes": 0, "status": "ok", "reason": ""}
    if r["timed_out"]:
        row.update(status="FAILED", reason=f"timeout after {timeout:.0f}s")
    elif r["rc"] != 0:
        tail = logf.read_text(errors="replace").strip().splitlines()[-1:] if logf.exists() else []
        row.update(status="FAILED", reason=f"exit {r['rc']}: {' '.join(tail)[:120]}")
    # Verify even after a failure: the file count in the CSV helps diagnose it.
    ok, why, nfiles, nbytes = verify(out, job.expect)
    row.update(files=nfiles, bytes=nbytes)
    if not ok and row["status"] == "ok":
        row.update(status="FAILED", reason=f"verify: {why}")
    clean_dir(out)  # free tmpfs before the next client
    return row


def run_scenario(scen: Scenario, clients: list[str], runs: int, quick: bool) -> list[dict]:
    out = OUT_ROOT / "out"
    n = scen.quick_count if quick else scen.count
    rows: list[dict] = []
    if scen.kind == "huge":
        if "volley" not in clients:
            log(f"{scen.name}: volley only -- skipped (no volley binary)")
            return rows
        # 1M tiny files take a 4 KiB page each on tmpfs (4 GiB); the metric here is
        # RSS, not speed, so these outputs go to the work dir's disk instead.
        out = WORK / "out-huge"
        small, big = huge_job(f"{scen.name}-1k", 1_000), huge_job(f"{scen.name}-{n}", n)
        for j in (small, big):
            j.write(out)
        for r in range(1, runs + 1):
            a = one_run(scen, "volley", r, small, out, RUN_TIMEOUT)
            b = one_run(scen, "volley", r, big, out, HUGE_TIMEOUT)
            b["baseline_rss_kib"] = a["rss_kib"]
            rows += [a, b]
            log(f"{scen.name} run {r}: 1k {fmt_row(a)} | {n} {fmt_row(b)}")
        shutil.rmtree(out, ignore_errors=True)
        return rows

    corpus = scen.quick_corpus if (quick and scen.quick_corpus) else scen.corpus
    job = corpus_job(f"{scen.name}-{n}x{human(CORPORA[corpus][1])}", corpus, n, scen.tls, slow=(scen.kind == "slow"))
    job.write(out)
    base = None
    if scen.kind == "slow":
        # Baseline: the same client, flags and TLS setup fetching one tiny file, so
        # (peak - baseline) is what the 1,000 connections themselves cost.
        base = corpus_job(f"{scen.name}-baseline", "tiny", 1, scen.tls, slow=False)
        base.write(out)
    for r in range(1, runs + 1):
        for c in clients:  # interleaved: c1 c2 c3 c4 c1 c2 ... so drift hits all alike
            b = one_run(scen, c, r, base, out, RUN_TIMEOUT) if base else None
            port = PORTS[(scen.tls, True)] if scen.kind == "slow" else None
            row = one_run(scen, c, r, job, out, RUN_TIMEOUT, sample_port=port)
            if b is not None:
                row["baseline_rss_kib"] = b["rss_kib"]
                if b["status"] != "ok" and row["status"] == "ok":
                    row.update(status="FAILED", reason=f"baseline: {b['reason']}")
            rows.append(row)
            log(f"{scen.name} run {r}/{runs} {c:7s} {fmt_row(row)}")
    return rows


def human(n: int) -> str:
    for unit, k in (("G", GiB), ("M", MiB), ("K", KiB)):
        if n >= k and n % k == 0:
            return f"{n // k}{unit}"
    return f"{n}B"


def fmt_row(r: dict) -> str:
    rss = f"{r['rss_kib'] / 1024:.1f} MiB" if r["rss_kib"] else "?"
    s = f"{r['wall_s']:.2f} s, rss {rss}, {r['files']} files: {r['status']}"
    return s + (f" ({r['reason']})" if r["reason"] else "")


# ---------------------------------------------------------------------- report
def per_conn_kib(r: dict) -> float | None:
    if r.get("rss_kib") is None or r.get("baseline_rss_kib") is None:
        return None
    return (r["rss_kib"] - r["baseline_rss_kib"]) / r["conns"]


def spread(vals: list[float], fmt: str) -> str:
    if not vals:
        return "FAILED"
    med = statistics.median(vals)
    if len(vals) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} ({format(min(vals), fmt)}–{format(max(vals), fmt)})"


def summarize(rows: list[dict], quick: bool) -> list[dict]:
    """One summary per (scenario/job, client): medians over the runs that passed."""
    out = []
    keys = []
    for r in rows:
        k = (r["scenario"], r["job"], r["client"])
        if k not in keys:
            keys.append(k)
    for scen_name, jobl, client in keys:
        rs = [r for r in rows if (r["scenario"], r["job"], r["client"]) == (scen_name, jobl, client)]
        ok = [r for r in rs if r["status"] == "ok"]
        scen = SCENARIOS[scen_name]
        s = {"scenario": scen_name, "job": jobl, "client": client, "n": len(rs), "ok": len(ok),
             "wall": [r["wall_s"] for r in ok],
             "cpu": [r["user_s"] + r["sys_s"] for r in ok if r["user_s"] is not None],
             "rss": [r["rss_kib"] / 1024 for r in ok if r["rss_kib"]],
             "reasons": sorted({r["reason"] for r in rs if r["reason"]}),
             "rate": "", "metric": None}
        op = [r["opened"] for r in ok if r.get("opened") is not None]
        s["opened"] = f"{statistics.median(op):.0f}" if op else "—"
        if scen.kind == "fetch" and ok:
            nbytes = ok[0]["bytes"]
            nfiles = ok[0]["files"]
            if nbytes / max(nfiles, 1) < 64 * KiB:
                v = statistics.median(nfiles / r["wall_s"] for r in ok)
                s["rate"] = f"{v:,.0f} files/s"
            else:
                v = statistics.median(nbytes / MiB / r["wall_s"] for r in ok)
                s["rate"] = f"{v:,.0f} MiB/s"
            s["metric"] = statistics.median(s["wall"])
        elif scen.kind == "slow" and ok:
            pcs = [v for v in (per_conn_kib(r) for r in ok) if v is not None]
            if pcs:
                v = statistics.median(pcs)
                peaks = [r["peak_conns"] for r in ok if r.get("peak_conns") is not None]
                seen = f", seen {max(peaks)}" if peaks else ""
                s["rate"] = f"{v:,.1f} KiB/conn ({ok[0]['conns']} conns{seen})"
                s["metric"] = v
        elif scen.kind == "huge" and ok and ok[0].get("baseline_rss_kib") is not None:
            d = [(r["rss_kib"] - r["baseline_rss_kib"]) for r in ok if r.get("baseline_rss_kib")]
            urls = ok[0]["files"]
            if d and urls > 1000:
                med = statistics.median(d)
                s["rate"] = f"ΔRSS {med / 1024:,.1f} MiB = {med * 1024 / (urls - 1000):,.0f} B/URL"
        out.append(s)
    # Ratio vs curl on the headline metric (wall time, or KiB per connection):
    # client / curl, so lower is better everywhere and 0.50 means "half of curl's".
    for s in out:
        cur = next((c for c in out if c["job"] == s["job"] and c["client"] == "curl"), None)
        if cur and cur["metric"] and s["metric"] is not None:
            s["ratio"] = f"{s['metric'] / cur['metric']:.2f}"
        else:
            s["ratio"] = "—"
    return out


def tool_versions() -> str:
    def first(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            line = (p.stdout or p.stderr).strip().splitlines()[0]
            return " ".join(line.split()[:3])  # "curl 7.88.1 (x86_64..." -- drop the feature list
        except Exception:
            return "n/a"
    v = [first(["nginx", "-v"]), first(["curl", "--version"]), first(["aria2c", "--version"]),
         first(["wget2", "--version"])]
    if os.access(VOLLEY, os.X_OK):
        v.append(first([VOLLEY, "--version"]))
    return "; ".join(v)


def write_report(rows: list[dict], args, started: str) -> str:
    RESULTS.mkdir(exist_ok=True)
    summ = summarize(rows, args.quick)
    lines = [
        "# volley benchmark results",
        "",
        f"- started {started} UTC, {args.runs} run(s) per client, {'QUICK sizes' if args.quick else 'full sizes'}"
        + (" -- INTERRUPTED, partial" if getattr(args, "interrupted", False) else ""),
        f"- host: {os.uname().nodename} {os.uname().release}, {os.cpu_count()} CPUs; nginx on CPU "
        f"{ENV.get('SERVER_CPU', '0')}, clients on CPU {CLIENT_CPU}",
        f"- {tool_versions()}",
        "- cells: median (min–max) over runs that passed verification; ratio = client / curl "
        "on wall time (slow: on KiB/conn) -- lower is better",
        "",
        "| scenario | client | wall s | cpu s | rss MiB | rate | ratio vs curl | conns opened | runs ok |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summ:
        okcell = f"{s['ok']}/{s['n']}" + ("" if s["ok"] == s["n"] else f" **FAILED {s['n'] - s['ok']}**")
        lines.append(f"| {s['job']} | {s['client']} | {spread(s['wall'], '.2f')} | {spread(s['cpu'], '.2f')} | "
                     f"{spread(s['rss'], '.1f')} | {s['rate'] or '—'} | {s['ratio']} | {s['opened']} | {okcell} |")
    fails = [s for s in summ if s["reasons"]]
    if fails:
        lines += ["", "Failures:"]
        for s in fails:
            for why in s["reasons"][:3]:
                lines.append(f"- {s['job']} / {s['client']}: {why}")
    if any(s["scenario"].startswith("slow") and s["client"] == "curl" for s in summ):
        lines += ["", f"Note: curl caps --parallel-max at {CURL_MAX_PARALLEL}, so its slow-* runs hold at most "
                      f"{CURL_MAX_PARALLEL} connections and its KiB/conn divides by {CURL_MAX_PARALLEL}."]
    md = "\n".join(lines) + "\n"
    (RESULTS / "latest.md").write_text(md)

    cols = ["scenario", "job", "client", "run", "status", "wall_s", "user_s", "sys_s", "rss_kib",
            "baseline_rss_kib", "conns", "peak_conns", "opened", "files", "bytes", "reason"]
    for path in (RESULTS / "latest.csv", RESULTS / "history" / f"{started.replace(' ', 'T')}.csv"):
        path.parent.mkdir(exist_ok=True)
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, cols, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
    return md


# ------------------------------------------------------------------------ main
def _on_term(_sig, _frame):
    # run.sh forwards SIGTERM/Ctrl-C here (background jobs of a script ignore SIGINT).
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _on_term)
    ap = argparse.ArgumentParser(prog="bench/run.sh", description="volley vs curl/aria2c/wget2 on a local nginx "
                                 "(run via bench/run.sh, which starts the server)")
    ap.add_argument("--quick", action="store_true",
                    help="smaller sizes: 2,000 small, 200 medium, 256 MiB large, 200,000-URL huge list")
    ap.add_argument("--scenario", action="append", default=[],
                    help=f"repeatable or comma-separated: {', '.join(SCENARIOS)}, or {', '.join(ALIASES)}")
    ap.add_argument("--runs", type=int, default=5, help="runs per client per scenario (default 5)")
    ap.add_argument("--clients", default=",".join(ALL_CLIENTS), help="subset of curl,aria2c,wget2,volley")
    args = ap.parse_args()

    names: list[str] = []
    for item in args.scenario or ["all"]:
        for n in item.split(","):
            for m in ALIASES.get(n, [n]):
                if m not in SCENARIOS:
                    ap.error(f"unknown scenario {m!r}")
                if m not in names:
                    names.append(m)
    clients = [c for c in args.clients.split(",") if c]
    for c in clients:
        if c not in ALL_CLIENTS:
            ap.error(f"unknown client {c!r}")
    if "volley" in clients and not os.access(VOLLEY, os.X_OK):
        log(f"volley binary not found at {VOLLEY}: volley SKIPPED")
        clients.remove("volley")
    if not ENV.get("OUT_ROOT"):
        log("OUT_ROOT not set: run this through bench/run.sh (it starts nginx)")
        return 2

    # Keep this orchestrator (verification, sampling) off the clients' CPU.
    try:
        os.sched_setaffinity(0, {int(ENV.get("SERVER_CPU", "0"))})
    except (AttributeError, OSError, ValueError):
        pass
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    rows: list[dict] = []
    try:
        for n in names:
            scen = SCENARIOS[n]
            peers = clients if scen.kind != "huge" else [c for c in clients if c == "volley"]
            log(f"== {n}: {scen.what}{' (quick)' if args.quick else ''}; clients {', '.join(peers) or 'none'}")
            rows += run_scenario(scen, peers, args.runs, args.quick)
    except KeyboardInterrupt:
        log("interrupted: reporting the runs finished so far")
        args.interrupted = True
    md = write_report(rows, args, started)
    print(md)
    log(f"wrote {RESULTS / 'latest.md'} and {RESULTS / 'latest.csv'}")
    if getattr(args, "interrupted", False):
        return 130
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
