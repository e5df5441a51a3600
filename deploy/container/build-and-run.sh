#!/usr/bin/env bash
# Builds calgate's container images and runs them: PostgreSQL plus two calgate replicas on the same
# database, then checks them end to end and tears everything down again.
#
#   sudo deploy/container/build-and-run.sh
#   sudo CALGATE_BIN_DIR=/path/with/calgate+calgate-admin deploy/container/build-and-run.sh
#
# Steps: (1) base image localhost/debian-min:bookworm, made with debootstrap when missing;
# (2) calgate Release build in its own build directory (skipped with CALGATE_BIN_DIR);
# (3) images localhost/calgate and localhost/calgate-postgres (Containerfile, podman build);
# (4) postgres + calgate-1 + calgate-2 (podman-compose with compose.yaml when it and a podman
#     network with DNS are available, else plain `podman run` on a podman network);
# (5) waits for PostgreSQL's health check and both replicas' /readyz, creates a user with
#     calgate-admin inside calgate-1, and checks that its token works on BOTH replicas
#     (GET /v1/me -> 200);
# (6) prints a summary and removes the containers, volumes and network (trap; images are kept).
#
# Environment (all optional):
#   CALGATE_BIN_DIR   directory holding calgate and calgate-admin (bookworm builds): no build here
#   BUILD_DIR         build directory for step 2 (default <source>/build/container)
#   BASE_IMAGE        base image (default localhost/debian-min:bookworm)
#   DEBIAN_MIRROR     mirror for debootstrap (default: from /etc/apt/sources.list*, else deb.debian.org)
#   CALGATE_IMAGE, POSTGRES_IMAGE   image names (localhost/calgate:latest, localhost/calgate-postgres:latest)
#   MODE              auto (default), compose or podman
#   CALGATE_PORT_1, CALGATE_PORT_2  host ports on 127.0.0.1 (8081, 8082)
#   CALGATE_MASTER_KEY  base64 of 32 bytes shared by both replicas (default: a new random one)
#   CONTAINER_RUNTIME runtime written to the temporary containers.conf (default runc)
#   CONTAINERS_CONF   use this containers.conf instead of the generated one
#   KEEP_RUNNING=1    leave the containers running (tear down later with the printed command)
#   SUBNET            subnet of the network in MODE=podman (default 10.89.77.0/24)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
BASE_IMAGE="${BASE_IMAGE:-localhost/debian-min:bookworm}"
CALGATE_IMAGE="${CALGATE_IMAGE:-localhost/calgate:latest}"
POSTGRES_IMAGE="${POSTGRES_IMAGE:-localhost/calgate-postgres:latest}"
MODE="${MODE:-auto}"
CALGATE_PORT_1="${CALGATE_PORT_1:-8081}"
CALGATE_PORT_2="${CALGATE_PORT_2:-8082}"
SUBNET="${SUBNET:-10.89.77.0/24}"
KEEP_RUNNING="${KEEP_RUNNING:-0}"
PROJECT=calgate-ct
NET="${PROJECT}_default"
PG=calgate-postgres
C1=calgate-1
C2=calgate-2
export CALGATE_IMAGE POSTGRES_IMAGE CALGATE_PORT_1 CALGATE_PORT_2

say() { printf '\n== %s\n' "$*"; }
fail() { printf '\nbuild-and-run: ERROR: %s\n' "$*" >&2; exit 1; }

# --- timing -------------------------------------------------------------------------------------
declare -a step_names=() step_secs=()
step_t0=0
step() { say "$*"; step_t0=$(date +%s); step_names+=("$*"); }
step_done() { step_secs+=($(( $(date +%s) - step_t0 ))); }
total_t0=$(date +%s)

# --- prerequisites ------------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || fail "run as root (debootstrap and rootful podman with runc need it): sudo $0"
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is missing: apt-get install --no-install-recommends $2"; }
need podman podman
need curl curl
runtime="${CONTAINER_RUNTIME:-runc}"
need "$runtime" "$runtime"

work="$(mktemp -d /tmp/calgate-container.XXXXXX)"
if [[ -z "${CONTAINERS_CONF:-}" ]]; then
  # crun fails on some VMs and the default nofile/nproc limits can exceed what the host allows:
  # run with runc and capped ulimits (README.md).
  # podman's default nofile (1048576) is above this VM's hard limit (20000): cap both limits at
  # what this shell may grant.
  cap() { local hard="$1" want="$2"; [[ "$hard" == unlimited || "$hard" -gt "$want" ]] && echo "$want" || echo "$hard"; }
  nofile=$(cap "$(ulimit -Hn)" 20000)
  nproc=$(cap "$(ulimit -Hu)" 32768)
  cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "$runtime"
