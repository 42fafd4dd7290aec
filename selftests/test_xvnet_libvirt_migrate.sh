#!/usr/bin/env bash
# A libvirt live migration between two libvirt daemons on this host, the
# guest's xvnet port moved with it by the shipped hook alone
# (scripts/libvirt-hook-qemu, docs/vmm.md, docs/dnis.md):
#  - the destination's `migrate begin` prepares the VM's move to the
#    destination's tap (made by xvnetd), its `prepare begin` accepts it;
#  - the hook's watcher (--watch, on the source's daemon) switches the move
#    when the source pauses for the last copy ("Suspended Migrated");
#  - (by hand first) the destination released before the switch aborts;
#  - the source's release leaves the VM alone (it is on the new tap), its
#    tap is deleted once its QEMU lets go; the destination's release at the
#    end removes the VM.
# Under a UDP echo stream from the wire: the replies go on from the
# destination, the blackout and the losses are reported.
# libvirt refuses a migration to "the same host" by host UUID: the second
# daemon (selftests/lib/libvirt.sh libvirt_start_peer) has its own, and its
# own state, as another host would.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"
# shellcheck source=selftests/lib/libvirt.sh
. "$(dirname "$0")/lib/libvirt.sh"

xvnet_require
guest_require
libvirt_require

TAPA=$(xv_name lma)
TAPB=$(xv_name lmb)
DOM="${XV_PREFIX}mig"
VM="${XV_PREFIX}mvm"
MAC=$(guest_mac 8)
GUEST_IP=10.77.0.61
PORT=$((20000 + ($$ + 7) % 20000))
RATE=${MIGRATE_RATE:-1000}

xv_topology
xvnetd_start
libvirt_hook_setup

libvirt_tap_domain "$DOM" "$VM" "$TAPA" "$MAC" "$GUEST_IP" "$XV_TMP/guest.log" >"$XV_TMP/dom.xml"

dom_gone() {
	V destroy "$DOM" >/dev/null 2>&1
	[ -n "${PEER_URI:-}" ] && PV destroy "$DOM" >/dev/null 2>&1
	rm -f "/var/log/libvirt/qemu/$DOM.log"
}

libvirt_start "$XV_TMP/hooks"
libvirt_start_peer "$XV_TMP/hooks"
cleanup_add dom_gone

t0=$(date +%s%N)
V create "$XV_TMP/dom.xml" >/dev/null 2>"$XV_TMP/start.err" ||
	fail "virsh create: $(cat "$XV_TMP/start.err"); hook: $(cat "$XV_TMP/hook.log")"
log "virsh create took $(elapsed_ms "$t0") ms"
SRC=$(cat "/run/libvirt/qemu/$DOM.pid" 2>/dev/null)
[ -n "$SRC" ] || fail "no pid file for $DOM"
guest_wait_ready "$XV_TMP/guest.log" 90 "$SRC" || fail "the guest did not become ready"
probe_from_wire "$GUEST_IP" -n 5 -r 50 -t 3000 -m 5 -i "$DOM" >/dev/null || fail "no echo from the guest on $TAPA"

# the destination: the same domain on its own tap and serial log
V dumpxml --migratable "$DOM" | sed -e "s/$TAPA/$TAPB/g" -e "s|$XV_TMP/guest.log|$XV_TMP/guest-b.log|" \
	>"$XV_TMP/dom-b.xml"
# the hook by hand first, as the destination runs it for a migration that
# fails before the switch: migrate begin prepares, release aborts
hookb() { XVNET_HOOK_CONF=$HOOK_CONF "$HOOK" "$DOM" "$@" - <"$XV_TMP/dom-b.xml"; }
hookb migrate begin || fail "hook migrate begin: $(tail -3 "$XV_TMP/hook.log")"
xvctl vm show "$VM" | grep -q "moving to tap $TAPB (prepared)" || fail "no prepared move: $(xvctl vm show "$VM")"
ip link show dev "$TAPB" >/dev/null 2>&1 || fail "the prepared move made no $TAPB"
hookb prepare begin || fail "hook prepare on the prepared destination: $(tail -3 "$XV_TMP/hook.log")"
hookb release end || fail "hook release (destination)"
grep -q "VM $VM: move to tap $TAPB aborted (the incoming domain is released)" "$XV_TMP/hook.log" ||
	fail "release of the destination did not abort: $(cat "$XV_TMP/hook.log")"
[ "$(vm_field "$VM" ifname)" = "$TAPA" ] && [ "$(vm_field "$VM" move)" = None ] || fail "after the abort: $(xvctl vm show "$VM")"
ip link show dev "$TAPB" >/dev/null 2>&1 && fail "the abort left $TAPB"
probe_from_wire "$GUEST_IP" -n 5 -r 50 -t 3000 -m 5 -i "$DOM" >/dev/null || fail "no echo after the aborted move"
log "hook by hand: the destination's migrate begin prepared the move to $TAPB, its release aborted it (the VM on $TAPA answers)"

