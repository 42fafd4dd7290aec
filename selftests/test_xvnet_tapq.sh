#!/usr/bin/env bash
# Delivery honours the queue RSS chose (docs/datapath.md, "the skb path"),
# end to end, on the queues a VM really reads:
#  - a 4-queue tap VM (tap made by xvnetd), its 4 queues read by
#    xvnet-tapread as a VMM reads them (one fd per queue), which notes per
#    flow the queue it read it from;
#  - a 4-queue veth VM whose VM end runs xvnet-xdpsink --flows (native XDP:
#    the RX queue per flow, rx_queue_index);
#  - 1000 UDP flows x 4 frames from the wire to each: every flow is read from
#    exactly one queue, the one its Toeplitz hash and the VM's table give
#    (recomputed in Python from `rss show -j`), all 4000 frames; per queue
#    the reader's counts equal xvnet's per-queue counters and the prediction;
#  - after `rss set --weight` and `--key`: the same, with the new table;
#  - a restart of xvnetd under traffic while the reader holds the tap's 4
#    queues (xvnetd sets the steering program again through a queue it
#    attaches and detaches): the reader's queues keep their numbers, nothing
#    is lost, the tap's tun_flags stay;
#  - a local VM (1-queue veth) sending 200 flows to the tap VM: vm_tx's
#    delivery takes the same path, to the predicted queues;
#  - single-queue VMs keep the XDP redirect: skb_path counts only the frames
#    of the multi-queue VMs, skb_path_drop stays 0; `rss show` says which;
#  - an adopted 2-queue tap gets the program and loses it with `vm del`,
#    its tun_flags untouched.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-tapread xvnet-xdpsink

TMAC=02:00:00:00:56:01          # the 4-queue tap VM
VMAC=02:00:00:00:56:02          # the 4-queue veth VM
SMAC=02:00:00:00:56:03          # the 1-queue veth VM (local sender)
FLOWS=1000
PER_FLOW=4
MS_KEY=6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa
TAP=$(xv_name tq)

xv_topology
xvnetd_start
xvctl vm add t1 --mac $TMAC --port tap --ifname "$TAP" --queues 4 || fail "vm add t1 (4-queue tap) refused"
grep -q "tap_steer set as steering program of tap $TAP (4 queues)" "$XV_TMP/xvnetd.log" ||
	fail "xvnetd did not set the tap's steering program: $(grep -i steer "$XV_TMP/xvnetd.log")"
vm_ns_add v1 $VMAC 10.77.0.52/24 --queues 4
vm_ns_add s1 $SMAC 10.77.0.53/24
for vq in "t1:skb path: on the tap queue of that number" "v1:skb path: on the VM end's RX queue" \
	"s1:XDP redirect (one queue)"; do
	xvctl rss show "${vq%%:*}" | grep -q "^Delivery: ${vq#*:}" ||
		fail "rss show ${vq%%:*}: $(xvctl rss show "${vq%%:*}" | grep Delivery)"
done

# ---- consumers -------------------------------------------------------------------
TAPREAD_N=0
tapread_start() {
	TAPREAD_N=$((TAPREAD_N + 1))
	TAPREAD_FLOWS=$XV_TMP/tap-flows.$TAPREAD_N
	rm -f "$XV_TMP/tap.stats"
	bg_start "$XV_TMP/tapread.$TAPREAD_N.log" "$XV_BIN/xvnet-tapread" --dev "$TAP" \
		--queues 4 --stats "$XV_TMP/tap.stats" --flows "$TAPREAD_FLOWS"
	TAPREAD_PID=$BG_PID
	wait_until 5 test -s "$XV_TMP/tap.stats" || fail "tapread did not start: $(cat "$XV_TMP/tapread.$TAPREAD_N.log")"
}
tapread_stop() { # -> flows file complete
	proc_stop "$TAPREAD_PID"
	[ -s "$TAPREAD_FLOWS" ] || fail "tapread wrote no flows: $(cat "$XV_TMP/tapread.$TAPREAD_N.log")"
}
SINK_N=0
sink_start() {
	SINK_N=$((SINK_N + 1))
	SINK_FLOWS=$XV_TMP/veth-flows.$SINK_N
	rm -f "$XV_TMP/sink.stats"
	bg_start "$XV_TMP/sink.$SINK_N.log" "$XV_BIN/xvnet-xdpsink" --netns "$(vm_ns v1)" \
		--stats "$XV_TMP/sink.stats" --flows "$SINK_FLOWS" eth0
	SINK_PID=$BG_PID
	wait_until 5 test -s "$XV_TMP/sink.stats" || fail "xdpsink did not start: $(cat "$XV_TMP/sink.$SINK_N.log")"
}
sink_stop() {
	proc_stop "$SINK_PID"
	[ -s "$SINK_FLOWS" ] || fail "xdpsink wrote no flows: $(cat "$XV_TMP/sink.$SINK_N.log")"
}

