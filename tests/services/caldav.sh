#!/usr/bin/env bash
# Real CalDAV servers for the tests, on 127.0.0.1 and free ports, with private storage.
#   caldav.sh start STATE_DIR   -> STATE_DIR/radicale.url, xandikos.url (http://127.0.0.1:PORT/)
#   caldav.sh stop STATE_DIR
# Radicale: htpasswd auth, user "alice" / "alice-app-password", principal /alice/.
# Xandikos: no auth (it has none), principal /user/, a default calendar /user/calendars/calendar/.
set -euo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8
action=${1:?usage: caldav.sh start|stop STATE_DIR}
state=${2:?usage: caldav.sh start|stop STATE_DIR}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

wait_http() {  # $1 url
  for _ in $(seq 200); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.05
  done
  echo "caldav.sh: $1 did not answer" >&2
  return 1
}

case "$action" in
  start)
    "$0" stop "$state" >/dev/null 2>&1 || true
    mkdir -p "$state/radicale" "$state/xandikos"
    printf 'alice:alice-app-password\n' >"$state/htpasswd"
    rp=$(free_port)
    /usr/bin/radicale --server-hosts "127.0.0.1:$rp" --storage-filesystem-folder "$state/radicale" \
      --auth-type htpasswd --auth-htpasswd-filename "$state/htpasswd" --auth-htpasswd-encryption plain \
      --rights-type owner_only --logging-level warning >"$state/radicale.log" 2>&1 &
    echo $! >"$state/radicale.pid"
    xp=$(free_port)
    /usr/bin/xandikos -d "$state/xandikos" -l 127.0.0.1 -p "$xp" --defaults >"$state/xandikos.log" 2>&1 &
    echo $! >"$state/xandikos.pid"
    wait_http "http://127.0.0.1:$rp/"
    wait_http "http://127.0.0.1:$xp/"
    echo "http://127.0.0.1:$rp/" >"$state/radicale.url"
    echo "http://127.0.0.1:$xp/" >"$state/xandikos.url"
    echo "radicale on 127.0.0.1:$rp, xandikos on 127.0.0.1:$xp"
    ;;
  stop)
    for name in radicale xandikos; do
      if [[ -f "$state/$name.pid" ]]; then kill "$(cat "$state/$name.pid")" 2>/dev/null || true; fi
    done
    rm -rf "$state"
    ;;
  *) echo "usage: caldav.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
