#!/usr/bin/env bash
# VM egress anti-spoofing end to end: from inside vm1's namespace (its eth0
# is the veth peer of its xvnetd port) scapy sends frames with a forged
# source MAC, a forged IPv4 source, a foreign VLAN tag, forged ARP senders
# (IP, and MAC inside ARP), a forged IPv6 source and a neighbour
# advertisement for vm2's address.  Each kind is dropped by vm_tx -- none
# reaches the wire (tcpdump on $WIRE) or vm2 -- and counted exactly under
# its reason in vm1's egress counters (xvnetctl -j stats vm1) and in the
# global tx_spoof.  Meanwhile the wire keeps talking to vm1 (udp_probe: every
# request answered), and the same frames with vm1's real addresses do arrive
# (the positive control of the capture).  Last, a reload that removes vm1's
# IPv4 address stops its replies at once (counted spoof_ip); one that puts
# it back restores them.
#
#   W: wire (10.77.0.1) == NIC [xvnetd] -- vm1 10.77.0.11 fd00::11
#                                       -- vm2 10.77.0.12 fd00::12
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_cmd tcpdump

MAC1=02:00:00:00:55:01
MAC2=02:00:00:00:55:02
N=20
xv_topology
xvnetd_start
vm_ns_add vm1 $MAC1 10.77.0.11/24 --ip fd00::11
vm_ns_add vm2 $MAC2 10.77.0.12/24 --ip fd00::12
NS1=$(vm_ns vm1) NS2=$(vm_ns vm2)
WMAC=$(if_mac "$WIRE" "$W")

# vm show / list carry the addresses; the config file keeps them
xvctl -j vm show vm1 | grep -q '"fd00::11"' || fail "vm show -j does not list fd00::11"
xvctl vm list | grep -q "vm1 .* ip 10.77.0.11 ip fd00::11" || fail "vm list: $(xvctl vm list)"
grep -q "^vm vm1 .* ip 10.77.0.11 ip fd00::11$" "$XVD_STATE" || fail "state: $(cat "$XVD_STATE")"

# the wire knows vm2's MAC (an ARP claim for 10.77.0.12 would overwrite it)
probe_from_wire 10.77.0.12 -n 3 -r 100 -t 2000 -m 3 -i vm2 >/dev/null || fail "vm2 unreachable"

egress() { # VM FIELD
	xvctl -j stats "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["vms"][0]["egress"][sys.argv[1]])' "$2"
}

cat >"$XV_TMP/send.py" <<'EOF'
import sys
from scapy.all import (Ether, Dot1Q, IP, IPv6, UDP, ARP, Raw, sendp, conf,
                       ICMPv6ND_NA, ICMPv6NDOptDstLLAddr)
conf.verb = 0
# KINDS (comma-separated: one interpreter start, ~1 s here, for all) N ...
kinds, n, mac, wmac = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
evil = "02:00:00:00:66:66"
bc = "ff:ff:ff:ff:ff:ff"
def udp4(src, smac=mac, tag=None):
    e = Ether(src=smac, dst=wmac)
    if tag is not None:
        e = e / Dot1Q(vlan=tag)
    return e / IP(src=src, dst="10.77.0.1") / UDP(sport=5555, dport=9) / Raw(b"XS-" + kind.encode())
def udp6(src):
    return Ether(src=mac, dst=wmac) / IPv6(src=src, dst="fd00::1") / \
        UDP(sport=5555, dport=9) / Raw(b"XS-" + kind.encode())
