#!/usr/bin/env bash
# make bench / make bench-quick: xvnet against a reference on the same port,
# in interleaved rounds.  docs/PERFORMANCE.md explains the method and holds
# the last full run.
#
# This machine's speed swings 2-4x over minutes, so no row is measured on
# its own: every compared pair (A, B) is measured A B A B ... ROUNDS times,
# DUR seconds each, seconds apart, and the report gives the ratio A/B of
# every round, their median and their spread (min-max).  The reference B is
# always on the same NIC, to the same port kind and the same consumer:
#
#   veth, flows-N, vms-N, tap, xsk: xvnet's nic_rx vs the trivial redirect
#     (bpf/bench_redirect.bpf.c, through a DEVMAP or xvnetd's XSKMAP), swapped
#     in xvnetd's own pinned XDP link with bpf_link_update (xvnet-xdpswap),
#     so nothing but the program changes between A and B;
#   veth-core, flows-1-core (PAIRS entry "core"), xsk-core (with the xsk
#     pair): the same programs, each run in place of the NIC on the
#     forwarding core (xvnet-trafgen --prog-pin, live frames only), with no
#     generator on the other core: the forwarding core's cost per frame,
#     which the state of an overdriven NIC does not move
#     (docs/PERFORMANCE.md, "the forwarding core alone");
#   bridge-veth, bridge-tap: xvnet vs the Linux bridge (the NIC is a bridge
#     port all along; the bridge arm swaps the link to XDP_PASS), the VM
#     port of each on the same consumer;
#   vhost, vhost-deep: two VMs behind xvnet's nic_rx in one xvnetd, the
#     arm is the destination MAC: a vhost-user VM (--port vhost-user:
#     xvnetd runs its xvnet-vhost) to a receive-only vhost-user front-end
#     (xvnet-vhostsink, the "guest": copies into its virtqueue buffers) vs
#     a tap VM read by xvnet-tapread, both with the same buffering (default
#     sizes; 8192 frames); the back-end,
#     the front-end and the tap reader on APP_CPU; their CPU time per frame
#     is recorded as the row vhost-cost;
#   ovs-veth, ovs-tap: xvnet vs Open vSwitch (userspace datapath, AF_XDP
#     NIC port): both own the NIC's XDP, so each round stops one and starts
#     the other (rounds tens of seconds apart instead of a few);
#   ovs-vhost: the vhost pair's vhost-user VM -> xvnet-vhost -> xvnet-vhostsink vs
#     OVS-DPDK (Debian's openvswitch-switch-dpdk: AF_XDP NIC port, a
#     dpdkvhostuserclient port served by xvnet-vhostsink --listen), stopped
#     and started in turn as the ovs pairs are (selftests/bench/row_ovs.sh).
#
# Topology: namespace W holds the traffic source (xvnet-trafgen: live XDP
# frames where the kernel allows them, else AF_PACKET; it says which, and
# its own rate is printed beside every row) and one end of a veth pair; the
# other end is "the NIC" in the root namespace.  A veth VM's far end (in
# namespace V) runs xvnet-xdpsink (count + drop), a tap VM is read by
# xvnet-tapread with io_uring (64 reads in flight, frames per wakeup
# reported), an xsk VM by xvnet-xskdump, which copies every frame out of
# the UMEM as a VMM back-end copies it into its guest (XSK_COPY=0: it reads
# only the metadata, as the bench did before 2026-12-08).
# CPUs: the generator on GEN_CPU (0); the NIC's NAPI thread alone on RX_CPU
# (1), so that CPU does the forwarding and nothing else; user-space
# consumers (tap reader, xsk consumer) on APP_CPU (GEN_CPU): with two cores
# they share the generator's.  Each sample records both CPUs' busy time;
# "rx ns/pkt" = busy time of RX_CPU / frames delivered: the forwarding cost
# per frame whether or not the core is saturated.
#
# Environment: ROUNDS (5), DUR (2 s), WARM (0.5 s), PAIRS (all), ORDER (ab;
# ba or abba to check for an order effect), FLOWS
# ("1 100000 1000000"), SCALE_VMS (1024), COST (1: xvnet-costbench too),
# COST_ARGS, CP (1: control-plane rates; CP_BATCH_FLOWS, 60000: the flows
# of the batch row, under the 65536 configured flows xvnet holds), OUT (docs/bench/results.json; the
# Markdown summary and the plots are written beside it).
. "$(dirname "$0")/../lib/common.sh"

ROUNDS=${ROUNDS:-5}
DUR=${DUR:-2}
WARM=${WARM:-0.5}
GEN_CPU=${GEN_CPU:-0}
RX_CPU=${RX_CPU:-1}
APP_CPU=${APP_CPU:-$GEN_CPU}
FLOWS=${FLOWS:-1 100000 1000000}
SCALE_VMS=${SCALE_VMS:-1024}
COST=${COST:-1}
CP=${CP:-1}
OUT=${OUT:-$XV_ROOT/docs/bench/results.json}
FMT=$XV_ROOT/selftests/bench/benchfmt.py
PAIRS=${PAIRS:-veth core flows tap xsk vhost vhost-deep vms bridge-veth bridge-tap ovs-veth ovs-tap ovs-vhost}
ORDER=${ORDER:-ab}      # ab: A B A B ...; ba; abba: A B B A A B ...
VM_MAC=02:00:00:00:01:01

