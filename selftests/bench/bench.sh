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
# SCALE_VMS, SCALE_FLOWS, CP_FLOWS, OUT (docs/bench/results.json; the
# Markdown summary and the PNG plots are written beside it).
. "$(dirname "$0")/../lib/common.sh"

REPS=${REPS:-3}
WARM=${WARM:-1}
DUR=${DUR:-3}
SCALING=${SCALING:-1}
GEN_CPU=${GEN_CPU:-0}
RX_CPU=${RX_CPU:-1}
OUT=${OUT:-$XV_ROOT/docs/bench/results.json}
ROWS=${ROWS:-ceiling bridge-veth bridge-tap xvnet-veth xvnet-tap xvnet-xsk xvnet-veth-4q xvnet-tap-4q ovs-veth ovs-tap}
VM_MAC=02:00:00:00:01:01

require_root
require_bin xvnet-trafgen xvnet-tapread xvnet-xdpsink
case "$ROWS" in *xvnet*) require_bin xvnetd xvnetctl ;; esac
require_cmd ethtool python3 bpftool
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

tapread_start() { # STATS DEV [QUEUES]
	local stats=$1 dev=$2
	bg_start "$XV_TMP/tapread.log" taskset -c "$RX_CPU" "$XV_BIN/xvnet-tapread" --dev "$dev" \
		--queues "${3:-1}" --stats "$stats"
	TAPREAD_PID=$BG_PID
	wait_until 10 test -s "$stats" || fail "tapread did not start: $(cat "$XV_TMP/tapread.log")"
}

# ---- xvnetd ------------------------------------------------------------------
xvnetd_start() {
	printf 'nic %s\n' "$NIC" >"$CONF"
	[ $# -gt 0 ] && printf '%s\n' "$@" >>"$CONF"
	# a fresh state directory each time: every row starts from its config
	rm -rf "$XV_TMP/state"
	bg_start "$XV_TMP/xvnetd.log" "$XV_BIN/xvnetd" --foreground --config "$CONF" \
		--state-dir "$XV_TMP/state" --socket "$SOCK" --pin-dir "$PIN"
	XVNETD_PID=$BG_PID
	cleanup_add "$XV_BIN/xvnetd" --teardown --config "$CONF" --state-dir "$XV_TMP/state" \
		--socket "$SOCK" --pin-dir "$PIN"
	# status answers (0 healthy, 3 degraded)
	wait_until 20 bash -c '"$@" status >/dev/null; [ $? -ne 1 ]' _ "${CTL[@]}" || fail "xvnetd did not start: $(tail -5 "$XV_TMP/xvnetd.log")"
}

xvnetd_stop() {
	"${CTL[@]}" shutdown --teardown >/dev/null 2>&1 || true
	proc_stop "$XVNETD_PID"
	"$XV_BIN/xvnetd" --teardown --config "$CONF" --state-dir "$XV_TMP/state" --socket "$SOCK" \
		--pin-dir "$PIN" >/dev/null 2>&1 || true
}

. "$(dirname "$0")/row_ovs.sh"   # row_ovs_veth, row_ovs_tap: Open vSwitch AF_XDP
. "$(dirname "$0")/row_xsk.sh"   # row_xvnet_xsk: AF_XDP port, reference consumer
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
	prog_cost nic_rx
	proc_stop "$SINK_PID"
	xvnetd_stop
}

# record JSON: one result line
record() { echo "$1" >>"$OUT.tmp"; log "$1"; }

