# shellcheck shell=bash
# xvnet topology for the selftests (source after common.sh).
#
#   namespace W: $WIRE (10.77.0.1/24) == veth == $NIC (root namespace, xvnetd)
#   VM namespaces: veth ports made by xvnetd, far end eth0 in the namespace
#
#   xv_topology                 W, the wire veth pair, the NIC
#   xvnetd_start [CONF-LINES]   xvnetd on $NIC with a private config, state
#                               directory and socket; the admin's config
#                               $XVD_CONF is never written, what requests
#                               change is in $XVD_STATE
#   xvnetd_stop [--teardown]    SIGTERM (pins stay) or a full teardown
#   xvctl ARGS...               xvnetctl on this test's socket
#   xvd_answers                 xvnetd answers status (healthy or degraded)
#   vm_ns_add NAME MAC IP/PFX [xvnetctl vm add options]
#                               a veth VM in its own namespace, udp_echo on
#                               $GUEST_PORT answering with id NAME; IP is
#                               its source address (vm add --ip IP)
#   xv_counter NAME             a datapath counter from `xvnetctl -j stats`
#   vm_queue_packets VM         packets delivered to VM (all queues)
#
# Each test's xvnetd pins under its own directory ($XVD_PIN), so tests
# never touch a real xvnetd's /sys/fs/bpf/xvnet.

[ -n "${XV_XVNET_SH:-}" ] && return 0
XV_XVNET_SH=1

W=$(xv_name w)
WIRE=$(xv_name wire)
NIC=$(xv_name nic)
WIRE_IP=10.77.0.1
XVD_CONF=$XV_TMP/xvnetd.conf
XVD_SOCK=$XV_TMP/xvnetd.sock
XVD_STATE_DIR=$XV_TMP/state
# shellcheck disable=SC2034  # the tests read what requests persisted here
XVD_STATE=$XVD_STATE_DIR/xvnetd.state
XVD_PID=
# each test its own pin directory, so tests (and a real xvnetd) coexist
XVD_PIN=${XVD_PIN:-/sys/fs/bpf/${XV_PREFIX}pins}
GUEST_PORT=${GUEST_PORT:-7777}
ECHO_BIN="$XV_BUILD/guest/udp_echo"
PROBE_BIN="$XV_BUILD/guest/udp_probe"
# Debian's python3-scapy is for Debian's interpreter, not whatever is on PATH
SCAPY_PY=/usr/bin/python3

xvnet_require() {
	require_root
	require_bin xvnetd xvnetctl xvnet-trafgen
	require_cmd ethtool python3 jq
	"$SCAPY_PY" -c 'import scapy' 2>/dev/null || skip "python3-scapy missing (make deps)"
	if [ ! -x "$ECHO_BIN" ] || [ ! -x "$PROBE_BIN" ]; then
		bash "$XV_ROOT/selftests/guest/build-guest.sh" --tools-only >/dev/null 2>&1 ||
			bash "$XV_ROOT/selftests/guest/build-guest.sh" >/dev/null 2>&1 ||
			fail "cannot build udp_echo/udp_probe"
	fi
	if [ "$XVD_PIN" = /sys/fs/bpf/xvnet ] && [ -e /sys/fs/bpf/xvnet ]; then
		skip "/sys/fs/bpf/xvnet is in use (an xvnetd runs here)"
	fi
}

