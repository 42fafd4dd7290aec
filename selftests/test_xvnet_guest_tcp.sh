#!/usr/bin/env bash
# Real guest TCP with the guest's offloads on, through xvnet and, in the same
# run, through a Linux bridge for comparison.  A Linux guest behind QEMU sends
# TCP as TSO super-frames with partial checksums (virtio-net on a tap with
# vnet_hdr: the guest's `ethtool -k eth0` shows tcp-segmentation-offload on,
# checked below); every path a guest's TCP takes must carry them.
#
#   xvnet:  W (10.77.0.1) wire ==veth== nic [xvnetd] -- taps xtap1, xtap2
#   bridge: B (10.78.0.1) bwire ==veth== bnic --[br]-- taps btap1, btap2
#   four QEMU guests (TCG, nice 5), one per tap, each running tcp_stream -s
#
# Paths, each run through xvnet and through the bridge back to back (this
# machine's speed swings: only figures taken seconds apart compare), in
# $XV_TCP_ROUNDS rounds (2) whose order alternates (A B, B A):
#   guest->wire   guest 1's tcp_stream sends to a receiver in W / B
#   wire->guest   W / B sends to guest 1's receiver
#   guest->guest  guest 1 sends to guest 2 on the same host
# Each transfer: $XV_TCP_BYTES (64 MiB) in 64 KiB writes, bounded by
# $XV_TCP_TIMEOUT (20 s).  Asserted per path: the receiver counted every
# byte, the sender retransmitted less than 1% of its data segments
# (TCP_INFO of the sending socket), and a sending guest really sent TSO
# frames (its eth0 counters: more than 1514 bytes a frame on average).
# Logged per xvnet transfer: the counters of vm_tx's skb path (tx_skb, the
# frames XDP cannot send).  Printed per path:
#   guest->wire xvnet X Mbit/s (retrans R) bridge Y Mbit/s (retrans R); xvnet/bridge per round ...
# with the average frame the guest's driver sent (> 1514 bytes: TSO frames).
# A failed xvnet transfer prints the xvnetctl counters that moved and the
# taps' and NIC's counters, and a guest-sent one is sent again with the
# guest's TSO off (logged) to tell lost TSO frames from any other loss.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/guest.sh
. "$(dirname "$0")/lib/guest.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
guest_require
require_cmd ethtool

# 64 MiB: at the 1-2 Gbit/s a TCG guest with TSO reached here, 32 MiB took
# 0.1 s, too short to time; at 50 Mbit/s (a slow phase) 64 MiB still fits
# in the time limit
BYTES=${XV_TCP_BYTES:-67108864}
TMO=${XV_TCP_TIMEOUT:-20}
ROUNDS=${XV_TCP_ROUNDS:-2}
TPORT=5201
TS="$GUEST_DIR/tcp_stream"
[ -x "$TS" ] || fail "no $TS (selftests/guest/build-guest.sh builds it)"

# every guest: TCP receiver at boot, a command pipe, a lower priority for
# TCG on this shared 2-core machine
GUEST_TCP_SERVER=$TPORT
GUEST_CTL=1
GUEST_NICE=${GUEST_NICE:-5}

# ---- xvnet topology ----------------------------------------------------------
xv_topology
xvnetd_start
XT1=$(xv_name xtap1)
XT2=$(xv_name xtap2)
XIP1=10.77.0.51
XIP2=10.77.0.52
xvctl vm add tg1 --mac "$(guest_mac 1)" --port tap --ifname "$XT1" --ip "$XIP1" ||
	fail "vm add tg1 (tap) refused"
xvctl vm add tg2 --mac "$(guest_mac 2)" --port tap --ifname "$XT2" --ip "$XIP2" ||
	fail "vm add tg2 (tap) refused"

# ---- bridge topology ---------------------------------------------------------
B=$(xv_name b)
BR=$(xv_name br)
BNIC=$(xv_name bnic)
BWIRE=$(xv_name bwire)
BT1=$(xv_name btap1)
BT2=$(xv_name btap2)
BWIRE_IP=10.78.0.1
BIP1=10.78.0.51
BIP2=10.78.0.52
ns_create "$B"
ip netns exec "$B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
bridge_create "$BR"
veth_create "$BWIRE" "$BNIC" "$B" ""
bridge_add "$BR" "$BNIC"
tap_create "$BT1"
tap_create "$BT2"
bridge_add "$BR" "$BT1"
bridge_add "$BR" "$BT2"
addr_add "$BWIRE" "$BWIRE_IP/24" "$B"
# as xv_topology does for W: both wires send MTU-sized frames with complete
# checksums, so wire->guest compares the two switches, not two senders
ip netns exec "$B" ethtool -K "$BWIRE" tx off >/dev/null

