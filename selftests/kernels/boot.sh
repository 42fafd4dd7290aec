#!/usr/bin/env bash
# Boot one fetched kernel under QEMU (TCG, niced: the machine is shared) with
# the check-kernels initramfs and wait for it to power off.  The unit and
# end-to-end tests' output (second serial port) goes to LOG, the guest's
# console to LOG.console.
# QEMU is killed on every exit path, and after KERNELS_TIMEOUT seconds
# (default 480: the unit tests and e2e.sh's three xvnetd starts took about
# 170 s under TCG here, more on a loaded machine).  Exit 0 when the guest
# ran the tests to their end (whatever they found), 1 otherwise (the reason
# on stderr).
# usage: selftests/kernels/boot.sh KERNEL_DIR LOG
# env:   KERNELS_QEMU (default qemu-system-x86_64), KERNELS_SMP (default 2), KERNELS_MEM MiB (default 1024),
#        KERNELS_TIMEOUT seconds (default 480),
#        KERNELS_UNIT: only these unit-test groups (comma-separated; default all)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KERN=${1:?usage: boot.sh KERNEL_DIR LOG}
LOG=${2:?usage: boot.sh KERNEL_DIR LOG}
TIMEOUT=${KERNELS_TIMEOUT:-480}

rm -f "$LOG" "$LOG.console"   # never read a previous run's results

# One guest at a time on this machine, whichever tree or user starts it
# (flock works on a descriptor opened read-only: another user's file is fine).
lock="${TMPDIR:-/tmp}/xvnet-check-kernels.lock"
{ exec 8>>"$lock"; } 2>/dev/null || exec 8<"$lock"
flock 8

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xvnet-boot.XXXXXX")
qpid=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	trap '' INT TERM HUP   # a second signal must not cut the cleanup short
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		sleep 0.5
		kill -9 "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
trap '' PIPE   # a reader of our stderr gone must not kill us past the cleanup

bash "$HERE/initramfs.sh" "$KERN" "$tmp/initrd.gz"
nice -n 10 "${KERNELS_QEMU:-qemu-system-x86_64}" -accel tcg -cpu max -m "${KERNELS_MEM:-1024}" \
	-smp "${KERNELS_SMP:-2}" -nodefaults -no-user-config -display none -no-reboot \
	-serial "file:$LOG.console" -serial "file:$LOG" \
	-kernel "$KERN/vmlinuz" -initrd "$tmp/initrd.gz" \
	-append "console=ttyS0 panic=-1 oops=panic quiet${KERNELS_UNIT:+ xvnet.unit=$KERNELS_UNIT}" \
	>"$tmp/qemu.out" 2>&1 &
qpid=$!

deadline=$((SECONDS + TIMEOUT))
while kill -0 "$qpid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
	sleep 0.2
done
if kill -0 "$qpid" 2>/dev/null; then
	echo "boot: guest still running after ${TIMEOUT}s: killed" >&2
	status=1
else
	wait "$qpid" && status=0 || status=1
	qpid=
	[ "$status" -eq 0 ] || echo "boot: qemu failed: $(tail -n 3 "$tmp/qemu.out")" >&2
fi
if ! grep -q '^XVNET-E2E-EXIT ' "$LOG" 2>/dev/null; then
	echo "boot: the guest did not finish the unit and end-to-end tests; console's end:" >&2
	tail -n 15 "$LOG.console" 2>/dev/null | sed 's/^/  | /' >&2
	status=1
fi
exit "$status"
