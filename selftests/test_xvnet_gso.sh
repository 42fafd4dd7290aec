#!/usr/bin/env bash
# A guest's TSO super-frames and partial checksums, written into an xvnet
# tap the way QEMU writes them (virtio_net_hdr + an 8054-byte frame, GSO
# TCPv4, gso_size 1448), go on at the skb level (bpf/skbfwd.h) on every path:
#  - to the wire: every payload byte arrives, tagged on a VLAN VM's way;
#  - to another tap VM whose reader takes TSO: the super-frames intact
#    (GSO kept, 8054 bytes); whose reader does not: segmented by the
#    kernel, <= 1514 bytes each, every byte there;
#  - to a veth VM and to an xsk VM (segmented for the side veth's XDP);
#  - broadcast (vm_flood's clones): all of the above at once, and the wire;
#  - counted: tx_skb per VM and in total, tx_uplink / tx_local; no drop.
# Small frames keep the XDP redirect (tx_skb does not move for them).
# Redirects that fail after XDP returned are counted per VM and reason: over
# a veth port's MTU (EMSGSIZE), into a tap no VMM holds (ENXIO), into a held
# tap whose ring is full (ENOBUFS, the driver took fewer).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_cmd python3 tcpdump
require_bin xvnet-xskdump
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

N=3 PAYLOAD=8000 MSS=1448
WANT=$((N * PAYLOAD))
MAC_G=02:00:00:00:72:01 MAC_V=02:00:00:00:72:02 MAC_T=02:00:00:00:72:03
MAC_E=02:00:00:00:72:04 MAC_X=02:00:00:00:72:05
GT=$(xv_name gg) VT=$(xv_name gv) TT=$(xv_name gt) TT2=$(xv_name gt2)

xv_topology
xvnetd_start
xvctl vm add g --mac $MAC_G --port tap --ifname "$GT" --ip 10.77.0.72 || fail "vm add g"
xvctl vm add gv --mac $MAC_V --vlan 10 --port tap --ifname "$VT" --ip 10.77.0.73 || fail "vm add gv"
xvctl vm add t --mac $MAC_T --port tap --ifname "$TT" || fail "vm add t"
xvctl vm add t2 --mac 02:00:00:00:72:06 --port tap --ifname "$TT2" || fail "vm add t2"
vm_ns_add e $MAC_E 10.77.0.74/24
xvctl vm add x --mac $MAC_X --port xsk --ifname "$(xv_name px)" --ip 10.77.0.75 ||
	fail "vm add x (xsk)"

send() { # TAP SRC_MAC DST_MAC SRC_IP [PAYLOAD COUNT]
	python3 "$XV_ROOT/selftests/lib/tap_gso.py" "$1" "$2" "$3" "$4" 10.77.0.1 5001 \
		"${5:-$PAYLOAD}" "${6:-$N}" $MSS >/dev/null || fail "writing into tap $1 failed"
}
payload_of() { # PCAP [VLAN]: TCP payload bytes captured
	tcpdump -enr "$1" 2>/dev/null | grep -E "${2:+vlan $2, .*}> 10\.77\.0\.1\.5001: " |
		sed -nE 's/.*, length ([0-9]+)$/\1/p' | awk '{s += $1} END {print s + 0}'
}
capture() { # NS DEV PCAP: tcpdump in the background; CAP_PID
	bg_start "$XV_TMP/tcpdump-$2.log" ip netns exec "$1" tcpdump -U -ni "$2" -w "$3" tcp port 5001
	CAP_PID=$BG_PID
	wait_until 5 grep -q "listening on" "$XV_TMP/tcpdump-$2.log" || fail "tcpdump on $2"
}
vm_skb() { xvctl -j stats "$1" | jq -r "$XV_JQ_PY"' .["vms"][0]["egress"]["tx_skb"] | py'; }

# ---- to the wire: untagged, and tagged for the VLAN VM --------------------------
capture "$W" "$WIRE" "$XV_TMP/wire.pcap"
u0=$(xv_counter tx_uplink); s0=$(xv_counter tx_skb)
send "$GT" $MAC_G 02:00:00:00:ff:99 10.77.0.72
send "$VT" $MAC_V 02:00:00:00:ff:99 10.77.0.73
wait_until 5 eval '[ "$(payload_of "$XV_TMP/wire.pcap")" -ge $((2 * WANT)) ]'
proc_stop "$CAP_PID"
got=$(payload_of "$XV_TMP/wire.pcap"); tagged=$(payload_of "$XV_TMP/wire.pcap" 10)
[ "$got" = $((2 * WANT)) ] ||
	{ xvctl stats | grep -v " 0$"; fail "wire: $got of $((2 * WANT)) TCP payload bytes"; }
