#!/usr/bin/env bash
# A multi-queue guest end to end (docs/vmm.md): xvnetd makes a 4-queue tap
# (vm add --queues 4), QEMU opens it with `queues=4` and `mq=on,vectors=10`,
# the guest's virtio-net runs 4 queue pairs (`ethtool -L eth0 combined 4` in
# the guest: one vCPU only enables one by default), and UDP flows from the
# wire namespace land on the guest's RX queues as xvnet's RSS chose: per
# queue, the guest's own counters (`ethtool -S eth0` in the guest,
# rx_queue_N_packets) = xvnet's per-queue counters = the Toeplitz prediction
# recomputed here from `rss show -j` (400 flows x 5 frames, paced at 10k pps,
# each round).
#
# QEMU (7.2) clears the tap's steering program (TUNSETSTEERINGEBPF with -1:
# virtio-net's own eBPF RSS is off) whenever the guest negotiates features
# (driver load) or sets its queue pairs (`ethtool -L`); tun would then pick
# queues by its own flow hash, with no counter showing it.  xvnetd sets the
# program again every 2 s (loader/kern/datapath.c dp_tap_resteer), so each round
# waits 3 s after what QEMU did, and every round is asserted:
#   A  as booted (after the guest's ethtool -L);
#   B  after an xvnetd restart;
#   C  after `rss set` of another table;
#   D  after the guest's `ethtool -L` 2 then 4 again.
# Before the guest: the error QEMU gives when it opens the 4-queue tap
# without `queues=` (EINVAL), as docs/vmm.md quotes it.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
guest_require

TAP=$(xv_name mqtap)
MAC=$(guest_mac 4)
GUEST_IP=10.77.0.70
FLOWS=400
PER_FLOW=5
MS_KEY=6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa
GLOG=$XV_TMP/guest.log

xv_topology
xvnetd_start
xvctl vm add mq1 --mac "$MAC" --port tap --ifname "$TAP" --queues 4 --ip "$GUEST_IP" ||
	fail "vm add mq1 (4-queue tap) refused"
grep -q multi_queue <(ip -d link show "$TAP") || fail "the tap is not multi_queue: $(ip -d link show "$TAP")"

# ---- the common error: a 4-queue tap opened as a single-queue one --------------------
timeout 20 qemu-system-x86_64 -accel tcg -S -nodefaults -no-user-config -display none \
	-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off" \
	-device "virtio-net-pci,netdev=n0,mac=$MAC" >"$XV_TMP/noq.out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "QEMU opened the 4-queue tap without queues= (rc $rc)"
grep -q "Invalid argument" "$XV_TMP/noq.out" || fail "QEMU without queues=: $(cat "$XV_TMP/noq.out")"
log "without queues=: $(head -1 "$XV_TMP/noq.out")"

# ---- the guest ------------------------------------------------------------------------
GUEST_QUEUES=4 GUEST_CTL=1 GUEST_ID=mq1 guest_start "$TAP" "$MAC" "$GUEST_IP/24" "$GLOG"
guest_wait_ready "$GLOG" 90 || fail "guest did not become ready"
guest_exec "$GLOG" 10 ethtool --version >/dev/null || skip "no ethtool in the guest (the host has none: make deps)"
guest_exec "$GLOG" 20 ethtool -L eth0 combined 4 || fail "ethtool -L eth0 combined 4 failed in the guest"
ch=$(guest_exec "$GLOG" 10 ethtool -l eth0) || fail "ethtool -l eth0 failed in the guest"
[ "$(echo "$ch" | awk '/^Current/ { cur = 1 } cur && /^Combined:/ { print $2 }')" = 4 ] ||
	fail "the guest does not run 4 queue pairs: $ch"
xvctl vm show mq1 | grep -q "state up" || fail "mq1: $(xvctl vm show mq1 | head -1)"

guest_rxq4() { guest_rxq "$GLOG" 4; }
xv_rxq() { vm_rxq mq1; }
delta() { nums_delta "$@"; }
sum() { nums_sum "$@"; }
xv_got() { [ "$(sum "$(delta "$1" "$(xv_rxq)")")" -ge "$2" ]; }
guest_got() { [ "$(sum "$(delta "$1" "$(guest_rxq4)")")" -ge "$2" ]; }

