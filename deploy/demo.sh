#!/usr/bin/env bash
# The calgate demo, run by ./deploy/run.sh after it has built calgate (usable on its own against any
# build): a private Radicale CalDAV server on 127.0.0.1 with two users, "work" (a "work" calendar
# holding sample events) and "personal" (an empty "personal" calendar); calgate on SQLite; a calgate
# user; both accounts connected and a private-mode one-way pair work -> personal created through the
# REST API with curl; the first sync; then what calgate wrote, read back from Radicale.
#
#   deploy/demo.sh [--bin-dir DIR] [--data-dir DIR] [--port N] [--exit-after-sync] [--timeout SECONDS]
#
#   --bin-dir DIR      where calgate and calgate-admin are: DIR/{calgate,calgate-admin} or a CMake
#                      build tree DIR/gateway/calgate, DIR/admin-cli/calgate-admin (default build/release)
#   --data-dir DIR     calgate's data directory (SQLite database, master key); the demo keeps Radicale's
#                      storage, passwords and logs in DIR/demo (default ./data). A later run reuses both.
#   --port N           calgate's HTTP port, 0 = a free one (default $CALGATE_SERVER_PORT, else 8080)
#   --timeout SECONDS  how long to wait for the first sync (default 120)
#   --exit-after-sync  print the result and stop everything (exit 0), instead of running until Ctrl-C;
#                      exits non-zero with a message when the sync did not succeed in time
#
# Ctrl-C (or SIGTERM) stops calgate and Radicale. Needs bash, curl, python3 and /usr/bin/radicale.
set -euo pipefail
export LC_ALL=C.UTF-8 LANG=C.UTF-8

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="$root/build/release"
data_dir="./data"
port="${CALGATE_SERVER_PORT:-8080}"
timeout=120
exit_after_sync=false
while (($#)); do
  case "$1" in
    --bin-dir) bin_dir=${2:?--bin-dir needs a directory}; shift 2 ;;
    --data-dir) data_dir=${2:?--data-dir needs a directory}; shift 2 ;;
    --port) port=${2:?--port needs a number}; shift 2 ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
    --exit-after-sync) exit_after_sync=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || { echo "demo.sh: --port must be a number (0 = a free port)" >&2; exit 2; }
[[ "$timeout" =~ ^[0-9]+$ && "$timeout" -gt 0 ]] || { echo "demo.sh: --timeout must be a positive number of seconds" >&2; exit 2; }

find_bin() {  # $1 name, $2 subdirectory in a build tree
  local c
  for c in "$bin_dir/$1" "$bin_dir/$2/$1"; do
    if [[ -x "$c" ]]; then echo "$(cd "$(dirname "$c")" && pwd)/$1"; return 0; fi
  done
  echo "demo.sh: no $1 in $bin_dir (nor $bin_dir/$2); build it first or pass --bin-dir" >&2
  return 1
}
calgate=$(find_bin calgate gateway)
admin=$(find_bin calgate-admin admin-cli)
for tool in curl python3 /usr/bin/radicale; do
  command -v "$tool" >/dev/null || { echo "demo.sh: $tool is missing (./deploy/install-deps.sh installs it)" >&2; exit 1; }
done

mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"
demo="$data_dir/demo"
mkdir -p "$demo"
chmod 700 "$demo"
state="$demo/state.json"          # ids of what the demo created, for the next run (no secrets)
calgate_log="$demo/calgate.log"
radicale_log="$demo/radicale.log"
rm -f "$demo/work.ics" "$demo/personal.ics" "$demo/status.json"   # this run's result replaces the last one's

# calgate reads its configuration from CALGATE_* variables (deploy/calgate.example.yaml).
export CALGATE_DATA_DIR="$data_dir"
export CALGATE_SERVER_PORT="$port"
# Radicale listens on 127.0.0.1. calgate refuses CalDAV servers on loopback and private addresses
# unless this is set (a hostile server URL could otherwise reach internal services).
export CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS=true
# Poll the calendars every minute (default 5 minutes), so edits made in Radicale show up quickly.
export CALGATE_SYNC_POLL_INTERVAL_SECONDS="${CALGATE_SYNC_POLL_INTERVAL_SECONDS:-60}"

