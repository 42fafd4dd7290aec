#!/usr/bin/env bash
# make bench-coalesce (also the last part of make bench): notification
# coalescing of an xsk VM, off against on, in one run.
#
# Topology: namespace W holds the sources and one end of a veth pair; the
# other end is the NIC (root namespace, xvnetd, threaded NAPI pinned to
# $RX_CPU).  One xsk VM (socket on the NIC's queue, copy mode) consumed by
# xvnet-xskdump on $RX_CPU, which notifies the "guest" (an eventfd) per the
# VM's policy.  The generator runs on $GEN_CPU.
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
# Every policy is measured $REPS times, interleaved; medians reported.
# Environment: REPS (3), DUR (3), LO_COUNT (1000), HI_FRAMES, HI_USECS,
# OUT (docs/bench/coalesce.json, Markdown beside it).
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
VM_MAC=02:00:00:00:01:71
VM_IP=10.77.0.71

xvnet_require
require_bin xvnet-xskdump
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and receive path apart)"
mkdir -p "$(dirname "$OUT")"
: >"$OUT.tmp"

xv_topology
ethtool -K "$NIC" gro on >/dev/null
echo 1 >"/sys/class/net/$NIC/threaded"
xvnetd_start
xvctl vm add c1 --mac $VM_MAC --port xsk --ifname "$(xv_name pc1)" --xsk-frames 16384 \
	--xsk-rx-size 8192 --xsk-fill-size 8192 >/dev/null || fail "vm add (xsk) refused"
ip -n "$W" neigh replace $VM_IP lladdr $VM_MAC dev "$WIRE" nud permanent
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
set_policy() {
	# shellcheck disable=SC2046
	xvctl coalesce set c1 $(policy "$1") >/dev/null || fail "coalesce set $1 refused"
}
consumer() { # LOG ARGS...: xskdump on RX_CPU as nobody until stopped
	local log=$1; shift
	bg_start "$log" taskset -c "$RX_CPU" "$XV_BIN/xvnet-xskdump" -s "$XVD_SOCK" --vm c1 \
		--user nobody "$@"
	CONS=$BG_PID
	wait_until 5 grep -q XVNET-XSKDUMP-READY "$log" || fail "xskdump: $(cat "$log")"
}
drops() { xvctl -j stats c1 | python3 -c '
import json, sys
x = json.load(sys.stdin)["vms"][0]["xsk"]
print(x["rx_dropped"] + x["rx_ring_full"])'; }
result() { # LOG FIELD: from xskdump's closing lines
	awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }' "$1"
}

high_rate() { # POLICY REP
	local log=$XV_TMP/hi-$1-$2.log gen d0
	set_policy "$1"
	pin_napi
	consumer "$log"
	d0=$(drops)
	ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac $VM_MAC --flows 64 \
		--cpu "$GEN_CPU" --duration "$DUR" --json >"$XV_TMP/gen.json" || fail "trafgen failed"
	sleep 0.3
	proc_stop "$CONS"
	gen=$(cat "$XV_TMP/gen.json")
	printf '{"part":"high","policy":"%s","rep":%d,"packets":%s,"notifications":%s,"wakeups":%s,"per_notification":%s,"socket_drops":%s,"dur":%s,"sent":%s}\n' \
		"$1" "$2" "$(result "$log" packets)" "$(result "$log" notifications)" \
		"$(result "$log" wakeups)" "$(result "$log" per_notification)" "$(( $(drops) - d0 ))" \
		"$DUR" "$gen" >>"$OUT.tmp"
	log "high rate, $1, rep $2: $(grep ^notifications "$log")"
}

low_rate() { # POLICY REP
	local log=$XV_TMP/lo-$1-$2.log
	set_policy "$1"
	pin_napi
	consumer "$log" --latency --count "$LO_COUNT"
	ip netns exec "$W" taskset -c "$GEN_CPU" python3 "$XV_ROOT/selftests/lib/stamp_send.py" \
		$VM_IP 9 "$LO_COUNT" 1000 || fail "stamp_send failed"
	wait_until 5 _xv_dead "$CONS" || proc_stop "$CONS"
	printf '{"part":"low","policy":"%s","rep":%d,"rate":1000,"n":%s,"p50_us":%s,"p90_us":%s,"p99_us":%s,"per_notification":%s}\n' \
		"$1" "$2" "$(result "$log" n)" "$(result "$log" p50)" "$(result "$log" p90)" \
		"$(result "$log" p99)" "$(result "$log" per_notification)" >>"$OUT.tmp"
	log "low rate, $1, rep $2: $(grep ^latency "$log")"
}

for ((rep = 1; rep <= REPS; rep++)); do
	for p in off on adaptive; do high_rate $p $rep; done
	for p in off adaptive on; do low_rate $p $rep; done
done

mv "$OUT.tmp" "$OUT"
python3 - "$OUT" "$HI_FRAMES" "$HI_USECS" "$(nproc)" <<'PYEOF' | tee "${OUT%.json}.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
frames, usecs, ncpu = sys.argv[2], sys.argv[3], sys.argv[4]
med = lambda part, pol, k: statistics.median(float(r[k]) for r in rows
                                             if r["part"] == part and r["policy"] == pol)
print(f"## Notification coalescing (xsk VM, 64-byte UDP; {ncpu} CPUs: generator on one,"
      " NIC NAPI and consumer on the other)\n")
print(f"Policies: off = one notification per batch the consumer takes; on = rx-frames {frames}"
      f" rx-usecs {usecs}; adaptive = the same bounds, batch following the rate.\n")
print("| high rate (line rate, 64 flows) | frames/s notified | frames per notification | notifications/s | consumer wakeups/s | socket drops/s |")
print("|---|---|---|---|---|---|")
for pol in ("off", "on", "adaptive"):
    pk = med("high", pol, "packets"); nt = med("high", pol, "notifications")
    dur = float([r for r in rows if r["part"] == "high"][0]["dur"])
    print(f"| {pol} | {pk / dur:,.0f} | {med('high', pol, 'per_notification'):.1f} | {nt / dur:,.0f} |"
          f" {med('high', pol, 'wakeups') / dur:,.0f} | {med('high', pol, 'socket_drops') / dur:,.0f} |")
fewer = med("high", "on", "per_notification") / med("high", "off", "per_notification")
fewer_a = med("high", "adaptive", "per_notification") / med("high", "off", "per_notification")
print(f"\n**{fewer:.1f}x fewer notifications per frame with coalescing on than off**"
      f" ({fewer_a:.1f}x adaptive; target 16x).\n")
print("| low rate (1,000 frames/s, stamped) | median latency us | p90 us | p99 us | frames per notification |")
print("|---|---|---|---|---|")
for pol in ("off", "adaptive", "on"):
    print(f"| {pol} | {med('low', pol, 'p50_us'):.1f} | {med('low', pol, 'p90_us'):.1f} |"
          f" {med('low', pol, 'p99_us'):.1f} | {med('low', pol, 'per_notification'):.2f} |")
add = med("low", "adaptive", "p50_us") - med("low", "off", "p50_us")
print(f"\n**Adaptive adds {add:.1f} us at the median at 1,000 frames/s** (target: under 20 us);"
      f" fixed bounds add {med('low', 'on', 'p50_us') - med('low', 'off', 'p50_us'):.1f} us.")
PYEOF
pass "coalescing benchmark: ${OUT%.json}.md"