EOF
  export CONTAINERS_CONF="$work/containers.conf"
fi
echo "containers.conf: $CONTAINERS_CONF"; grep -E 'ulimits|runtime' "$CONTAINERS_CONF" | sed 's/^/  /' || true

mode_used=""
teardown() {
  local rc=$?
  if [[ "$KEEP_RUNNING" == 1 && $rc -eq 0 ]]; then
    say "KEEP_RUNNING=1: left running. Tear down with:"
    echo "  CONTAINERS_CONF=$CONTAINERS_CONF podman rm -f $C1 $C2 $PG; podman volume rm ${PROJECT}_pgdata ${PROJECT}_calgate-1-data ${PROJECT}_calgate-2-data; podman network rm $NET"
    return
  fi
  if [[ -n "$mode_used" ]]; then
    say "tearing down"
    if [[ $rc -ne 0 ]]; then
      for c in $PG $C1 $C2; do
        podman container exists "$c" 2>/dev/null || continue
        echo "--- last log lines of $c"; podman logs --tail 15 "$c" 2>&1 | sed 's/^/    /' || true
      done
    fi
    if [[ "$mode_used" == compose ]]; then
      podman-compose -p "$PROJECT" -f "$here/compose.yaml" down -v >/dev/null 2>&1 || true
    fi
    podman rm -f -t 5 "$C1" "$C2" "$PG" >/dev/null 2>&1 || true
    for v in "${PROJECT}_pgdata" "${PROJECT}_calgate-1-data" "${PROJECT}_calgate-2-data"; do
      podman volume rm -f "$v" >/dev/null 2>&1 || true
    done
    podman network rm -f "$NET" >/dev/null 2>&1 || true
    echo "containers, volumes and network removed (images kept: podman rmi $CALGATE_IMAGE $POSTGRES_IMAGE)"
  fi
  rm -rf "$work"
  [[ $rc -eq 0 ]] || echo "build-and-run: FAILED (exit $rc)" >&2
}
trap teardown EXIT

# --- 1. base image --------------------------------------------------------------------------------
step "1/5 base image $BASE_IMAGE"
if podman image exists "$BASE_IMAGE"; then
  echo "present"
else
  need debootstrap debootstrap
  mirror="${DEBIAN_MIRROR:-}"
  if [[ -z "$mirror" ]]; then
    mirror=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
                grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'; } |
              grep -E '/debian/?$' | head -n1 || true)
  fi
  mirror="${mirror:-http://deb.debian.org/debian}"
  echo "debootstrap --variant=minbase bookworm from $mirror"
  rootfs="$work/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed (log above)"; }
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
    "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --quiet - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  echo "imported"
fi
# Can containers run here at all? Say exactly why not before building anything.
if ! out=$(podman run --rm "$BASE_IMAGE" true 2>&1); then
  fail "containers cannot run on this machine: \`podman run --rm $BASE_IMAGE true\` said:
