#!/usr/bin/env bash
# xsk VM ports (AF_XDP) end to end, on a NIC veth with 2 RX queues (veth
# picks the RX queue from the sending CPU: cpu 0 -> queue 0, cpu 1 -> 1):
#  - two xsk VMs (x1 on NIC queue 0, x2 on queue 1: the kernel allows one
#    UMEM per NIC queue) and one tap VM; traffic reaches only its VM; a frame
#    for x1 arriving on a queue x1 has no socket on is dropped and counted,
#    never delivered elsewhere; the metadata in front of each frame carries
#    the VM's Toeplitz hash of the flow (recomputed here from the VM's key),
#    the queue the VM's indirection table gives for it, the VLAN, the VM id;
#  - the sockets are handed over SCM_RIGHTS to xvnet-xskdump, which drops
#    to nobody/nogroup before it maps the UMEM and the rings: it receives;
#  - a consumer that stops reading: rx_ring_full shows in `xvnetctl stats`,
#    the other xsk VM keeps receiving everything;
#  - egress: the NIC sockets have no TX ring and the consumer cannot add
#    one; frames it puts on the side socket's TX leave through the NIC after
#    vm_tx's checks: its own MAC/IP pass, a forged MAC or IP is dropped and
#    counted as spoofing, never on the wire; a frame for the other xsk VM
#    stays in host memory and arrives on that VM's side socket;
#  - broadcast from the wire reaches both xsk VMs (side sockets) and the tap;
#  - vm del releases sockets and UMEM; a VM on both queues receives on both;
#  - 100 add/del cycles of an xsk VM under traffic: the daemon's fds, its
#    AF_XDP sockets and UMEMs (memfd mappings) come back to where they were.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-xskdump xvnet-tapread
id nobody >/dev/null 2>&1 || skip "no user nobody"

MAC1=02:00:00:00:44:01      # xsk VM x1
MAC2=02:00:00:00:44:02      # xsk VM x2
MAC3=02:00:00:00:44:03      # tap VM t1
MAC4=02:00:00:00:44:04      # xsk VMs xz (refused), x4 (add/del cycles)
TAP=$(xv_name t1)
PUB=$XV_TMP/pub             # the unprivileged consumers write here
mkdir -p "$PUB" && chmod 1777 "$PUB"
chmod o+x "$XV_TMP"

# the topology of xv_topology, with a 2-queue NIC
ns_create "$W"
_xv_own_if "$WIRE"; _xv_own_if "$NIC"
ip link add "$NIC" numtxqueues 2 numrxqueues 2 type veth peer name "$WIRE" \
	numtxqueues 2 numrxqueues 2 netns "$W" || fail "veth with 2 queues"
cleanup_add link_del "$NIC" ""
{ ip link set "$NIC" up && ip -n "$W" link set "$WIRE" up; } || fail "link up"
ip netns exec "$W" ethtool -K "$WIRE" gro on >/dev/null
ip netns exec "$W" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
sysctl -qw "net.ipv6.conf.$NIC.disable_ipv6=1"

xvnetd_start
# rings that absorb a consumer starved for a few hundred ms on a busy machine
xvctl vm add x1 --mac $MAC1 --port xsk --queues 4 --xsk-nic-queues 0 \
	--ifname "$(xv_name px1)" --ip 10.77.0.41 \
	--xsk-rx-size 4096 --xsk-fill-size 4096 --xsk-frames 8192 ||
	fail "vm add x1 (xsk) refused"
# x2: a fill ring larger than its RX ring, so a stalled consumer fills RX
xvctl vm add x2 --mac $MAC2 --port xsk --queues 2 --xsk-nic-queues 1 \
	--ifname "$(xv_name px2)" --ip 10.77.0.42 \
	--xsk-frames 4096 --xsk-fill-size 2048 || fail "vm add x2 (xsk) refused"
xvctl vm add t1 --mac $MAC3 --port tap --ifname "$TAP" || fail "vm add t1 (tap) refused"
# a third xsk VM on queues already bound is refused, with the reason
xvctl vm add xz --mac $MAC4 --port xsk --ifname "$(xv_name pxz)" 2>"$XV_TMP/refused.txt" &&
	fail "an xsk VM on NIC queues already bound was accepted"