require_root
require_bin xvnet-trafgen xvnet-tapread xvnet-xdpsink xvnet-xdpswap xvnet-flowfill xvnetd xvnetctl
require_cmd ethtool python3 bpftool
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and receive path apart)"
mkdir -p "$(dirname "$OUT")"
: >"$OUT.tmp"

W=$(xv_name w)          # wire namespace
V=$(xv_name v)          # VM namespace
WIRE=$(xv_name wire)    # generator's device (in W)
NIC=$(xv_name nic)      # the NIC (root namespace)
BR=$(xv_name br)
CONF=$XV_TMP/xvnetd.conf
SOCK=$XV_TMP/xvnetd.sock
PIN=/sys/fs/bpf/${XV_PREFIX}pins
SWAP=/sys/fs/bpf/${XV_PREFIX}swap
CTL=("$XV_BIN/xvnetctl" -s "$SOCK")
XVNETD_PID=""

ns_create "$W"
ns_create "$V"
# Every VM's far end is in this one namespace (up to SCALE_VMS of them), not
# one per VM as on a VM host: with IPv6 on, each new one's link-local route
# joins 1000 others of fe80::/64 and every DAD/MLD frame's route lookup
# walks them all (fib6 __find_rr_leaf was 35% of the CPU while VMs were
# added), which the rows would charge to xvnet's vm add.  IPv4 only here.
ip netns exec "$V" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
veth_create "$WIRE" "$NIC" "$W" ""
cleanup_add rm -rf "$SWAP"

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

record() { echo "$1" >>"$OUT.tmp"; }

# ---- one sample ----------------------------------------------------------------
# STATS: files whose first field counts frames delivered (summed).
# DROPS: "label ns dev field" entries (ns "-" = root), read before and after.
# XSK_VM: an xsk VM whose socket drops come from `xvnetctl stats`.
# TAP_VM: a tap VM whose port drops come from xvnetd's redirect-error
# counters (tap_xdp_dropped): the tap's own tx_dropped undercounts them.
STATS=()
DROPS=()
XSK_VM=""
TAP_VM=""
GEN_FLOWS=1
GEN_MACS=1
GEN_MAC=$VM_MAC

# delivered: "COUNT:MTIME_NS" per stats file; the writers rename a fresh file
# every 100 ms, so its mtime is when the count was taken (the rate is then
# exact over the writer's own interval, not off by up to 100 ms)
delivered() {
	local f v t
	for f in "${STATS[@]}"; do
		t=$(stat -c %.9Y "$f" 2>/dev/null | tr -d .) || t=0
		v=$(cut -d" " -f1 "$f" 2>/dev/null) || v=0
		printf '%s:%s ' "${v:-0}" "${t:-0}"
	done
}

# wakeups: the tap reader's io_uring enters that returned frames ("w=N")
wakeups() {
	local f n=0 v
	for f in "${STATS[@]}"; do
		v=$(grep -o 'w=[0-9]*' "$f" 2>/dev/null | cut -d= -f2)
		n=$((n + ${v:-0}))
	done
	echo "$n"
}

# cpu_snap: "busy total" jiffies of GEN_CPU then RX_CPU (/proc/stat)
cpu_snap() {
	awk -v g="cpu$GEN_CPU" -v r="cpu$RX_CPU" '
		$1 == g || $1 == r { b = $2 + $3 + $4 + $7 + $8; t = b + $5 + $6 + $9; v[$1] = b " " t }
		END { print v[g], v[r] }' /proc/stat
}

# The forwarding work: the NIC's NAPI thread(s), pinned to RX_CPU, and
# ksoftirqd there.  Without CONFIG_IRQ_TIME_ACCOUNTING (this kernel) the
# VM side's NAPI polls that the forwarding raises run in the NAPI thread's
# context and count as its run time; foreign tasks on RX_CPU do not.
# FWD_EXTRA_PIDS: more (OVS's PMD threads).
FWD_EXTRA_PIDS=""
fwd_pids() { { pgrep "^napi/$NIC-"; pgrep -x "ksoftirqd/$RX_CPU"; } | tr '\n' ' '; echo "$FWD_EXTRA_PIDS"; }
# fwd_snap PIDS: their summed run time in ns (/proc/PID/schedstat)
fwd_snap() {
	local p t n=0
	for p in $1; do
		read -r t _ <"/proc/$p/schedstat" 2>/dev/null || t=0
		n=$((n + ${t:-0}))
	done
	echo "$n"
}

drop_snap() {
	local d label ns dev field v
	for d in "${DROPS[@]}"; do
		read -r label ns dev field <<<"$d"
		if [ "$ns" = - ]; then
			v=$(cat "/sys/class/net/$dev/statistics/$field" 2>/dev/null)
		else
			v=$(ip netns exec "$ns" cat "/sys/class/net/$dev/statistics/$field" 2>/dev/null)
		fi
		printf '%s=%s ' "$label" "${v:-0}"
	done
	if [ -n "$XSK_VM" ]; then
		"${CTL[@]}" -j stats "$XSK_VM" 2>/dev/null | python3 "$FMT" xsk
	fi
	if [ -n "$TAP_VM" ]; then
		"${CTL[@]}" -j stats "$TAP_VM" 2>/dev/null | python3 "$FMT" xmitdrop tap_xdp_dropped
	fi
}

