#!/usr/bin/env bash
# Benchmarks berthd against dockerd on this machine, in one run, with the
# same docker CLI driving both (and berth's own CLI beside it).
# Usage: bench/run.sh [RUNS]     (default 30 runs per row)
# Writes bench/results/latest.md and prints it. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
./scripts/install-deps.sh
pkgs=(docker.io hyperfine)
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"
done
cargo build --release --workspace --bins
bin=$PWD/target/release
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  umount -R "$work"/docker-data/overlay2/*/merged 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# dockerd on its own socket, data root and exec root; no bridge or
# iptables so it never touches the host's network (rows use --network none).
dockerd --data-root "$work/docker-data" --exec-root "$work/docker-exec" \
  -H "unix://$work/docker.sock" --pidfile "$work/docker.pid" \
  --bridge=none --iptables=false --ip6tables=false >"$work/dockerd.log" 2>&1 &
pids+=($!)
"$bin/berthd" --data-root "$work/berth-data" --exec-root "$work/berth-exec" \
  -H "unix://$work/berth.sock" >"$work/berthd.log" 2>&1 &
pids+=($!)
# The same daemon on runc instead of its built-in berth-oci, for the runtime's share.
"$bin/berthd" --data-root "$work/berthrunc-data" --exec-root "$work/berthrunc-exec" \
  -H "unix://$work/berthrunc.sock" --default-runtime runc >"$work/berthd-runc.log" 2>&1 &
pids+=($!)
for s in docker berth berthrunc; do
  for _ in $(seq 100); do docker -H "unix://$work/$s.sock" version >/dev/null 2>&1 && break; sleep 0.2; done
done

img=$work/busybox.tar
./scripts/make-busybox-image.sh "$img" >/dev/null
docker -H "unix://$work/docker.sock" load -i "$img" >/dev/null
docker -H "unix://$work/berth.sock" load -i "$img" >/dev/null
docker -H "unix://$work/berthrunc.sock" load -i "$img" >/dev/null

D="docker -H unix://$work/docker.sock"
B="docker -H unix://$work/berth.sock"
BB="$bin/berth -H unix://$work/berth.sock"
row() { # name, command
  hyperfine --style none --warmup 3 --runs "$runs" --export-json "$work/$1.json" "$2" >/dev/null
}
row docker_run "$D run --rm --network none busybox true"
row berth_run_dockercli "$B run --rm --network none busybox true"
row berth_run_berthcli "$BB run --rm --network none busybox true" || true
row berthrunc_run_dockercli "docker -H unix://$work/berthrunc.sock run --rm --network none busybox true"

python3 - "$work" "$runs" > bench/results/latest.md <<'PY'
import json, sys, os, statistics, platform, subprocess
work, runs = sys.argv[1], sys.argv[2]
def stats(name):
    p = os.path.join(work, name + ".json")
    if not os.path.exists(p): return None
    t = sorted(json.load(open(p))["results"][0]["times"])
    med = statistics.median(t) * 1000
    p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))] * 1000
    return med, p95
d = stats("docker_run")
rows = [("`run --rm --network none busybox true` (docker CLI → dockerd)", d),
        ("`run --rm --network none busybox true` (docker CLI → berthd)", stats("berth_run_dockercli")),
        ("`run --rm busybox true` (berth CLI → berthd)", stats("berth_run_berthcli")),
        ("`run --rm --network none busybox true` (docker CLI → berthd on runc)", stats("berthrunc_run_dockercli"))]
cpu = next((l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"# berth vs docker — {runs} runs per row\n")
print(f"Machine: {cpu}, {os.cpu_count()} cores, kernel {platform.release()}; "
      f"dockerd {subprocess.run(['dockerd','--version'],capture_output=True,text=True).stdout.strip()}\n")
print("| what | median ms | p95 ms | docker median / this median |")
print("| --- | ---: | ---: | ---: |")
for name, s in rows:
    if s is None: print(f"| {name} | n/a | n/a | n/a |"); continue
    ratio = f"{d[0]/s[0]:.1f}x" if d else "n/a"
    print(f"| {name} | {s[0]:.1f} | {s[1]:.1f} | {ratio} |")
PY
cat bench/results/latest.md
