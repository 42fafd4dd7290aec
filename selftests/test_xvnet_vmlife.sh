#!/usr/bin/env bash
# A VM's life as hooks, automation and VMMs live it:
#  - vm add --may-exist: the same VM again is success, other settings refused;
#  - vm set: addresses and VLAN changed in place (same id, the maps follow),
#    bad values refused with nothing changed;
#  - vm del refuses while a VMM holds the tap open (--force overrides),
#    --keep-port leaves the device, --if-exists makes an unknown VM success;
#  - a tap deleted under xvnetd is reported gone; one made again (as libvirt
#    or a VMM restart does) is adopted at once, not owned, so vm del leaves it;
#  - the same for a veth VM's pair (a container's restart), with status
#    reporting the missing port and the VM answering on the new pair.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_cmd python3 bpftool
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

T1=$(xv_name lt1) T2=$(xv_name lt2) T3=$(xv_name lt3)
MAC1=02:00:00:00:73:01 MAC2=02:00:00:00:73:02 MAC3=02:00:00:00:73:03
xv_topology
xvnetd_start
cleanup_add link_del "$T2" ""
cleanup_add link_del "$T3" ""

# ---- add --may-exist ---------------------------------------------------------------
xvctl vm add v1 --mac $MAC1 --port tap --ifname "$T1" --ip 10.77.0.81 || fail "vm add v1"
id1=$(xvctl -j vm show v1 | jq -r "$XV_JQ_PY"' .["id"] | py')
xvctl vm add v1 --mac $MAC1 --port tap --ifname "$T1" --ip 10.77.0.81 2>/dev/null &&
	fail "a second vm add of v1 was accepted without --may-exist"
xvctl vm add v1 --mac $MAC1 --port tap --ifname "$T1" --ip 10.77.0.81 --may-exist ||
	fail "vm add --may-exist of the same VM refused"
xvctl vm add v1 --mac $MAC2 --port tap --ifname "$T1" --may-exist 2>"$XV_TMP/e.txt" &&
	fail "vm add --may-exist with another MAC accepted"
grep -q "exists with other settings" "$XV_TMP/e.txt" || fail "may-exist refusal: $(cat "$XV_TMP/e.txt")"
log "vm add --may-exist: same settings accepted, other settings refused"

# ---- vm set --------------------------------------------------------------------------
before=$(cat "$XVD_STATE")
xvctl vm set v1 --vlan 5000 2>/dev/null && fail "vm set --vlan 5000 accepted"
xvctl vm set v1 --ip 300.1.1.1 2>/dev/null && fail "vm set with a bad address accepted"
[ "$(cat "$XVD_STATE")" = "$before" ] || fail "a refused vm set changed the state"
xvctl vm set v1 --ip 10.77.0.82 --ip fd00:77::82 --vlan 20 || fail "vm set refused"
xvctl -j vm show v1 >"$XV_TMP/v1.json"
python3 - "$XV_TMP/v1.json" "$id1" <<'PYEOF' || fail "vm show after vm set: $(cat "$XV_TMP/v1.json")"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["id"] == int(sys.argv[2]), "id changed"
assert v["vlan"] == 20, v["vlan"]
assert sorted(v["ips"]) == ["10.77.0.82", "fd00:77::82"], v["ips"]
PYEOF
bpftool -j map dump pinned "$XVD_PIN/xvnet_vm_by_mac" >"$XV_TMP/bymac.json"
python3 - "$XV_TMP/bymac.json" $MAC1 <<'PYEOF' || fail "xvnet_vm_by_mac does not follow the VLAN: $(cat "$XV_TMP/bymac.json")"
import json, sys
mac = [int(b, 16) for b in sys.argv[2].split(":")]
vlans = sorted(e["formatted"]["key"]["vlan"] for e in json.load(open(sys.argv[1]))
               if e["formatted"]["key"]["mac"] == mac)
