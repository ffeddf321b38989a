#!/usr/bin/env bash
# Sets berth up on a fresh Debian 12 machine and runs the main job:
# builds berth, starts berthd on /run/berth/berth.sock, loads a busybox
# image made from Debian's busybox-static, and runs a container.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build-release.sh
bin=$PWD/target/release
sock=/run/berth/berth.sock
pidfile=/run/berth/berthd.pid
mkdir -p /run/berth /var/lib/berth
if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
  "$bin/berthd" --pidfile "$pidfile" >/var/log/berthd.log 2>&1 &
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
fi
img=$(mktemp --suffix=.tar)
trap 'rm -f "$img"' EXIT
./scripts/make-busybox-image.sh "$img" busybox:latest >/dev/null
"$bin/berth" load -i "$img"
"$bin/berth" run --rm busybox echo hello from berth
echo "berthd is running (pid $(cat "$pidfile"), log /var/log/berthd.log); stop it with: kill \$(cat $pidfile)"
echo "the docker CLI works too: DOCKER_HOST=unix://$sock docker ps"
