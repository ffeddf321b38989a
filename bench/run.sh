#!/usr/bin/env bash
# The benchmark harness: berthd next to dockerd on this machine, one run.
# Usage: bench/run.sh [--runs N] [--containers N]   (root; installs what it needs)
# Writes bench/results/latest.{md,json,png} and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
pkgs=(docker.io python3-matplotlib)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
./scripts/build-release.sh
# Debian's python3 has python3-matplotlib for the chart.
exec /usr/bin/python3 bench/bench.py "$@"
