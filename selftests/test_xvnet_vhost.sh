#!/usr/bin/env bash
# A real guest on an xsk VM through the vhost-user back-end: xvnetd makes
# the VM's AF_XDP sockets, xvnet-vhost takes them (xsk.get) and serves a
# vhost-user-net socket, QEMU (TCG, shared memfd RAM) boots the test guest
# on it.  UDP from the wire reaches the guest's application through nic_rx
# -> AF_XDP -> the guest's RX virtqueue (ARP through the side socket), its
# replies go guest TX virtqueue -> side socket -> vm_tx -> NIC.  Then QEMU
# is restarted on the same back-end (the VM's sockets are kept) and answers
# again.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-vhost
guest_require

MAC=$(guest_mac 1)
GUEST_IP=10.77.0.51
SOCK=$XV_TMP/vhost.sock
STATS=$XV_TMP/vhost.stats
N=20
# Debian 12's QEMU 7.2 under TCG crashes in vhost_net_start ->
# msix_set_vector_notifiers when the guest enables a vhost-user NIC's MSI-X
# vectors (docs/vhost-user.md): the NIC uses INTx here
export GUEST_DEVICE_OPTS=vectors=0

xv_topology
xvnetd_start
xvctl vm add vg1 --mac "$MAC" --port xsk --ifname "$(xv_name pvg)" --ip "$GUEST_IP" ||
	fail "vm add (xsk) refused"

bg_start "$XV_TMP/vhost.log" "$XV_BIN/xvnet-vhost" -s "$XVD_SOCK" --vm vg1 \
	--vhost-socket "$SOCK" --stats "$STATS"
VHOST_PID=$BG_PID
wait_until 10 grep -q XVNET-VHOST-READY "$XV_TMP/vhost.log" ||
	fail "xvnet-vhost did not start: $(tail -3 "$XV_TMP/vhost.log")"

# vstat FIELD: a counter from the back-end's stats file
vstat() { awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' "$STATS"; }

# boot_and_echo WHAT: boot the guest on the back-end, N UDP round trips
boot_and_echo() {
	local what=$1 out rx0 tx0 d0 u0 rx tx delivered uplinked
	GUEST_ID=vg1 GUEST_VHOST=$SOCK guest_start "" "$MAC" "$GUEST_IP/24" "$XV_TMP/guest-$what.log"
	guest_wait_ready "$XV_TMP/guest-$what.log" 90 || fail "$what: guest did not become ready"
	rx0=$(vstat rx); tx0=$(vstat tx); d0=$(vm_queue_packets vg1); u0=$(xv_counter tx_uplink)
	out=$(probe_from_wire "$GUEST_IP" -n $N -r 50 -t 3000 -m $N -i vg1) || {
		cat "$STATS" >&2; tail -5 "$XV_TMP/vhost.log" >&2
		fail "$what: expected $N echo replies from the guest application: ${out:-no output}"
	}
	sleep 0.2       # the stats file is rewritten every 100 ms
	rx=$(( $(vstat rx) - rx0 )); tx=$(( $(vstat tx) - tx0 ))
	delivered=$(( $(vm_queue_packets vg1) - d0 ))
	uplinked=$(( $(xv_counter tx_uplink) - u0 ))
	[ "$rx" -ge $N ] || fail "$what: the back-end put only $rx frames into the guest"
	[ "$tx" -ge $N ] || fail "$what: the back-end took only $tx frames from the guest"
	[ "$delivered" -ge $N ] || fail "$what: nic_rx delivered only $delivered frames to the VM's sockets"
	[ "$uplinked" -ge $N ] || fail "$what: vm_tx sent only $uplinked of the guest's frames out of the NIC"
	log "$what: $out; back-end rx $rx tx $tx; nic_rx delivered $delivered, vm_tx uplinked $uplinked"
	RESULT="$out"
}

boot_and_echo first
# a VMM restart: the back-end and the VM's AF_XDP sockets stay
guest_stop "$GUEST_PID"
wait_until 5 grep -q "connected 0" "$STATS" || fail "the back-end did not see QEMU go"
boot_and_echo restarted
[ "$(vstat connections)" -ge 2 ] || fail "expected 2 connections, stats: $(cat "$STATS")"
proc_stop "$VHOST_PID"
pass "guest on an xsk VM through xvnet-vhost (vhost-user): $RESULT; again after a QEMU restart"