grep -q "NIC queues shared with xsk vm 'x1'" "$XV_TMP/refused.txt" ||
	fail "refusal without reason: $(cat "$XV_TMP/refused.txt")"

xsk_field() { # VM FIELD: from vm show's xsk object
	xvctl -j vm show "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["xsk"][sys.argv[1]])' "$2"; }
xvctl -j vm show x1 >"$XV_TMP/x1.json"
mode=$(xsk_field x1 mode)
[ "$(xsk_field x1 sockets)" = 1 ] || fail "vm x1 has $(xsk_field x1 sockets) sockets, expected 1"
case $mode in copy|zero-copy) ;; *) fail "vm show: xsk mode '$mode'" ;; esac
xvctl vm show x1 | grep -q "xsk $mode sockets 1" || fail "vm show does not print the xsk line"
log "x1: 1 socket on NIC queue 0, $mode mode; x2: 1 socket on queue 1"

dump_start() { # NAME VM [options]: xvnet-xskdump as nobody, stats in $PUB/VM
	local name=$1 vm=$2 uid; shift 2
	rm -f "$PUB/$vm"
	bg_start "$XV_TMP/$name.log" "$XV_BIN/xvnet-xskdump" -s "$XVD_SOCK" --vm "$vm" \
		--user nobody --stats "$PUB/$vm" "$@"
	DUMP_PID=$BG_PID
	wait_until 5 test -s "$PUB/$vm" ||
		fail "xskdump $vm did not start: $(cat "$XV_TMP/$name.log")"
	uid=$(ps -o uid= -p "$DUMP_PID" | tr -d ' ')
	[ "$uid" = "$(id -u nobody)" ] || fail "consumer of $vm runs as uid '$uid', not nobody"
}
total() { cut -d' ' -f1 "$1"; }
reached() { [ "$(total "$1")" -ge "$2" ]; }     # FILE N
gen() { # CPU MAC COUNT: 8 UDP flows from the wire, sent on CPU
	ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --json --cpu "$1" \
		--dst-mac "$2" --flows 8 --count "$3" --rate 10000 --duration 5 \
		--src-ip 10.77.0.9 --dst-ip 10.77.0.44 >/dev/null ||
		fail "trafgen on cpu $1 to $2 failed"
}

dump_start d1 x1 --print 64
D1=$DUMP_PID
grep -q "uid $(id -u nobody)" "$XV_TMP/d1.log" || fail "xskdump did not drop to nobody"
dump_start d2 x2 --copy   # as the bench's consumer: every frame copied out
D2=$DUMP_PID
bg_start "$XV_TMP/tapread.log" "$XV_BIN/xvnet-tapread" --dev "$TAP" --stats "$XV_TMP/tap"
wait_until 5 test -s "$XV_TMP/tap" || fail "tapread did not start"

# ---- delivery ---------------------------------------------------------------
N=1000
gen 0 $MAC1 $N & G0=$!
gen 1 $MAC2 $N & G1=$!
wait $G0 || fail "generator failed"; wait $G1 || fail "generator failed"
gen 0 $MAC3 $N & G0=$!
gen 1 $MAC3 $N & G1=$!
wait $G0 || fail "generator failed"; wait $G1 || fail "generator failed"
all_in() { [ "$(total "$PUB/x1")" -ge $N ] && [ "$(total "$PUB/x2")" -ge $N ] &&
	[ "$(total "$XV_TMP/tap")" -ge $((2 * N)) ]; }
wait_until 5 all_in
sleep 0.3
t1=$(total "$PUB/x1"); t2=$(total "$PUB/x2"); tt=$(total "$XV_TMP/tap")
log "x1 $t1, x2 $t2 (of $N each), tap $tt (of $((2 * N)), from both queues)"
[ "$t1" = $N ] && [ "$t2" = $N ] && [ "$tt" = $((2 * N)) ] ||
	fail "delivery: x1 $t1 x2 $t2 tap $tt (no loss, nothing foreign expected): $(xvctl stats)"
