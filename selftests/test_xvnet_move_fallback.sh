#!/usr/bin/env bash
# vm move --port fallback (docs/dnis.md): a VM handed from its fast port to
# the host stack and back, as DNIS hands a guest from its VF to the PV
# interface behind the host's bridge.  The host here bridges the NIC with a
# second interface of the VM (its "PV" veth); xvnet does not own the bridge.
#  1. one move each way: on the fallback nic_rx passes the VM's frames (the
#     `fallback` counter, stats ports.fallback), they reach the VM through
#     the bridge, its fast veth (adopted) is detached and kept, the state
#     file says `port fallback` with no ifname, a port option is refused;
#     back on the veth the frames go there again;
#  2. a numbered stream (xvnet-seqgen, several UDP flows) through
#     FALLBACK_MOVES moves veth -> fallback -> veth ...: at the receiver
#     (xvnet-seqrecv on the VM's veth end and on its PV interface) no gap,
#     no duplicate, no reordering, no interleaving within a flow; xvnet's
#     per-kind counters match what each interface received;
#  3. a local VM on the fast path and the VM on the fallback: its frames
#     enter the host stack at the NIC (tc, skb_forward; one copy of its
#     broadcasts) and reach the VM through the bridge; the VM's frames that
#     the bridge sends out of the NIC to the local VM go to its port
#     (nic_egress), not to the wire: UDP echo both ways, ARP included;
#  4. a daemon restart keeps the VM on the fallback.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

require_root
require_bin xvnetd xvnetctl xvnet-seqgen xvnet-seqrecv
require_cmd python3 ethtool

MOVES=${FALLBACK_MOVES:-24}
RATE=${FALLBACK_RATE:-50000}
FLOWS=4
MAC=02:00:00:00:fb:01
MAC2=02:77:00:00:00:01     # xvnet-seqgen's source MAC: v2 speaks as itself
VETH=$(xv_name fv)
PEER=$(xv_name fvp)
PVH=$(xv_name fph)
PV=$(xv_name fp)
VNS=$(xv_name fns)
VETH2=$(xv_name fv2)
PEER2=$(xv_name fvp2)
VNS2=$(xv_name fns2)
BR=$(xv_name fbr)

xv_topology
xvnetd_start
# the host's own bridging, which xvnet does not own: the NIC and the VM's
# PV interface; what nic_rx passes goes up the NIC into the bridge
bridge_create "$BR"
bridge_add "$BR" "$NIC"
ns_create "$VNS"
veth_create "$PVH" "$PV" "" "$VNS"
# the guest's two interfaces share its MAC, as a bond's slaves do (DNIS)
ip -n "$VNS" link set "$PV" address $MAC
bridge_add "$BR" "$PVH"
# the fast port exists before the VM (adopted: kept when the VM moves away)
veth_create "$VETH" "$PEER" "" "$VNS"
# frames XDP-redirected into a veth reach its peer only with NAPI there
ip netns exec "$VNS" ethtool -K "$PEER" gro on >/dev/null
xvctl vm add v1 --mac $MAC --port veth --ifname "$VETH" --netns "$VNS" \
	--peer-ifname "$PEER" >/dev/null || fail "vm add v1"

port_counts() { # "veth fallback": frames xvnet sent v1's way, by kind
	xvctl -j stats v1 | python3 -c '
import json, sys
p = json.load(sys.stdin)["vms"][0]["ports"]
print(p["veth"]["packets"], p["fallback"]["packets"])'
}
stream() { # COUNT_PER_FLOW RUN: xvnet-seqgen out of the wire (background)
	bg_start "$XV_TMP/gen.json" ip netns exec "$W" "$XV_BIN/xvnet-seqgen" --dev "$WIRE" \
		--dst-mac $MAC --flows "$FLOWS" --count "$1" --rate "$RATE" --run "$2"
	GEN=$BG_PID
}
receiver() { # COUNT_PER_FLOW [FLOWS]: xvnet-seqrecv on the veth end and the PV (background)
	rm -f "$XV_TMP/ready"
	bg_start "$XV_TMP/recv.json" "$XV_BIN/xvnet-seqrecv" --netns "$VNS" --packet "$PEER" \
		--fallback "$PV" --flows "${2:-$FLOWS}" --count "$1" --idle 3 --ready "$XV_TMP/ready"
	RECV=$BG_PID
	wait_until 5 test -e "$XV_TMP/ready" || fail "xvnet-seqrecv: $(cat "$XV_TMP/recv.json")"
}
to_fallback() { xvctl -j vm move v1 --port fallback; }
to_veth() { xvctl -j vm move v1 --port veth --ifname "$VETH" --netns "$VNS" --peer-ifname "$PEER"; }
check_side() { # KIND WHAT: v1 is on KIND and 1000 frames per flow reach it there
	local got
	[ "$(vm_field v1 port)" = "$1" ] || fail "$2: v1 on $(vm_field v1 port), not $1"
	receiver 1000
	stream 1000 "$3"
	wait_done "$GEN" 30
	wait_done "$RECV" 30
	got=$(json_get "$XV_TMP/recv.json" "$1")
	[ "$got" = $((1000 * FLOWS)) ] || fail "$2: $got of $((1000 * FLOWS)) on the $1: $(cat "$XV_TMP/recv.json")"
}

