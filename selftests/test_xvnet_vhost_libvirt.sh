#!/usr/bin/env bash
# libvirt boots the test guest on a vhost-user VM (`--port vhost-user`:
# xvnetd runs its xvnet-vhost back-end), as docs/vhost-user.md says: `<interface type='vhostuser'>` with
# `<source type='unix' path=SOCK mode='client'>` and the guest's RAM a
# shared memfd (`<memoryBacking>`), a QEMU (TCG) domain of a libvirtd this
# test starts (selftests/lib/libvirt.sh).  The guest answers UDP from the
# wire through nic_rx -> xvnet-vhost -> its virtqueues and back through
# vm_tx; `virsh destroy` ends the back-end's connection, the back-end stays.
# (test_xvnet_vhost runs a back-end started by hand, under plain QEMU.)
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"
# shellcheck source=selftests/lib/libvirt.sh
. "$(dirname "$0")/lib/libvirt.sh"

xvnet_require
require_bin xvnet-vhost
guest_require
libvirt_require

DOM="${XV_PREFIX}vdom"
MAC=$(guest_mac 9)
GUEST_IP=10.77.0.61
VM="${XV_PREFIX}lv"
N=20

xv_topology
xvnetd_start
SOCK=$(dirname "$XVD_SOCK")/$VM.vhost     # the default: the hook takes NAME from it
libvirt_hook_setup
# vh KEY: the back-end as xvnetd shows it (vm show -j: vhost, its counters)
vh() {
	xvctl -j vm show "$VM" | python3 -c '
import json, sys
v = json.load(sys.stdin)["vhost"]
print(v.get(sys.argv[1], v.get("counters", {}).get(sys.argv[1], -1)))' "$1"
}
# shellcheck disable=SC2317  # called through wait_until
connected() { [ "$(vh connected)" = "$1" ]; }

# Debian 12's QEMU 7.2 under TCG crashes on a vhost-user NIC's MSI-X
# (docs/vhost-user.md) and libvirt's XML has no switch for a NIC's vectors:
# -global through <qemu:commandline>.
cat >"$XV_TMP/dom.xml" <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$DOM</name>
  <metadata>
    <xvnet:ports xmlns:xvnet="urn:xvnet:libvirt:1">
      <xvnet:port socket="$SOCK" ifname="$(xv_name plv)">
        <xvnet:ip>$GUEST_IP</xvnet:ip>
      </xvnet:port>
    </xvnet:ports>
  </metadata>
  <memory unit='MiB'>256</memory>
  <memoryBacking>
    <source type='memfd'/>
    <access mode='shared'/>
  </memoryBacking>
  <vcpu>1</vcpu>
$(libvirt_guest_os "console=ttyS0 panic=-1 quiet xvnet.ip=$GUEST_IP/24 xvnet.id=$DOM xvnet.port=$GUEST_PORT")
  <devices>
$(libvirt_guest_devices "$XV_TMP/guest.log")
    <interface type='vhostuser'>
      <mac address='$MAC'/>
      <source type='unix' path='$SOCK' mode='client'>
        <reconnect enabled='yes' timeout='1'/>
      </source>
      <model type='virtio'/>
    </interface>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-global'/>
    <qemu:arg value='virtio-net-pci.vectors=0'/>
  </qemu:commandline>
</domain>
EOF

libvirt_start "$XV_TMP/hooks"
cleanup_add rm -f "/var/log/libvirt/qemu/$DOM.log"
cleanup_add V destroy "$DOM"

t0=$(date +%s%N)
V create "$XV_TMP/dom.xml" >/dev/null 2>"$XV_TMP/create.err" ||
	fail "virsh create: $(cat "$XV_TMP/create.err"); $(tail -3 "/var/log/libvirt/qemu/$DOM.log" 2>/dev/null)"
log "virsh create took $(elapsed_ms "$t0") ms"
QPID=$(cat "/run/libvirt/qemu/$DOM.pid" 2>/dev/null)
[ -n "$QPID" ] || fail "no pid file for $DOM"
log "libvirt's vhost-user: $(tr '\0' '\n' <"/proc/$QPID/cmdline" | grep -E 'vhost-user|memfd' | tr '\n' ' ')"
grep -q "VM $VM added: vhost-user $SOCK" "$XV_TMP/hook.log" ||
	fail "the hook did not add the VM: $(cat "$XV_TMP/hook.log")"
VHOST_PID=$(vh pid)
[ "${VHOST_PID:-0}" -gt 0 ] || fail "no back-end: $(xvctl -j vm show "$VM")"
guest_wait_ready "$XV_TMP/guest.log" 90 "$QPID" || fail "the libvirt guest did not become ready"
wait_until 2 connected 1 || fail "the back-end has no front-end: $(xvctl -j vm show "$VM")"

out=$(probe_from_wire "$GUEST_IP" -n $N -r 50 -t 3000 -m $N -i "$DOM") ||
	fail "expected $N echo replies from the libvirt guest: ${out:-no output}"
log "$out"
sleep 0.2       # the back-end writes its counters every 100 ms
rx=$(vh rx)
[ "${rx:-0}" -ge $N ] || fail "the back-end put only ${rx:-0} frames into the guest"

V destroy "$DOM" >/dev/null || fail "virsh destroy failed"
wait_until 10 _xv_dead "$QPID" || fail "qemu $QPID still runs after virsh destroy"
# the hook's release removes the VM: its back-end and socket go with it
wait_until 10 grep -q "VM $VM removed (vhost-user $SOCK)" "$XV_TMP/hook.log" ||
	fail "the hook did not remove the VM: $(cat "$XV_TMP/hook.log")"
xvctl vm show "$VM" >/dev/null 2>&1 && fail "VM $VM still there after the release"
wait_until 3 _xv_dead "$VHOST_PID" || fail "back-end $VHOST_PID outlived its VM"
[ -e "$SOCK" ] && fail "socket $SOCK left after the release"
libvirt_stop
pass "libvirt <interface type='vhostuser'> through the hook: prepare added $VM (--port vhost-user, back-end run by xvnetd), $out, back-end rx $rx; release removed the VM, back-end and socket"