# all_delivered VM BEFORE N: xvnet counted N frames to VM since BEFORE
all_delivered() { [ "$(nums_sum "$(nums_delta "$2" "$(vm_rxq "$1")")")" -ge "$3" ]; }

# check VM FLOWSFILE SRC DPORT NFLOWS PER_FLOW XVNET_DELTA LABEL
# Per flow (UDP SRC:1024+f -> DST:DPORT): read from exactly one queue, the
# predicted one, all PER_FLOW frames; per queue = xvnet's delta = prediction.
check() {
	local vm=$1 file=$2 src=$3 dport=$4 n=$5 per=$6 xd=$7 label=$8
	xvctl -j rss show "$vm" >"$XV_TMP/rss.json" || fail "rss show $vm refused"
	python3 - "$XV_TMP/rss.json" "$file" "$src" "$dport" "$n" "$per" "$xd" "$label" <<'PYEOF' ||
import collections, ipaddress, json, os, sys
sys.path.insert(0, os.environ["XV_ROOT"] + "/selftests/lib")
from toeplitz import toeplitz  # checked against the published suite on import
rss, path, src, dport, n, per, xd, label = sys.argv[1:]
r = json.load(open(rss))
dport, n, per = int(dport), int(n), int(per)
xd = list(map(int, xd.split()))
key = bytes(int(b, 16) for b in r["key"].split(":"))
indir, nq = r["indir"], r["queues"]
want = {}
for f in range(n):
    data = ipaddress.ip_address(src).packed + ipaddress.ip_address(os.environ["DST_IP"]).packed
    if r["hash_fields"] in ("l4", "udp"):
        data += (1024 + f).to_bytes(2, "big") + dport.to_bytes(2, "big")
    q = indir[toeplitz(key, data) % 128]
    want[1024 + f] = q if q < nq else 0
seen = collections.defaultdict(dict)      # sport -> {queue: packets}
for line in open(path):
    q, proto, s, sp, d, dp, pk = line.split()
    if proto != "17" or s != src or int(dp) != dport:
        continue
    seen[int(sp)][int(q)] = seen[int(sp)].get(int(q), 0) + int(pk)
bad = []
for sp, q in want.items():
    got = seen.get(sp, {})
    if list(got) != [q] or got[q] != per:
        bad.append(f"sport {sp}: read {got or 'nowhere'}, want {per} on queue {q}")
extra = sorted(set(seen) - set(want))
if extra:
    bad.append(f"flows not sent: {extra[:5]}")
per_q = [0] * nq
for sp in want:
    for q, pk in seen.get(sp, {}).items():
        per_q[q] += pk
pred = [0] * nq
for q in want.values():
    pred[q] += per
if per_q != xd or per_q != pred:
    bad.append(f"per queue: read {per_q}, xvnet counted {xd}, predicted {pred}")
if bad:
    print(f"{label}: {len(bad)} mismatches; first ones:", *bad[:8], sep="\n  ")
    sys.exit(1)
print(f"{label}: {n} flows x {per}, each read from its predicted queue only; per queue {per_q} = xvnet's = predicted")
PYEOF
		fail "$label: frames not on the queues RSS chose (see above)"
}

# send_wire MAC -> xvnet per-queue delta "q0 q1 q2 q3" of VM (after all arrived)
send_wire() {
	local vm=$1 mac=$2 before after
	before=$(vm_rxq "$vm")
	trafgen_from_wire --dst-mac "$mac" --dport 9 --flows $FLOWS \
		--count $((FLOWS * PER_FLOW)) --rate 4000 >"$XV_TMP/trafgen.json" ||
		fail "trafgen failed"
	wait_until 5 all_delivered "$vm" "$before" $((FLOWS * PER_FLOW))
	after=$(vm_rxq "$vm")
	SENT_DELTA=$(nums_delta "$before" "$after")
}
# the reader has read N frames in total (the stats file: "total q0 ...")
read_total() { awk '{print $1}' "$1"; }
wait_read() { # STATSFILE N
	wait_until 5 sh -c '[ "$(awk "{print \$1}" "$1")" -ge "$2" ]' _ "$1" "$2"
}

