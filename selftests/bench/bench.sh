#!/usr/bin/env bash
# make bench / make bench-quick: xvnet against the Linux bridge and the
# machine's ceiling, in one run, on one topology.
#
# Topology: namespace W holds the traffic source (xvnet-trafgen, live XDP
# frames) and one end of a veth pair; the other end is "the NIC" in the root
# namespace, where xvnetd runs.  The VM is a veth pair (far end in namespace V,
# consumed by an XDP counting sink) or a tap (read with read() by
# xvnet-tapread, as a VMM would).
# CPUs: the generator runs alone on CPU $GEN_CPU; the NIC's NAPI (threaded)
# and the VM side run on CPU $RX_CPU.  64-byte UDP frames (60 + FCS).
#
# Environment: REPS (3), WARM (1 s), DUR (3 s), ROWS (all), SCALING (1),
# OUT (build/bench/results.json).
. "$(dirname "$0")/../lib/common.sh"

REPS=${REPS:-3}
WARM=${WARM:-1}
DUR=${DUR:-3}
SCALING=${SCALING:-1}
GEN_CPU=${GEN_CPU:-0}
RX_CPU=${RX_CPU:-1}
OUT=${OUT:-$XV_BUILD/bench/results.json}
ROWS=${ROWS:-ceiling bridge-veth bridge-tap xvnet-veth xvnet-tap}
VM_MAC=02:00:00:00:01:01

require_root
require_bin xvnet-trafgen xvnet-tapread xvnet-xdpsink
case "$ROWS" in *xvnet*) require_bin xvnetd xvnetctl ;; esac
require_cmd ethtool python3
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and receive path apart)"
mkdir -p "$(dirname "$OUT")"
: >"$OUT.tmp"

W=$(xv_name w)          # wire namespace
V=$(xv_name v)          # VM namespace
WIRE=$(xv_name wire)    # generator's device (in W)
NIC=$(xv_name nic)      # the NIC (root namespace)
BR=$(xv_name br)
VMH=$(xv_name vmh)      # VM veth, host end (bridge rows)
TAP=$(xv_name tap)
CONF=$XV_TMP/xvnetd.conf
SOCK=$XV_TMP/xvnetd.sock
PIN=/sys/fs/bpf/${XV_PREFIX}pins
CTL=("$XV_BIN/xvnetctl" -s "$SOCK")

ns_create "$W"
ns_create "$V"
veth_create "$WIRE" "$NIC" "$W" ""

# The NIC's NAPI is threaded and pinned so it never shares the generator's
# CPU.  veth only has NAPI while XDP or GRO is on, so GRO stays on.
ethtool -K "$NIC" gro on >/dev/null
echo 1 >"/sys/class/net/$NIC/threaded"
pin_napi() {
	local pid
	for pid in $(pgrep "^napi/$NIC-"); do
		taskset -pc "$RX_CPU" "$pid" >/dev/null
	done
}

# measure ROW STATSFILE [EXTRA-JSON]: run the generator, sample the sink's
# counter after the warm-up and at the end; REPS times; one JSON line each.
measure() {
	local row=$1 stats=$2 extra=${3:-} rep gen t0 t1 a b pps
	for ((rep = 1; rep <= REPS; rep++)); do
		pin_napi
		ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac "${GEN_MAC:-$VM_MAC}" \
			--macs "${GEN_MACS:-1}" --flows "${GEN_FLOWS:-1}" --cpu "$GEN_CPU" \
			--duration "$(awk "BEGIN {print $WARM + $DUR + 0.5}")" --json >"$XV_TMP/gen.json" &
		gen=$!
		sleep "$WARM"
		a=$(cut -d" " -f1 "$stats"); t0=$(date +%s%N)
		sleep "$DUR"
		b=$(cut -d" " -f1 "$stats"); t1=$(date +%s%N)
		wait "$gen" || fail "generator failed in row $row"
		pps=$(( (b - a) * 1000000000 / (t1 - t0) ))
		log "$row rep $rep: $pps pps delivered ($(cat "$XV_TMP/gen.json"))"
		echo "{\"row\":\"$row\",\"rep\":$rep,\"pps\":$pps,\"sent\":$(cat "$XV_TMP/gen.json")$extra}" >>"$OUT.tmp"
	done
}

