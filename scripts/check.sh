#!/usr/bin/env bash
# `make check`: unit tests, the fuzz targets briefly, then end-to-end
# selftests; one closing line for all so CI reads the whole result.
set -uo pipefail
build=${BUILD:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
"$build/tests/unit" 2>&1 | tee "$log" || status=1
# the daemon's layers include one way only (scripts/check-layers.sh)
BUILD=$build bash scripts/check-layers.sh 2>&1 | tee -a "$log" || status=1
# the fuzz targets, a few seconds each on their committed corpus
BUILD=$build bash scripts/fuzz.sh "${FUZZ_CHECK_SECONDS:-3}" 2>&1 | tee -a "$log" || status=1
if [ -f selftests/run.sh ]; then
	bash selftests/run.sh 2>&1 | tee -a "$log" || status=1
fi
# Debian 12's default kernel (6.1): the unit tests and the end-to-end tests
# that fit in a QEMU guest (selftests/kernels/e2e.sh; about 3 min under TCG
# here: the XDP-metadata way end to end where the host refuses it); the
# rest of the kernel matrix is `make check-kernels`
if [ "${CHECK_KERNEL_61:-1}" = 1 ] && [ -f scripts/check-kernels.sh ]; then
	list=$(mktemp)
	grep -E '^\^linux-image-6\\.1\\.' selftests/kernels/kernels.list >"$list"
	KERNELS_HOST=0 KERNELS_LIST="$list" BUILD="$build" bash scripts/check-kernels.sh 2>&1 |
		tee "$log.k" || status=1
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
