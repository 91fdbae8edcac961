"""tcrl against Tencent's own tools (tccli, the Python SDK) and curl, on the same work against
`tcrl emulator` over HTTPS. Run through bench/run, which prepares the venv and the release
build. Writes bench/results/latest.md, latest.json and latest.png (if matplotlib is there).

Usage: python bench/bench.py TCRL_BINARY [--quick]
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
RESULTS = os.path.join(BENCH, "results")
DEMO_ID = "AKIDtcrlEMULATOR0000000000000000demo"
DEMO_KEY = "tcrlEmulatorDemoKey000000000000"
QUICK = "--quick" in sys.argv
TCRL = os.path.abspath(sys.argv[1])
VENV_BIN = os.path.dirname(sys.executable)
TLS_DIR = os.path.join(BENCH, ".tls")  # the emulator's CA, reused so the venv trusts it once
CA = os.path.join(TLS_DIR, "ca.pem")

results = {"quick": QUICK, "workloads": {}}


def log(msg):
    print(msg, flush=True)


# Processes ------------------------------------------------------------------------------------

def env_with(**extra):
    env = dict(os.environ)
    env.update(
        TENCENTCLOUD_SECRET_ID=DEMO_ID,
        TENCENTCLOUD_SECRET_KEY=DEMO_KEY,
        PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
        PYTHONPATH=os.path.join(BENCH, "peers"),
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def timed(cmd, env, expect=None):
    """Run `cmd` to completion: (wall seconds, stdout). Fails loudly if it fails or `expect` is
    not in its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    out = out.decode(errors="replace")
    if proc.returncode != 0 or (expect and expect not in out):
        raise SystemExit("benchmark command failed: %s\n%s\n%s" % (" ".join(cmd), out, err.decode(errors="replace")))
    return wall, out


def peak_rss(cmd, env):
    """Peak RSS (MiB) of one run of `cmd`, read by /usr/bin/time: a child forked from this
    Python process would count Python's own pages in its maximum."""
    if not os.path.exists("/usr/bin/time"):
        return float("nan")
    out = subprocess.run(["/usr/bin/time", "-f", "maxrss_kib=%M", *cmd], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    found = re.findall(r"maxrss_kib=(\d+)", out.stderr)
    if out.returncode != 0 or not found:
        raise SystemExit("benchmark command failed: %s\n%s" % (" ".join(cmd), out.stderr))
    return int(found[-1]) / 1024


def repeat(name, cmd, env, runs, expect=None):
    walls = []
    for _ in range(runs):
        wall, out = timed(cmd, env, expect)
        walls.append(wall)
    rss = peak_rss(cmd, env)
    stats = summary(walls)
    stats["rss_mib"] = round(rss, 1)
    stats["output"] = out.strip().splitlines()[-1] if out.strip() else ""
    log("  %-28s median %8.3f s  [%.3f-%.3f]  rss %6.1f MiB  (%d runs)" % (
        name, stats["median"], stats["min"], stats["max"], rss, runs))
    return stats


def summary(samples):
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "runs": len(samples),
    }