[ "$tagged" = "$WANT" ] || fail "wire: $tagged bytes tagged VLAN 10, expected $WANT"
[ $(( $(xv_counter tx_uplink) - u0 )) = $((2 * N)) ] || fail "tx_uplink +$(( $(xv_counter tx_uplink) - u0 )), expected $((2 * N))"
[ $(( $(xv_counter tx_skb) - s0 )) = $((2 * N)) ] || fail "tx_skb +$(( $(xv_counter tx_skb) - s0 ))"
[ "$(vm_skb g)" = $N ] || fail "vm g: tx_skb $(vm_skb g), expected $N"
log "wire: $N super-frames each from g (untagged) and gv (VLAN 10): $got payload bytes, tx_skb +$((2 * N))"

# ---- small frames keep the XDP redirect ---------------------------------------------
s0=$(xv_counter tx_skb); u0=$(xv_counter tx_uplink)
send "$GT" $MAC_G 02:00:00:00:ff:99 10.77.0.72 1000 5
wait_until 5 eval '[ $(( $(xv_counter tx_uplink) - u0 )) -ge 5 ]' || fail "5 small frames did not go out"
[ "$(xv_counter tx_skb)" = "$s0" ] || fail "small frames went through tc (tx_skb moved)"

# ---- to a tap VM: a reader with TSO gets them whole, one without, segmented ----
tap_read() { # TAP OFFLOAD OUT
	bg_start "$XV_TMP/read-$1.log" python3 "$XV_ROOT/selftests/lib/tap_read.py" "$1" 4 "$2" "$3"
	wait_until 5 grep -q ready "$XV_TMP/read-$1.log" || fail "tap reader on $1: $(cat "$XV_TMP/read-$1.log")"
}
l0=$(xv_counter tx_local)
tap_read "$TT" tso "$XV_TMP/t.out"
tap_read "$TT2" none "$XV_TMP/t2.out"
send "$GT" $MAC_G $MAC_T 10.77.0.72
send "$GT" $MAC_G 02:00:00:00:72:06 10.77.0.72
wait_until 8 test -s "$XV_TMP/t.out" -a -s "$XV_TMP/t2.out" || fail "tap readers did not finish"
read -r _ fr _ gso _ pl _ mx <"$XV_TMP/t.out"
[ "$pl" = $WANT ] && [ "$gso" = $N ] && [ "$mx" = 8054 ] ||
	fail "tap reader with TSO: $(cat "$XV_TMP/t.out") (want $N GSO frames of 8054 bytes, $WANT payload)"
log "tap VM, reader with TSO: $(cat "$XV_TMP/t.out")"
read -r _ fr _ gso _ pl _ mx <"$XV_TMP/t2.out"
[ "$pl" = $WANT ] && [ "$gso" = 0 ] && [ "$mx" -le 1514 ] && [ "$fr" -ge $((N * 6)) ] ||
	fail "tap reader without TSO: $(cat "$XV_TMP/t2.out") (want segments <= 1514 bytes, $WANT payload)"
log "tap VM, reader without TSO: $(cat "$XV_TMP/t2.out")"
[ $(( $(xv_counter tx_local) - l0 )) = $((2 * N)) ] || fail "tx_local +$(( $(xv_counter tx_local) - l0 ))"

# ---- to a veth VM --------------------------------------------------------------------
capture "$(vm_ns e)" eth0 "$XV_TMP/e.pcap"
send "$GT" $MAC_G $MAC_E 10.77.0.72
wait_until 5 eval '[ "$(payload_of "$XV_TMP/e.pcap")" -ge $WANT ]'
proc_stop "$CAP_PID"
[ "$(payload_of "$XV_TMP/e.pcap")" = $WANT ] || fail "veth VM: $(payload_of "$XV_TMP/e.pcap") of $WANT bytes"
log "veth VM: $WANT payload bytes"

# ---- to an xsk VM: segmented for xsk_side (one frame per MSS) -------------------
bg_start "$XV_TMP/dump.log" "$XV_BIN/xvnet-xskdump" -s "$XVD_SOCK" --vm x --stats "$XV_TMP/x.stats"
wait_until 5 test -s "$XV_TMP/x.stats" || fail "xskdump: $(cat "$XV_TMP/dump.log")"
send "$GT" $MAC_G $MAC_X 10.77.0.72
segs=$(( N * ((PAYLOAD + MSS - 1) / MSS) ))
wait_until 5 eval '[ "$(cut -d" " -f1 "$XV_TMP/x.stats")" -ge $segs ]' ||
	{ xvctl stats | grep -v " 0$"; fail "xsk VM got $(cut -d' ' -f1 "$XV_TMP/x.stats") of $segs segments"; }
log "xsk VM: $segs segments"