# ---- 1. one move each way ------------------------------------------------------------
xvctl vm move v1 --port fallback --ifname "$(xv_name fx)" 2>"$XV_TMP/e.txt" &&
	fail "a move to the fallback with --ifname was accepted"
grep -q "ifname: a VM on the fallback has no port" "$XV_TMP/e.txt" || fail "refusal: $(cat "$XV_TMP/e.txt")"
fb0=$(xv_counter fallback)
to_fallback >"$XV_TMP/m.json" 2>"$XV_TMP/e.txt" || fail "move to the fallback: $(cat "$XV_TMP/e.txt")"
grep -q '"phase": *"committed"' "$XV_TMP/m.json" || fail "move reply: $(cat "$XV_TMP/m.json")"
grep -q "^vm v1 .*port fallback " "$XVD_STATE" || fail "state: $(grep '^vm v1' "$XVD_STATE")"
grep "^vm v1 " "$XVD_STATE" | grep -q " ifname " && fail "state names a port on the fallback: $(grep '^vm v1' "$XVD_STATE")"
ip link show "$VETH" >/dev/null 2>&1 || fail "the adopted veth was deleted"
ip -d link show dev "$VETH" | grep -q 'prog/xdp' && fail "vm_tx left on $VETH"
xvctl vm move v1 --port fallback 2>"$XV_TMP/e.txt" && fail "fallback -> fallback was accepted"
grep -q "on the fallback already" "$XV_TMP/e.txt" || fail "refusal: $(cat "$XV_TMP/e.txt")"
check_side fallback "on the fallback" 1
fb=$(( $(xv_counter fallback) - fb0 ))
[ "$fb" = $((1000 * FLOWS)) ] || fail "the fallback counter says $fb, the receiver $((1000 * FLOWS))"
log "on the fallback: $((1000 * FLOWS)) frames passed by nic_rx (counter fallback) reach v1 through the host's bridge"
to_veth >/dev/null 2>"$XV_TMP/e.txt" || fail "move back to the veth: $(cat "$XV_TMP/e.txt")"
check_side veth "back on the veth" 2
grep -q "^vm v1 .*port veth .*ifname $VETH" "$XVD_STATE" || fail "state: $(grep '^vm v1' "$XVD_STATE")"
log "back on $VETH: frames go there again"

# ---- 2. the numbered stream through the moves ---------------------------------------------
secs=$(( MOVES / 4 + 5 ))
count=$(( RATE * secs / FLOWS ))
read -r veth0 fb0 <<<"$(port_counts)"
receiver "$count"
stream "$count" 3
sleep 0.5
done_moves=0
pause=$(python3 -c "print(max(0.0, $secs * 0.7 / $MOVES - 0.05))")
while [ "$done_moves" -lt "$MOVES" ]; do
	if [ $((done_moves % 2)) -eq 0 ]; then
		to_fallback >>"$XV_TMP/moves.json" 2>"$XV_TMP/e.txt" || fail "move $done_moves to the fallback: $(cat "$XV_TMP/e.txt")"
	else
		to_veth >>"$XV_TMP/moves.json" 2>"$XV_TMP/e.txt" || fail "move $done_moves to the veth: $(cat "$XV_TMP/e.txt")"
	fi
	done_moves=$((done_moves + 1))
	_xv_dead "$GEN" && break
	sleep "$pause"
done
gen_alive=1
_xv_dead "$GEN" && gen_alive=0
wait_done "$GEN" $((secs * 3 + 30))
wait_done "$RECV" 60
[ "$gen_alive" = 1 ] || fail "the stream ended after $done_moves of $MOVES moves (raise the count)"
cat "$XV_TMP/gen.json" "$XV_TMP/recv.json"
read -r veth1 fb1 <<<"$(port_counts)"
sent=$(json_get "$XV_TMP/gen.json" sent)
to_v=$((veth1 - veth0)) to_fb=$((fb1 - fb0))
got_v=$(json_get "$XV_TMP/recv.json" veth)
got_fb=$(json_get "$XV_TMP/recv.json" fallback)
log "sent $sent; xvnet: veth $to_v fallback $to_fb; received: veth $got_v fallback $got_fb;" \
	"packet socket drops $(json_get "$XV_TMP/recv.json" packet_socket_drops)"
for k in gaps dups reordered interleaved; do
	[ "$(json_get "$XV_TMP/recv.json" $k)" = 0 ] || fail "$k: $(cat "$XV_TMP/recv.json")"
