"""Registry rows: push and pull of a ~120 MB, three-layer image over
loopback, dockerd next to berthd through the same docker CLI, against
Debian's docker-registry and `berth registry serve`; and the pull of an
image already present (`Image is up to date`). Standard library only.

Each push goes to a fresh registry (its own data directory and port), so
nothing is already there and nothing can be mounted; each pull starts with
the image removed from the daemon. The layers hold this machine's own
files (binaries from /usr/bin, shared libraries, Python modules: what
images are made of, compressing about 2.5x), 40 MB each.
"""

import io
import json
import hashlib
import os
import socket
import subprocess
import tarfile
import tempfile
import time

LAYER_MB = 40


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, what):
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


class Registry:
    """One registry server on a fresh data directory and port."""

    def __init__(self, kind, work, berth_bin):
        self.dir = tempfile.mkdtemp(prefix=f"reg-{kind}.", dir=work)
        self.port = free_port()
        if kind == "distribution":
            cfg = os.path.join(self.dir, "config.yml")
            with open(cfg, "w") as f:
                f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {self.dir}/data\n"
                        f"http:\n  addr: 127.0.0.1:{self.port}\n")
            argv = ["docker-registry", "serve", cfg]
        else:
            argv = [berth_bin, "registry", "serve", "--addr", f"127.0.0.1:{self.port}", "--data-root", f"{self.dir}/data"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc, kind)

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])


SOURCES = ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/python3"]


def layer_tar(seed, mb):
    """A layer of about `mb` MB of the files under SOURCES[seed], in sorted
    order (the same bytes every run on one machine), plus a marker file so
    that no daemon has the layer already."""
    buf = io.BytesIO()
    budget = mb * 1000000
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        marker = f"bench {seed} {time.time()}".encode()
        info = tarfile.TarInfo("bench-marker")
        info.size = len(marker)
        t.addfile(info, io.BytesIO(marker))
        for root, dirs, files in os.walk(SOURCES[seed % len(SOURCES)]):
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(root, f)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                size = os.path.getsize(path)
                if size > budget:
                    continue
                with open(path, "rb") as fh:
                    info = tarfile.TarInfo(path.lstrip("/"))
                    info.size = size
                    info.mode = 0o755
                    t.addfile(info, fh)
                budget -= size
                if budget < 100000:
                    break
            if budget < 100000:
                break
    return buf.getvalue()


def make_archive(path):
    """A docker-save archive of three layers, about 120 MB."""
    layers = [layer_tar(i, LAYER_MB) for i in range(3)]
    diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/true"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": []}).encode()
    cfg_name = hashlib.sha256(config).hexdigest() + ".json"
    with tarfile.open(path, "w") as t:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        names = []
        for i, l in enumerate(layers):
            add(f"l{i}.tar", l)
            names.append(f"l{i}.tar")
        add(cfg_name, config)
        add("manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": ["regbench:latest"], "Layers": names}]).encode())


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.strip()}")
    return p.stdout


def timed(cmd):
    t = time.perf_counter()
    run(cmd)
    return time.perf_counter() - t


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if s else None


def registry_rows(engines, work, berth_bin, samples=3, up_to_date_runs=20):
    """Rows for bench.py's table."""
    archive = os.path.join(work, "regbench.tar")
    make_archive(archive)
    rows = []

    def add(what, unit, d, b, note=""):
        rows.append({"what": what, "unit": unit, "docker": d, "berth": b, "berth_cli": None, "note": note})

    for n in ("docker", "berth"):
        run(engines[n].docker + ["load", "-i", archive])
    push, pull, pull_own, fresh = {}, {}, {}, {}
    for n in ("docker", "berth"):
        e = engines[n]
        push[n], pull[n], pull_own[n] = [], [], []
        for _ in range(samples):
            reg = Registry("distribution", work, berth_bin)
            try:
                name = f"{reg.host}/bench/img:latest"
                run(e.docker + ["tag", "regbench:latest", name])
                push[n].append(timed(e.docker + ["push", name]))
                # The image leaves the daemon (both names), then comes back.
                run(e.docker + ["rmi", name, "regbench:latest"])
                pull[n].append(timed(e.docker + ["pull", name]))
                run(e.docker + ["tag", name, "regbench:latest"])
                run(e.docker + ["rmi", name])
            finally:
                reg.stop()
        # From berth's own server: pushed there once, pulled `samples` times.
        reg = Registry("berth", work, berth_bin)
        try:
            name = f"{reg.host}/bench/img:latest"
            run(e.docker + ["tag", "regbench:latest", name])
            run(e.docker + ["push", name])
            for _ in range(samples):
                run(e.docker + ["rmi", name, "regbench:latest"])
                pull_own[n].append(timed(e.docker + ["pull", name]))
                run(e.docker + ["tag", name, "regbench:latest"])
            # Already present: the manifest is fetched, nothing else.
            fresh[n] = [timed(e.docker + ["pull", name]) for _ in range(up_to_date_runs)]
            run(e.docker + ["rmi", name])
        finally:
            reg.stop()
        run(e.docker + ["rmi", "regbench:latest"])
    note = f"3 layers x {LAYER_MB} MB of /usr files, fresh registry each; median of {samples}"
    add("push ~120 MB image to docker-registry on loopback", "s", median(push["docker"]), median(push["berth"]), note)
    add("pull ~120 MB image from docker-registry on loopback", "s", median(pull["docker"]), median(pull["berth"]), note)
    add("pull ~120 MB image from berth registry serve", "s", median(pull_own["docker"]), median(pull_own["berth"]),
        f"median of {samples}")
    add("pull, image up to date (median)", "ms", median(fresh["docker"]) * 1000, median(fresh["berth"]) * 1000,
        f"docker CLI, {up_to_date_runs} runs; bar: berth < 20 ms")
    return rows
