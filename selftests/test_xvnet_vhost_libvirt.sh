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
SOCK=$XV_TMP/vhost.sock
N=20

xv_topology
xvnetd_start
xvctl vm add lv1 --mac "$MAC" --port vhost-user --vhost-socket "$SOCK" \
	--ifname "$(xv_name plv)" --ip "$GUEST_IP" || fail "vm add (vhost-user) refused"
# vh KEY: the back-end as xvnetd shows it (vm show -j: vhost, its counters)
vh() {
	xvctl -j vm show lv1 | python3 -c '
import json, sys
v = json.load(sys.stdin)["vhost"]
print(v.get(sys.argv[1], v.get("counters", {}).get(sys.argv[1], -1)))' "$1"
}
# shellcheck disable=SC2317  # called through wait_until
connected() { [ "$(vh connected)" = "$1" ]; }
wait_until 10 test -S "$SOCK" || fail "xvnetd's back-end does not listen: $(xvctl -j vm show lv1)"
VHOST_PID=$(vh pid)

# Debian 12's QEMU 7.2 under TCG crashes on a vhost-user NIC's MSI-X
# (docs/vhost-user.md) and libvirt's XML has no switch for a NIC's vectors:
# -global through <qemu:commandline>.
cat >"$XV_TMP/dom.xml" <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$DOM</name>
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

mkdir -p "$XV_TMP/hooks"
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
guest_wait_ready "$XV_TMP/guest.log" 90 "$QPID" || fail "the libvirt guest did not become ready"
wait_until 2 connected 1 || fail "the back-end has no front-end: $(xvctl -j vm show lv1)"

out=$(probe_from_wire "$GUEST_IP" -n $N -r 50 -t 3000 -m $N -i "$DOM") ||
	fail "expected $N echo replies from the libvirt guest: ${out:-no output}"
log "$out"
sleep 0.2       # the back-end writes its counters every 100 ms
rx=$(vh rx)
[ "${rx:-0}" -ge $N ] || fail "the back-end put only ${rx:-0} frames into the guest"

V destroy "$DOM" >/dev/null || fail "virsh destroy failed"
wait_until 10 _xv_dead "$QPID" || fail "qemu $QPID still runs after virsh destroy"
wait_until 5 connected 0 || fail "the back-end did not see QEMU go: $(xvctl -j vm show lv1)"
[ "$(vh pid)" = "$VHOST_PID" ] || fail "xvnet-vhost exited with the domain: $(xvctl -j vm show lv1)"
libvirt_stop
pass "libvirt <interface type='vhostuser'> on a vhost-user VM (back-end run by xvnetd): $out; back-end rx $rx; after destroy the back-end waits for the next VMM"
