#!/usr/bin/env bash
# A real guest on an xsk VM through the vhost-user back-end: xvnetd makes
# the VM's AF_XDP sockets, xvnet-vhost takes them (xsk.get) and serves a
# vhost-user-net socket, QEMU (TCG, shared memfd RAM) boots the test guest
# on it.
#  - UDP from the wire reaches the guest's application through nic_rx ->
#    AF_XDP -> the guest's RX virtqueue (ARP through the side socket), its
#    replies go guest TX virtqueue -> side socket -> vm_tx -> NIC;
#  - UDP from another VM (a veth VM on the same host: vm_tx switches it to
#    the xsk VM's side socket, in memory) and back;
#  - TCP, 4 MiB each way between the wire and the guest, every byte counted;
#  - TCP, 4 MiB each way between another VM (v2's namespace) and the guest;
#  - the back-end restarted under the running guest (QEMU reconnect=1; the
#    new back-end adopts the frames the old one left on the rings): echoes;
#  - QEMU restarted on the same back-end (the VM's sockets are kept): echoes.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-vhost
guest_require

MAC=$(guest_mac 1)
GUEST_IP=10.77.0.51
SOCK=$XV_TMP/vhost.sock
STATS=$XV_TMP/vhost.stats
N=20
# Debian 12's QEMU 7.2 under TCG crashes in vhost_net_start ->
# msix_set_vector_notifiers when the guest enables a vhost-user NIC's MSI-X
# vectors (docs/vhost-user.md): the NIC uses INTx here
export GUEST_DEVICE_OPTS=vectors=0

TPORT=5201
TBYTES=4194304
TS="$GUEST_DIR/tcp_stream"
[ -x "$TS" ] || fail "no $TS (selftests/guest/build-guest.sh builds it)"
export GUEST_TCP_SERVER=$TPORT GUEST_CTL=1

xv_topology
xvnetd_start
xvctl vm add vg1 --mac "$MAC" --port xsk --ifname "$(xv_name pvg)" --ip "$GUEST_IP" ||
	fail "vm add (xsk) refused"
V2_IP=10.77.0.53/24
vm_ns_add v2 02:00:00:00:77:02 $V2_IP

# vhost_start: xvnet-vhost for vg1 on $SOCK; sets VHOST_PID
vhost_start() {
	bg_start "$XV_TMP/vhost.log" "$XV_BIN/xvnet-vhost" -s "$XVD_SOCK" --vm vg1 \
		--vhost-socket "$SOCK" --stats "$STATS"
	VHOST_PID=$BG_PID
	wait_until 10 grep -q XVNET-VHOST-READY "$XV_TMP/vhost.log" ||
		fail "xvnet-vhost did not start: $(tail -3 "$XV_TMP/vhost.log")"
}
vhost_start

# vstat FIELD: a counter from the back-end's stats file
vstat() { awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' "$STATS"; }

# boot WHAT: boot the guest on the back-end; GLOG is its serial log
boot() {
	GLOG=$XV_TMP/guest-$1.log
	GUEST_ID=vg1 GUEST_VHOST=$SOCK guest_start "" "$MAC" "$GUEST_IP/24" "$GLOG"
	guest_wait_ready "$GLOG" 90 || fail "$1: guest did not become ready"
}

# echo_from_wire WHAT: N UDP round trips, counted on every hop
echo_from_wire() {
	local what=$1 out rx0 tx0 d0 u0 rx tx delivered uplinked
	rx0=$(vstat rx); tx0=$(vstat tx); d0=$(vm_queue_packets vg1); u0=$(xv_counter tx_uplink)
	out=$(probe_from_wire "$GUEST_IP" -n $N -r 50 -t 3000 -m $N -i vg1) || {
		cat "$STATS" >&2; tail -5 "$XV_TMP/vhost.log" >&2
		fail "$what: expected $N echo replies from the guest application: ${out:-no output}"
	}
	sleep 0.2       # the stats file is rewritten every 100 ms
	rx=$(( $(vstat rx) - rx0 )); tx=$(( $(vstat tx) - tx0 ))
	delivered=$(( $(vm_queue_packets vg1) - d0 ))
	uplinked=$(( $(xv_counter tx_uplink) - u0 ))
	[ "$rx" -ge $N ] || fail "$what: the back-end put only $rx frames into the guest"
	[ "$tx" -ge $N ] || fail "$what: the back-end took only $tx frames from the guest"
	[ "$delivered" -ge $N ] || fail "$what: nic_rx delivered only $delivered frames to the VM's sockets"
	[ "$uplinked" -ge $N ] || fail "$what: vm_tx sent only $uplinked of the guest's frames out of the NIC"
	log "$what: $out; back-end rx $rx tx $tx; nic_rx delivered $delivered, vm_tx uplinked $uplinked"
	RESULT="$out"
}

boot first
echo_from_wire first

# from another VM on the host: vm_tx switches it to vg1's side socket
out=$(ns_exec "$(vm_ns v2)" "$PROBE_BIN" -n $N -r 50 -t 3000 -m $N -i vg1 "$GUEST_IP" "$GUEST_PORT") ||
	fail "from VM v2: expected $N echo replies from the guest: ${out:-no output}"
log "from VM v2: $out"
FROM_VM=$out

# TCP both ways, every byte counted by the receiver
wait_until 10 grep -q TCP-STREAM-READY "$GLOG" || fail "tcp_stream -s did not start in the guest"
line=$(ip netns exec "$W" "$TS" -c "$GUEST_IP" "$TPORT" -b $TBYTES -t 60 | grep -m1 '^TCP-STREAM-TX ')
case $line in *status=ok*) ;; *) fail "TCP wire -> guest: ${line:-no result}" ;; esac
log "TCP wire -> guest: $line"
TCP_IN=$(echo "$line" | grep -o 'mbps=[0-9.]*')
bg_start "$XV_TMP/rx-w.log" ip netns exec "$W" "$TS" -s "$TPORT" -i 10
wait_until 5 grep -q TCP-STREAM-READY "$XV_TMP/rx-w.log" || fail "receiver in the wire namespace did not start"
# the guest hands over TCP super-frames (HOST_TSO4 negotiated: TSO on in
# its ethtool -k), which the back-end cuts into segments (tx_gso counts them)
tso=$(guest_exec "$GLOG" 30 "ethtool -k eth0" | grep -m1 '^tcp-segmentation-offload:')
case $tso in *": on"*) ;; *) fail "the guest has no TSO on the vhost-user NIC: ${tso:-no ethtool -k}" ;; esac
gso0=$(vstat tx_gso)
line=$(guest_exec "$GLOG" 90 "tcp_stream -c $WIRE_IP $TPORT -b $TBYTES -t 60" | grep -m1 '^TCP-STREAM-TX ')
case $line in *status=ok*) ;; *) fail "TCP guest -> wire: ${line:-no result}" ;; esac
sleep 0.2
GSO=$(( $(vstat tx_gso) - gso0 ))
[ "$GSO" -gt 0 ] || fail "TCP guest -> wire: no super-frame reached the back-end (TSO not used)"
log "TCP guest -> wire: $line; $GSO super-frames segmented by the back-end"
TCP_OUT=$(echo "$line" | grep -o 'mbps=[0-9.]*')