# x1's frames on queue 1 (where only x2 has a socket): dropped, counted
nr0=$(xv_counter queue_not_ready)
gen 1 $MAC1 500
sleep 0.3
nr=$(( $(xv_counter queue_not_ready) - nr0 ))
[ "$nr" = 500 ] || fail "x1's frames on queue 1: queue_not_ready +$nr, expected +500"
[ "$(total "$PUB/x1")" = $N ] && [ "$(total "$PUB/x2")" = $N ] ||
	fail "x1's frames on queue 1 reached a consumer"
log "x1's 500 frames on NIC queue 1: queue_not_ready +500, no consumer saw them"

# ---- metadata: hash == Toeplitz(VM key, flow), queue == indir[hash % 128] --
python3 - "$XV_TMP/x1.json" "$XV_TMP/d1.log" $MAC1 <<'PYEOF' || fail "metadata check failed"
import ipaddress, json, os, sys
sys.path.insert(0, os.environ["XV_ROOT"] + "/selftests/lib")
from toeplitz import toeplitz  # checked against the published suite on import
vm = json.load(open(sys.argv[1]))
key = bytes(int(b, 16) for b in vm["rss_key"].split(":"))
indir, vid, mac = vm["rss_indir"], vm["id"], sys.argv[3]



n, flows, queues = 0, set(), set()
for line in open(sys.argv[2]):
    if not line.startswith("frame "):
        continue
    t = line.split()
    f = dict(zip(t[1::2], t[2::2]))
    data = (ipaddress.ip_address(f["src"]).packed + ipaddress.ip_address(f["dst"]).packed +
            int(f["sport"]).to_bytes(2, "big") + int(f["dport"]).to_bytes(2, "big"))
    want = toeplitz(key, data)
    got = int(f["hash"], 16)
    assert f["dmac"] == mac, f"x1 got a frame for {f['dmac']}"
    assert int(f["vm"]) == vid, f"meta vm {f['vm']} != {vid}"
    assert int(f["type"]) == 3, f"meta type {f['type']} != UDP4 (3)"
    assert int(f["vlan"]) == 0, f"meta vlan {f['vlan']}"
    assert got == want, f"hash {got:#x} != Toeplitz {want:#x} for {f['src']}:{f['sport']}"
    assert int(f["queue"]) == indir[got % 128], f"queue {f['queue']} != indir[{got % 128}]"
    n += 1
    flows.add(f["sport"])
    queues.add(f["queue"])
assert n >= 32, f"only {n} frames printed"
assert len(flows) == 8, f"{len(flows)} flows seen, 8 sent"
print(f"{n} frames, {len(flows)} flows, virtual queues {sorted(queues)}: "
      "hash, queue, vlan, vm id right")
PYEOF