$out
(\"crun: cgroups in hybrid mode not supported\": use runc, CONTAINER_RUNTIME=runc; \"setrlimit\" or
\"error setting rlimits ... operation not permitted\": lower default_ulimits in CONTAINERS_CONF)"
fi
step_done

# --- 2. binaries --------------------------------------------------------------------------------
ctx="$work/context"
mkdir -p "$ctx/bin"
if [[ -n "${CALGATE_BIN_DIR:-}" ]]; then
  step "2/5 binaries from CALGATE_BIN_DIR=$CALGATE_BIN_DIR (no build)"
  bin_calgate="$CALGATE_BIN_DIR/calgate"
  bin_admin="$CALGATE_BIN_DIR/calgate-admin"
else
  build="${BUILD_DIR:-$src/build/container}"
  step "2/5 calgate Release build in $build"
  need cmake cmake
  need ninja ninja-build
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCALGATE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" --target calgate calgate-admin
  bin_calgate="$build/gateway/calgate"
  bin_admin="$build/admin-cli/calgate-admin"
fi
for b in "$bin_calgate" "$bin_admin"; do
  [[ -x "$b" ]] || fail "no executable $b"
done
cp "$bin_calgate" "$bin_admin" "$ctx/bin/"
# Debug information is most of a development build's size; the image does not need it.
if command -v strip >/dev/null 2>&1; then strip --strip-unneeded "$ctx/bin/calgate" "$ctx/bin/calgate-admin"; fi
cp "$here/Containerfile" "$here/calgate.yaml" "$ctx/"
for b in "$ctx/bin/"*; do echo "$(basename "$b"): $(( $(stat -c %s "$b") / 1000000 )) MB (stripped) from $(dirname "$bin_calgate")"; done
step_done

# --- 3. images ----------------------------------------------------------------------------------
build_image() {  # target tag
  # --format docker: the OCI format has no HEALTHCHECK and podman would drop it.
  if ! podman build --format docker --build-arg "BASE=$BASE_IMAGE" --target "$1" -t "$2" "$ctx" \
      >"$work/build-$1.log" 2>&1; then
    tail -30 "$work/build-$1.log" >&2
    fail "podman build --target $1 failed (log above)"
  fi
  echo "$2: $(podman image inspect --format '{{.Size}}' "$2" | awk '{printf "%.0f MB", $1/1e6}')"
}
step "3/5 images (podman build)"
build_image postgres "$POSTGRES_IMAGE"
build_image calgate "$CALGATE_IMAGE"
step_done

# --- 4. start -----------------------------------------------------------------------------------
export CALGATE_MASTER_KEY="${CALGATE_MASTER_KEY:-$(head -c 32 /dev/urandom | base64)}"
dns_ok() {  # does a new podman network resolve container names?
  case "$(podman info --format '{{.Host.NetworkBackend}}' 2>/dev/null)" in
    netavark) [[ -x /usr/lib/podman/aardvark-dns || -x /usr/libexec/podman/aardvark-dns ]] ;;
    cni) [[ -x /usr/lib/cni/dnsname || -x /opt/cni/bin/dnsname ]] ;;
    *) return 1 ;;
  esac
}
if [[ "$MODE" == auto ]]; then
  if command -v podman-compose >/dev/null 2>&1 && dns_ok; then MODE=compose; else MODE=podman; fi
fi
for c in $PG $C1 $C2; do
  podman container exists "$c" && fail "a container named $c exists already (podman rm -f $c)"
done

# Podman runs HEALTHCHECKs from systemd timers; without systemd (as on this VM) nothing runs them
# on their own, so run them here (`podman healthcheck run` also updates the health status).
wait_for() {  # description timeout-seconds command...
  local what="$1" limit="$2" t0; shift 2; t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) - t0 < limit )) || fail "$what: not ready after ${limit}s"
    sleep 1
  done
  echo "$what: ready after $(( $(date +%s) - t0 ))s"
}
# podman run without systemd logs "unable to get systemd connection to add healthchecks" for every
# container with a health check: expected here (see above), so keep it out of the output.
run_quiet() {
  local err
  if ! err=$(podman "$@" 2>&1 >/dev/null); then printf '%s\n' "$err" >&2; return 1; fi
  printf '%s\n' "$err" | grep -v -e 'unable to get systemd connection' -e '^$' >&2 || true
}

step "4/5 start postgres + 2 calgate replicas (mode: $MODE)"
mode_used=$MODE
if [[ "$MODE" == compose ]]; then
  command -v podman-compose >/dev/null 2>&1 || fail "MODE=compose but podman-compose is missing: apt-get install --no-install-recommends podman-compose"
  dns_ok || echo "warning: podman networks here have no DNS; calgate will not resolve 'postgres'" >&2
  # podman-compose 1.0.3 (bookworm) starts services in depends_on order but does not wait for
  # 'condition: service_healthy'; calgate exits while PostgreSQL is still initialising and its
  # restart policy brings it back.
  podman-compose -p "$PROJECT" -f "$here/compose.yaml" up -d >"$work/compose-up.log" 2>&1 ||
    { cat "$work/compose-up.log" >&2; fail "podman-compose up failed (log above)"; }
  wait_for "postgres health check (pg_isready)" 120 podman healthcheck run "$PG"
