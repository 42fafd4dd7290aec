#!/usr/bin/env bash
# Backend spreading (vm queue-cpus, bpf/spread.h): a VM's queues delivered
# from the host CPUs given, through a CPUMAP hop.
#  - a 2-queue veth VM with --queue-cpus 0,1: 1000 flows x 4 frames; the
#    frames delivered on CPU 0 and CPU 1 (cpu_spread per CPU) are exactly
#    the VM's queue 0 and queue 1 counts, both busy, and the VM end reads
#    every frame on the queue RSS chose, all 4000, by XDP redirect (CPU q
#    feeds veth queue q: no skb path);
#  - the same with --queue-cpus 1,0: per CPU swapped, every frame through
#    the skb path on its queue's CPU, still on the right queue;
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
CMAC=02:00:00:00:57:03
xv_topology
xvnetd_start
vm_ns_add a $AMAC 10.77.0.57/24 --queues 2 --queue-cpus 0,1
vm_ns_add b $BMAC 10.77.0.58/24 --queue-cpus 1
vm_ns_add c $CMAC 10.77.0.59/24 --queues 2 --queue-cpus 1,0
xvctl vm show a | grep -q "queue-cpus 0,1" || fail "vm show a: $(xvctl vm show a)"
grep -q "vm a .*queue-cpus 0,1" "$XVD_STATE" || fail "state lost queue-cpus: $(grep '^vm a' "$XVD_STATE")"

refuse() { # TEXT ARGS...
	local want=$1 out; shift
	out=$(xvctl vm add "$@" 2>&1) && fail "accepted: vm add $*"
	grep -q -- "$want" <<<"$out" || fail "vm add $*: '$out' does not say '$want'"
}
refuse "CPU 63 does not exist" z1 --mac 02:00:00:00:57:09 --port tap --ifname "$(xv_name pz1)" --queue-cpus 63
refuse "3 CPUs for 2 queues" z1 --mac 02:00:00:00:57:09 --port tap --ifname "$(xv_name pz1)" --queues 2 --queue-cpus 0,1,0
refuse "not a CPU list" z1 --mac 02:00:00:00:57:09 --port tap --ifname "$(xv_name pz1)" --queue-cpus 0,x
log "3 bad queue-cpus refused with the reason"
# an xsk VM's queue-cpus are its consumer's (xvnet-vhost's threads,
# test_xvnet_vhost_threads): taken, and handed over by xsk.get
xvctl vm add z1 --mac 02:00:00:00:57:09 --port xsk --ifname "$(xv_name pz1)" --queue-cpus 0 ||
	fail "vm add --port xsk --queue-cpus 0 refused"
xvctl vm del z1 || fail "vm del z1 refused"

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

# ---- 2-queue VMs: on CPUs 0,1 (fast redirect exact) and 1,0 (skb path) ---------
# two_queue VM IP WANT_SKB: 1000 flows x 4; per-CPU delivery = per-queue
# counts; the VM end reads each frame on the queue xvnet chose
two_queue() {
	local vm=$1 ip=$2 want_skb=$3 c0 q0 s0 cpu q skb n0 n1 mac
	mac=$(xvctl -j vm show "$vm" | jq -r "$XV_JQ_PY"' .["mac"] | py')
	bg_start "$XV_TMP/sink-$vm.log" "$XV_BIN/xvnet-xdpsink" --netns "$(vm_ns "$vm")" \
		--stats "$XV_TMP/sink-$vm.stats" --flows "$XV_TMP/flows-$vm" eth0
	SINK=$BG_PID
	wait_until 5 test -s "$XV_TMP/sink-$vm.stats" || fail "xdpsink: $(cat "$XV_TMP/sink-$vm.log")"
	c0=$(per_cpu); q0=$(queues "$vm"); s0=$(xv_counter skb_path)
	trafgen_from_wire --dst-mac "$mac" --flows 1000 --count 4000 --rate 20000 --duration 5 \
		--src-ip 10.77.0.9 --dst-ip "$ip" >/dev/null || fail "trafgen to $vm failed"
	wait_until 5 eval '[ "$(cut -d" " -f1 "$XV_TMP/sink-$vm.stats")" -ge 4000 ]' ||
		fail "$vm's VM end read $(cut -d' ' -f1 "$XV_TMP/sink-$vm.stats") of 4000"
	sleep 0.2
	proc_stop "$SINK"
	cpu=$(delta "$c0" "$(per_cpu)"); q=$(delta "$q0" "$(queues "$vm")")
	skb=$(( $(xv_counter skb_path) - s0 ))
	log "vm $vm ($(xvctl vm show "$vm" | grep -o 'queue-cpus [0-9,]*')): per queue [$q], delivered per CPU [$cpu], skb path $skb"
	read -r n0 n1 <<<"$q"
	[ "$n0" -gt 1000 ] && [ "$n1" -gt 1000 ] && [ $((n0 + n1)) = 4000 ] ||
		fail "4000 frames over 2 queues: [$q]"
	[ "$skb" = "$want_skb" ] || fail "vm $vm: skb path +$skb, expected +$want_skb"
	python3 - "$XV_TMP/flows-$vm" "$q" "$cpu" "$want_skb" <<'PYEOF' || fail "vm $vm: per-queue reading at the VM end"
import sys
per_q = [0, 0]
for line in open(sys.argv[1]):
    qq, proto, s, sp, d, dp, pk = line.split()
    if proto == "17" and s == "10.77.0.9":
        per_q[int(qq)] += int(pk)
want = list(map(int, sys.argv[2].split()))
cpu = list(map(int, sys.argv[3].split()))
assert per_q == want, f"the VM end read {per_q} per RX queue, xvnet chose {want}"
# queue q's CPU did queue q's delivery work: 0,1 -> same order, 1,0 -> swapped
assert cpu == (want if sys.argv[4] == "0" else want[::-1]), f"per CPU {cpu} vs per queue {want}"
print(f"the VM end read {per_q} per RX queue: the queues xvnet chose; per CPU {cpu}")
PYEOF
}
two_queue a 10.77.0.57 0
two_queue c 10.77.0.59 4000

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
pass "queue-cpus: 2-queue VMs delivered from their queues' CPUs (0,1 by exact redirect, 1,0 by the skb path), queues honoured at the VM end; 1-queue VM from CPU 1; bad lists refused"
