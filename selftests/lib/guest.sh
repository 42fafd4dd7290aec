# shellcheck shell=bash
# Real QEMU guests for the selftests (source after common.sh).
#
#   guest_start TAP MAC IP/PREFIX LOGFILE   boot a guest on an existing tap
#   guest_wait_ready LOGFILE TIMEOUT_S      wait for its udp_echo to be bound
#   guest_probe NS IP [udp_probe options]   UDP round trips from namespace NS
#   guest_exec LOGFILE TIMEOUT_S CMD        run CMD in a guest started with
#                                           GUEST_CTL=1; its output on stdout
#   guest_stop [PID...]                     stop guests (default: all)
#   guest_rxq LOGFILE N                     "q0 q1 ...": the guest's
#                                           rx_queue_N_packets (ethtool -S,
#                                           GUEST_CTL=1 guests), N queues
#
# The guest (selftests/guest/build-guest.sh, built on first use into
# build/guest/) is a Debian 6.1 cloud kernel with a busybox initramfs: eth0
# gets IP/PREFIX and udp_echo answers UDP port $GUEST_PORT with
# "XVNET-ECHO <id> " + payload.  Under TCG a guest boots in a few seconds and
# receives ~50k small packets/s at most: pace probes at <= 20k pps.
#
# Optional environment, read by guest_start:
#   GUEST_ID      id in the echo replies (default g<index>)
#   GUEST_PORT    udp_echo port (default 7777)
#   GUEST_QUEUES  N > 1: multi-queue virtio-net (the tap must be multi_queue,
#                 e.g. TAP_MQ=1 tap_create).  The guest driver enables
#                 min(N, vCPUs) queue pairs: set GUEST_SMP too to use all N.
#   GUEST_SMP     vCPUs (default 1; TCG runs one host thread per vCPU)
#   GUEST_VLAN    addresses on eth0.VLAN in the guest (trunk port)
#   GUEST_IP6     IPv6 ADDR/PREFIX for the guest
#   GUEST_GW      IPv4 default gateway in the guest
#   GUEST_MTU     eth0 MTU in the guest
#   GUEST_MEM     MiB (default 256; the guest gets 8 KiB more, see guest_start)
#   GUEST_TCP_SERVER  PORT: the guest also runs `tcp_stream -s PORT`; its
#                 TCP-STREAM-READY/-RX lines appear on the serial log
#   GUEST_CTL     1: a second serial port (ttyS1) on the host pipe
#                 LOGFILE.ctl.in/.out, read by the guest's init: guest_exec
#   GUEST_NICE    N: run QEMU at this niceness (TCG is CPU heavy; the
#                 machine is shared)
#   GUEST_QEMU_ARGS  more QEMU arguments, split on blanks (a monitor
#                 socket, -incoming for a migration's destination)
#   GUEST_DEVICE_OPTS  more virtio-net-pci properties (e.g. vectors=0)
#   GUEST_VHOST   PATH: the NIC is a vhost-user-net device whose back-end
#                 listens on PATH (xvnet-vhost); the TAP argument is then
#                 unused.  Guest RAM is a shared memfd, as vhost-user needs;
#                 QEMU reconnects within a second if the back-end restarts.
#   GUEST_SHARED_MEM  1: guest RAM is that shared memfd with a tap NIC too
#                 (a migration between a vhost-user and a tap QEMU needs
#                 the same RAM layout on both)

[ -n "${XV_GUEST_SH:-}" ] && return 0
XV_GUEST_SH=1

GUEST_DIR="$XV_BUILD/guest"
GUEST_PROBE="$GUEST_DIR/udp_probe"
GUEST_PORT=${GUEST_PORT:-7777}
GUEST_PIDS=()
GUEST_PID=
_XV_GUEST_N=0

# guest_require: skip unless this machine can run a guest; build it if needed
# (fails the test when the build fails).
guest_require() {
	require_root
	require_cmd qemu-system-x86_64 ip
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	guest_build
}

guest_build() {
	# build-guest.sh is cached (about 50 ms when nothing changed)
	local t0 force=(); t0=$(date +%s%N)
	[ "${GUEST_REBUILD:-0}" = 1 ] && force=(--force)
	BUILD="$XV_BUILD" bash "$XV_ROOT/selftests/guest/build-guest.sh" "${force[@]}" \
		>"$XV_TMP/build-guest.log" 2>&1 || {
		cat "$XV_TMP/build-guest.log" >&2
		fail "guest build failed (selftests/guest/build-guest.sh)"
	}
	grep -q '^build-guest: ' "$XV_TMP/build-guest.log" &&
		log "guest built in $(elapsed_ms "$t0") ms"
	return 0
}

# guest_mac IDX: a locally administered unicast MAC unique to this test.
guest_mac() {
	printf '52:54:%02x:%02x:%02x:%02x\n' $(( ($$ >> 16) & 255 )) $(( ($$ >> 8) & 255 )) \
		$(( $$ & 255 )) $(( ${1:-0} & 255 ))
}