# the watcher, as its service runs it, on the source's daemon
bg_start "$XV_TMP/watch.log" env XVNET_HOOK_CONF="$HOOK_CONF" "$HOOK" --watch qemu:///system
WATCH=$BG_PID
cleanup_add proc_stop "$WATCH"
wait_until 10 grep -q "watching" "$XV_TMP/watch.log" || fail "the watcher did not start: $(cat "$XV_TMP/watch.log")"

ip -n "$W" neigh replace "$GUEST_IP" lladdr "$MAC" dev "$WIRE" nud permanent
bg_start "$XV_TMP/echo.json" ip netns exec "$W" python3 "$XV_ROOT/selftests/lib/echo_stream.py" \
	"$GUEST_IP" "$GUEST_PORT" "$RATE" 10
ECHO=$BG_PID
sleep 2
: >"$XV_TMP/hook.log"
t0=$(date +%s%N)
virsh -q -c qemu:///system migrate --live "$DOM" "$PEER_URI" --migrateuri "tcp://127.0.0.1:$PORT" \
	--xml "$XV_TMP/dom-b.xml" >"$XV_TMP/mig.out" 2>&1 ||
	fail "virsh migrate: $(cat "$XV_TMP/mig.out"); hook: $(cat "$XV_TMP/hook.log")"
mig_ms=$(elapsed_ms "$t0")
log "virsh migrate took $mig_ms ms; hook: $(tr '\n' ' ' <"$XV_TMP/hook.log")"
PV domstate "$DOM" | grep -q running || fail "the domain is not running on the destination: $(PV domstate "$DOM")"
V list --name | grep -qx "$DOM" && fail "the domain still runs on the source"
grep -q "VM $VM: incoming migration, move from tap $TAPA to tap $TAPB prepared" "$XV_TMP/hook.log" ||
	fail "the destination's migrate hook did not prepare the move: $(cat "$XV_TMP/hook.log")"
grep -q "VM $VM: its source paused for the migration's last copy: switched to tap $TAPB" "$XV_TMP/hook.log" ||
	fail "the watcher did not switch at the pause: $(cat "$XV_TMP/hook.log") $(cat "$XV_TMP/watch.log")"
[ "$(vm_field "$VM" ifname)" = "$TAPB" ] || fail "vm show names $(vm_field "$VM" ifname), not the destination's $TAPB"
[ "$(vm_field "$VM" move)" = None ] || fail "a move is still pending: $(vm_field "$VM" move)"
wait_until 10 sh -c "! ip link show dev $TAPA >/dev/null 2>&1" ||
	fail "the source's tap $TAPA outlived its QEMU"
wait_until 30 _xv_dead "$ECHO" || fail "echo stream still running"
read -r SENT REPLIES LOST BLACKOUT <<<"$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))
print(e["sent"], e["replies"], e["lost"], round(e["blackout_ms"], 1))' "$XV_TMP/echo.json")"
log "echo stream: $SENT sent, $REPLIES replies, $LOST lost; longest silence ${BLACKOUT} ms"
if [ "$REPLIES" -le $((SENT / 2)) ]; then
	# libvirt gives QEMU whole MiB of RAM, so this guest cannot dodge QEMU
	# 7.2's TCG lost-dirty-bit fault as guest_start's do (selftests/lib/guest.sh):
	# a crash on the destination is named as such
	guest_migration_crash "libvirt migration" "$XV_TMP/guest-b.log"
	fail "most of the stream was lost ($LOST of $SENT; no crash on the destination's console): $(tail -n 5 "$XV_TMP/guest-b.log" | tr '\n' ' ')"
fi
probe_from_wire "$GUEST_IP" -n 20 -r 100 -t 3000 -m 20 -i "$DOM" >/dev/null || fail "no echo from the destination guest"

# the end of the domain on the destination: the VM goes with it
: >"$XV_TMP/hook.log"
PV destroy "$DOM" >/dev/null || fail "virsh destroy on the destination"
wait_until 10 grep -q "VM $VM removed (tap $TAPB)" "$XV_TMP/hook.log" ||
	fail "the destination's release did not remove the VM: $(cat "$XV_TMP/hook.log")"
ip link show dev "$TAPB" >/dev/null 2>&1 && fail "tap $TAPB still exists"
proc_stop "$WATCH"
libvirt_stop_peer
libvirt_stop
rm -f "/var/log/libvirt/qemu/$DOM.log"
pass "libvirt live migration between two daemons, the port moved by the hook (prepare at migrate begin, switch at the source's pause): migrate ${mig_ms} ms, $LOST of $SENT echoes lost, longest silence ${BLACKOUT} ms"
