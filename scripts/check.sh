#!/usr/bin/env bash
# `make check`: unit tests, the fuzz targets briefly, then end-to-end
# selftests; one closing line for all so CI reads the whole result.
set -uo pipefail
build=${BUILD:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
"$build/tests/unit" 2>&1 | tee "$log" || status=1
# the groups this kernel cannot run (for the 6.1 guest below)
groups=$(sed -n 's/^\[  SKIPPED \] \([A-Za-z0-9_]*\): .*/\1/p' "$log" | paste -sd, -)
# the daemon's layers include one way only (scripts/check-layers.sh)
BUILD=$build bash scripts/check-layers.sh 2>&1 | tee -a "$log" || status=1
# the fuzz targets, a few seconds each on their committed corpus
BUILD=$build bash scripts/fuzz.sh "${FUZZ_CHECK_SECONDS:-3}" 2>&1 | tee -a "$log" || status=1
if [ -f selftests/run.sh ]; then
	bash selftests/run.sh 2>&1 | tee -a "$log" || status=1
fi
# Debian 12's default kernel (6.1) in a QEMU guest, for the ways this kernel
# refuses: the unit-test groups it skipped (a feature missing: nic_rx without
# adjust_meta) and the end-to-end tests that fit in a guest
# (selftests/kernels/e2e.sh: the XDP-metadata way end to end).  Where this
# kernel ran every group, test_xvnet_fallbacks has run the other ways here
# and the guest would only repeat them: the kernel matrix is
# `make check-kernels`.  CHECK_KERNEL_61=0 never, =all every group.
k61=${CHECK_KERNEL_61:-auto}
if [ "$k61" = auto ] && [ -z "$groups" ]; then
	echo "SKIP kernel 6.1 guest: this kernel ran every unit-test group and test_xvnet_fallbacks the ways without its features (make check-kernels runs the guests)"
	echo "kernel: 0 passed, 0 failed, 1 skipped" >>"$log"
elif [ "$k61" != 0 ] && [ -f scripts/check-kernels.sh ]; then
	[ "$k61" = all ] && groups=
	[ -n "$groups" ] && echo "kernel 6.1 guest: the unit-test groups skipped here ($groups) and selftests/kernels/e2e.sh"
	list=$(mktemp)
	grep -E '^\^linux-image-6\\.1\\.' selftests/kernels/kernels.list >"$list"
	KERNELS_UNIT="$groups" KERNELS_HOST=0 KERNELS_LIST="$list" BUILD="$build" \
		bash scripts/check-kernels.sh 2>&1 | tee "$log.k" || status=1
	rm -f "$list"
	# its closing line, in the form the sum below reads
	sed -n 's/^check-kernels: /kernel: /p' "$log.k" >>"$log"
	rm -f "$log.k"
fi

sum() { # sum the N in "N <word>" over the closing lines
	grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$log" |
		grep -oE "[0-9]+ $1" | awk '{s += $1} END {print s + 0}'
}
passed=$(sum passed) failed=$(sum failed) skipped=$(sum skipped)
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # a runner died
echo
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