export DST_IP=10.99.0.2   # xvnet-trafgen's default destination
skb0=$(xv_counter skb_path)

# tap_round LABEL / veth_round LABEL: 1000 flows x 4 from the wire into the
# 4-queue tap / veth VM, read per queue, checked per flow
tap_round() {
	tapread_start
	send_wire t1 $TMAC
	wait_read "$XV_TMP/tap.stats" $((FLOWS * PER_FLOW)) ||
		fail "$1: read $(read_total "$XV_TMP/tap.stats") of $((FLOWS * PER_FLOW)) frames"
	tapread_stop
	log "tap queues read: $(cat "$XV_TMP/tapread.$TAPREAD_N.log")"
	check t1 "$TAPREAD_FLOWS" 10.99.0.1 9 $FLOWS $PER_FLOW "$SENT_DELTA" "$1"
}
veth_round() {
	sink_start
	send_wire v1 $VMAC
	wait_read "$XV_TMP/sink.stats" $((FLOWS * PER_FLOW)) ||
		fail "$1: the VM end saw $(cat "$XV_TMP/sink.stats") of $((FLOWS * PER_FLOW)) frames"
	sink_stop
	check v1 "$SINK_FLOWS" 10.99.0.1 9 $FLOWS $PER_FLOW "$SENT_DELTA" "$1"
}

# ---- 1, 2. the 4-queue tap and veth, random key, default table ----------------------
tap_round "tap, random key"
veth_round "veth, random key"

# ---- 3. a new table and key, both VMs ------------------------------------------------
xvctl rss set t1 --key $MS_KEY --weight 1,0,2,1 >/dev/null || fail "rss set t1 refused"
xvctl rss set v1 --key $MS_KEY --weight 0,3,1,1 >/dev/null || fail "rss set v1 refused"
tap_round "tap, published key, --weight 1,0,2,1"
veth_round "veth, published key, --weight 0,3,1,1"

# ---- 4. xvnetd restarts under traffic while the tap's queues are held --------------------
# (the pinned datapath keeps delivering; the new xvnetd attaches and
# detaches a queue to set its steering program meanwhile).  800 frames/s:
# the stream lasts 5 s, as a restart took more than the 1.5 s that 2000/s
# left it (a full check on a slow machine, the fallbacks' run)
tapread_start
flags0=$(cat "/sys/class/net/$TAP/tun_flags")
before=$(vm_rxq t1)
bg_start "$XV_TMP/trafgen-restart.log" ip netns exec "$W" "$XV_BIN/xvnet-trafgen" --dev "$WIRE" \
	--json --dst-mac $TMAC --dport 9 --flows $FLOWS --count $((FLOWS * PER_FLOW)) --rate 800
gen=$BG_PID
sleep 0.5
xvnetd_restart
grep -q "tap_steer set as steering program of tap $TAP" "$XV_TMP/xvnetd.log" ||
	fail "restarted xvnetd did not set the steering program again"
mid=$(nums_sum "$(nums_delta "$before" "$(vm_rxq t1)")")   # delivered so far
if [ "$mid" -eq 0 ] || [ "$mid" -ge $((FLOWS * PER_FLOW)) ]; then
	fail "the restart did not happen under traffic ($mid frames delivered when it was done)"
fi
log "xvnetd restarted (steering program set again) with $mid of $((FLOWS * PER_FLOW)) frames delivered"
wait "$gen" || fail "trafgen failed: $(cat "$XV_TMP/trafgen-restart.log")"
wait_until 5 all_delivered t1 "$before" $((FLOWS * PER_FLOW))
SENT_DELTA=$(nums_delta "$before" "$(vm_rxq t1)")
wait_read "$XV_TMP/tap.stats" $((FLOWS * PER_FLOW)) || fail "tap after restart: read $(read_total "$XV_TMP/tap.stats") frames"
tapread_stop
check t1 "$TAPREAD_FLOWS" 10.99.0.1 9 $FLOWS $PER_FLOW "$SENT_DELTA" "tap, xvnetd restarted under traffic and the reader"
[ "$(cat "/sys/class/net/$TAP/tun_flags")" = "$flags0" ] || fail "tun_flags changed across the restart"

