#!/usr/bin/env bash
# make bench-coalesce (also the last part of make bench): notification
# coalescing of an xsk VM, off against on, in one run, on two consumer paths.
#
# Topology: namespace W holds the sources and one end of a veth pair; the
# other end is the NIC (root namespace, xvnetd, threaded NAPI pinned to
# $RX_CPU).  One xsk VM per path (socket on the NIC's queue, copy mode),
# made anew for each measurement; the generator runs on $GEN_CPU, every
# consumer on $RX_CPU:
#  xsk: VM c1 consumed by xvnet-xskdump, which notifies the "guest" (an
#    eventfd) per the VM's policy; latency: stamp to notification;
#  vhost: VM c2 (--port vhost-user: the xvnet-vhost xvnetd runs for it,
#    moved to $RX_CPU) to xvnet-vhostsink, a vhost-user
#    front-end that reads its RX ring only when woken by the back-end's
#    call eventfd (the guest's interrupt), as a virtio-net driver does;
#    latency: stamp to the front-end taking the frame.  Notifications are
#    the back-end's (its policy), calls those the driver had asked for.
#
#  high rate: xvnet-trafgen, 64-byte UDP, 64 flows, line rate, $DUR s per
#    policy: frames per notification and notifications per second, policy
#    off (one notification per batch the consumer takes), on (fixed
#    rx-frames $HI_FRAMES / rx-usecs $HI_USECS) and adaptive (same bounds);
#    the figure: notifications(off) / notifications(on), per frame.
#  low rate: selftests/lib/stamp_send.py, one stamped datagram every 1 ms
#    ($LO_COUNT of them), latency from the send stamp to the notification:
#    medians for off, adaptive (rx-frames $HI_FRAMES / rx-usecs $HI_USECS)
#    and fixed with the same bounds; the figure: median(adaptive) -
#    median(off).
# Every policy is measured $REPS times, interleaved (and the paths within
# each policy); medians reported (selftests/bench/coalesce_report.py).
# Environment: REPS (3), DUR (3), LO_COUNT (1000), HI_FRAMES, HI_USECS,
# PATHS ("xsk vhost"), OUT (docs/bench/coalesce.json, Markdown beside it).
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/../lib/xvnet.sh"

REPS=${REPS:-3}
DUR=${DUR:-3}
LO_COUNT=${LO_COUNT:-1000}
HI_FRAMES=${HI_FRAMES:-2048}
HI_USECS=${HI_USECS:-1000}
GEN_CPU=${GEN_CPU:-0}
RX_CPU=${RX_CPU:-1}
OUT=${OUT:-$XV_ROOT/docs/bench/coalesce.json}
PATHS=${PATHS:-xsk vhost}
# per path: the VM, its MAC and address
declare -A VM=([xsk]=c1 [vhost]=c2) MAC=([xsk]=02:00:00:00:01:71 [vhost]=02:00:00:00:01:72)
declare -A IP=([xsk]=10.77.0.71 [vhost]=10.77.0.72)
VH_SOCK=$XV_TMP/vhost.sock

xvnet_require
require_bin xvnet-xskdump xvnet-vhost xvnet-vhostsink
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and receive path apart)"
mkdir -p "$(dirname "$OUT")"
: >"$OUT.tmp"

xv_topology
ethtool -K "$NIC" gro on >/dev/null
echo 1 >"/sys/class/net/$NIC/threaded"
xvnetd_start
for path in $PATHS; do
	ip -n "$W" neigh replace "${IP[$path]}" lladdr "${MAC[$path]}" dev "$WIRE" nud permanent
