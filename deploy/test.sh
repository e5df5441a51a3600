#!/usr/bin/env bash
# Installs what is needed, builds (dev preset) and runs the whole test suite.
# Services the tests need (a private PostgreSQL cluster, ...) are started on 127.0.0.1 by
# CTest fixtures on free ports and stopped afterwards. Run as root on a fresh Debian bookworm.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"
# the tests share a precompiled header (tests/CMakeLists.txt); ccache caches such compiles only so
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros}"

start=$(date +%s)
echo "== configure"
cmake --preset dev >/dev/null
echo "== build"
cmake --build --preset dev
echo "== test"
ctest --preset dev -j2
echo "== done in $(( $(date +%s) - start )) s"
