#!/usr/bin/env bash
# calgate side by side with vdirsyncer on one Radicale on loopback (bench/vs_vdirsyncer.py): the
# initial copy of N events and the sync right after it, wall and CPU of both tools, and the server's
# floor. Starts a private Radicale (tests/services/caldav.sh) and stops it afterwards.
#   bench/vs-vdirsyncer.sh [--events N] [--bin-dir DIR] [--calgate-only] [--perf FILE] [--callgrind DIR]
# --calgate-only: calgate and the server's floor only; --perf FILE: perf record of calgate's initial
# run; --callgrind DIR: calgate under valgrind, its instructions per run in DIR (callgrind_annotate).
# --bin-dir: a build tree with gateway/calgate and admin-cli/calgate-admin (default build/release,
# else build/dev). vdirsyncer comes from Debian (apt-get install vdirsyncer); only this uses it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin-dir) bin_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ " ${args[*]} " == *" --calgate-only "* ]] || command -v vdirsyncer >/dev/null || { echo "vs-vdirsyncer.sh: vdirsyncer is missing: apt-get install vdirsyncer" >&2; exit 1; }
if [[ -z "$bin_dir" ]]; then
  for candidate in "$src/build/release" "$src/build/dev"; do
    if [[ -x "$candidate/gateway/calgate" ]]; then bin_dir=$candidate; break; fi
  done
fi
[[ -x "$bin_dir/gateway/calgate" && -x "$bin_dir/admin-cli/calgate-admin" ]] ||
  { echo "vs-vdirsyncer.sh: no calgate build in ${bin_dir:-build/release or build/dev}; build it or pass --bin-dir" >&2; exit 1; }
state=$(mktemp -d /tmp/vs-vdirsyncer-dav.XXXXXX)
trap '"$src/tests/services/caldav.sh" stop "$state" >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
"$src/tests/services/caldav.sh" start "$state" >/dev/null
CG_TEST_CALDAV_STATE=$state CALGATE_BINARY=$bin_dir/gateway/calgate CALGATE_ADMIN_BINARY=$bin_dir/admin-cli/calgate-admin \
  python3 -W ignore::DeprecationWarning "$src/bench/vs_vdirsyncer.py" "${args[@]}"
