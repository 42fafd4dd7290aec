#!/usr/bin/env bash
# Inter-VM traffic stays in host memory and VLANs stay apart:
#  1. vm1 <-> vm2 (VLAN 0) and vm3 <-> vm4 (VLAN 20): UDP request/reply
#     between the VMs' applications, also over IPv6 vm1 -> vm2 (ND by the
#     real stacks) and a TCP stream vm1 -> vm2, all answered, counted tx_local,
#     and not one of those frames on the wire (tcpdump on $WIRE in W);
#  2. vm1 -> vm3 and vm3 -> vm1 across VLANs (the neighbour entry forced to
#     the other VM's MAC): no reply, nothing reaches the other VM;
#  3. a broadcast from vm1 reaches vm2 and the wire (untagged), never vm3,
#     vm4 or vm1 itself; one from vm3 reaches vm4 and the wire tagged 20,
#     never vm1, vm2 or vm3 itself.
# Every VM namespace captures what it receives (tcpdump -Q in) throughout.
# At the end no VM has a single frame counted as spoofed: the real stacks'
# ARP, ND, UDP and TCP all pass vm_tx's anti-spoofing.
#
#   W: wire (10.77.0.1) == NIC [xvnetd] -- vm1 10.77.0.11, vm2 .12 (VLAN 0)
#                                       -- vm3 10.77.0.13, vm4 .14 (VLAN 20)
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_cmd tcpdump iperf3

MAC1=02:00:00:00:77:01
MAC2=02:00:00:00:77:02
MAC3=02:00:00:00:77:03
MAC4=02:00:00:00:77:04
N=20
xv_topology
xvnetd_start
vm_ns_add vm1 $MAC1 10.77.0.11/24 --ip fd00::11
vm_ns_add vm2 $MAC2 10.77.0.12/24 --ip fd00::12
vm_ns_add vm3 $MAC3 10.77.0.13/24 --vlan 20
vm_ns_add vm4 $MAC4 10.77.0.14/24 --vlan 20
NS1=$(vm_ns vm1) NS2=$(vm_ns vm2) NS3=$(vm_ns vm3) NS4=$(vm_ns vm4)
# IPv6 on vm1/vm2 from their real stacks: global addresses only (no
# link-local, which would have to be listed too), so ND runs from them
for x in "$NS1 fd00::11" "$NS2 fd00::12"; do
	set -- $x
	ip netns exec "$1" sysctl -qw net.ipv6.conf.eth0.addr_gen_mode=1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0
	ip -n "$1" addr add "$2/64" dev eth0 nodad
done

cap_start() { # NAME NETNS IFACE [tcpdump options]
	local name=$1 ns=$2 ifc=$3; shift 3
	bg_start "$XV_TMP/tcpdump-$name.log" ip netns exec "$ns" tcpdump -U -n -s 256 -i "$ifc" "$@" -w "$XV_TMP/$name.pcap"
	eval "CAP_$name=$BG_PID"
	wait_until 5 grep -q "listening on" "$XV_TMP/tcpdump-$name.log" || fail "tcpdump ($name) did not start"
}
cap_start wire "$W" "$WIRE"
cap_start vm1 "$NS1" eth0 -Q in
cap_start vm2 "$NS2" eth0 -Q in
cap_start vm3 "$NS3" eth0 -Q in
cap_start vm4 "$NS4" eth0 -Q in

probe_in() { # NETNS DST-IP [udp_probe options]
	local ns=$1 ip=$2; shift 2
	ip netns exec "$ns" "$PROBE_BIN" "$@" "$ip" "$GUEST_PORT"
}