# ---- receivers on the wires, guests ------------------------------------------
bg_start "$XV_TMP/rx-w.log" ip netns exec "$W" "$TS" -s "$TPORT" -i 10
bg_start "$XV_TMP/rx-b.log" ip netns exec "$B" "$TS" -s "$TPORT" -i 10

declare -A GLOG GTAP GPID
boot() { # KEY TAP MAC IP/PFX
	GTAP[$1]=$2
	GLOG[$1]=$XV_TMP/guest-$1.log
	GUEST_ID=$1 guest_start "$2" "$3" "$4" "${GLOG[$1]}"
	GPID[$1]=$GUEST_PID
}
t0=$(date +%s%N)
boot xg1 "$XT1" "$(guest_mac 1)" "$XIP1/24"
boot xg2 "$XT2" "$(guest_mac 2)" "$XIP2/24"
boot bg1 "$BT1" "$(guest_mac 3)" "$BIP1/24"
boot bg2 "$BT2" "$(guest_mac 4)" "$BIP2/24"
for k in xg1 xg2 bg1 bg2; do
	guest_wait_ready "${GLOG[$k]}" 120 "${GPID[$k]}" || fail "guest $k did not become ready"
	wait_until 10 grep -q TCP-STREAM-READY "${GLOG[$k]}" ||
		fail "guest $k: tcp_stream -s $TPORT did not start"
done
for f in rx-w rx-b; do
	wait_until 5 grep -q TCP-STREAM-READY "$XV_TMP/$f.log" || fail "receiver $f did not start"
done
log "4 guests ready in $(elapsed_ms "$t0") ms"

# ---- evidence: the guests send with TSO --------------------------------------
for k in xg1 xg2 bg1 bg2; do
	feat=$(guest_exec "${GLOG[$k]}" 20 ethtool -k eth0) ||
		fail "guest $k: ethtool -k eth0 failed: $feat"
	tso=$(echo "$feat" | sed -n 's/^tcp-segmentation-offload: *\([a-z]*\).*/\1/p')
	csum=$(echo "$feat" | sed -n 's/^tx-checksumming: *\([a-z]*\).*/\1/p')
	# QEMU's TUNSETOFFLOAD once the guest driver took GUEST_TSO4: the host
	# may hand this guest TSO frames
	host=$(ethtool -k "${GTAP[$k]}" | sed -n 's/^[[:space:]]*tx-tcp-segmentation: *\([a-z]*\).*/\1/p')
	log "guest $k (tap ${GTAP[$k]}): guest ethtool -k eth0: tcp-segmentation-offload $tso, tx-checksumming $csum; host ethtool -k tap: tx-tcp-segmentation $host"
	[ "$tso" = on ] || fail "guest $k: tcp-segmentation-offload is '$tso', not on: this test is about guest TSO"
done

# ---- transfers ---------------------------------------------------------------
# field NAME LINE: the value of NAME=... in a tcp_stream line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

STATS_SYS=/sys/class/net/eth0/statistics
# per "path kind": result text, failed (1), Mbit/s of each round, sums of
# retransmitted and sent data segments; per "path kind round": Mbit/s
declare -A RES FAILED MBPS RT SEGS MBR
FAILS=()

# rx_lines LOG: how many TCP-STREAM-RX lines (finished connections) LOG has
rx_lines() { grep -ac TCP-STREAM-RX "$1"; }
# shellcheck disable=SC2317  # called through wait_until
rx_more() { [ "$(rx_lines "$1")" -gt "$2" ]; }  # LOG N: more than N now

