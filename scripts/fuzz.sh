#!/usr/bin/env bash
# Builds the cargo-fuzz targets under fuzz/ and runs each for a bounded
# time, then prints a summary. Not part of CI.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default 60 s, all targets)
# The stable toolchain is enough: RUSTC_BOOTSTRAP=1 lets it take the
# nightly flags cargo-fuzz passes (-Zsanitizer=address, coverage).
# Corpora grow in fuzz/corpus/TARGET (only the seed-* files are checked
# in); crashes, hangs and OOMs land in fuzz/artifacts/TARGET; logs in
# fuzz/target/logs. Exits 1 if a run left a new artifact.
# Reproduce one: fuzz/target/x86_64-unknown-linux-gnu/release/TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}
shift || true
lock=/tmp/berth-cargo.lock

# Prerequisites: a C++ compiler (libfuzzer-sys builds libFuzzer) and cargo-fuzz.
if ! command -v c++ >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  flock "$lock" cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
# -a: debug assertions, so an integer overflow is a finding too.
flock "$lock" cargo fuzz build -a
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
bin=target/x86_64-unknown-linux-gnu/release
mkdir -p target/logs
status=0
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(find "artifacts/$t" -type f | wc -l)
  log=target/logs/$t.log
  # A 10 s input is a hang; an allocation past 2 GiB (ASan counts) is an OOM.
  nice -n 19 "$bin/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" "corpus/$t" >"$log" 2>&1 || true
  after=$(find "artifacts/$t" -type f | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(find "corpus/$t" -type f | wc -l)
  new=$((after - before))
  [ "$new" -eq 0 ] || status=1
  summary+=("$(printf '%-10s %8ss %12s execs  cov %6s  corpus %6s  new findings %s' "$t" "$secs" "${execs:-?}" "${cov:-?}" "$corp" "$new")")
done
echo "== fuzz summary ($(date -u +%FT%TZ))"
printf '%s\n' "${summary[@]}"
if [ "$status" -ne 0 ]; then
  echo "findings in fuzz/artifacts/*/ (logs in fuzz/target/logs/)"
fi
exit "$status"
