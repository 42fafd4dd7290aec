#!/usr/bin/env bash
# Build the initrd of a `make check-kernels` guest for one fetched kernel
# (a directory made by fetch.sh) into OUT: two gzipped cpio archives, one
# after the other (the kernel unpacks both):
#   userland  busybox-static, init, $BUILD/tests/unit as /xvnet/unit, the
#             end-to-end tests (e2e.sh and the programs they run: xvnetd,
#             xvnetctl, xvnet-trafgen, in /xvnet) and the host programs they
#             run (sh, ip), each with the shared libraries ldd names, at their
#             host paths and as /bin/sh.  Shared by every kernel, cached.
#   modules   the kernel's modules and load.order, cached in its directory.
# usage: selftests/kernels/initramfs.sh KERNEL_DIR OUT
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
KERN=${1:?usage: initramfs.sh KERNEL_DIR OUT}
OUT=${2:?usage: initramfs.sh KERNEL_DIR OUT}
UNIT="$BUILD/tests/unit"
# what selftests/kernels/e2e.sh runs, from $BUILD/bin
E2E_BINS="xvnetd xvnetctl xvnet-trafgen"
# What the unit tests run through system(), found on the host's PATH.  sh is
# the host's too: busybox's sh runs its own applets first (its ip knows no
# veth), the host's finds the host's ip.
PROGS="sh ip"

die() { echo "initramfs: error: $*" >&2; exit 1; }

[ -x "$UNIT" ] || die "no $UNIT (make $UNIT)"
e2e_bins=()
for b in $E2E_BINS; do
	[ -x "$BUILD/bin/$b" ] || die "no $BUILD/bin/$b (make)"
	e2e_bins+=("$BUILD/bin/$b")
done
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
	# ldd fails on a static binary ("not a dynamic executable")
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
		busybox=$b; break
	fi
done
[ -n "$busybox" ] || die "no static busybox (install busybox-static)"
progs=()
for p in $PROGS; do
	f=$(command -v "$p") || die "no $p on the host"
	progs+=("$(readlink -f "$f")")
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xvnet-initramfs.XXXXXX")
trap 'trap "" INT TERM HUP; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

pack() { # DIR OUT.gz
	(cd "$1" && find . -print0 | sort -z |
		cpio --null -o -H newc --owner 0:0 --quiet) | gzip -4 >"$2.tmp"
	mv "$2.tmp" "$2"
}

# copy_elf FILE DEST_PATH: FILE at DEST_PATH in $tmp/u, with its libraries
copy_elf() {
	local f=$1 dst=$2 lib
	install -D -m 0755 "$f" "$tmp/u$dst"
	for lib in $(ldd "$f" | grep -oE '/[^ ]+' || true); do
		[ -e "$tmp/u$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$tmp/u$lib"
	done
}

user="$BUILD/kernels/userland.cpio.gz"
stamp=$( { sha256sum "$UNIT" "$busybox" "$HERE/init" "$HERE/initramfs.sh" "$HERE/e2e.sh" \
	"${e2e_bins[@]}" "${progs[@]}" /etc/passwd /etc/group;
	for f in "$UNIT" "${e2e_bins[@]}" "${progs[@]}"; do ldd "$f"; done; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$user.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -s "$user" ]; then
	mkdir -p "$tmp/u"/{bin,sbin,dev,proc,sys,tmp,run,root,lib/modules}
	cp "$busybox" "$tmp/u/bin/busybox"
	install -m 0755 "$HERE/init" "$tmp/u/init"
	# /dev/console before devtmpfs is mounted, for early output (root only;
	# without it the kernel warns and init's output still reaches ttyS1)
	mknod -m 600 "$tmp/u/dev/console" c 5 1 2>/dev/null || true
	copy_elf "$UNIT" /xvnet/unit
	for b in "${e2e_bins[@]}"; do
		copy_elf "$b" "/xvnet/${b##*/}"
	done
	install -m 0755 "$HERE/e2e.sh" "$tmp/u/xvnet/e2e.sh"
	for p in "${progs[@]}"; do
		copy_elf "$p" "$p"
	done
	[ -e "$tmp/u/bin/sh" ] || copy_elf "$(command -v sh)" /bin/sh
	# the config tests resolve user and group names (tap owner/group)
	mkdir -p "$tmp/u/etc"
	cp /etc/passwd /etc/group "$tmp/u/etc/"
	pack "$tmp/u" "$user"
	echo "$stamp" >"$user.stamp"
fi

mods="$KERN/modules.cpio.gz"
if [ ! -s "$mods" ] || [ "$KERN/load.order" -nt "$mods" ]; then
	mkdir -p "$tmp/m/lib/modules"
	cp "$KERN"/modules/*.ko "$KERN/load.order" "$tmp/m/lib/modules/"
	pack "$tmp/m" "$mods"
fi

cat "$user" "$mods" >"$OUT"
