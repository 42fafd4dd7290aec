#!/usr/bin/env bash
# Guest interrupts of xvnet-vhost follow the VM's coalescing policy
# (`xvnetctl coalesce set`, read live from the xsk.get page): an xsk VM
# served by xvnet-vhost to xvnet-vhostsink (a receive-only vhost-user
# front-end, no QEMU), 20000 frames at 100 kpps with coalescing off, then
# with rx-frames 256 rx-usecs 2000: frames per notification (the back-end's
# count, and the page's, as `xvnetctl stats` shows it) go up at least 4x
# and to 64 or more; every frame the back-end put into the RX queue reaches
# the front-end (none waits for a notification that never comes).
# The frames go out by AF_PACKET, 64 per call, on every kernel: live frames
# (BPF_PROG_TEST_RUN) put each pacing step (50 ms worth) on the wire almost
# at once, and the back-end, woken once for many, took 113-159 frames per
# notification with coalescing off (14.6-17.5 by AF_PACKET).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-vhost xvnet-vhostsink

MAC=02:00:00:00:78:01
SOCK=$XV_TMP/vhost.sock
STATS=$XV_TMP/vhost.stats
SINK=$XV_TMP/sink.stats

xv_topology
xvnetd_start
xvctl vm add vc1 --mac $MAC --port xsk --ifname "$(xv_name pvc)" --xsk-frames 8192 \
	--xsk-fill-size 4096 --xsk-rx-size 4096 || fail "vm add (xsk) refused"
xvctl coalesce set vc1 --rx-frames 0 --rx-usecs 0 >/dev/null || fail "coalesce off refused"
bg_start "$XV_TMP/vhost.log" "$XV_BIN/xvnet-vhost" -s "$XVD_SOCK" --vm vc1 \
	--vhost-socket "$SOCK" --stats "$STATS"
wait_until 10 grep -q XVNET-VHOST-READY "$XV_TMP/vhost.log" ||
	fail "xvnet-vhost did not start: $(tail -3 "$XV_TMP/vhost.log")"
bg_start "$XV_TMP/sink.log" "$XV_BIN/xvnet-vhostsink" --vhost-socket "$SOCK" --stats "$SINK"
wait_until 10 grep -q XVNET-VHOSTSINK-READY "$XV_TMP/sink.log" ||
	fail "xvnet-vhostsink did not start: $(cat "$XV_TMP/sink.log")"

# vstat FIELD: a counter from the back-end's stats file
vstat() { awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' "$STATS"; }
# shellcheck disable=SC2317  # called through wait_until
settled() { # the front-end got every frame the back-end delivered
	[ "$(cut -d' ' -f1 "$SINK")" = "$(vstat rx)" ] && [ "$(vstat rx)" -ge "$1" ]
}
# round LABEL: 20000 frames at 100 kpps; sets PER (frames per notification)
round() {
	local r0 n0 r n
	r0=$(vstat rx); n0=$(vstat notifications)
	trafgen_from_wire --source packet --dst-mac $MAC --flows 64 --count 20000 --rate 100000 --duration 10 \
		>/dev/null || fail "$1: trafgen failed"
	wait_until 10 settled $((r0 + 5000)) ||
		fail "$1: the front-end got $(cut -d' ' -f1 "$SINK") of the back-end's $(vstat rx)"
	sleep 0.3
	r=$(( $(vstat rx) - r0 )); n=$(( $(vstat notifications) - n0 ))
	[ "$n" -gt 0 ] || fail "$1: $r frames, no notification"
	PER=$(python3 -c "print(f'{$r / $n:.1f}')")
	log "$1: $r frames, $n notifications: $PER frames per notification"
}
round "off"
off=$PER
xvctl coalesce set vc1 --rx-frames 256 --rx-usecs 2000 >/dev/null || fail "coalesce set refused"
round "rx-frames 256 rx-usecs 2000"
on=$PER
python3 -c "import sys; sys.exit(0 if $on >= 64 and $on >= 4 * $off else 1)" ||
	fail "coalescing on: $on frames per notification (off: $off)"
# the page's counters, as xvnetd shows them
page=$(xvctl stats vc1 | grep -o "notify notifications [0-9]* packets [0-9]* per_notification [0-9.]*") ||
	fail "xvnetctl stats shows no notification counters: $(xvctl stats vc1)"
log "xvnetctl stats vc1: $page"
pass "xvnet-vhost interrupts by the VM's policy: $off frames per notification off, $on with rx-frames 256 rx-usecs 2000 (100 kpps); $page"
