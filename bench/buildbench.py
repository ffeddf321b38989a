"""Build rows: a 9-step Dockerfile with a 200-file context, cold (--no-cache)
and fully cached, through the docker CLI's classic builder against each
daemon and through `berth build` against berthd. Every figure is measured
in the run; none is hard-coded."""

import os
import statistics
import subprocess
import time

DOCKERFILE = """FROM busybox
ENV APP=/app
WORKDIR /app
COPY files/ ./files/
RUN cat files/* | wc -c > /size
COPY main.sh ./
RUN chmod +x main.sh
LABEL bench=build
CMD ["./main.sh"]
"""


def make_context(work):
    ctx = os.path.join(work, "build-ctx")
    os.makedirs(os.path.join(ctx, "files"), exist_ok=True)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)
    for i in range(199):
        with open(os.path.join(ctx, "files", f"f{i:03}.txt"), "w") as f:
            f.write(f"file {i}\n" * 20)
    with open(os.path.join(ctx, "main.sh"), "w") as f:
        f.write("#!/bin/sh\ncat /size\n")
    return ctx


def timed(args):
    t = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return dt


def median_ms(args, runs, warmup=1):
    for _ in range(warmup):
        timed(args)
    return statistics.median(timed(args) for _ in range(runs)) * 1000


def rows(engines, berth_cli, work, runs):
    # The docker CLI here has no buildx: the classic builder on both daemons.
    os.environ["DOCKER_BUILDKIT"] = "0"
    ctx = make_context(work)
    none = ["--network", "none"]
    out = []
    cold, cached = {}, {}
    for n in ("docker", "berth"):
        e = engines[n]
        cold[n] = median_ms(e.docker + ["build", "-q", "--no-cache"] + none + ["-t", "bench-build", ctx], max(3, runs // 6))
        cached[n] = median_ms(e.docker + ["build", "-q"] + none + ["-t", "bench-build", ctx], runs)
    cold_cli = median_ms(berth_cli + ["build", "-q", "--no-cache"] + none + ["-t", "bench-build", ctx], max(3, runs // 6))
    cached_cli = median_ms(berth_cli + ["build", "-q"] + none + ["-t", "bench-build", ctx], runs)
    note = "9 steps, 200-file context; docker CLI with DOCKER_BUILDKIT=0 (classic builder) on both daemons"
    out.append({"what": "build, cold (--no-cache) (median)", "unit": "ms", "docker": cold["docker"], "berth": cold["berth"],
                "berth_cli": cold_cli, "note": note})
    out.append({"what": "build, fully cached (median)", "unit": "ms", "docker": cached["docker"], "berth": cached["berth"],
                "berth_cli": cached_cli, "note": "same build, every step a cache hit"})
    return out
