#!/usr/bin/env python3
"""berth vs Docker, side by side, in one run on this machine.

Starts dockerd and berthd on their own sockets, data roots and exec roots,
loads the same busybox image into both, and times the same commands with the
same docker CLI against each daemon (and berth's own CLI against berthd).
Writes bench/results/latest.md, latest.json and latest.png (when matplotlib
is available) and prints the table. Only the Python standard library is
needed for the table. Every figure comes from this run; none is hard-coded.
"""

import argparse
import concurrent.futures
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import buildbench
import composebench
import dashboard
import registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")


def sh(args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, **kw)


def timed(args):
    t = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return dt


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def procs_named(comm_prefix, must_contain=None):
    """PIDs whose comm starts with comm_prefix (and cmdline contains must_contain)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
            if not comm.startswith(comm_prefix):
                continue
            if must_contain:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if must_contain.encode() not in f.read():
                        continue
            out.append(int(d))
        except OSError:
            continue
    return out


class Engine:
    """One daemon and the CLIs that drive it."""

    def __init__(self, name, work, argv, sock):
        self.name, self.work, self.sock = name, work, sock
        self.log = open(os.path.join(work, f"{name}.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.docker = ["docker", "-H", f"unix://{sock}"]
        deadline = time.time() + 60
        while time.time() < deadline:
            if sh(self.docker + ["version"], check=False).returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not come up; see {self.log.name}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def daemon_rss_kib(self):
        total = rss_kib(self.proc.pid)
        if self.name == "docker":  # dockerd's own containerd
            total += sum(rss_kib(p) for p in procs_named("containerd", self.work) if "shim" not in open(f"/proc/{p}/comm").read())
        return total

    def per_container_rss_kib(self):
        if self.name == "docker":
            pids = procs_named("containerd-shim")
        else:
            pids = procs_named("berth-shim", self.work)
        return [rss_kib(p) for p in pids]


def stats(samples):
    s = sorted(samples)
    med = statistics.median(s)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    return {"median_ms": med * 1000, "p95_ms": p95 * 1000, "n": len(s)}


def repeat(args, runs, warmup=3):
    for _ in range(warmup):
        timed(args)
    return stats([timed(args) for _ in range(runs)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--containers", type=int, default=1000, help="containers for the ps row")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--net-mb", type=int, default=512, help="MB streamed per throughput row")
    ap.add_argument("--compose-runs", type=int, help="up -d/down cycles for the compose rows (default: --runs, at most 5)")
    ap.add_argument("--only", choices=["locks", "registry", "build", "compose"], help="run only these rows (results in latest-ONLY.*)")
    a = ap.parse_args()
    if a.compose_runs is None:
        a.compose_runs = min(a.runs, 5)

    work = tempfile.mkdtemp(prefix="berth-bench.")
    img = os.path.join(work, "busybox.tar")
    sh([os.path.join(ROOT, "scripts", "make-busybox-image.sh"), img])
    engines = {}
    rows = []
    try:
        # dockerd without a bridge or iptables: it never touches the host's
        # network, and every row uses --network none on both engines.
        engines["docker"] = Engine("docker", work, [
            "dockerd", "--data-root", f"{work}/docker-data", "--exec-root", f"{work}/docker-exec",
            "-H", f"unix://{work}/docker.sock", "--pidfile", f"{work}/docker.pid",
            "--bridge=none", "--iptables=false", "--ip6tables=false"], f"{work}/docker.sock")
        engines["berth"] = Engine("berth", work, [
            os.path.join(a.bin, "berthd"), "--data-root", f"{work}/berth-data", "--exec-root", f"{work}/berth-exec",
            "-H", f"unix://{work}/berth.sock", "--bridge", "berthbench0"], f"{work}/berth.sock")
        for e in engines.values():
            sh(e.docker + ["load", "-i", img])
        berth_cli = [os.path.join(a.bin, "berth"), "-H", f"unix://{work}/berth.sock"]
        if a.only == "locks":
            rows = lock_rows(engines)
            return
        if a.only == "registry":
            rows = registry.registry_rows(engines, work, os.path.join(a.bin, "berth"))
            return
        if a.only == "build":
            rows = buildbench.rows(engines, berth_cli, work, a.runs)
            return
        if a.only == "compose":
            rows = composebench.rows(engines, os.path.join(a.bin, "berth"), work, a.compose_runs)
            return
        rows = run_rows(engines, berth_cli, a)
        rows += lock_rows(engines)
        rows += registry.registry_rows(engines, work, os.path.join(a.bin, "berth"))
        rows += buildbench.rows(engines, berth_cli, work, a.runs)
        rows += composebench.rows(engines, os.path.join(a.bin, "berth"), work, a.compose_runs)
        # berthd on runc, the alternative runtime, on its own roots and
        # bridge, started after the rows above are done.
        engines["berth-runc"] = Engine("berth-runc", work, [
            os.path.join(a.bin, "berthd"), "--data-root", f"{work}/runc-data", "--exec-root", f"{work}/runc-exec",
            "-H", f"unix://{work}/runc.sock", "--bridge", "berthbench1", "--default-runtime", "runc"], f"{work}/runc.sock")
        sh(engines["berth-runc"].docker + ["load", "-i", img])
        rows += runtime_rows(engines, a)
    finally:
        for e in engines.values():
            try:
                sh(e.docker + ["rm", "-f"] + sh(e.docker + ["ps", "-aq"], check=False).stdout.split(), check=False)
            except Exception:
                pass
            e.stop()
        subprocess.run(["umount", "-R", f"{work}/docker-data"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        if rows:
            report(rows, a)


def run_rows(engines, berth_cli, a):
    rows = []
    none = ["--network", "none"]

    def add(what, unit, docker, berth, berth_cli_value=None, note=""):
        rows.append({"what": what, "unit": unit, "docker": docker, "berth": berth,
                     "berth_cli": berth_cli_value, "note": note})

    # 1. run --rm true
    r = {n: repeat(e.docker + ["run", "--rm"] + none + ["busybox", "true"], a.runs) for n, e in engines.items()}
    rb = repeat(berth_cli + ["run", "--rm"] + none + ["busybox", "true"], a.runs)
    add("run --rm --network none busybox true (median)", "ms", r["docker"]["median_ms"], r["berth"]["median_ms"], rb["median_ms"])
    add("run --rm --network none busybox true (p95)", "ms", r["docker"]["p95_ms"], r["berth"]["p95_ms"], rb["p95_ms"])

    # 2. 50 sequential run -d, what they cost in memory, and 4. exec into
    # one of them. One engine at a time, its containers removed before the
    # next starts: every running container adds mounts to the host's mount
    # table, which makes the next container's mount namespace slower to
    # create on either engine, so neither measures with the other's load.
    idle, seq, busy, per, ex = {}, {}, {}, {}, {}
    seq_cli = ex_cli = None
    for n, e in engines.items():
        idle[n] = e.daemon_rss_kib()
        t = time.perf_counter()
        for _ in range(50):
            timed(e.docker + ["run", "-d"] + none + ["busybox", "sleep", "3600"])
        seq[n] = time.perf_counter() - t
        busy[n] = e.daemon_rss_kib()
        per[n] = e.per_container_rss_kib()
        ids = sh(e.docker + ["ps", "-q"]).stdout.split()
        probe = sh(e.docker + ["exec", ids[0], "true"], check=False) if ids else None
        ex[n] = repeat(e.docker + ["exec", ids[0], "true"], a.runs)["median_ms"] if probe and probe.returncode == 0 else None
        if n == "berth":
            ex_cli = repeat(berth_cli + ["exec", ids[0], "true"], a.runs)["median_ms"] if ids else None
        sh(e.docker + ["rm", "-f"] + sh(e.docker + ["ps", "-aq"]).stdout.split())
        if n == "berth":
            t = time.perf_counter()
            for _ in range(50):
                timed(berth_cli + ["run", "-d"] + none + ["busybox", "sleep", "3600"])
            seq_cli = time.perf_counter() - t
            sh(e.docker + ["rm", "-f"] + sh(e.docker + ["ps", "-aq"]).stdout.split())
    add("50 sequential run -d (total)", "s", seq["docker"], seq["berth"], seq_cli)
    add("daemon RSS, idle", "MB", idle["docker"] / 1024, idle["berth"] / 1024, note="dockerd+containerd vs berthd")
    add("daemon RSS, 50 running", "MB", busy["docker"] / 1024, busy["berth"] / 1024)
    mean = lambda xs: (sum(xs) / len(xs) / 1024) if xs else float("nan")
    add("RSS per container process (shim)", "MB", mean(per["docker"]), mean(per["berth"]),
        note=f"containerd-shim ×{len(per['docker'])} vs berth-shim ×{len(per['berth'])}")
    add("exec c true, 50 running (median)", "ms", ex["docker"], ex["berth"], ex_cli)

    # 3. 50 concurrent run --rm
    conc = {}
    for n, e in engines.items():
        t = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            list(pool.map(lambda _: timed(e.docker + ["run", "--rm"] + none + ["busybox", "true"]), range(50)))
        conc[n] = time.perf_counter() - t
    add("50 concurrent run --rm (wall)", "s", conc["docker"], conc["berth"])

    # 5. ps -a with many created containers, and the dashboard's
    # containers view over the same list (berth dashboard against each
    # daemon, first render in headless chromium: bench/dashboard.py)
    ps, dash = {}, {}
    # A berth from before the dashboard (a before/after run) has no row.
    has_dash = subprocess.run([os.path.join(a.bin, "berth"), "dashboard", "--help"], capture_output=True).returncode == 0
    for n, e in engines.items():
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: timed(e.docker + ["create"] + none + ["busybox", "true"]), range(a.containers)))
        ps[n] = repeat(e.docker + ["ps", "-a"], 10, warmup=1)["median_ms"]
        dash[n] = dashboard.first_render_ms(os.path.join(a.bin, "berth"), f"unix://{e.sock}", runs=10, expect=a.containers) if has_dash else None
        sh(e.docker + ["container", "prune", "-f"])
    add(f"ps -a with {a.containers} containers (median)", "ms", ps["docker"], ps["berth"])
    add(f"dashboard: containers view first render, {a.containers} containers (median)", "ms", dash["docker"], dash["berth"],
        note="berth dashboard against each daemon, headless chromium")

    # 6. stop -t 1 of a container that ignores SIGTERM: ~1 s on both
    st = {}
    for n, e in engines.items():
        samples = []
        for _ in range(5):
            cid = sh(e.docker + ["run", "-d"] + none + ["busybox", "sh", "-c", "trap '' TERM; while :; do sleep 1; done"]).stdout.strip()
            samples.append(timed(e.docker + ["stop", "-t", "1", cid]))
            sh(e.docker + ["rm", "-f", cid])
        st[n] = statistics.median(samples) * 1000
    add("stop -t 1, SIGTERM ignored (median)", "ms", st["docker"], st["berth"], note="timing fidelity, not speed")

    # 7. networking, berth only: dockerd runs here without a bridge or
    # iptables so that it never touches the host's network.
    b = engines["berth"]
    br = repeat(b.docker + ["run", "--rm", "busybox", "true"], a.runs)
    brc = repeat(berth_cli + ["run", "--rm", "busybox", "true"], a.runs)
    base = r["berth"]["median_ms"]
    add("run --rm busybox true, default bridge (median)", "ms", None, br["median_ms"], brc["median_ms"],
        note=f"berth only; bridge/none {br['median_ms'] / base:.2f}x, +{br['median_ms'] - base:.1f} ms")
    add("run --rm busybox true, default bridge (p95)", "ms", None, br["p95_ms"], brc["p95_ms"], note="berth only")
    pub = throughput(b, ["-p", "127.0.0.1:0:5000"], a.net_mb, published=True)
    own = throughput(b, [], a.net_mb, published=False)
    add(f"TCP stream {a.net_mb} MB, published port on 127.0.0.1", "MB/s", None, pub, note="berth only; kernel NAT, no proxy")
    add(f"TCP stream {a.net_mb} MB, container's own address", "MB/s", None, own,
        note=f"berth only; published/own {pub / own:.2f}x" if own else "berth only")
    return rows


def api_get(sock, path):
    """One GET over a fresh connection: (seconds, answered 200)."""
    t = time.perf_counter()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    try:
        s.connect(sock)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except OSError:
        return time.perf_counter() - t, False
    finally:
        s.close()
    return time.perf_counter() - t, buf.startswith(b"HTTP/1.1 200")


def quantile(samples, q):
    s = sorted(samples)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else float("nan")


def lock_rows(engines):
    """The API under start load (issue 12's bar: GET /containers/json p99
    under 50 ms while 20 containers with published ports start on a user
    network) and 50 concurrent `run --rm` on a user bridge network.
    dockerd creates the user network's bridge too (its default bridge is
    off, not its bridge driver); both are removed after the rows."""
    rows = []
    lat, errs, conc, cerr = {}, {}, {}, {}
    for n in ("docker", "berth"):
        e = engines[n]
        net = "benchlocks"
        sh(e.docker + ["network", "create", net])
        try:
            stop, samples, failed = threading.Event(), [], [0]

            def sampler():
                while not stop.is_set():
                    dt, ok = api_get(e.sock, "/containers/json")
                    if ok:
                        samples.append(dt)
                    else:
                        failed[0] += 1
                    time.sleep(0.005)

            th = threading.Thread(target=sampler)
            th.start()
            run = e.docker + ["run", "-d", "--network", net, "-p", "127.0.0.1::80", "busybox", "sleep", "3600"]
            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                codes = list(pool.map(lambda _: sh(run, check=False).returncode, range(20)))
            stop.set()
            th.join()
            lat[n] = {"p50": quantile(samples, 0.5) * 1000, "p99": quantile(samples, 0.99) * 1000, "n": len(samples)}
            errs[n] = sum(c != 0 for c in codes) + failed[0]
            sh(e.docker + ["rm", "-f"] + sh(e.docker + ["ps", "-aq"]).stdout.split(), check=False)
            rm = e.docker + ["run", "--rm", "--network", net, "busybox", "true"]
            t = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(50) as pool:
                codes = list(pool.map(lambda _: sh(rm, check=False).returncode, range(50)))
            conc[n] = time.perf_counter() - t
            cerr[n] = sum(c != 0 for c in codes)
        finally:
            sh(e.docker + ["rm", "-f"] + sh(e.docker + ["ps", "-aq"], check=False).stdout.split(), check=False)
            sh(e.docker + ["network", "rm", net], check=False)

    def add(what, unit, d, b, note=""):
        rows.append({"what": what, "unit": unit, "docker": d, "berth": b, "berth_cli": None, "note": note})

    samples_note = f"{lat['docker']['n']} / {lat['berth']['n']} samples"
    add("GET /containers/json during 20 starts -p on a user network (p50)", "ms", lat["docker"]["p50"], lat["berth"]["p50"], samples_note)
    add("GET /containers/json during 20 starts -p on a user network (p99)", "ms", lat["docker"]["p99"], lat["berth"]["p99"],
        f"bar: berth p99 < 50 ms; failed starts or answers: docker {errs['docker']}, berth {errs['berth']}")
    add("50 concurrent run --rm on a user network (wall)", "s", conc["docker"], conc["berth"],
        f"errors: docker {cerr['docker']}, berth {cerr['berth']}")
    return rows


def runtime_rows(engines, a):
    """`run --rm` and `exec` on berthd with runc instead of berth-oci, next to dockerd."""
    o, d = engines["berth-runc"], engines["docker"]
    rows = []
    run = repeat(o.docker + ["run", "--rm", "--network", "none", "busybox", "true"], a.runs)
    docker_run = repeat(d.docker + ["run", "--rm", "--network", "none", "busybox", "true"], a.runs)
    rows.append({"what": "run --rm --network none busybox true, berthd on runc (median)", "unit": "ms",
                 "docker": docker_run["median_ms"], "berth": run["median_ms"], "berth_cli": None,
                 "note": "alternative runtime (--default-runtime runc)"})
    cid = sh(o.docker + ["run", "-d", "--network", "none", "busybox", "sleep", "3600"]).stdout.strip()
    did = sh(d.docker + ["run", "-d", "--network", "none", "busybox", "sleep", "3600"]).stdout.strip()
    ex = repeat(o.docker + ["exec", cid, "true"], a.runs)
    dex = repeat(d.docker + ["exec", did, "true"], a.runs)
    rows.append({"what": "exec c true, berthd on runc (median)", "unit": "ms", "docker": dex["median_ms"],
                 "berth": ex["median_ms"], "berth_cli": None, "note": "alternative runtime"})
    for e, c in ((o, cid), (d, did)):
        sh(e.docker + ["rm", "-f", c])
    return rows


def throughput(engine, publish, mb, published):
    """MB/s read by a client on the host from a busybox nc server in a
    container, through a published 127.0.0.1 port or straight to the
    container's address. Both ends are on this machine."""
    cid = sh(engine.docker + ["run", "-d"] + publish + ["busybox", "sh", "-c",
             f"head -c {mb * 1000000} /dev/zero | nc -l -p 5000"]).stdout.strip()
    try:
        if published:
            hp = sh(engine.docker + ["port", cid, "5000"]).stdout.strip().rsplit(":", 1)[1]
            addr = ("127.0.0.1", int(hp))
        else:
            ip = sh(engine.docker + ["inspect", "-f", "{{.NetworkSettings.IPAddress}}", cid]).stdout.strip()
            addr = (ip, 5000)
        deadline = time.time() + 10
        while True:
            try:
                conn = socket.create_connection(addr, timeout=30)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        with conn:
            n, t = 0, time.perf_counter()
            while True:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                n += len(chunk)
            dt = time.perf_counter() - t
        return n / dt / 1e6 if n == mb * 1000000 else None
    finally:
        sh(engine.docker + ["rm", "-f", cid], check=False)


