#!/usr/bin/env bash
# Installs what is needed, builds (release preset) and runs calgate on its embedded default:
# SQLite under ./data, listening on 127.0.0.1:8080 (override with CALGATE_* variables, e.g.
# CALGATE_SERVER_PORT=9090). On the first run it creates a user and prints its API token.
# Ctrl-C stops the server cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
echo "== building calgate (release)"
cmake --preset release >/dev/null
cmake --build --preset release

bin=build/release
admin="$bin/admin-cli/calgate-admin"
"$admin" db migrate >/dev/null
# The master key protecting stored credentials (./data/master.key, mode 0600; kept if present).
"$admin" vault init
port="${CALGATE_SERVER_PORT:-8080}"
if [[ "$("$admin" users list --json)" == "[]" ]]; then
  email="${DEMO_EMAIL:-owner@localhost}"
  token=$("$admin" users add "$email" --label run.sh --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  cat <<MSG

== created user $email; its API token (shown only this once):
   $token
   try:  curl -H "Authorization: Bearer $token" http://127.0.0.1:$port/v1/me
MSG
fi
cat <<MSG

== calgate on http://127.0.0.1:$port  (data in ./data, logs below as JSON; Ctrl-C to stop)
   curl http://127.0.0.1:$port/healthz
   curl http://127.0.0.1:$port/readyz
   curl http://127.0.0.1:$port/metrics
   more users:  $admin users add EMAIL

MSG
exec "$bin/gateway/calgate" serve
