#!/usr/bin/env bash
# DNSSEC test zones served by nsd on 127.0.0.1 (free port), generated and signed at test time.
#   dns-zones.sh start STATE_DIR          build keys + zones, start nsd; writes STATE_DIR/port and
#                                         STATE_DIR/anchor.ds (the trust anchor for zone "test.")
#   dns-zones.sh use STATE_DIR VARIANT    serve another variant of the pin scenario and restart nsd
#                                         (base | pin-bogus | pin-insecure | pin-denied | pin-none |
#                                         pin-resigned | pin-none-newer)
#   dns-zones.sh stop STATE_DIR
# "test." plays the root. Signatures are valid from 2025-01-01 to 2035-01-01 (tests use a fake
# clock inside that range) except skew.test (2026-01-01..2026-02-01) and expired.test (2020), and
# the re-signed pinned.test variants (pin-resigned from 2026-03-01, pin-none-newer from 2026-04-01):
# against them, pin-none (signed 2025-06-01, after the base record) is an older answer replayed.
set -euo pipefail
export LC_ALL=C
action=${1:?usage: dns-zones.sh start|use|stop STATE_DIR [VARIANT]}
state=${2:?usage: dns-zones.sh start|use|stop STATE_DIR [VARIANT]}

VALID=(-i 20250101000000 -e 20350101000000)

port_free() {  # the UDP and TCP port can be bound again (nsd's child processes have let go)
  python3 - "$(cat "$state/port")" <<'PY'
import socket, sys
port = int(sys.argv[1])
for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
}

serve() {  # (re)start nsd with the current nsd.conf
  if [[ -f "$state/nsd.pid" ]]; then
    kill "$(cat "$state/nsd.pid")" 2>/dev/null || true
    rm -f "$state/nsd.pid"
  fi
  for _ in $(seq 200); do port_free && break; sleep 0.05; done
  nsd -c "$state/nsd.conf"
  for _ in $(seq 100); do
    if drill -p "$(cat "$state/port")" @127.0.0.1 SOA test. >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "dns-zones.sh: nsd did not answer; log:" >&2
  cat "$state/nsd.log" >&2 || true
  return 1
}