# TCP between another VM and the guest, both ways: v2 (a veth VM) -> vm_tx
# on its port -> vg1's side socket -> the guest, and the guest's super-frames
# -> the back-end -> side socket -> vm_tx -> v2's veth.  v2 sends MSS-sized
# frames: with vm_tx attached to its port, veth turns TSO off on the VM's
# end (ethtool -k: tcp-segmentation-offload off), so no super-frame meets
# vm_tx's redirect to the side socket.
V2NS=$(vm_ns v2)
line=$(ip netns exec "$V2NS" "$TS" -c "$GUEST_IP" "$TPORT" -b $TBYTES -t 60 | grep -m1 '^TCP-STREAM-TX ')
case $line in *status=ok*) ;; *)
	cat "$STATS" >&2; xvctl stats vg1 >&2; xvctl stats v2 >&2
	fail "TCP VM v2 -> guest: ${line:-no result}" ;;
esac
log "TCP VM v2 -> guest: $line"
TCP_V2IN=$(echo "$line" | grep -o 'mbps=[0-9.]*')
bg_start "$XV_TMP/rx-v2.log" ip netns exec "$V2NS" "$TS" -s "$TPORT" -i 10
wait_until 5 grep -q TCP-STREAM-READY "$XV_TMP/rx-v2.log" || fail "receiver in VM v2 did not start"
line=$(guest_exec "$GLOG" 90 "tcp_stream -c ${V2_IP%/*} $TPORT -b $TBYTES -t 60" | grep -m1 '^TCP-STREAM-TX ')
case $line in *status=ok*) ;; *)
	cat "$STATS" >&2; xvctl stats vg1 >&2; xvctl stats v2 >&2
	fail "TCP guest -> VM v2: ${line:-no result}" ;;
esac
log "TCP guest -> VM v2: $line"
TCP_V2OUT=$(echo "$line" | grep -o 'mbps=[0-9.]*')

# the back-end restarted under the running guest
proc_stop "$VHOST_PID"
vhost_start
wait_until 10 grep -q "connected 1" "$STATS" || fail "QEMU did not reconnect to the new back-end"
wait_until 20 probe_from_wire "$GUEST_IP" -n 1 -r 10 -t 500 -m 1 >/dev/null ||
	fail "the guest does not answer after the back-end restart"
echo_from_wire "back-end restarted"

# a VMM restart: the back-end and the VM's AF_XDP sockets stay
guest_stop "$GUEST_PID"
wait_until 5 grep -q "connected 0" "$STATS" || fail "the back-end did not see QEMU go"
boot restarted
echo_from_wire "QEMU restarted"
[ "$(vstat connections)" -ge 2 ] || fail "expected 2 connections, stats: $(cat "$STATS")"
proc_stop "$VHOST_PID"
pass "guest on an xsk VM through xvnet-vhost (vhost-user): from the wire $RESULT; from VM v2 $FROM_VM; TCP 4 MiB in ($TCP_IN) and out ($TCP_OUT, guest TSO: $GSO super-frames cut by the back-end); TCP 4 MiB from VM v2 ($TCP_V2IN) and to it ($TCP_V2OUT); again after a back-end restart and after a QEMU restart"
