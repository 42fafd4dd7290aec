#!/usr/bin/env bash
# A real guest on an xvnetd tap port: QEMU (TCG) boots a Debian cloud kernel
# with virtio-net on the tap xvnetd created; UDP from the wire namespace
# reaches the guest's application through nic_rx (ARP through nic_flood) and
# its replies come back through vm_tx and out of the NIC.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
guest_require

TAP=$(xv_name gtap)
MAC=$(guest_mac 1)
GUEST_IP=10.77.0.50
N=20

xv_topology
xvnetd_start
xvctl vm add guest1 --mac "$MAC" --port tap --ifname "$TAP" --ip "$GUEST_IP" || fail "vm add (tap) refused"
xvctl vm show guest1 | grep -q "$TAP" || fail "vm show does not name the tap"

GUEST_ID=guest1 guest_start "$TAP" "$MAC" "$GUEST_IP/24" "$XV_TMP/guest.log"
guest_wait_ready "$XV_TMP/guest.log" 90 || fail "guest did not become ready"

d0=$(vm_queue_packets guest1); u0=$(xv_counter tx_uplink)
out=$(probe_from_wire "$GUEST_IP" -n $N -r 50 -t 3000 -m $N -i guest1) ||
	{ xvctl stats | grep -v " 0$"; ip -s link show $TAP; ip -d link show $TAP | head -3; fail "expected $N echo replies from the guest application: ${out:-no output}"; }
log "$out"
delivered=$(( $(vm_queue_packets guest1) - d0 ))
uplinked=$(( $(xv_counter tx_uplink) - u0 ))
[ "$delivered" -ge $N ] || fail "nic_rx delivered only $delivered frames to the guest's tap"
[ "$uplinked" -ge $N ] || fail "vm_tx sent only $uplinked of the guest's frames out of the NIC"
pass "guest on an xvnetd tap: $out; nic_rx delivered $delivered, vm_tx sent $uplinked"
