#!/usr/bin/env python3
"""nsdoctor performance figures and budgets. Driven by `bench/run` (the table) and
`bench/check` (the budgets, fast). See bench/README.md for what each row measures and why the budgets are what
they are.

Machine-dependent timings are compared as ratios measured in the same run (nsdoctor against `unshare` and `bwrap`
doing the same namespace work, the CLI's start against `/bin/true`, wasm against native); the absolute figures
in the table are for reading, not for gating. The whole-process comparisons run hyperfine in rounds, rotating the
command order each round, so a load change during the run hits every command alike; the ratio is the median of
the per-round ratios of medians.
"""

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
WASM_PKG = Path(os.environ.get("NSD_WASM_PKG", ROOT / "policy-wasm" / "pkg"))

UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "true"]
BWRAP = ["bwrap", "--unshare-user", "--unshare-net", "--ro-bind", "/", "/", "true"]

# The budgets bench/check enforces. Documented, with the measurements behind them, in bench/README.md.
BUDGETS = {
    # nsdoctor check --no-bwrap (on this healthy host the fast path: one child makes the sandbox's user, net,
    # mount and pid namespaces in one call, maps ids, mounts, brings loopback up; every static fact, diagnose,
    # render) against `unshare --user --map-root-user --net true`, as root: median of per-round median ratios.
    # Measured 1.65-1.8x quiet, 2.0x with the machine shared; target 1.5x (bench/README.md says where the rest
    # goes).
    "check_vs_unshare": 2.2,
    # ... and against `bwrap --unshare-user --unshare-net --ro-bind / / true`.
    "check_vs_bwrap": 2.5,
    # Peak RSS of `nsdoctor check --no-bwrap` (max over runs), MiB.
    "peak_rss_mib": 12.0,
    # `nsdoctor --version` against `/bin/true`: the CLI's own start-up (dynamic loading, clap).
    "startup_vs_true": 4.0,
    # diagnose + JSON render per report, native, µs: the one absolute budget (pure computation), taken from
    # criterion's fastest sample; target 20 µs. Measured 14 µs over 63 fixtures, 16-17 µs over 74 since the
    # fixtures carry conflict, platform and guard-command remediations (longer outputs): the budget leaves the
    # headroom a loaded CI machine needs.
    "diagnose_us": 25.0,
    # The error-text classifier: a 4 MiB text, ms, extrapolated from the 2.9 MiB bench.
    "classify_4mib_ms": 100.0,
    # wasm-in-node against native for the same JSON-in, JSON-out call.
    "wasm_vs_native": 12.0,
    # Release binary, MB (10^6 bytes).
    "binary_mb": 3.0,
    # wasm + JS glue gzipped, KB (the budget policy-wasm/tests/size.test.mjs enforces).
    "wasm_gz_kb": 240.0,
}


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def target_dir():
    t = os.environ.get("CARGO_TARGET_DIR")
    if t:
        return Path(t)
    out = run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, capture_output=True).stdout
    return Path(json.loads(out)["target_directory"])