write_conf() {  # $1 = variant
  local variant=$1 z
  {
    echo "server:"
    echo "  ip-address: 127.0.0.1"
    echo "  port: $(cat "$state/port")"
    echo "  do-ip6: no"
    echo "  username: \"\""
    echo "  chroot: \"\""
    echo "  zonesdir: \"$state\""
    echo "  pidfile: \"$state/nsd.pid\""
    echo "  logfile: \"$state/nsd.log\""
    echo "  database: \"\""
    echo "  zonelistfile: \"$state/zone.list\""
    echo "  xfrdfile: \"$state/xfrd.state\""
    echo "  xfrdir: \"$state\""
    echo "  verbosity: 1"
    echo "  hide-version: yes"
    echo "remote-control:"
    echo "  control-enable: no"
    for z in $(cat "$state/zones"); do
      local file="$z.signed"
      [[ -f "$state/$z.unsigned-zone" ]] && file="$z.zone"
      # variants of the pin scenario
      case "$variant/$z" in
        base/*) ;;
        pin-bogus/pinned.test) file="pinned.test.altered" ;;
        pin-insecure/test) file="test.nopinds.signed" ;;
        pin-insecure/pinned.test) file="pinned.test.insecure.zone" ;;
        pin-denied/pinned.test) file="pinned.test.denied.signed" ;;
        pin-none/pinned.test) file="pinned.test.none.signed" ;;
        pin-resigned/pinned.test) file="pinned.test.resigned.signed" ;;
        pin-none-newer/pinned.test) file="pinned.test.nonenewer.signed" ;;
      esac
      echo "zone:"
      echo "  name: $z."
      echo "  zonefile: \"$state/$file\""
    done
  } >"$state/nsd.conf"
  echo "$variant" >"$state/variant"
}

soa() {  # $1 = zone
  cat <<ZONE
\$ORIGIN $1.
\$TTL 300
@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
@ IN NS ns.test.
ZONE
}

key() {  # $1 = zone -> prints key basename (a single ECDSA P-256 key signs everything)
  (cd "$state/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$1." 2>/dev/null)
}

sign() {  # $1 = zone file, $2 = key basename, rest = extra ldns-signzone options
  local file=$1 keyname=$2
  shift 2
  ldns-signzone "$@" -f "$state/$(basename "$file").signed.tmp" "$file" "$state/keys/$keyname"
  mv "$state/$(basename "$file").signed.tmp" "$state/$(basename "$file" .zone).signed"
}

case "$action" in
  start)
    "$0" stop "$state" >/dev/null 2>&1 || true
    mkdir -p "$state/keys"
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' >"$state/port"
    big=$(python3 -c 'print(" ".join(["\"" + ("v=CALPRIV1; p=private; label=" if i == 0 else "") + "x" * (200 if i == 0 else 250) + "\"" for i in range(5)]))')

    # child zones: name -> records (after the SOA/NS)
    declare -A records=(
      [acme.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=private; ma=600; label=Busy; allow=partner.test"'
      [split.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=bl" "ock; ma=600; " "allow=partner.test"'
      [nxd.test]='www IN A 127.0.0.1'
      [nodata.test]='_calendar-privacy IN A 127.0.0.1'
      [unsigned.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=block; ma=600"'
      [altered.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=block; ma=600"'
      [expired.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=block; ma=600"'
      [skew.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=block; ma=600"'
      [multi.test]=$'_calendar-privacy IN TXT "v=CALPRIV1; p=private; ma=600"\n_calendar-privacy IN TXT "v=CALPRIV1; p=block; label=Blocked; ma=600"\n_calendar-privacy IN TXT "google-site-verification=abc"'
      [malformed.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=private; p=none"'
      [big.test]="_calendar-privacy IN TXT $big"
      [org.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=none; sp=block; ma=600; label=Org"'
      [nopolicy.test]='www IN A 127.0.0.1'
      [iter.test]='www IN A 127.0.0.1'
      [pinned.test]='_calendar-privacy IN TXT "v=CALPRIV1; p=block; ma=3600; label=Pinned"'
    )
    : >"$state/zones"
    parent_delegations=""
    for z in "${!records[@]}"; do
      echo "$z" >>"$state/zones"
      { soa "$z"; echo "${records[$z]}"; } >"$state/$z.zone"
      parent_delegations+="${z%.test} IN NS ns.test."$'\n'
      if [[ "$z" == unsigned.test ]]; then
        touch "$state/$z.unsigned-zone"
        continue
      fi
      k=$(key "$z")
      case "$z" in
        nxd.test|nodata.test) sign "$state/$z.zone" "$k" -n -a 1 -t 0 -s "" "${VALID[@]}" ;;
        iter.test) sign "$state/$z.zone" "$k" -n -a 1 -t 150 -s "aabbccdd" "${VALID[@]}" 2>/dev/null ;;
        expired.test) sign "$state/$z.zone" "$k" -i 20200101000000 -e 20210101000000 ;;
        skew.test) sign "$state/$z.zone" "$k" -i 20260101000000 -e 20260201000000 ;;
        *) sign "$state/$z.zone" "$k" "${VALID[@]}" ;;
      esac
      ds_line=$(sed -e 's/;.*//' "$state/keys/$k.ds" | grep -E 'IN[[:space:]]+DS')
      parent_delegations+="$(echo "$ds_line" | sed -e "s/^$z\./${z%.test}/")"$'\n'
      echo "$k" >"$state/$z.key"
    done
    # a record altered after signing: the TXT rdata changes, the RRSIG stays
    sed -e 's/p=block; ma=600/p=none; ma=600/' "$state/altered.test.signed" >"$state/altered.test.tmp"
    mv "$state/altered.test.tmp" "$state/altered.test.signed"

    # variants of pinned.test for the pin scenarios
    pk=$(cat "$state/pinned.test.key")
    sed -e 's/p=block; ma=3600; label=Pinned/p=none; ma=3600; label=Pinned/' "$state/pinned.test.signed" >"$state/pinned.test.altered"
    { soa pinned.test; echo 'www IN A 127.0.0.1'; } >"$state/pinned.test.denied.zone"
    sign "$state/pinned.test.denied.zone" "$pk" "${VALID[@]}"
    { soa pinned.test; echo '_calendar-privacy IN TXT "v=CALPRIV1; p=none; ma=0"'; } >"$state/pinned.test.none.zone"
    sign "$state/pinned.test.none.zone" "$pk" -i 20250601000000 -e 20350101000000
    { soa pinned.test; echo '_calendar-privacy IN TXT "v=CALPRIV1; p=none; ma=0"'; } >"$state/pinned.test.insecure.zone"
    { soa pinned.test; echo '_calendar-privacy IN TXT "v=CALPRIV1; p=block; ma=3600; label=Pinned"'; } >"$state/pinned.test.resigned.zone"
    sign "$state/pinned.test.resigned.zone" "$pk" -i 20260301000000 -e 20350101000000
    { soa pinned.test; echo '_calendar-privacy IN TXT "v=CALPRIV1; p=none; ma=0"'; } >"$state/pinned.test.nonenewer.zone"
    sign "$state/pinned.test.nonenewer.zone" "$pk" -i 20260401000000 -e 20350101000000

    # the anchor zone "test.", with and without the DS of pinned.test
    rk=$(key test)
    { soa test; echo "ns IN A 127.0.0.1"; echo "$parent_delegations"; } >"$state/test.zone"
    grep -v -E '^pinned[[:space:]].*DS' "$state/test.zone" >"$state/test.nopinds.zone"
    sign "$state/test.zone" "$rk" "${VALID[@]}"
    sign "$state/test.nopinds.zone" "$rk" "${VALID[@]}"
    echo test >>"$state/zones"
    sed -e 's/;.*//' "$state/keys/$rk.ds" | grep -E 'IN[[:space:]]+DS' >"$state/anchor.ds"

    write_conf base
    serve
    echo "nsd serving DNSSEC test zones on 127.0.0.1:$(cat "$state/port")"
    ;;
  use)
    variant=${3:?usage: dns-zones.sh use STATE_DIR VARIANT}
    write_conf "$variant"
    serve
    ;;
  stop)
    if [[ -f "$state/nsd.pid" ]]; then
      kill "$(cat "$state/nsd.pid")" 2>/dev/null || true
      for _ in $(seq 200); do port_free && break; sleep 0.05; done
      echo "nsd stopped"
    fi
    rm -rf "$state"
    ;;
  *) echo "usage: dns-zones.sh start|use|stop STATE_DIR [VARIANT]" >&2; exit 2 ;;
esac
