#!/usr/bin/env bash
# Bad input is refused with a message naming the field, with the exit code
# scripts rely on (2 usage, 1 refused by the daemon), and changes nothing:
# the VM list, the maps (bpftool dumps) and the config file stay as they were.
# A config reload with a bad line is refused with FILE:LINE and the running
# state is kept.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_cmd bpftool

xv_topology
xvnetd_start
vm_ns_add vm1 02:00:00:00:33:01 10.77.0.31/24 --vlan 10
NS2=$(xv_name vm2)
ns_create "$NS2"

snapshot() {
	{
		xvctl -j vm list
		xvctl -j flow list
		for m in xvnet_vm_by_mac xvnet_vms xvnet_ports xvnet_flood xvnet_flood_count xvnet_flows xvnet_flows4 xvnet_flows_cfg xvnet_flows4_cfg xvnet_port_vm xvnet_vm_addrs; do
			echo "== $m"
			bpftool -j map dump pinned "$XVD_PIN/$m" 2>&1
		done
		cat "$XVD_CONF" "$XVD_STATE"
		# VM ports and this test's links (other tests and benchmarks may
		# add and remove theirs meanwhile)
		ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' |
			awk -v p="$XV_PREFIX" 'index($0, p) == 1 || /^xv-/' | sort
	} >"$1"
}

# refuse EXIT-CODE FIELD ARGS...: xvnetctl ARGS must exit EXIT-CODE with a
# message that names FIELD, and leave everything as it was.
refuse() {
	local want=$1 field=$2; shift 2
	local rc=0
	snapshot "$XV_TMP/before"
	xvctl "$@" >"$XV_TMP/out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || fail "xvnetctl $*: exit $rc, expected $want ($(cat "$XV_TMP/out"))"
	grep -qi -- "$field" "$XV_TMP/out" || fail "xvnetctl $*: message does not name '$field': $(cat "$XV_TMP/out")"
	snapshot "$XV_TMP/after"
	cmp -s "$XV_TMP/before" "$XV_TMP/after" ||
		fail "xvnetctl $* changed state: $(diff "$XV_TMP/before" "$XV_TMP/after" | head -5)"
	log "refused ($rc): xvnetctl $* -> $(head -1 "$XV_TMP/out")"
}

# caught by xvnetctl itself (usage, exit 2)
refuse 2 mac   vm add vm2 --mac 02:zz:00:00:00:01 --port veth --netns "$NS2"
refuse 2 vlan  vm add vm2 --mac 02:00:00:00:33:02 --vlan 4095 --port veth --netns "$NS2"
refuse 2 queues vm add vm2 --mac 02:00:00:00:33:02 --queues 17 --port veth --netns "$NS2"
refuse 2 port  vm add vm2 --mac 02:00:00:00:33:02 --port bridge --netns "$NS2"
refuse 2 bogus vm add vm2 --mac 02:00:00:00:33:02 --port veth --bogus 1
refuse 2 proto flow add --proto sctpx --src 10.0.0.1 --dst 10.0.0.2 --action drop
refuse 2 src   flow add --proto udp --src 10.0.0.300 --dst 10.0.0.2 --action drop
refuse 2 ip    vm add vm2 --mac 02:00:00:00:33:02 --port veth --netns "$NS2" --ip 10.0.0.300
# refused by the daemon (exit 1)
refuse 1 vm1   vm add vm1 --mac 02:00:00:00:33:02 --port veth --netns "$NS2"
refuse 1 mac   vm add vm2 --mac 02:00:00:00:33:01 --vlan 10 --port veth --netns "$NS2"
refuse 1 netns vm add vm2 --mac 02:00:00:00:33:02 --port veth --netns no-such-ns-xv
refuse 1 vm9   vm del vm9
refuse 1 vm9   vm show vm9
refuse 1 vm    flow add --proto udp --src 10.0.0.1 --dst 10.0.0.2 --action deliver --vm vm9
refuse 1 queue flow add --proto udp --src 10.0.0.1 --dst 10.0.0.2 --action deliver --vm vm1 --queue 3
refuse 1 flow  flow del --proto udp --src 10.0.0.1 --dst 10.0.0.9
refuse 1 ip    vm add vm2 --mac 02:00:00:00:33:02 --vlan 10 --port veth --netns "$NS2" --ip 10.77.0.31
refuse 1 ip    vm add vm2 --mac 02:00:00:00:33:02 --port veth --netns "$NS2" --ip 224.0.0.1
refuse 1 ip    vm add vm2 --mac 02:00:00:00:33:02 --port veth --netns "$NS2" --ip fd00::2 --ip fd00::2

