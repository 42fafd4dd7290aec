#!/usr/bin/env bash
# xvnetd's lifecycle under traffic:
#  - restart (SIGTERM, nothing running for a while, start again) loses zero
#    packets: counted at the VM by an XDP counter against what the generator
#    sent; the XDP link stays, the program is replaced by bpf_link_update;
#  - `vm del` under traffic: no crash, no stray delivery to other VMs, the
#    deleted VM's frames go to the host afterwards;
#  - `shutdown --teardown` removes pins, programs and the ports it created.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-xdpsink
require_cmd bpftool

MAC1=02:00:00:00:22:01
MAC2=02:00:00:00:22:02
xv_topology
xvnetd_start
vm_ns_add vm1 $MAC1 10.77.0.21/24
vm_ns_add vm2 $MAC2 10.77.0.22/24
NS1=$(vm_ns vm1)

status_field() { xvctl -j status | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]])' "$1"; }

# ---- restart with zero loss ----------------------------------------------
# The sink replaces nothing of xvnet's: it sits on the VM's side of the veth.
# restart_round VM MAC: 20000/s to VM from the wire, xvnetd stopped for 1 s
# and started again in the middle; every frame sent reaches the VM.
restart_round() {
	local vm=$1 mac=$2 ns sink s0 gen link0 prog0 gap_rx0 link1 prog1
	ns=$(vm_ns "$vm")
	bg_start "$XV_TMP/sink-$vm.log" "$XV_BIN/xvnet-xdpsink" --netns "$ns" --stats "$XV_TMP/sink-$vm" eth0
	sink=$BG_PID
	wait_until 5 test -s "$XV_TMP/sink-$vm" || fail "sink did not start: $(cat "$XV_TMP/sink-$vm.log")"
	link0=$(status_field link_id); prog0=$(status_field prog_id)
	s0=$(cat "$XV_TMP/sink-$vm")

	trafgen_from_wire --dst-mac "$mac" --rate 20000 --duration 4 >"$XV_TMP/gen.json" &
	gen=$!
	sleep 1
	proc_stop "$XVD_PID"               # SIGTERM: pins and links stay
	_xv_dead "$XVD_PID" || fail "xvnetd still running"   # this test's daemon (others may run)
	gap_rx0=$(cat "$XV_TMP/sink-$vm")
	sleep 1                           # traffic with no daemon at all
	gap_rx=$(( $(cat "$XV_TMP/sink-$vm") - gap_rx0 ))
	_xvnetd_launch
	wait "$gen" || fail "generator failed"
	sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$XV_TMP/gen.json")
	got_all() { [ $(( $(cat "$XV_TMP/sink-$vm") - s0 )) -ge "$sent" ]; }
	wait_until 3 got_all || fail "restart lost packets ($vm): sent $sent, the VM got $(( $(cat "$XV_TMP/sink-$vm") - s0 ))"
	[ "$gap_rx" -gt 0 ] || fail "nothing reached $vm while no daemon ran"
	link1=$(status_field link_id); prog1=$(status_field prog_id)
	[ "$link1" = "$link0" ] || fail "the XDP link changed across the restart ($link0 -> $link1)"
	[ "$prog1" != "$prog0" ] || fail "the program was not replaced (bpf_link_update) on restart"
	grep -q "updated in place" "$XV_TMP/xvnetd.log" || fail "xvnetd did not report the in-place update"
	log "restart ($vm): sent $sent, the VM got them all ($gap_rx while no daemon ran); link $link0 kept, prog $prog0 -> $prog1"
	proc_stop "$sink"
}
restart_round vm1 $MAC1

# A VM with rules: its flow is set up by the slow path before the stream
# (the first frame of a flow is the slow path's); the restart keeps the
# flow it judged (sp_start judges the previous run's flows again instead of
# flushing them), so not one frame of the stream waits for a new setup.
xvctl rule add vm2 --dir in --proto udp --action allow || fail "rule add"
flows_of_vm2() { xvctl -j flow list | python3 -c '
import json, sys
print(sum(1 for f in json.load(sys.stdin) if f.get("vm") == "vm2"))'; }
trafgen_from_wire --dst-mac $MAC2 --count 1 >/dev/null || fail "priming frame"
vm2_has_flows() { [ "$(flows_of_vm2)" -gt 0 ]; }
wait_until 3 vm2_has_flows || fail "the slow path set up no flow for vm2: $(xvctl flow list)"
before=$(flows_of_vm2)
restart_round vm2 $MAC2
grep -q "slow path: [1-9][0-9]* flows of the previous run kept, 0 the rules no longer give removed" "$XV_TMP/xvnetd.log" ||
	fail "rule flows not kept over the restart: $(grep 'slow path:' "$XV_TMP/xvnetd.log")"
log "vm2 (rules): $before rule flows before the restart, kept; $(grep 'slow path:' "$XV_TMP/xvnetd.log" | tail -1)"
xvctl rule del vm2 1 >/dev/null 2>&1 || xvctl rule del vm2 --pos 1 >/dev/null 2>&1 || true

# ---- vm del under traffic -------------------------------------------------
q1_0=$(vm_queue_packets vm1); n0=$(xv_counter no_vm)
trafgen_from_wire --dst-mac $MAC2 --rate 20000 --duration 2 >/dev/null &
GEN=$!
sleep 0.7
xvctl vm del vm2 || fail "vm del under traffic refused"
wait "$GEN" || fail "generator failed"
xvd_answers || fail "xvnetd died after vm del under traffic"
xvctl vm list | grep -q '^vm2 ' && fail "vm2 still listed"
ip link show "$(vm_port vm2)" >/dev/null 2>&1 && fail "port of the deleted VM still exists"
[ "$(vm_queue_packets vm1)" -eq "$q1_0" ] || fail "frames for vm2 were delivered to vm1"
[ $(( $(xv_counter no_vm) - n0 )) -gt 0 ] || fail "frames for vm2 after its deletion did not go to the host"
log "vm del: no stray delivery, $(( $(xv_counter no_vm) - n0 )) frames to the host after the delete"

# ---- teardown ----------------------------------------------------------------
xvctl shutdown --teardown || fail "shutdown --teardown refused"
wait_until 5 _xv_dead "$XVD_PID" || fail "xvnetd did not exit on shutdown"
[ -e "$XVD_PIN" ] && fail "$XVD_PIN left after teardown"
ip link show "$NIC" | grep -q 'xdp' && fail "XDP still attached to the NIC after teardown"
tc filter show dev "$NIC" ingress | grep -q nic_flood && fail "nic_flood still on the NIC's tc ingress after teardown"
tc filter show dev "$NIC" egress | grep -q nic_egress && fail "nic_egress still on the NIC's tc egress after teardown"
ip link show "$(vm_port vm1)" >/dev/null 2>&1 && fail "port of vm1 left after teardown"
pass "zero loss over a restart (a VM without rules, one with rules whose flows are kept: $sent packets each), vm del under traffic, teardown"
