#!/usr/bin/env bash
# The real-guest pipeline without xvnet: a QEMU guest on a tap, bridged (a
# Linux bridge made here) to a veth whose other end is in a test namespace.
# UDP from the namespace must come back from the guest's udp_echo (an
# application-level reply, not ping).
#
#   ns (10.200.0.1/24) vn ==veth== vh --[bridge br]-- tap == QEMU guest (10.200.0.2/24)
#
# Everything (namespace, bridge, veth, tap, qemu) is removed at exit.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"

guest_require

NS=$(xv_name ns)
BR=$(xv_name br)
TAP=$(xv_name tap)
VH=$(xv_name vh)
VN=$(xv_name vn)
HOST_IP=10.200.0.1
GUEST_IP=10.200.0.2
MAC=$(guest_mac 1)
N=20

ns_create "$NS"
bridge_create "$BR"
tap_create "$TAP"
veth_create "$VH" "$VN" "" "$NS"
bridge_add "$BR" "$TAP"
bridge_add "$BR" "$VH"
addr_add "$VN" "$HOST_IP/24" "$NS"

t0=$(date +%s%N)
GUEST_ID=smoke guest_start "$TAP" "$MAC" "$GUEST_IP/24" "$XV_TMP/guest.log"
guest_wait_ready "$XV_TMP/guest.log" 90 || fail "guest did not become ready"
boot_ms=$(elapsed_ms "$t0")

tap_tx0=$(if_tx_packets "$TAP")
t1=$(date +%s%N)
out=$(guest_probe "$NS" "$GUEST_IP" -n $N -r 50 -t 3000 -m $N -i smoke) ||
	fail "expected $N echo replies from the guest application: ${out:-no output}"
rtt_ms=$(elapsed_ms "$t1")
log "$out"
tap_tx=$(( $(if_tx_packets "$TAP") - tap_tx0 ))
[ "$tap_tx" -ge $N ] || fail "tap $TAP sent only $tap_tx packets to the guest, expected >= $N"

# A datagram to a port nobody serves gets no echo: the replies above came
# from udp_echo, not from something answering everything.
GUEST_PORT=7778 guest_probe "$NS" "$GUEST_IP" -n 2 -t 500 -m 1 -q >/dev/null &&
	fail "a reply came from port 7778, where no echo server runs"

pass "guest ready in ${boot_ms} ms; $N/$N UDP echo replies in ${rtt_ms} ms ($out)"
