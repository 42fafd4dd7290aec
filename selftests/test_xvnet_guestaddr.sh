#!/usr/bin/env bash
# A stock guest configures itself through vm_tx's anti-spoofing allowances
# (docs/security.md): real Linux stacks in the VM namespaces, real DHCP
# (busybox udhcpc in the VM, udhcpd on the wire), the kernel's own IPv6
# link-local, DAD, router solicitation and SLAAC.
#
#  vm1 --ip 10.77.0.21 --ip fd00:77::<EUI-64>   (allowances on, the default)
#      gets 10.77.0.21 by DHCP from 0.0.0.0 and answers UDP on it; its
#      MAC-derived link-local answers ping from the wire; an RA from the
#      wire gives it fd00:77::<EUI-64> by SLAAC (listed, as a cloud lists
#      it) and that answers too.  Not one of its frames is counted spoofed.
#  vm2 --ip 10.77.0.22, stable-privacy link-local (RFC 7217, random)
#      DHCP as vm1; its random link-local answers ping (ipv6-ll-any).
#      Nothing counted spoofed.
#  vm3 --ip 10.77.0.23 --no-allow all
#      no lease (its DISCOVERs are spoof_ip), its MAC-derived link-local
#      does not answer: the allowances are what made the difference.
# Then vm1 sends crafted frames (scapy, through its real port): DHCP-shaped
# from 0.0.0.0 but to port 53, for another chaddr, with a forged source
# MAC; a random fe80:: source to a global address; vm3's MAC-derived
# link-local as source; an NA claiming vm3's link-local; vm2's
# stable-privacy link-local, which vm2 holds (first come, first served).
# Each is refused
# under its reason, exactly N times, and none reaches the wire, while N
# legitimate DISCOVERs do.
#
#   W: wire 10.77.0.1 fd00:77::1 (udhcpd) == NIC [xvnetd] -- vm1, vm2, vm3
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_cmd busybox tcpdump
busybox_has udhcpc || skip "busybox without udhcpc"
busybox_has udhcpd || skip "busybox without udhcpd"
busybox_has ping6 || skip "busybox without ping6"

MAC1=02:00:00:00:77:01 MAC2=02:00:00:00:77:02 MAC3=02:00:00:00:77:03
N=20
# the modified EUI-64 of a MAC, as the kernel forms it (RFC 4291 app. A)
LL1=$(eui64 fe80::/64 $MAC1) LL3=$(eui64 fe80::/64 $MAC3)
G1=$(eui64 fd00:77::/64 $MAC1)

xv_topology
wire_ipv6

# DHCP server on the wire: each VM's --ip as a static lease
cat >"$XV_TMP/udhcpd.conf" <<EOF
start 10.77.0.21
end 10.77.0.29
interface $WIRE
lease_file $XV_TMP/udhcpd.leases
pidfile $XV_TMP/udhcpd.pid
static_lease $MAC1 10.77.0.21
static_lease $MAC2 10.77.0.22
static_lease $MAC3 10.77.0.23
opt subnet 255.255.255.0
opt lease 600
EOF
: >"$XV_TMP/udhcpd.leases"
bg_start "$XV_TMP/udhcpd.log" ip netns exec "$W" busybox udhcpd -f "$XV_TMP/udhcpd.conf"

xvnetd_start

# vm_guest NAME MAC [vm add options]: a veth VM whose namespace has no
# address yet and IPv6 on, as a freshly booted guest
vm_guest() {
	local name=$1 mac=$2 ns; shift 2
	ns=$(xv_name "$name")
	ns_create "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=1
	xvctl vm add "$name" --mac "$mac" --port veth --netns "$ns" \
		--ifname "$(vm_port "$name")" "$@" || fail "vm add $name refused"
}
vm_guest vm1 $MAC1 --ip 10.77.0.21 --ip "$G1"
vm_guest vm2 $MAC2 --ip 10.77.0.22
vm_guest vm3 $MAC3 --ip 10.77.0.23 --no-allow all
NS1=$(vm_ns vm1) NS2=$(vm_ns vm2) NS3=$(vm_ns vm3)
xvctl vm list | grep -q "^vm3 .* allow none" || fail "vm list: $(xvctl vm list)"
grep -q "^vm vm3 .* no-allow dhcp,ipv6-ll,ipv6-ll-any" "$XVD_STATE" || fail "state: $(grep '^vm vm3' "$XVD_STATE")"
# vm2: a stable-privacy link-local (what NetworkManager does by default)
ip netns exec "$NS2" sysctl -qw net.ipv6.conf.eth0.accept_ra=0
ip -n "$NS2" link set eth0 down
ip netns exec "$NS2" sysctl -qw net.ipv6.conf.eth0.stable_secret=2001:db8:1:2:3:4:5:6
ip -n "$NS2" link set eth0 addrgenmode stable_secret
ip -n "$NS2" link set eth0 up
ip netns exec "$NS3" sysctl -qw net.ipv6.conf.eth0.accept_ra=0

