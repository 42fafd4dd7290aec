#!/usr/bin/env bash
# The control socket never blocks on one client (issue 16 item 5): a client
# that sends requests and never reads its replies, idle connections filling
# the table (64), and
# a client that sends half a line and waits do not stall `xvnetctl status`
# nor the slow path (a VM with an allow rule still gets its new flows set
# up); the half line is disconnected by its timeout; an unprivileged user
# of the socket group cannot take the 8 connections reserved for root.
#
#   W: wire (10.77.0.1) == NIC [xvnetd] -- vm1 (10.77.0.11, one allow rule)
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require

MAC1=02:00:00:00:1a:01
xv_topology
# the socket's group: an unprivileged user (nobody) may connect too
xvnetd_start "socket-group nogroup"
vm_ns_add vm1 $MAC1 10.77.0.11/24
ip -n "$W" neigh replace 10.77.0.11 lladdr $MAC1 dev "$WIRE"
xvctl rule add vm1 --dir in --proto udp --dport "$GUEST_PORT" --action allow || fail "rule in"
xvctl rule add vm1 --dir out --action allow || fail "rule out"

# the abusive clients, in one python process: 1 never reads (sends status
# requests until its socket is full), 64 connect and say nothing, 1 sends
# half a line; it reports when the daemon closes the last two kinds
cat >"$XV_TMP/abuse.py" <<'PY'
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
hog = conn()
hog.setblocking(False)
sent = 0
try:
    while sent < 200000:
        hog.send(b'{"cmd":"status"}\n' * 64)
        sent += 64
except BlockingIOError:
    pass
print("HOG", sent, flush=True)
half = conn()
half.send(b'{"cmd":')
# 64 more: with hog and half the table (64) is full, the last two are told busy
idle = [conn() for _ in range(64)]
print("READY", flush=True)
t0 = time.time()
half.settimeout(15)
try:
    r = half.recv(100)
    print("HALF-CLOSED" if not r else "HALF-ANSWERED", round(time.time() - t0, 1),
          repr(r[:40]), flush=True)
except socket.timeout:
    print("HALF-OPEN", flush=True)
time.sleep(30)
PY
bg_start "$XV_TMP/abuse.log" python3 -u "$XV_TMP/abuse.py" "$XVD_SOCK"
ABUSE=$BG_PID
wait_until 10 grep -q READY "$XV_TMP/abuse.log" || fail "abusive clients: $(cat "$XV_TMP/abuse.log")"
log "$(head -1 "$XV_TMP/abuse.log"), a half line and 64 idle clients connected (the table of 64 is full)"
# the table is full; a connection idle for 1 s makes room for a new one
# (and 8 slots are root's alone: tests run as root, so this is eviction)
sleep 1.2

# xvnetctl status answers at once, several times
for i in 1 2 3; do
	t0=$(date +%s%N)
	timeout 5 "$XV_BIN/xvnetctl" -s "$XVD_SOCK" status >/dev/null ||
		fail "status with the abusive clients connected: no answer (round $i)"
	ms=$(elapsed_ms "$t0")
	[ "$ms" -lt 1500 ] || fail "status took $ms ms with the abusive clients connected"
done
log "status answered in $ms ms"

# the slow path keeps setting flows up: new flows get through
r=$(probe_from_wire 10.77.0.11 -n 20 -r 200 -t 500 -m 0 -p 44001 2>&1 | sed -n 's/.*replies=\([0-9]*\).*/\1/p')
[ "${r:-0}" -ge 19 ] || fail "slow path stalled: ${r:-0}/20 replies on a new flow"
log "new flow during the stall: $r/20 answered"

# the half line is closed after its timeout (5 s)
wait_until 15 grep -q "HALF-" "$XV_TMP/abuse.log"
grep -q "HALF-CLOSED" "$XV_TMP/abuse.log" || fail "a half request line was not closed: $(cat "$XV_TMP/abuse.log")"
log "$(grep HALF- "$XV_TMP/abuse.log")"
proc_stop "$ABUSE"

# root's reserve: an unprivileged member of the socket group gets at most
# 56 of the 64 connections (the rest are told busy), and root's status is
# answered at once, with no connection to evict
chmod o+x "$XV_TMP"
cat >"$XV_TMP/fill.py" <<'PY'
import socket, sys, time
conns = []
for _ in range(64):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    conns.append(s)
time.sleep(0.5)
busy = 0
for s in conns:
    s.setblocking(False)
    try:
        busy += b"busy" in s.recv(200)
    except BlockingIOError:
        pass
print("BUSY", busy, flush=True)
time.sleep(30)
PY
sleep 0.3       # the daemon has seen the first clients go
bg_start "$XV_TMP/fill.log" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	/usr/bin/python3 -u "$XV_TMP/fill.py" "$XVD_SOCK"
wait_until 10 grep -q BUSY "$XV_TMP/fill.log" || fail "unprivileged clients: $(cat "$XV_TMP/fill.log")"
busy=$(sed -n 's/^BUSY //p' "$XV_TMP/fill.log")
[ "$busy" -eq 8 ] || fail "an unprivileged user got $(( 64 - busy )) of 64 connections (want 56, 8 reserved for root)"
t0=$(date +%s%N)
timeout 5 "$XV_BIN/xvnetctl" -s "$XVD_SOCK" status >/dev/null || fail "root's status with 56 unprivileged clients"
ms2=$(elapsed_ms "$t0")
[ "$ms2" -lt 500 ] || fail "root's status took $ms2 ms"
log "unprivileged user: 56 connections, 8 told busy; root's status in $ms2 ms"
timeout 5 "$XV_BIN/xvnetctl" -s "$XVD_SOCK" status >/dev/null || fail "status at the end"

pass "ctlsock: a non-reading client, a full table of idle clients and a half line stall neither status ($ms ms) nor the slow path ($r/20); 8 slots are root's"