done
[ $((to_v + to_fb)) = "$sent" ] || fail "xvnet sent $((to_v + to_fb)) of $sent v1's way"
[ "$to_v" = "$got_v" ] && [ "$to_fb" = "$got_fb" ] ||
	fail "xvnet's per-kind counts (veth $to_v fallback $to_fb) differ from the receiver's"
[ "$to_v" -gt 0 ] && [ "$to_fb" -gt 0 ] || fail "one side carried nothing (veth $to_v fallback $to_fb)"
summary="$done_moves moves veth <-> fallback under $RATE frames/s: $sent frames (veth $got_v, fallback $got_fb), no gap, duplicate, reordering or interleaving"
log "$summary; $(json_get "$XV_TMP/recv.json" runs) runs over $FLOWS flows"
[ "$(vm_field v1 port)" = veth ] || fail "after an even number of moves v1 is on $(vm_field v1 port)"

# ---- 3. a local VM on the fast path to the VM on the fallback --------------------------
to_fallback >/dev/null 2>"$XV_TMP/e.txt" || fail "move to the fallback: $(cat "$XV_TMP/e.txt")"
ns_create "$VNS2"
veth_create "$VETH2" "$PEER2" "" "$VNS2"
ip -n "$VNS2" link set "$PEER2" address $MAC2
# xvnet-seqgen speaks from 02:77:00:00:00:01, 10.77.0.1 (tools/xvnet-seqgen.c): v2's
xvctl vm add v2 --mac $MAC2 --port veth --ifname "$VETH2" --netns "$VNS2" \
	--peer-ifname "$PEER2" --ip 10.77.0.1 --ip 10.77.0.2 >/dev/null || fail "vm add v2"
local0=$(xv_counter tx_local)
read -r _ fb0 <<<"$(port_counts)"
receiver 500 1
ip netns exec "$VNS2" "$XV_BIN/xvnet-seqgen" --dev "$PEER2" --dst-mac $MAC --flows 1 \
	--count 500 --rate 10000 --run 4 >/dev/null || fail "seqgen from v2"
wait_done "$RECV" 30
read -r _ fb1 <<<"$(port_counts)"
[ "$(json_get "$XV_TMP/recv.json" fallback)" = 500 ] ||
	fail "v2 -> v1 on the fallback: $(cat "$XV_TMP/recv.json"); $(xvctl -j stats | tr -d '\n ' | head -c 3000)"
[ $((fb1 - fb0)) = 500 ] || fail "ports.fallback counted $((fb1 - fb0)) of v2's 500"
[ $(( $(xv_counter tx_local) - local0 )) -ge 500 ] || fail "tx_local did not count v2's frames"
log "v2 (veth) -> v1 (fallback): 500 of 500 through the NIC's ingress and the bridge"
# both ways, ARP included (no neighbour entries): v2's broadcast reaches v1
# through the NIC's ingress, v1's frames leave the bridge by the NIC, where
# nic_egress hands them to v2's port instead of the wire (bpf/hostveb.h)
# (10.77.0.1 is the wire's too, which would answer v1's ARP)
addr_add "$PEER2" 10.77.0.2/24 "$VNS2"
addr_add "$PV" 10.77.0.50/24 "$VNS"
for ns in "$VNS" "$VNS2"; do
	bg_start "$XV_TMP/echo-$ns.log" ip netns exec "$ns" "$ECHO_BIN" "$GUEST_PORT" "$ns"
	wait_until 5 grep -q XVNET-GUEST-READY "$XV_TMP/echo-$ns.log" || fail "udp_echo in $ns did not start"
done
out=$(ip netns exec "$VNS2" "$PROBE_BIN" -n 20 -r 100 -t 3000 -m 20 -i "$VNS" 10.77.0.50 "$GUEST_PORT") ||
	fail "v2 -> v1 on the fallback and back: ${out:-no output}; $(xvctl -j stats | tr -d '\n ' | head -c 1500); neigh2: $(ip -n "$VNS2" neigh); neigh1: $(ip -n "$VNS" neigh); fdb: $(bridge fdb show br "$BR" | grep -v permanent); tc: $(tc -s filter show dev "$NIC" egress)"
ip -n "$VNS" neigh flush all
ip -n "$VNS2" neigh flush all
out2=$(ip netns exec "$VNS" "$PROBE_BIN" -n 20 -r 100 -t 3000 -m 20 -i "$VNS2" 10.77.0.2 "$GUEST_PORT") ||
	fail "v1 on the fallback -> v2 and back: ${out2:-no output}"
log "UDP echo v2 -> v1 (fallback): $out; v1 -> v2: $out2 (ARP each way through xvnet and the host's bridge)"

# ---- 4. a restart keeps the fallback -------------------------------------------------------
xvnetd_restart
check_side fallback "after a restart" 5
log "after a daemon restart v1 is still on the fallback and frames reach it"
pass "vm move --port fallback: $summary; a local VM reaches it there (500/500), UDP echo both ways with ARP; kept over a restart"
