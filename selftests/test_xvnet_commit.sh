#!/usr/bin/env bash
# The one commit path (loader/kern/commit.h, issue 17): a change that fails at
# any step leaves the kernel and the state as they were, and says so.
#  - save fails (the state file's path is made a directory): vm del keeps
#    the VM, its tap and its configured flow in xvnet_flows4_cfg (it used to
#    delete the flows before the save); vm set puts the old source address
#    back in xvnet_vm_addrs; vm add leaves no tap behind; a
#    reload that would remove a VM keeps it and says "previous state kept"
#    truthfully (it used to remove the VM, then fail to save);
#  - apply fails (a reload adds two VMs, the second into a namespace that
#    does not exist): the first one's tap is gone again, the state file is
#    byte-identical, the reply says "previous state kept" (the reload used
#    to succeed half);
#  - a reload that renames a VM on the same tap keeps the tap (and that it
#    is xvnetd's) and moves the flow to the new name;
#  - with the state writable again, vm set moves the address in the map
#    and leaves the state's flows file alone (same inode), and vm del
#    removes the VM, its tap and its flows (and the flows file).
# Names: cmt-* VMs, this test's xv_name devices.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_cmd bpftool
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

TA=$(xv_name ca) TC=$(xv_name cc) TD=$(xv_name cd)
NOSUCHNS=$(xv_name nons)
FLOW='flow proto udp src 10.77.0.1 dst 10.77.0.91 dport 53 action deliver vm cmt-a'
xv_topology
xvnetd_start "vm cmt-a id 3 mac 02:00:00:00:91:01 port tap ifname $TA ip 10.77.0.91" "$FLOW"
cleanup_add link_del "$TA" ""
cleanup_add link_del "$TC" ""
cleanup_add link_del "$TD" ""

