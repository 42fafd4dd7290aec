#!/usr/bin/env bash
# make demo: the fast path on its default topology, start to finish.
#
#   namespace W (the wire, 10.77.0.1) == veth == NIC (root namespace)
#        xvnetd attaches nic_rx (XDP) + nic_flood (tc) to the NIC
#   vm1: veth port, far end in namespace vm1 (10.77.0.11), VLAN 0
#   vm2: tap port read by xvnet-tapread, as a VMM would read it, VLAN 10
#
# It sends real traffic (UDP round trips to vm1, a line-rate burst to each
# VM), shows `xvnetctl status`, `vm list`, `stats` and the bpftool view,
# and removes everything at the end.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
XVD_PIN=/sys/fs/bpf/xvnet           # the real place, as bpftool users know it
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-tapread
require_cmd bpftool

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
CTL="xvnetctl -s $XVD_SOCK"

say "topology: wire namespace $W, NIC $NIC"
xv_topology
xvnetd_start
run "$XV_BIN/xvnetctl" -s "$XVD_SOCK" status

say "two VMs: vm1 on a veth port, vm2 on a tap port (VLAN 10)"
vm_ns_add vm1 02:00:00:00:44:01 10.77.0.11/24
TAP=$(xv_name tap2)
echo "\$ $CTL vm add vm2 --mac 02:00:00:00:44:02 --vlan 10 --port tap --ifname $TAP"
xvctl vm add vm2 --mac 02:00:00:00:44:02 --vlan 10 --port tap --ifname "$TAP" || fail "vm add vm2"
bg_start "$XV_TMP/tapread.log" "$XV_BIN/xvnet-tapread" --dev "$TAP" --stats "$XV_TMP/tap.stats"
TAPREAD=$BG_PID
wait_until 5 test -s "$XV_TMP/tap.stats" || fail "tap reader did not start"
echo "\$ $CTL vm list"
xvctl vm list

say "UDP round trips wire -> vm1 -> wire (ARP flooded by nic_flood, replies through vm_tx)"
probe_from_wire 10.77.0.11 -n 100 -r 1000 -t 2000 -m 100 -i vm1 || fail "vm1 did not answer"

say "one second at line rate to each VM (xvnet-trafgen, 64-byte UDP)"
trafgen_from_wire --dst-mac 02:00:00:00:44:01 --flows 64 --duration 1 || fail trafgen
trafgen_from_wire --dst-mac 02:00:00:00:44:02 --vlan 10 --flows 64 --duration 1 || fail trafgen
proc_stop "$TAPREAD"
echo "tap reader (vm2's VMM stand-in) read $(cut -d' ' -f1 "$XV_TMP/tap.stats") frames"

say "counters"
echo "\$ $CTL stats"
xvctl stats | grep -v ' 0$'

say "bpftool sees the programs and the BTF-typed maps"
run bpftool prog show name nic_rx
run bpftool link show pinned /sys/fs/bpf/xvnet/nic_rx_link
run bpftool net show dev "$NIC"
echo "\$ bpftool map dump pinned /sys/fs/bpf/xvnet/xvnet_vm_by_mac"
bpftool map dump pinned /sys/fs/bpf/xvnet/xvnet_vm_by_mac | head -30

say "shutdown --teardown: programs, pins and ports go away"
xvctl shutdown --teardown
wait_until 5 _xv_dead "$XVD_PID"
pass "demo finished; everything it made is being removed"