# sink_start NAME STATS [--netns NS] DEV...: the XDP counting consumer
sink_start() {
	local name=$1 stats=$2; shift 2
	bg_start "$XV_TMP/$name.log" "$XV_BIN/xvnet-xdpsink" --stats "$stats" "$@"
	SINK_PID=$BG_PID
	wait_until 10 test -s "$stats" || fail "$name: sink did not start: $(cat "$XV_TMP/$name.log")"
}

tapread_start() {
	local stats=$1 dev=$2
	bg_start "$XV_TMP/tapread.log" taskset -c "$RX_CPU" "$XV_BIN/xvnet-tapread" --dev "$dev" --stats "$stats"
	TAPREAD_PID=$BG_PID
	wait_until 10 test -s "$stats" || fail "tapread did not start: $(cat "$XV_TMP/tapread.log")"
}

# ---- xvnetd ------------------------------------------------------------------
xvnetd_start() {
	printf 'nic %s\n' "$NIC" >"$CONF"
	bg_start "$XV_TMP/xvnetd.log" "$XV_BIN/xvnetd" --foreground --config "$CONF" --socket "$SOCK" --pin-dir "$PIN"
	XVNETD_PID=$BG_PID
	cleanup_add "$XV_BIN/xvnetd" --teardown --config "$CONF" --socket "$SOCK" --pin-dir "$PIN"
	wait_until 20 "${CTL[@]}" status || fail "xvnetd did not start: $(tail -5 "$XV_TMP/xvnetd.log")"
}

xvnetd_stop() {
	"${CTL[@]}" shutdown --teardown >/dev/null 2>&1 || true
	proc_stop "$XVNETD_PID"
	"$XV_BIN/xvnetd" --teardown --config "$CONF" --socket "$SOCK" --pin-dir "$PIN" >/dev/null 2>&1 || true
}

# ---- rows --------------------------------------------------------------------
row_ceiling() {
	sink_start ceiling "$XV_TMP/ceiling.stats" "$NIC"
	measure ceiling "$XV_TMP/ceiling.stats"
	proc_stop "$SINK_PID"
}

row_bridge_veth() {
	bridge_create "$BR"
	local peer
	peer=$(xv_name vmp)
	veth_create "$VMH" "$peer" "" "$V"
	ip -n "$V" link set "$peer" address "$VM_MAC"
	bridge_add "$BR" "$NIC"
	bridge_add "$BR" "$VMH"
	bridge fdb replace "$VM_MAC" dev "$VMH" master static
	sink_start bridge-veth "$XV_TMP/bv.stats" --netns "$V" "$peer"
	measure bridge-veth "$XV_TMP/bv.stats"
	proc_stop "$SINK_PID"
	ip link set "$NIC" nomaster
	link_del "$VMH"
	link_del "$BR"
}

row_bridge_tap() {
	bridge_create "$BR"
	tap_create "$TAP"
	bridge_add "$BR" "$NIC"
	bridge_add "$BR" "$TAP"
	bridge fdb replace "$VM_MAC" dev "$TAP" master static
	tapread_start "$XV_TMP/bt.stats" "$TAP"
	measure bridge-tap "$XV_TMP/bt.stats"
	proc_stop "$TAPREAD_PID"
	ip link set "$NIC" nomaster
	link_del "$TAP"
	link_del "$BR"
}

row_xvnet_veth() {
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 \
		|| fail "vm add (veth) refused"
	sink_start xvnet-veth "$XV_TMP/xv.stats" --netns "$V" eth1
	measure xvnet-veth "$XV_TMP/xv.stats"
	proc_stop "$SINK_PID"
	xvnetd_stop
}

row_xvnet_tap() {
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port tap --ifname "$TAP" || fail "vm add (tap) refused"
	cleanup_add ip link del "$TAP"
	tapread_start "$XV_TMP/xt.stats" "$TAP"
	measure xvnet-tap "$XV_TMP/xt.stats"
	proc_stop "$TAPREAD_PID"
	xvnetd_stop
}

for row in $ROWS; do
	log "row $row"
	"row_${row//-/_}"
done

mv "$OUT.tmp" "$OUT"
python3 "$XV_ROOT/selftests/bench/report.py" "$OUT"
pass "bench done: $OUT"