# the operator's flows, IPv4 (xvnet_flows4_cfg) and other (xvnet_flows_cfg)
cfg_flows() {
	{ bpftool -j map dump pinned "$XVD_PIN/xvnet_flows4_cfg"; echo
	  bpftool -j map dump pinned "$XVD_PIN/xvnet_flows_cfg"; } |
		python3 -c 'import json,sys; print(sum(len(json.loads(l)) for l in sys.stdin if l.strip()))'
}
# does xvnet_vm_addrs hold 10.77.0.LAST (IPv4-mapped) for VM id 3?
has_addr() { # LAST
	bpftool -j map dump pinned "$XVD_PIN/xvnet_vm_addrs" | python3 -c '
import json, sys
want = [3, 0, 0, 0] + [0] * 10 + [255, 255, 10, 77, 0, int(sys.argv[1])]
keys = [[int(b, 16) for b in e["key"]] for e in json.load(sys.stdin)]
sys.exit(0 if want in keys else 1)' "$1"
}
slot_active() { xvctl -j vm show "$1" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("active") else 1)'; }
dev_exists() { ip link show "$1" >/dev/null 2>&1; }
# kernel and state as they are: the VM a with its tap, slot and flow
same_as_before() { # WHAT
	xvctl vm show cmt-a >/dev/null 2>&1 || fail "$1: vm cmt-a is gone from the config"
	slot_active cmt-a || fail "$1: vm cmt-a's slot is no longer active"
	dev_exists "$TA" || fail "$1: tap $TA is gone"
	[ "$(cfg_flows)" = 1 ] || fail "$1: the operator's flow maps have $(cfg_flows) entries, not 1"
	[ "$(xvctl -j flow list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
		fail "$1: flow list: $(xvctl flow list)"
	xvctl vm show cmt-c >/dev/null 2>&1 && fail "$1: vm cmt-c is configured"
	dev_exists "$TC" && fail "$1: tap $TC was left behind"
	return 0
}
slot_active cmt-a || fail "vm cmt-a not live at start: $(tail -5 "$XV_TMP/xvnetd.log")"
same_as_before "at start"
has_addr 91 || fail "10.77.0.91 not in xvnet_vm_addrs at start: $(bpftool -j map dump pinned "$XVD_PIN/xvnet_vm_addrs" | head -c 600)"

# ---- the save fails -----------------------------------------------------------------
cp "$XVD_STATE" "$XV_TMP/state.before"
rm "$XVD_STATE"
mkdir "$XVD_STATE"                      # rename(2) onto it fails
touch "$XVD_STATE/keep"
rc=0; xvctl vm del cmt-a --force >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "vm del succeeded although the state cannot be saved"
same_as_before "vm del, save failed ($(cat "$XV_TMP/out"))"
rc=0; xvctl vm set cmt-a --ip 10.77.0.92 >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "vm set succeeded although the state cannot be saved"
same_as_before "vm set, save failed ($(cat "$XV_TMP/out"))"
xvctl -j vm show cmt-a | grep -q '"10.77.0.91"' || fail "vm set, save failed: the config lost 10.77.0.91"
has_addr 91 || fail "vm set, save failed: 10.77.0.91 is no longer in xvnet_vm_addrs"
has_addr 92 && fail "vm set, save failed: 10.77.0.92 was left in xvnet_vm_addrs"
rc=0; xvctl vm add cmt-c --mac 02:00:00:00:91:03 --port tap --ifname "$TC" >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "vm add succeeded although the state cannot be saved"
same_as_before "vm add, save failed ($(cat "$XV_TMP/out"))"
rc=0; xvctl flow add proto udp src 10.77.0.1 dst 10.77.0.91 dport 54 action drop >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "flow add succeeded although the state cannot be saved"
same_as_before "flow add, save failed ($(cat "$XV_TMP/out"))"
printf 'nic %s\n' "$NIC" >"$XVD_CONF"    # the admin removes cmt-a and its flow
rc=0; xvctl reload >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "reload succeeded although the state cannot be saved"
grep -q "previous state kept" "$XV_TMP/out" || fail "reload, save failed: '$(cat "$XV_TMP/out")'"
same_as_before "reload, save failed ($(cat "$XV_TMP/out"))"
log "save failing: vm del, vm set, vm add, flow add and reload refused, maps, ports and config unchanged"

# ---- the apply fails ------------------------------------------------------------------
rm -r "$XVD_STATE"
cp "$XV_TMP/state.before" "$XVD_STATE"
{
	printf 'nic %s\n' "$NIC"
	printf 'vm cmt-a id 3 mac 02:00:00:00:91:01 port tap ifname %s ip 10.77.0.91\n%s\n' "$TA" "$FLOW"
	printf 'vm cmt-c mac 02:00:00:00:91:03 port tap ifname %s\n' "$TC"
	printf 'vm cmt-d mac 02:00:00:00:91:04 port veth netns %s ifname %s\n' "$NOSUCHNS" "$TD"
} >"$XVD_CONF"
rc=0; xvctl reload >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "reload with a VM in a missing namespace succeeded"
grep -q "previous state kept" "$XV_TMP/out" || fail "reload, apply failed: '$(cat "$XV_TMP/out")'"
grep -q "$NOSUCHNS" "$XV_TMP/out" || fail "reload, apply failed, the reason is not named: '$(cat "$XV_TMP/out")'"
same_as_before "reload, apply failed"
cmp -s "$XVD_STATE" "$XV_TMP/state.before" || fail "a refused reload changed the state file"
log "apply failing: reload refused, the VM it had added undone ($TC gone), state file identical"

# ---- and with nothing failing -----------------------------------------------------------
# a reload that renames cmt-a to cmt-r on the same tap, and one back: the
# old VM leaves its slot and MAC first, the tap stays (same ifindex) and
# stays xvnetd's, the flow follows the name
ifi=$(cat "/sys/class/net/$TA/ifindex")
printf 'nic %s\nvm cmt-r id 3 mac 02:00:00:00:91:01 port tap ifname %s ip 10.77.0.91\n%s\n' \
	"$NIC" "$TA" "${FLOW/vm cmt-a/vm cmt-r}" >"$XVD_CONF"
xvctl reload >"$XV_TMP/out" 2>&1 || fail "reload renaming cmt-a to cmt-r refused: $(cat "$XV_TMP/out")"
slot_active cmt-r || fail "rename: cmt-r is not live"
xvctl vm show cmt-a >/dev/null 2>&1 && fail "rename: cmt-a is still configured"
[ "$(cat "/sys/class/net/$TA/ifindex" 2>/dev/null)" = "$ifi" ] || fail "rename: tap $TA was made anew"
grep -q "^vm cmt-r .* owned" "$XVD_STATE" || fail "rename: cmt-r's tap is not recorded as xvnetd's: $(grep '^vm' "$XVD_STATE")"
[ "$(cfg_flows)" = 1 ] || fail "rename: the operator's flow maps have $(cfg_flows) entries"
printf 'nic %s\nvm cmt-a id 3 mac 02:00:00:00:91:01 port tap ifname %s ip 10.77.0.91\n%s\n' \
	"$NIC" "$TA" "$FLOW" >"$XVD_CONF"
xvctl reload >"$XV_TMP/out" 2>&1 || fail "reload renaming back refused: $(cat "$XV_TMP/out")"
same_as_before "renamed back"
[ "$(cat "/sys/class/net/$TA/ifindex")" = "$ifi" ] || fail "rename back: tap $TA was made anew"
log "reload renaming a VM on its tap: slot and MAC handed over, tap kept and owned"
# the state's flows live in the file its flows-file line names: a change
# that touches no flow leaves that file as it is (same inode)
flows_files() { (cd "$XVD_STATE_DIR" && ls -i xvnetd.state.flows.* 2>/dev/null | tr -s ' ' | sort); }
ff=$(flows_files)
[ "$(wc -l <<<"$ff")" = 1 ] && [ -n "$ff" ] || fail "not one flows file beside the state: '$ff'"
grep -qx "flows-file ${ff##* }" "$XVD_STATE" || fail "the state does not name ${ff##* }: $(grep flows-file "$XVD_STATE")"
xvctl vm set cmt-a --ip 10.77.0.92 || fail "vm set with a writable state refused"
has_addr 92 && ! has_addr 91 || fail "vm set: xvnet_vm_addrs does not follow (91 -> 92)"
grep -q "^vm cmt-a .*ip 10.77.0.92" "$XVD_STATE" || fail "vm set: the state does not say 10.77.0.92"
[ "$(flows_files)" = "$ff" ] || fail "vm set rewrote the flows file: '$ff' -> '$(flows_files)'"
xvctl vm del cmt-a --force || fail "vm del with a writable state refused"
dev_exists "$TA" && fail "vm del left its tap $TA"
[ "$(cfg_flows)" = 0 ] || fail "vm del left $(cfg_flows) entries in the operator's flow maps"
grep -q cmt-a "$XVD_STATE" && fail "vm del: cmt-a still in the state"
[ -z "$(flows_files)" ] || fail "no flows left, but a flows file: $(flows_files)"
log "vm set, vm del: applied; VM, tap and flow gone after the save"
pass