# ---- 1. same VLAN: answered, kept in host memory
l0=$(xv_counter tx_local)
out=$(probe_in "$NS1" 10.77.0.12 -n 100 -r 500 -t 2000 -m 100 -i vm2) || fail "vm1 -> vm2: $out"
log "vm1 -> vm2 (VLAN 0): $out"
out=$(probe_in "$NS3" 10.77.0.14 -n 100 -r 500 -t 2000 -m 100 -i vm4) || fail "vm3 -> vm4: $out"
log "vm3 -> vm4 (VLAN 20): $out"
out=$(probe_in "$NS1" fd00::12 -n 50 -r 500 -t 2000 -m 50 -i vm2) || fail "vm1 -> vm2 over IPv6: $out"
log "vm1 -> vm2 over IPv6 (ND by the real stacks through vm_tx): $out"
bg_start "$XV_TMP/iperf-s.log" ip netns exec "$NS2" iperf3 -s -1 -B 10.77.0.12
wait_until 5 ip netns exec "$NS2" ss -tln sport = :5201 | grep -q 5201
ip netns exec "$NS1" iperf3 -c 10.77.0.12 -t 2 -J >"$XV_TMP/iperf.json" || fail "iperf3 vm1 -> vm2 failed"
mbps=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(d["end"]["sum_received"]["bits_per_second"]/1e6))' "$XV_TMP/iperf.json")
[ "$mbps" -gt 10 ] || fail "TCP vm1 -> vm2: only $mbps Mbit/s"
local_n=$(( $(xv_counter tx_local) - l0 ))
[ "$local_n" -ge 400 ] || fail "tx_local +$local_n, expected >= 400 (two 100-datagram exchanges + TCP)"

# ---- 2. across VLANs: unreachable even with the right MAC
ip -n "$NS1" neigh replace 10.77.0.13 lladdr $MAC3 dev eth0
ip -n "$NS3" neigh replace 10.77.0.11 lladdr $MAC1 dev eth0
out=$(probe_in "$NS1" 10.77.0.13 -n $N -r 200 -t 1000 -m 0)
[[ "$out" == *" replies=0 "* ]] || fail "vm1 reached vm3 across VLANs: $out"
out=$(probe_in "$NS3" 10.77.0.11 -n $N -r 200 -t 1000 -m 0)
[[ "$out" == *" replies=0 "* ]] || fail "vm3 reached vm1 across VLANs: $out"

# ---- 3. broadcast: the sender's VLAN and the wire, never the sender
cat >"$XV_TMP/bcast.py" <<'EOF'
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp, conf
conf.verb = 0
name, mac, src, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
f = Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src=src, dst="10.77.0.255") / \
    UDP(sport=5556, dport=9) / Raw(b"XB-" + name.encode())
sendp([f] * n, iface="eth0")
EOF
ip netns exec "$NS1" "$SCAPY_PY" "$XV_TMP/bcast.py" vm1 $MAC1 10.77.0.11 $N || fail "scapy vm1"
ip netns exec "$NS3" "$SCAPY_PY" "$XV_TMP/bcast.py" vm3 $MAC3 10.77.0.13 $N || fail "scapy vm3"

# The captures hold the TCP phase's ~30,000 frames: scapy's dissection took
# 5-7 s a file, so only the headers counted are read, from the raw records.
cat >"$XV_TMP/count.py" <<'EOF'
import ipaddress, struct, sys
from scapy.utils import RawPcapReader
c = {}
def inc(k): c[k] = c.get(k, 0) + 1
ip4 = lambda s: ipaddress.IPv4Address(s).packed
PAIRS4 = {frozenset((ip4("10.77.0.11"), ip4("10.77.0.12"))): "u12",
          frozenset((ip4("10.77.0.13"), ip4("10.77.0.14"))): "u34",
          frozenset((ip4("10.77.0.11"), ip4("10.77.0.13"))): "x13"}