egress() { # VM FIELD
	xvctl -j stats "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["vms"][0]["egress"][sys.argv[1]])' "$2"
}

# ---- link-local addresses: DAD (from ::) done, the MAC-derived one for vm1
ll_ready() { ip -n "$1" -6 addr show dev eth0 scope link | grep inet6 | grep -qv tentative; }
wait_until 10 ll_ready "$NS1" || fail "vm1: no link-local address: $(ip -n "$NS1" -6 addr)"
wait_until 10 ll_ready "$NS2" || fail "vm2: no link-local address: $(ip -n "$NS2" -6 addr)"
ip -n "$NS1" -6 addr show dev eth0 scope link | grep -q "inet6 $LL1/64" ||
	fail "vm1's link-local is not $LL1: $(ip -n "$NS1" -6 addr show dev eth0)"
LL2=$(ip -n "$NS2" -6 addr show dev eth0 scope link | awk '/inet6/{print $2}' | cut -d/ -f1)
[ "$LL2" != "$(eui64 fe80::/64 $MAC2)" ] || fail "vm2's link-local is the MAC-derived one"
log "link-local: vm1 $LL1 (EUI-64), vm2 $LL2 (stable privacy)"

# ---- DHCP from 0.0.0.0, as a stock guest does at boot
dhcp() { # NS
	ip netns exec "$1" timeout 15 busybox udhcpc -i eth0 -f -q -n -t 4 -T 1 \
		-s "$XV_ROOT/selftests/lib/udhcpc-bound.sh" >"$XV_TMP/udhcpc-$1.log" 2>&1
}
has_addr() { ip -n "$1" addr show dev eth0 | grep -q "inet $2/24"; }
dhcp "$NS1" || fail "vm1 got no lease: $(cat "$XV_TMP/udhcpc-$NS1.log")"
wait_until 2 has_addr "$NS1" 10.77.0.21 ||
	fail "vm1: 10.77.0.21 not configured: $(cat "$XV_TMP/udhcpc-$NS1.log"); $(ip -n "$NS1" addr show dev eth0)"
dhcp "$NS2" || fail "vm2 got no lease: $(cat "$XV_TMP/udhcpc-$NS2.log")"
wait_until 2 has_addr "$NS2" 10.77.0.22 ||
	fail "vm2: 10.77.0.22 not configured: $(cat "$XV_TMP/udhcpc-$NS2.log"); $(ip -n "$NS2" addr show dev eth0)"
s3=$(egress vm3 spoof_ip)
dhcp "$NS3" && fail "vm3 (--no-allow all) got a lease"
[ $(( $(egress vm3 spoof_ip) - s3 )) -ge 1 ] || fail "vm3's DISCOVERs not counted spoof_ip"
log "DHCP: vm1 $(tail -1 "$XV_TMP/udhcpc-$NS1.log"); vm3 refused ($(( $(egress vm3 spoof_ip) - s3 )) spoof_ip)"
bg_start "$XV_TMP/echo-vm1.log" ip netns exec "$NS1" "$ECHO_BIN" "$GUEST_PORT" vm1
wait_until 5 grep -q XVNET-GUEST-READY "$XV_TMP/echo-vm1.log" || fail "udp_echo in vm1 did not start"
out=$(probe_from_wire 10.77.0.21 -n 20 -r 100 -t 2000 -m 20 -i vm1) || fail "vm1 on its DHCP address: $out"

