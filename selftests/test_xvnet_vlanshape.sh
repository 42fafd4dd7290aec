#!/usr/bin/env bash
# Ingress VLAN handling matches egress (issue 16, items 4 and 8).
# 4: crafted frames from the wire: 802.1Q 10 / 802.1Q 20 (VLAN hopping) and a
#    single 802.1ad tag 10, unicast to a VLAN-10 VM and broadcast, never
#    reach it (counted vlan_qinq / vlan_stag), while a plain 802.1Q 10 frame
#    does.
# 8: a --keep-vlan VM on VLAN 10 resolves the wire's address by ARP through
#    tagged frames (its tagged broadcasts are not counted spoof_vlan).
#
#   W: wire (frames tagged 10 by scapy) == NIC [xvnetd] -- vm1 (VLAN 10)
#                                                       -- vm2 (VLAN 10, keep-vlan)
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require

MAC1=02:00:00:00:19:01
MAC2=02:00:00:00:19:02
xv_topology
xvnetd_start
vm_ns_add vm1 $MAC1 10.78.0.11/24 --vlan 10
vm_ns_add vm2 $MAC2 10.78.0.12/24 --vlan 10 --keep-vlan
NS1=$(vm_ns vm1)
NS2=$(vm_ns vm2)
WMAC=$(if_mac "$WIRE" "$W")

rx1() { if_rx_packets eth0 "$NS1"; }
rx2() { if_rx_packets eth0 "$NS2"; }
vm_cnt() { # VM COUNTER
	xvctl -j stats "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["vms"][0]["egress"][sys.argv[1]])' "$2"; }

# 20 of each frame from the wire, crafted with scapy (no host stack on the way)
send_wire() { # DST-MAC SCAPY-LAYERS-BETWEEN-ETHER-AND-IP
	ip netns exec "$W" "$SCAPY_PY" - "$WIRE" "$WMAC" "$1" "$2" <<'PY' 2>&1 | grep -v WARNING || true
import sys
from scapy.all import *
conf.verb = 0
dev, smac, dmac, mid = sys.argv[1:5]
p = eval("Ether(src=smac, dst=dmac) / " + mid +
         " / IP(src='10.78.0.1', dst='10.78.0.11') / UDP(sport=5000, dport=7777) / (b'v' * 32)")
sendp([p] * 20, iface=dev)
PY
}

# 4. what must not reach vm1 (nor, by flood, vm2)
q0=$(xv_counter vlan_qinq); s0=$(xv_counter vlan_stag); a=$(rx1); b=$(rx2)
send_wire $MAC1 'Dot1Q(vlan=10) / Dot1Q(vlan=20)'
send_wire $MAC1 'Dot1AD(vlan=10)'
send_wire $MAC1 'Dot1AD(vlan=10) / Dot1Q(vlan=20)'
send_wire ff:ff:ff:ff:ff:ff 'Dot1Q(vlan=10) / Dot1Q(vlan=20)'
send_wire ff:ff:ff:ff:ff:ff 'Dot1AD(vlan=10)'
sleep 0.3
dq=$(( $(xv_counter vlan_qinq) - q0 )); ds=$(( $(xv_counter vlan_stag) - s0 ))
[ "$(rx1)" -eq "$a" ] || fail "vm1 received $(( $(rx1) - a )) of the double-tagged / S-tagged frames"
[ "$(rx2)" -eq "$b" ] || fail "vm2 received $(( $(rx2) - b )) of the double-tagged / S-tagged frames"
[ "$dq" -eq 60 ] || fail "vlan_qinq +$dq, want +60 (2 unicast kinds + broadcast, 20 each)"
[ "$ds" -eq 40 ] || fail "vlan_stag +$ds, want +40"
log "QinQ 10/20, 802.1ad 10, 802.1ad/802.1Q: 0 reached the VLAN-10 VMs (vlan_qinq +$dq, vlan_stag +$ds)"
# control: the VM's own shape does
send_wire $MAC1 'Dot1Q(vlan=10)'
sleep 0.2
[ $(( $(rx1) - a )) -ge 20 ] || fail "vm1 got $(( $(rx1) - a )) of 20 plain 802.1Q 10 frames"

# 8. the keep-vlan VM's ARP: a tagged broadcast request from inside vm2 (as
#    its 8021q device would send it; this kernel has no 8021q to make one)
#    reaches the wire tagged 10 and vm1 untagged, none counted spoof_vlan;
#    the wire's tagged reply reaches vm2 with its tag
sv0=$(vm_cnt vm2 spoof_vlan); sp0=$(xv_counter tx_spoof)
a=$(rx1); w0=$(if_rx_packets "$WIRE" "$W")
ip netns exec "$NS2" "$SCAPY_PY" - $MAC2 <<'PY' 2>&1 | grep -v WARNING || true
import sys
from scapy.all import *
conf.verb = 0
m = sys.argv[1]
sendp([Ether(src=m, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=10) /
       ARP(op=1, hwsrc=m, psrc="10.78.0.12", pdst="10.78.0.1")] * 20, iface="eth0")
PY
sleep 0.3
sv=$(( $(vm_cnt vm2 spoof_vlan) - sv0 ))
if [ "$sv" -ne 0 ] || [ "$(xv_counter tx_spoof)" -ne "$sp0" ]; then
	fail "keep-vlan vm2's own tagged ARP requests refused (spoof_vlan +$sv)"
fi
[ $(( $(if_rx_packets "$WIRE" "$W") - w0 )) -ge 20 ] ||
	fail "the wire got $(( $(if_rx_packets "$WIRE" "$W") - w0 )) of vm2's 20 ARP requests"
[ $(( $(rx1) - a )) -ge 20 ] || fail "vm1 got $(( $(rx1) - a )) of vm2's 20 ARP requests"
b=$(rx2)
ip netns exec "$W" "$SCAPY_PY" - "$WIRE" "$WMAC" $MAC2 <<'PY' 2>&1 | grep -v WARNING || true
import sys
from scapy.all import *
conf.verb = 0
dev, w, m = sys.argv[1:4]
sendp([Ether(src=w, dst=m) / Dot1Q(vlan=10) /
       ARP(op=2, hwsrc=w, psrc="10.78.0.1", hwdst=m, pdst="10.78.0.12")] * 20, iface=dev)
PY
sleep 0.2
[ $(( $(rx2) - b )) -ge 20 ] || fail "vm2 got $(( $(rx2) - b )) of the wire's 20 ARP replies"
log "keep-vlan VM: 20 tagged ARP requests to the wire and vm1, 20 replies back, spoof_vlan +0"

pass "vlanshape: QinQ and 802.1ad frames (unicast, broadcast) kept from VLAN-10 VMs, counted; keep-vlan VM ARPs"