# ---- broadcast: vm_flood clones the super-frames at the skb level -------------------
# (vm_tx passes group-addressed frames to tc whatever their size: every member
# of g's VLAN and the wire get all of them, GSO kept where the target takes it)
x0=$(cut -d" " -f1 "$XV_TMP/x.stats")
f0=$(xv_counter tx_flood); c0=$(xv_counter flood_copies); e0=$(xv_counter flood_err)
s0=$(xv_counter tx_skb)
capture "$W" "$WIRE" "$XV_TMP/bwire.pcap"; WCAP=$CAP_PID
capture "$(vm_ns e)" eth0 "$XV_TMP/be.pcap"
tap_read "$TT" tso "$XV_TMP/bt.out"
tap_read "$TT2" none "$XV_TMP/bt2.out"
send "$GT" $MAC_G ff:ff:ff:ff:ff:ff 10.77.0.72
wait_until 8 test -s "$XV_TMP/bt.out" -a -s "$XV_TMP/bt2.out" || fail "tap readers (broadcast) did not finish"
wait_until 5 eval '[ "$(payload_of "$XV_TMP/bwire.pcap")" -ge $WANT ] &&
	[ "$(payload_of "$XV_TMP/be.pcap")" -ge $WANT ] &&
	[ "$(cut -d" " -f1 "$XV_TMP/x.stats")" -ge $((x0 + segs)) ]'
proc_stop "$CAP_PID"; proc_stop "$WCAP"
read -r _ fr _ gso _ pl _ mx <"$XV_TMP/bt.out"
[ "$pl" = $WANT ] && [ "$gso" = $N ] && [ "$mx" = 8054 ] ||
	fail "broadcast, tap reader with TSO: $(cat "$XV_TMP/bt.out") (want $N GSO frames of 8054 bytes)"
read -r _ fr _ gso _ pl _ mx <"$XV_TMP/bt2.out"
[ "$pl" = $WANT ] && [ "$gso" = 0 ] && [ "$mx" -le 1514 ] ||
	fail "broadcast, tap reader without TSO: $(cat "$XV_TMP/bt2.out") (want segments, $WANT payload)"
[ "$(payload_of "$XV_TMP/bwire.pcap")" = $WANT ] ||
	fail "broadcast: wire got $(payload_of "$XV_TMP/bwire.pcap") of $WANT bytes"
[ "$(payload_of "$XV_TMP/be.pcap")" = $WANT ] ||
	fail "broadcast: veth VM got $(payload_of "$XV_TMP/be.pcap") of $WANT bytes"
xgot=$(( $(cut -d" " -f1 "$XV_TMP/x.stats") - x0 ))
[ "$xgot" = $segs ] || fail "broadcast: xsk VM got $xgot of $segs segments"
[ $(( $(xv_counter tx_flood) - f0 )) = $N ] || fail "tx_flood +$(( $(xv_counter tx_flood) - f0 )), expected $N"
# members t, t2, e, x (gv is on VLAN 10): one copy each per frame
[ $(( $(xv_counter flood_copies) - c0 )) = $((4 * N)) ] ||
	fail "flood_copies +$(( $(xv_counter flood_copies) - c0 )), expected $((4 * N))"
[ "$(xv_counter flood_err)" = "$e0" ] || fail "flood_err +$(( $(xv_counter flood_err) - e0 ))"
[ "$(xv_counter tx_skb)" = "$s0" ] || fail "broadcast went through the unicast skb path (tx_skb moved)"
log "broadcast: $N super-frames to wire, veth ($WANT bytes each), tap ($(cat "$XV_TMP/bt.out") / $(cat "$XV_TMP/bt2.out")), xsk ($segs segments)"

[ "$(xv_counter tx_skb_drop)" = 0 ] || fail "tx_skb_drop $(xv_counter tx_skb_drop)"