else
  # Without compose, or without container DNS: static address for PostgreSQL, --add-host for the
  # name. Same containers, volumes, ports and health checks as compose.yaml.
  pg_ip="$(echo "$SUBNET" | sed -E 's#^([0-9]+\.[0-9]+\.[0-9]+)\.[0-9]+/.*#\1.10#')"
  podman network create --subnet "$SUBNET" "$NET" >/dev/null
  for v in "${PROJECT}_pgdata" "${PROJECT}_calgate-1-data" "${PROJECT}_calgate-2-data"; do podman volume create "$v" >/dev/null; done
  run_quiet run -d --name "$PG" --hostname postgres --network "$NET" --ip "$pg_ip" \
    -v "${PROJECT}_pgdata:/var/lib/postgresql/data" --restart unless-stopped "$POSTGRES_IMAGE"
  # calgate exits when it cannot reach its database at start: start it once PostgreSQL is healthy.
  wait_for "postgres health check (pg_isready)" 120 podman healthcheck run "$PG"
  n=0
  for c in $C1 $C2; do
    n=$((n + 1)); port_var="CALGATE_PORT_$n"
    run_quiet run -d --name "$c" --hostname "$c" --network "$NET" --add-host "postgres:$pg_ip" \
      -e CALGATE_DATABASE_URL=postgresql://calgate@postgres:5432/calgate -e CALGATE_MASTER_KEY \
      -v "${PROJECT}_$c-data:/var/lib/calgate" -p "127.0.0.1:${!port_var}:8080" \
      --restart unless-stopped "$CALGATE_IMAGE"
  done
fi
wait_for "calgate-1 GET 127.0.0.1:$CALGATE_PORT_1/readyz" 120 curl -fsS "http://127.0.0.1:$CALGATE_PORT_1/readyz"
wait_for "calgate-2 GET 127.0.0.1:$CALGATE_PORT_2/readyz" 120 curl -fsS "http://127.0.0.1:$CALGATE_PORT_2/readyz"
wait_for "calgate-1 health check" 30 podman healthcheck run "$C1"
wait_for "calgate-2 health check" 30 podman healthcheck run "$C2"
step_done

# --- 5. checks ----------------------------------------------------------------------------------
step "5/5 checks: a user made with calgate-admin in $C1, its token on both replicas"
email="container-check-$(date +%s)@example.com"
if ! out=$(podman exec "$C1" calgate-admin -c /etc/calgate/calgate.yaml users add "$email" --label build-and-run --json 2>&1); then
  fail "calgate-admin users add failed: $out"
fi
token=$(printf '%s' "$out" | tr -d '\n' | sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
[[ -n "$token" ]] || fail "no token in calgate-admin's answer: $out"
echo "user $email created in $C1 (token ${token:0:6}...)"
declare -A me_code=()
for n in 1 2; do
  port_var="CALGATE_PORT_$n"
  url="http://127.0.0.1:${!port_var}/v1/me"
  code=$(curl -sS -o "$work/me-$n.json" -w '%{http_code}' -H "Authorization: Bearer $token" "$url")
  anon=$(curl -sS -o /dev/null -w '%{http_code}' "$url")
  me_code[$n]=$code
  echo "calgate-$n GET /v1/me: $code with the token ($(head -c 160 "$work/me-$n.json")), $anon without"
  [[ "$code" == 200 ]] || fail "calgate-$n answered $code to the token made in $C1"
  [[ "$anon" == 401 ]] || fail "calgate-$n answered $anon (expected 401) without a token"
  grep -q "$email" "$work/me-$n.json" || fail "calgate-$n's /v1/me does not name $email"
done
step_done

# --- summary ------------------------------------------------------------------------------------
say "summary"
echo "mode: $MODE   runtime: $runtime   base: $BASE_IMAGE"
podman ps --filter "name=^($PG|$C1|$C2)\$" --format '  {{.Names}}  {{.Image}}  {{.Status}}  {{.Ports}}'
for c in $PG $C1 $C2; do
  echo "  $c: health $(podman inspect --format '{{.State.Health.Status}}' "$c"), restarts $(podman inspect --format '{{.RestartCount}}' "$c")"
done
echo "  /readyz: calgate-1 $(curl -s "http://127.0.0.1:$CALGATE_PORT_1/readyz")"
echo "           calgate-2 $(curl -s "http://127.0.0.1:$CALGATE_PORT_2/readyz")"
echo "  token from calgate-admin in $C1: GET /v1/me -> calgate-1 ${me_code[1]}, calgate-2 ${me_code[2]}"
echo "timings:"
for i in "${!step_names[@]}"; do printf '  %-60s %4ss\n' "${step_names[$i]}" "${step_secs[$i]:-?}"; done
printf '  %-60s %4ss\n' "total" "$(( $(date +%s) - total_t0 ))"
echo "PASS"