# ---- a consumer that stops reading ------------------------------------------
proc_stop "$D2"
dump_start d2b x2 --no-read
D2=$DUMP_PID
s1=$(total "$PUB/x1")
N=3000
gen 0 $MAC1 $N & G0=$!
gen 1 $MAC2 $N & G1=$!
wait $G0; wait $G1
wait_until 5 reached "$PUB/x1" $((s1 + N))
sleep 0.3
got1=$(( $(total "$PUB/x1") - s1 ))
xvctl -j stats x2 >"$XV_TMP/x2stats.json"
read -r full dropped < <(python3 -c '
import json, sys
x = json.load(open(sys.argv[1]))["vms"][0]["xsk"]
print(x["rx_ring_full"], x["rx_dropped"])' "$XV_TMP/x2stats.json")
log "stalled x2: rx_ring_full $full rx_dropped $dropped; x1 meanwhile got $got1 of $N"
[ "$full" -gt 0 ] || fail "stalled consumer: rx_ring_full stays 0"
[ "$got1" = $N ] || fail "x1 got $got1 of $N while x2 was stalled"
xvctl stats x2 | grep -q "rx_ring_full $full" || fail "xvnetctl stats does not print rx_ring_full"
proc_stop "$D2"

# ---- egress: through the side socket and vm_tx's checks, never around them -
proc_stop "$D1"
"$XV_BIN/xvnet-xskdump" -s "$XVD_SOCK" --vm x1 --user nobody --probe-nic-tx \
	--duration 0.1 >"$XV_TMP/probe.log" 2>&1 ||
	fail "the consumer gave a NIC socket a TX ring: $(cat "$XV_TMP/probe.log")"
grep -q "nic tx ring: refused" "$XV_TMP/probe.log" || fail "probe: $(cat "$XV_TMP/probe.log")"
WIRE_MAC=$(ip -n "$W" -j link show "$WIRE" | jq -r "$XV_JQ_PY"' .[0]["address"] | py')
spoofed() { xvctl -j stats x1 | python3 -c '
import json, sys
print(json.load(sys.stdin)["vms"][0]["egress"]["spoof"])'; }
tx_x1() { # COUNT SRC-MAC SRC-IP DST-MAC
	"$XV_BIN/xvnet-xskdump" -s "$XVD_SOCK" --vm x1 --user nobody --tx "$1" --tx-src "$2" \
		--tx-ip "$3" --tx-dst "$4" --duration 0.2 >"$XV_TMP/tx.log" 2>&1 ||
		fail "xskdump --tx: $(cat "$XV_TMP/tx.log")"
	grep -q "tx sent $1 completed $1" "$XV_TMP/tx.log" || fail "TX: $(cat "$XV_TMP/tx.log")"
}
w0=$(if_rx_packets "$WIRE" "$W"); sp0=$(spoofed)
tx_x1 50 $MAC1 10.77.0.41 "$WIRE_MAC"
wire_got() { [ $(( $(if_rx_packets "$WIRE" "$W") - w0 )) -ge "$1" ]; }
wait_until 3 wire_got 50 ||
	fail "TX: the wire got $(( $(if_rx_packets "$WIRE" "$W") - w0 )) of 50 frames"
tx_x1 50 02:00:00:00:66:66 10.77.0.41 "$WIRE_MAC"       # forged MAC
tx_x1 50 $MAC1 10.77.0.99 "$WIRE_MAC"                   # forged IP
sleep 0.3
wire=$(( $(if_rx_packets "$WIRE" "$W") - w0 )); sp=$(( $(spoofed) - sp0 ))
log "egress: 50 own frames on the wire; 100 forged: spoof +$sp, wire total $wire"
[ "$wire" = 50 ] || fail "forged frames reached the wire ($wire frames, 50 expected)"
[ "$sp" = 100 ] || fail "forged frames: spoof counters +$sp, expected +100"
# xsk VM to xsk VM: in host memory, onto x2's side socket, not on the wire
dump_start d2c x2
D2=$DUMP_PID
tx_x1 40 $MAC1 10.77.0.41 $MAC2
wait_until 3 eval '[ "$(cut -d" " -f3 "$PUB/x2")" -ge 40 ]'
read -r _ q1 side2 <"$PUB/x2"
log "x1 -> x2 (40 frames): x2 side socket $side2, NIC queue $q1; wire +$(( $(if_rx_packets "$WIRE" "$W") - w0 - 50 ))"
[ "$side2" = 40 ] || fail "x1 -> x2: x2's side socket got $side2 of 40"
[ "$(( $(if_rx_packets "$WIRE" "$W") - w0 ))" = 50 ] || fail "x1 -> x2 frames went out of the NIC"
# broadcast from the wire: both xsk VMs (side sockets) and the tap
dump_start d1b x1
D1=$DUMP_PID
tap0=$(total "$XV_TMP/tap")
gen 0 ff:ff:ff:ff:ff:ff 30
bcast_in() { [ "$(cut -d' ' -f3 "$PUB/x1")" -ge 30 ] && [ "$(cut -d' ' -f3 "$PUB/x2")" -ge 70 ]; }
wait_until 5 bcast_in
sleep 0.2
b1=$(cut -d' ' -f3 "$PUB/x1"); b2=$(( $(cut -d' ' -f3 "$PUB/x2") - 40 )); bt=$(( $(total "$XV_TMP/tap") - tap0 ))
log "30 broadcasts from the wire: x1 side $b1, x2 side $b2, tap $bt"
[ "$b1" = 30 ] && [ "$b2" = 30 ] && [ "$bt" = 30 ] ||
	fail "broadcast: x1 $b1 x2 $b2 tap $bt (30 each expected)"
proc_stop "$D1"; proc_stop "$D2"

# ---- vm del releases; one VM on both queues receives on both ----------------
xsk_status() { xvctl -j status | python3 -c '
import json, sys
x = json.load(sys.stdin)["xsk"]
print(x["vms"], x["sockets"], x["umems"])'; }
# the daemon's open fds, once the last control connection has been closed
fds() { sleep 0.3; find "/proc/$XVD_PID/fd" -mindepth 1 | wc -l; }
umaps() { grep -c "xvnet-umem" "/proc/$XVD_PID/maps" || true; }
[ "$(xsk_status)" = "2 4 2" ] || fail "xsk status $(xsk_status), expected 2 VMs 4 sockets (2 NIC + 2 side) 2 UMEMs"
xvctl vm del x1 && xvctl vm del x2 || fail "vm del"
[ "$(xsk_status)" = "0 0 0" ] || fail "after vm del: xsk status $(xsk_status)"
[ "$(umaps)" = 0 ] || fail "UMEM still mapped after vm del"
xvctl vm add x3 --mac $MAC1 --port xsk --queues 2 --ifname "$(xv_name px3)" ||
	fail "vm add x3 (all queues)"
[ "$(xsk_field x3 sockets)" = 2 ] || fail "x3: $(xsk_field x3 sockets) sockets, expected 2"
dump_start d3 x3
N=1000
gen 0 $MAC1 $N & G0=$!
gen 1 $MAC1 $N & G1=$!
wait $G0; wait $G1
wait_until 5 reached "$PUB/x3" $((2 * N))
sleep 0.2
read -r t3 a3 b3 _ <"$PUB/x3"
log "x3 (both queues): $t3 (q0 $a3 q1 $b3)"
[ "$t3" = $((2 * N)) ] && [ "$a3" = $N ] && [ "$b3" = $N ] ||
	fail "x3 got $t3 (q0 $a3 q1 $b3), expected $N on each queue"
proc_stop "$DUMP_PID"
xvctl vm del x3 || fail "vm del x3"

# ---- 100 add/del cycles under traffic: sockets and UMEM released ------------
f0=$(fds); m0=$(umaps); s0=$(xsk_status)
ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" --dst-mac $MAC4 \
	--rate 50000 --duration 30 >/dev/null 2>&1 & GEN=$!
t0=$(date +%s%N)
for i in $(seq 100); do
	xvctl vm add x4 --mac $MAC4 --port xsk --ifname "$(xv_name px4)" --xsk-frames 64 --xsk-fill-size 64 \
		--xsk-comp-size 64 --xsk-rx-size 64 --xsk-tx-size 64 >/dev/null ||
		fail "cycle $i: vm add x4 refused"
	if [ "$i" = 1 ]; then
		[ "$(xsk_status)" = "1 3 1" ] || fail "x4 not counted: $(xsk_status)"
		[ "$(umaps)" -gt "$m0" ] || fail "x4's UMEM mapping not seen"
	fi
	xvctl vm del x4 >/dev/null || fail "cycle $i: vm del x4 refused"
done
kill "$GEN" 2>/dev/null; wait "$GEN" 2>/dev/null
f1=$(fds); m1=$(umaps); s1=$(xsk_status)
log "100 add/del cycles in $(elapsed_ms "$t0") ms: fds $f0 -> $f1, UMEM maps $m0 -> $m1, xsk (vms sockets umems) '$s0' -> '$s1'"
[ "$f1" -le "$f0" ] || fail "xvnetd leaks fds: $f0 -> $f1"
[ "$m1" = "$m0" ] || fail "xvnetd leaks UMEM mappings: $m0 -> $m1"
[ "$s1" = "$s0" ] || fail "xsk sockets/UMEMs leak: '$s0' -> '$s1'"
kill -0 "$XVD_PID" || fail "xvnetd died"
pass "2 xsk VMs + tap: only-own delivery, Toeplitz metadata, unprivileged consumer (SCM_RIGHTS), stall drops, TX only through vm_tx (spoofing dropped), xsk-to-xsk in memory, broadcast, 100 add/del cycles without leaks"