# judge PATH KIND ROUND LINE AVG_TXT RXLOG RX_BEFORE: check a tcp_stream -c
# line, record the result.  A sender that gave up never got the receiver's
# count: then the count is the receiver's own line, which follows the
# sender's reset.
judge() {
	local path=$1 kind=$2 round=$3 line=$4 avg=$5 rxlog=$6 rx0=$7
	local st rcvd mbps rt segs sent rx
	st=$(field status "$line"); rcvd=$(field rcvd "$line"); mbps=$(field mbps "$line")
	rt=$(field retrans "$line"); segs=$(field data_segs_out "$line"); sent=$(field sent "$line")
	log "$path via $kind (round $round): ${line:-no output from the sender}${avg:+ ($avg)}"
	if [ -z "$line" ]; then
		RES["$path $kind"]="FAIL (no result)"
		FAILED["$path $kind"]=1
		FAILS+=("$path via $kind: the sender printed nothing")
		return 1
	fi
	if [ "$st" != ok ] || [ "${rcvd:-0}" != "$BYTES" ]; then
		if [ "${rcvd:-0}" = 0 ]; then
			if wait_until 5 rx_more "$rxlog" "$rx0"; then
				rx=$(grep -a TCP-STREAM-RX "$rxlog" | tail -n 1 | tr -d '\r')
				rcvd=$(field bytes "$rx")
			else
				rcvd="?"
			fi
		fi
		RES["$path $kind"]="FAIL ($rcvd of $BYTES bytes arrived in ${TMO}s, retrans ${rt:-?}, $st)"
		FAILED["$path $kind"]=1
		FAILS+=("$path via $kind: $st; the sender wrote ${sent:-0} of $BYTES bytes, the receiver counted $rcvd; retrans ${rt:-?} of ${segs:-?} segments")
		return 1
	fi
	MBPS["$path $kind"]+=" $mbps"
	MBR["$path $kind $round"]=$mbps
	RT["$path $kind"]=$(( ${RT["$path $kind"]:-0} + rt ))
	SEGS["$path $kind"]=$(( ${SEGS["$path $kind"]:-0} + segs ))
	if [ $((rt * 100)) -ge "${segs:-1}" ]; then
		FAILED["$path $kind"]=1
		FAILS+=("$path via $kind (round $round): $rt retransmissions of $segs segments (>= 1%)")
		return 1
	fi
	return 0
}

# summary PATH KIND: "X Mbit/s (retrans R)", X the mean over the rounds, R
# the retransmitted segments of all rounds; or the failure
summary() {
	local k="$1 $2" mean
	if [ -z "${MBPS[$k]:-}" ]; then
		echo "${RES[$k]:-not run}"
		return
	fi
	# shellcheck disable=SC2086  # a list of numbers
	mean=$(printf '%s\n' ${MBPS[$k]} | awk '{ s += $1; n++ } END { printf "%.1f", s / n }')
	echo -n "$mean Mbit/s (retrans ${RT[$k]})"
	[ $(( ${RT[$k]} * 100 )) -ge "${SEGS[$k]}" ] && echo -n " RETRANS-STORM"
	echo
}

# avg_frame P0 B0 P1 B1 WHAT: "guest WHAT N frames avg M B"
avg_frame() {
	local p=$(($3 - $1)) b=$(($4 - $2))
	[ "$p" -gt 0 ] || { echo "guest $5 no frames"; return; }
	echo "guest $5 $p frames avg $((b / p)) B"
}