done
# The path's VM, made for each measurement and deleted after it: the two
# xsk VMs cannot share the NIC's queue (one UMEM per queue), and each
# measurement starts from fresh sockets and rings, whoever consumed before.
vm_up() { # PATH
	local port=(--port xsk) pid
	[ "$1" = vhost ] && port=(--port vhost-user --vhost-socket "$VH_SOCK")
	xvctl vm add "${VM[$1]}" --mac "${MAC[$1]}" "${port[@]}" --ifname "$(xv_name "p${VM[$1]}")" \
		--xsk-frames 16384 --xsk-rx-size 8192 --xsk-fill-size 8192 >/dev/null ||
		fail "vm add ${VM[$1]} (${port[1]}) refused"
	[ "$1" = vhost ] || return 0
	wait_until 10 test -S "$VH_SOCK" || fail "xvnet-vhost did not start: $(tail -3 "$XV_TMP/xvnetd.log")"
	pid=$(vh_field pid)
	[ "${pid:-0}" -gt 0 ] || fail "xvnet-vhost: no pid ($(xvctl -j vm show c2))"
	taskset -a -p -c "$RX_CPU" "$pid" >/dev/null || fail "taskset xvnet-vhost $pid"
}
vm_down() { # PATH: after its consumer stopped; vm del stops the back-end
	xvctl vm del "${VM[$1]}" >/dev/null || fail "vm del ${VM[$1]} refused"
}
# vh_field NAME: the running back-end's pid, or one of its counters (vm
# show: xvnetd reads the page the back-end rewrites every 100 ms)
vh_field() { xvctl -j vm show c2 | python3 -c '
import json, sys
v = json.load(sys.stdin)["vhost"]
print(v["pid"] if sys.argv[1] == "pid" else v.get("counters", {}).get(sys.argv[1], 0))' "$1"; }
vh_connected() { [ "$(vh_field connected)" = 1 ]; }
pin_napi() {
	local pid
	for pid in $(pgrep "^napi/$NIC-"); do
		taskset -pc "$RX_CPU" "$pid" >/dev/null
	done
}

policy() { # NAME -> xvnetctl coalesce set arguments
	case $1 in
	off) echo "--rx-frames 0 --rx-usecs 0 --adaptive off" ;;
	on) echo "--rx-frames $HI_FRAMES --rx-usecs $HI_USECS --adaptive off" ;;
	adaptive) echo "--rx-frames $HI_FRAMES --rx-usecs $HI_USECS --adaptive on" ;;
	esac
}
set_policy() { # PATH POLICY
	# shellcheck disable=SC2046
	xvctl coalesce set "${VM[$1]}" $(policy "$2") >/dev/null || fail "coalesce set $2 refused"
}
consumer() { # PATH LOG ARGS...: the path's consumer on RX_CPU until stopped
	local path=$1 log=$2; shift 2
	if [ "$path" = xsk ]; then
		bg_start "$log" taskset -c "$RX_CPU" "$XV_BIN/xvnet-xskdump" -s "$XVD_SOCK" --vm c1 \
			--user nobody "$@"
		CONS=$BG_PID
		wait_until 5 grep -q XVNET-XSKDUMP-READY "$log" || fail "xskdump: $(cat "$log")"
	else
		bg_start "$log" taskset -c "$RX_CPU" "$XV_BIN/xvnet-vhostsink" --vhost-socket "$VH_SOCK" "$@"
		CONS=$BG_PID
		wait_until 5 grep -q XVNET-VHOSTSINK-READY "$log" || fail "vhostsink: $(cat "$log")"
		# the back-end has the front-end's rings before traffic starts
		wait_until 5 vh_connected || fail "xvnet-vhost: no front-end"
	fi
}
drops() { xvctl -j stats "${VM[$1]}" | python3 -c '
import json, sys
x = json.load(sys.stdin)["vms"][0]["xsk"]
print(x["rx_dropped"] + x["rx_ring_full"])'; }
result() { # LOG FIELD: from a consumer's closing lines
	awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }' "$1"
}
# The back-end's counters before and after a measurement (VH0, VH1); its
# page is rewritten every 100 ms: read once traffic has settled.
declare -A VH0 VH1
vh_snap() { # before|after
	local k v
	for k in rx notifications calls rx_no_guest rx_dropped; do
		v=$(vh_field $k)
		if [ "$1" = before ]; then VH0[$k]=$v; else VH1[$k]=$v; fi
	done
}
vh_delta() { echo $(( ${VH1[$1]} - ${VH0[$1]} )); }
# frames per notification from the back-end's deltas (xskdump says its own)
per_note() { python3 -c "import sys; r, n = map(int, sys.argv[1:]); print(f'{r / n:.1f}' if n else 0)" "$@"; }

