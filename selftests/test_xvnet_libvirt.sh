#!/usr/bin/env bash
# libvirt for real (docs/vmm.md): a QEMU (TCG) domain defined and started by
# libvirtd, its NIC `<interface type='ethernet'>` with `<target dev=TAP
# managed='no'/>` on an xvnet tap made by xvnetd through the shipped hook
# (scripts/libvirt-hook-qemu as /etc/libvirt/hooks/qemu), 2 queues
# (`<driver queues='2'/>`: the hook adds the VM with --queues 2, libvirt opens
# the multi-queue tap once per queue):
#  - the hook by hand first: prepare twice (the second is a no-op), release
#    twice (the second too); a VM of that name with other settings refuses
#    prepare and is left alone;
#  - through libvirt: a refusing hook stops `virsh start`; an interface that
#    is not xvnet's is left alone by the hook;
#  - `virsh define` + `virsh start`: the hook's prepare adds the VM (tap
#    made by xvnetd, the VM's --ip from the domain's xvnet metadata), the
#    guest boots on it, UDP from the wire namespace reaches the guest's
#    udp_echo and the replies come back (nic_rx and vm_tx counters moved);
#  - `virsh destroy` + `virsh undefine`: the hook's release removed the VM,
#    no tap, no domain; the daemons this test started are stopped.
#
# libvirtd and virtlogd: this test starts its own (selftests/lib/libvirt.sh:
# private mount namespace with this test's hook directory and qemu.conf,
# nothing written to /etc/libvirt).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"
# shellcheck source=selftests/lib/libvirt.sh
. "$(dirname "$0")/lib/libvirt.sh"

xvnet_require
guest_require
libvirt_require

TAP=$(xv_name lvtap)
DOM="${XV_PREFIX}dom"
VM="${XV_PREFIX}vm"
MAC=$(guest_mac 7)
GUEST_IP=10.77.0.60
N=20

xv_topology
xvnetd_start

# ---- the hook, configured for this test's xvnetd and xvnetctl -----------------------
libvirt_hook_setup
# ---- the domain ----------------------------------------------------------------------
libvirt_tap_domain "$DOM" "$VM" "$TAP" "$MAC" "$GUEST_IP" "$XV_TMP/guest.log" 2 >"$XV_TMP/dom.xml"

