#!/usr/bin/env bash
# Live migration of a real guest whose NIC is a vhost-user port (an xsk VM
# served by the xvnet-vhost back-end that xvnetd runs) to a QEMU on a tap,
# the VM's xvnet port moved with it (DNIS, docs/dnis.md): QEMU migrates a
# vhost-user NIC only when the back-end logs the guest memory it writes
# (VHOST_F_LOG_ALL, LOG_SHMFD: vhost/vu_log.c), under a UDP echo stream
# that keeps the back-end writing into the guest's RX buffers and used
# ring during the whole precopy.  Checked: the migration completes, the
# guest answers from the destination through the tap (its RX ring state
# came over intact: a page the back-end wrote and did not log would hold
# stale ring entries there), the back-end is stopped and its socket gone,
# the announce reaches the wire; reported: blackout and frames lost.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-vhost
guest_require

TAP2=$(xv_name mv2)
MAC=$(guest_mac 8)
GUEST_IP=10.77.0.58
PORT=$((20000 + $$ % 20000))
RATE=${MIGRATE_RATE:-1000}
# QEMU 7.2 under TCG crashes on a vhost-user NIC's MSI-X (test_xvnet_vhost);
# both ends need the same device properties and RAM layout
export GUEST_DEVICE_OPTS=vectors=0

xv_topology
xvnetd_start
tap_create "$TAP2"
xvctl vm add g1 --mac "$MAC" --port vhost-user --ifname "$(xv_name mvs)" --ip "$GUEST_IP" ||
	fail "vm add --port vhost-user refused"
vh() {
	xvctl -j vm show g1 | python3 -c '
import json, sys
v = json.load(sys.stdin).get("vhost") or {}
x = v.get(sys.argv[1], "")
print(json.dumps(x) if isinstance(x, bool) else x)' "$1"
}
wait_until 5 sh -c "[ \"\$(XV_SOCK=$XVD_SOCK $XV_BIN/xvnetctl -s $XVD_SOCK -j vm show g1 | grep -c '\"running\": *true')\" = 1 ]" ||
	fail "no back-end running: $(xvctl -j vm show g1)"
SOCK=$(vh socket)
BPID=$(vh pid)
wait_until 5 test -S "$SOCK" || fail "no vhost-user socket at $SOCK"

GUEST_ID=g1 GUEST_VHOST=$SOCK GUEST_QEMU_ARGS="-monitor unix:$XV_TMP/src.mon,server,nowait" \
	guest_start "" "$MAC" "$GUEST_IP/24" "$XV_TMP/src.log"
SRC=$GUEST_PID
guest_wait_ready "$XV_TMP/src.log" 90 || fail "source guest did not become ready"
GUEST_ID=g1 GUEST_SHARED_MEM=1 \
	GUEST_QEMU_ARGS="-monitor unix:$XV_TMP/dst.mon,server,nowait -incoming tcp:127.0.0.1:$PORT" \
	guest_start "$TAP2" "$MAC" "$GUEST_IP/24" "$XV_TMP/dst.log"
DST=$GUEST_PID
wait_until 10 test -S "$XV_TMP/dst.mon" || fail "destination QEMU: $(cat "$XV_TMP/dst.log.qemu")"
probe_from_wire "$GUEST_IP" -n 5 -r 50 -t 3000 -m 5 -i g1 >/dev/null || fail "no echo from the source guest"

bg_start "$XV_TMP/rarp.txt" ip netns exec "$W" python3 -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x8035))
s.bind((sys.argv[1], 0))
while True:
    f = s.recv(2048)
    print(":".join("%02x" % b for b in f[6:12]), flush=True)' "$WIRE"
ip -n "$W" neigh replace "$GUEST_IP" lladdr "$MAC" dev "$WIRE" nud permanent
bg_start "$XV_TMP/echo.json" ip netns exec "$W" python3 "$XV_ROOT/selftests/lib/echo_stream.py" \
	"$GUEST_IP" "$GUEST_PORT" "$RATE" 20
