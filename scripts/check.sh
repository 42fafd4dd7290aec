#!/usr/bin/env bash
# `make check`: unit tests, the fuzz targets briefly, then end-to-end
# selftests; one closing line for all so CI reads the whole result.
set -uo pipefail
build=${BUILD:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
"$build/tests/unit" 2>&1 | tee "$log" || status=1
# the fuzz targets, a few seconds each on their committed corpus
BUILD=$build bash scripts/fuzz.sh "${FUZZ_CHECK_SECONDS:-3}" 2>&1 | tee -a "$log" || status=1
if [ -f selftests/run.sh ]; then
	bash selftests/run.sh 2>&1 | tee -a "$log" || status=1
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