# ---- IPv6 link-local, both kinds, from the wire; vm3's is refused
ping6_w() { ip netns exec "$W" busybox ping6 -c 3 -W 2 -I "$WIRE" "$1" >/dev/null 2>&1; }
wait_until 10 ping6_w "$LL1" || fail "vm1's MAC-derived link-local $LL1 does not answer"
wait_until 10 ping6_w "$LL2" || fail "vm2's stable-privacy link-local $LL2 does not answer"
wait_until 10 ll_ready "$NS3" || fail "vm3: no link-local address"
s3=$(egress vm3 spoof_ip)
ping6_w "$LL3" && fail "vm3 (--no-allow all) answers on its link-local $LL3"
[ $(( $(egress vm3 spoof_ip) - s3 )) -ge 1 ] || fail "vm3's link-local replies not counted spoof_ip"

# ---- SLAAC: an RA from the wire, vm1 forms fd00:77::<EUI-64> (listed)
ip netns exec "$W" "$SCAPY_PY" "$XV_ROOT/selftests/lib/send_ra.py" "$WIRE" "$WMAC" "$WLL" ||
	fail "scapy RA"
slaac_ready() { ip -n "$NS1" -6 addr show dev eth0 | grep "inet6 $G1/64" | grep -qv tentative; }
wait_until 10 slaac_ready || fail "vm1 formed no SLAAC address $G1: $(ip -n "$NS1" -6 addr show dev eth0)"
ping6_g() { ip netns exec "$W" busybox ping6 -c 3 -W 2 "$G1" >/dev/null 2>&1; }
wait_until 10 ping6_g || fail "vm1's SLAAC address $G1 does not answer"
log "IPv6: $LL1, $LL2 and $G1 answer; $LL3 does not"
# vm2 holds its self-chosen link-local (ipv6-ll-any, first come)
require_cmd bpftool
held=$(bpftool -j map dump pinned "$XVD_PIN/xvnet_ll_owner" | "$SCAPY_PY" -c '
import ipaddress, json, sys
for e in json.load(sys.stdin):
    e = e.get("formatted", e)       # -j: raw bytes, and the BTF view
    k = e["key"]
    print(ipaddress.IPv6Address(bytes(k["addr"])), k["vlan"], e["value"])')
id2=$(xvctl -j vm show vm2 | jq -r "$XV_JQ_PY"' .["id"] | py')
log "xvnet_ll_owner: $held"
[[ "$held" == *"$LL2 0 $id2"* ]] || fail "vm2 (id $id2) does not hold $LL2: $held"

# ---- a stock guest's whole start-up: not one frame refused
for v in vm1 vm2; do
	[ "$(egress $v spoof)" -eq 0 ] || fail "$v: $(egress $v spoof) frames counted spoofed: $(xvctl -j stats $v)"
done

# ---- crafted frames through vm1's port
cat >"$XV_TMP/send.py" <<'EOF'
import sys
from scapy.all import (Ether, IP, IPv6, UDP, BOOTP, DHCP, Raw, sendp, conf,
                       ICMPv6ND_NA, ICMPv6NDOptDstLLAddr)
conf.verb = 0
# KINDS (comma-separated: one interpreter start, ~1 s here, for all) N ...
kinds, n, mac, wmac, ll1, ll3, ll2 = sys.argv[1], int(sys.argv[2]), *sys.argv[3:8]
evil = "02:00:00:00:66:66"
bc = "ff:ff:ff:ff:ff:ff"
xid = {"dhcpok": 0x58530001, "dhcpport": 0x58530002, "dhcpchaddr": 0x58530003,
       "dhcpmac": 0x58530004}
def disc(smac=mac, chaddr=mac, dport=67):
    return Ether(src=smac, dst=bc) / IP(src="0.0.0.0", dst="255.255.255.255") / \
        UDP(sport=68, dport=dport) / \
        BOOTP(op=1, chaddr=bytes.fromhex(chaddr.replace(":", "")), xid=xid[kind]) / \
        DHCP(options=[("message-type", "discover"), "end"])
def udp6(src, dst, dmac=wmac):
    return Ether(src=mac, dst=dmac) / IPv6(src=src, dst=dst) / \
        UDP(sport=5555, dport=9) / Raw(b"XS-" + kind.encode())
frames = {
    "dhcpok":     lambda: disc(),
    "dhcpport":   lambda: disc(dport=53),
    "dhcpchaddr": lambda: disc(chaddr=evil),
    "dhcpmac":    lambda: disc(smac=evil),
    "llglobal":   lambda: udp6("fe80::8c3a:51ff:1b2e:90d4", "fd00:77::1"),
    # a global the guest chose (stable privacy or temporary), not listed
    "gprivacy":   lambda: udp6("fd00:77::8c3a:51ff:1b2e:90d4", "fd00:77::1"),
    "llother":    lambda: udp6(ll3, "fe80::1"),
    "llheld":     lambda: udp6(ll2, "fe80::1"),
    "naforged":   lambda: Ether(src=mac, dst="33:33:00:00:00:01") /
                          IPv6(src=ll1, dst="ff02::1", hlim=255) /
                          ICMPv6ND_NA(tgt=ll3, R=0, S=0, O=1) /
                          ICMPv6NDOptDstLLAddr(lladdr=mac),
}
for kind in kinds.split(","):      # disc() and udp6() read it
    sendp([frames[kind]() for _ in range(n)], iface="eth0")
EOF
cat >"$XV_TMP/count.py" <<'EOF'
import sys
from scapy.all import rdpcap, Raw, BOOTP, ICMPv6ND_NA
names = {0x58530001: "dhcpok", 0x58530002: "dhcpport", 0x58530003: "dhcpchaddr",
         0x58530004: "dhcpmac"}
c = {}
def inc(k): c[k] = c.get(k, 0) + 1
for p in rdpcap(sys.argv[1]):
    if BOOTP in p and p[BOOTP].op == 1 and p[BOOTP].xid in names:
        inc(names[p[BOOTP].xid])
    if Raw in p and bytes(p[Raw]).startswith(b"XS-"):
        inc(bytes(p[Raw])[3:].decode(errors="replace"))
    if ICMPv6ND_NA in p and p[ICMPv6ND_NA].tgt == sys.argv[2]:
        inc("naforged")
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))
EOF
# --immediate-mode: without it libpcap hands frames over in blocks, up to
# 1 s late, and a tcpdump stopped sooner loses them
bg_start "$XV_TMP/tcpdump-w.log" ip netns exec "$W" tcpdump --immediate-mode -U -n -i "$WIRE" \
	-w "$XV_TMP/wire.pcap"
