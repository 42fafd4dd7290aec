#!/usr/bin/env bash
# `make check-kernels`: the unit tests on the host's kernel, then in a QEMU
# guest (TCG) on each Debian kernel of selftests/kernels/kernels.list, one
# guest at a time, the unit tests and the end-to-end tests that fit there
# (selftests/kernels/e2e.sh; on the host, `make selftest` runs the full
# ones).  One line per kernel, "KERNEL: N passed, N failed, N skipped"
# (details indented above it), then
# "check-kernels: N passed, N failed, N skipped".  A kernel that cannot be
# tried here gets a "SKIP KERNEL: reason" line and counts one skipped.
# Exit non-zero when anything failed.  Logs stay in $BUILD/kernels/logs/.
# env: KERNELS_HOST=0 leaves out the host's kernel; KERNELS_LIST=FILE;
#      KERNELS_QEMU, KERNELS_SMP, KERNELS_MEM, KERNELS_TIMEOUT, KERNELS_UNIT (boot.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
export BUILD
K="$ROOT/selftests/kernels"
LIST=${KERNELS_LIST:-$K/kernels.list}
LOGS="$BUILD/kernels/logs"
rel() { echo "${1#"$ROOT"/}"; }   # a path as the reader typed it
UNIT="$BUILD/tests/unit"
mkdir -p "$LOGS"

lines=$(mktemp "${TMPDIR:-/tmp}/xvnet-kernels.XXXXXX")
# What runs a kernel's tests (the host's unit binary, or boot.sh and its
# guest) runs in the background so that a signal stops it at once: boot.sh
# kills its QEMU on its way out.
child=
# shellcheck disable=SC2317  # called by the traps
stop_child() {
	[ -n "$child" ] || return 0
	kill -TERM "$child" 2>/dev/null || true
	wait "$child" 2>/dev/null || true
	child=
}
trap 'trap "" INT TERM HUP; stop_child; rm -f "$lines"' EXIT
trap 'exit 130' INT TERM HUP
run() { # CMD...: run it in the background, wait, return its status
	"$@" &
	child=$!
	local rc=0
	wait "$child" || rc=$?
	child=
	return "$rc"
}

result() { # the per-kernel line (or detail lines) through to the tally
	tee -a "$lines"
}
skip() { # LABEL REASON
	echo "SKIP $1: $2"
	echo "$1: 0 passed, 0 failed, 1 skipped" | result
}
broken() { # LABEL REASON
	echo "  error: $2"
	echo "$1: 0 passed, 1 failed, 0 skipped" | result
}
secs() { # START_NS: seconds since, one decimal
	awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}

host_kernel() {
	local label t0 rc=0
	label=$(uname -r)
	echo "== $label (the host's kernel)"
	if [ "$(id -u)" -ne 0 ]; then
		skip "$label" "not root (the unit tests load BPF programs)"; return
	fi
	[ -x "$UNIT" ] || { broken "$label" "no $UNIT (make $UNIT)"; return; }
	t0=$(date +%s%N)
	run "$UNIT" >"$LOGS/host.log" 2>&1 || rc=$?
	echo "  time: $(secs "$t0") s (unit tests on the host; log $(rel "$LOGS/host.log"))"
	bash "$K/tally.sh" "$label" "$LOGS/host.log" "$rc" | result
}

guest_kernel() { # PATTERN
	local pattern=$1 label=$1 dir rc=0 t0 log
	echo "== $pattern"
	command -v "${KERNELS_QEMU:-qemu-system-x86_64}" >/dev/null ||
		{ skip "$label" "no ${KERNELS_QEMU:-qemu-system-x86_64} (make deps)"; return; }
	[ -x "$UNIT" ] || { broken "$label" "no $UNIT (make $UNIT)"; return; }
	t0=$(date +%s%N)
	dir=$(bash "$K/fetch.sh" "$pattern" 2>"$LOGS/fetch.err") || rc=$?
	if [ "$rc" -ne 0 ]; then
		sed 's/^/  /' "$LOGS/fetch.err"
		if [ "$rc" -eq 3 ]; then
			skip "$label" "$(tail -n 1 "$LOGS/fetch.err" | sed 's/^fetch-kernel: //')"
		else
			broken "$label" "fetching the kernel failed"
		fi
		return
	fi
	label=$(cat "$dir/release")
	log="$LOGS/$label.log"
	echo "  package ${dir##*/} (ready in $(secs "$t0") s)"
	t0=$(date +%s%N)
	rc=0
	rm -f "$log" "$log.console"
	run bash "$K/boot.sh" "$dir" "$log" >"$LOGS/boot.err" 2>&1 || rc=$?
	sed 's/^/  /' "$LOGS/boot.err"
	echo "  time: $(secs "$t0") s (initramfs, boot, unit and end-to-end tests under QEMU TCG," \
		"-smp ${KERNELS_SMP:-2}; log $(rel "$log")[.console])"
	label=$(sed -n 's/^XVNET-KERNEL \([^ ]*\).*/\1/p' "$log" 2>/dev/null | head -1)
	touch "$log"   # boot.sh may have stopped before QEMU made it
	awk '/^XVNET-KERNEL .* up / { a = $NF } /^XVNET-UNIT-EXIT .* up / { b = $NF }
		/^XVNET-E2E-EXIT .* up / { c = $NF }
		END { if (a != "" && b != "")
			printf "  guest clock: booted in %.1f s, unit tests took %.1f s%s\n", a, b - a,
				c != "" ? sprintf(", end-to-end %.1f s", c - b) : "" }' \
		"$log"
	bash "$K/tally.sh" "${label:-$(cat "$dir/release")}" "$log" | result
}

[ "${KERNELS_HOST:-1}" = 0 ] || host_kernel
while read -r pattern; do
	case "$pattern" in ''|'#'*) continue ;; esac
	guest_kernel "$pattern"
done <"$LIST"

sum() { # sum the N in "N <word>" over the per-kernel lines
	awk -v w="$1" '/^[^ ].*: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ {
		for (i = 2; i <= NF; i++) if ($i ~ "^" w) s += $(i - 1)
	} END { print s + 0 }' "$lines"
}
passed=$(sum passed) failed=$(sum failed) skipped=$(sum skipped)
echo
echo "check-kernels: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