def fmt(v, unit):
    if v is None:
        return "n/a"
    return f"{v:.2f}" if unit == "s" else f"{v:.1f}"


def report(rows, a):
    os.makedirs(RESULTS, exist_ok=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    dv = sh(["dockerd", "--version"], check=False).stdout.strip()
    lines = [f"# berth vs Docker ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"Machine: {cpu}, {os.cpu_count()} cores, kernel {platform.release()}. {dv}.",
             (f"docker-compose 1.29 against dockerd, `berth compose` against berthd, the same compose file; "
              f"median of {a.compose_runs} up/down cycles after 1 warm-up." if a.only == "compose" else
              f"Same docker CLI against each daemon; `berth CLI` is berth's own client against berthd. {a.runs} runs per timed row after 3 warm-ups."),
             "", "| what | unit | docker | berth | docker / berth | berth CLI | note |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        ratio = (f"{r['docker'] / r['berth']:.1f}x" if r["docker"] and r["berth"] else "n/a")
        lines.append(f"| {r['what']} | {r['unit']} | {fmt(r['docker'], r['unit'])} | {fmt(r['berth'], r['unit'])} | {ratio} | "
                     f"{fmt(r['berth_cli'], r['unit'])} | {r['note']} |")
    text = "\n".join(lines) + "\n"
    name = f"latest-{a.only}" if a.only else "latest"
    with open(os.path.join(RESULTS, f"{name}.md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
        json.dump(rows, f, indent=2)
    if not a.only:
        chart(rows)
    print(text)


def chart(rows):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no PNG chart; pip install matplotlib)", file=sys.stderr)
        return
    rs = [r for r in rows if r["docker"] and r["berth"]]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(rs) + 1.5))
    ys = range(len(rs))
    ax.barh([y + 0.2 for y in ys], [r["docker"] / r["docker"] for r in rs], height=0.4, label="docker (=1)")
    ax.barh([y - 0.2 for y in ys], [r["berth"] / r["docker"] for r in rs], height=0.4, label="berth")
    ax.set_yticks(list(ys), [r["what"] for r in rs], fontsize=8)
    ax.set_xlabel("relative to docker (lower is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, "latest.png"), dpi=100)


if __name__ == "__main__":
    main()
