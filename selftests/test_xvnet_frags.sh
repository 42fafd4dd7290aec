#!/usr/bin/env bash
# Rules against fragments and extension chains (issue 16, item 1): with
# "deny tcp dport 22, then allow", a SYN to port 22 sent as IPv4 fragments,
# as an IPv6 first or atomic fragment, or behind 9 IPv6 extension headers
# must not reach the VM's stack (its TCP InSegs stay still), while a
# 4000-byte UDP datagram to an allowed port, fragmented on the wire, still
# arrives whole (IPv4 and IPv6).  Policy: docs/security.md.
#
#   W: wire (10.77.0.1, fd77::1) == NIC [xvnetd] -- vm1 (10.77.0.11, fd77::11)
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require

MAC1=02:00:00:00:18:01
xv_topology
xvnetd_start
vm_ns_add vm1 $MAC1 10.77.0.11/24 --ip fd77::11
NS1=$(vm_ns vm1)
WMAC=$(if_mac "$WIRE" "$W")
ip netns exec "$W" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
ip netns exec "$NS1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
ip -n "$W" addr add fd77::1/64 dev "$WIRE" nodad
ip -n "$NS1" addr add fd77::11/64 dev eth0 nodad
ip -n "$NS1" neigh replace 10.77.0.1 lladdr "$WMAC" dev eth0
ip -n "$NS1" neigh replace fd77::1 lladdr "$WMAC" dev eth0

xvctl rule add vm1 --dir in --proto tcp --dport 22 --action deny || fail "rule deny"
xvctl rule add vm1 --dir in --action allow || fail "rule allow"
xvctl rule add vm1 --dir out --action allow || fail "rule allow out"

# what vm1's stack took in: TCP segments (v4 + v6), UDP datagrams
snmp() { # TABLE FIELD -> value from vm1's /proc/net/snmp(6)
	ip netns exec "$NS1" python3 - "$1" "$2" <<'PY'
import sys
t, f = sys.argv[1], sys.argv[2]
if t == "Ip6" or t == "Udp6":
    for line in open("/proc/net/snmp6"):
        k, v = line.split()
        if k == t + f:
            print(v); break
else:
    rows = [l.split() for l in open("/proc/net/snmp") if l.startswith(t + ":")]
    print(rows[1][rows[0].index(f)])
PY
}

# scapy on the wire: every frame crafted with the right MACs (no ARP/ND)
scapy_send() { # PYTHON-BODY (frames in list `pkts`)
	ip netns exec "$W" "$SCAPY_PY" - "$WIRE" "$WMAC" "$MAC1" <<PY 2>&1 | grep -v WARNING || true
import sys
from scapy.all import *
conf.verb = 0
dev, smac, dmac = sys.argv[1], sys.argv[2], sys.argv[3]
E = lambda: Ether(src=smac, dst=dmac)
pkts = []
$1
for _ in range(3):          # the first round sets flows up (slow path)
    for p in pkts:
        sendp(p, iface=dev)
    time.sleep(0.2)
PY
}

# 1. the attack: nothing reaches vm1's TCP
t0=$(snmp Tcp InSegs); fn0=$(xv_counter frag_no_first); el0=$(xv_counter rules_ext_limit)
scapy_send '
syn4 = IP(src="10.77.0.1", dst="10.77.0.11", id=4242) / TCP(sport=40022, dport=22, flags="S") / (b"x" * 40)
pkts += [E() / f for f in fragment(syn4, fragsize=24)]       # first holds the TCP header
pkts += [E() / f for f in fragment(IP(src="10.77.0.1", dst="10.77.0.11", id=4243) /
                                   TCP(sport=40023, dport=22, flags="S") / (b"y" * 40), fragsize=8)]
syn6 = lambda sp: TCP(sport=sp, dport=22, flags="S")
pkts.append(E() / IPv6(src="fd77::1", dst="fd77::11") / IPv6ExtHdrFragment(offset=0, m=0, id=77) / syn6(40024))
first = IPv6(src="fd77::1", dst="fd77::11") / IPv6ExtHdrFragment(id=78) / syn6(40025) / (b"z" * 64)
pkts += [E() / f for f in fragment6(first, 80)]
chain = IPv6(src="fd77::1", dst="fd77::11")
for _ in range(9):
    chain = chain / IPv6ExtHdrDestOpt()
pkts.append(E() / chain / syn6(40026))
'
t1=$(snmp Tcp InSegs)
[ "$t1" -eq "$t0" ] || fail "the SYNs to port 22 reached vm1: Tcp InSegs +$(( t1 - t0 ))"
fn=$(( $(xv_counter frag_no_first) - fn0 )); el=$(( $(xv_counter rules_ext_limit) - el0 ))
[ "$fn" -gt 0 ] || fail "frag_no_first did not move"
[ "$el" -ge 3 ] || fail "rules_ext_limit +$el, want +3 (9 ext headers, 3 rounds)"
log "attack: Tcp InSegs +0; frag_no_first +$fn, rules_ext_limit +$el"

# control: the same path lets an allowed whole SYN (port 80) through
scapy_send 'pkts.append(E() / IP(src="10.77.0.1", dst="10.77.0.11") / TCP(sport=40080, dport=80, flags="S"))'
[ "$(snmp Tcp InSegs)" -gt "$t1" ] || fail "control: a whole SYN to port 80 did not reach vm1"

# 2. legitimate: 4000-byte UDP datagrams to an allowed port, fragmented on
#    the wire; the first datagram's first fragment sets the flow up (slow
#    path), later datagrams arrive whole
bg_start "$XV_TMP/udprx.log" ip netns exec "$NS1" "$SCAPY_PY" -u -c '
import socket, sys
s4 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s4.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s4.bind(("::", 9000))
print("READY", flush=True)
while True:
    d, a = s4.recvfrom(65535)
    print(len(d), a[0], flush=True)
'
wait_until 5 grep -q READY "$XV_TMP/udprx.log" || fail "udp receiver"
scapy_send '
pkts += [E() / f for f in fragment(IP(src="10.77.0.1", dst="10.77.0.11", id=999) / UDP(sport=40900, dport=9000) / (b"a" * 4000), fragsize=1400)]
'
scapy_send '
d6 = IPv6(src="fd77::1", dst="fd77::11") / IPv6ExtHdrFragment(id=999) / UDP(sport=40901, dport=9000) / (b"b" * 4000)
pkts += [E() / f for f in fragment6(d6, 1400)]
'
sleep 0.3
n4=$(grep -c '^4000 ::ffff:10.77.0.1$' "$XV_TMP/udprx.log")
n6=$(grep -c '^4000 fd77::1$' "$XV_TMP/udprx.log")
[ "$n4" -ge 2 ] || fail "IPv4 fragmented UDP: $n4 of 3 datagrams arrived whole (want >= 2: $(cat "$XV_TMP/udprx.log"))"
[ "$n6" -ge 2 ] || fail "IPv6 fragmented UDP: $n6 of 3 datagrams arrived whole (want >= 2)"
log "fragmented UDP to an allowed port: IPv4 $n4/3, IPv6 $n6/3 whole (the first sets the flow up)"

pass "frags: SYN to a denied port as v4 fragments, v6 first/atomic fragments, 9 ext headers: 0 through; fragmented UDP v4 $n4/3, v6 $n6/3"
