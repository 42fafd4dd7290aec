#!/usr/bin/env bash
# vm move (DNIS, docs/dnis.md): a running VM switched between ports.
#  1. abort: a move to a veth in a namespace that does not exist fails, the
#     VM stays on its tap (state, slot) and frames still reach the tap;
#  2. a numbered stream (xvnet-seqgen: several UDP flows, a sequence number
#     per flow) through DNIS_MOVES moves tap -> veth -> tap ...: at the
#     receiver (xvnet-seqrecv reads the tap as a VMM does and the veth's VM
#     end with an AF_PACKET socket) no gap, no duplicate, no reordering, no
#     interleaving within a flow; xvnet's per-kind delivery counters
#     (stats: ports) say where each frame went and match the receiver;
#  3. a daemon killed mid-move (XVNETD_MOVE_CRASH) while "preparing" (the new
#     port attached, not in the bank) or after "prepared" ends on the old
#     port, after "switched" on the new one, and frames flow there;
#  4. two steps (a live migration's): --prepare leaves the VM where it is,
#     --abort undoes it, --switch completes it;
#  5. xsk: tap -> xsk -> tap, the delivery counters follow; tap ->
#     vhost-user (xvnetd starts the back-end, a front-end gets the frames)
#     -> tap (the back-end stopped).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

require_root
require_bin xvnetd xvnetctl xvnet-seqgen xvnet-seqrecv xvnet-vhost xvnet-vhostsink
require_cmd python3 ethtool
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

MOVES=${DNIS_MOVES:-100}
RATE=${DNIS_RATE:-100000}
FLOWS=${DNIS_FLOWS:-4}
MAC=02:00:00:00:d1:01
TAP=$(xv_name dt)
TAP2=$(xv_name dt2)
VETH=$(xv_name dv)
PEER=$(xv_name dvp)
VNS=$(xv_name dns)

xv_topology
xvnetd_start
# the VM's ports exist before the VM, as a VMM's tap and a container's veth
# do: xvnetd adopts them and leaves them in place when the VM moves away
tap_create "$TAP"
ip link set "$TAP" txqueuelen 10000
ns_create "$VNS"
veth_create "$VETH" "$PEER" "" "$VNS"
# frames XDP-redirected into a veth reach its peer only with NAPI there
ip netns exec "$VNS" ethtool -K "$PEER" gro on >/dev/null
xvctl vm add v1 --mac $MAC --port tap --ifname "$TAP" || fail "vm add v1"

port_counts() { # "tap veth xsk": frames xvnet delivered to v1's ports by kind
	xvctl -j stats v1 | python3 -c '
import json, sys
p = json.load(sys.stdin)["vms"][0]["ports"]
print(p["tap"]["packets"], p["veth"]["packets"], p["xsk"]["packets"])'
}
# attached IF: vm_tx (XDP) and vm_flood (tc ingress) on IF, asked of IF alone
attached() {
	ip -d link show dev "$1" 2>/dev/null | grep -q 'prog/xdp' &&
		tc filter show dev "$1" ingress 2>/dev/null | grep -q vm_flood
}
detached() {
	! ip -d link show dev "$1" 2>/dev/null | grep -q 'prog/xdp' &&
		! tc filter show dev "$1" ingress 2>/dev/null | grep -q vm_flood
}
# stream COUNT_PER_FLOW RUN: xvnet-seqgen out of the wire (background)
stream() {
	bg_start "$XV_TMP/gen.json" ip netns exec "$W" "$XV_BIN/xvnet-seqgen" --dev "$WIRE" \
		--dst-mac $MAC --flows "$FLOWS" --count "$1" --rate "$RATE" --run "$2"
	GEN=$BG_PID
}
# receiver COUNT_PER_FLOW: xvnet-seqrecv on the tap and the veth (background)
receiver() {
	rm -f "$XV_TMP/ready"
	bg_start "$XV_TMP/recv.json" "$XV_BIN/xvnet-seqrecv" --tap "$TAP" --netns "$VNS" \
		--packet "$PEER" --flows "$FLOWS" --count "$1" --idle 3 --ready "$XV_TMP/ready"
	RECV=$BG_PID
	wait_until 5 test -e "$XV_TMP/ready" || fail "xvnet-seqrecv: $(cat "$XV_TMP/recv.json")"
}