# guest_start TAP MAC IP/PREFIX LOGFILE: boot a guest whose virtio-net NIC is
# the existing tap TAP (qemu opens it by name; it is not created or deleted
# here).  Returns at once; sets GUEST_PID.  Stopped at exit.
guest_start() {
	local tap=$1 mac=$2 ip=$3 logf=$4
	local id=${GUEST_ID:-g$_XV_GUEST_N}
	local q=${GUEST_QUEUES:-1}
	local netdev="tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off"
	local device="virtio-net-pci,netdev=n0,mac=$mac${GUEST_DEVICE_OPTS:+,$GUEST_DEVICE_OPTS}"
	local append="console=ttyS0 panic=-1 quiet xvnet.ip=$ip xvnet.id=$id xvnet.port=$GUEST_PORT"

	local mem=()
	# 8 KiB more than GUEST_MEM: QEMU 7.2 under TCG loses guest stores in a
	# live migration when the RAM block is a whole number of 256 KiB: its
	# dirty bitmap's fast path for such a block clears the bits without
	# resetting the TCG TLB's dirty tracking, so stores through TLB entries
	# made before the clear mark nothing and their pages are not sent again
	# (kvm-unit-tests has a reproducer for such lost dirty bits; which QEMU
	# release resets it there I did not check).  The destination's guest crashed
	# within a second (docs/vhost-user.md).  Any other size takes the page
	# by page path, which resets it; QEMU rounds the size to 8 KiB.
	local ram=$(( ${GUEST_MEM:-256} * 1024 + 8 ))
	if [ -n "${GUEST_VHOST:-}" ] || [ "${GUEST_SHARED_MEM:-0}" = 1 ]; then
		# shellcheck disable=SC2054  # commas inside QEMU option values
		mem=(-object "memory-backend-memfd,id=mem,size=${ram}k,share=on"
			-numa node,memdev=mem)
	fi
	if [ -n "${GUEST_VHOST:-}" ]; then
		netdev="vhost-user,id=n0,chardev=c0"
		mem+=(-chardev "socket,id=c0,path=$GUEST_VHOST,reconnect=1")
	fi
	[ -s "$GUEST_DIR/vmlinuz" ] || guest_build
	if [ "$q" -gt 1 ]; then
		netdev+=",queues=$q"
		device+=",mq=on"
		case ",${GUEST_DEVICE_OPTS:-}," in
		*,vectors=*) ;;
		*) device+=",vectors=$((2 * q + 2))" ;;
		esac
	fi
	[ -n "${GUEST_VLAN:-}" ] && append+=" xvnet.vlan=$GUEST_VLAN"
	[ -n "${GUEST_IP6:-}" ] && append+=" xvnet.ip6=$GUEST_IP6"
	[ -n "${GUEST_GW:-}" ] && append+=" xvnet.gw=$GUEST_GW"
	[ -n "${GUEST_MTU:-}" ] && append+=" xvnet.mtu=$GUEST_MTU"
	[ -n "${GUEST_TCP_SERVER:-}" ] && append+=" xvnet.tcp=$GUEST_TCP_SERVER"
	local ctl=() extra=()
	read -r -a extra <<<"${GUEST_QEMU_ARGS:-}"
	rm -f "$logf" "$logf.ctl.in" "$logf.ctl.out"
	if [ "${GUEST_CTL:-0}" = 1 ]; then
		# QEMU's pipe chardev opens PATH.in (host -> guest) and PATH.out
		# (guest -> host), both O_RDWR: writing into .in never blocks on
		# a missing reader.  The guest echoes nothing back (stty -echo)
		# and prints its results on the console; .out stays unread.
		mkfifo "$logf.ctl.in" "$logf.ctl.out" || fail "mkfifo $logf.ctl.*"
		ctl=(-serial "pipe:$logf.ctl")
		append+=" xvnet.ctl=ttyS1"
	fi
	BG_NICE=${GUEST_NICE:-} bg_start "$logf.qemu" qemu-system-x86_64 "${extra[@]}" -accel tcg -m "${ram}k" -smp "${GUEST_SMP:-1}" \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$logf" "${ctl[@]}" \
		-kernel "$GUEST_DIR/vmlinuz" -initrd "$GUEST_DIR/initramfs.gz" \
		-append "$append" "${mem[@]}" \
		-netdev "$netdev" -device "$device"
	GUEST_PID=$BG_PID
	GUEST_PIDS+=("$GUEST_PID")
	_XV_GUEST_N=$((_XV_GUEST_N + 1))
	local nic="tap $tap"
	[ -n "${GUEST_VHOST:-}" ] && nic="vhost-user $GUEST_VHOST"
	log "guest $id: qemu pid $GUEST_PID $nic mac $mac ip $ip log $logf"
}