# round LABEL: FLOWS x PER_FLOW frames from the wire; the guest's per-queue
# counts = xvnet's = the prediction
round() {
	local label=$1 g0 x0 gd xd total=$((FLOWS * PER_FLOW))
	g0=$(guest_rxq4) || fail "$label: cannot read the guest's counters"
	x0=$(xv_rxq)
	trafgen_from_wire --dst-mac "$MAC" --dst-ip "$GUEST_IP" --dport 9 --flows $FLOWS \
		--count $total --rate 10000 >"$XV_TMP/trafgen.json" || fail "$label: trafgen failed"
	wait_until 10 xv_got "$x0" $total || fail "$label: xvnet delivered $(delta "$x0" "$(xv_rxq)") of $total"
	wait_until 30 guest_got "$g0" $total ||
		fail "$label: the guest's queues received $(delta "$g0" "$(guest_rxq4)") of $total (xvnet delivered $(delta "$x0" "$(xv_rxq)"))"
	gd=$(delta "$g0" "$(guest_rxq4)")
	xd=$(delta "$x0" "$(xv_rxq)")
	xvctl -j rss show mq1 >"$XV_TMP/rss.json" || fail "rss show mq1 refused"
	python3 - "$XV_TMP/rss.json" "$GUEST_IP" $FLOWS $PER_FLOW "$gd" "$xd" "$label" "$XV_TMP/pred" <<'PYEOF' ||
import ipaddress, json, os, sys
sys.path.insert(0, os.environ["XV_ROOT"] + "/selftests/lib")
from toeplitz import toeplitz  # checked against the published suite on import
rss, dst, n, per, gd, xd, label, predfile = sys.argv[1:]
r = json.load(open(rss))
n, per = int(n), int(per)
gd, xd = list(map(int, gd.split())), list(map(int, xd.split()))
key = bytes(int(b, 16) for b in r["key"].split(":"))
indir, nq = r["indir"], r["queues"]
pred = [0] * nq
for f in range(n):   # xvnet-trafgen: flow f is UDP 10.99.0.1:1024+f -> DST:9
    data = ipaddress.ip_address("10.99.0.1").packed + ipaddress.ip_address(dst).packed
    if r["hash_fields"] in ("l4", "udp"):
        data += (1024 + f).to_bytes(2, "big") + (9).to_bytes(2, "big")
    q = indir[toeplitz(key, data) % 128]
    pred[q if q < nq else 0] += per
print(f"{label}: per queue guest {gd}, xvnet {xd}, predicted {pred}")
open(predfile, "w").write(" ".join(map(str, pred)))
sys.exit(0 if gd == xd == pred else 1)
PYEOF
		{ ROUND_OUT="guest $gd, predicted $(cat "$XV_TMP/pred")"; return 1; }
	ROUND_OUT="guest $gd"
}
# must_round LABEL: a round that has to match
must_round() {
	round "$1" || { xvctl stats | grep -v " 0$" >&2; fail "$1: the guest's queues did not receive what RSS chose (above)"; }
}
# after what QEMU did to the steering program: xvnetd's next re-set
sleep 3
must_round "A: as booted"
r_a=$ROUND_OUT
xvnetd_restart
grep -q "tap_steer set as steering program of tap $TAP (4 queues)" "$XV_TMP/xvnetd.log" ||
	fail "the restarted xvnetd did not set the steering program"
must_round "B: xvnetd restarted"
r_b=$ROUND_OUT
xvctl rss set mq1 --key $MS_KEY --weight 1,0,2,1 >/dev/null || fail "rss set mq1 refused"
must_round "C: published key, --weight 1,0,2,1"
r_c=$ROUND_OUT
guest_exec "$GLOG" 20 "ethtool -L eth0 combined 2 && ethtool -L eth0 combined 4" ||
	fail "ethtool -L 2, 4 failed in the guest"
sleep 3
must_round "D: after the guest's ethtool -L 2, 4"
r_d=$ROUND_OUT
# the guest still answers (its replies leave by vm_tx from whatever queue)
out=$(probe_from_wire "$GUEST_IP" -n 10 -r 50 -t 3000 -m 10 -i mq1) || fail "echo from the 4-queue guest: ${out:-no output}"
pass "4-queue guest: each RX queue received exactly the flows RSS chose ($FLOWS flows x $PER_FLOW; A as booted: $r_a; B, xvnetd restarted: $r_b; C, rss set --weight 1,0,2,1: $r_c; D, after ethtool -L 2, 4: $r_d; guest counters = xvnet's = Toeplitz prediction); QEMU without queues= on the 4-queue tap: EINVAL"
