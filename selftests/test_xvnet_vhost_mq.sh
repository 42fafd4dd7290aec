#!/usr/bin/env bash
# A multi-queue guest through the vhost-user back-end: a 4-queue xsk VM,
# xvnet-vhost serving 4 virtqueue pairs (one per virtual queue of the VM),
# QEMU with `queues=4` and `mq=on`, the guest running 4 queue pairs
# (`ethtool -L eth0 combined 4`).  UDP flows from the wire land on the
# guest's RX queue that the VM's RSS chose: per queue, the guest's own
# counters (`ethtool -S eth0`, rx_queue_N_packets) = the back-end's (frames
# put into RX queue N) = xvnet's per-queue delivery counters (the queue in
# each frame's metadata; test_xvnet_guest_mq and test_xvnet_xsk check those
# against the Toeplitz prediction), with the published key and the default
# indirection table, then after `rss set --weight 1,0,2,1`.  Then the guest
# echoes.  The VM has `queue-cpus 0,1`: the back-end runs a worker thread
# per queue pair, pair p pinned to CPU p mod 2 (the virtual RSS of the
# back-end).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-vhost
guest_require

MAC=$(guest_mac 2)
GUEST_IP=10.77.0.52
SOCK=$XV_TMP/vhost.sock
STATS=$XV_TMP/vhost.stats
GLOG=$XV_TMP/guest.log
FLOWS=200
PER_FLOW=5
# QEMU 7.2 under TCG crashes on a vhost-user NIC's MSI-X (test_xvnet_vhost)
export GUEST_DEVICE_OPTS=vectors=0

xv_topology
xvnetd_start
xvctl vm add vq4 --mac "$MAC" --port xsk --queues 4 --ifname "$(xv_name pvq)" \
	--ip "$GUEST_IP" --queue-cpus 0,1 || fail "vm add (4-queue xsk) refused"
bg_start "$XV_TMP/vhost.log" "$XV_BIN/xvnet-vhost" -s "$XVD_SOCK" --vm vq4 \
	--vhost-socket "$SOCK" --stats "$STATS"
wait_until 10 grep -q XVNET-VHOST-READY "$XV_TMP/vhost.log" ||
	fail "xvnet-vhost did not start: $(tail -3 "$XV_TMP/vhost.log")"
grep -q "4 queue pairs" "$XV_TMP/vhost.log" || fail "xvnet-vhost: $(head -1 "$XV_TMP/vhost.log")"
VHOST_PID=$BG_PID
# worker_ns: "p0 p1 p2 p3", each pair's worker's run time (ns); checks
# that pair p's worker may run on CPU p mod 2 only
worker_ns() {
	local p t c out=""
	for p in 0 1 2 3; do
		for t in /proc/"$VHOST_PID"/task/*; do
			[ "$(cat "$t/comm" 2>/dev/null)" = "xvnet-vq$p" ] || continue
			c=$(awk '/^Cpus_allowed_list/ { print $2 }' "$t/status")
			[ "$c" = $((p % 2)) ] || fail "xvnet-vq$p may run on CPUs $c, not $((p % 2))"
			out+="$(awk '{ print $1 }' "$t/schedstat") "
			continue 2
		done
		fail "no worker thread xvnet-vq$p: $(cat /proc/"$VHOST_PID"/task/*/comm | tr '\n' ' ')"
	done
	echo "$out"
}
W0=$(worker_ns) || exit 1

GUEST_QUEUES=4 GUEST_CTL=1 GUEST_ID=vq4 GUEST_VHOST=$SOCK guest_start "" "$MAC" \
	"$GUEST_IP/24" "$GLOG"
guest_wait_ready "$GLOG" 90 || fail "guest did not become ready"
guest_exec "$GLOG" 10 ethtool --version >/dev/null || skip "no ethtool in the guest (the host has none: make deps)"
guest_exec "$GLOG" 20 ethtool -L eth0 combined 4 || fail "ethtool -L eth0 combined 4 failed in the guest"

