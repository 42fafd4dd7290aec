# shellcheck shell=bash
# A libvirtd of the test's own (source after common.sh):
#
#   libvirt_require             skip unless libvirt is installed and no
#                               libvirtd/virtqemud runs already
#   libvirt_start HOOKS_DIR     start virtlogd (unless one runs) and a
#                               libvirtd; sets LIBVIRTD, OWN_VIRTLOGD
#   libvirt_stop                stop the daemons libvirt_start started
#   V ARGS...                   virsh -c qemu:///system
#   libvirt_guest_os CMDLINE    XML: the test guest's kernel boot (GUEST_DIR),
#                               no restart, QEMU as root, no relabelling
#   libvirt_guest_devices LOG   XML inside <devices>: QEMU, the serial
#                               console into LOG, no USB, no balloon
#   libvirt_tap_domain DOM VM TAP MAC IP LOG [QUEUES]
#                               XML: the test guest on one xvnet tap
#   libvirt_start_peer HOOKS_DIR, PV ARGS..., libvirt_stop_peer
#                               a second libvirtd (another "host")
#
# PID 1 is no systemd here: the daemons are started by hand and stopped by
# PID.  libvirtd runs in a private mount namespace in which the hook
# directory (HOOKS_DIR), qemu.conf (Debian's, with QEMU run as root: as
# libvirt-qemu, libvirt finds /dev/kvm (0600 root here) unusable after its
# probe found KVM, so it re-probes QEMU's capabilities (4 s each) on every
# lookup: virsh define took 44 s) and the network/domain autostart
# directories are this test's own (bind mounts): nothing is written to
# /etc/libvirt and nothing is left to restore, even after a SIGKILL, and no
# autostarted network (virbr0, dnsmasq) comes up.  libvirt reads the hooks
# once, at start: with a libvirtd already running the test cannot install
# its hook there and skips (it never touches a daemon it did not start).

[ -n "${XV_LIBVIRT_SH:-}" ] && return 0
XV_LIBVIRT_SH=1