def ensure_tools():
    """hyperfine and GNU time from Debian, installed only when missing (idempotent, non-interactive)."""
    need = []
    if not shutil.which("hyperfine"):
        need.append("hyperfine")
    if not os.path.exists("/usr/bin/time"):
        need.append("time")
    if not shutil.which("bwrap"):
        need.append("bubblewrap")
    if not need:
        return
    if os.geteuid() != 0:
        sys.exit(f"bench: missing {' '.join(need)}; install them (apt-get install -y {' '.join(need)})")
    log(f"installing {' '.join(need)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "--no-upgrade", *need], env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def nsdoctor_bin():
    if os.environ.get("NSDOCTOR_BIN"):
        return Path(os.environ["NSDOCTOR_BIN"])
    log("cargo build --release -p probe-native")
    run(["cargo", "build", "-q", "--release", "-p", "probe-native"], cwd=ROOT)
    return target_dir() / "release" / "nsdoctor"


def loadavg():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def hyperfine_rounds(cmds, rounds, runs, warmup):
    """{name: [all times, s]}, [{name: median, s} per round]. Command order rotates every round."""
    names = list(cmds)
    all_times = {n: [] for n in names}
    per_round = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            order = names[r % len(names):] + names[: r % len(names)]
            out = Path(tmp) / f"round{r}.json"
            argv = ["hyperfine", "-N", "-i", "--style", "none", "--warmup", str(warmup), "--runs", str(runs),
                    "--export-json", str(out)]
            for n in order:
                argv += ["--command-name", n, cmds[n]]
            p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                sys.exit(f"bench: hyperfine failed:\n{p.stderr}")
            res = {x["command"]: x for x in json.loads(out.read_text())["results"]}
            meds = {}
            for n in names:
                times = res[n]["times"]
                all_times[n] += times
                meds[n] = statistics.median(times)
            per_round.append(meds)
    return all_times, per_round


def round_ratio(per_round, a, b):
    return statistics.median(r[a] / r[b] for r in per_round)


def peak_rss_kib(argv, n):
    best = 0
    for _ in range(n):
        p = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        m = re.findall(r"^(\d+)$", p.stderr, re.M)
        if not m:
            sys.exit(f"bench: /usr/bin/time gave no RSS for {argv}: {p.stderr}")
        best = max(best, int(m[-1]))
    return best


def criterion(quick):
    """{bench name: (ns per iteration, element count from the name)} from `--output-format bencher`."""
    timing = ["--warm-up-time", "0.5", "--measurement-time", "1"] if quick else ["--warm-up-time", "2",
                                                                                 "--measurement-time", "5"]
    p = run(["cargo", "bench", "-q", "-p", "nsdoctor-tests", "--bench", "diagnose", "--", "--output-format",
             "bencher", *timing], cwd=ROOT, capture_output=True)
    out = {}
    for line in p.stdout.splitlines():
        m = re.match(r"test (\S+)/(.+?) \.\.\. bench:\s+([\d,]+) ns/iter", line)
        if m:
            n = re.search(r"(\d+)", m.group(2))
            out[m.group(1)] = (int(m.group(3).replace(",", "")), int(n.group(1)) if n else 1)
    for want in ("diagnose+json", "diagnose+text", "json-in-json-out", "classify"):
        if want not in out:
            sys.exit(f"bench: criterion printed no `{want}` figure:\n{p.stdout}\n{p.stderr}")
    return out


def fastest_sample_ns(group):
    """ns per iteration of the fastest of criterion's samples for `group` (its `new/sample.json`).

    For pure computation the fastest sample is the cost of the code; slower samples add the time other
    processes took from this one (on the 2-core CI machine a busy neighbour inflates the typical figure by
    up to 2x while the fastest sample moves by a few per cent)."""
    # Criterion writes under the Cargo target directory, which CARGO_TARGET_DIR may move.
    files = sorted((target_dir() / "criterion" / group).glob("*/new/sample.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        sys.exit(f"bench: criterion left no samples for `{group}`")
    data = json.loads(files[-1].read_text())
    return min(t / i for t, i in zip(data["times"], data["iters"]) if i)


def wasm_node(rounds):
    if not shutil.which("node"):
        return None, "node not installed"
    if not (WASM_PKG / "policy_wasm_bg.wasm").exists():
        return None, f"no wasm package in {WASM_PKG} (policy-wasm/build makes it)"
    p = run(["node", str(ROOT / "bench" / "wasm.mjs"), str(rounds)], capture_output=True)
    return json.loads(p.stdout.strip().splitlines()[-1]), None


def wasm_sizes():
    wasm = WASM_PKG / "policy_wasm_bg.wasm"
    js = WASM_PKG / "policy_wasm.js"
    if not wasm.exists():
        return None
    raw = wasm.read_bytes()
    gz = len(gzip.compress(raw, 9)) + (len(gzip.compress(js.read_bytes(), 9)) if js.exists() else 0)
    return len(raw), gz


def settings(quick):
    return {"rounds": 4 if quick else 8, "runs": 30 if quick else 60, "warmup": 5 if quick else 10,
            "rss_runs": 5 if quick else 10, "wasm_rounds": 20 if quick else 60, "quick": quick}


def measure_processes(nsd, s):
    """The whole-process comparisons: check against unshare and bwrap, start-up against /bin/true."""
    log(f"hyperfine: {s['rounds']} rounds x {s['runs']} runs each of check / unshare / bwrap / --version / true")
    cmds = {
        "check": f"{nsd} check --no-bwrap --color never",
        "unshare": " ".join(UNSHARE),
        "bwrap": " ".join(BWRAP),
        "version": f"{nsd} --version",
        "true": "/bin/true",
    }
    all_times, per_round = hyperfine_rounds(cmds, s["rounds"], s["runs"], s["warmup"])
    return {
        "median_ms": {n: statistics.median(all_times[n]) * 1000 for n in cmds},
        "check_vs_unshare": round_ratio(per_round, "check", "unshare"),
        "check_vs_bwrap": round_ratio(per_round, "check", "bwrap"),
        "startup_vs_true": round_ratio(per_round, "version", "true"),
        "round_ratios_check_vs_unshare": [r["check"] / r["unshare"] for r in per_round],
    }


def measure_rss(nsd, s):
    log("peak RSS with /usr/bin/time")
    return {
        "peak_rss_kib": peak_rss_kib([str(nsd), "check", "--no-bwrap", "--color", "never"], s["rss_runs"]),
        "peak_rss_unshare_kib": peak_rss_kib(UNSHARE, 3),
        "peak_rss_bwrap_kib": peak_rss_kib(BWRAP, 3),
    }


def measure_engine(s):
    log("criterion: cargo bench -p nsdoctor-tests --bench diagnose")
    crit = criterion(s["quick"])
    f = {}
    ns, n = crit["diagnose+json"]
    f["diagnose_typical_us"] = ns / n / 1000
    f["diagnose_us"] = fastest_sample_ns("diagnose+json") / n / 1000
    ns, n = crit["diagnose+text"]
    f["diagnose_text_us"] = ns / n / 1000
    ns, n = crit["json-in-json-out"]
    f["json_in_out_us"] = ns / n / 1000
    f["fixtures"] = n
    ns, nbytes = crit["classify"]
    f["classify_mib_s"] = nbytes / (1 << 20) / (ns / 1e9)
    f["classify_4mib_ms"] = ns / 1e6 * (4 << 20) / nbytes
    return f


def measure_wasm(s, native_us):
    log("wasm in node")
    w, why = wasm_node(s["wasm_rounds"])
    return {"wasm_us": w["per_report_us"] if w else None, "wasm_skip": why,
            "wasm_vs_native": w["per_report_us"] / native_us if w else None}


# Which measurement produces which gated figure: bench/check re-runs only the part that is over budget.
PARTS = {
    "processes": ("check_vs_unshare", "check_vs_bwrap", "startup_vs_true"),
    "rss": ("peak_rss_kib",),
    "engine": ("diagnose_us", "classify_4mib_ms"),
    "wasm": ("wasm_vs_native",),
}


def measure_part(part, nsd, s, fig):
    if part == "processes":
        return measure_processes(nsd, s)
    if part == "rss":
        return measure_rss(nsd, s)
    if part == "engine":
        return measure_engine(s)
    return measure_wasm(s, fig["json_in_out_us"])


def measure(args):
    ensure_tools()
    nsd = nsdoctor_bin()
    if os.geteuid() != 0:
        log("not root: nsdoctor probes as an unprivileged user (the flags are skipped); the budgets were set as root")
    s = settings(args.check)
    fig = {"load_before": loadavg(), "nsdoctor": str(nsd)}
    for part in PARTS:
        t = time.monotonic()
        fig.update(measure_part(part, nsd, s, fig))
        log(f"{part}: {time.monotonic() - t:.1f} s")
    fig["binary_bytes"] = nsd.stat().st_size
    sizes = wasm_sizes()
    fig["wasm_bytes"], fig["wasm_gz_bytes"] = sizes if sizes else (None, None)
    fig["load_after"] = loadavg()
    return fig, nsd, s


def table(fig):
    b = BUDGETS
    mib = 1 << 20
    med = fig["median_ms"]
    rows = [
        ("nsdoctor check --no-bwrap (median)", f"{med['check']:.2f} ms", ""),
        ("unshare --user --map-root-user --net true", f"{med['unshare']:.2f} ms", ""),
        ("bwrap --unshare-user --unshare-net --ro-bind / / true", f"{med['bwrap']:.2f} ms", ""),
        ("ratio check / unshare", f"{fig['check_vs_unshare']:.2f}x", f"<= {b['check_vs_unshare']}x (target 1.5x)"),
        ("ratio check / bwrap", f"{fig['check_vs_bwrap']:.2f}x", f"<= {b['check_vs_bwrap']}x"),
        ("CLI start-up: nsdoctor --version / true", f"{med['version']:.2f} / {med['true']:.2f} ms", ""),
        ("ratio --version / true", f"{fig['startup_vs_true']:.2f}x", f"<= {b['startup_vs_true']}x"),
        ("peak RSS nsdoctor check --no-bwrap", f"{fig['peak_rss_kib'] / 1024:.1f} MiB",
         f"<= {b['peak_rss_mib']:.0f} MiB"),
        ("peak RSS unshare / bwrap", f"{fig['peak_rss_unshare_kib'] / 1024:.1f} / {fig['peak_rss_bwrap_kib'] / 1024:.1f} MiB",
         ""),
        (f"diagnose + JSON render per report (native, {fig['fixtures']} fixtures, fastest sample)",
         f"{fig['diagnose_us']:.1f} us", f"<= {b['diagnose_us']:.0f} us (target 20 us)"),
        ("diagnose + JSON render per report (native, criterion's typical)", f"{fig['diagnose_typical_us']:.1f} us", ""),
        ("diagnose + text render per report (native)", f"{fig['diagnose_text_us']:.1f} us", ""),
        ("report JSON -> diagnosis JSON per report (native)", f"{fig['json_in_out_us']:.1f} us", ""),
        ("report JSON -> diagnosis JSON per report (wasm in node)",
         f"{fig['wasm_us']:.1f} us" if fig["wasm_us"] else f"skipped: {fig['wasm_skip']}", ""),
        ("ratio wasm / native", f"{fig['wasm_vs_native']:.1f}x" if fig["wasm_vs_native"] else "-",
         f"<= {b['wasm_vs_native']:.0f}x"),
        ("classifier throughput", f"{fig['classify_mib_s']:.0f} MiB/s", ""),
        ("classifier, 4 MiB error text", f"{fig['classify_4mib_ms']:.1f} ms", f"<= {b['classify_4mib_ms']:.0f} ms"),
        ("release binary nsdoctor", f"{fig['binary_bytes'] / 1e6:.2f} MB", f"<= {b['binary_mb']:.1f} MB"),
        ("wasm (raw / wasm+JS gzip -9)",
         f"{fig['wasm_bytes'] / 1000:.0f} KB / {fig['wasm_gz_bytes'] / 1000:.0f} KB" if fig["wasm_bytes"] else "-",
         f"gz <= {b['wasm_gz_kb']:.0f} KB"),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    lines = [f"| {'figure':<{w0}} | {'measured':>{w1}} | {'budget':<{w2}} |", f"|{'-' * (w0 + 2)}|{'-' * (w1 + 1)}:|{'-' * (w2 + 2)}|"]
    lines += [f"| {a:<{w0}} | {c:>{w1}} | {d:<{w2}} |" for a, c, d in rows]
    lines.append(f"load average {fig['load_before']} (before) / {fig['load_after']} (after); "
                 f"{os.cpu_count()} CPUs; {'root' if os.geteuid() == 0 else 'uid ' + str(os.geteuid())}; "
                 f"per-round check/unshare: " + ", ".join(f"{x:.2f}" for x in fig["round_ratios_check_vs_unshare"]))
    return "\n".join(lines)


def failures(fig):
    """[(figure key, message)] for every budget exceeded."""
    b = BUDGETS
    bad = []

    def over(key, name, value, limit, unit=""):
        if value is not None and value > limit:
            bad.append((key, f"{name} {value:.2f}{unit} > budget {limit}{unit}"))

    over("check_vs_unshare", "check/unshare", fig["check_vs_unshare"], b["check_vs_unshare"], "x")
    over("check_vs_bwrap", "check/bwrap", fig["check_vs_bwrap"], b["check_vs_bwrap"], "x")
    over("peak_rss_kib", "peak RSS", fig["peak_rss_kib"] / 1024, b["peak_rss_mib"], " MiB")
    over("startup_vs_true", "--version/true", fig["startup_vs_true"], b["startup_vs_true"], "x")
    over("diagnose_us", "diagnose per report", fig["diagnose_us"], b["diagnose_us"], " us")
    over("classify_4mib_ms", "classifier 4 MiB", fig["classify_4mib_ms"], b["classify_4mib_ms"], " ms")
    over("wasm_vs_native", "wasm/native", fig["wasm_vs_native"], b["wasm_vs_native"], "x")
    over("binary_bytes", "binary", fig["binary_bytes"] / 1e6, b["binary_mb"], " MB")
    if fig["wasm_gz_bytes"] is not None:
        over("wasm_gz_bytes", "wasm gz", fig["wasm_gz_bytes"] / 1000, b["wasm_gz_kb"], " KB")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fast run; exit 1 when a budget is exceeded")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()
    t0 = time.monotonic()
    fig, nsd, s = measure(args)
    bad = failures(fig)
    if args.check and bad:
        # A loaded machine inflates timings; a real regression shows in every attempt. The parts that are over
        # budget are measured again, up to twice, and each gated figure keeps its best.
        for attempt in (2, 3):
            log(f"over budget ({'; '.join(m for _, m in bad)}), load {loadavg()}: attempt {attempt}")
            over_keys = {k for k, _ in bad}
            for part, keys in PARTS.items():
                if not over_keys.intersection(keys):
                    continue
                for k, v in measure_part(part, nsd, s, fig).items():
                    if k not in keys:
                        continue
                    if v is not None and (fig.get(k) is None or v < fig[k]):
                        fig[k] = v
            fig["load_after"] = loadavg()
            bad = failures(fig)
            if not bad:
                break
    print(table(fig))
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
    log(f"done in {time.monotonic() - t0:.0f} s")
    if args.check:
        if bad:
            print("bench/check: FAILED: " + "; ".join(m for _, m in bad))
            sys.exit(1)
        print("bench/check: all budgets met")


if __name__ == "__main__":
    main()