# guest_send KEY DST: KEY's tcp_stream sends to DST; sets LINE and AVG
guest_send() {
	local k=$1 dst=$2 out n
	out=$(guest_exec "${GLOG[$k]}" $((TMO + 20)) \
		"cat $STATS_SYS/tx_packets $STATS_SYS/tx_bytes;" \
		"tcp_stream -c $dst $TPORT -b $BYTES -t $TMO; r=\$?;" \
		"cat $STATS_SYS/tx_packets $STATS_SYS/tx_bytes; exit \$r")
	LINE=$(echo "$out" | grep -m1 '^TCP-STREAM-TX ')
	# shellcheck disable=SC2207  # four numbers
	n=($(echo "$out" | grep -E '^[0-9]+$'))
	AVG=""
	[ ${#n[@]} -eq 4 ] && AVG="$(avg_frame "${n[@]}" sent)"
}

# wire_send NS KEY DST: NS sends to guest KEY at DST; sets LINE and AVG
wire_send() {
	local ns=$1 k=$2 dst=$3 a b
	a=$(guest_exec "${GLOG[$k]}" 20 cat $STATS_SYS/rx_packets $STATS_SYS/rx_bytes | tr '\n' ' ')
	LINE=$(ip netns exec "$ns" "$TS" -c "$dst" "$TPORT" -b "$BYTES" -t "$TMO" | grep -m1 '^TCP-STREAM-TX ')
	b=$(guest_exec "${GLOG[$k]}" 20 cat $STATS_SYS/rx_packets $STATS_SYS/rx_bytes | tr '\n' ' ')
	AVG=""
	# shellcheck disable=SC2086  # two numbers each
	[ -n "$a" ] && [ -n "$b" ] && AVG="$(avg_frame $a $b received)"
}

# xv_snap: xvnetctl's counters and the devices' counters, one "name value"
# a line, for a before/after difference
xv_snap() {
	xvctl -j stats | python3 -c '
import json, sys
def walk(p, o):
    if isinstance(o, dict):
        for k, v in o.items():
            walk(p + [str(k)], v)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            name = v.get("name", v.get("vm", i)) if isinstance(v, dict) else i
            walk(p + [str(name)], v)
    elif isinstance(o, (int, float)) and not isinstance(o, bool):
        print(".".join(p), o)
walk([], json.load(sys.stdin))'
	local d f
	for d in "$NIC" "$XT1" "$XT2"; do
		for f in rx_packets rx_bytes rx_dropped tx_packets tx_bytes tx_dropped; do
			echo "dev.$d.$f $(if_stat "$d" "$f")"
		done
	done
	for f in rx_packets rx_bytes rx_dropped; do
		echo "dev.W.$WIRE.$f $(if_stat "$WIRE" "$f" "$W")"
	done
}

# delta NAME: how much counter NAME moved between snap.before and snap.after
# ("-" when xvnetctl has no such counter)
delta() {
	awk -v n="$1" 'NR == FNR { if ($1 == n) a = $2; next } $1 == n { d = $2 - a; f = 1 }
		END { if (f) print d; else print "-" }' \
		"$XV_TMP/snap.before" "$XV_TMP/snap.after"
}

# xv_diag PATH RECEIVER_LOG: what moved in xvnet and on the devices during
# the failed transfer (nonzero differences only), the receiver's own line,
# and how many frames xvnet counted as sent on that the target device did
# not send
xv_diag() {
	local path=$1 rxlog=$2 sent out
	xv_snap >"$XV_TMP/snap.after"
	{
		echo "  counters that moved during the transfer (xvnetctl -j stats, device statistics):"
		awk 'NR == FNR { a[$1] = $2; next } ($2 - a[$1]) != 0 { printf "    %-48s %+d\n", $1, $2 - a[$1] }' \
			"$XV_TMP/snap.before" "$XV_TMP/snap.after"
		echo "  receiver: $(grep -a TCP-STREAM-RX "$rxlog" | tail -n 1 | tr -d '\r')"
		# frames a program counted as sent on, against what the target
		# device sent: the difference was dropped after the redirect (a
		# failed XDP redirect shows in no xvnet counter) or was still
		# queued when the sender gave up
		case "$path" in
		guest-\>wire)
			sent=$(delta counters.tx_uplink); out=$(delta "dev.$NIC.tx_packets")
			echo "  vm_tx counted $sent frames tx_uplink; the NIC sent $out: $((sent - out)) not sent on" ;;
		wire-\>guest)
			sent=$(delta vms.tg1.packets); out=$(delta "dev.$XT1.tx_packets")
			echo "  nic_rx delivered $sent frames to guest 1; its tap sent $out (tx_dropped $(delta "dev.$XT1.tx_dropped")): $((sent - out)) not sent on" ;;
		guest-\>guest)
			sent=$(delta counters.tx_local); out=$(delta "dev.$XT2.tx_packets")
			echo "  vm_tx counted $sent frames tx_local; guest 2's tap sent $out (tx_dropped $(delta "dev.$XT2.tx_dropped")): $((sent - out)) not sent on" ;;
		esac
	} >&2
}

# tso_control PATH AVG: a guest-sent xvnet transfer failed while the guest
# sent super-frames (AVG bytes on average): send the same again with the
# guest's TSO off, to tell whether TSO frames are what is lost.  Diagnostic
# only: its result is logged, not judged.
tso_control() {
	local path=$1 avg=$2 dst=$XIP2 line
	[ "$path" = "guest->wire" ] && dst=$WIRE_IP
	guest_exec "${GLOG[xg1]}" 20 ethtool -K eth0 tso off >/dev/null ||
		{ log "control: cannot switch the guest's TSO off"; return; }
	guest_send xg1 "$dst"
	guest_exec "${GLOG[xg1]}" 20 ethtool -K eth0 tso on >/dev/null ||
		fail "cannot switch guest xg1's TSO back on"
	line="$(field status "$LINE"): $(field rcvd "$LINE") of $BYTES bytes, $(field mbps "$LINE") Mbit/s, retrans $(field retrans "$LINE") ($AVG)"
	log "control: $path via xvnet with the guest's TSO off: $line"
	case "$LINE" in
	*status=ok*)
		log "so the loss is the guest's TSO super-frames (avg $avg B with TSO on): an XDP redirect cannot send GSO frames (the kernel's xdp_redirect_err, EMSGSIZE); vm_tx must pass them to the skb path (tx_skb; issue 15)"
		CONTROL["$path"]="with guest TSO off: $(field mbps "$LINE") Mbit/s (retrans $(field retrans "$LINE"))" ;;
	*)
		CONTROL["$path"]="with guest TSO off: fails too" ;;
	esac
}
declare -A CONTROL