# ---- 5. local: the 1-queue veth VM s1 sends to the tap VM -----------------------------
tapread_start
before=$(vm_rxq t1)
ip netns exec "$(vm_ns s1)" "$XV_BIN/xvnet-trafgen" --dev eth0 --src-mac $SMAC \
	--src-ip 10.77.0.53 --dst-ip 10.77.0.99 --dst-mac $TMAC --dport 9 --flows 200 \
	--count 800 --rate 4000 --json >"$XV_TMP/trafgen-local.json" || fail "trafgen in s1 failed"
wait_read "$XV_TMP/tap.stats" 800 || fail "local: read $(read_total "$XV_TMP/tap.stats") of 800 frames"
tapread_stop
DST_IP=10.77.0.99 check t1 "$TAPREAD_FLOWS" 10.77.0.53 9 200 4 "$(nums_delta "$before" "$(vm_rxq t1)")" \
	"local 1-queue veth VM -> tap"

# ---- 6. who took the skb path ---------------------------------------------------------
skb=$(( $(xv_counter skb_path) - skb0 ))
want=$(( 5 * FLOWS * PER_FLOW + 800 ))   # 3 tap runs, 2 veth runs, local
[ "$skb" = "$want" ] || fail "skb_path moved by $skb, expected $want (the multi-queue VMs' frames only)"
[ "$(xv_counter skb_path_drop)" = 0 ] || fail "skb_path_drop: $(xv_counter skb_path_drop)"
# the 4-queue veth VM's own stack (udp_echo, no XDP on its end) answers
# through the skb path
skb0=$(xv_counter skb_path)
probe_from_wire 10.77.0.52 -n 5 >/dev/null || fail "probe to the 4-queue veth VM v1 failed"
[ "$(( $(xv_counter skb_path) - skb0 ))" = 5 ] || fail "probes to v1: skb_path moved by $(( $(xv_counter skb_path) - skb0 )), not 5"
# a frame to the 1-queue VM s1 stays on the XDP redirect
skb0=$(xv_counter skb_path)
probe_from_wire 10.77.0.53 -n 5 >/dev/null || fail "probe to the 1-queue VM s1 failed"
[ "$(xv_counter skb_path)" = "$skb0" ] || fail "a 1-queue VM's frames took the skb path"
log "skb_path: $skb frames (multi-queue VMs only), skb_path_drop 0; a 1-queue VM stays on XDP redirect"

# ---- 7. an adopted 2-queue tap (no vnet_hdr): its flags stay; vm del removes the program --
TAP2=$(xv_name tq2)
TAP_MQ=1 tap_create "$TAP2"
flags0=$(cat "/sys/class/net/$TAP2/tun_flags")
xvctl vm add t2 --mac 02:00:00:00:56:04 --port tap --ifname "$TAP2" --queues 2 >/dev/null ||
	fail "vm add t2 (adopted 2-queue tap) refused"
grep -q "tap_steer set as steering program of tap $TAP2 (2 queues)" "$XV_TMP/xvnetd.log" ||
	fail "no steering program on the adopted tap"
[ "$(cat "/sys/class/net/$TAP2/tun_flags")" = "$flags0" ] || fail "adopting changed tun_flags: $flags0 -> $(cat "/sys/class/net/$TAP2/tun_flags")"
xvctl vm del t2 >/dev/null || fail "vm del t2 refused"
grep -q "tap $TAP2: steering program removed" "$XV_TMP/xvnetd.log" || fail "vm del left the steering program on the adopted tap"
[ "$(cat "/sys/class/net/$TAP2/tun_flags")" = "$flags0" ] || fail "vm del changed the adopted tap's tun_flags"
log "adopted 2-queue tap: program set and removed with the VM, tun_flags $flags0 kept"

pass "4-queue tap and 4-queue veth: every flow read from the queue RSS chose (5 runs x 1000 flows x 4, plus 200 local flows), per queue = xvnet's counters = Toeplitz prediction; kept across rss set and an xvnetd restart under traffic; adopted tap left as found"
