#!/usr/bin/env bash
# HTTP API benchmark: GET /v1/pairs (a user with 20 pairs) on a release calgate over SQLite, driven
# by wrk; GET /v1/me (token check only) and GET /healthz (no auth, no database) for comparison.
#
#   bench/api_bench.sh [--bin-dir DIR] [--duration 15s] [--connections 16] [--threads 2] [--pairs 20]
#
# Builds the release preset's calgate and calgate-admin if they are missing (never another preset).
# Starts, in a temporary directory, a private Radicale (one user, 4 source and 5 target calendars)
# and calgate (SQLite, rate limit off, log level info to a file), connects the account and creates
# the pairs through the API, waits for their first syncs, runs
#   wrk -t2 -c16 -d15s --latency -H "Authorization: Bearer ..." http://127.0.0.1:PORT/v1/pairs
# prints requests/s and latency percentiles, and stops everything. Needs wrk (deploy/install-deps.sh).
# BENCH_VERBOSE=1 prints wrk's whole output; BENCH_PERF_DIR=DIR records a perf profile of calgate per run.
set -euo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8
root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="$root/build/release"
duration=15s connections=16 threads=2 npairs=20
while (($#)); do
  case "$1" in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --pairs) npairs=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "api_bench.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
((npairs >= 1 && npairs <= 20)) || { echo "api_bench.sh: --pairs must be 1..20 (4 x 5 calendars)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "api_bench.sh: wrk is missing (./deploy/install-deps.sh installs it)" >&2; exit 1; }

calgate="$bin_dir/gateway/calgate" admin="$bin_dir/admin-cli/calgate-admin"
if [[ ! -x "$calgate" || ! -x "$admin" ]]; then
  if [[ "$bin_dir" != "$root/build/release" ]]; then echo "api_bench.sh: no calgate in $bin_dir" >&2; exit 1; fi
  echo "== building calgate and calgate-admin (release preset)"
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release --target calgate calgate-admin)
fi

tmp=$(mktemp -d /tmp/calgate-api-bench.XXXXXX)
calgate_pid="" radicale_pid=""
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "$calgate_pid" "$radicale_pid"; do
    [[ -n "$pid" ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "api_bench.sh: $*" >&2; [[ -s "$tmp/calgate.log" ]] && tail -n 20 "$tmp/calgate.log" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }

# --- Radicale with 9 calendars ---------------------------------------------------------------
pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
printf 'bench:%s\n' "$pw" >"$tmp/htpasswd"
rport=$(free_port)
dav="http://127.0.0.1:$rport"
/usr/bin/radicale --server-hosts "127.0.0.1:$rport" --storage-filesystem-folder "$tmp/radicale" \
  --auth-type htpasswd --auth-htpasswd-filename "$tmp/htpasswd" --auth-htpasswd-encryption plain \
  --rights-type owner_only --logging-level warning >"$tmp/radicale.log" 2>&1 &
radicale_pid=$!
for _ in $(seq 200); do curl -s -o /dev/null "$dav/" && break; sleep 0.05; done
for cal in src1 src2 src3 src4 dst1 dst2 dst3 dst4 dst5; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -u "bench:$pw" -X MKCALENDAR -H 'Content-Type: application/xml' \
    "$dav/bench/$cal/" --data-binary "<?xml version=\"1.0\"?><c:mkcalendar xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:set><d:prop><d:displayname>$cal</d:displayname></d:prop></d:set></c:mkcalendar>")
  [[ "$code" == 201 ]] || fail "MKCALENDAR $cal: HTTP $code"
done

# --- calgate ----------------------------------------------------------------------------------
export CALGATE_DATA_DIR="$tmp/data" CALGATE_SERVER_RATE_LIMIT_PER_MINUTE=0
export CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS=true CALGATE_SYNC_POLL_INTERVAL_SECONDS=3600
export CALGATE_DNS_SERVERS=127.0.0.1:9 CALGATE_DNS_TIMEOUT_MS=100 CALGATE_LOG_LEVEL="${CALGATE_LOG_LEVEL:-info}"
mkdir -p "$tmp/data"
"$admin" db migrate >/dev/null
"$admin" vault init >/dev/null
token=$("$admin" users add bench@bench.example --label bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# a free port chosen here (not port 0): at log levels above info the server.started line is not logged
port=$(free_port)
CALGATE_SERVER_PORT=$port "$calgate" serve >"$tmp/calgate.log" 2>&1 &
calgate_pid=$!
for _ in $(seq 300); do
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
  kill -0 "$calgate_pid" 2>/dev/null || fail "calgate exited at start"
  sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$port/healthz" || fail "calgate did not start"
api="http://127.0.0.1:$port"
call() {  # WANT METHOD PATH [JSON]
  local want=$1 args=(-s -o "$tmp/out.json" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $token") code
  (($# > 3)) && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  code=$(curl "${args[@]}" "$api$3" || true)
  [[ "$code" == "$want" ]] || fail "$2 $3: HTTP $code (expected $want): $(cat "$tmp/out.json" 2>/dev/null)"
}

call 201 POST /v1/accounts "{\"provider\":\"caldav\",\"server_url\":\"$dav/\",\"username\":\"bench\",\"password\":\"$pw\",\"email\":\"bench@bench.example\"}"
declare -A cal
for name in src1 src2 src3 src4 dst1 dst2 dst3 dst4 dst5; do
  cal[$name]=$(jget "$tmp/out.json" "next(c['id'] for c in d['calendars'] if c['name'] == '$name')")
done
n=0 ids=()
for s in src1 src2 src3 src4; do
  for t in dst1 dst2 dst3 dst4 dst5; do
    ((n < npairs)) || break 2
    call 201 POST /v1/pairs "{\"source_calendar_id\":\"${cal[$s]}\",\"target_calendar_id\":\"${cal[$t]}\",\"rules\":{\"mode\":\"private\"}}"
    ids+=("$(jget "$tmp/out.json" "d['id']")")
    n=$((n + 1))
  done
done
# Let the first syncs (queued by POST /v1/pairs) finish so that the workers are idle while measuring.
for _ in $(seq 120); do
  pending=0
  for id in "${ids[@]}"; do
    call 200 GET "/v1/pairs/$id/status"
    [[ -n "$(jget "$tmp/out.json" "d.get('last_success_at')")" ]] || pending=$((pending + 1))
  done
  ((pending == 0)) && break
  sleep 1
done
((pending == 0)) || echo "api_bench.sh: warning: $pending pair(s) still without a first sync" >&2
call 200 GET /v1/pairs
bytes=$(wc -c <"$tmp/out.json")
count=$(jget "$tmp/out.json" "len(d['pairs'])")

echo "== calgate $("$calgate" --version 2>/dev/null | head -n1) ($bin_dir), SQLite, $count pairs, rate limit off, log level $CALGATE_LOG_LEVEL"
echo "   GET /v1/pairs answers $bytes bytes; wrk -t$threads -c$connections -d$duration --latency; $(nproc) cores shared by wrk and calgate"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine lowers these numbers)"
summary() {  # LABEL FILE
  python3 - "$1" "$2" <<'PY'
import re, sys
label, text = sys.argv[1], open(sys.argv[2]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: (.*)", text)
print(f"   {label:28} {float(rps.group(1)):>10,.0f} requests/s   p50 {pct.get('50','?'):>8}   p99 {pct.get('99','?'):>8}"
      + (f"   NON-2xx: {errors.group(1)}" if errors else "") + (f"   socket errors: {sock.group(1)}" if sock else ""))
PY
}
run_wrk() {  # LABEL PATH [auth]
  local out="$tmp/wrk-$(echo "$2" | tr -c 'a-z0-9' _).txt" args=(-t"$threads" -c"$connections" -d"$duration" --latency)
  [[ "${3:-}" == auth ]] && args+=(-H "Authorization: Bearer $token")
  local perf_pid=""
  if [[ -n "${BENCH_PERF_DIR:-}" ]]; then  # profile calgate during this run: perf report -i DIR/<path>.data
    mkdir -p "$BENCH_PERF_DIR"
    perf record -q -g -p "$calgate_pid" -o "$BENCH_PERF_DIR/$(basename "$out" .txt).data" -- sleep "${duration%s}" 2>/dev/null &
    perf_pid=$!
  fi
  wrk "${args[@]}" "$api$2" >"$out"
  if [[ -n "$perf_pid" ]]; then wait "$perf_pid" || true; fi
  [[ -n "${BENCH_VERBOSE:-}" ]] && cat "$out"
  summary "$1" "$out"
}
run_wrk "GET /v1/pairs ($count pairs)" /v1/pairs auth
run_wrk "GET /v1/me" /v1/me auth
run_wrk "GET /healthz" /healthz
kill -0 "$calgate_pid" 2>/dev/null || fail "calgate died during the benchmark"
echo "   calgate log: $(wc -l <"$tmp/calgate.log") lines; errors: $(grep -c '"level":"error"' "$tmp/calgate.log" || true)"