# sample PAIR ARM ROUND [EXTRA-JSON]: one generator run; one JSON line.
# CORE=1: no generator in W; the arm's program itself runs on RX_CPU on
# the template frame as if the NIC had received it (xvnet-trafgen
# --prog-pin), so its redirects, their flush, the port's transmit and the
# VM side's NAPI all run there; the forwarding work is that process's (and
# ksoftirqd's) run time, per frame it ran.
CORE=0
sample() {
	local pair=$1 arm=$2 round=$3 extra=${4:-} gen a b w0 w1 c0 c1 d0 d1 t0 t1 f0 f1 pids
	local secs
	# The source must outlast the window, whose snapshots can take seconds
	# on a saturated machine where they ask xvnetctl (an xsk or tap VM's
	# drops): it is stopped (SIGINT, it then reports) once they are taken.
	secs=$(awk "BEGIN {print $WARM + $DUR + 20}")
	pin_napi
	if [ "$CORE" = 1 ]; then
		"$XV_BIN/xvnet-trafgen" --dev "$NIC" --prog-pin "$SWAP/$(arm_prog "$arm")" \
			--dst-mac "$GEN_MAC" --cpu "$RX_CPU" --duration "$secs" --json \
			>"$XV_TMP/gen.json" 2>"$XV_TMP/gen.err" &
		gen=$!
		sleep "$WARM"
		pids="$gen $(pgrep -x "ksoftirqd/$RX_CPU")"
	else
		ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac "$GEN_MAC" \
			--macs "$GEN_MACS" --flows "$GEN_FLOWS" --cpu "$GEN_CPU" \
			--duration "$secs" --json >"$XV_TMP/gen.json" 2>"$XV_TMP/gen.err" &
		gen=$!
		sleep "$WARM"
		pids=$(fwd_pids)
	fi
	# (in CORE mode the NIC's counter stands still: benchfmt takes the
	# frames the program ran from the source's own rate)
	a=$(delivered); w0=$(wakeups); c0=$(cpu_snap); f0=$(fwd_snap "$pids"); d0=$(drop_snap)
	f0="$f0 $(cat "/sys/class/net/$NIC/statistics/rx_packets")"
	t0=$(date +%s%N)
	sleep "$DUR"
	b=$(delivered); w1=$(wakeups); c1=$(cpu_snap); f1=$(fwd_snap "$pids")
	kill -0 "$gen" 2>/dev/null || fail "$pair $arm: the source ended inside the sample's window"
	d1=$(drop_snap)
	f1="$f1 $(cat "/sys/class/net/$NIC/statistics/rx_packets")"
	t1=$(date +%s%N)
	kill -INT "$gen"
	wait "$gen" || fail "generator failed ($pair $arm): $(cat "$XV_TMP/gen.err")"
	local line
	line=$(python3 "$FMT" sample "$pair" "$arm" "$round" "$a" "$b" "$w0" "$w1" "$c0" "$c1" \
		"$f0" "$f1" "$t0" "$t1" "$d0" "$d1" "$(cat "$XV_TMP/gen.json")" "{${extra#,}}") ||
		fail "sample $pair $arm: bad numbers"
	record "$line"
	log "$pair round $round $arm: $(python3 "$FMT" line "$line")"
}

# pair NAME ARM_A ARM_B [EXTRA-JSON]: ROUNDS rounds of A then B; arm_use
# switches.  Ends with arm A in place.
pair() {
	local name=$1 a=$2 b=$3 extra=${4:-} r arm
	log "pair $name: $a vs $b, $ROUNDS rounds of $DUR s"
	for ((r = 1; r <= ROUNDS; r++)); do
		local arms=("$a" "$b")
		# ORDER=ba: B first; ORDER=abba: the first arm alternates by round
		if [ "$ORDER" = ba ] || { [ "$ORDER" = abba ] && ((r % 2 == 0)); }; then
			arms=("$b" "$a")
		fi
		for arm in "${arms[@]}"; do
			arm_use "$arm"
			sample "$name" "$arm" "$r" "$extra"
		done
	done
	arm_use "$a"
}

# arm_prog ARM: the program (pinned in $SWAP) of an XDP arm
arm_prog() {
	case $1 in
	xvnet) echo xvnet ;;
	trivial) echo triv_devmap ;;
	trivial-mem) echo triv_memread ;;
	trivial-xsk) echo triv_xsk ;;
	bridge) echo triv_pass ;;
	*) return 1 ;;
	esac
}

# arm_use ARM: xvnet | trivial | trivial-xsk | bridge: the NIC link's program
arm_use() {
	local p
	case $1 in
	ovs) ovs_arm_on || fail "ovs: $OVS_SKIP"; sleep 0.5; return ;;
	xvnet-restart) xvnet_arm_on; sleep 0.5; return ;;
	# pair vhost: the same program, another VM
	vhost) GEN_MAC=$VHOST_MAC; STATS=("$VHOST_SINK_STATS"); XSK_VM=vh1; return ;;
	tap-read) GEN_MAC=$VM_MAC; STATS=("$VHOST_TAP_STATS"); XSK_VM=""; return ;;
	*) p=$(arm_prog "$1") || fail "unknown arm $1" ;;
	esac
	"$XV_BIN/xvnet-xdpswap" use --pin-dir "$PIN" "$SWAP/$p" || fail "swap to $1"
	sleep 0.2
}