run_path() { # PATH ROUND: odd rounds xvnet first, even rounds bridge first
	local path=$1 round=$2 kind k2 rxlog rx0 order=(xvnet bridge)
	[ $((round % 2)) = 0 ] && order=(bridge xvnet)
	for kind in "${order[@]}"; do
		# a failed transfer is not repeated: it would fail again, slowly
		[ -n "${FAILED["$path $kind"]:-}" ] && continue
		case "$path $kind" in
		"guest->wire xvnet")   rxlog=$XV_TMP/rx-w.log ;;
		"guest->wire bridge")  rxlog=$XV_TMP/rx-b.log ;;
		"wire->guest xvnet")   rxlog=${GLOG[xg1]} ;;
		"wire->guest bridge")  rxlog=${GLOG[bg1]} ;;
		"guest->guest xvnet")  rxlog=${GLOG[xg2]} ;;
		"guest->guest bridge") rxlog=${GLOG[bg2]} ;;
		esac
		rx0=$(rx_lines "$rxlog")
		[ "$kind" = xvnet ] && xv_snap >"$XV_TMP/snap.before"
		case "$path $kind" in
		"guest->wire xvnet")   guest_send xg1 "$WIRE_IP" ;;
		"guest->wire bridge")  guest_send bg1 "$BWIRE_IP" ;;
		"wire->guest xvnet")   wire_send "$W" xg1 "$XIP1" ;;
		"wire->guest bridge")  wire_send "$B" bg1 "$BIP1" ;;
		"guest->guest xvnet")  guest_send xg1 "$XIP2" ;;
		"guest->guest bridge") guest_send bg1 "$BIP2" ;;
		esac
		k2=""
		case "$AVG" in
		"guest sent"*) k2=${AVG##*avg }; k2=${k2% B} ;;
		esac
		if judge "$path" "$kind" "$round" "$LINE" "$AVG" "$rxlog" "$rx0"; then
			# a guest that sent no super-frame did not test TSO
			if [ -n "$k2" ] && [ "$k2" -le 1514 ]; then
				FAILED["$path $kind"]=1
				FAILS+=("$path via $kind (round $round): the guest sent no TSO frames (avg $k2 B): TSO was not tested")
			fi
			if [ "$kind" = xvnet ]; then
				xv_snap >"$XV_TMP/snap.after"
				log "  xvnet: tx_skb $(delta counters.tx_skb) (guest 1 $(delta vms.tg1.egress.tx_skb)), tx_skb_drop $(delta counters.tx_skb_drop), tx_uplink $(delta counters.tx_uplink), tx_local $(delta counters.tx_local)"
			fi
		elif [ "$kind" = xvnet ]; then
			xv_diag "$path" "$rxlog"
			[ "${k2:-0}" -gt 1514 ] && tso_control "$path" "$k2"
		fi
	done
}

PATHS=("guest->wire" "wire->guest" "guest->guest")
t1=$(date +%s%N)
for ((r = 1; r <= ROUNDS; r++)); do
	for p in "${PATHS[@]}"; do
		run_path "$p" "$r"
	done
done
log "transfers done in $(elapsed_ms "$t1") ms"

echo "guest TCP, $BYTES bytes a transfer, mean of $ROUNDS rounds (xvnet and bridge back to back, order alternating):"
for p in "${PATHS[@]}"; do
	ratios=""
	for ((r = 1; r <= ROUNDS; r++)); do
		x=${MBR["$p xvnet $r"]:-} b=${MBR["$p bridge $r"]:-}
		[ -n "$x" ] && [ -n "$b" ] &&
			ratios+=" $(awk -v x="$x" -v b="$b" 'BEGIN { printf "%.2f", (b > 0 ? x / b : 0) }')"
	done
	echo "$p xvnet $(summary "$p" xvnet) bridge $(summary "$p" bridge)${ratios:+; xvnet/bridge per round$ratios}"
	[ -n "${CONTROL[$p]:-}" ] && echo "  ($p via xvnet ${CONTROL[$p]})"
done
if [ ${#FAILS[@]} -gt 0 ]; then
	for f in "${FAILS[@]}"; do
		echo "  failed: $f"
	done
	fail "${#FAILS[@]} guest TCP transfer(s) failed"
fi
pass "guest TCP with TSO: 3 paths through xvnet and a bridge, $ROUNDS rounds, all $BYTES bytes, retransmissions < 1%"
