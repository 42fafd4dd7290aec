#!/usr/bin/env bash
# `--port vhost-user`: xvnetd runs the VM's xvnet-vhost back-end itself.
#  - vm add starts it on the default socket (RUNDIR/NAME.vhost), unprivileged
#    (nobody; the VM's --owner when given, who also owns the socket, mode
#    0660 with --group); vm show says so;
#  - frames from the wire reach a vhost-user front-end on that socket
#    (xvnet-vhostsink, no QEMU: test_xvnet_vhost boots a guest);
#  - killed, it is started again within 2 s, and frames flow again;
#  - vm del stops it and removes its socket; xvnetd's stop stops the
#    others, and a restarted xvnetd starts them from its state.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-vhost xvnet-vhostsink
NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"

MAC=02:00:00:00:79:01
MAC2=02:00:00:00:79:02
OWNER=4242      # a UID with no name: the back-end becomes it
GROUP=4243
SOCK=$(dirname "$XVD_SOCK")/vm1.vhost
SINK=$XV_TMP/sink.stats

xv_topology
xvnetd_start

# vh FIELD [VM]: a field of the VM's back-end as vm show -j gives it
vh() {
	xvctl -j vm show "${2:-vm1}" | python3 -c '
import json, sys
v = json.load(sys.stdin).get("vhost") or {}
x = v.get(sys.argv[1], "")
print(json.dumps(x) if isinstance(x, bool) else x)' "$1"
}
# shellcheck disable=SC2317  # called through wait_until
running() { [ "$(vh running "${1:-vm1}")" = true ] && [ "$(vh pid "${1:-vm1}")" != "${2:-}" ]; }
vhc() { # a counter of the back-end, as vm show -j has it
	xvctl -j vm show "${2:-vm1}" | python3 -c '
import json, sys
print(json.load(sys.stdin)["vhost"].get("counters", {}).get(sys.argv[1], -1))' "$1"
}
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

xvctl vm add vm1 --mac $MAC --port vhost-user --ifname "$(xv_name pv1)" || fail "vm add --port vhost-user refused"
wait_until 5 running || fail "no back-end running: $(xvctl -j vm show vm1)"
PID=$(vh pid)
[ "$(vh socket)" = "$SOCK" ] || fail "socket $(vh socket), want the default $SOCK"
wait_until 5 test -S "$SOCK" || fail "no socket at $SOCK"
# shellcheck disable=SC2317  # called through wait_until
shows() { xvctl vm show vm1 | grep -q "port vhost-user .* socket $SOCK back-end pid $PID (no VMM, rx 0 tx 0)"; }
wait_until 2 shows ||
	fail "vm show does not say it: $(xvctl vm show vm1)"
[ "$(uid_of "$PID")" = "$NOBODY" ] || fail "back-end runs as uid $(uid_of "$PID"), want nobody"
[ "$(stat -c '%u %a' "$SOCK")" = "0 600" ] || fail "socket $(stat -c '%u %a' "$SOCK"), want root's, 0600"
log "vm1: back-end pid $PID as nobody, socket $SOCK (root, 0600)"

# sink_round LABEL: a front-end on the socket gets frames sent from the wire
sink_round() {
	local n
	rm -f "$SINK"
	bg_start "$XV_TMP/sink-$1.log" "$XV_BIN/xvnet-vhostsink" --vhost-socket "$SOCK" --stats "$SINK"
	SINK_PID=$BG_PID
	wait_until 10 grep -q XVNET-VHOSTSINK-READY "$XV_TMP/sink-$1.log" ||
		fail "$1: front-end not served: $(cat "$XV_TMP/sink-$1.log")"
	trafgen_from_wire --dst-mac $MAC --flows 16 --count 2000 --rate 20000 --duration 10 \
		>/dev/null || fail "$1: trafgen failed"
	# shellcheck disable=SC2317  # called through wait_until
	got() { [ "$(cut -d' ' -f1 "$SINK" 2>/dev/null || echo 0)" -ge 1900 ]; }
	wait_until 10 got || fail "$1: the front-end got $(cut -d' ' -f1 "$SINK") of 2000 frames"
	n=$(cut -d' ' -f1 "$SINK")
	# the back-end's own counters, through xvnetd (its --stats-fd page)
	# shellcheck disable=SC2317  # called through wait_until
	counted() { [ "$(vhc rx)" -ge "$n" ] && [ "$(vhc connected)" = 1 ]; }
	wait_until 2 counted || fail "$1: vm show's back-end counters: $(xvctl -j vm show vm1)"
	proc_stop "$SINK_PID"
	log "$1: the front-end got $n of 2000 frames"
	ROUND=$n
}
sink_round first
FIRST=$ROUND