# issue 16 items 6/7: what the config file cannot carry ('#' starts a
# comment, whitespace splits), the host's loopback, and an existing device
# that is no tap/veth: refused before any side effect (lo's and the
# bridge's disable_ipv6 untouched)
BR=$(xv_name br)
bridge_create "$BR"
v6() { cat "/proc/sys/net/ipv6/conf/$1/disable_ipv6" 2>/dev/null || echo none; }
lo6=$(v6 lo); br6=$(v6 "$BR")
refuse_any() { # FIELD ARGS...: refused by xvnetctl (2) or the daemon (1)
	local field=$1 rc=0; shift
	xvctl "$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "xvnetctl $*: exit $rc, want a refusal"
	refuse "$rc" "$field" "$@"
}
refuse_any ifname vm add vm3 --mac 02:00:00:00:33:03 --port tap --ifname 'ta#p'
refuse_any ifname vm add vm3 --mac 02:00:00:00:33:03 --port tap --ifname 'ta p'
refuse_any peer-ifname vm add vm3 --mac 02:00:00:00:33:03 --port veth --netns "$NS2" --peer-ifname 'e#0'
refuse_any netns  vm add vm3 --mac 02:00:00:00:33:03 --port veth --netns 'n#s'
refuse_any ifname vm add vm3 --mac 02:00:00:00:33:03 --port tap --ifname lo
refuse_any ifname vm add vm3 --mac 02:00:00:00:33:03 --port veth --netns "$NS2" --ifname lo
refuse 1 ifname vm add vm3 --mac 02:00:00:00:33:03 --port veth --netns "$NS2" --ifname "$BR"
refuse 1 ifname vm add vm3 --mac 02:00:00:00:33:03 --port tap --ifname "$BR"
[ "$(v6 lo)" = "$lo6" ] || fail "a refused request changed lo's disable_ipv6 ($lo6 -> $(v6 lo))"
[ "$(v6 "$BR")" = "$br6" ] || fail "a refused request changed $BR's disable_ipv6"

# the same MAC on another VLAN is a different VM: accepted
xvctl vm add vm2 --mac 02:00:00:00:33:01 --vlan 11 --port veth --netns "$NS2" ||
	fail "same MAC on another VLAN refused"

# a config reload with a bad line: refused with FILE:LINE, state kept
snapshot "$XV_TMP/before"
cp "$XVD_CONF" "$XV_TMP/good.conf"
printf 'vm vm3 mac 02:00:00:00:33:03 vlan 99999 port veth netns %s\n' "$NS2" >>"$XVD_CONF"
bad_line=$(wc -l <"$XVD_CONF")
rc=0; xvctl reload >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "reload of a bad config: exit $rc ($(cat "$XV_TMP/out"))"
grep -q "$XVD_CONF:$bad_line" "$XV_TMP/out" || fail "reload error does not give FILE:LINE: $(cat "$XV_TMP/out")"
cp "$XV_TMP/good.conf" "$XVD_CONF"
snapshot "$XV_TMP/after"
cmp -s "$XV_TMP/before" "$XV_TMP/after" || fail "a refused reload changed state"
xvd_answers || fail "xvnetd died on a bad reload"

pass "27 bad requests and a bad reload refused, state unchanged"
