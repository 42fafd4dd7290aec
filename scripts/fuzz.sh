#!/usr/bin/env bash
# Run the libFuzzer targets (tests/fuzz/fuzz_*.c) for SECONDS each, from
# their committed corpus (tests/fuzz/corpus/NAME, copied: new inputs stay in
# $BUILD/fuzz/work), then print one closing line
#     fuzz: N passed, N failed, N skipped
# A crash, leak or oracle failure fails the target and leaves its reproducer
# in $BUILD/fuzz/work/NAME.crash-*.  Without libFuzzer (clang's
# -fsanitize=fuzzer must link) every target is skipped, with the reason.
#
# usage: scripts/fuzz.sh [SECONDS]       (make fuzz: FUZZ_SECONDS, default 60;
#                                         make check: 3)
set -uo pipefail
secs=${1:-60}
build=${BUILD:-build}
cd "$(dirname "$0")/.." || exit 1
names=()
for f in tests/fuzz/fuzz_*.c; do
	n=${f##*/}
	names+=("${n%.c}")
done
pass=0 fail=0 skip=0

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! "${FUZZ_CC:-clang}" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>"$probe/err"; then
	for n in "${names[@]}"; do echo "SKIP $n: libFuzzer unavailable ($(head -1 "$probe/err"))"; done
	echo "fuzz: 0 passed, 0 failed, ${#names[@]} skipped"
	exit 0
fi
if ! make -s BUILD="$build" fuzz-build >"$probe/build" 2>&1; then
	cat "$probe/build"
	echo "fuzz: 0 passed, ${#names[@]} failed, 0 skipped"
	exit 1
fi
for n in "${names[@]}"; do
	work="$build/fuzz/work/$n"
	rm -rf "$work"
	mkdir -p "$work"
	cp tests/fuzz/corpus/"$n"/* "$work"/ 2>/dev/null
	log="$build/fuzz/$n.log"
	# one worker: the machine's other cores are shared
	if "$build/fuzz/$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$build/fuzz/work/$n." -print_final_stats=1 \
		"$work" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "PASS $n: ${runs:-?} runs in ${secs}s"
		pass=$((pass + 1))
	else
		echo "FAIL $n (log $log):"
		grep -E "ERROR|SUMMARY|abort|differs|does not" "$log" | head -5 | sed 's/^/    | /'
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