ECHO=$BG_PID
sleep 2
python3 "$XV_ROOT/selftests/lib/migrate.py" "$XV_TMP/src.mon" "$XV_TMP/dst.mon" "$PORT" g1 "$TAP2" \
	"$XVD_SOCK" "$XV_BIN/xvnetctl" -s "$XVD_SOCK" >"$XV_TMP/mig.json" 2>"$XV_TMP/mig.err" ||
	fail "migration: $(cat "$XV_TMP/mig.err"; tail -3 "$XV_TMP/src.log.qemu")"
wait_until 30 _xv_dead "$ECHO" || fail "echo stream still running"
cat "$XV_TMP/mig.json"
wait_until 5 _xv_dead "$SRC" || fail "the source QEMU did not quit"
grep -q "vm g1: moved to tap $TAP2" "$XV_TMP/xvnetd.log" || fail "xvnetd did not move g1 to $TAP2"
wait_until 5 _xv_dead "$BPID" || fail "the vhost-user back-end still runs after the move"
[ ! -e "$SOCK" ] || fail "the vhost-user socket is left after the move"
[ "$(xvctl -j vm show g1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["ifname"])')" = "$TAP2" ] ||
	fail "vm show does not name the destination's tap"
probe_from_wire "$GUEST_IP" -n 20 -r 100 -t 3000 -m 20 -i g1 >/dev/null ||
	fail "no echo from the destination guest (its RX ring did not come over intact?)"
python3 - "$XV_TMP/mig.json" "$XV_TMP/echo.json" <<'PYEOF' >"$XV_TMP/figures.txt" || fail "migration figures: $(cat "$XV_TMP/figures.txt")"
import json, sys
m, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t0, rate = m["t0_mono"], e["rate"]
rel = lambda mono: round((mono - t0) * 1000, 1)
print("migration: source stopped at %s ms (%s), switched by %s ms (slot write %s us, drain %s us),"
      " completed at %s ms, destination running at %s ms; QEMU downtime %s, total %s"
      % (m["source_stopped_ms"], m["source_state"], m["switched_ms"], m["switch"]["switch_us"],
         m["switch"]["drain_us"], m["completed_ms"], m["destination_running_ms"],
         m.get("qemu_downtime"), m.get("qemu_total_time")))
lo, hi = t0, t0 + (m["destination_running_ms"] + 500) / 1000
sent_at = lambda k: e["t0_mono"] + k / rate
lost_in = [k for k in e["lost_seqs"] if lo <= sent_at(k) <= hi]
times = [t for t in e["reply_times"] if lo - 0.5 <= t <= hi]
gap, at = 0.0, lo
for a, b in zip(times, times[1:]):
    if b - a > gap:
        gap, at = b - a, a
print("echo stream (%d/s): %d sent, %d replies, %d lost in all; around the migration: %d lost,"
      " blackout %.1f ms from %s ms" % (rate, e["sent"], e["replies"], e["lost"], len(lost_in),
                                        gap * 1000, rel(at)))
print("lost frames sent at (ms): %s" % ", ".join("%.1f" % rel(sent_at(k)) for k in lost_in))
print("BLACKOUT_MS=%.1f LOST_IN=%d LOST_ALL=%d SENT=%d" % (gap * 1000, len(lost_in), e["lost"], e["sent"]))
assert e["replies"] > 0.9 * e["sent"], "most of the stream lost"
assert len(lost_in) == e["lost"], "frames lost away from the migration"
PYEOF
cat "$XV_TMP/figures.txt" >&2
rarps=$(grep -ci "^$MAC" "$XV_TMP/rarp.txt" || true)
[ "$rarps" -gt 0 ] || fail "no announce (RARP from $MAC) reached the wire after the migration"
log "announce: $rarps RARP frames from $MAC reached the wire after the migration"
pass "live migration of a vhost-user guest (dirty log) to a tap QEMU, vm move --prepare/--switch: $(grep ^BLACKOUT "$XV_TMP/figures.txt")"