# killed: started again, frames flow again
kill -9 "$PID"
wait_until 5 running vm1 "$PID" ||
	fail "back-end not started again: $(xvctl -j vm show vm1)"
PID2=$(vh pid)
[ "$(vh starts)" = 2 ] || fail "starts $(vh starts), want 2"
grep -q "vm vm1: vhost-user back-end killed by signal 9" "$XV_TMP/xvnetd.log" ||
	fail "xvnetd did not log the death"
sink_round "after kill -9"
AGAIN=$ROUND

# vm set --queue-cpus: the back-end is started again with a worker thread
# for the queue pair, pinned to that CPU (virtual RSS for the back-end)
if [ "$(nproc)" -ge 2 ]; then
	xvctl vm set vm1 --queue-cpus 1 || fail "vm set vm1 --queue-cpus 1 refused"
	wait_until 5 running vm1 "$PID2" || fail "back-end not restarted for queue-cpus: $(xvctl -j vm show vm1)"
	PID2=$(vh pid)
	# shellcheck disable=SC2317  # called through wait_until
	pinned() {
		local t
		for t in /proc/"$PID2"/task/*; do
			[ "$(cat "$t/comm" 2>/dev/null)" = xvnet-vq0 ] &&
				[ "$(awk '/^Cpus_allowed_list/ { print $2 }' "$t/status")" = 1 ] && return 0
		done
		return 1
	}
	wait_until 3 pinned || fail "no worker xvnet-vq0 on CPU 1 in the back-end (pid $PID2)"
	sink_round "queue-cpus 1"
	PINNED="; with queue-cpus 1 its worker on CPU 1: $ROUND/2000"
fi

# vm del: the back-end and its socket go
xvctl vm del vm1 || fail "vm del refused"
wait_until 3 test ! -e "/proc/$PID2" || fail "vm1's back-end still runs after vm del"
[ ! -e "$SOCK" ] || fail "vm1's socket left after vm del"

# owner and group: the socket is theirs, the back-end runs as the owner
xvctl vm add vm2 --mac $MAC2 --port vhost-user --ifname "$(xv_name pv2)" \
	--vhost-socket "$XV_TMP/vm2.sock" --owner $OWNER --group $GROUP ||
	fail "vm add vm2 refused"
wait_until 5 running vm2 || fail "vm2: no back-end"
P2=$(vh pid vm2)
wait_until 5 test -S "$XV_TMP/vm2.sock" || fail "vm2: no socket"
[ "$(stat -c '%u %g %a' "$XV_TMP/vm2.sock")" = "$OWNER $GROUP 660" ] ||
	fail "vm2 socket $(stat -c '%u %g %a' "$XV_TMP/vm2.sock"), want $OWNER $GROUP 660"
[ "$(uid_of "$P2")" = "$OWNER" ] || fail "vm2 back-end runs as $(uid_of "$P2"), want $OWNER"
! xvctl vm add vm3 --mac 02:00:00:00:79:03 --port vhost-user --vhost-socket "$XV_TMP/vm2.sock" \
	2>"$XV_TMP/dup.err" || fail "a second VM on vm2's socket was accepted"
grep -q "already used by vm 'vm2'" "$XV_TMP/dup.err" || fail "dup socket: $(cat "$XV_TMP/dup.err")"

# xvnetd stops: its back-ends stop; started again: they come back
proc_stop "$XVD_PID"
wait_until 3 test ! -e "/proc/$P2" || fail "vm2's back-end outlived xvnetd"
_xvnetd_launch
wait_until 10 running vm2 "$P2" || fail "vm2's back-end not started by the new xvnetd"
[ "$(vh pid vm2)" != "$P2" ] || fail "the same pid after a restart"
pass "vhost-user back-ends run by xvnetd: $FIRST/2000 frames to a front-end, $AGAIN/2000 after kill -9 (restarted)${PINNED:-}, socket owner/group/mode and unprivileged back-end, stopped by vm del and with xvnetd, started again by a new xvnetd"
