#!/usr/bin/env bash
# Installs what is needed, builds calgate (release preset) and runs the demo (deploy/demo.sh): a
# private Radicale CalDAV server on 127.0.0.1 with a "work" calendar of sample events and an empty
# "personal" one, calgate on SQLite under ./data listening on 127.0.0.1:8080 (override with
# CALGATE_SERVER_PORT, e.g. 9090; other CALGATE_* variables apply too), both accounts connected and
# a private work -> personal pair created through the REST API, the first sync, and what it wrote.
# The first run creates a calgate user; every run prints a fresh API token and curl commands.
# Extra arguments go to demo.sh (e.g. --exit-after-sync, --timeout 300; see deploy/demo.sh --help).
# Ctrl-C stops calgate and Radicale cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
echo "== building calgate (release)"
cmake --preset release >/dev/null
cmake --build --preset release --target calgate calgate-admin

exec ./deploy/demo.sh --bin-dir build/release --data-dir ./data --port "${CALGATE_SERVER_PORT:-8080}" "$@"
