#!/usr/bin/env bash
# Starts or stops a private PostgreSQL cluster for the tests, on 127.0.0.1 and a free port.
#   postgres.sh start STATE_DIR   -> writes STATE_DIR/url (postgresql://calgate@127.0.0.1:PORT/calgate_test)
#   postgres.sh restart STATE_DIR  -> same port, all connections cut
#   postgres.sh stop STATE_DIR
# As root, the cluster runs as the 'postgres' system user (initdb refuses root).
set -euo pipefail
action=${1:?usage: postgres.sh start|restart|stop STATE_DIR}
state=${2:?usage: postgres.sh start|restart|stop STATE_DIR}
# initdb fails on a locale named in the environment but not installed; the tests need none.
export LC_ALL=C LANG=C
cd /

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  echo "postgres.sh: PostgreSQL server binaries not found; run deploy/install-deps.sh" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster's files live in a fresh directory under /tmp (the postgres user must be able to
# reach them, which a checkout under /root would not allow); STATE_DIR records where.
case "$action" in
  start)
    "$0" stop "$state" >/dev/null 2>&1 || true
    mkdir -p "$state"
    run=$(mktemp -d /tmp/calgate-pg-XXXXXX)
    chmod 755 "$run"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$run"; fi
    echo "$run" >"$state/run_dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    as_owner "$bindir/initdb" -D "$run/data" -U calgate --auth=trust -E UTF8 --no-locale --no-sync >"$run/initdb.log" 2>&1 \
      || { cat "$run/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$run/data" -l "$run/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $run -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || { cat "$run/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U calgate calgate_test
    echo "postgresql://calgate@127.0.0.1:$port/calgate_test" >"$state/url"
    echo "postgresql test cluster on 127.0.0.1:$port ($run)"
    ;;
  restart)
    # Same port and data; every client connection is cut (used to test reconnection).
    run=$(cat "$state/run_dir")
    as_owner "$bindir/pg_ctl" -D "$run/data" -m fast -w -t 60 restart -l "$run/server.log" >/dev/null
    echo "postgresql test cluster restarted"
    ;;
  stop)
    if [[ -f "$state/run_dir" ]]; then
      run=$(cat "$state/run_dir")
      if [[ -f "$run/data/postmaster.pid" ]]; then
        as_owner "$bindir/pg_ctl" -D "$run/data" -m fast -w -t 60 stop >/dev/null
        echo "postgresql test cluster stopped"
      fi
      [[ "$run" == /tmp/calgate-pg-* ]] && rm -rf "$run"
    fi
    rm -rf "$state"
    ;;
  *) echo "usage: postgres.sh start|restart|stop STATE_DIR" >&2; exit 2 ;;
esac