class Emulator:
    """`tcrl emulator` over HTTPS with the bench CA, on a free loopback port."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [TCRL, "emulator", "--listen", "127.0.0.1:0", "--tls-self-signed", TLS_DIR, *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        first = self.proc.stdout.readline()
        if "https://" not in first:
            raise SystemExit("emulator did not start: %r" % first)
        self.addr = first.rsplit("https://", 1)[1].strip()
        self.endpoint = "https://" + self.addr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def trust_bench_ca():
    """tccli has no CA option and always speaks HTTPS: add the bench CA to the bench venv's
    certifi bundle (the venv is the benchmark's own)."""
    Emulator().__exit__()  # makes bench/.tls on first use
    bundle = subprocess.check_output([sys.executable, "-c", "import certifi; print(certifi.where())"], text=True).strip()
    ca = open(CA).read()
    if ca not in open(bundle).read():
        with open(bundle, "a") as f:
            f.write("\n" + ca)


def tcrl_run(script, endpoint, *extra):
    return [TCRL, "-q", "run", os.path.join(BENCH, "lua", script), "--endpoint", endpoint, "--ca-cert", CA, *extra]


def python(script):
    return [sys.executable, os.path.join(BENCH, "peers", script)]


# Workloads ------------------------------------------------------------------------------------

def cold_single_call():
    log("1. cold single call: DescribeInstances, whole process")
    runs = 3 if QUICK else 10
    with Emulator("--demo") as emu:
        env = env_with(BENCH_ENDPOINT=emu.addr, BENCH_CA=CA)
        r = {}
        r["tcrl"] = repeat("tcrl run", tcrl_run("single-call.lua", emu.endpoint), env, runs)
        r["python_sdk"] = repeat("python SDK script", python("sdk_single_call.py"), env, runs)
        r["tccli"] = repeat("tccli", ["tccli", "tcr", "DescribeInstances", "--endpoint", emu.addr,
                                      "--region", "ap-guangzhou"], env, 2 if QUICK else 5, expect="TotalCount")
        # curl sends the same request, signed beforehand with tcr.sign.
        _, signed = timed(tcrl_run("presign.lua", emu.endpoint), env)
        req = json.loads(signed.strip().splitlines()[-1])
        curl = ["curl", "-sS", "--fail", "--cacert", CA, "-X", req["method"], req["url"], "--data-binary", req["body"]]
        for name, value in req["headers"].items():
            curl += ["-H", "%s: %s" % (name, value)]
        r["curl"] = repeat("curl (pre-signed)", curl, env, runs, expect="TotalCount")
    base = r["tcrl"]["median"]
    r["ratios"] = {
        "tccli/tcrl": r["tccli"]["median"] / base,
        "python_sdk/tcrl": r["python_sdk"]["median"] / base,
        "tcrl/curl": base / r["curl"]["median"],
    }
    results["workloads"]["cold_single_call"] = r


def inventory():
    repos, tags = (20, 50) if QUICK else (100, 50)
    latency = 20
    log("2. inventory: every tag of %d repositories x %d tags, %d ms latency per call" % (repos, tags, latency))
    with Emulator("--generate", "%dx%d" % (repos, tags), "--latency", str(latency)) as emu:
        env = env_with(BENCH_ENDPOINT=emu.addr, BENCH_CA=CA)
        expect = "tags=%d" % (repos * tags)
        r = {}
        # The emulator has no rate limit in this workload, so tcrl's client-side limiter (the
        # service's 20/s per action by default) is off, as for the peers.
        r["tcrl_map"] = repeat("tcrl tcr.map (16 wide)", tcrl_run("inventory.lua", emu.endpoint, "--rate-limit", "0",
                                                                 "--arg", "concurrency=16"), env, 3 if QUICK else 5, expect)
        r["tcrl_sequential"] = repeat("tcrl sequential", tcrl_run("inventory.lua", emu.endpoint, "--rate-limit", "0",
                                                                 "--arg", "concurrency=1"), env, 2 if QUICK else 3, expect)
        r["tcrl_default_limits"] = repeat("tcrl tcr.map, 20/s limiter", tcrl_run("inventory.lua", emu.endpoint,
                                                                                 "--arg", "concurrency=16"), env, 1, expect)
        r["python_sdk"] = repeat("python SDK, sequential", python("sdk_inventory.py"), env, 2 if QUICK else 3, expect)
        if QUICK:
            log("  tccli loop: skipped in --quick (one process per call)")
        else:
            r["tccli"] = repeat("tccli shell loop", ["bash", os.path.join(BENCH, "peers", "tccli_inventory.sh")], env, 1, expect)
    calls = 1 + repos  # one DescribeRepositories page, one DescribeImages page per repository
    # The latency bound of tcr.map: one listing call, then ceil(repos / 16) rounds of calls.
    bound = latency / 1000 * (1 + -(-repos // 16))
    items = repos * tags
    for key in list(r):
        r[key]["items_per_s"] = items / r[key]["median"]
    r["calls"] = calls
    r["latency_bound_s"] = bound
    r["rate_bound_s_with_default_limiter"] = repos / 20
    r["ratios"] = {
        "python_sdk/tcrl_map": r["python_sdk"]["median"] / r["tcrl_map"]["median"],
        "tcrl_sequential/tcrl_map": r["tcrl_sequential"]["median"] / r["tcrl_map"]["median"],
        "tcrl_map/latency_bound": r["tcrl_map"]["median"] / bound,
    }
    if "tccli" in r:
        r["ratios"]["tccli/tcrl_map"] = r["tccli"]["median"] / r["tcrl_map"]["median"]
    results["workloads"]["inventory"] = r


def cleanup():
    repos, tags, keep, limit = (5, 40, 20, 20) if QUICK else (20, 120, 20, 20)
    deletions = repos * (tags - keep)
    log("3. cleanup: delete %d tags, emulator rate limit %d/s per action" % (deletions, limit))
    r = {}
    for name, cmd, extra_env in (
        ("tcrl retention.apply", lambda emu: tcrl_run("cleanup.lua", emu.endpoint, "--arg", "keep=%d" % keep), {}),
        ("python SDK loop", lambda emu: python("sdk_cleanup.py"), {"KEEP": keep}),
    ):
        # A fresh registry for each run: the work deletes it. The request log counts the calls
        # the emulator refused with RequestLimitExceeded.
        request_log = os.path.join(tempfile.mkdtemp(prefix="tcrl-bench-"), "requests.jsonl")
        with Emulator("--generate", "%dx%d" % (repos, tags), "--rate-limit", str(limit), "--log", request_log) as emu:
            env = env_with(BENCH_ENDPOINT=emu.addr, BENCH_CA=CA, **extra_env)
            stats = repeat_once(name, cmd(emu), env, "deleted=%d" % deletions)
        codes = [json.loads(line).get("code") for line in open(request_log)]
        stats["requests"] = len(codes)
        stats["throttled"] = sum(1 for c in codes if c == "RequestLimitExceeded")
        log("  %-28s %d requests, %d answered RequestLimitExceeded" % ("", stats["requests"], stats["throttled"]))
        shutil.rmtree(os.path.dirname(request_log), ignore_errors=True)
        key = "tcrl" if name.startswith("tcrl") else "python_sdk"
        r[key] = stats
    bound = deletions / limit
    r["deletions"] = deletions
    r["rate_bound_s"] = bound
    r["ratios"] = {
        "python_sdk/tcrl": r["python_sdk"]["median"] / r["tcrl"]["median"],
        "tcrl/rate_bound": r["tcrl"]["median"] / bound,
    }
    results["workloads"]["cleanup"] = r


def repeat_once(name, cmd, env, expect):
    wall, out = timed(cmd, env, expect)
    stats = summary([wall])
    stats["output"] = out.strip().splitlines()[-1]
    log("  %-28s %8.3f s  (1 run: the work deletes the registry)" % (name, wall))
    return stats


def signing():
    log("4. signing: TC3 signatures per second, one thread")
    quick = ["--quick"] if QUICK else []
    # Rounds alternate the two sides, so a slow spell of a shared machine hits both; each side
    # reports the median of its rounds, and the spread of the per-round ratios is kept.
    rounds = 1 if QUICK else 3

    def parse(text):
        return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(tc3 [a-z ]+/s): (\d+)", text, re.M)}

    runs = {"tcrl": [], "python_sdk": []}
    for _ in range(rounds):
        runs["tcrl"].append(parse(subprocess.run(
            ["cargo", "bench", "--quiet", "--bench", "signing", "--", *quick], cwd=ROOT,
            check=True, capture_output=True, text=True).stdout))
        runs["python_sdk"].append(parse(subprocess.run(
            python("sdk_signing.py") + quick, env=env_with(), check=True, capture_output=True, text=True).stdout))
    names = list(runs["tcrl"][0])
    r = {side: {n: statistics.median(run[n] for run in runs[side]) for n in names} for side in runs}
    r["ratios"] = {n: r["tcrl"][n] / r["python_sdk"][n] for n in names}
    r["round_ratios"] = {n: [t[n] / p[n] for t, p in zip(runs["tcrl"], runs["python_sdk"])] for n in names}
    r["rounds"] = rounds
    for n in names:
        log("  %-24s tcrl %10.0f   python SDK %10.0f   ratio %.1fx  (rounds: %s)" % (
            n, r["tcrl"][n], r["python_sdk"][n], r["ratios"][n],
            ", ".join("%.1fx" % x for x in r["round_ratios"][n])))
    results["workloads"]["signing"] = r


def daemon():
    jobs = 100
    edits = 5 if QUICK else 20
    log("5. daemon: %d scheduled jobs idle; reload latency over %d edits" % (jobs, edits))
    folder = tempfile.mkdtemp(prefix="tcrl-bench-daemon-")
    try:
        for i in range(jobs):
            write_job(folder, i, 0)
        port = free_port()
        proc = subprocess.Popen([TCRL, "daemon", folder, "--http", "127.0.0.1:%d" % port, "--state-dir",
                                 os.path.join(folder, ".state"), "--endpoint", "https://127.0.0.1:9", "--ca-cert", CA],
                                env=env_with(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: len(status(port)["jobs"]) == jobs, 30)
            time.sleep(2)
            rss = rss_mib(proc.pid)
            latencies = []
            for n in range(1, edits + 1):
                expected = "%d 3 * * *" % n
                start = time.perf_counter()
                write_job(folder, 0, n)
                wait_for(lambda: job_schedule(port, "job-000") == expected, 10, interval=0.002)
                latencies.append(time.perf_counter() - start)
                time.sleep(0.3)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    r = {"jobs": jobs, "idle_rss_mib": rss, "reload_s": summary(latencies)}
    log("  idle RSS with %d jobs: %.1f MiB" % (jobs, rss))
    log("  reload latency: median %.0f ms [%.0f-%.0f] over %d edits (debounce 200 ms, the default)" % (
        r["reload_s"]["median"] * 1000, r["reload_s"]["min"] * 1000, r["reload_s"]["max"] * 1000, edits))
    results["workloads"]["daemon"] = r


def write_job(folder, i, minute):
    path = os.path.join(folder, "job-%03d.lua" % i)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write('return {\n  schedule = "%d 3 * * *",\n  run = function(ctx) tcr.log.info("job %d") end,\n}\n' % (minute, i))
    os.replace(tmp, path)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/status" % port, timeout=2) as resp:
        return json.load(resp)


def job_schedule(port, name):
    for job in status(port)["jobs"]:
        if job["job"] == name:
            return job["schedule"]
    return None


def wait_for(condition, timeout, interval=0.05):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(interval)
    raise SystemExit("timed out waiting for the daemon")


def rss_mib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmRSS for pid %d" % pid)


# Report ---------------------------------------------------------------------------------------

def report():
    w = results["workloads"]
    c, i, cl, s, d = w["cold_single_call"], w["inventory"], w["cleanup"], w["signing"], w["daemon"]
    ms = lambda v: "%.1f ms" % (v * 1000)
    lines = [
        "# tcrl benchmark results",
        "",
        "Produced by `bench/run%s` on %s (%s, %d cores). Every tool talks to `tcrl emulator` over"
        " HTTPS on 127.0.0.1; medians with [min-max] of the runs." % (
            " --quick" if QUICK else "", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), cpu_model(), os.cpu_count()),
        "",
        "| Workload | tcrl | Peer | Peer / tcrl | Target |",
        "|---|---|---|---|---|",
        "| 1. Cold single call (whole process) | %s, %.0f MiB | tccli %s, %.0f MiB | **%.0fx** | >= 50x |" % (
            ms(c["tcrl"]["median"]), c["tcrl"]["rss_mib"], ms(c["tccli"]["median"]), c["tccli"]["rss_mib"], c["ratios"]["tccli/tcrl"]),
        "| | | Python SDK script %s, %.0f MiB | **%.0fx** | |" % (
            ms(c["python_sdk"]["median"]), c["python_sdk"]["rss_mib"], c["ratios"]["python_sdk/tcrl"]),
        "| | | curl, pre-signed %s | tcrl/curl **%.1fx** | within 2x |" % (ms(c["curl"]["median"]), c["ratios"]["tcrl/curl"]),
        "| 2. Inventory (%d tags, 20 ms latency) | tcr.map %s (%.0f items/s) | Python SDK sequential %s | **%.1fx** | >= 10x |" % (
            i["tcrl_map"]["items_per_s"] * i["tcrl_map"]["median"], ms(i["tcrl_map"]["median"]), i["tcrl_map"]["items_per_s"],
            ms(i["python_sdk"]["median"]), i["ratios"]["python_sdk/tcrl_map"]),
    ]
    if "tccli" in i:
        lines.append("| | | tccli shell loop %.1f s | **%.0fx** | |" % (i["tccli"]["median"], i["ratios"]["tccli/tcrl_map"]))
    lines += [
        "| | tcrl sequential %s | latency bound %s | tcr.map / bound **%.2fx** | within 1.5x |" % (
            ms(i["tcrl_sequential"]["median"]), ms(i["latency_bound_s"]), i["ratios"]["tcrl_map/latency_bound"]),
        "| 3. Cleanup (%d deletions, 20/s per action) | %.1f s, %d throttled of %d requests | Python SDK loop %.1f s, %d throttled of %d | **%.2fx** | tcrl / rate bound (%.0f s): **%.2fx** |" % (
            cl["deletions"], cl["tcrl"]["median"], cl["tcrl"]["throttled"], cl["tcrl"]["requests"],
            cl["python_sdk"]["median"], cl["python_sdk"]["throttled"], cl["python_sdk"]["requests"],
            cl["ratios"]["python_sdk/tcrl"], cl["rate_bound_s"], cl["ratios"]["tcrl/rate_bound"]),
    ]
    for name, ratio in s["ratios"].items():
        spread = s.get("round_ratios", {}).get(name, [ratio])
        lines.append("| 4. Signing: %s, one thread | %.0f | Python SDK %.0f | **%.1fx** (rounds %.1f-%.1fx) | >= 20x |" % (
            name.replace("tc3 ", "").replace("/s", " per s"), s["tcrl"][name], s["python_sdk"][name], ratio,
            min(spread), max(spread)))
    lines += [
        "| 5. Daemon, %d jobs idle | %.1f MiB RSS | | | <= 15 MiB |" % (d["jobs"], d["idle_rss_mib"]),
        "| 5. Reload, file save to new version active | %s median [%s-%s], %d edits | | | <= 300 ms |" % (
            ms(d["reload_s"]["median"]), ms(d["reload_s"]["min"]), ms(d["reload_s"]["max"]), d["reload_s"]["runs"]),
        "",
        "Notes: in workload 2 the emulator has no rate limit, so tcrl runs with `--rate-limit 0` like"
        " the peers; with its default client limiter (the service's 20 calls/s per action) the same"
        " script took %s, at the rate bound of %s. In workload 3 the Python loop retries"
        " `RequestLimitExceeded` with backoff, which users must add themselves; tcrl paces its calls"
        " to the limit instead; the emulator counts calls in whole-second windows, as a greedy"
        " client can use both ends of a window. Both tcrl scripts ask DescribeImages for pages of 100"
        " like the peers (its documented default is 20 and no maximum is documented). Signing compares `cargo bench --bench signing` with"
        " the SDK's `_get_tc3_signature` (signature) and `_build_req_with_tc3_signature` (whole request),"
        " in %d alternating rounds (medians; the SDK's rate moves by a third between runs on a shared machine)." % (
            ms(i["tcrl_default_limits"]["median"]), ms(i["rate_bound_s_with_default_limiter"]),
            s.get("rounds", 1)),
        "",
    ]
    os.makedirs(RESULTS, exist_ok=True)
    name = "quick" if QUICK else "latest"
    with open(os.path.join(RESULTS, name + ".md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(RESULTS, name + ".json"), "w") as f:
        json.dump(results, f, indent=2)
    chart(os.path.join(RESULTS, name + ".png"))
    log("\n".join(lines))
    log("written: bench/results/%s.md, .json%s" % (name, ", .png" if os.path.exists(os.path.join(RESULTS, name + ".png")) else ""))


def chart(path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    w = results["workloads"]
    rows = [
        ("cold call vs tccli", w["cold_single_call"]["ratios"]["tccli/tcrl"]),
        ("cold call vs Python SDK", w["cold_single_call"]["ratios"]["python_sdk/tcrl"]),
        ("inventory vs Python SDK", w["inventory"]["ratios"]["python_sdk/tcrl_map"]),
        ("cleanup vs Python SDK", w["cleanup"]["ratios"]["python_sdk/tcrl"]),
    ] + [("signing: " + k.replace("tc3 ", ""), v) for k, v in w["signing"]["ratios"].items()]
    if "tccli/tcrl_map" in w["inventory"]["ratios"]:
        rows.insert(3, ("inventory vs tccli loop", w["inventory"]["ratios"]["tccli/tcrl_map"]))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh([r[0] for r in rows], [r[1] for r in rows], color="#2a7ab0")
    ax.set_xscale("log")
    ax.set_xlabel("times faster than the peer (log scale)")
    for y, (_, v) in enumerate(rows):
        ax.text(v, y, " %.1fx" % v, va="center")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main():
    trust_bench_ca()
    cold_single_call()
    inventory()
    cleanup()
    signing()
    daemon()
    report()


if __name__ == "__main__":
    main()
