#!/usr/bin/env bash
# The benchmark's forwarding-core mode (bench.sh CORE=1, pairs veth-core and
# flows-1-core): `xvnet-trafgen --prog-pin` runs xvnetd's own nic_rx on live
# frames as if the NIC had received them, so its redirect really lands in
# the VM's port on the calling CPU:
#  - 20,000 frames to VM a: xvnet counts 20,000 delivered to a and a's
#    interface in its namespace receives them (rx_packets +20,000);
#  - a frame to a MAC no VM has is not delivered (xvnet's no_vm +1000);
#  - --prog-pin with --flows (which needs the generator's own program) is
#    refused with a message, as is a path that holds no program;
#  - SIGINT ends a 30 s run within a second or so, with its report (the
#    bench stops its source that way once a sample's window is measured).
# Where the kernel refuses live frames: SKIP (the bench records the pairs as
# skipped there).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-trafgen xvnet-xdpswap
xv_feature live_frames || skip "no live frames here (BPF_F_TEST_XDP_LIVE_FRAMES refused or disabled by XVNET_WITHOUT)"

MACA=02:00:00:00:75:01
xv_topology
xvnetd_start
vm_ns_add a $MACA 10.77.0.95/24
SWAP=/sys/fs/bpf/${XV_PREFIX}swap
cleanup_add rm -rf "$SWAP"
"$XV_BIN/xvnet-xdpswap" load --pin-dir "$XVD_PIN" --out "$SWAP" >/dev/null || fail "xvnet-xdpswap load"
core() { "$XV_BIN/xvnet-trafgen" --dev "$NIC" --prog-pin "$SWAP/xvnet" --json "$@"; }

rx() { ip netns exec "$(vm_ns a)" cat /sys/class/net/eth0/statistics/rx_packets; }
q0=$(vm_queue_packets a); r0=$(rx)
out=$(core --dst-mac $MACA --dst-ip 10.77.0.95 --count 20000) || fail "trafgen --prog-pin: $out"
[ "$(jq -r .source <<<"$out")" = core ] || fail "trafgen --prog-pin does not say source core: $out"
wait_until 3 eval '[ $(( $(rx) - r0 )) -ge 20000 ]'
dq=$(( $(vm_queue_packets a) - q0 )); dr=$(( $(rx) - r0 ))
[ "$dq" = 20000 ] && [ "$dr" -ge 20000 ] ||
	fail "20000 frames run through nic_rx: xvnet delivered $dq, a's eth0 received $dr"
log "nic_rx run in place of the NIC: 20000 delivered, a's eth0 rx_packets +$dr"

n0=$(xv_counter no_vm)
core --dst-mac 02:00:00:00:75:99 --count 1000 >/dev/null || fail "trafgen --prog-pin (no VM)"
dn=$(( $(xv_counter no_vm) - n0 ))
[ "$dn" = 1000 ] || fail "1000 frames to a MAC no VM has: no_vm +$dn"

err=$(core --dst-mac $MACA --flows 2 --count 10 2>&1) && fail "--prog-pin with --flows 2 was accepted"
grep -q "no --vlan, --macs, --flows" <<<"$err" || fail "--prog-pin with --flows: unclear refusal: $err"
err=$("$XV_BIN/xvnet-trafgen" --dev "$NIC" --prog-pin "$SWAP/none" --count 10 2>&1) &&
	fail "--prog-pin of a missing pin was accepted"
grep -q -- "--prog-pin $SWAP/none" <<<"$err" || fail "--prog-pin of a missing pin: unclear error: $err"
# (the program itself in the background, not the function: $! is then its pid)
"$XV_BIN/xvnet-trafgen" --dev "$NIC" --prog-pin "$SWAP/xvnet" --json --dst-mac $MACA \
	--dst-ip 10.77.0.95 --duration 30 >"$XV_TMP/int.json" 2>"$XV_TMP/int.err" &
gen=$!
sleep 1
kill -INT "$gen"
wait_until 5 eval '! kill -0 "$gen" 2>/dev/null' || fail "trafgen still runs 5 s after SIGINT"
wait "$gen" || fail "trafgen stopped by SIGINT exited $?: $(cat "$XV_TMP/int.err")"
secs=$(jq -r .seconds "$XV_TMP/int.json") || fail "no report after SIGINT: $(cat "$XV_TMP/int.json")"
awk -v s="$secs" 'BEGIN { exit !(s > 0.5 && s < 5) }' || fail "the SIGINT run reports $secs s"
pass "nic_rx run in place of the NIC (xvnet-trafgen --prog-pin): 20000 frames delivered and received by the VM, 1000 to no VM counted no_vm; --flows and a missing pin refused; SIGINT ends a 30 s run after $secs s with its report"