# prog_cost NAME: the program's own run time per packet (bpf_stats), over
# one extra generator run; the stats cost a little, so not during measure.
prog_cost() {
	local name=$1 id before after
	id=$(bpftool -j prog show name "$name" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d if isinstance(d,list) else [d]; print(d[-1]["id"])')
	sysctl -qw kernel.bpf_stats_enabled=1
	before=$(bpftool -j prog show id "$id")
	ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac "$VM_MAC" --cpu "$GEN_CPU" \
		--duration "$DUR" --json >/dev/null
	after=$(bpftool -j prog show id "$id")
	sysctl -qw kernel.bpf_stats_enabled=0
	record "$(python3 -c '
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n = a.get("run_cnt", 0) - b.get("run_cnt", 0)
t = a.get("run_time_ns", 0) - b.get("run_time_ns", 0)
print(json.dumps({"row": "prog-cost", "prog": sys.argv[3], "runs": n, "ns_per_packet": round(t / n, 1) if n else None}))' "$before" "$after" "$name")"
}

# maps_memory: bytes the pinned maps take (bpftool memlock), total and flows
maps_memory() {
	local m total=0 flows=0 b
	for m in "$PIN"/xvnet_*; do
		b=$(bpftool -j map show pinned "$m" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("bytes_memlock", 0))')
		total=$((total + b))
		[ "${m##*/}" = xvnet_flows ] && flows=$b
	done
	echo "\"maps_bytes\":$total,\"flows_map_bytes\":$flows"
}

# ---- scaling: VMs (1, 16, 256, 1024), traffic spread over all -------------
# VM i has MAC 02:00:00:01:HH:LL (i in the last two bytes), a veth port with
# its far end vNNNN in namespace V; trafgen --macs N walks the same MACs.
scale_vms() {
	local sizes=${SCALE_VMS:-1 16 256 1024} have=0 n i mac t0 t1
	xvnetd_start
	for n in $sizes; do
		t0=$(date +%s%N)
		for ((i = have; i < n; i++)); do
			printf -v mac '02:00:00:01:%02x:%02x' $((i >> 8)) $((i & 255))
			"${CTL[@]}" vm add "s$i" --mac "$mac" --port veth --netns "$V" \
				--peer-ifname "v$i" >/dev/null || fail "vm add s$i refused"
		done
		t1=$(date +%s%N)
		[ "$n" -gt "$have" ] && record "{\"row\":\"cp-vm-add\",\"vms\":$((n - have)),\"per_s\":$(( (n - have) * 1000000000 / (t1 - t0) ))}"
		have=$n
		local devs=()
		for ((i = 0; i < n; i++)); do devs+=("v$i"); done
		sink_start "scale-vms-$n" "$XV_TMP/sv.stats" --netns "$V" "${devs[@]}"
		GEN_MAC=02:00:00:01:00:00 GEN_MACS=$n measure scale-vms "$XV_TMP/sv.stats" ",\"vms\":$n,$(maps_memory)"
		proc_stop "$SINK_PID"
	done
	xvnetd_stop
}

# ---- scaling: flows in the flow cache (1, 1k, 100k, 1M) -------------------
scale_flows() {
	local sizes=${SCALE_FLOWS:-1 1000 100000 1000000} n out
	xvnetd_start "flow-max 2097152"
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 \
		|| fail "vm add (veth) refused"
	sink_start scale-flows "$XV_TMP/sf.stats" --netns "$V" eth1
	for n in $sizes; do
		out=$("$XV_BIN/xvnet-flowfill" --pin-dir "$PIN" --count "$n") || fail "flowfill $n"
		record "{\"row\":\"cp-flowfill\",\"fill\":$out}"
		local h0; h0=$(xv_stat flow_hit)
		GEN_FLOWS=$n measure scale-flows "$XV_TMP/sf.stats" ",\"flows\":$n,$(maps_memory)"
		[ "$(xv_stat flow_hit)" -gt "$h0" ] || fail "scale-flows $n: the generator's flows missed the flow cache"
	done
	proc_stop "$SINK_PID"
	xvnetd_stop
}

xv_stat() {
	"${CTL[@]}" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

# ---- control plane: single flow adds through xvnetctl, vm add -> first packet
control_plane() {
	local n=${CP_FLOWS:-200} i t0 t1 first
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 \
		|| fail "vm add (veth) refused"
	t0=$(date +%s%N)
	for ((i = 0; i < n; i++)); do
		"${CTL[@]}" flow add --proto udp --src 10.98.$((i >> 8)).$((i & 255)) --sport 1 \
			--dst 10.99.0.2 --dport 7777 --action deliver --vm vm1 >/dev/null || fail "flow add $i"
	done
	t1=$(date +%s%N)
	record "{\"row\":\"cp-flow-add\",\"flows\":$n,\"per_s\":$(( n * 1000000000 / (t1 - t0) ))}"

	# vm add -> first delivered packet, with traffic already arriving: the
	# tap exists first (xvnetd adopts it) so its reader notes the first frame
	local tap7; tap7=$(xv_name tap7)
	tap_create "$tap7"
	bg_start "$XV_TMP/tap7.log" "$XV_BIN/xvnet-tapread" --dev "$tap7" --first-packet "$XV_TMP/first"
	local rd=$BG_PID
	sleep 0.2
	ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac 02:00:00:00:07:07 \
		--rate 100000 --duration 3 >/dev/null &
	local gen=$!
	sleep 0.5
	t0=$(date +%s%N)
	"${CTL[@]}" vm add vm7 --mac 02:00:00:00:07:07 --port tap --ifname "$tap7" >/dev/null ||
		fail "vm add vm7"
	t1=$(date +%s%N)
	wait "$gen"
	proc_stop "$rd"
	[ -s "$XV_TMP/first" ] || fail "vm7 never received a packet"
	first=$(cat "$XV_TMP/first")
	record "{\"row\":\"cp-vm-add-first-packet\",\"vm_add_ms\":$(( (t1 - t0) / 1000000 )),\"first_packet_ms\":$(awk "BEGIN {printf \"%.1f\", ($first - $t0) / 1e6}")}"
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

# 4-queue ports: delivered on the queue RSS chose through the skb path
# (docs/datapath.md), 1000 flows so that all queues are busy.
row_xvnet_veth_4q() {
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 \
		--queues 4 || fail "vm add (4-queue veth) refused"
	sink_start xvnet-veth-4q "$XV_TMP/xv4.stats" --netns "$V" eth1
	GEN_FLOWS=1000 measure xvnet-veth-4q "$XV_TMP/xv4.stats"
	proc_stop "$SINK_PID"
	xvnetd_stop
}

row_xvnet_tap_4q() {
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port tap --ifname "$TAP" --queues 4 ||
		fail "vm add (4-queue tap) refused"
	cleanup_add ip link del "$TAP"
	tapread_start "$XV_TMP/xt4.stats" "$TAP" 4
	GEN_FLOWS=1000 measure xvnet-tap-4q "$XV_TMP/xt4.stats"
	proc_stop "$TAPREAD_PID"
	xvnetd_stop
	ip link del "$TAP" 2>/dev/null || true
}

for row in $ROWS; do
	log "row $row"
	"row_${row//-/_}"
done
if [ "$SCALING" = 1 ]; then
	log "scaling: VMs"; scale_vms
	log "scaling: flows"; scale_flows
	log "control plane"; control_plane
fi

mv "$OUT.tmp" "$OUT"
python3 "$XV_ROOT/selftests/bench/report.py" "$OUT" --plots "$(dirname "$OUT")" | tee "${OUT%.json}.md"
pass "bench done: $OUT"
