#!/usr/bin/env bash
# The systemd unit (deploy/systemd/calgate.service), checked where systemd cannot run (CI runs
# without systemd as PID 1, so the unit cannot be started here):
#   1. its sandbox: `systemd-analyze security --offline=true` exposure at most 2.0;
#   2. `systemd-analyze verify` finds nothing to say (it exits 0 even on unknown keys, so any
#      output fails), with ExecStart pointed at the built binary;
#   3. its ExecStart is the command docs/operations.md documents, and the binary takes it;
#   4. the production sample configuration it names is valid.
# usage: check_unit.sh SOURCE_DIR CALGATE_BINARY
set -euo pipefail
src=${1:?usage: check_unit.sh SOURCE_DIR CALGATE_BINARY}
bin=${2:?usage: check_unit.sh SOURCE_DIR CALGATE_BINARY}
unit=$src/deploy/systemd/calgate.service
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing: run deploy/install-deps.sh" >&2; exit 1; }

# --threshold is in tenths: fails when the exposure is above 2.0
if ! out=$(systemd-analyze security --offline=true --threshold=20 "$unit" 2>&1); then
  echo "$out" | tail -5
  echo "check_unit: the unit's exposure is above 2.0" >&2
  exit 1
fi
echo "$out" | grep "Overall exposure"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=/usr/bin/calgate #ExecStart=$bin #" "$unit" >"$tmp/calgate.service"
said=$(systemd-analyze verify --man=no "$tmp/calgate.service" 2>&1 || true)
if [[ -n "$said" ]]; then
  echo "$said"
  echo "check_unit: systemd-analyze verify complains about the unit" >&2
  exit 1
fi
echo "systemd-analyze verify: no complaints"

exec_line=$(grep '^ExecStart=' "$unit")
grep -qF "$exec_line" "$src/docs/operations.md" || { echo "check_unit: docs/operations.md does not show $exec_line" >&2; exit 1; }
"$bin" serve --help | grep -q -- "--config" || { echo "check_unit: calgate serve takes no --config" >&2; exit 1; }
echo "ExecStart is the documented command: $exec_line"

env -i PATH=/usr/bin:/bin "$bin" config check --config "$src/deploy/calgate.production.yaml"