assert vlans == [20], vlans
PYEOF
grep -q "^vm v1 .* vlan 20 .*ip 10.77.0.82 ip fd00:77::82" "$XVD_STATE" ||
	fail "state after vm set: $(grep '^vm v1' "$XVD_STATE")"
log "vm set: VLAN 0 -> 20 and addresses replaced in place (id $id1, maps and state follow)"
MAC1B=02:00:00:00:73:11
xvctl vm set v1 --mac $MAC1B --no-allow dhcp || fail "vm set --mac --no-allow refused"
xvctl -j vm show v1 >"$XV_TMP/v1.json"
bpftool -j map dump pinned "$XVD_PIN/xvnet_vm_by_mac" >"$XV_TMP/bymac.json"
bpftool -j map lookup pinned "$XVD_PIN/xvnet_vms" key $((id1 & 255)) $((id1 >> 8 & 255)) 0 0 >"$XV_TMP/slot.json"
python3 - "$XV_TMP/v1.json" "$XV_TMP/bymac.json" "$XV_TMP/slot.json" $MAC1 $MAC1B "$id1" <<'PYEOF' ||
import json, sys
v = json.load(open(sys.argv[1]))
assert v["id"] == int(sys.argv[6]) and v["mac"] == sys.argv[5], v
assert sorted(v["allow"]) == ["ipv6-ll", "ipv6-ll-any"], v["allow"]
macs = [e["formatted"]["key"]["mac"] for e in json.load(open(sys.argv[2]))]
mac = lambda s: [int(b, 16) for b in s.split(":")]
assert mac(sys.argv[5]) in macs and mac(sys.argv[4]) not in macs, macs
slot = json.load(open(sys.argv[3]))["formatted"]["value"]
assert not slot["flags"] & (1 << 5) and slot["flags"] & (1 << 6), slot   # ALLOW_DHCP off, IPV6_LL on
PYEOF
	fail "after vm set --mac --no-allow dhcp: $(cat "$XV_TMP/v1.json" "$XV_TMP/slot.json")"
grep -q "^vm v1 .*mac $MAC1B.*no-allow dhcp" "$XVD_STATE" || fail "state after vm set: $(grep '^vm v1' "$XVD_STATE")"
log "vm set: MAC and allowance (dhcp off) changed in place (same id; xvnet_vm_by_mac, the slot's flags and the state follow)"

# ---- del: held tap, --force, --keep-port, --if-exists ------------------------------
bg_start "$XV_TMP/hold.log" python3 -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH22x", sys.argv[1].encode(), 0x5002))
print("held", flush=True)
time.sleep(60)' "$T1"
HOLD=$BG_PID
wait_until 5 grep -q held "$XV_TMP/hold.log" || fail "could not attach to $T1: $(cat "$XV_TMP/hold.log")"
xvctl vm del v1 2>"$XV_TMP/e.txt" && fail "vm del of a VM whose tap a VMM holds was accepted"
grep -q "held open" "$XV_TMP/e.txt" || fail "refusal without reason: $(cat "$XV_TMP/e.txt")"
xvctl vm show v1 >/dev/null || fail "the refused vm del removed v1"
xvctl vm del v1 --force || fail "vm del --force refused"
ip link show "$T1" >/dev/null 2>&1 && fail "vm del --force left the tap"
proc_stop "$HOLD"
xvctl vm del nosuchvm 2>/dev/null && fail "vm del of an unknown VM succeeded"
xvctl vm del nosuchvm --if-exists || fail "vm del --if-exists of an unknown VM failed"
xvctl vm add v3 --mac $MAC3 --port tap --ifname "$T3" || fail "vm add v3"
xvctl vm del v3 --keep-port || fail "vm del --keep-port"
ip link show "$T3" >/dev/null 2>&1 || fail "vm del --keep-port deleted the tap"
log "vm del: refused while held, --force, --if-exists, --keep-port"

