#!/usr/bin/env bash
# Interrupt coalescing of an xsk VM (xvnetctl coalesce show|set):
#  - bad values are refused with the field named, and change nothing (the
#    policy shown and the config file stay); tap and veth VMs are refused
#    with the reason (the guest's kernel or the VMM notifies there);
#  - the consumer (xvnet-xskdump, unprivileged) takes a new policy while it
#    runs: with rx-frames 256 / rx-usecs 2000 a burst shares notifications
#    (>= 64 frames each) where "off" notifies every batch it takes;
#  - at a low rate a fixed rx-usecs of 2 ms delays every frame by ~2 ms,
#    adaptive mode with the same bound notifies each frame at once (median
#    under 1 ms, measured from trafgen's send stamp to the notification);
#  - the counters (notifications, packets per notification) are in
#    `xvnetctl stats` and `coalesce show`;
#  - the NAPI knobs of the VM's NIC queues are set, read back from the
#    kernel, and put back as found on vm del and when xvnetd stops.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-xskdump
id nobody >/dev/null 2>&1 || skip "no user nobody"

MAC1=02:00:00:00:55:01      # xsk VM c1
MAC2=02:00:00:00:55:02      # tap VM t1
PUB=$XV_TMP/pub
mkdir -p "$PUB" && chmod 1777 "$PUB"
chmod o+x "$XV_TMP"

xv_topology
xvnetd_start
xvctl vm add c1 --mac $MAC1 --port xsk --queues 2 --ifname "$(xv_name pc1)" \
	--xsk-rx-size 4096 --xsk-fill-size 4096 --xsk-frames 8192 || fail "vm add c1 (xsk)"
xvctl vm add t1 --mac $MAC2 --port tap --ifname "$(xv_name pt1)" || fail "vm add t1 (tap)"

co_field() { xvctl -j coalesce show "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for p in sys.argv[1].split("."):
    d = d[p]
print(d)' "$2"; }

# ---- refusals: named field, nothing changed ---------------------------------
state() { xvctl -j coalesce show c1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["rx_frames"], d["rx_usecs"], d["adaptive"], d["napi"]["defer_irqs"], d["napi"]["flush_usecs"])'
	md5sum <"$XVD_STATE"; }
xvctl coalesce set c1 --rx-frames 32 --rx-usecs 100 >/dev/null || fail "a good policy was refused"
before=$(state)
refuse() { # EXPECTED-TEXT ARGS...
	local want=$1 out; shift
	out=$(xvctl coalesce set "$@" 2>&1) && fail "accepted: coalesce set $*"
	grep -q -- "$want" <<<"$out" || fail "coalesce set $*: message '$out' does not say '$want'"
}
refuse "rx-frames" c1 --rx-frames -1
refuse "rx-frames" c1 --rx-frames 5000
refuse "rx-usecs" c1 --rx-usecs 10000000
refuse "rx-usecs" c1 --rx-usecs abc
refuse "needs rx-usecs" c1 --rx-frames 64 --rx-usecs 0
refuse "adaptive" c1 --adaptive maybe
refuse "napi-defer-irqs" c1 --napi-defer-irqs 99999999
refuse "napi-flush-usecs" c1 --napi-flush-usecs -5
refuse "does not apply to tap" t1 --rx-usecs 50
refuse "unknown" nosuchvm --rx-usecs 50
refuse "nothing to set" c1
[ "$(state)" = "$before" ] || fail "a refused change altered the policy or the config"
xvctl coalesce show t1 | grep -q "n/a: .*ethtool -C" || fail "coalesce show t1 does not say why it does not apply"
log "11 bad requests refused with the field named, policy and config unchanged"

# ---- the consumer follows the policy: off vs rx-frames/rx-usecs --------------
xvctl coalesce set c1 --rx-frames 0 --rx-usecs 0 >/dev/null || fail "coalesce off refused"
bg_start "$XV_TMP/dump.log" "$XV_BIN/xvnet-xskdump" -s "$XVD_SOCK" --vm c1 --user nobody \
	--stats "$PUB/c1"
DUMP=$BG_PID
wait_until 5 test -s "$PUB/c1" || fail "xskdump did not start: $(cat "$XV_TMP/dump.log")"
burst() { # COUNT RATE: UDP to c1 over 64 flows
	trafgen_from_wire --dst-mac $MAC1 --flows 64 --count "$1" --rate "$2" --duration 10 \
		--src-ip 10.77.0.9 --dst-ip 10.77.0.44 >/dev/null || fail "trafgen failed"
}
counters() { co_field c1 counters.packets; co_field c1 counters.notifications; }
# every frame the consumer took is notified (none left waiting)
settled() { [ "$(co_field c1 counters.packets)" = "$(cut -d' ' -f1 "$PUB/c1")" ]; }
per_notification() { # PACKETS0 NOTES0 -> packets per notification since then
	local p n
	wait_until 5 settled || fail "frames taken but never notified: $(xvctl stats c1)"
	{ read -r p; read -r n; } < <(counters)
	python3 -c "import sys; p, n = $p - $1, $n - $2; print(f'{p / n:.1f}' if n > 0 and p >= 5000 else 0)"
}
{ read -r p0; read -r n0; } < <(counters)
burst 20000 100000
sleep 0.3
off=$(per_notification "$p0" "$n0")
xvctl coalesce set c1 --rx-frames 256 --rx-usecs 2000 >/dev/null || fail "coalesce set refused"
{ read -r p0; read -r n0; } < <(counters)
burst 20000 100000
sleep 0.3
on=$(per_notification "$p0" "$n0")
log "20000 frames at 100 kpps: $off frames per notification off, $on with rx-frames 256 rx-usecs 2000 ($(xvctl -j stats c1 | python3 -c 'import json,sys; x=json.load(sys.stdin)["vms"][0]["xsk"]; print("socket drops", x["rx_dropped"])'))"
python3 -c "import sys; sys.exit(0 if $off > 0 and $on >= 64 and $on >= 4 * $off else 1)" ||
	fail "coalescing on: $on frames per notification (off: $off; 0: fewer than 5000 frames arrived)"