# swap_load [xvnet-xdpswap options]: the trivial programs for the VMs now
# configured (arm xvnet on)
swap_load() {
	local out
	out=$("$XV_BIN/xvnet-xdpswap" load --pin-dir "$PIN" --out "$SWAP" "$@") || fail "xvnet-xdpswap load"
	log "trivial programs loaded: $out"
}

# sink_start NAME STATS [--netns NS] DEV...: the XDP counting consumer
sink_start() {
	local name=$1 stats=$2; shift 2
	bg_start "$XV_TMP/$name.log" "$XV_BIN/xvnet-xdpsink" --stats "$stats" "$@"
	SINK_PID=$BG_PID
	wait_until 10 test -s "$stats" || fail "$name: sink did not start: $(cat "$XV_TMP/$name.log")"
}

# tapread_start STATS DEV: the io_uring reader on APP_CPU
tapread_start() {
	local stats=$1 dev=$2
	bg_start "$XV_TMP/tapread-$dev.log" taskset -c "$APP_CPU" "$XV_BIN/xvnet-tapread" --dev "$dev" \
		--io uring --batch 64 --stats "$stats"
	TAPREAD_PID=$BG_PID
	wait_until 10 test -s "$stats" || fail "tapread did not start: $(cat "$XV_TMP/tapread-$dev.log")"
}