# ---- the port goes and comes back --------------------------------------------------
xvctl vm add v2 --mac $MAC2 --port tap --ifname "$T2" || fail "vm add v2"
old=$(cat "/sys/class/net/$T2/ifindex")
ip link del "$T2"
wait_until 5 grep -q "vm v2: port $T2 (ifindex $old) is gone" "$XV_TMP/xvnetd.log" ||
	fail "no log line for the vanished port: $(tail -3 "$XV_TMP/xvnetd.log")"
xvctl port list | grep -q "^$T2 .* missing" || fail "port list: $(xvctl port list | grep "$T2")"
ip tuntap add "$T2" mode tap || fail "ip tuntap add"
new=$(cat "/sys/class/net/$T2/ifindex")
wait_until 5 grep -q "vm v2: port $T2 is back (ifindex $new): adopted again" "$XV_TMP/xvnetd.log" ||
	fail "the port came back but was not adopted: $(tail -3 "$XV_TMP/xvnetd.log")"
xvctl -j port list >"$XV_TMP/ports.json"
python3 - "$XV_TMP/ports.json" "$T2" "$new" <<'PYEOF' || fail "port list after re-adoption: $(cat "$XV_TMP/ports.json")"
import json, sys
p = [x for x in json.load(open(sys.argv[1])) if x["ifname"] == sys.argv[2]][0]
assert p["in_map"] and p["ifindex"] == int(sys.argv[3]), p
assert not p["owned"], "a tap xvnetd did not make is marked owned"
PYEOF
xvctl vm del v2 || fail "vm del v2"
ip link show "$T2" >/dev/null 2>&1 || fail "vm del deleted a tap xvnetd did not make"
log "tap: gone (log, port list), back under the same name: adopted, not owned, left by vm del"

# ---- a veth port goes and comes back (a container's restart) -------------------
# status reports it missing; the pair made again by another tool, its VM end
# in the VM's namespace, is adopted at once and carries traffic, not owned
vm_ns_add v4 02:00:00:00:73:04 10.77.0.84/24
V4=$(vm_port v4)
probe_from_wire 10.77.0.84 -n 5 -r 50 -t 2000 -m 5 -i v4 >/dev/null || fail "v4 does not answer before"
old=$(cat "/sys/class/net/$V4/ifindex")
ip link del "$V4"
wait_until 5 grep -q "vm v4: port $V4 (ifindex $old) is gone" "$XV_TMP/xvnetd.log" ||
	fail "no log line for the vanished veth: $(tail -3 "$XV_TMP/xvnetd.log")"
xvctl port list | grep -q "^$V4 .* missing" || fail "port list: $(xvctl port list | grep "$V4")"
rc=0; xvctl status >"$XV_TMP/status.txt" || rc=$?
[ "$rc" = 3 ] && grep -q "problem: vm v4: port $V4 missing" "$XV_TMP/status.txt" ||
	fail "status (exit $rc) does not report the missing veth: $(cat "$XV_TMP/status.txt")"
xvctl -j status >"$XV_TMP/status.json" || true     # exit 3: degraded
python3 -c 'import json, sys; assert sys.argv[2] in json.load(open(sys.argv[1]))["ports_missing"]' \
	"$XV_TMP/status.json" "$V4" || fail "status -j: ports_missing without $V4: $(cat "$XV_TMP/status.json")"
ip link add "$V4" type veth peer name eth0 address 02:00:00:00:73:04 netns "$(vm_ns v4)" ||
	fail "ip link add veth"
addr_add eth0 10.77.0.84/24 "$(vm_ns v4)"
new=$(cat "/sys/class/net/$V4/ifindex")
wait_until 5 grep -q "vm v4: port $V4 is back (ifindex $new): adopted again" "$XV_TMP/xvnetd.log" ||
	fail "the veth came back but was not adopted: $(tail -3 "$XV_TMP/xvnetd.log")"