# ---- 1. abort: the destination fails, the VM stays -------------------------------
xvctl vm move v1 --port veth --ifname "$(xv_name dv9)" --netns "$(xv_name nosuch)" \
	2>"$XV_TMP/e.txt" && fail "a move into a namespace that does not exist succeeded"
grep -q "stays on tap $TAP" "$XV_TMP/e.txt" || fail "abort message: $(cat "$XV_TMP/e.txt")"
[ "$(vm_field v1 port)" = tap ] || fail "after the abort vm show says port $(vm_field v1 port)"
grep -q "^vm v1 .*port tap .*ifname $TAP" "$XVD_STATE" || fail "state after abort: $(grep '^vm v1' "$XVD_STATE")"
[ -e "$XVD_STATE_DIR/move.state" ] && fail "the aborted move left its record"
receiver 2000
stream 2000 1
wait_done "$GEN" 30
wait_done "$RECV" 30
[ "$(json_get "$XV_TMP/recv.json" tap)" = $((2000 * FLOWS)) ] ||
	fail "after the abort not every frame reached the tap: $(cat "$XV_TMP/recv.json")"
log "abort: move to a missing netns refused, v1 stays on $TAP, $((2000 * FLOWS)) frames reach it"

# ---- 2. the numbered stream through the moves ------------------------------------
# how long one move takes here sets how long the stream must run
t0=$(date +%s%N)
xvctl vm move v1 --port veth --ifname "$VETH" --netns "$VNS" --peer-ifname "$PEER" >/dev/null ||
	fail "move to veth"
xvctl vm move v1 --port tap --ifname "$TAP" >/dev/null || fail "move back to the tap"
per_move=$(( $(elapsed_ms "$t0") / 2 ))
# the stream outlasts the moves six times over, at least 10 s: under the
# stream a move took over 3x as long as here (a full check on a slow
# machine ran out of stream at 4x)
secs=$(( per_move * MOVES * 6 / 1000 + 1 ))
[ "$secs" -lt 10 ] && secs=10
count=$(( RATE * secs / FLOWS ))
log "one move takes ${per_move} ms: streaming $((count * FLOWS)) frames ($FLOWS flows) at $RATE/s over ~${secs} s"
read -r tap0 veth0 _ <<<"$(port_counts)"
rx0=$(xv_counter rx)
wire_drop0=$(if_stat "$NIC" rx_dropped "")
receiver "$count"
stream "$count" 2
sleep 0.5
done_moves=0
t_moves=$(date +%s%N)
while [ "$done_moves" -lt "$MOVES" ]; do
	t_move=$(date +%s%N)
	if [ $((done_moves % 2)) -eq 0 ]; then
		xvctl -j vm move v1 --port veth --ifname "$VETH" --netns "$VNS" --peer-ifname "$PEER" \
			>>"$XV_TMP/moves.json" 2>"$XV_TMP/e.txt" || fail "move $done_moves to veth: $(cat "$XV_TMP/e.txt")"
	else
		xvctl -j vm move v1 --port tap --ifname "$TAP" >>"$XV_TMP/moves.json" \
			2>"$XV_TMP/e.txt" || fail "move $done_moves to the tap: $(cat "$XV_TMP/e.txt")"
	fi
	done_moves=$((done_moves + 1))
	_xv_dead "$GEN" && break
	# the moves spread over the stream's first 70%, so both ports carry a
	# share: the pause is what is left of that per move to come, if any
	left_ms=$(( secs * 700 - $(elapsed_ms "$t_moves") ))
	pause_ms=0
	[ "$done_moves" -lt "$MOVES" ] && pause_ms=$(( left_ms / (MOVES - done_moves) - $(elapsed_ms "$t_move") ))
	[ "$pause_ms" -gt 0 ] && sleep "$(printf '%d.%03d' $((pause_ms / 1000)) $((pause_ms % 1000)))"
