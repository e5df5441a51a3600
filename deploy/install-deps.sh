#!/usr/bin/env bash
# Installs every Debian package calgate needs to build, test and run its demo, then the npm
# packages the tests use (package-lock.json, `npm ci`: exactly the locked versions, nothing
# fetched later at run time). Idempotent: packages already present are skipped, and apt-get is not
# called at all when nothing is missing. Must run as root (or with sudo available).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

npm_packages() {  # a couple of seconds; exactly what package-lock.json records
  echo "install-deps: npm ci"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
}

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # libraries
  libpistache-dev libc-ares-dev libldns-dev libcurl4-openssl-dev libyaml-cpp-dev
  nlohmann-json3-dev libsoci-dev libboost-dev libpq-dev libsqlite3-dev libbotan-2-dev
  libical-dev libicu-dev libpugixml-dev libpsl-dev libspdlog-dev libfmt-dev libcli11-dev
  libhowardhinnant-date-dev catch2
  # services used by tests and the demo
  postgresql radicale xandikos nsd ldnsutils dns-root-data
  # nginx: the TLS-terminating reverse proxy the push tests put in front of calgate (test CA)
  nginx-light
  # test tooling (systemd: systemd-analyze checks the service unit's sandbox, deploy/systemd)
  curl python3 python3-jsonschema python3-yaml procps openssl systemd
  # the browser the page tests drive (playwright-core and axe-core from npm)
  chromium
  # benchmarks (bench/): Google Benchmark, and wrk for the HTTP API benchmark
  libbenchmark-dev wrk
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  npm_packages
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps Debian from auto-starting postgresql/nsd/radicale system services:
# calgate's scripts start private instances on loopback themselves.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_packages
echo "install-deps: done"