# ---- xvnetd ------------------------------------------------------------------
xvnetd_start() {
	printf 'nic %s\n' "$NIC" >"$CONF"
	[ $# -gt 0 ] && printf '%s\n' "$@" >>"$CONF"
	rm -rf "$XV_TMP/state"
	bg_start "$XV_TMP/xvnetd.log" "$XV_BIN/xvnetd" --foreground --config "$CONF" \
		--state-dir "$XV_TMP/state" --socket "$SOCK" --pin-dir "$PIN"
	XVNETD_PID=$BG_PID
	# on any exit: stop this daemon first, then tear down what it left
	# (a teardown while it still runs leaves the pins behind)
	cleanup_add xvnetd_cleanup "$XVNETD_PID"
	wait_until 20 bash -c '"$@" status >/dev/null; [ $? -ne 1 ]' _ "${CTL[@]}" ||
		fail "xvnetd did not start: $(tail -5 "$XV_TMP/xvnetd.log")"
}

xvnetd_cleanup() {
	proc_stop "$1"
	"$XV_BIN/xvnetd" --teardown --config "$CONF" --state-dir "$XV_TMP/state" --socket "$SOCK" \
		--pin-dir "$PIN" >/dev/null 2>&1
	rm -rf "$PIN" 2>/dev/null
	return 0
}

xvnetd_stop() {
	[ -n "$XVNETD_PID" ] || return 0
	"${CTL[@]}" shutdown --teardown >/dev/null 2>&1 || true
	proc_stop "$XVNETD_PID"
	"$XV_BIN/xvnetd" --teardown --config "$CONF" --state-dir "$XV_TMP/state" --socket "$SOCK" \
		--pin-dir "$PIN" >/dev/null 2>&1 || true
	XVNETD_PID=""
	rm -rf "$SWAP"
}

vm_ifname() { "${CTL[@]}" -j vm show "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d.get("ifname") or d.get("vm",{}).get("ifname",""))'; }

xv_stat() {
	"${CTL[@]}" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

# maps_memory: bytes the pinned maps take (bpftool memlock), total and flows
maps_memory() {
	local m total=0 flows=0 b
	for m in "$PIN"/xvnet_*; do
		b=$(bpftool -j map show pinned "$m" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("bytes_memlock", 0))' 2>/dev/null) || b=0
		total=$((total + ${b:-0}))
		[ "${m##*/}" = xvnet_flows ] && flows=${b:-0}
	done
	echo "\"maps_bytes\":$total,\"flows_map_bytes\":$flows"
}

# the drops every row shows: the wire (generator's veth) and the NIC
nic_drops() {
	DROPS=("wire_tx_dropped $W $WIRE tx_dropped" "nic_rx_dropped - $NIC rx_dropped")
}

# ---- pairs -------------------------------------------------------------------
# veth port, 1 VM; then the flow cache with FLOWS flows (same VM, same run)
# xvnet_veth_setup [xvnet-xdpswap options]
xvnet_veth_setup() {
	xvnetd_start "flow-max 2097152"   # room for the flows pair's 1M
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 >/dev/null \
		|| fail "vm add (veth) refused"
	VMH_IF=$(vm_ifname vm1)
	sink_start veth "$XV_TMP/veth.stats" --netns "$V" eth1
	STATS=("$XV_TMP/veth.stats")
	nic_drops
	DROPS+=("port_tx_dropped - $VMH_IF tx_dropped" "vm_rx_dropped $V eth1 rx_dropped")
	swap_load "$@"
}

pair_veth() {
	xvnet_veth_setup
	pair veth xvnet trivial ",\"port\":\"veth\",\"vms\":1,\"flows\":0"
	proc_stop "$SINK_PID"
	xvnetd_stop
}

# The veth port and a flow-cache hit with the forwarding core alone (CORE=1,
# at sample): what each program costs the core that forwards, with no
# generator on the other core.  A live generator there overdrives the NIC,
# and on 6.18.44-fc-v1272 the live veth pairs' ratio then follows a state
# of that NIC more than the programs' cost (PERFORMANCE.md, "the
# forwarding core alone").  Live frames only.
pair_core() {
	local h0
	if [ "$SOURCE_LIVE" != 1 ]; then
		local p
		for p in veth-core flows-1-core; do
			record "{\"pair\":\"$p\",\"skipped\":\"no live frames here (BPF_F_TEST_XDP_LIVE_FRAMES refused or disabled by XVNET_WITHOUT)\"}"
		done
		return
	fi
	xvnet_veth_setup
	CORE=1 pair veth-core xvnet trivial ",\"port\":\"veth\",\"vms\":1,\"flows\":0"
	"$XV_BIN/xvnet-flowfill" --pin-dir "$PIN" --count 1 >/dev/null || fail "flowfill 1"
	h0=$(xv_stat flow_hit)
	CORE=1 pair flows-1-core xvnet trivial ",\"port\":\"veth\",\"vms\":1,\"flows\":1"
	[ "$(xv_stat flow_hit)" -gt "$h0" ] || fail "flows-1-core: the frame missed the flow cache"
	proc_stop "$SINK_PID"
	xvnetd_stop
}

# After the largest flow count, the memory floor at that count: the trivial
# program plus one random read of a table with an entry per flow
# (triv_memread, not xvnet) against the trivial program, same traffic.
pair_flows() {
	local n out h0 nmax=0 entries=2
	for n in $FLOWS; do [ "$n" -gt "$nmax" ] && nmax=$n; done
	while [ "$entries" -lt "$nmax" ]; do entries=$((entries * 2)); done
	xvnet_veth_setup --mem-entries "$entries"
	for n in $FLOWS; do
		out=$("$XV_BIN/xvnet-flowfill" --pin-dir "$PIN" --count "$n") || fail "flowfill $n"
		record "{\"row\":\"cp-flowfill\",\"fill\":$out}"
		h0=$(xv_stat flow_hit)
		GEN_FLOWS=$n pair "flows-$n" xvnet trivial ",\"port\":\"veth\",\"vms\":1,\"flows\":$n,$(maps_memory)"
		[ "$(xv_stat flow_hit)" -gt "$h0" ] || fail "flows-$n: the generator's flows missed the flow cache"
	done
	[ "$nmax" -gt 1 ] && GEN_FLOWS=$nmax pair "mem-$nmax" trivial-mem trivial \
		",\"port\":\"veth\",\"vms\":1,\"flows\":$nmax,\"table_entries\":$entries"
	proc_stop "$SINK_PID"
	xvnetd_stop
}

pair_tap() {
	local tap
	tap=$(xv_name tap)
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port tap --ifname "$tap" >/dev/null || fail "vm add (tap) refused"
	cleanup_add ip link del "$tap"
	tapread_start "$XV_TMP/tap.stats" "$tap"
	STATS=("$XV_TMP/tap.stats")
	nic_drops
	DROPS+=("tap_tx_dropped - $tap tx_dropped")
	TAP_VM=vm1
	swap_load
	pair tap xvnet trivial ",\"port\":\"tap\",\"vms\":1,\"reader\":\"io_uring, 64 reads in flight\""
	proc_stop "$TAPREAD_PID"
	xvnetd_stop
	ip link del "$tap" 2>/dev/null || true
}

pair_xsk() {
	local stats=$XV_TMP/xsk.stats
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port xsk --ifname "$(xv_name pxsk)" --xsk-frames 8192 \
		--xsk-fill-size 4096 --xsk-rx-size 2048 >/dev/null || fail "vm add (xsk) refused"
	local consumer=copy copy=--copy
	[ "${XSK_COPY:-1}" = 0 ] && consumer=meta copy=
	bg_start "$XV_TMP/xskdump.log" taskset -c "$APP_CPU" "$XV_BIN/xvnet-xskdump" \
		-s "$SOCK" --vm vm1 --stats "$stats" $copy
	local pid=$BG_PID
	wait_until 10 test -s "$stats" || fail "xskdump did not start: $(cat "$XV_TMP/xskdump.log")"
	STATS=("$stats")
	nic_drops
	XSK_VM=vm1
	swap_load
	pair xsk xvnet trivial-xsk ",\"port\":\"xsk\",\"vms\":1,\"consumer\":\"$consumer\""
	if [ "$SOURCE_LIVE" = 1 ]; then
		CORE=1 pair xsk-core xvnet trivial-xsk ",\"port\":\"xsk\",\"vms\":1,\"consumer\":\"$consumer\""
	else
		record '{"pair":"xsk-core","skipped":"no live frames here (BPF_F_TEST_XDP_LIVE_FRAMES refused or disabled by XVNET_WITHOUT)"}'
	fi
	XSK_VM=""
	proc_stop "$pid"
	xvnetd_stop
}

# SCALE_VMS veth VMs, traffic round-robin over all (MAC 02:00:00:01:HH:LL),
# against the trivial program fanning out to the same ports by MAC.
pair_vms() {
	local n=$SCALE_VMS i mac t0 t1 devs=()
	xvnetd_start
	t0=$(date +%s%N)
	for ((i = 0; i < n; i++)); do
		printf -v mac '02:00:00:01:%02x:%02x' $((i >> 8)) $((i & 255))
		"${CTL[@]}" vm add "s$i" --mac "$mac" --port veth --netns "$V" \
			--peer-ifname "v$i" >/dev/null || fail "vm add s$i refused"
		devs+=("v$i")
	done
	t1=$(date +%s%N)
	record "{\"row\":\"cp-vm-add\",\"vms\":$n,\"per_s\":$(( n * 1000000000 / (t1 - t0) ))}"
	sink_start "vms-$n" "$XV_TMP/vms.stats" --netns "$V" "${devs[@]}"
	STATS=("$XV_TMP/vms.stats")
	nic_drops
	swap_load
	GEN_MAC=02:00:00:01:00:00 GEN_MACS=$n pair "vms-$n" xvnet trivial \
		",\"port\":\"veth\",\"vms\":$n,$(maps_memory)"
	proc_stop "$SINK_PID"
	xvnetd_stop
}

# The Linux bridge on the same NIC: the NIC is a bridge port throughout;
# in the bridge arm the link runs XDP_PASS and the bridge delivers (static
# FDB entry) to its own VM port of the same kind, counted by the same
# consumer (veth: one sink on both far ends; tap: both readers summed).
bridge_setup() {
	bridge_create "$BR"
	bridge_add "$BR" "$NIC"
}
bridge_teardown() {
	ip link set "$NIC" nomaster 2>/dev/null
	link_del "$BR"
}

pair_bridge_veth() {
	local vmh vmp
	vmh=$(xv_name vmh)
	vmp=$(xv_name vmp)
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 >/dev/null \
		|| fail "vm add (veth) refused"
	bridge_setup
	veth_create "$vmh" "$vmp" "" "$V"
	ip -n "$V" link set "$vmp" address "$VM_MAC"
	bridge_add "$BR" "$vmh"
	bridge fdb replace "$VM_MAC" dev "$vmh" master static
	sink_start bridge-veth "$XV_TMP/bv.stats" --netns "$V" eth1 "$vmp"
	STATS=("$XV_TMP/bv.stats")
	nic_drops
	DROPS+=("bridge_port_tx_dropped - $vmh tx_dropped")
	swap_load
	pair bridge-veth xvnet bridge ",\"port\":\"veth\",\"vms\":1"
	proc_stop "$SINK_PID"
	xvnetd_stop
	bridge_teardown
	link_del "$vmh"
}

pair_bridge_tap() {
	local tap btap r1 r2
	tap=$(xv_name tap)
	btap=$(xv_name btap)
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port tap --ifname "$tap" >/dev/null || fail "vm add (tap) refused"
	cleanup_add ip link del "$tap"
	bridge_setup
	tap_create "$btap"
	bridge_add "$BR" "$btap"
	bridge fdb replace "$VM_MAC" dev "$btap" master static
	tapread_start "$XV_TMP/bt1.stats" "$tap"; r1=$TAPREAD_PID
	tapread_start "$XV_TMP/bt2.stats" "$btap"; r2=$TAPREAD_PID
	STATS=("$XV_TMP/bt1.stats" "$XV_TMP/bt2.stats")
	nic_drops
	DROPS+=("tap_tx_dropped - $tap tx_dropped" "bridge_tap_tx_dropped - $btap tx_dropped")
	TAP_VM=vm1
	swap_load
	pair bridge-tap xvnet bridge ",\"port\":\"tap\",\"vms\":1,\"reader\":\"io_uring, 64 reads in flight\""
	proc_stop "$r1"; proc_stop "$r2"
	xvnetd_stop
	bridge_teardown
	link_del "$btap"
	ip link del "$tap" 2>/dev/null || true
}

. "$(dirname "$0")/row_ovs.sh"   # pair_ovs_veth, pair_ovs_tap, pair_ovs_vhost

# ---- control plane: single flow adds through xvnetctl, vm add -> first packet
control_plane() {
	local n=${CP_FLOWS:-200} i t0 t1 first
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 >/dev/null \
		|| fail "vm add (veth) refused"
	t0=$(date +%s%N)
	for ((i = 0; i < n; i++)); do
		"${CTL[@]}" flow add --proto udp --src 10.98.$((i >> 8)).$((i & 255)) --sport 1 \
			--dst 10.99.0.2 --dport 7777 --action deliver --vm vm1 >/dev/null || fail "flow add $i"
	done
	t1=$(date +%s%N)
	record "{\"row\":\"cp-flow-add\",\"flows\":$n,\"per_s\":$(( n * 1000000000 / (t1 - t0) ))}"
	local tap7; tap7=$(xv_name tap7)
	tap_create "$tap7"
	bg_start "$XV_TMP/tap7.log" "$XV_BIN/xvnet-tapread" --dev "$tap7" --first-packet "$XV_TMP/first"
	local rd=$BG_PID
	sleep 0.2
	# bursts of 0.2 ms (20 frames): the default 50 ms bursts would leave
	# the new VM up to 50 ms without a frame to receive, whatever xvnetd does
	ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac 02:00:00:00:07:07 \
		--rate 100000 --pace-ms 0.2 --duration 3 >/dev/null &
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
	record "{\"row\":\"cp-vm-add-first-packet\",\"vm_add_ms\":$(( (t1 - t0) / 1000000 )),\"first_packet_ms\":$(awk "BEGIN {printf \"%.1f\", ($first - $t0) / 1e6}"),\"after_return_ms\":$(awk "BEGIN {printf \"%.1f\", ($first - $t1) / 1e6}")}"
	xvnetd_stop
}

# ---- control plane in batches (xvnetctl batch: one commit per file): veth
# VM adds, one vm add with 1 and with SCALE_VMS VMs, flow adds, and one vm
# add with those flows configured (each commit rewrites the state file)
control_plane_batch() {
	# vm1, one1, one2, one3 besides: SCALE_VMS on the VLAN in the end
	local n=${CP_BATCH_FLOWS:-60000} m=$((SCALE_VMS - 4)) i t0 t1 mac f=$XV_TMP/cp.batch
	local us=()
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 >/dev/null \
		|| fail "vm add (veth) refused"
	one_vm_add() { # N: one vm add, its time in us into us[]
		t0=$(date +%s%N)
		"${CTL[@]}" vm add "one$1" --mac "02:00:00:02:00:0$1" --port veth --netns "$V" \
			--peer-ifname "o$1" >/dev/null || fail "vm add one$1"
		t1=$(date +%s%N)
		us+=($(( (t1 - t0) / 1000 )))
	}
	timed_batch() { # ROW WHAT N: the batch file $f, its rate recorded
		t0=$(date +%s%N)
		"${CTL[@]}" batch "$f" >/dev/null || fail "$1 batch refused"
		t1=$(date +%s%N)
		record "{\"row\":\"$1\",\"$2\":$3,\"per_s\":$(( $3 * 1000000000 / (t1 - t0) ))}"
	}
	one_vm_add 1
	for ((i = 0; i < m; i++)); do
		printf -v mac '02:00:00:01:%02x:%02x' $((i >> 8)) $((i & 255))
		echo "vm add s$i --mac $mac --port veth --netns $V --peer-ifname v$i"
	done >"$f"
	timed_batch cp-vm-add-batch vms "$m"
	one_vm_add 2
	for ((i = 0; i < n; i++)); do
		echo "flow add --proto udp --src 10.$((96 + (i >> 16))).$((i >> 8 & 255)).$((i & 255)) --sport 1 --dst 10.99.0.2 --dport 7777 --action deliver --vm vm1"
	done >"$f"
	timed_batch cp-flow-add-batch flows "$n"
	one_vm_add 3
	record "{\"row\":\"cp-vm-add-at\",\"vms_before\":[2,$((m + 3)),$((m + 4))],\"flows_before\":[0,0,$n],\"us\":[${us[0]},${us[1]},${us[2]}]}"
	xvnetd_stop
}

# run_ns PID...: their summed CPU run time (ns), every thread's
# (/proc/PID/task/*/schedstat): xvnet-tapread reads in a thread of its own
# and xvnet-vhost with queue-cpus moves frames in workers, so the process's
# first thread alone (/proc/PID/schedstat) counted 9 ns per frame for the
# tap reader, its main thread's stats loop
run_ns() {
	local p f t n=0
	for p in "$@"; do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r t _ <"$f" 2>/dev/null || t=0
			n=$((n + ${t:-0}))
		done
	done
	echo "$n"
}

VHOST_MAC=02:00:00:00:01:02
# vhost_user_started VM SOCK: xvnetd's xvnet-vhost for VM is up on SOCK;
# pinned (every thread) to APP_CPU like the other consumers; VHOST_PID
vhost_user_started() {
	wait_until 10 test -S "$2" || fail "xvnet-vhost of $1 did not start: $(tail -3 "$XV_TMP/xvnetd.log")"
	VHOST_PID=$("${CTL[@]}" -j vm show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["vhost"]["pid"])')
	[ "${VHOST_PID:-0}" -gt 0 ] || fail "xvnet-vhost of $1: no pid"
	taskset -a -p -c "$APP_CPU" "$VHOST_PID" >/dev/null || fail "taskset xvnet-vhost $VHOST_PID"
}

# vhost_pair NAME DEPTH: a vhost-user VM (--port vhost-user: xvnetd runs its
# xvnet-vhost, as users run it) against a tap VM, both buffering DEPTH
# frames between the NIC and their reader: the VM's xsk RX and fill rings,
# the tap's queue (txqueuelen).  "default": xvnet's 1024-entry rings and the
# kernel's 1000-frame tap queue, what a host gets out of the box.  Equal
# depths, so that neither arm wins by riding out longer the generator's
# turns on the CPU it shares with the readers.
vhost_pair() {
	local name=$1 depth=$2 tap sock=$XV_TMP/vhost.sock vpid spid b0 s0 t0 b1 s1 t1 nv nt
	local rings=()
	require_bin xvnet-vhost xvnet-vhostsink
	tap=$(xv_name tap)
	VHOST_SINK_STATS=$XV_TMP/vhostsink.stats VHOST_TAP_STATS=$XV_TMP/tap.stats
	[ "$depth" = default ] ||
		rings=(--xsk-rx-size "$depth" --xsk-fill-size "$depth" --xsk-frames "$((2 * depth))")
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port tap --ifname "$tap" >/dev/null || fail "vm add (tap) refused"
	cleanup_add ip link del "$tap"
	[ "$depth" = default ] || ip link set "$tap" txqueuelen "$depth"
	"${CTL[@]}" vm add vh1 --mac "$VHOST_MAC" --port vhost-user --vhost-socket "$sock" \
		--ifname "$(xv_name pvh)" "${rings[@]}" >/dev/null || fail "vm add (vhost-user) refused"
	tapread_start "$VHOST_TAP_STATS" "$tap"
	vhost_user_started vh1 "$sock"
	vpid=$VHOST_PID
	bg_start "$XV_TMP/vhostsink.log" taskset -c "$APP_CPU" "$XV_BIN/xvnet-vhostsink" \
		--vhost-socket "$sock" --stats "$VHOST_SINK_STATS"
	spid=$BG_PID
	wait_until 10 test -s "$VHOST_SINK_STATS" || fail "xvnet-vhostsink: $(cat "$XV_TMP/vhostsink.log")"
	nic_drops
	DROPS+=("tap_tx_dropped - $tap tx_dropped")
	TAP_VM=vm1
	b0=$(run_ns "$vpid"); s0=$(run_ns "$spid"); t0=$(run_ns "$TAPREAD_PID")
	pair "$name" vhost tap-read ",\"port\":\"vhost-user vs tap\",\"vms\":2,\"depth\":\"$depth\""
	b1=$(run_ns "$vpid"); s1=$(run_ns "$spid"); t1=$(run_ns "$TAPREAD_PID")
	nv=$(cut -d" " -f1 "$VHOST_SINK_STATS"); nt=$(cut -d" " -f1 "$VHOST_TAP_STATS")
	# user-space CPU per frame delivered, over all rounds of each arm
	record "$(python3 -c '
import json, sys
b, s, t, nv, nt = map(int, sys.argv[2:])
print(json.dumps({"row": "vhost-cost", "pair": sys.argv[1], "frames_vhost": nv, "frames_tap": nt,
                  "backend_ns_per_frame": round(b / nv, 1) if nv else None,
                  "frontend_ns_per_frame": round(s / nv, 1) if nv else None,
                  "tapread_ns_per_frame": round(t / nt, 1) if nt else None}))' \
		"$name" "$((b1 - b0))" "$((s1 - s0))" "$((t1 - t0))" "${nv:-0}" "${nt:-0}")"
	log "vhost-cost: $(tail -1 "$OUT.tmp")"
	GEN_MAC=$VM_MAC STATS=() XSK_VM="" TAP_VM=""
	proc_stop "$spid"
	proc_stop "$TAPREAD_PID"
	xvnetd_stop     # stops the back-end it runs
	ip link del "$tap" 2>/dev/null || true
}

pair_vhost() { vhost_pair vhost default; }
pair_vhost_deep() { vhost_pair vhost-deep 8192; }

# ---- run -----------------------------------------------------------------------
record "$(python3 -c '
import json, os, sys
print(json.dumps({"row": "meta", "kernel": os.uname().release, "kernel_version": os.uname().version,
                  "rounds": int(sys.argv[1]), "dur_s": float(sys.argv[2]), "warm_s": float(sys.argv[3]),
                  "gen_cpu": int(sys.argv[4]), "rx_cpu": int(sys.argv[5]), "app_cpu": int(sys.argv[6]),
                  "cpus": os.cpu_count(), "started": sys.argv[7]}))' \
	"$ROUNDS" "$DUR" "$WARM" "$GEN_CPU" "$RX_CPU" "$APP_CPU" "$(date -u +%FT%TZ)")"
src=$(ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac 02:00:00:00:99:99 \
	--count 1 --json 2>/dev/null)
log "kernel $(uname -r); source: $src"
# the core pairs need live frames (xvnet-trafgen --prog-pin)
SOURCE_LIVE=0
[ "$(jq -r .source <<<"$src" 2>/dev/null)" = live ] && SOURCE_LIVE=1

for p in $PAIRS; do
	STATS=() DROPS=() XSK_VM="" TAP_VM=""
	"pair_${p//-/_}"
done
[ "$CP" = 1 ] && { log "control plane"; control_plane; control_plane_batch; }
if [ "$COST" = 1 ]; then
	log "per-packet cost by test runs (xvnet-costbench)"
	# shellcheck disable=SC2086
	"$XV_BIN/xvnet-costbench" --json ${COST_ARGS:-} >>"$OUT.tmp" || fail "xvnet-costbench failed"
fi

mv "$OUT.tmp" "$OUT"
python3 "$XV_ROOT/selftests/bench/report.py" "$OUT" --plots "$(dirname "$OUT")" >"${OUT%.json}.md" ||
	fail "report.py could not summarise $OUT"
cat "${OUT%.json}.md"
pass "bench done: $OUT"