done
gen_alive=1
_xv_dead "$GEN" && gen_alive=0
wait_done "$GEN" $((secs * 3 + 30))
wait_done "$RECV" 60
[ "$gen_alive" = 1 ] || fail "the stream ended after $done_moves of $MOVES moves (raise the count)"
cat "$XV_TMP/gen.json" "$XV_TMP/recv.json"
read -r tap1 veth1 _ <<<"$(port_counts)"
rx1=$(xv_counter rx)
sent=$(json_get "$XV_TMP/gen.json" sent)
to_tap=$((tap1 - tap0)) to_veth=$((veth1 - veth0))
python3 - "$XV_TMP/moves.json" <<'PYEOF' >&2
import json, sys
dec, text, rows, i = json.JSONDecoder(), open(sys.argv[1]).read(), [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    m, i = dec.raw_decode(text, i)
    rows.append((m["switch_us"], m["drain_us"], m["drained"]))
sw = sorted(r[0] for r in rows); dr = sorted(r[1] for r in rows)
print("moves %d: switch us median %d max %d; drain us median %d max %d; frames drained %d"
      % (len(rows), sw[len(sw)//2], sw[-1], dr[len(dr)//2], dr[-1], sum(r[2] for r in rows)))
PYEOF
log "sent $sent; nic_rx saw $((rx1 - rx0)); xvnet delivered tap $to_tap veth $to_veth;" \
	"wire drops $(( $(if_stat "$NIC" rx_dropped "") - wire_drop0 ))"
got_tap=$(json_get "$XV_TMP/recv.json" tap)
got_veth=$(json_get "$XV_TMP/recv.json" veth)
sockdrop=$(json_get "$XV_TMP/recv.json" packet_socket_drops)
tapdrop=$(if_stat "$TAP" tx_dropped "")
log "received tap $got_tap veth $got_veth; receiver drops: packet socket $sockdrop, tap tx_dropped $tapdrop"
for k in gaps dups reordered interleaved; do
	[ "$(json_get "$XV_TMP/recv.json" $k)" = 0 ] || fail "$k: $(cat "$XV_TMP/recv.json")"
done
[ $((to_tap + to_veth)) = "$sent" ] || fail "xvnet delivered $((to_tap + to_veth)) of $sent"
[ "$to_tap" = "$got_tap" ] && [ "$to_veth" = "$got_veth" ] ||
	fail "xvnet's per-port counts (tap $to_tap veth $to_veth) differ from the receiver's"
runs=$(json_get "$XV_TMP/recv.json" runs)
log "$done_moves moves under $RATE frames/s: $sent frames, no gap, duplicate or reordering;" \
	"$runs runs over $FLOWS flows"
[ "$(vm_field v1 port)" = tap ] || fail "after an even number of moves v1 is on $(vm_field v1 port)"

# ---- 3. a daemon killed mid-move -----------------------------------------------------
crash_move() { # PHASE: the daemon dies right after recording PHASE
	XVNETD_MOVE_CRASH=$1 xvnetd_restart
	xvctl vm move v1 --port veth --ifname "$VETH" --netns "$VNS" --peer-ifname "$PEER" \
		>/dev/null 2>&1 && fail "the move with XVNETD_MOVE_CRASH=$1 returned"
	wait_until 5 _xv_dead "$XVD_PID" || fail "xvnetd did not stop at $1"
	xvnetd_restart
	[ -e "$XVD_STATE_DIR/move.state" ] && fail "the record outlived the restart ($1)"
	grep -q "the move interrupted at '$1'" "$XV_TMP/xvnetd.log" ||
		fail "no recovery line: $(grep -i move "$XV_TMP/xvnetd.log" | tail -3)"
}
check_side() { # KIND WHAT: v1 is on KIND, and frames reach it there
	local got
	[ "$(vm_field v1 port)" = "$1" ] || fail "$2: v1 on $(vm_field v1 port), not $1"
	receiver 1000
	stream 1000 3
	wait_done "$GEN" 30
	wait_done "$RECV" 30
	got=$(json_get "$XV_TMP/recv.json" "$1")
	[ "$got" = $((1000 * FLOWS)) ] || fail "$2: $got of $((1000 * FLOWS)) on the $1: $(cat "$XV_TMP/recv.json")"
}
crash_move preparing
check_side tap "killed while preparing"
detached "$VETH" || fail "killed while preparing: vm_flood (and vm_tx) left on $VETH"
log "killed while preparing: the restart undid the half-made port (v1 on $TAP)"
crash_move prepared
check_side tap "killed after prepare"
detached "$VETH" || fail "killed after prepare: vm_flood (and vm_tx) left on $VETH"
log "killed after prepare: the restart undid the move (v1 on $TAP, $VETH released, frames flow)"
# this one under the stream: the data path runs on through the kill and
# the restart, and the finished move still cuts each flow once
receiver $((RATE * 4 / FLOWS))
stream $((RATE * 4 / FLOWS)) 4
sleep 0.5
crash_move switched
wait_done "$GEN" 30
wait_done "$RECV" 30
cat "$XV_TMP/recv.json"
for k in gaps dups reordered interleaved; do
	[ "$(json_get "$XV_TMP/recv.json" $k)" = 0 ] || fail "killed after the switch, under the stream: $k: $(cat "$XV_TMP/recv.json")"
done
log "killed after the switch under a $RATE/s stream: $(json_get "$XV_TMP/recv.json" received) frames," \
	"tap $(json_get "$XV_TMP/recv.json" tap) veth $(json_get "$XV_TMP/recv.json" veth), no gap, duplicate or reordering"
check_side veth "killed after the switch"
grep -q "^vm v1 .*port veth .*ifname $VETH" "$XVD_STATE" || fail "state after the finished move: $(grep '^vm v1' "$XVD_STATE")"
detached "$TAP" || fail "killed after the switch: vm_flood (and vm_tx) left on $TAP"
log "killed after the switch: the restart finished the move (v1 on $VETH, $TAP released, frames flow)"

# ---- 4. two steps: --prepare, then --switch or --abort ------------------------------
xvctl vm move v1 --port tap --ifname "$TAP" --prepare >/dev/null || fail "prepare veth -> tap"
[ -e "$XVD_STATE_DIR/move.state" ] || fail "no record of the prepared move"
attached "$TAP" || fail "prepared: vm_flood not on $TAP"
xvctl vm move v1 --port tap --ifname "$TAP2" 2>/dev/null && fail "a second move was accepted while one is prepared"
check_side veth "prepared, not switched"
xvctl vm move v1 --abort >/dev/null || fail "abort of the prepared move"
[ -e "$XVD_STATE_DIR/move.state" ] && fail "the aborted move left its record"
detached "$TAP" || fail "aborted: vm_flood (and vm_tx) left on $TAP"
check_side veth "prepared, then aborted"
xvctl vm move v1 --port tap --ifname "$TAP" --prepare >/dev/null || fail "prepare veth -> tap again"
xvctl vm move v1 --switch >/dev/null || fail "switch of the prepared move"
check_side tap "prepared, then switched"
log "--prepare leaves the VM where it is (frames flow there), --abort undoes, --switch completes"

# ---- 5. xsk ----------------------------------------------------------------------------
if xv_feature af_xdp; then
	xvctl vm move v1 --port xsk --ifname "$TAP2" >"$XV_TMP/e.txt" 2>&1 || fail "tap -> xsk: $(cat "$XV_TMP/e.txt")"
	[ "$(vm_field v1 port)" = xsk ] || fail "vm show after the move to xsk: $(vm_field v1 port)"
	read -r _ _ xsk0 <<<"$(port_counts)"
	ip netns exec "$W" "$XV_BIN/xvnet-seqgen" --dev "$WIRE" --dst-mac $MAC --flows 1 \
		--count 500 --rate 10000 >/dev/null || fail "seqgen"
	sleep 0.3
	read -r _ _ xsk1 <<<"$(port_counts)"
	[ $((xsk1 - xsk0)) = 500 ] || fail "xsk: $((xsk1 - xsk0)) of 500 frames to the sockets"
	xvctl vm move v1 --port tap --ifname "$TAP" >/dev/null || fail "xsk -> tap"
	[ "$(vm_field v1 port)" = tap ] || fail "vm show after xsk -> tap"
	log "xsk: tap -> xsk (500/500 frames to its sockets) -> tap"
	# vhost-user: the xsk port with the back-end xvnetd runs, to a front-end
	VSOCK=$XV_TMP/v1.vhost
	xvctl vm move v1 --port vhost-user --ifname "$TAP2" --vhost-socket "$VSOCK" >"$XV_TMP/e.txt" 2>&1 ||
		fail "tap -> vhost-user: $(cat "$XV_TMP/e.txt")"
	[ "$(vm_field v1 port)" = vhost-user ] || fail "vm show after the move to vhost-user: $(vm_field v1 port)"
	wait_until 5 test -S "$VSOCK" || fail "no back-end on $VSOCK after the move: $(xvctl -j vm show v1)"
	bg_start "$XV_TMP/sink.log" "$XV_BIN/xvnet-vhostsink" --vhost-socket "$VSOCK" --stats "$XV_TMP/sink.stats"
	SINK_PID=$BG_PID
	wait_until 10 grep -q XVNET-VHOSTSINK-READY "$XV_TMP/sink.log" || fail "front-end: $(cat "$XV_TMP/sink.log")"
	ip netns exec "$W" "$XV_BIN/xvnet-seqgen" --dev "$WIRE" --dst-mac $MAC --flows 1 \
		--count 500 --rate 10000 >/dev/null || fail "seqgen"
	# shellcheck disable=SC2317  # called through wait_until
	sunk() { [ "$(cut -d' ' -f1 "$XV_TMP/sink.stats" 2>/dev/null || echo 0)" = 500 ]; }
	wait_until 5 sunk || fail "vhost-user: the front-end got $(cut -d' ' -f1 "$XV_TMP/sink.stats") of 500"
	BPID=$(xvctl -j vm show v1 | jq -r "$XV_JQ_PY"' .["vhost"]["pid"] | py')
	xvctl vm move v1 --port tap --ifname "$TAP" >/dev/null || fail "vhost-user -> tap"
	[ "$(vm_field v1 port)" = tap ] || fail "vm show after vhost-user -> tap"
	# the back-end hands the sockets back but keeps its front-end's
	# connection (a migration's source must not see its link go down)
	grep -q "sockets handed back.*connection stays" "$XV_TMP/xvnetd.log" ||
		fail "the back-end did not hand the sockets back: $(grep xvnet-vhost "$XV_TMP/xvnetd.log" | tail -3)"
	[ ! -e "$VSOCK" ] || fail "the back-end still listens on $VSOCK after the move"
	sleep 1
	if [ ! -e "/proc/$BPID" ] || grep -q zombie "/proc/$BPID/status"; then
		fail "the back-end closed its front-end's connection at the move"
	fi
	proc_stop "$SINK_PID"
	wait_until 3 test ! -e "/proc/$BPID" || fail "the back-end outlived its front-end after the move"
	log "vhost-user: tap -> vhost-user (500/500 frames through xvnet-vhost to a front-end) -> tap (sockets handed back, the front-end's connection kept until it closed)"
else
	log "xsk part skipped: no AF_XDP here"
fi
pass "vm move: abort stays, $done_moves moves under a $RATE/s numbered stream lose/duplicate/reorder nothing, restarts mid-move end on one side, xsk and vhost-user moves"