V() { virsh -q -c qemu:///system "$@"; }

libvirt_require() {
	local d p
	require_cmd virsh libvirtd virtlogd unshare
	for d in libvirtd virtqemud; do
		p=$(pgrep -x "$d" | head -1)
		[ -z "$p" ] || skip "a $d (pid $p) already runs: libvirt reads its hooks at start, this test does not touch a daemon it did not start"
	done
}

libvirt_start() {
	local hooks=$1 t0 d f
	mkdir -p "$XV_TMP/empty-net-autostart" "$XV_TMP/empty-dom-autostart"
	{ cat /etc/libvirt/qemu.conf; printf 'user = "+0"\ngroup = "+0"\n'; } >"$XV_TMP/qemu.conf"
	OWN_VIRTLOGD=
	if ! pgrep -x virtlogd >/dev/null; then
		bg_start "$XV_TMP/virtlogd.log" virtlogd -p "$XV_TMP/virtlogd.pid"
		OWN_VIRTLOGD=$BG_PID
		wait_until 10 test -S /run/libvirt/virtlogd-sock ||
			fail "virtlogd did not start: $(cat "$XV_TMP/virtlogd.log")"
	fi
	bg_start "$XV_TMP/libvirtd.log" unshare -m --propagation private sh -c '
		mount --bind "$2" /etc/libvirt/hooks &&
		mount --bind "$1/qemu.conf" /etc/libvirt/qemu.conf &&
		mount --bind "$1/empty-net-autostart" /etc/libvirt/qemu/networks/autostart &&
		{ [ ! -d /etc/libvirt/qemu/autostart ] || mount --bind "$1/empty-dom-autostart" /etc/libvirt/qemu/autostart; } &&
		exec libvirtd -p "$1/libvirtd.pid"' sh "$XV_TMP" "$hooks"
	LIBVIRTD=$BG_PID
	t0=$(date +%s%N)
	wait_until 30 V version || fail "libvirtd did not start: $(tail -5 "$XV_TMP/libvirtd.log")"
	log "libvirtd up after $(elapsed_ms "$t0") ms: pid $LIBVIRTD ($(V version | grep -i 'running hypervisor' | sed 's/ *Running hypervisor: *//'))${OWN_VIRTLOGD:+, virtlogd pid $OWN_VIRTLOGD}"
	# domains of a test that was killed (named xt<its pid in hex>_...):
	# libvirt keeps a defined one on disk, and a running one's QEMU
	# outlives libvirtd
	for d in $(V list --all --name | grep -E '^xt[0-9a-f]+_'); do
		kill -0 "$((16#$(echo "$d" | sed -E 's/^xt([0-9a-f]+)_.*/\1/')))" 2>/dev/null && continue
		log "removing the stale domain $d"
		V destroy "$d" >/dev/null 2>&1
		V undefine "$d" >/dev/null 2>&1
	done
	for f in /var/log/libvirt/qemu/xt*_*.log; do
		[ -e "$f" ] || continue
		d=${f##*/}
		kill -0 "$((16#$(echo "$d" | sed -E 's/^xt([0-9a-f]+)_.*/\1/')))" 2>/dev/null || rm -f "$f"
	done
}

# libvirt_start_peer HOOKS_DIR: a second libvirtd, as another host would
# run it, for a migration between the two on this machine.  libvirt refuses
# to migrate to "the same host" by host UUID (libvirtd.conf host_uuid): this
# one has its own, and its own state in its private mount namespace
# (/run/libvirt, /var/lib/libvirt, /var/log/libvirt, /etc/libvirt/qemu: the
# first daemon's definitions are not its own; QEMU's capabilities cache is
# shared, the same QEMU, so it does not probe QEMU again), its
# socket in $XV_TMP/peer (PEER_URI), QEMU's output to a file (no virtlogd
# in its /run/libvirt) and no cgroups (both daemons would make the same
# qemu-1-NAME group).  Sets PEER_LIBVIRTD, PEER_URI; PV ARGS... is virsh on it.
libvirt_start_peer() {
	local hooks=$1 d=$XV_TMP/peer t0
	mkdir -p "$d/sock" "$d/run" "$d/lib" "$d/log/qemu" "$d/etc-qemu/networks/autostart"
	{ cat /etc/libvirt/qemu.conf
	  printf 'user = "+0"\ngroup = "+0"\nstdio_handler = "file"\ncgroup_controllers = [ ]\n'
	} >"$d/qemu.conf"
	printf 'unix_sock_dir = "%s"\nhost_uuid = "%s"\n' "$d/sock" \
		"$(python3 -c 'import uuid; print(uuid.uuid4())')" >"$d/libvirtd.conf"
	bg_start "$XV_TMP/peer-libvirtd.log" unshare -m --propagation private sh -c '
		mount --bind "$2" /etc/libvirt/hooks &&
		mount --bind "$1/qemu.conf" /etc/libvirt/qemu.conf &&
		mount --bind "$1/etc-qemu" /etc/libvirt/qemu &&
		mount --bind "$1/run" /run/libvirt &&
		mount --bind "$1/lib" /var/lib/libvirt &&
		mount --bind "$1/log" /var/log/libvirt &&
		exec libvirtd -f "$1/libvirtd.conf" -p "$1/libvirtd.pid"' sh "$d" "$hooks"
	PEER_LIBVIRTD=$BG_PID
	PEER_URI="qemu+unix:///system?socket=$d/sock/libvirt-sock"
	t0=$(date +%s%N)
	wait_until 30 PV version || fail "the peer libvirtd did not start: $(tail -5 "$XV_TMP/peer-libvirtd.log")"
	log "peer libvirtd up after $(elapsed_ms "$t0") ms: pid $PEER_LIBVIRTD, $PEER_URI"
}

PV() { virsh -q -c "$PEER_URI" "$@"; }

libvirt_stop_peer() {
	proc_stop "$PEER_LIBVIRTD"
	_xv_dead "$PEER_LIBVIRTD" || fail "the peer libvirtd $PEER_LIBVIRTD still runs"
}

libvirt_stop() {
	proc_stop "$LIBVIRTD"
	_xv_dead "$LIBVIRTD" || fail "libvirtd $LIBVIRTD still runs"
	if [ -n "$OWN_VIRTLOGD" ]; then
		proc_stop "$OWN_VIRTLOGD"
		_xv_dead "$OWN_VIRTLOGD" || fail "virtlogd $OWN_VIRTLOGD still runs"
	fi
}

# The kernel, initramfs and serial log stay this test's files: QEMU runs as
# root without relabelling (a real domain runs as libvirt-qemu: docs/vmm.md).
libvirt_guest_os() {
	cat <<EOF
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST_DIR/vmlinuz</kernel>
    <initrd>$GUEST_DIR/initramfs.gz</initrd>
    <cmdline>$1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>
EOF
}

libvirt_guest_devices() {
	cat <<EOF
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'>
      <source path='$1'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
EOF
}

# libvirt_tap_domain DOM VM TAP MAC IP LOG [QUEUES]: XML of a TCG domain of
# the test guest (GUEST_DIR, answering on GUEST_PORT with id DOM) with one
# xvnet tap interface, the VM's name and address in the hook's metadata
libvirt_tap_domain() {
	local dom=$1 vm=$2 tap=$3 mac=$4 ip=$5 log=$6 queues=${7:-1} drv=""
	[ "$queues" -gt 1 ] && drv="
      <driver name='qemu' queues='$queues'/>"
	cat <<EOF
<domain type='qemu'>
  <name>$dom</name>
  <metadata>
    <xvnet:ports xmlns:xvnet="urn:xvnet:libvirt:1">
      <xvnet:port dev="$tap" name="$vm">
        <xvnet:ip>$ip</xvnet:ip>
      </xvnet:port>
    </xvnet:ports>
  </metadata>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
$(libvirt_guest_os "console=ttyS0 panic=-1 quiet xvnet.ip=$ip/24 xvnet.id=$dom xvnet.port=$GUEST_PORT")
  <devices>
$(libvirt_guest_devices "$log")
    <interface type='ethernet'>
      <mac address='$mac'/>
      <target dev='$tap' managed='no'/>
      <model type='virtio'/>$drv
    </interface>
  </devices>
</domain>
EOF
}

# libvirt_hook_setup: the shipped hook (scripts/libvirt-hook-qemu) as
# $XV_TMP/hooks/qemu for this test's libvirtd (libvirt_start "$XV_TMP/hooks"),
# configured for this test's xvnetd; sets HOOK and HOOK_CONF, the hook logs
# to $XV_TMP/hook.log
libvirt_hook_setup() {
	HOOK="$XV_ROOT/scripts/libvirt-hook-qemu"
	HOOK_CONF="$XV_TMP/libvirt-hook.conf"
	cat >"$HOOK_CONF" <<EOF
# as /etc/xvnet/libvirt-hook.conf would say
socket = $XVD_SOCK
xvnetctl = $XV_BIN/xvnetctl
log = $XV_TMP/hook.log
EOF
	mkdir -p "$XV_TMP/hooks"
	cat >"$XV_TMP/hooks/qemu" <<EOF
#!/bin/sh
# /etc/libvirt/hooks/qemu for this test's libvirtd only
XVNET_HOOK_CONF=$HOOK_CONF exec $HOOK "\$@"
EOF
	chmod 755 "$XV_TMP/hooks/qemu"
}
