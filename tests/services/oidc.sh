#!/usr/bin/env bash
# A real OpenID Connect provider for the tests (npm oidc-provider, tests/services/oidc/server.mjs),
# on 127.0.0.1 and a free port, all state in memory.
#   oidc.sh start STATE_DIR   -> STATE_DIR/issuer (http://127.0.0.1:PORT, no trailing slash),
#                                STATE_DIR/control-token (bearer token of /__control/),
#                                STATE_DIR/oidc.log, STATE_DIR/oidc.pid
#   oidc.sh stop STATE_DIR    (kills it by pid file, removes STATE_DIR; fine to repeat)
# Needs node and the repo root's node_modules (`npm ci` at the repo root).
# Login/consent pages, control API and behaviour: see the header of oidc/server.mjs;
# tests drive them with tests/api/oidc_browser.py.
set -euo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8
action=${1:?usage: oidc.sh start|stop STATE_DIR}
state=${2:?usage: oidc.sh start|stop STATE_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

case "$action" in
  start)
    if [[ ! -f "$root/node_modules/oidc-provider/package.json" ]]; then
      echo "oidc.sh: $root/node_modules/oidc-provider is missing: run \`npm ci\` in $root first" >&2
      exit 1
    fi
    bash "$here/oidc.sh" stop "$state" >/dev/null 2>&1 || true
    mkdir -p "$state"
    token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
    (umask 077 && printf '%s\n' "$token" >"$state/control-token")
    port=$(free_port)
    issuer="http://127.0.0.1:$port"
    (cd "$root" && OIDC_CONTROL_TOKEN=$token exec node tests/services/oidc/server.mjs "$port") \
      >"$state/oidc.log" 2>&1 &
    echo $! >"$state/oidc.pid"
    for _ in $(seq 400); do
      if curl -sf -o /dev/null "$issuer/.well-known/openid-configuration"; then
        echo "$issuer" >"$state/issuer"
        echo "oidc provider on $issuer"
        exit 0
      fi
      if ! kill -0 "$(cat "$state/oidc.pid")" 2>/dev/null; then break; fi
      sleep 0.05
    done
    kill "$(cat "$state/oidc.pid")" 2>/dev/null || true
    echo "oidc.sh: $issuer did not answer; $state/oidc.log says:" >&2
    cat "$state/oidc.log" >&2
    exit 1
    ;;
  stop)
    if [[ -f "$state/oidc.pid" ]]; then kill "$(cat "$state/oidc.pid")" 2>/dev/null || true; fi
    rm -rf "$state"
    ;;
  *) echo "usage: oidc.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