# guest_wait_ready LOGFILE TIMEOUT_S [PID]: wait for XVNET-GUEST-READY on the
# serial log.  Returns 1 (with the log's tail on stderr) on timeout, guest
# error, kernel panic or QEMU exit.
guest_wait_ready() {
	local logf=$1 timeout=$2 pid=${3:-$GUEST_PID}
	local t0; t0=$(date +%s%N)
	local deadline=$(( t0 + ${timeout%.*} * 1000000000 ))
	local why=""
	while :; do
		if grep -q XVNET-GUEST-READY "$logf" 2>/dev/null; then
			log "guest ready after $(elapsed_ms "$t0") ms ($logf)"
			return 0
		fi
		if grep -qE 'XVNET-GUEST-ERROR|Kernel panic' "$logf" 2>/dev/null; then
			why="guest error"; break
		fi
		if [ -n "$pid" ] && _xv_dead "$pid"; then
			why="qemu exited"; break
		fi
		if [ "$(date +%s%N)" -ge "$deadline" ]; then
			why="timeout ${timeout}s"; break
		fi
		sleep 0.1
	done
	{
		echo "guest_wait_ready: $why; serial log $logf:"
		tail -n 30 "$logf" 2>/dev/null | sed 's/^/  | /'
		echo "qemu output:"
		tail -n 10 "$logf.qemu" 2>/dev/null | sed 's/^/  | /'
	} >&2
	return 1
}

# guest_oops LOGFILE: the first line of a kernel crash on the guest's serial
# log (status 1 when there is none)
guest_oops() {
	grep -m1 -aE 'Kernel panic|BUG: |Oops: |general protection fault' "$1" 2>/dev/null
}

# guest_migration_crash TAG LOGFILE: fail the test, with the crash's first
# line, when the guest's kernel crashed on a live migration's destination
# (its console LOGFILE, printed).  Returns when there is no crash.  Seen
# with QEMU 7.2's TCG losing stores in a migration (guest_start's RAM size);
# with that avoided, a crash there would be a page the migration lost.
guest_migration_crash() {
	local oops
	oops=$(guest_oops "$2") || return 0
	echo "--- $2 (the destination's console):" >&2
	tail -n 60 "$2" >&2
	fail "$1: the guest's kernel crashed on the destination after the migration: $oops"
}

# guest_probe NS IP [udp_probe options]: send UDP to udp_echo at IP from
# namespace NS; prints udp_probe's result line, returns its status (0 when
# replies >= -m, default 1).  Defaults: -n 10 -r 100 -t 2000.
guest_probe() {
	local ns=$1 ip=$2; shift 2
	ns_exec "$ns" "$GUEST_PROBE" "$@" "$ip" "$GUEST_PORT"
}

# guest_exec LOGFILE TIMEOUT_S CMD...: run CMD (one shell line, joined by
# spaces) in the guest whose serial log is LOGFILE (started with
# GUEST_CTL=1), wait up to TIMEOUT_S for it to finish, print its output
# (stdout and stderr) and return its exit status; 124 on timeout.  Commands
# run one after the other in the guest, in the order sent.  Callable in
# $(...): the command's id is made from the clock, not from a counter a
# subshell could not advance.
guest_exec() {
	local logf=$1 timeout=$2; shift 2
	local id rc
	[ -p "$logf.ctl.in" ] || fail "guest_exec: $logf was not started with GUEST_CTL=1"
	id="c$(date +%s%N)$RANDOM"
	printf '%s %s\n' "$id" "$*" >"$logf.ctl.in"
	if ! wait_until "$timeout" grep -q "^XVNET-CMD-DONE $id rc=" "$logf"; then
		log "guest_exec: no answer to '$*' within ${timeout}s ($logf)"
		sed -n "s/^XVNET-OUT $id //p" "$logf" | tr -d '\r'
		return 124
	fi
	# the console ends lines with CR LF
	sed -n "s/^XVNET-OUT $id //p" "$logf" | tr -d '\r'
	rc=$(sed -n "s/^XVNET-CMD-DONE $id rc=\([0-9]*\).*/\1/p" "$logf" | head -1)
	return "${rc:-1}"
}

# guest_stop [PID...]: stop the given guests (default: all started here).
guest_stop() {
	local p
	if [ $# -eq 0 ]; then
		set -- "${GUEST_PIDS[@]}"
	fi
	for p in "$@"; do
		proc_stop "$p"
	done
}

# guest_rxq LOGFILE N: the guest's per-queue RX counters, "q0 q1 ... qN-1"
# (ethtool -S eth0 in the guest); fails unless it has exactly N queues.
guest_rxq() {
	guest_exec "$1" 20 ethtool -S eth0 | python3 -c '
import re, sys
q = {}
for line in sys.stdin:
    m = re.match(r"\s*rx_queue_(\d+)_packets:\s*(\d+)", line)
    if m:
        q[int(m.group(1))] = int(m.group(2))
if sorted(q) != list(range(int(sys.argv[1]))):
    sys.exit("no rx_queue_0..%s_packets in ethtool -S: %s" % (int(sys.argv[1]) - 1, q))
print(" ".join(str(q[i]) for i in sorted(q)))' "$2"
}