xv_topology() {
	ns_create "$W"
	veth_create "$WIRE" "$NIC" "$W" ""
	addr_add "$WIRE" "$WIRE_IP/24" "$W"
	# frames xvnetd redirects out of the NIC reach W only if $WIRE runs NAPI
	ip netns exec "$W" ethtool -K "$WIRE" gro on >/dev/null
	# a real NIC delivers complete checksums; a veth would leave them to do,
	# and XDP frames carry no such mark
	ip netns exec "$W" ethtool -K "$WIRE" tx off >/dev/null
	ip netns exec "$W" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

xvnetd_start() {
	local line
	printf 'nic %s\n' "$NIC" >"$XVD_CONF"
	for line in "$@"; do
		printf '%s\n' "$line" >>"$XVD_CONF"
	done
	_xvnetd_launch
	cleanup_add _xvnetd_teardown
}

_xvnetd_launch() {
	bg_start "$XV_TMP/xvnetd.log" "$XV_BIN/xvnetd" --foreground --log-level debug \
		--config "$XVD_CONF" --state-dir "$XVD_STATE_DIR" --socket "$XVD_SOCK" \
		--pin-dir "$XVD_PIN" ${XVD_OPTS:-}
	XVD_PID=$BG_PID
	wait_until 20 xvd_answers || fail "xvnetd did not start: $(tail -5 "$XV_TMP/xvnetd.log")"
}

xvnetd_restart() {
	proc_stop "$XVD_PID"
	_xvnetd_launch
}

_xvnetd_teardown() {
	[ -n "$XVD_PID" ] && proc_stop "$XVD_PID"
	"$XV_BIN/xvnetd" --teardown --config "$XVD_CONF" --state-dir "$XVD_STATE_DIR" \
		--socket "$XVD_SOCK" --pin-dir "$XVD_PIN" >/dev/null 2>&1
}

xvctl() { "$XV_BIN/xvnetctl" -s "$XVD_SOCK" "$@"; }
# xvd_answers: xvnetd answers `status`, healthy (0) or degraded (3)
xvd_answers() {
	local rc=0
	xvctl status >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
}

# vm_ns_add NAME MAC IP/PFX [vm add options]: namespace + veth port + echo
vm_ns_add() {
	local name=$1 mac=$2 ip=$3; shift 3
	local ns
	ns=$(xv_name "$name")
	ns_create "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	xvctl vm add "$name" --mac "$mac" --port veth --netns "$ns" --ifname "$(vm_port "$name")" --ip "${ip%/*}" "$@" ||
		fail "vm add $name refused"
	addr_add eth0 "$ip" "$ns"
	bg_start "$XV_TMP/echo-$name.log" ip netns exec "$ns" "$ECHO_BIN" "$GUEST_PORT" "$name"
	wait_until 5 grep -q XVNET-GUEST-READY "$XV_TMP/echo-$name.log" ||
		fail "udp_echo in $ns did not start"
}

vm_ns() { xv_name "$1"; }
# vm_field VM FIELD: a field of `xvnetctl -j vm show VM` (None when absent)
vm_field() {
	xvctl -j vm show "$1" | jq -r --arg f "$2" "$XV_JQ_PY"' .[$f] | py'
}
# vm_port NAME: the host end of VM NAME's veth (prefixed: tests never clash)
vm_port() { xv_name "p$1"; }

# probe_from_wire IP [udp_probe options]
probe_from_wire() {
	local ip=$1; shift
	ip netns exec "$W" "$PROBE_BIN" "$@" "$ip" "$GUEST_PORT"
}

xv_counter() {
	xvctl -j stats | jq -r --arg k "$1" \
		'(if has("counters") then .counters else . end) as $c |
		 if ($c | type) == "object" then $c[$k] // 0 else 0 end'
}

vm_queue_packets() {
	xvctl -j stats "$1" | jq '[(.vms // [])[] | (.queues // [])[] | .packets // 0] | add // 0'
}

# vm_rxq VM: "q0 q1 ...", xvnet's per-queue delivery counters of VM
vm_rxq() {
	xvctl -j stats "$1" | jq -r '[.vms[0].queues[].packets | tostring] | join(" ")'
}

# xv_feature NAME: true when the data path may use kernel feature NAME here
# (xvnetd --probe: present and not disabled by XVNET_WITHOUT)
xv_feature() {
	"$XV_BIN/xvnetd" --probe 2>/dev/null | awk -v f="$1" '$1 == f { ok = ($2 == "yes") } END { exit !ok }'
}

# trafgen_from_wire ARGS...: xvnet-trafgen out of $WIRE; prints its JSON
trafgen_from_wire() {
	ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --json "$@"
}

# eui64 PREFIX MAC: the modified EUI-64 address in PREFIX, as the kernel
# forms a stock guest's link-local or SLAAC address
eui64() {
	"$SCAPY_PY" -c '
import ipaddress, sys
m = bytes.fromhex(sys.argv[2].replace(":", ""))
iid = bytes([m[0] ^ 2]) + m[1:3] + b"\xff\xfe" + m[3:]
net = ipaddress.IPv6Network(sys.argv[1])
print(ipaddress.IPv6Address(int(net.network_address) | int.from_bytes(iid, "big")))' "$1" "$2"
}

# wire_ipv6: the wire (xv_topology turns its IPv6 off) speaks IPv6 with
# fd00:77::1/64 and its link-local; sets WMAC and WLL (the link-local)
wire_ipv6() {
	ip netns exec "$W" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		"net.ipv6.conf.$WIRE.accept_dad=0" "net.ipv6.conf.$WIRE.disable_ipv6=0"
	ip -n "$W" -6 addr add fd00:77::1/64 dev "$WIRE" nodad
	WMAC=$(if_mac "$WIRE" "$W")
	wait_until 5 sh -c "ip -n $W -6 addr show dev $WIRE scope link | grep -q inet6" ||
		fail "the wire has no link-local address"
	WLL=$(ip -n "$W" -6 addr show dev "$WIRE" scope link | awk '/inet6/{print $2}' | cut -d/ -f1)
}

# wire_rarp_watch FILE: from now on, the source MAC of every RARP (0x8035)
# frame the wire receives, one per line in FILE (a migration's announce)
wire_rarp_watch() {
	bg_start "$1" ip netns exec "$W" python3 -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x8035))
s.bind((sys.argv[1], 0))
while True:
    f = s.recv(2048)
    print(":".join("%02x" % b for b in f[6:12]), flush=True)' "$WIRE"
}