# ---------------------------------------------------------------------------------------------
# processes we start, stopped on exit, Ctrl-C or SIGTERM

calgate_pid="" radicale_pid="" tail_pid=""
stop_pid() {  # $1 pid, $2 name: SIGTERM, up to 20 s to finish, then SIGKILL
  local pid=$1 i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo.sh: $2 did not stop within 20 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$tail_pid" ]]; then kill "$tail_pid" 2>/dev/null || true; wait "$tail_pid" 2>/dev/null || true; fi
  if [[ -n "$calgate_pid$radicale_pid" ]]; then
    echo "== stopping calgate and Radicale"
    stop_pid "$calgate_pid" calgate
    stop_pid "$radicale_pid" Radicale
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "" >&2
  echo "demo.sh: $*" >&2
  exit 1
}
show_log_tail() {  # $1 file
  if [[ -s "$1" ]]; then echo "-- last lines of $1:" >&2; tail -n 20 "$1" >&2; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
port_free() {  # (SO_REUSEADDR as Radicale's server does: connections of a previous run in TIME_WAIT are no obstacle)
  python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()' "$1" 2>/dev/null
}

# JSON helpers (python3 is always there): jget FILE EXPR evaluates EXPR with `d` = the document.
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print("" if v is None else (json.dumps(v) if isinstance(v,(dict,list,bool)) else v))' "$1" "$2"; }
state_get() { [[ -f "$state" ]] && jget "$state" "d.get('$1') or ''" || true; }
state_set() {  # KEY VALUE ...
  python3 - "$state" "$@" <<'PY'
import json, os, sys
path, kv = sys.argv[1], sys.argv[2:]
d = json.load(open(path)) if os.path.exists(path) else {}
for k, v in zip(kv[::2], kv[1::2]): d[k] = v
open(path + ".tmp", "w").write(json.dumps(d, indent=2) + "\n")
os.replace(path + ".tmp", path)
PY
}

# ---------------------------------------------------------------------------------------------
echo "== calgate demo  (data in $data_dir, demo files in $demo)"
echo "   calgate:       $calgate"
echo "   calgate-admin: $admin"
"$admin" db migrate >/dev/null
# The master key protecting stored credentials ($data_dir/master.key, mode 0600; kept if present).
if [[ -z "${CALGATE_MASTER_KEY:-}${CALGATE_MASTER_PASSPHRASE:-}" ]]; then "$admin" vault init | sed 's/^/   /'; fi

# --- Radicale: two users with random passwords (plain htpasswd, readable by root only) ---------
htpasswd="$demo/htpasswd"
if [[ ! -s "$htpasswd" ]]; then
  (umask 077; python3 -c 'import secrets
for u in ("work", "personal"): print(f"{u}:{secrets.token_urlsafe(18)}")' >"$htpasswd")
fi
dav_password() { sed -n "s/^$1://p" "$htpasswd"; }
work_pw=$(dav_password work)
personal_pw=$(dav_password personal)

# Radicale keeps its port between runs: the accounts calgate stores hold the server's URL.
radicale_port=$(state_get radicale_port)
if [[ -z "$radicale_port" ]]; then
  radicale_port=$(free_port)
elif ! port_free "$radicale_port"; then
  fail "Radicale's port $radicale_port (remembered in $state: calgate's accounts point there) is in use;
free it, or start over with an empty data directory (rm -rf $data_dir)."
fi
dav="http://127.0.0.1:$radicale_port"
echo "== starting Radicale on $dav  (storage $demo/radicale, log $radicale_log)"
/usr/bin/radicale --server-hosts "127.0.0.1:$radicale_port" --storage-filesystem-folder "$demo/radicale" \
  --auth-type htpasswd --auth-htpasswd-filename "$htpasswd" --auth-htpasswd-encryption plain \
  --rights-type owner_only --logging-level warning >>"$radicale_log" 2>&1 &
radicale_pid=$!
for _ in $(seq 200); do
  if curl -s -o /dev/null "$dav/"; then break; fi
  kill -0 "$radicale_pid" 2>/dev/null || { show_log_tail "$radicale_log"; fail "Radicale exited at start"; }
  sleep 0.05
done
curl -s -o /dev/null "$dav/" || { show_log_tail "$radicale_log"; fail "Radicale did not answer on $dav"; }
state_set radicale_port "$radicale_port"

dav_curl() {  # USER PASSWORD curl-args... ; prints the HTTP status
  local user=$1 pw=$2; shift 2
  curl -s -o "$demo/dav.out" -w '%{http_code}' -u "$user:$pw" "$@"
}
make_calendar() {  # USER PASSWORD NAME
  local url="$dav/$1/$3/" code
  code=$(dav_curl "$1" "$2" -X PROPFIND -H 'Depth: 0' "$url")
  [[ "$code" == 207 ]] && return 0
  code=$(dav_curl "$1" "$2" -X MKCALENDAR -H 'Content-Type: application/xml' "$url" --data-binary \
    "<?xml version=\"1.0\"?><c:mkcalendar xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:set><d:prop><d:displayname>$3</d:displayname><c:supported-calendar-component-set><c:comp name=\"VEVENT\"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>")
  [[ "$code" == 201 ]] || fail "MKCALENDAR $url answered $code: $(cat "$demo/dav.out")"
}
make_calendar work "$work_pw" work
make_calendar personal "$personal_pw" personal

# Sample events, dates relative to today so they fall in the pair's sync window (90 days back,
# 365 ahead). Written on every run (same UIDs), so a later run moves them along with the calendar.
python3 - "$demo/events" <<'PY'
import datetime as dt, os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for f in os.listdir(out): os.remove(os.path.join(out, f))
today = dt.date.today()
monday = today - dt.timedelta(days=today.weekday())
def d(x): return x.strftime("%Y%m%d")
stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
def cal(*events):
    body = "".join("BEGIN:VEVENT\r\n" + "".join(l + "\r\n" for l in e) + "END:VEVENT\r\n" for e in events)
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calgate//demo//EN\r\n" + body + "END:VCALENDAR\r\n"
next_monday = monday + dt.timedelta(days=7)
moved_to = next_monday + dt.timedelta(days=1)
def workday(n):  # the n-th working day (Monday to Friday) after today
    day = today
    while n:
        day += dt.timedelta(days=1)
        if day.weekday() < 5: n -= 1
    return day
events = {
  # a weekly meeting (8 Mondays from this week's), its second occurrence moved to Tuesday afternoon
  "falcon-weekly": cal(
    ["UID:falcon-weekly@demo.calgate", f"DTSTAMP:{stamp}", "SUMMARY:Project Falcon weekly sync",
     "DESCRIPTION:Agenda: Falcon budget overrun\\, vendor shortlist", "LOCATION:Room 4.12",
     f"DTSTART;TZID=Europe/Berlin:{d(monday)}T100000", f"DTEND;TZID=Europe/Berlin:{d(monday)}T103000",
     "RRULE:FREQ=WEEKLY;COUNT=8"],
    ["UID:falcon-weekly@demo.calgate", f"DTSTAMP:{stamp}", "SUMMARY:Project Falcon weekly sync (moved)",
     "DESCRIPTION:Agenda: Falcon budget overrun\\, vendor shortlist", "LOCATION:Room 2.01",
     f"RECURRENCE-ID;TZID=Europe/Berlin:{d(next_monday)}T100000",
     f"DTSTART;TZID=Europe/Berlin:{d(moved_to)}T140000", f"DTEND;TZID=Europe/Berlin:{d(moved_to)}T143000"]),
  # an all-day event over two days: next week's Thursday and Friday
  "offsite": cal(
    ["UID:offsite@demo.calgate", f"DTSTAMP:{stamp}", "SUMMARY:Offsite: Q1 planning in Lisbon",
     f"DTSTART;VALUE=DATE:{d(next_monday + dt.timedelta(days=3))}", f"DTEND;VALUE=DATE:{d(next_monday + dt.timedelta(days=5))}"]),
  # a confidential event
  "salary-review": cal(
    ["UID:salary-review@demo.calgate", f"DTSTAMP:{stamp}", "SUMMARY:Salary review with HR", "CLASS:CONFIDENTIAL",
     "DESCRIPTION:Bring the competing offer letter", "LOCATION:HR office\\, 3rd floor",
     f"DTSTART;TZID=Europe/Berlin:{d(workday(2))}T150000", f"DTEND;TZID=Europe/Berlin:{d(workday(2))}T153000"]),
  # a meeting with attendees
  "acme-call": cal(
    ["UID:acme-call@demo.calgate", f"DTSTAMP:{stamp}", "SUMMARY:Customer call: ACME renewal",
     "LOCATION:https://meet.example/acme", "ORGANIZER;CN=Alex:mailto:alex@work.example",
     "ATTENDEE;CN=Dana (ACME):mailto:dana@acme.example", "ATTENDEE;CN=Alex:mailto:alex@work.example",
     f"DTSTART;TZID=Europe/Berlin:{d(workday(1))}T113000", f"DTEND;TZID=Europe/Berlin:{d(workday(1))}T121500"]),
}
for name, text in events.items():
    open(os.path.join(out, name + ".ics"), "w", newline="").write(text)
PY
for f in "$demo"/events/*.ics; do
  code=$(dav_curl work "$work_pw" -X PUT -H 'Content-Type: text/calendar; charset=utf-8' \
    --data-binary "@$f" "$dav/work/work/$(basename "$f")")
  [[ "$code" == 201 || "$code" == 204 ]] || fail "PUT $(basename "$f") into the work calendar answered $code: $(cat "$demo/dav.out")"
done
echo "   user 'work':     calendar 'work' with $(ls "$demo"/events/*.ics | wc -l) sample events (passwords in $htpasswd)"
echo "   user 'personal': calendar 'personal'"

# --- the calgate user and an API token ------------------------------------------------------
email="${DEMO_EMAIL:-owner@localhost}"
[[ "$email" =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$ ]] || fail "DEMO_EMAIL '$email' is not a plain email address"
users_json="$demo/users.json"
"$admin" users list --json >"$users_json"
if [[ "$(jget "$users_json" "any(u.get('email') == '$email' for u in d)")" != true ]]; then
  "$admin" users add "$email" --label demo.sh --json >"$demo/token.json"
  first_user=true
else
  "$admin" users tokens add "$email" --label demo.sh --json >"$demo/token.json"
  first_user=false
fi
token=$(jget "$demo/token.json" "d['token']")
token_id=$(jget "$demo/token.json" "d.get('token_id') or d.get('id') or (d.get('token_info') or {}).get('id') or ''")
rm -f "$demo/token.json" "$users_json"
# Each run issues a new token for its output; the previous run's one is revoked.
old_token_id=$(state_get token_id)
if [[ -n "$old_token_id" && "$old_token_id" != "$token_id" ]]; then
  "$admin" users tokens revoke "$old_token_id" >/dev/null 2>&1 || true
fi
state_set token_id "$token_id"

# --- calgate --------------------------------------------------------------------------------
# --port 0: a free port chosen here (calgate's own port 0 is announced only in its log, at level info)
api_port=$port
if [[ "$api_port" == 0 ]]; then api_port=$(free_port); fi
# the address browsers reach calgate at: the portal's sign-in links are made from it
export CALGATE_SERVER_PUBLIC_URL="http://127.0.0.1:$api_port"
echo "== starting calgate serve  (log $calgate_log)"
: >"$calgate_log"
CALGATE_SERVER_PORT=$api_port "$calgate" serve >>"$calgate_log" 2>&1 &
calgate_pid=$!
up=false
for _ in $(seq 300); do
  kill -0 "$calgate_pid" 2>/dev/null || break
  if curl -s -o /dev/null "http://127.0.0.1:$api_port/healthz"; then up=true; break; fi
  sleep 0.1
done
sleep 0.3   # a calgate that could not bind exits at once; then whatever answered is another server
if [[ "$up" != true ]] || ! kill -0 "$calgate_pid" 2>/dev/null; then
  show_log_tail "$calgate_log"
  if [[ "$up" == true ]]; then fail "calgate serve exited at start; something else listens on port $api_port (try --port 0)"; fi
  fail "calgate serve did not start (port $api_port in use? try --port 0)"
fi
api="http://127.0.0.1:$api_port"
echo "   listening on $api"

# api METHOD PATH [JSON]: the response body goes to $demo/api.out; prints the HTTP status.
api() {
  local args=(-s -o "$demo/api.out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token")
  if (($# > 2)); then args+=(-H 'Content-Type: application/json' --data-binary "$3"); fi
  curl "${args[@]}" "$api$2" || true   # curl prints 000 when it gets no answer
}
api_expect() {  # STATUS METHOD PATH [JSON]: fails with the problem the API answered
  local want=$1 code; shift
  code=$(api "$@")
  [[ "$code" == "$want" ]] || fail "$1 $2 answered HTTP $code, expected $want:
$(cat "$demo/api.out" 2>/dev/null)"
}

# --- connect both accounts (POST /v1/accounts: discovery first, nothing stored on failure) -----
connect() {  # KEY RADICALE_USER PASSWORD EMAIL CALENDAR_NAME -> sets cal_id
  local key=$1 user=$2 pw=$3 acct_email=$4 cal=$5 id
  id=$(state_get "${key}_account")
  if [[ -n "$id" && "$(api GET "/v1/accounts/$id")" == 200 ]]; then
    echo "   account $acct_email ($user on Radicale) already connected: $id"
  else
    echo "   POST /v1/accounts  {provider: caldav, server_url: $dav/, username: $user, email: $acct_email}"
    api_expect 201 POST /v1/accounts \
      "{\"provider\":\"caldav\",\"server_url\":\"$dav/\",\"username\":\"$user\",\"password\":\"$pw\",\"email\":\"$acct_email\"}"
    id=$(jget "$demo/api.out" "d['id']")
    state_set "${key}_account" "$id"
    echo "     -> 201 account $id"
  fi
  cal_id=$(jget "$demo/api.out" "next((c['id'] for c in d.get('calendars', []) if c.get('name') == '$cal' or c.get('provider_calendar_id', '').rstrip('/').endswith('/$user/$cal')), '')")
  [[ -n "$cal_id" ]] || fail "account $id has no calendar '$cal':
$(cat "$demo/api.out")"
  echo "     calendar '$cal': $cal_id"
}
echo "== connecting the two Radicale accounts through the REST API"
connect work work "$work_pw" alex@work.example work
work_cal=$cal_id
connect personal personal "$personal_pw" alex@personal.example personal
personal_cal=$cal_id

# --- the pair: work -> personal, private mode (busy blocks titled "Busy") -----------------------
pair=$(state_get pair)
if [[ -n "$pair" && "$(api GET "/v1/pairs/$pair")" == 200 ]]; then
  echo "== pair $pair (work -> personal, private) already exists"
else
  body="{\"source_calendar_id\":\"$work_cal\",\"target_calendar_id\":\"$personal_cal\",\"direction\":\"one_way\",\"rules\":{\"mode\":\"private\",\"label\":\"Busy\"}}"
  echo "== creating the pair: POST /v1/pairs  $body"
  api_expect 201 POST /v1/pairs "$body"
  pair=$(jget "$demo/api.out" "d['id']")
  state_set pair "$pair"
  echo "   -> 201 pair $pair"
fi

# --- sync now and wait for it -----------------------------------------------------------------
started=$(date +%s)
api_expect 202 POST "/v1/pairs/$pair/sync"
echo "== sync triggered (POST /v1/pairs/$pair/sync -> 202 $(cat "$demo/api.out")); waiting up to ${timeout}s"
deadline=$((started + timeout))
last_line="" last_print=0
while :; do
  code=$(api GET "/v1/pairs/$pair/status")
  if [[ "$code" == 200 ]]; then
    done_at=$(jget "$demo/api.out" "d.get('last_success_at') or 0")
    if ((done_at >= started)); then break; fi
    line=$(jget "$demo/api.out" "'state %s, job %s, attempts %s%s' % (d.get('state'), 'running' if d['job'].get('running') else ('queued' if d['job'].get('queued') else 'idle'), d['job'].get('attempts'), ('; last error: ' + d['last_error']) if d.get('last_error') else '')")
    [[ "$(jget "$demo/api.out" "d.get('state')")" != needs_confirmation ]] || fail "the pair is waiting for confirmation: $(cat "$demo/api.out")"
  else
    line="status answered HTTP $code"
  fi
  now=$(date +%s)
  if [[ "$line" != "$last_line" ]] || ((now - last_print >= 10)); then
    echo "   [$((now - started))s] $line"
    last_line=$line last_print=$now
  fi
  if ((now >= deadline)); then
    show_log_tail "$calgate_log"
    fail "the first sync did not succeed within ${timeout}s. Last status (GET /v1/pairs/$pair/status):
$(cat "$demo/api.out")"
  fi
  kill -0 "$calgate_pid" 2>/dev/null || { show_log_tail "$calgate_log"; fail "calgate exited"; }
  sleep 1
done
status_json="$demo/status.json"
cp "$demo/api.out" "$status_json"
echo "   [$(( $(date +%s) - started ))s] sync done"

# --- what happened --------------------------------------------------------------------------
dav_curl work "$work_pw" "$dav/work/work/" >/dev/null && cp "$demo/dav.out" "$demo/work.ics"
dav_curl personal "$personal_pw" "$dav/personal/personal/" >/dev/null && cp "$demo/dav.out" "$demo/personal.ics"
curl -s -o "$demo/metrics.txt" "$api/metrics" || true
python3 - "$status_json" "$demo/work.ics" "$demo/personal.ics" "$demo/metrics.txt" <<'PY'
import datetime as dt, json, re, sys
status = json.load(open(sys.argv[1]))
# writes by this calgate process (started by this run): calgate_sync_writes_total{provider,action}
writes = {}
for m in re.finditer(r'^calgate_sync_writes_total\{provider="[^"]*",action="([^"]*)"\} (\d+)', open(sys.argv[4]).read(), re.M):
    writes[m.group(1)] = writes.get(m.group(1), 0) + int(m.group(2))

def events(path):
    """VEVENTs of a whole-calendar GET, as dicts of property name -> (params, value); unfolded."""
    text = re.sub(r"\r?\n[ \t]", "", open(path, encoding="utf-8", errors="replace").read())
    out, cur = [], None
    for line in text.splitlines():
        if line == "BEGIN:VEVENT": cur = {}
        elif line == "END:VEVENT": out.append(cur); cur = None
        elif cur is not None and ":" in line:
            head, value = line.split(":", 1)
            name, _, params = head.partition(";")
            cur.setdefault(name.upper(), []).append((params, value))
    return out

def stamp(params, value):
    """'Mon 2026-11-23 10:00 Europe/Berlin' or, for a date, 'Mon 2026-11-23'."""
    day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    if "VALUE=DATE" in params or len(value) == 8: return day.strftime("%a %Y-%m-%d")
    tz = re.search(r"TZID=([^;:]+)", params)
    zone = tz.group(1) if tz else "UTC" if value.endswith("Z") else "(floating)"
    return f"{day.strftime('%a %Y-%m-%d')} {value[9:11]}:{value[11:13]} {zone}"

def when(e):
    params, value = e["DTSTART"][0]
    if "VALUE=DATE" in params or len(value) == 8:
        last = value
        if "DTEND" in e:  # DTEND of an all-day event is exclusive
            end = e["DTEND"][0][1]
            last = (dt.date(int(end[:4]), int(end[4:6]), int(end[6:8])) - dt.timedelta(days=1)).strftime("%Y%m%d")
        return "all day " + stamp("VALUE=DATE", value) + ("" if last <= value else " to " + stamp("VALUE=DATE", last))
    return stamp(params, value)

def describe(e):
    v = lambda k: e.get(k, [("", "")])[0][1]
    bits = [when(e)]
    if "RRULE" in e: bits.append("repeats " + v("RRULE"))
    if "RECURRENCE-ID" in e: bits.append("moved from " + stamp(*e["RECURRENCE-ID"][0]))
    if "CLASS" in e: bits.append("CLASS:" + v("CLASS"))
    extra = [k.lower() for k in ("DESCRIPTION", "LOCATION") if k in e]
    if "ATTENDEE" in e: extra.append(f"{len(e['ATTENDEE'])} attendees")
    if "ORGANIZER" in e: extra.append("organizer")
    bits.append(("with " + ", ".join(extra)) if extra else "no description, location or attendees")
    return f"  {v('SUMMARY')!r:38} " + "; ".join(bits)

def order(e):
    params, value = e["DTSTART"][0]
    return value[:8] + (value[9:15] if len(value) > 8 else "")

src, dst = sorted(events(sys.argv[2]), key=order), sorted(events(sys.argv[3]), key=order)
c = status.get("counts", {})
print()
print("================================ result ================================")
past = {"create": "created", "update": "updated", "delete": "deleted", "restore": "restored"}
detail = ", ".join(f"{n} {past.get(a, a)}" for a, n in sorted(writes.items()))
print(f"calgate wrote {sum(writes.values())} events into the personal calendar in this run"
      + (f" ({detail}; calgate_sync_writes_total in GET /metrics)." if detail else " (its copies were up to date)."))
print(f"The pair keeps {c.get('synced', '?')} events in step (GET /v1/pairs/{status.get('pair_id')}/status: "
      f"synced {c.get('synced', '?')}, denied {c.get('denied', '?')}, deleted {c.get('deleted', '?')}).")
print()
print(f"work calendar in Radicale (the source, {len(src)} VEVENTs):")
for e in src: print(describe(e))
print()
print(f"personal calendar in Radicale now (written by calgate, {len(dst)} VEVENTs):")
for e in dst: print(describe(e))
titles = sorted({e.get("SUMMARY", [("", "")])[0][1] for e in dst})
print()
print("titles in the personal calendar: " + (", ".join(repr(t) for t in titles) if titles else "(none)"))
print("Private mode: the copies are busy blocks titled 'Busy'; titles, descriptions, locations and")
print("attendees of the work events never left the work calendar.")
PY

cat <<MSG

== how to continue (calgate at $api, Radicale at $dav)
MSG
if [[ "$first_user" == true ]]; then
  echo "   created calgate user $email; its API token (shown only here; a later run of the demo issues a new one):"
else
  echo "   a new API token for $email (issued by this run; the previous run's token was revoked):"
fi
cat <<MSG
   export TOKEN=$token
   curl -H "Authorization: Bearer \$TOKEN" $api/v1/me
   curl -H "Authorization: Bearer \$TOKEN" $api/v1/pairs/$pair/status          # last sync, counts, job
   curl -H "Authorization: Bearer \$TOKEN" $api/v1/pairs/$pair/preview         # dry run: what would be written, and why
   curl -X POST -H "Authorization: Bearer \$TOKEN" $api/v1/pairs/$pair/sync    # sync now (also every ${CALGATE_SYNC_POLL_INTERVAL_SECONDS}s)
   curl -H "Authorization: Bearer \$TOKEN" $api/v1/accounts
   # a free/busy feed of the work calendar for any calendar app (the URL is shown once):
   curl -X POST -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
        -d '{"calendar_ids":["$work_cal"],"label":"Busy"}' $api/v1/feeds
   curl $api/feeds/cgf_....ics                                   # the "url" of that answer
   curl -H "Authorization: Bearer \$TOKEN" $api/v1/me/export                   # everything calgate holds about you
   # the calendars themselves (edit the work calendar, then sync again):
   curl -u work:$work_pw $dav/work/work/
   curl -u personal:$personal_pw $dav/personal/personal/
   more users: $admin users add EMAIL     (with CALGATE_DATA_DIR=$data_dir)

   calgate runs with CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS=true because this demo's CalDAV server
   (Radicale) listens on 127.0.0.1: by default calgate refuses CalDAV servers on loopback and
   private addresses, so that a hostile server URL cannot reach internal services. Leave it off
   unless your CalDAV server is on your own network.
MSG

# --- the web portal: its address and a one-time sign-in link ----------------------------------
"$admin" users login-link "$email" --json >"$demo/link.json" || fail "calgate-admin users login-link failed"
link=$(jget "$demo/link.json" "d['url']")
link_expires=$(jget "$demo/link.json" "d['expires_at']")
rm -f "$demo/link.json"
cat <<MSG

== the web portal: $api/portal
   sign in as $email with this one-time link (it works once, until $link_expires):
   $link
   (a new one: $admin users login-link $email)
MSG

if [[ "$exit_after_sync" == true ]]; then
  echo ""
  echo "== --exit-after-sync: done"
  exit 0
fi
echo ""
echo "== calgate and Radicale are running; calgate's log (JSON lines) follows. Ctrl-C stops both."
tail -n 0 -f "$calgate_log" &
tail_pid=$!
wait "$calgate_pid" || true
calgate_pid=""
show_log_tail "$calgate_log"
fail "calgate exited"
