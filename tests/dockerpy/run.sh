#!/usr/bin/env bash
# Runs docker-py 7.0.0's own integration suite (tests/integration of its
# source distribution from PyPI) against a private berthd, and checks the
# outcome against tests/dockerpy/expected-failures.txt: a failure not listed
# there, or a listed test that no longer fails, fails the run.
#
# Needs root (berthd), python3-venv and PyPI the first time. Environment:
#   BERTH_BIN_DIR           berthd, berth, berth-shim, berth-oci (default: target/debug)
#   BERTH_DOCKERPY_CACHE    where the virtualenv and the sdist are kept
#                           (default: /var/cache/berth-dockerpy)
#   BERTH_DOCKERPY_OUT      junit.xml, pytest.log, berthd.log, summary.txt
#                           (default: target/dockerpy)
#   DOCKER_TEST_API_VERSION the API version the suite pins (default 1.41,
#                           docker-py 7.0.0's default and its CI's)
#   BERTH_DOCKERPY_TIMEOUT  seconds one test may take (default 60)
#   BERTH_DOCKERPY_ARGS     more pytest arguments, e.g. "-k exec" or a file
#                           (a partial run only checks the tests it ran)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BERTH_BIN_DIR:-$root/target/debug}
cache=${BERTH_DOCKERPY_CACHE:-/var/cache/berth-dockerpy}
out=${BERTH_DOCKERPY_OUT:-$root/target/dockerpy}
api=${DOCKER_TEST_API_VERSION:-1.41}
per_test=${BERTH_DOCKERPY_TIMEOUT:-60}

DOCKERPY_VERSION=7.0.0
DOCKERPY_SHA256=323736fb92cd9418fc5e7133bc953e11a9da04f4483f828b527db553f1e7e5a3

for b in berthd berth berth-shim berth-oci; do
  [ -x "$bin/$b" ] || { echo "dockerpy: $bin/$b missing (cargo build --workspace --bins, or set BERTH_BIN_DIR)" >&2; exit 1; }
done
started=$(date +%s)

# --- the virtualenv and the suite's sources (kept between runs) ----------
# The venv's name carries a hash of what goes into it, so a change of pins
# builds a new one; a stamp file marks a finished install.
key=$( (cat "$here/requirements.txt"; echo "docker==$DOCKERPY_VERSION $DOCKERPY_SHA256"; python3 --version) | sha256sum | cut -c1-12)
venv=$cache/venv-$key
src=$cache/docker-$DOCKERPY_VERSION
sdist=$cache/dl/docker-$DOCKERPY_VERSION.tar.gz
mkdir -p "$cache/dl"
if ! [ -f "$sdist" ] || ! echo "$DOCKERPY_SHA256  $sdist" | sha256sum -c --status; then
  rm -f "$sdist"
  python3 -m pip download --quiet --no-deps --no-binary :all: "docker==$DOCKERPY_VERSION" -d "$cache/dl"
  echo "$DOCKERPY_SHA256  $sdist" | sha256sum -c --status || { echo "dockerpy: $sdist: sha256 mismatch" >&2; rm -f "$sdist"; exit 1; }
fi
if ! [ -f "$src/.complete" ]; then
  rm -rf "$src" "$src.tmp"
  mkdir -p "$src.tmp"
  tar -xzf "$sdist" -C "$src.tmp" --strip-components=1
  touch "$src.tmp/.complete"
  mv "$src.tmp" "$src"
