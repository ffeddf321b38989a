#!/usr/bin/env bash
# Runs the whole test suite: unit tests of every crate and the end-to-end
# tests, which start real berthd daemons on temporary roots (needs root),
# then docker-py's integration suite (tests/dockerpy/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cargo build --workspace --bins
cargo test --workspace --no-fail-fast -- --test-threads="${BERTH_TEST_THREADS:-4}"
# docker-py 7.0.0's own integration suite against a private berthd (a few minutes).
./tests/dockerpy/run.sh
