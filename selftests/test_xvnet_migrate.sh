#!/usr/bin/env bash
# Live migration of a real guest between two QEMUs on this host, each with
# its own tap, the VM's xvnet port moved with it (DNIS, docs/dnis.md):
# `vm move --prepare` to the destination's tap when the migration starts,
# `vm move --switch` when the source stops (selftests/lib/migrate.py, what a
# libvirt migrate hook would run).  A UDP echo stream runs through it; the
# test reports the blackout (longest silence between two replies), QEMU's
# own downtime, the frames lost, and checks that the guest answers from
# the destination, that the old tap is released and the announce (QEMU's
# RARP from the guest's MAC after the migration) reaches the wire.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
guest_require

TAP1=$(xv_name mt1)
TAP2=$(xv_name mt2)
MAC=$(guest_mac 7)
GUEST_IP=10.77.0.57
PORT=$((20000 + $$ % 20000))
RATE=${MIGRATE_RATE:-1000}

xv_topology
xvnetd_start
tap_create "$TAP1"
tap_create "$TAP2"
xvctl vm add g1 --mac "$MAC" --port tap --ifname "$TAP1" --ip "$GUEST_IP" || fail "vm add"

GUEST_ID=g1 GUEST_QEMU_ARGS="-monitor unix:$XV_TMP/src.mon,server,nowait" \
	guest_start "$TAP1" "$MAC" "$GUEST_IP/24" "$XV_TMP/src.log"
SRC=$GUEST_PID
guest_wait_ready "$XV_TMP/src.log" 90 || fail "source guest did not become ready"
GUEST_ID=g1 GUEST_QEMU_ARGS="-monitor unix:$XV_TMP/dst.mon,server,nowait -incoming tcp:127.0.0.1:$PORT" \
	guest_start "$TAP2" "$MAC" "$GUEST_IP/24" "$XV_TMP/dst.log"
DST=$GUEST_PID
wait_until 10 test -S "$XV_TMP/dst.mon" || fail "destination QEMU: $(cat "$XV_TMP/dst.log.qemu")"
probe_from_wire "$GUEST_IP" -n 5 -r 50 -t 3000 -m 5 -i g1 >/dev/null || fail "no echo from the source guest"

# the wire's view of the announce: RARP (0x8035) from the guest's MAC
wire_rarp_watch "$XV_TMP/rarp.txt"
# frames xvnet handed to the VM's ports, and frames its readers took:
# every frame that reached xvnet must be read by one QEMU or the other
# (a frame the source left queued would be freed with its queue unread)
handed() { xvctl -j stats g1 | jq -r "$XV_JQ_PY"' .["counters"]["delivered"] | py'; }
taken() { echo $(( $(cat /sys/class/net/$TAP1/statistics/tx_packets) + $(cat /sys/class/net/$TAP2/statistics/tx_packets) )); }
# unicast only from here: the wire's neighbour entry for the guest is
# fixed, so no ARP broadcast (a flood copy, not in `delivered`) joins in
ip -n "$W" neigh replace "$GUEST_IP" lladdr "$MAC" dev "$WIRE" nud permanent
H0=$(handed) T0=$(taken)
bg_start "$XV_TMP/echo.json" ip netns exec "$W" python3 "$XV_ROOT/selftests/lib/echo_stream.py" \
	"$GUEST_IP" "$GUEST_PORT" "$RATE" 20
ECHO=$BG_PID
sleep 2
python3 "$XV_ROOT/selftests/lib/migrate.py" "$XV_TMP/src.mon" "$XV_TMP/dst.mon" "$PORT" g1 "$TAP2" \
	"$XVD_SOCK" "$XV_BIN/xvnetctl" -s "$XVD_SOCK" >"$XV_TMP/mig.json" 2>"$XV_TMP/mig.err" ||
	fail "migration: $(cat "$XV_TMP/mig.err")"
wait_until 30 _xv_dead "$ECHO" || fail "echo stream still running"
cat "$XV_TMP/mig.json"
wait_until 5 _xv_dead "$SRC" || fail "the source QEMU did not quit"
RESCUED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["switch"]["rescued"])' "$XV_TMP/mig.json")
OWN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["switch"]["rescued_own"])' "$XV_TMP/mig.json")
# the rescued frames were read twice: by xvnetd from the source's queue
# and by the destination's QEMU; the guest's own broadcasts (its announce,
# flooded to its old port too while both were attached) were read by
# xvnetd there and not sent on: they are no frame xvnet delivered
unread() { echo $(( $(handed) - H0 - ($(taken) - T0 - RESCUED - OWN) )); }
wait_until 3 sh -c "[ $(unread) -le 0 ]" || true
UNREAD=$(unread)
DROPS=$(( $(cat /sys/class/net/$TAP1/statistics/tx_dropped) + $(cat /sys/class/net/$TAP2/statistics/tx_dropped) ))
log "xvnet handed $(( $(handed) - H0 )) frames to g1's taps, QEMU read $(( $(taken) - T0 - RESCUED - OWN )) (+$RESCUED moved on from the source's queue, $OWN of the guest's own not sent back), $UNREAD never read, $DROPS dropped at the taps"
[ "$UNREAD" = 0 ] && [ "$DROPS" = 0 ] || {
	guest_migration_crash migration "$XV_TMP/dst.log"
	fail "$UNREAD frames that reached xvnet were never read by a QEMU, $DROPS dropped at a tap"
}

[ "$(xvctl -j vm show g1 | jq -r "$XV_JQ_PY"' .["ifname"] | py')" = "$TAP2" ] ||
	fail "vm show does not name the destination's tap"
tc filter show dev "$TAP1" ingress 2>/dev/null | grep -q vm_flood && fail "the source's tap is still attached"
ip -d link show dev "$TAP1" | grep -q 'prog/xdp' && fail "vm_tx still on the source's tap"
probe_from_wire "$GUEST_IP" -n 20 -r 100 -t 3000 -m 20 -i g1 >/dev/null || {
	guest_migration_crash migration "$XV_TMP/dst.log"
	fail "no echo from the destination guest"
}
python3 "$XV_ROOT/selftests/lib/migrate_figures.py" "$XV_TMP/mig.json" "$XV_TMP/echo.json" \
	>"$XV_TMP/figures.txt" || fail "migration figures: $(cat "$XV_TMP/figures.txt")"
cat "$XV_TMP/figures.txt" >&2
rarps=$(grep -ci "^$MAC" "$XV_TMP/rarp.txt" || true)
log "announce: $rarps RARP frames from $MAC reached the wire after the migration"
pass "live migration with vm move --prepare/--switch: $(grep ^BLACKOUT "$XV_TMP/figures.txt") RESCUED=$RESCUED; all frames that reached xvnet read by a QEMU"
