#!/usr/bin/env bash
# The kernel fallbacks, forced where the kernel has the feature: with
# XVNET_WITHOUT=xdp_meta,live_frames xvnetd builds the data path with the
# metadata inline (bpf/meta.h) and xvnet-trafgen sends with AF_PACKET, and
# the end-to-end tests of everything that carries metadata must still pass:
# multi-queue tap/veth (skb path), queue-cpus (CPUMAP hop), xsk ports
# (consumer metadata) and coalescing.  test_xvnet_rss is not rerun: its
# 4-queue veth takes the same skb path as test_xvnet_tapq's, which checks
# more there (each frame at the VM end's queue), and the rest of it is
# configuration.  On a kernel that lacks both features
# the ordinary run already took these ways: then there is nothing to force
# here, and the XDP-metadata way is tested end to end in the kernel
# matrix's guests (selftests/kernels/e2e.sh).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
forced=()
xv_feature xdp_meta && forced+=(xdp_meta)
xv_feature live_frames && forced+=(live_frames)
[ ${#forced[@]} -gt 0 ] ||
	skip "xdp_meta and live_frames are absent on this kernel: every test already ran the fallbacks (the other way runs in the 6.1/6.12 guests: make check-kernels, selftests/kernels/e2e.sh)"
XVNET_WITHOUT=$(IFS=,; echo "${forced[*]}")
export XVNET_WITHOUT
"$XV_BIN/xvnetd" --probe | grep -q '^metadata: inline' || fail "xvnetd --probe ignores XVNET_WITHOUT"

ran=()
for t in test_xvnet_tapq test_xvnet_spread test_xvnet_xsk test_xvnet_coalesce; do
	bash "$XV_ROOT/selftests/$t.sh" >"$XV_TMP/$t.log" 2>&1 </dev/null
	rc=$?
	case $rc in
	0) ran+=("$t") ;;
	4) log "$t: $(grep '^SKIP: ' "$XV_TMP/$t.log" | tail -1)" ;;
	*) sed 's/^/    | /' "$XV_TMP/$t.log" | tail -30
	   fail "$t failed with XVNET_WITHOUT=$XVNET_WITHOUT" ;;
	esac
done
pass "without ${XVNET_WITHOUT}: ${ran[*]} passed (inline metadata, AF_PACKET source)"