hook() { XVNET_HOOK_CONF=$HOOK_CONF "$HOOK" "$DOM" "$@" - <"$XV_TMP/dom.xml"; }
vm_listed() { xvctl -j vm list | python3 -c '
import json, sys
sys.exit(0 if any(v["name"] == sys.argv[1] for v in json.load(sys.stdin)) else 1)' "$1"; }
tap_exists() { ip link show dev "$TAP" >/dev/null 2>&1; }

# ---- 1. the hook by hand: which interfaces, idempotent prepare and release -------------
# (parsing only: no device is named xv-* in a test)
python3 - "$HOOK" <<'PYEOF' || fail "the hook's reading of domain XML (above)"
import sys
from importlib.machinery import SourceFileLoader
sys.dont_write_bytecode = True
h = SourceFileLoader("hook", sys.argv[1]).load_module()
dom = lambda devs: "<domain><devices>" + devs + "</devices></domain>"
itf = lambda dev, managed="no", mac="52:54:00:00:00:01", drv="", typ="ethernet": (
    f"<interface type='{typ}'><mac address='{mac}'/>"
    f"<target dev='{dev}' managed='{managed}'/>{drv}</interface>")
p = h.ports(dom(itf("xv-web1", drv="<driver queues='4'/>") + itf("vnet7") + itf("xv-br", typ="bridge")))
assert [(x["name"], x["dev"], x["queues"]) for x in p] == [("web1", "xv-web1", 4)], p
for bad, why in ((itf("xv-a", managed="yes"), "managed='no'"), (itf("xv-a", mac=""), "no <mac")):
    try:
        h.ports(dom(bad))
        raise SystemExit(f"accepted: {bad}")
    except h.HookError as e:
        assert why in str(e), e
vu = lambda path, mode="client", mac="52:54:00:00:00:02": (
    f"<interface type='vhostuser'><mac address='{mac}'/>"
    f"<source type='unix' path='{path}' mode='{mode}'/></interface>")
p = h.ports(dom(vu("/run/xvnet/db1.vhost") + vu("/run/other/db2.vhost") + vu("/run/xvnet/x.sock")))
assert [(x["name"], x["kind"], x["socket"]) for x in p] == \
    [("db1", "vhost-user", "/run/xvnet/db1.vhost")], p
assert "--port vhost-user" in " ".join(h.add_args(p[0], {"vhost-owner": "libvirt-qemu"})) and \
    "--owner libvirt-qemu" in " ".join(h.add_args(p[0], {"vhost-owner": "libvirt-qemu"})), p
try:
    h.ports(dom(vu("/run/xvnet/db1.vhost", mode="server")))
    raise SystemExit("accepted: a vhostuser interface in server mode")
except h.HookError as e:
    assert "mode='client'" in str(e), e
print("hook parsing: xv-NAME -> VM NAME with <driver queues>, others ignored, managed!='no' and no MAC refused;"
      " vhostuser RUNDIR/NAME.vhost -> VM NAME --port vhost-user, other sockets ignored, server mode refused")
PYEOF
hook prepare begin || fail "hook prepare failed: $(tail -3 "$XV_TMP/hook.log")"
vm_listed "$VM" || fail "hook prepare did not add VM $VM"
tap_exists || fail "no tap $TAP after prepare"
xvctl vm show "$VM" | grep -q "ip $GUEST_IP" || fail "the VM lacks the metadata's --ip: $(xvctl vm show "$VM" | head -1)"
hook prepare begin || fail "a second prepare failed: $(tail -3 "$XV_TMP/hook.log")"
grep -q "VM $VM on $TAP already present" "$XV_TMP/hook.log" || fail "second prepare: $(tail -1 "$XV_TMP/hook.log")"
hook release end || fail "hook release failed"
! vm_listed "$VM" || fail "hook release left VM $VM"
! tap_exists || fail "tap $TAP still there after release"
hook release end || fail "a second release failed"
grep -q "VM $VM already gone" "$XV_TMP/hook.log" || fail "second release: $(tail -1 "$XV_TMP/hook.log")"
# a VM of that name with another MAC: prepare refuses and leaves it
xvctl vm add "$VM" --mac 02:00:00:00:61:99 --port tap --ifname "$TAP" >/dev/null || fail "vm add (conflict) refused"
hook prepare begin 2>"$XV_TMP/conflict.err" && fail "prepare accepted a VM with another MAC"
grep -q "exists with other settings: mac 02:00:00:00:61:99" "$XV_TMP/conflict.err" ||
	fail "conflict message: $(cat "$XV_TMP/conflict.err")"
vm_listed "$VM" || fail "a refused prepare removed a VM it did not add"
xvctl vm del "$VM" >/dev/null || fail "vm del (conflict) refused"
tap_exists && fail "vm del left the tap"
# xvnetd unreachable: prepare fails (the domain would not start), release
# only reports it (exit 0: libvirt ignores it anyway)
XVNET_SOCKET=$XV_TMP/nothing.sock hook prepare begin 2>"$XV_TMP/unreach.err" && fail "prepare succeeded without xvnetd"
grep -q "cannot reach xvnetd" "$XV_TMP/unreach.err" || fail "prepare without xvnetd: $(cat "$XV_TMP/unreach.err")"
XVNET_SOCKET=$XV_TMP/nothing.sock hook release end 2>/dev/null || fail "release without xvnetd did not exit 0"
log "hook by hand: prepare x2, release x2 idempotent; a conflicting VM refuses prepare and is kept; without xvnetd prepare fails, release reports"
: >"$XV_TMP/hook.log"

# ---- 2. the daemons -------------------------------------------------------------------
libvirt_start "$XV_TMP/hooks"

dom_gone() {
	V destroy "$DOM" >/dev/null 2>&1
	V undefine "$DOM" >/dev/null 2>&1
	rm -f "/var/log/libvirt/qemu/$DOM.log"
}
cleanup_add dom_gone

# ---- 3. define, start: the hook makes the VM, the guest answers through xvnet ---------
t0=$(date +%s%N)
V define "$XV_TMP/dom.xml" >/dev/null || fail "virsh define refused the domain"
log "virsh define took $(elapsed_ms "$t0") ms"
# the hook's prepare refuses (a VM of that name with another MAC): libvirt
# does not start the domain
xvctl vm add "$VM" --mac 02:00:00:00:61:99 --port tap --ifname "$TAP" >/dev/null || fail "vm add (conflict) refused"
V start "$DOM" >/dev/null 2>"$XV_TMP/refused.err" && fail "libvirt started the domain although the hook refused"
grep -q "exists with other settings: mac 02:00:00:00:61:99" "$XV_TMP/refused.err" ||
	fail "virsh start (hook refusing): $(cat "$XV_TMP/refused.err")"
V domstate "$DOM" | grep -q "shut off" || fail "domain state after a refused start: $(V domstate "$DOM")"
log "a refusing hook stops the start: $(grep -o 'xvnet-hook:.*' "$XV_TMP/refused.err" | head -1)"
# libvirt calls release after the failed start: the VM is not the domain's
vm_listed "$VM" || fail "the release after a refused start removed a VM that is not the domain's"
xvctl vm del "$VM" >/dev/null || fail "vm del (conflict) refused"
# an interface that is not xvnet's (no metadata, no xv- name) is left to
# libvirt: a transient domain on a tap nobody made does not start
NOTAP=$(xv_name lvno)
DOM2="${XV_PREFIX}dom2"
sed -e '/<metadata>/,/<\/metadata>/d' -e "s/$TAP/$NOTAP/" -e "s/<name>$DOM</<name>$DOM2</" \
	-e "s/<uuid>.*<\/uuid>//" "$XV_TMP/dom.xml" >"$XV_TMP/dom2.xml"
cleanup_add V destroy "$DOM2"
cleanup_add rm -f "/var/log/libvirt/qemu/$DOM2.log"
: >"$XV_TMP/hook.log"
V create "$XV_TMP/dom2.xml" >/dev/null 2>"$XV_TMP/notap.err" && fail "a domain on a missing tap started"
[ ! -s "$XV_TMP/hook.log" ] || fail "the hook acted on a non-xvnet interface: $(cat "$XV_TMP/hook.log")"
log "no xvnet interface, no tap: $(tr '\n' ' ' <"$XV_TMP/notap.err" | cut -c1-300)"

t0=$(date +%s%N)
V start "$DOM" >/dev/null 2>"$XV_TMP/start.err" ||
	fail "virsh start: $(cat "$XV_TMP/start.err"); hook: $(cat "$XV_TMP/hook.log")"
log "virsh start took $(elapsed_ms "$t0") ms; hook: $(cat "$XV_TMP/hook.log")"
grep -q "VM $VM added: tap $TAP mac $MAC queues 2" "$XV_TMP/hook.log" || fail "the hook did not add the VM: $(cat "$XV_TMP/hook.log")"
QPID=$(cat "/run/libvirt/qemu/$DOM.pid" 2>/dev/null)
[ -n "$QPID" ] || fail "no pid file for $DOM"
# libvirt opened the 2-queue tap itself and passed QEMU one fd per queue
netdev=$(tr '\0' '\n' <"/proc/$QPID/cmdline" | grep -m1 -E '"type":"tap"|^tap,')
log "libvirt's -netdev: $netdev"
grep -q multi_queue <(ip -d link show "$TAP") || fail "tap $TAP is not multi_queue"
xvctl vm show "$VM" | grep -q "port tap $TAP .*state up" ||
	fail "VM $VM: $(xvctl vm show "$VM" | head -1) (expected its tap up, held by QEMU)"
guest_wait_ready "$XV_TMP/guest.log" 90 "$QPID" || fail "the libvirt guest did not become ready"

d0=$(vm_queue_packets "$VM"); u0=$(xv_counter tx_uplink)
out=$(probe_from_wire "$GUEST_IP" -n $N -r 50 -t 3000 -m $N -i "$DOM") ||
	fail "expected $N echo replies from the libvirt guest: ${out:-no output}"
log "$out"
delivered=$(( $(vm_queue_packets "$VM") - d0 ))
uplinked=$(( $(xv_counter tx_uplink) - u0 ))
[ "$delivered" -ge $N ] || fail "nic_rx delivered only $delivered frames to the guest's tap"
[ "$uplinked" -ge $N ] || fail "vm_tx sent only $uplinked of the guest's frames out of the NIC"

# ---- 4. destroy, undefine: nothing left -----------------------------------------------
: >"$XV_TMP/hook.log"
V destroy "$DOM" >/dev/null || fail "virsh destroy failed"
wait_until 10 _xv_dead "$QPID" || fail "qemu $QPID still runs after virsh destroy"
wait_until 10 grep -q "VM $VM removed (tap $TAP)" "$XV_TMP/hook.log" ||
	fail "the hook's release did not remove the VM: $(cat "$XV_TMP/hook.log")"
V undefine "$DOM" >/dev/null || fail "virsh undefine failed"
V list --all --name | grep -qx "$DOM" && fail "domain $DOM still known to libvirt"
vm_listed "$VM" && fail "VM $VM still in xvnetctl vm list"
tap_exists && fail "tap $TAP still exists"
libvirt_stop
rm -f "/var/log/libvirt/qemu/$DOM.log" "/var/log/libvirt/qemu/$DOM2.log"
ls /var/log/libvirt/qemu/"$XV_PREFIX"* >/dev/null 2>&1 && fail "libvirt logs left: $(ls /var/log/libvirt/qemu/"$XV_PREFIX"*)"
pass "libvirt domain on an xvnet tap through the hook: $out; nic_rx delivered $delivered, vm_tx sent $uplinked; after destroy + undefine no VM, no tap, no domain, daemons stopped"