# ---- a redirect that fails after XDP returned is counted per VM, with why ----
# (the veth VM's port takes 200 bytes at most: nic_rx's redirect of a 600-byte
# frame into it fails in the kernel, EMSGSIZE, which xdp:xdp_redirect_err sees)
if xv_feature redirect_trace; then
	ip link set "$(vm_port e)" mtu 200 || fail "mtu 200 on e's port"
	trafgen_from_wire --dst-mac $MAC_E --dst-ip 10.77.0.74 --size 600 --count 50 --rate 5000 \
		>/dev/null || fail "trafgen to e"
	rerr() { xvctl -j stats e | python3 -c '
import json, sys
v = json.load(sys.stdin)["vms"][0]
print(sum(e["frames"] for e in v["redirect_errors"] if e["dir"] == "in" and e["err"] == 90))'; }
	wait_until 5 eval '[ "$(rerr)" -ge 50 ]' ||
		fail "50 failed redirects into e's port, $(rerr) counted as EMSGSIZE: $(xvctl -j stats e)"
	xvctl stats e | grep -q "redirect errors in 90 (Message too long) 50" ||
		fail "stats does not print the failed redirects: $(xvctl stats e)"
	log "50 frames over e's port MTU: 50 failed redirects counted for e, in, EMSGSIZE"
	# (t's tap has no reader now: tun refuses the DEVMAP's bulk transmit
	# with ENXIO, which xdp:xdp_devmap_xmit sees; nic_rx counted delivered)
	nerr() { xvctl -j stats t | python3 -c '
import json, sys
v = json.load(sys.stdin)["vms"][0]
print(sum(e["frames"] for e in v["redirect_errors"] if e["dir"] == "in" and e["err"] == 6))'; }
	trafgen_from_wire --dst-mac $MAC_T --dst-ip 10.77.0.76 --size 200 --count 50 --rate 5000 \
		>/dev/null || fail "trafgen to t"
	wait_until 5 eval '[ "$(nerr)" -ge 50 ]' ||
		fail "50 frames into t's tap without a reader, $(nerr) counted as ENXIO: $(xvctl -j stats t)"
	[ "$(nerr)" = 50 ] || fail "t: $(nerr) ENXIO counted for 50 frames"
	xvctl stats t | grep -q "redirect errors in 6 (No such device or address) 50" ||
		fail "stats does not print the dropped transmits: $(xvctl stats t)"
	log "50 frames into a tap no VMM holds: 50 counted for t, in, ENXIO"
	# (a VMM that holds t2's tap and never reads: tun's ring takes
	# tx_queue_len frames, then takes fewer than given, with no error)
	bg_start "$XV_TMP/hold.log" python3 -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH22x", sys.argv[1].encode(), 0x5002))
print("held", flush=True)
time.sleep(60)' "$TT2"
	HOLD=$BG_PID
	wait_until 5 grep -q held "$XV_TMP/hold.log" || fail "could not hold $TT2: $(cat "$XV_TMP/hold.log")"
	qlen=$(cat "/sys/class/net/$TT2/tx_queue_len")
	fullq() { xvctl -j stats t2 | python3 -c '
import json, sys
v = json.load(sys.stdin)["vms"][0]
print(sum(e["frames"] for e in v["redirect_errors"] if e["dir"] == "in" and e["err"] == 105))'; }
	trafgen_from_wire --dst-mac 02:00:00:00:72:06 --dst-ip 10.77.0.77 --size 200 \
		--count $((qlen + 300)) --rate 20000 >/dev/null || fail "trafgen to t2"
	wait_until 5 eval '[ "$(fullq)" -ge 300 ]' ||
		fail "$((qlen + 300)) frames into t2's unread tap (ring $qlen), $(fullq) counted as ENOBUFS"
	[ "$(fullq)" = 300 ] || fail "t2: $(fullq) ENOBUFS counted, expected 300 (ring $qlen)"
	proc_stop "$HOLD"
	log "$((qlen + 300)) frames into a held, unread tap (ring $qlen): 300 counted for t2, in, ENOBUFS"
else
	log "no redirect_trace on this kernel: failed redirects are not counted"
fi

# ---- what the port device dropped after an skb-level send ----------------------
# (g -> t, whose tap no VMM holds: small frames by generic XDP, super-frames by
# tc; tun drops them all in its transmit, where no XDP tracepoint looks: stats
# shows the port's own tx_dropped)
pdrop() { xvctl -j stats t | jq -r "$XV_JQ_PY"' .["vms"][0]["port_dev"]["tx_dropped"] | py'; }
p0=$(pdrop); l0=$(xv_counter tx_local)
send "$GT" $MAC_G $MAC_T 10.77.0.72 100 20
send "$GT" $MAC_G $MAC_T 10.77.0.72
wait_until 5 eval '[ $(( $(pdrop) - p0 )) -ge $((20 + N)) ]' ||
	fail "t's port tx_dropped +$(( $(pdrop) - p0 )), expected $((20 + N)): $(xvctl -j stats t)"
[ $(( $(xv_counter tx_local) - l0 )) = $((20 + N)) ] || fail "tx_local +$(( $(xv_counter tx_local) - l0 ))"
xvctl stats t | grep -qE "^    port $TT tx_packets [0-9]+ tx_dropped [0-9]+$" ||
	fail "stats does not print the port's counters: $(xvctl stats t)"
log "g -> t without a reader: $((20 + N)) frames counted tx_local, $(( $(pdrop) - p0 )) in t's port tx_dropped"
pass "TSO super-frames from a tap: wire (+VLAN), tap (whole with TSO, segmented without), veth, xsk, broadcast to all; counted tx_skb, none dropped; failed redirects counted per VM and reason"
