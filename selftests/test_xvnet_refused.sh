#!/usr/bin/env bash
# A kernel feature that nothing replaces (issue 14): without both
# bpf_xdp_adjust_meta and bpf_xdp_adjust_head nic_rx cannot carry its
# metadata, so xvnetd must not run.  It must say so at once: exit non-zero
# within a second, one error line that names the helper and what to do,
# and no verifier log on stderr (that goes to a file beside the socket).
# `--without` forces the loss on any kernel; `--probe` agrees (non-zero).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

require_root
require_bin xvnetd
xv_topology
printf 'nic %s\n' "$NIC" >"$XVD_CONF"
# should it start after all, the trap takes it down with its pins
cleanup_add _xvnetd_teardown

rc=0
t0=$(date +%s%N)
timeout 10 "$XV_BIN/xvnetd" --foreground --without xdp_meta,xdp_head \
	--config "$XVD_CONF" --state-dir "$XVD_STATE_DIR" --socket "$XVD_SOCK" \
	--pin-dir "$XVD_PIN" >"$XV_TMP/out" 2>&1 </dev/null || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
sed 's/^/    | /' "$XV_TMP/out" >&2
[ "$rc" -ne 0 ] || fail "xvnetd ran without adjust_meta and adjust_head"
[ "$rc" -ne 124 ] || fail "xvnetd still running after 10 s without adjust_meta and adjust_head"
[ "$ms" -lt 1000 ] || fail "the refusal took $ms ms (at most 1000)"
errs=$(grep -c ': err: ' "$XV_TMP/out")
[ "$errs" -eq 1 ] || fail "$errs error lines, not one"
line=$(grep ': err: ' "$XV_TMP/out")
case "$line" in
*bpf_xdp_adjust_head*"use a kernel that allows it"*) ;;
*) fail "the error names neither the helper nor what to do: $line" ;;
esac
n=$(wc -l <"$XV_TMP/out")
[ "$n" -le 5 ] || fail "$n lines on stderr (a verifier log?)"

prc=0
"$XV_BIN/xvnetd" --probe --without xdp_meta,xdp_head >"$XV_TMP/probe" 2>&1 || prc=$?
[ "$prc" -ne 0 ] || fail "xvnetd --probe says xvnetd can run without adjust_meta and adjust_head"
pass "without adjust_meta and adjust_head: exit $rc in $ms ms, one error line naming the helper; --probe exits $prc"