high_rate() { # PATH POLICY REP
	local path=$1 log=$XV_TMP/hi-$1-$2-$3.log gen d0
	vm_up "$path"
	set_policy "$path" "$2"
	pin_napi
	consumer "$path" "$log"
	d0=$(drops "$path")
	[ "$path" = vhost ] && vh_snap before
	ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac "${MAC[$path]}" --flows 64 \
		--cpu "$GEN_CPU" --duration "$DUR" --json >"$XV_TMP/gen.json" || fail "trafgen failed"
	sleep 0.3
	gen=$(cat "$XV_TMP/gen.json")
	if [ "$path" = xsk ]; then
		proc_stop "$CONS"
		printf '{"path":"xsk","part":"high","policy":"%s","rep":%d,"packets":%s,"notifications":%s,"wakeups":%s,"per_notification":%s,"socket_drops":%s,"dur":%s,"sent":%s}\n' \
			"$2" "$3" "$(result "$log" packets)" "$(result "$log" notifications)" \
			"$(result "$log" wakeups)" "$(result "$log" per_notification)" \
			"$(( $(drops "$path") - d0 ))" "$DUR" "$gen" >>"$OUT.tmp"
		log "high rate, xsk, $2, rep $3: $(grep ^notifications "$log")"
		vm_down "$path"
		return
	fi
	vh_snap after
	proc_stop "$CONS"
	printf '{"path":"vhost","part":"high","policy":"%s","rep":%d,"packets":%s,"frontend_frames":%s,"notifications":%s,"calls":%s,"wakeups":%s,"per_notification":%s,"rx_no_guest":%s,"rx_dropped":%s,"socket_drops":%s,"dur":%s,"sent":%s}\n' \
		"$2" "$3" "$(vh_delta rx)" "$(result "$log" frames)" "$(vh_delta notifications)" \
		"$(vh_delta calls)" "$(result "$log" interrupts)" \
		"$(per_note "$(vh_delta rx)" "$(vh_delta notifications)")" "$(vh_delta rx_no_guest)" \
		"$(vh_delta rx_dropped)" "$(( $(drops "$path") - d0 ))" "$DUR" "$gen" >>"$OUT.tmp"
	log "high rate, vhost, $2, rep $3: back-end rx $(vh_delta rx) notifications $(vh_delta notifications) calls $(vh_delta calls); $(grep ^frames "$log")"
	vm_down "$path"
}

low_rate() { # PATH POLICY REP
	local path=$1 log=$XV_TMP/lo-$1-$2-$3.log pern
	vm_up "$path"
	set_policy "$path" "$2"
	pin_napi
	if [ "$path" = xsk ]; then
		consumer xsk "$log" --latency --count "$LO_COUNT"
	else
		consumer vhost "$log" --latency
		vh_snap before
	fi
	ip netns exec "$W" taskset -c "$GEN_CPU" python3 "$XV_ROOT/selftests/lib/stamp_send.py" \
		"${IP[$path]}" 9 "$LO_COUNT" 1000 || fail "stamp_send failed"
	if [ "$path" = xsk ]; then
		wait_until 5 _xv_dead "$CONS" || proc_stop "$CONS"
		pern=$(result "$log" per_notification)
	else
		# the last frame's notification is due within rx-usecs at most
		sleep 0.3
		vh_snap after
		proc_stop "$CONS"
		pern=$(per_note "$(vh_delta rx)" "$(vh_delta notifications)")
	fi
	printf '{"path":"%s","part":"low","policy":"%s","rep":%d,"rate":1000,"n":%s,"p50_us":%s,"p90_us":%s,"p99_us":%s,"per_notification":%s}\n' \
		"$path" "$2" "$3" "$(result "$log" n)" "$(result "$log" p50)" "$(result "$log" p90)" \
		"$(result "$log" p99)" "$pern" >>"$OUT.tmp"
	log "low rate, $path, $2, rep $3: $(grep ^latency "$log")"
	vm_down "$path"
}

for ((rep = 1; rep <= REPS; rep++)); do
	for p in off on adaptive; do
		for path in $PATHS; do high_rate "$path" $p "$rep"; done
	done
	for p in off adaptive on; do
		for path in $PATHS; do low_rate "$path" $p "$rep"; done
	done
done

mv "$OUT.tmp" "$OUT"
python3 "$XV_ROOT/selftests/bench/coalesce_report.py" "$OUT" "$HI_FRAMES" "$HI_USECS" "$(nproc)" |
	tee "${OUT%.json}.md"
pass "coalescing benchmark: ${OUT%.json}.md"