fi
if ! [ -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "$sdist"
  touch "$venv/.complete"
fi

# --- a private berthd ------------------------------------------------------
tmp=$(mktemp -d /tmp/berth-dockerpy.XXXXXX)
sock=$tmp/sock
host=unix://$sock
bridge=bp$(printf %x $$)
berthd_pid=
export DOCKER_HOST=$host BERTH_HOST=$host DOCKER_CONFIG=$tmp/docker-config
unset DOCKER_CONTEXT DOCKER_API_VERSION DOCKER_TLS_VERIFY DOCKER_CERT_PATH
mkdir -p "$tmp/docker-config" "$out"
# docker-py keeps contexts beside the config file it finds (else in the
# working directory): give it one of ours.
echo '{}' >"$tmp/docker-config/config.json"
berth() { "$bin/berth" "$@"; }

cleanup() {
  set +e
  if [ -n "$berthd_pid" ] && kill -0 "$berthd_pid" 2>/dev/null; then
    # What the suite left: containers first (so networks and volumes are free).
    ids=$(berth ps -aq 2>/dev/null)
    [ -n "$ids" ] && berth rm -f -v $ids >/dev/null 2>&1
    berth network prune -f >/dev/null 2>&1
    berth volume prune -f -a >/dev/null 2>&1 || berth volume prune -f >/dev/null 2>&1
    kill -TERM "$berthd_pid"
    for _ in $(seq 150); do kill -0 "$berthd_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$berthd_pid" 2>/dev/null; then
      echo "dockerpy: berthd did not stop within 15 s of SIGTERM; killing it" >&2
      kill -KILL "$berthd_pid"
    fi
    wait "$berthd_pid" 2>/dev/null
  fi
  cp "$tmp/berthd.log" "$out/berthd.log" 2>/dev/null
  # Mounts left under our roots (only after a berthd that had to be killed).
  grep -F " $tmp/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Docker Hub is a closed loopback port: the suite's Hub pulls fail at once
# and nothing leaves the machine.
BERTH_DOCKER_HUB_HOST=127.0.0.1:9 "$bin/berthd" -D --data-root "$tmp/data" --exec-root "$tmp/exec" -H "$host" \
  --pidfile "$tmp/berthd.pid" --bridge "$bridge" </dev/null >/dev/null 2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 200); do
  berth version >/dev/null 2>&1 && break
  kill -0 "$berthd_pid" 2>/dev/null || { echo "dockerpy: berthd exited during start-up:" >&2; tail -20 "$tmp/berthd.log" >&2; exit 1; }
  sleep 0.05
done
berth version >/dev/null || { echo "dockerpy: berthd did not answer" >&2; exit 1; }

# The images the suite expects, all made from the project's busybox image:
# TEST_IMG is alpine:3.10 (tests/integration/base.py), the model tests run
# "alpine" (alpine:latest, which docker-py pulls when it is missing), and the
# service tests name busybox. Two things of Alpine's that tests rely on are
# added on top: the postgres user (exec as user) and /var/opt (exec workdir).
bash "$root/scripts/make-busybox-image.sh" "$tmp/busybox.tar" busybox:latest >/dev/null
berth load -i "$tmp/busybox.tar" >/dev/null
berth run --name dockerpy-alpine busybox:latest sh -c \
  'mkdir -p /var/opt && echo postgres:x:70:70::/var/lib/postgresql:/bin/sh >>/etc/passwd && echo postgres:x:70: >>/etc/group'
berth commit --pause=false -c 'CMD ["/bin/sh"]' dockerpy-alpine alpine:3.10 >/dev/null
berth rm dockerpy-alpine >/dev/null
berth tag alpine:3.10 alpine:latest

# --- the suite -------------------------------------------------------------
echo "dockerpy: docker-py $DOCKERPY_VERSION integration suite, API $api, berthd $bin/berthd (bridge $bridge)"
set +e
# The suite runs from a copy of the sources, so the cached ones stay clean.
# credentials/store_test.py is left out: it tests the docker-credential-pass
# helper program (with pass and a GPG key), not the engine.
cp -a "$src" "$tmp/docker-py"
(
  cd "$tmp/docker-py"
  # docker-py's tests leave temp files and dirs behind; keep them in the
  # run's own directory, which the EXIT trap removes.
  mkdir -p "$tmp/tmpdir"
  export TMPDIR="$tmp/tmpdir"
  # shellcheck disable=SC2086
  DOCKER_TEST_API_VERSION=$api timeout --kill-after=30 1800 \
    "$venv/bin/python" -m pytest tests/integration -p no:cacheprovider \
      --ignore=tests/integration/credentials/store_test.py \
      --timeout="$per_test" -o junit_family=xunit2 --junitxml="$out/junit.xml" \
      -q -rN ${BERTH_DOCKERPY_ARGS:-}
) >"$out/pytest.log" 2>&1
rc=$?
set -e
elapsed=$(( $(date +%s) - started ))
if ! [ -s "$out/junit.xml" ]; then
  echo "dockerpy: pytest wrote no junit.xml (exit $rc); the end of $out/pytest.log:" >&2
  tail -40 "$out/pytest.log" >&2
  exit 1
fi
set +e
partial=
[ -n "${BERTH_DOCKERPY_ARGS:-}" ] && partial=--partial
"$venv/bin/python" "$here/compare.py" $partial --suggest "$out/expected-failures.suggested.txt" \
  "$out/junit.xml" "$here/expected-failures.txt" | tee "$out/summary.txt"
status=${PIPESTATUS[0]}
echo "dockerpy: $elapsed s in all (pytest exit $rc); logs in $out"
[ "$status" = 0 ] || echo "dockerpy: the list as this run would have it: $out/expected-failures.suggested.txt"
exit "$status"
