#!/usr/bin/env bash
# Installs the system packages berth needs (idempotent). Debian 12, root.
#   runc            an OCI runtime berthd can use instead of berth-oci (--default-runtime runc)
#   libseccomp-dev  builds berth-oci (youki's libcontainer links libseccomp for the seccomp filter)
#   pkg-config      finds libseccomp for that build
#   busybox-static  the source of the busybox image the project builds itself
#   tini            static init for `run --init` (tini-static)
#   tmux            drives interactive tests under a real pty
#   iproute2        `ip`: bridges, veth pairs, addresses, routes
#   iptables        NAT and filtering (iptables-nft on Debian 12)
#   python3-venv, python3-pip  the virtualenv of docker-py's integration suite (tests/dockerpy)
#   openssl         makes the CA and certificates of the TLS e2e tests (tests/e2e/tests/remote_api.rs)
#   curl            a TLS client without a certificate in those tests; the registry tests' HTTP client
#   docker-registry the reference distribution registry: the pull/push tests' server (tests/e2e/tests/registry_*.rs)
#   skopeo          a second registry client: pushes to Debian's registry and to `berth registry serve`
#   apache2-utils   `htpasswd -B`: the bcrypt htpasswd file of the registry auth tests
#   chromium, chromium-driver  the headless browser and its WebDriver for the
#                   dashboard's real-browser tests (tests/e2e/tests/dashboard.rs)
#   firefox-esr     the second browser of those tests; its WebDriver,
#                   geckodriver, is not packaged by Debian 12 and is built
#                   from crates.io below (about 3 minutes on 2 cores)
#   docker-compose  Docker Compose 1.29 (Python): the interop partner of the
#                   compose e2e tests (tests/e2e/tests/compose_*.rs), a client
#                   of berthd's API as old as the course material's; installed
#                   without its recommended docker.io (whose dockerd would be
#                   started by the package and take over the host's firewall)
#   nodejs, npm     build the dashboard's front-end (dashboard/, run by
#                   crates/berth-dashboard/build.rs); skipped when an npm is
#                   already installed (a NodeSource nodejs bundles its own npm
#                   and conflicts with Debian's)
set -euo pipefail
pkgs=(runc libseccomp-dev pkg-config busybox-static tini tmux iproute2 iptables python3-venv python3-pip openssl curl docker-registry skopeo apache2-utils chromium chromium-driver firefox-esr)
command -v npm >/dev/null || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq "${missing[@]}"
fi
if ! dpkg-query -W -f='${Status}' docker-compose 2>/dev/null | grep -q 'install ok installed'; then
  export DEBIAN_FRONTEND=noninteractive
  [ ${#missing[@]} -gt 0 ] || apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends docker-compose
fi
# geckodriver, pinned, into cargo's bin directory. No cargo lock here:
# scripts/test.sh (which runs this) is itself run under the shared lock.
GECKODRIVER_VERSION=0.37.1
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! "$cargo_bin/geckodriver" --version 2>/dev/null | grep -q "^geckodriver $GECKODRIVER_VERSION\b"; then
  cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked
fi
command -v docker >/dev/null || echo "note: the docker CLI is not installed; the e2e tests that drive it will fail" >&2