V6 = {ipaddress.IPv6Address("fd00::11").packed, ipaddress.IPv6Address("fd00::12").packed}
for f, _ in RawPcapReader(sys.argv[1]):
    if len(f) < 14:                              # cut short while written
        continue
    off, tag = 12, None
    (etype,) = struct.unpack_from("!H", f, off)
    if etype == 0x8100 and len(f) >= 18:         # one 802.1Q tag
        tag = struct.unpack_from("!H", f, off + 2)[0] & 0xfff
        off += 4
        (etype,) = struct.unpack_from("!H", f, off)
    l3, payload = off + 2, None
    if etype == 0x0800 and len(f) >= l3 + 20:
        ihl, proto = (f[l3] & 15) * 4, f[l3 + 9]
        if proto != 1:                           # ICMP not counted
            k = PAIRS4.get(frozenset((f[l3 + 12:l3 + 16], f[l3 + 16:l3 + 20])))
            if k:
                inc(k)
        if proto == 17:
            payload = f[l3 + ihl + 8:]
    elif etype == 0x86dd and len(f) >= l3 + 40 and f[l3 + 6] == 17:
        if {f[l3 + 8:l3 + 24], f[l3 + 24:l3 + 40]} == V6:
            inc("u12v6")
        payload = f[l3 + 48:]
    if payload is not None and payload.startswith(b"XB-"):
        k = "b" + payload[3:].decode(errors="replace")
        inc(k + ("tag%d" % tag if tag is not None else "untagged"))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))
EOF
# tcpdump drops what it has not read yet when stopped: wait until the
# expected copies are on disk (-U writes each packet as it reads it)
bursts_captured() {
	local w v2 v4
	w=$("$SCAPY_PY" "$XV_TMP/count.py" "$XV_TMP/wire.pcap") || return 1
	v2=$("$SCAPY_PY" "$XV_TMP/count.py" "$XV_TMP/vm2.pcap") || return 1
	v4=$("$SCAPY_PY" "$XV_TMP/count.py" "$XV_TMP/vm4.pcap") || return 1
	[[ " $w " == *" bvm1untagged=$N "* && " $w " == *" bvm3tag20=$N "* &&
	   " $v2 " == *" bvm1untagged=$N "* && " $v4 " == *" bvm3untagged=$N "* ]]
}
wait_until 10 bursts_captured || log "not every expected broadcast copy was captured within 10 s"
sleep 0.2   # anything that should not arrive has had its chance too
for c in wire vm1 vm2 vm3 vm4; do eval "proc_stop \$CAP_$c"; done
declare -A seen
for c in wire vm1 vm2 vm3 vm4; do
	seen[$c]=$("$SCAPY_PY" "$XV_TMP/count.py" "$XV_TMP/$c.pcap") || fail "pcap analysis ($c)"
	log "$c received: ${seen[$c]}"
done
got() { # CAPTURE KEY: the count (0 if absent)
	local s=" ${seen[$1]} " k=" $2="
	[[ "$s" == *"$k"* ]] || { echo 0; return; }
	s=${s#*"$k"}; echo "${s%% *}"
}
want() { # CAPTURE KEY N
	[ "$(got "$1" "$2")" -eq "$3" ] || fail "$1: $2=$(got "$1" "$2"), expected $3 (all: ${seen[$1]})"
}
want wire u12 0
want wire u34 0
want wire u12v6 0
[ "$(got vm2 u12v6)" -ge 50 ] || fail "vm2 received $(got vm2 u12v6) of vm1's IPv6 datagrams"
[ "$(got vm2 u12)" -ge 100 ] || fail "vm2 received $(got vm2 u12) of vm1's frames"
[ "$(got vm4 u34)" -ge 100 ] || fail "vm4 received $(got vm4 u34) of vm3's frames"
want vm3 x13 0
want vm1 x13 0
want wire bvm1untagged $N
want vm2 bvm1untagged $N
want vm1 bvm1untagged 0
want vm3 bvm1untagged 0
want vm4 bvm1untagged 0
want wire bvm3tag20 $N
want vm4 bvm3untagged $N
want vm3 bvm3untagged 0
want vm1 bvm3untagged 0
want vm2 bvm3untagged 0
# real stacks (ARP, ND, TCP, UDP) were never mistaken for spoofing
for v in vm1 vm2 vm3 vm4; do
	n=$(xvctl -j stats $v | jq -r "$XV_JQ_PY"' .["vms"][0]["egress"]["spoof"] | py')
	[ "$n" -eq 0 ] || fail "$v: $n of its frames counted as spoofed: $(xvctl stats $v)"
done
pass "same VLAN kept off the wire (tx_local +$local_n, TCP $mbps Mbit/s), no cross-VLAN reach, broadcasts per VLAN and never back"
