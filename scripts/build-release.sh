#!/usr/bin/env bash
# Release build of every binary, then the shim again as a static binary
# (glibc crt-static): the shim is the one process each running container
# costs, and a static binary maps far fewer pages. `cargo rustc` applies the
# flag to the shim alone (proc-macros cannot be built crt-static).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins
cargo rustc --release -p berth-shim --bin berth-shim -- -C target-feature=+crt-static
