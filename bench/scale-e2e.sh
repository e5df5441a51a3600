#!/usr/bin/env bash
# The service at scale, end to end (bench/scale_e2e.py): N pairs on one Radicale behind a proxy that
# delays every answer, 1 % of the sources changing per poll interval, on SQLite or on PostgreSQL with
# one or more `calgate serve` processes. Starts a private Radicale (and PostgreSQL with --postgresql)
# from tests/services and stops them afterwards.
#   bench/scale-e2e.sh [--postgresql] [--bin-dir DIR] [scale_e2e.py options: --pairs N --processes N ...]
# --bin-dir: a build tree with gateway/calgate and admin-cli/calgate-admin (default build/release,
# else build/dev). bench/scale_e2e.py --help lists the rest.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=""
postgres=0
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --postgresql) postgres=1; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [[ -z "$bin_dir" ]]; then
  for candidate in "$src/build/release" "$src/build/dev"; do
    if [[ -x "$candidate/gateway/calgate" ]]; then bin_dir=$candidate; break; fi
  done
fi
[[ -x "$bin_dir/gateway/calgate" && -x "$bin_dir/admin-cli/calgate-admin" ]] ||
  { echo "scale-e2e.sh: no calgate build in ${bin_dir:-build/release or build/dev}; build it or pass --bin-dir" >&2; exit 1; }
state=$(mktemp -d /tmp/scale-e2e.XXXXXX)
cleanup() {
  "$src/tests/services/caldav.sh" stop "$state/dav" >/dev/null 2>&1 || true
  if [[ $postgres == 1 ]]; then "$src/tests/services/postgres.sh" stop "$state/pg" >/dev/null 2>&1 || true; fi
  rm -rf "$state"
}
trap cleanup EXIT
"$src/tests/services/caldav.sh" start "$state/dav" >/dev/null
if [[ $postgres == 1 ]]; then
  "$src/tests/services/postgres.sh" start "$state/pg" >/dev/null
  args+=(--postgres-url "$(cat "$state/pg/url")")
fi
CG_TEST_CALDAV_STATE=$state/dav CALGATE_BINARY=$bin_dir/gateway/calgate CALGATE_ADMIN_BINARY=$bin_dir/admin-cli/calgate-admin \
  python3 -W ignore::DeprecationWarning "$src/bench/scale_e2e.py" "${args[@]}"
