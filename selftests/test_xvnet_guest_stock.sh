#!/usr/bin/env bash
# A QEMU guest that configures its network as a stock one does, on an xvnet
# tap (vm_tx in generic XDP, the path of every VMM guest), with only
# `vm add --ip` and the default allowances: no address given on the kernel
# command line, the guest's own IPv6 stack left alone.
#   - DHCP: busybox udhcpc in the guest, from 0.0.0.0, gets its lease from
#     udhcpd on the wire and configures it; the wire's UDP reaches the guest
#     on that address;
#   - IPv6: the guest kernel's MAC-derived link-local (after its own DAD, RS
#     and MLD reports) answers ping from the wire; an RA from the wire makes
#     it form its SLAAC address (listed with --ip, as a cloud lists it),
#     which answers too;
#   - not one of the guest's frames is counted spoofed.
# selftests/test_xvnet_guestaddr.sh covers the allowances' refusals with
# crafted frames and namespace stacks.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
guest_require
require_cmd busybox
busybox_has udhcpd || skip "busybox without udhcpd"
busybox_has ping6 || skip "busybox without ping6"

TAP=$(xv_name sttap)
MAC=$(guest_mac 1)
IP4=10.77.0.31
LL=$(eui64 fe80::/64 "$MAC") G=$(eui64 fd00:77::/64 "$MAC")

xv_topology
wire_ipv6
cat >"$XV_TMP/udhcpd.conf" <<EOF
start 10.77.0.30
end 10.77.0.39
interface $WIRE
lease_file $XV_TMP/udhcpd.leases
pidfile $XV_TMP/udhcpd.pid
static_lease $MAC $IP4
opt subnet 255.255.255.0
opt lease 600
EOF
: >"$XV_TMP/udhcpd.leases"
bg_start "$XV_TMP/udhcpd.log" ip netns exec "$W" busybox udhcpd -f "$XV_TMP/udhcpd.conf"

xvnetd_start
xvctl vm add sg --mac "$MAC" --port tap --ifname "$TAP" --ip $IP4 --ip "$G" || fail "vm add sg"
egress() { # FIELD
	xvctl -j stats sg | python3 -c '
import json, sys
print(json.load(sys.stdin)["vms"][0]["egress"][sys.argv[1]])' "$1"
}

LOGF=$XV_TMP/guest.log
GUEST_CTL=1 GUEST_ID=sg guest_start "$TAP" "$MAC" "" "$LOGF"
guest_wait_ready "$LOGF" 90 || fail "guest did not become ready"
gx() { guest_exec "$LOGF" 20 "$@"; }
gx 'ip -4 addr show dev eth0' | grep -q "inet " && fail "the guest has an IPv4 address before DHCP"

# ---- DHCP: udhcpc's event script configures the lease, as a distribution's does
gx 'printf "#!/bin/sh\ncase \$1 in bound|renew) ip addr add \$ip/\$mask dev \$interface ;; esac\nexit 0\n" >/tmp/dhcp.sh && chmod +x /tmp/dhcp.sh' ||
	fail "writing the guest's udhcpc script"
out=$(gx 'udhcpc -i eth0 -f -q -n -t 5 -T 2 -s /tmp/dhcp.sh 2>&1') ||
	fail "the guest got no lease: $out; xvnetd: $(xvctl stats sg)"
gx 'ip -4 addr show dev eth0' | grep -q "inet $IP4/24" ||
	fail "the lease is not on eth0: $(gx 'ip -4 addr show dev eth0')"
log "DHCP in the guest: $(echo "$out" | grep -i lease | tail -1)"
out=$(probe_from_wire $IP4 -n 20 -r 50 -t 3000 -m 20 -i sg) || fail "UDP to the DHCP address: ${out:-no output}"
log "UDP from the wire on the leased address: $out"

# ---- IPv6: the guest kernel's own link-local, then SLAAC from an RA
gx "ip -6 addr show dev eth0" | grep -q "inet6 $LL/64" ||
	fail "the guest's link-local is not $LL: $(gx 'ip -6 addr show dev eth0')"
ping6_w() { ip netns exec "$W" busybox ping6 -c 3 -W 2 -I "$WIRE" "$1" >/dev/null 2>&1; }
wait_until 15 ping6_w "$LL" || fail "the guest's link-local $LL does not answer: $(xvctl stats sg)"
ip netns exec "$W" "$SCAPY_PY" "$XV_ROOT/selftests/lib/send_ra.py" "$WIRE" "$WMAC" "$WLL" ||
	fail "scapy RA"
slaac() { gx "ip -6 addr show dev eth0" | grep "inet6 $G/64" | grep -qv tentative; }
wait_until 15 slaac || fail "the guest formed no SLAAC address $G: $(gx 'ip -6 addr show dev eth0')"
ping6_g() { ip netns exec "$W" busybox ping6 -c 3 -W 2 "$G" >/dev/null 2>&1; }
wait_until 15 ping6_g || fail "the guest's SLAAC address $G does not answer"
log "IPv6 in the guest: link-local $LL and SLAAC $G answer ping from the wire"

# ---- nothing the guest sent was refused
[ "$(egress spoof)" = 0 ] || fail "the guest's frames counted spoofed: $(xvctl stats sg)"
tx=$(egress tx)
pass "stock guest on a tap with only --ip: DHCP lease $IP4 from 0.0.0.0, UDP on it, link-local $LL and SLAAC $G answer; $tx frames sent by the guest, 0 spoofed"