frames = {
    "legit4":   lambda: udp4("10.77.0.11"),
    "mac":      lambda: udp4("10.77.0.11", smac=evil),
    "ip":       lambda: udp4("10.77.0.99"),
    "vlan":     lambda: udp4("10.77.0.11", tag=20),
    "legitarp": lambda: Ether(src=mac, dst=bc) / ARP(op=1, hwsrc=mac, psrc="10.77.0.11", pdst="10.77.0.201"),
    "arpip":    lambda: Ether(src=mac, dst=bc) / ARP(op=2, hwsrc=mac, psrc="10.77.0.12", hwdst=bc, pdst="10.77.0.12"),
    "arpmac":   lambda: Ether(src=mac, dst=bc) / ARP(op=1, hwsrc=evil, psrc="10.77.0.11", pdst="10.77.0.202"),
    "legit6":   lambda: udp6("fd00::11"),
    "ip6":      lambda: udp6("fd00::99"),
    "na":       lambda: Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src="fd00::11", dst="ff02::1", hlim=255) /
                        ICMPv6ND_NA(tgt="fd00::12", R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac),
}
for kind in kinds.split(","):      # udp4() and udp6() read it
    sendp([frames[kind]() for _ in range(n)], iface="eth0")
EOF

send() { ip netns exec "$NS1" "$SCAPY_PY" "$XV_TMP/send.py" "$1" "$N" "$MAC1" "$WMAC" || fail "scapy $1"; }

# ---- capture on the wire while vm1 sends everything, under live traffic
bg_start "$XV_TMP/tcpdump-w.log" ip netns exec "$W" tcpdump --immediate-mode -U -n -i "$WIRE" -w "$XV_TMP/wire.pcap"
TCPDUMP_W=$BG_PID
bg_start "$XV_TMP/tcpdump-2.log" ip netns exec "$NS2" tcpdump --immediate-mode -U -n -i eth0 -w "$XV_TMP/vm2.pcap"
TCPDUMP_2=$BG_PID
wait_until 5 grep -q "listening on" "$XV_TMP/tcpdump-w.log" || fail "tcpdump did not start"
wait_until 5 grep -q "listening on" "$XV_TMP/tcpdump-2.log" || fail "tcpdump did not start"

declare -A b
for f in tx spoof spoof_mac spoof_vlan spoof_ip spoof_arp spoof_nd; do b[$f]=$(egress vm1 $f); done
g0=$(xv_counter tx_spoof)

bg_start "$XV_TMP/probe.log" ip netns exec "$W" "$PROBE_BIN" -n 300 -r 100 -t 3000 -m 300 -i vm1 10.77.0.11 "$GUEST_PORT"
PROBE=$BG_PID
send legit4,mac,ip,vlan,legitarp,arpip,arpmac,legit6,ip6,na
wait "$PROBE"; rc=$?
log "legit traffic during the spoofing: $(cat "$XV_TMP/probe.log")"
[ "$rc" -eq 0 ] || fail "vm1 stopped answering the wire while spoofing: $(cat "$XV_TMP/probe.log")"
sleep 0.5
proc_stop "$TCPDUMP_W"
proc_stop "$TCPDUMP_2"

# ---- counters: exactly N per forged kind, under its reason
d() { echo $(( $(egress vm1 "$1") - b[$1] )); }
[ "$(d spoof_mac)" -eq $N ] || fail "spoof_mac +$(d spoof_mac), expected $N"
[ "$(d spoof_ip)" -eq $((2 * N)) ] || fail "spoof_ip +$(d spoof_ip), expected $((2 * N)) (IPv4 + IPv6)"
[ "$(d spoof_vlan)" -eq $N ] || fail "spoof_vlan +$(d spoof_vlan), expected $N"
[ "$(d spoof_arp)" -eq $((2 * N)) ] || fail "spoof_arp +$(d spoof_arp), expected $((2 * N)) (sender IP, sender MAC)"
[ "$(d spoof_nd)" -eq $N ] || fail "spoof_nd +$(d spoof_nd), expected $N"
[ "$(d spoof)" -eq $((7 * N)) ] || fail "spoof total +$(d spoof), expected $((7 * N))"
[ $(( $(xv_counter tx_spoof) - g0 )) -eq $((7 * N)) ] || fail "global tx_spoof +$(( $(xv_counter tx_spoof) - g0 ))"
[ "$(d tx)" -ge $((10 * N)) ] || fail "vm1 tx +$(d tx), expected >= $((10 * N))"
xvctl stats vm1 | grep -q "egress tx .* spoofed" || fail "xvnetctl stats vm1 shows no egress line"

