#!/usr/bin/env bash
# The README demo end to end: runs deploy/demo.sh non-interactively against a build tree's calgate
# and calgate-admin, twice on the same data directory (first run, then a run that reuses it), and
# checks that the sync wrote the sample events as "Busy" blocks into the personal calendar, that
# no real title reached it, that the second run duplicated nothing, and that the demo stopped
# everything it started.
#   demo_test.sh BUILD_DIR
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
bin=${1:?usage: demo_test.sh BUILD_DIR}
tmp=$(mktemp -d /tmp/calgate-demo-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

failures=0
check() {  # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then echo "ok:   $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

not_running() { ! pgrep -f "$1" >/dev/null; }  # (a bash -c here would match its own command line)

run_demo() {  # N
  local out="$tmp/run$1.txt" rc=0
  "$src/deploy/demo.sh" --bin-dir "$bin" --data-dir "$tmp/data" --port 0 --exit-after-sync --timeout 120 \
    >"$out" 2>&1 </dev/null || rc=$?
  echo "---------------- demo run $1 (exit $rc) ----------------"
  cat "$out"
  echo "--------------------------------------------------------"
  check "run $1 exits 0" test "$rc" -eq 0
  check "run $1 says calgate wrote the events" grep -Eq '^calgate wrote [0-9]+ events into the personal calendar' "$out"
  check "run $1: the personal calendar holds only 'Busy' titles" grep -qx "titles in the personal calendar: 'Busy'" "$out"
  check "run $1 prints how to continue with a token" grep -Eq 'export TOKEN=cgt_' "$out"
  check "run $1 explains CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS" grep -q 'CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS=true because' "$out"
  check "run $1 ends by printing the portal's URL" grep -Eq '^== the web portal: http://127\.0\.0\.1:[0-9]+/portal$' "$out"
  local link
  link=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+/portal/link/cgl_[A-Za-z0-9_-]{43}' "$out" | tail -n 1 || true)
  check "run $1 prints a one-time sign-in link" test -n "$link"
  # the link is live: calgate keeps its hash, unused (the demo stopped before anyone opened it)
  check "run $1: the sign-in link is one calgate issued" python3 -c '
import hashlib, sqlite3, sys
secret = sys.argv[1].rsplit("/", 1)[1]
db = sqlite3.connect(sys.argv[2])
n = db.execute("SELECT COUNT(*) FROM login_links WHERE secret_hash = ?", (hashlib.sha256(secret.encode()).hexdigest(),)).fetchone()[0]
sys.exit(0 if n == 1 else 1)' "${link:-none/none}" "$tmp/data/calgate.db"
  # the calendar as the demo read it back from Radicale
  local ics="$tmp/data/demo/personal.ics"
  check "run $1: the personal calendar was read back" test -s "$ics"
  check "run $1: 5 VEVENTs (a series with its moved occurrence, an all-day, a confidential, a meeting)" \
    test "$(grep -c '^BEGIN:VEVENT' "$ics" 2>/dev/null)" -eq 5
  check "run $1: every copy is titled Busy" test "$(grep -c '^SUMMARY:Busy' "$ics" 2>/dev/null)" -eq 5
  check "run $1: no title, description, location or attendee of the work events in the copies" \
    bash -c '! grep -Eiq "falcon|salary|acme|lisbon|room|offer|^DESCRIPTION|^LOCATION|^ATTENDEE|^ORGANIZER" "$0"' "$ics"
  check "run $1: Radicale stopped" not_running "$tmp/data/demo/radicale"
  local url
  url=$(sed -n 's/^   listening on \(http:[^ ]*\).*/\1/p' "$out" | head -n1)
  check "run $1: calgate stopped (nothing answers on ${url:-?})" bash -c '[[ -n "$0" ]] && ! curl -s -m 2 -o /dev/null "$0/healthz"' "$url"
}

run_demo 1
# first run: first sync wrote the events
check "run 1 wrote at least one event" grep -Eq '^calgate wrote [1-9][0-9]* events' "$tmp/run1.txt"
check "run 1 created the user" grep -q 'created calgate user' "$tmp/run1.txt"
run_demo 2
check "run 2 reused the accounts" grep -q 'already connected' "$tmp/run2.txt"
check "run 2 reused the pair" grep -Eq '^== pair [a-z0-9_]+ .*already exists' "$tmp/run2.txt"

if ((failures)); then echo "demo_test: $failures check(s) failed"; exit 1; fi
echo "demo_test: all checks passed"
