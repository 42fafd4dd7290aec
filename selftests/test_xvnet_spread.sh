#!/usr/bin/env bash
# Backend spreading (vm queue-cpus, bpf/spread.h): a VM's queues delivered
# from the host CPUs given, through a CPUMAP hop.
#  - a 2-queue veth VM with --queue-cpus 0,1: 1000 flows x 4 frames; the
#    frames delivered on CPU 0 and CPU 1 (cpu_spread per CPU) are exactly
#    the VM's queue 0 and queue 1 counts, both busy, and the VM end reads
#    every frame on the queue RSS chose (the skb path runs on the queue's
#    CPU), all 4000;
#  - a 1-queue veth VM with --queue-cpus 1: all its frames delivered from
#    CPU 1 (XDP redirect from the cpumap thread), all arrive;
#  - refused, with the reason: a CPU that does not exist, more CPUs than
#    queues, a malformed list, an xsk VM; the config keeps queue-cpus.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-xdpsink
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"

AMAC=02:00:00:00:57:01
BMAC=02:00:00:00:57:02
xv_topology
xvnetd_start
vm_ns_add a $AMAC 10.77.0.57/24 --queues 2 --queue-cpus 0,1
vm_ns_add b $BMAC 10.77.0.58/24 --queue-cpus 1
xvctl vm show a | grep -q "queue-cpus 0,1" || fail "vm show a: $(xvctl vm show a)"
grep -q "vm a .*queue-cpus 0,1" "$XVD_CONF" || fail "config lost queue-cpus: $(grep '^vm a' "$XVD_CONF")"

refuse() { # TEXT ARGS...
	local want=$1 out; shift
	out=$(xvctl vm add "$@" 2>&1) && fail "accepted: vm add $*"
	grep -q -- "$want" <<<"$out" || fail "vm add $*: '$out' does not say '$want'"
}
refuse "CPU 63 does not exist" z1 --mac 02:00:00:00:57:09 --port tap --ifname "$(xv_name pz1)" --queue-cpus 63
refuse "3 CPUs for 2 queues" z1 --mac 02:00:00:00:57:09 --port tap --ifname "$(xv_name pz1)" --queues 2 --queue-cpus 0,1,0
refuse "not a CPU list" z1 --mac 02:00:00:00:57:09 --port tap --ifname "$(xv_name pz1)" --queue-cpus 0,x
refuse "not for xsk ports" z1 --mac 02:00:00:00:57:09 --port xsk --ifname "$(xv_name pz1)" --queue-cpus 0
log "4 bad queue-cpus refused with the reason"

per_cpu() { xvctl -j stats | python3 -c '
import json, sys
print(" ".join(map(str, json.load(sys.stdin)["cpu_spread_per_cpu"][:2])))'; }
queues() { xvctl -j stats "$1" | python3 -c '
import json, sys
print(" ".join(str(q["packets"]) for q in json.load(sys.stdin)["vms"][0]["queues"]))'; }
delta() { python3 -c '
import sys
a, b = (list(map(int, x.split())) for x in sys.argv[1:3])
print(" ".join(str(y - x) for x, y in zip(a, b)))' "$1" "$2"; }

# ---- 2-queue VM on CPUs 0 and 1 ------------------------------------------------
bg_start "$XV_TMP/sink.log" "$XV_BIN/xvnet-xdpsink" --netns "$(vm_ns a)" \
	--stats "$XV_TMP/sink.stats" --flows "$XV_TMP/flows" eth0
SINK=$BG_PID
wait_until 5 test -s "$XV_TMP/sink.stats" || fail "xdpsink: $(cat "$XV_TMP/sink.log")"
c0=$(per_cpu); q0=$(queues a)
trafgen_from_wire --dst-mac $AMAC --flows 1000 --count 4000 --rate 20000 --duration 5 \
	--src-ip 10.77.0.9 --dst-ip 10.77.0.57 >/dev/null || fail "trafgen to a failed"
wait_until 5 eval '[ "$(cut -d" " -f1 "$XV_TMP/sink.stats")" -ge 4000 ]' ||
	fail "a's VM end read $(cut -d' ' -f1 "$XV_TMP/sink.stats") of 4000"
sleep 0.2
proc_stop "$SINK"
cpu=$(delta "$c0" "$(per_cpu)"); q=$(delta "$q0" "$(queues a)")
log "vm a (queue-cpus 0,1): per queue [$q], delivered per CPU [$cpu]"
[ "$cpu" = "$q" ] || fail "per-CPU delivery [$cpu] is not the per-queue count [$q]"
read -r n0 n1 <<<"$q"
[ "$n0" -gt 1000 ] && [ "$n1" -gt 1000 ] && [ $((n0 + n1)) = 4000 ] ||
	fail "4000 frames over 2 queues: [$q]"
XV_VM=a python3 - "$XV_TMP/flows" "$q" <<'PYEOF' || fail "per-queue reading at the VM end"
import sys
per_q = [0, 0]
for line in open(sys.argv[1]):
    qq, proto, s, sp, d, dp, pk = line.split()
    if proto == "17" and s == "10.77.0.9":
        per_q[int(qq)] += int(pk)
want = list(map(int, sys.argv[2].split()))
assert per_q == want, f"the VM end read {per_q} per RX queue, xvnet chose {want}"
print(f"the VM end read {per_q} per RX queue: the queues xvnet chose")
PYEOF

# ---- 1-queue VM on CPU 1 ------------------------------------------------------
c0=$(per_cpu); r0=$(if_rx_packets eth0 "$(vm_ns b)")
trafgen_from_wire --dst-mac $BMAC --flows 50 --count 1000 --rate 20000 --duration 5 \
	--src-ip 10.77.0.9 --dst-ip 10.77.0.58 >/dev/null || fail "trafgen to b failed"
got() { [ $(( $(if_rx_packets eth0 "$(vm_ns b)") - r0 )) -ge 1000 ]; }
wait_until 5 got || fail "b received $(( $(if_rx_packets eth0 "$(vm_ns b)") - r0 )) of 1000"
cpu=$(delta "$c0" "$(per_cpu)")
log "vm b (queue-cpus 1): delivered per CPU [$cpu], all 1000 received"
[ "$cpu" = "0 1000" ] || fail "vm b's frames delivered per CPU [$cpu], expected [0 1000]"
[ "$(xv_counter cpu_spread_drop)" = 0 ] || fail "cpu_spread_drop $(xv_counter cpu_spread_drop)"
pass "queue-cpus: 2-queue VM delivered from CPUs 0 and 1 exactly per queue ([$q]), queues honoured at the VM end; 1-queue VM from CPU 1; bad lists refused"