TCPDUMP_W=$BG_PID
wait_until 5 grep -q "listening on" "$XV_TMP/tcpdump-w.log" || fail "tcpdump did not start"
declare -A b
for f in spoof spoof_mac spoof_ip spoof_nd; do b[$f]=$(egress vm1 $f); done
ip netns exec "$NS1" "$SCAPY_PY" "$XV_TMP/send.py" \
	dhcpok,dhcpport,dhcpchaddr,dhcpmac,llglobal,gprivacy,llother,llheld,naforged \
	$N $MAC1 "$WMAC" "$LL1" "$LL3" "$LL2" || fail "scapy: the crafted frames"
dhcp_captured() { [[ " $("$SCAPY_PY" "$XV_TMP/count.py" "$XV_TMP/wire.pcap" "$LL3") " == *" dhcpok=$N "* ]]; }
wait_until 10 dhcp_captured || log "the legit DISCOVERs were not all captured within 10 s"
sleep 0.5   # a refused frame that would reach the wire has had its chance too
proc_stop "$TCPDUMP_W"
d() { echo $(( $(egress vm1 "$1") - b[$1] )); }
[ "$(d spoof_ip)" -eq $((6 * N)) ] || fail "spoof_ip +$(d spoof_ip), expected $((6 * N)) (port 53, chaddr, fe80:: to global, unlisted global, vm3's link-local, vm2's)"
[ "$(d spoof_mac)" -eq $N ] || fail "spoof_mac +$(d spoof_mac), expected $N"
[ "$(d spoof_nd)" -eq $N ] || fail "spoof_nd +$(d spoof_nd), expected $N"
[ "$(d spoof)" -eq $((8 * N)) ] || fail "spoof +$(d spoof), expected $((8 * N))"

counts=$("$SCAPY_PY" "$XV_TMP/count.py" "$XV_TMP/wire.pcap" "$LL3") || fail "pcap analysis"
log "seen on the wire: $counts"
[[ " $counts " == *" dhcpok=$N "* ]] || fail "expected $N legit DISCOVERs on the wire, saw: $counts"
for k in dhcpport dhcpchaddr dhcpmac llglobal gprivacy llother llheld naforged; do
	[[ " $counts " == *" $k="* ]] && fail "refused '$k' frames reached the wire: $counts"
done

pass "DHCP from 0.0.0.0, MAC-derived and stable-privacy link-locals, DAD, SLAAC work for stock stacks (no frame refused); --no-allow all stops them; forged DHCP/link-local/ND and another VM's held link-local refused ($N each, per reason)"