probe_from_wire 10.77.0.84 -n 5 -r 50 -t 2000 -m 5 -i v4 >/dev/null || fail "v4 does not answer on its new veth"
xvctl -j port list >"$XV_TMP/ports.json"
python3 - "$XV_TMP/ports.json" "$V4" "$new" <<'PYEOF' || fail "port list after re-adoption: $(cat "$XV_TMP/ports.json")"
import json, sys
p = [x for x in json.load(open(sys.argv[1])) if x["ifname"] == sys.argv[2]][0]
assert p["in_map"] and p["ifindex"] == int(sys.argv[3]), p
assert not p["owned"], "a veth xvnetd did not make is marked owned"
PYEOF
xvctl status >/dev/null || fail "status still reports a problem after the veth came back"
xvctl vm del v4 || fail "vm del v4"
ip link show "$V4" >/dev/null 2>&1 || fail "vm del deleted a veth xvnetd did not make"
log "veth: gone (log, port list, status), back from another tool: adopted, answers, not owned, left by vm del"
# ---- leftovers of a daemon killed mid-change ------------------------------
# A tap made for a VM whose state line was never saved (killed in between:
# the state is edited back to before the add), the temp file of that save,
# a tap of the same kind that another tool made, and one of ours that a
# process holds: at start only the first two go.
O1=$(xv_name o1) O2=$(xv_name o2) O3=$(xv_name o3)
xvctl vm add o1 --mac 02:00:00:00:55:21 --port tap --ifname "$O1" || fail "vm add o1"
xvctl vm add o3 --mac 02:00:00:00:55:23 --port tap --ifname "$O3" || fail "vm add o3"
cleanup_add ip link del "$O1"
cleanup_add ip link del "$O3"
[ "$(cat "/sys/class/net/$O1/ifalias")" = "xvnetd:$XVD_STATE_DIR" ] ||
	fail "a tap xvnetd made is not marked: alias '$(cat "/sys/class/net/$O1/ifalias")'"
ip tuntap add "$O2" mode tap || fail "ip tuntap add"
cleanup_add ip link del "$O2"
python3 - "$O3" <<'PYEOF' >"$XV_TMP/hold.log" 2>&1 &
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0002 | 0x1000))  # TUNSETIFF tap no_pi
print("holding", flush=True)
time.sleep(30)
PYEOF
HOLD=$!
cleanup_add kill "$HOLD"
wait_until 5 grep -q holding "$XV_TMP/hold.log" || fail "could not hold $O3: $(cat "$XV_TMP/hold.log")"
kill -9 "$XVD_PID"
wait_until 5 _xv_dead "$XVD_PID" || fail "xvnetd survived kill -9"
grep -v "^vm o[13] " "$XVD_STATE" >"$XV_TMP/state.new" && mv "$XV_TMP/state.new" "$XVD_STATE"
echo "# half written" >"$XVD_STATE.tmp.4242"
# the admin's file must not bring them back either
grep -q "o[13]" "$XVD_CONF" && fail "the admin file names o1/o3"
_xvnetd_launch
gone() { ! ip link show "$O1" >/dev/null 2>&1; }
wait_until 5 gone || fail "the orphan tap $O1 is still there after the start"
[ -e "$XVD_STATE.tmp.4242" ] && fail "the temp file of a cut-short save is still there"
ip link show "$O2" >/dev/null 2>&1 || fail "a tap another tool made was removed"
ip link show "$O3" >/dev/null 2>&1 || fail "a tap a process holds was removed"
grep -q "$O3: made by this xvnetd for no VM it has, but held by a process: left in place" "$XV_TMP/xvnetd.log" ||
	fail "the held orphan was not reported"
log "after kill -9: orphan tap $O1 and the state's temp file removed at start; $O2 (not ours) and $O3 (held) left"

pass "vm add --may-exist, vm set in place, vm del held/--force/--keep-port/--if-exists, ports gone and back followed, orphans of a kill -9 cleaned at start"
