#!/usr/bin/env bash
# Runs the whole test suite: unit tests of every crate and the end-to-end
# tests, which start real berthd daemons on temporary roots (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cargo build --workspace --bins
cargo test --workspace -- --test-threads="${BERTH_TEST_THREADS:-4}"