xvctl stats c1 | grep -q "notify notifications [0-9]* packets [0-9]* per_notification" ||
	fail "xvnetctl stats shows no notification counters"
proc_stop "$DUMP"

# ---- low rate: fixed delay vs adaptive --------------------------------------
# the wire reaches c1's address through a neighbour entry (xsk VMs do not
# answer ARP: the consumer is no guest)
ip -n "$W" neigh replace 10.77.0.44 lladdr $MAC1 dev "$WIRE" nud permanent ||
	fail "neighbour entry for c1"
latency() { # -> median latency (us) of 200 frames at 200 pps, stamped
	"$XV_BIN/xvnet-xskdump" -s "$XVD_SOCK" --vm c1 --user nobody --latency --count 200 \
		--duration 8 >"$XV_TMP/lat.log" 2>&1 & local d=$!
	sleep 0.5
	ip netns exec "$W" python3 "$XV_ROOT/selftests/lib/stamp_send.py" 10.77.0.44 9 200 200 ||
		fail "stamp_send failed"
	wait "$d" || fail "xskdump --latency: $(cat "$XV_TMP/lat.log")"
	awk '/^latency_us/ { print $5 }' "$XV_TMP/lat.log"
}
xvctl coalesce set c1 --rx-frames 256 --rx-usecs 2000 --adaptive off >/dev/null || fail "fixed refused"
fixed=$(latency)
xvctl coalesce set c1 --adaptive on >/dev/null || fail "adaptive refused"
adaptive=$(latency)
ppn=$(awk '/^notifications/ { print $8 }' "$XV_TMP/lat.log")
[ -n "$adaptive" ] && [ -n "$fixed" ] || fail "no latency measured: $(cat "$XV_TMP/lat.log")"
log "200 pps: median latency $fixed us with rx-usecs 2000 fixed, $adaptive us adaptive ($ppn frames per notification)"
python3 -c "import sys; sys.exit(0 if $fixed >= 1800 and $adaptive < 1000 else 1)" ||
	fail "low rate: fixed $fixed us, adaptive $adaptive us (expected >= 1800 and < 1000)"

# ---- NAPI knobs of the VM's NIC queues ---------------------------------------
napi_now() { # what the kernel has for the NIC now
	echo "$(cat "/sys/class/net/$NIC/napi_defer_hard_irqs") $(cat "/sys/class/net/$NIC/gro_flush_timeout")"
}
orig=$(napi_now)
xvctl coalesce set c1 --napi-defer-irqs 2 --napi-flush-usecs 50 >/dev/null || fail "napi knobs refused"
scope=$(co_field c1 napi.scope)
now=$(napi_now)
log "NIC $NIC NAPI ($scope): '$orig' -> '$now'"
[ "$now" = "2 50000" ] || fail "NAPI knobs not set: '$now' (scope $scope)"
xvctl vm del c1 || fail "vm del c1"
[ "$(napi_now)" = "$orig" ] || fail "vm del did not put the NAPI knobs back: $(napi_now)"
# and when xvnetd stops (the policy is in the config: applied again at start)
xvctl vm add c2 --mac $MAC1 --port xsk --ifname "$(xv_name pc2)" || fail "vm add c2"
xvctl coalesce set c2 --napi-defer-irqs 3 --napi-flush-usecs 20 >/dev/null || fail "napi knobs on c2"
[ "$(napi_now)" = "3 20000" ] || fail "c2's NAPI knobs not set: $(napi_now)"
grep -q "coalesce-napi-defer-irqs 3" "$XVD_STATE" || fail "the policy is not in the state"
xvnetd_restart
[ "$(napi_now)" = "3 20000" ] || fail "after restart: $(napi_now)"
proc_stop "$XVD_PID"
[ "$(napi_now)" = "$orig" ] || fail "xvnetd stopped, NAPI knobs not put back: $(napi_now)"
log "NAPI knobs set ($scope), put back as '$orig' on vm del and on stop, set again at start"
pass "coalescing: refusals change nothing, live policy ($off -> $on frames per notification), adaptive at low rate ($adaptive us vs $fixed us), NAPI knobs set and restored"