guest_rxq4() { guest_rxq "$GLOG" 4; }
vhost_rxq() { # -> "q0 q1 q2 q3": frames the back-end put into each RX queue
	awk '{ for (i = 1; i < NF; i += 2) if ($i ~ /^rxq[0-9]+$/) printf "%s ", $(i + 1) }' "$STATS"
}
xv_rxq() { vm_rxq vq4; }
# shellcheck disable=SC2317  # called through wait_until
got() { [ "$(nums_sum "$(nums_delta "$1" "$("$2")")")" -ge "$3" ]; }

total=$((FLOWS * PER_FLOW))
# round LABEL: FLOWS x PER_FLOW frames from the wire; per queue, the guest's
# counts = the back-end's = xvnet's; sets GD
round() {
	local g0 v0 x0 vd xd busy=0 n
	g0=$(guest_rxq4) || fail "$1: cannot read the guest's counters"
	v0=$(vhost_rxq); x0=$(xv_rxq)
	trafgen_from_wire --dst-mac "$MAC" --dst-ip "$GUEST_IP" --dport 9 --flows $FLOWS \
		--count $total --rate 5000 >"$XV_TMP/trafgen.json" || fail "$1: trafgen failed"
	wait_until 10 got "$x0" xv_rxq $total || fail "$1: xvnet delivered $(nums_delta "$x0" "$(xv_rxq)") of $total"
	wait_until 10 got "$v0" vhost_rxq $total ||
		fail "$1: the back-end put $(nums_delta "$v0" "$(vhost_rxq)") of $total into the guest ($(cat "$STATS"))"
	wait_until 30 got "$g0" guest_rxq4 $total ||
		fail "$1: the guest's queues received $(nums_delta "$g0" "$(guest_rxq4)") of $total"
	GD=$(nums_delta "$g0" "$(guest_rxq4)"); vd=$(nums_delta "$v0" "$(vhost_rxq)"); xd=$(nums_delta "$x0" "$(xv_rxq)")
	log "$1: per queue: guest $GD, back-end $vd, xvnet $xd"
	if [ "$GD" != "$vd" ] || [ "$vd" != "$xd" ]; then
		fail "$1: the guest's queues did not receive what RSS chose: guest $GD, back-end $vd, xvnet $xd"
	fi
	for n in $GD; do [ "$n" -gt 0 ] && busy=$((busy + 1)); done
	[ $busy -ge "$2" ] || fail "$1: only $busy queues used: $GD"
}
# the published Microsoft key, not the VM's random one: with a random key
# the 2 low hash bits of these 200 flows (source ports 1024-1223) can be the
# same for all (when the 9 key bits that map those port bits there are 0)
MS_KEY=6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa
xvctl rss set vq4 --key $MS_KEY >/dev/null || fail "rss set vq4 --key refused"
round "default table" 3
r_default=$GD
# another indirection table: queue 1 gets nothing, queue 2 twice its share
xvctl rss set vq4 --weight 1,0,2,1 >/dev/null || fail "rss set vq4 refused"
round "--weight 1,0,2,1" 3
r_weight=$GD
case $r_weight in *" 0 "*) ;; *) fail "--weight 1,0,2,1: queue 1 still received: $r_weight" ;; esac
out=$(probe_from_wire "$GUEST_IP" -n 10 -r 50 -t 3000 -m 10 -i vq4) ||
	fail "echo from the 4-queue guest: ${out:-no output}"
# (the affinity is checked again; run times only logged: an idle worker
# also wakes every 100 ms)
WD=$(nums_delta "$W0" "$(worker_ns)") || exit 1
log "workers' run time per pair (ns, pairs 0-3 on CPUs 0 1 0 1): $WD"
pass "4-queue guest through xvnet-vhost: each RX queue got the flows RSS chose ($FLOWS flows x $PER_FLOW, guest = back-end = xvnet per queue: $r_default; after rss set --weight 1,0,2,1: $r_weight), each pair's work in its own thread on CPU p mod 2 (queue-cpus 0,1); $out"