# ---- the wire gets every legit frame, vm2 the legit broadcasts; no forged one
cat >"$XV_TMP/count.py" <<'EOF'
import sys
from scapy.all import rdpcap, Raw, ARP, Dot1Q, ICMP, ICMPv6ND_NA
c = {}
def inc(k): c[k] = c.get(k, 0) + 1
for p in rdpcap(sys.argv[1]):
    if ICMP in p:       # the wire's port-unreachable errors quote our frames
        continue
    if Raw in p and bytes(p[Raw]).startswith(b"XS-"):
        inc(bytes(p[Raw])[3:].decode(errors="replace"))
    if Dot1Q in p:
        inc("tagged")
    if ARP in p and p[ARP].psrc == "10.77.0.12" and p[ARP].hwsrc == sys.argv[2]:
        inc("arpip")
    if ARP in p and p[ARP].hwsrc == "02:00:00:00:66:66":
        inc("arpmac")
    if ARP in p and p[ARP].pdst == "10.77.0.201":
        inc("legitarp")
    if ICMPv6ND_NA in p:
        inc("na")
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))
EOF
counts=$("$SCAPY_PY" "$XV_TMP/count.py" "$XV_TMP/wire.pcap" "$MAC1") || fail "pcap analysis"
counts2=$("$SCAPY_PY" "$XV_TMP/count.py" "$XV_TMP/vm2.pcap" "$MAC1") || fail "pcap analysis"
log "seen on the wire: $counts"
log "seen by vm2: $counts2"
has() { [[ " $1 " == *" $2=$3 "* ]]; }
for k in legit4 legitarp legit6; do has "$counts" $k $N || fail "legit '$k': expected $N on the wire, saw: $counts"; done
has "$counts2" legitarp $N || fail "vm2: expected the $N legit ARP broadcasts, saw: $counts2"
for k in mac ip vlan arpip arpmac ip6 na tagged; do
	[[ " $counts " == *" $k="* ]] && fail "forged '$k' frames reached the wire: $counts"
	[[ " $counts2 " == *" $k="* ]] && fail "forged '$k' frames reached vm2: $counts2"
done
[[ " $counts2 " == *" legit4="* || " $counts2 " == *" legit6="* ]] && fail "vm2 saw vm1's unicast to the wire: $counts2"

# ---- the wire still maps 10.77.0.12 to vm2
ip -n "$W" neigh show 10.77.0.12 | grep -qi "$MAC2" || fail "wire's neighbour entry for vm2 changed: $(ip -n "$W" neigh show 10.77.0.12)"
out=$(probe_from_wire 10.77.0.12 -n 10 -r 100 -t 2000 -m 10 -i vm2) || fail "vm2 after spoofing: $out"

# ---- an address removed by a reload stops at once; put back, it works again
# (vm1 was added at run time: the admin declares it in the file, edited)
grep '^vm vm1 ' "$XVD_STATE" | sed 's/ ip 10\.77\.0\.11 / /' >>"$XVD_CONF"
xvctl reload || fail "reload without 10.77.0.11 refused"
xvctl vm list | grep -q "vm1 .* ip fd00::11$" || fail "vm list after reload: $(xvctl vm list)"
s0=$(egress vm1 spoof_ip)
out=$(probe_from_wire 10.77.0.11 -n 10 -r 100 -t 1000 -m 0)
[[ "$out" == *" replies=0 "* ]] || fail "vm1 still answers from a removed address: $out"
[ $(( $(egress vm1 spoof_ip) - s0 )) -ge 10 ] || fail "vm1's replies from the removed address not counted spoof_ip"
sed -i 's/^\(vm vm1 .*\)$/\1 ip 10.77.0.11/' "$XVD_CONF"
xvctl reload || fail "reload with 10.77.0.11 back refused"
out=$(probe_from_wire 10.77.0.11 -n 10 -r 100 -t 2000 -m 10 -i vm1) || fail "vm1 after the address came back: $out"

pass "forged MAC/IPv4/VLAN/ARP IP/ARP MAC/IPv6/NA dropped ($N each, counted per reason); legit flows: $(cat "$XV_TMP/probe.log")"
