#!/usr/bin/env bash
# Builds the registry image (`berth registry image`) from a static `berth`:
# one file, ~10 MB, no shared libraries carried along. Only the final link
# differs from the release build (glibc crt-static), so it takes seconds
# once the release dependencies are built.
# Usage: make-registry-image.sh OUT.tar [TAG]   (TAG defaults to registry:latest)
set -euo pipefail
out=${1:?usage: make-registry-image.sh OUT.tar [TAG]}
tag=${2:-registry:latest}
cd "$(dirname "$0")/.."
cargo rustc --release -p berth-cli --bin berth -- -C target-feature=+crt-static
ldd target/release/berth 2>&1 | grep -q "=>" && { echo "make-registry-image: berth is not static" >&2; exit 1; }
cp target/release/berth target/release/berth-static
target/release/berth-static registry image -o "$out" -t "$tag"
