#!/usr/bin/env bash
# Build the xvnet test guest under $BUILD/guest (default build/guest):
#   vmlinuz        Debian 6.1 cloud kernel (apt-get download + dpkg -x; never
#                  installed on the host)
#   initramfs.gz   busybox-static + virtio/8021q modules + init + udp_echo +
#                  tcp_stream + the host's ethtool with its libraries (when
#                  the host has ethtool: busybox has none, and `ethtool -k
#                  eth0` in the guest is the evidence that its TSO is on)
#   udp_probe      host-side UDP client for the tests
#   tcp_stream     TCP bulk sender/receiver, static: runs in the guest and on
#                  the host alike
# Cached: a rerun only rebuilds what is missing or whose inputs changed.
# usage: selftests/guest/build-guest.sh [--force]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
OUT="$BUILD/guest"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

MODS_NET="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
MODS_VLAN="llc stp garp mrp 8021q"

log() { echo "build-guest: $*" >&2; }
die() { echo "build-guest: error: $*" >&2; exit 1; }

for c in gcc cpio gzip dpkg apt-get apt-cache sha256sum flock; do
	command -v "$c" >/dev/null || die "missing command $c"
done
BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
	# ldd fails on a static binary ("not a dynamic executable")
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
		BUSYBOX=$b; break
	fi
done
[ -n "$BUSYBOX" ] || die "no static busybox (install busybox-static)"

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9   # one builder at a time

# ---- kernel ----------------------------------------------------------------
kernel_ok() {
	[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/kernel.version" ] || return 1
	local v; v=$(cat "$OUT/kernel.version")
	local m
	for m in $MODS_NET $MODS_VLAN; do
		[ -s "$OUT/modules/$m.ko" ] || return 1
	done
	[ -n "$v" ]
}

fetch_kernel() {
	local pkg dl tmp ver moddir m f
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -1 || true)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		log "no linux-image-6.1.0-*-cloud-amd64 in apt lists: apt-get update"
		apt-get update -qq >&2 || true
		pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null |
			awk '{print $1}' | sort -V | tail -1 || true)
	fi
	[ -n "$pkg" ] || die "no linux-image-6.1.0-*-cloud-amd64 package found by apt-cache"
	log "kernel package $pkg"
	dl="$OUT/dl"
	rm -rf "$dl"; mkdir -p "$dl"
	# apt's _apt user cannot write here: the unsandboxed warning is harmless.
	(cd "$dl" && apt-get download -qq "$pkg" 2>&1 | grep -v 'unsandboxed' >&2) || true
	local deb; deb=$(find "$dl" -maxdepth 1 -name '*.deb' | head -1)
	[ -n "$deb" ] || die "apt-get download $pkg failed"
	tmp="$dl/x"
	dpkg -x "$deb" "$tmp"
	f=$(find "$tmp/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | head -1 || true)
	[ -n "$f" ] || die "no vmlinuz in $deb"
	ver=${f##*/vmlinuz-}
	moddir="$tmp/lib/modules/$ver"
	rm -rf "$OUT/modules"; mkdir -p "$OUT/modules"
	for m in $MODS_NET $MODS_VLAN; do
		f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -1)
		[ -n "$f" ] || die "module $m not in $pkg"
		case "$f" in
		*.ko)     cp "$f" "$OUT/modules/$m.ko" ;;
		*.ko.xz)  xz -dc "$f" >"$OUT/modules/$m.ko" ;;   # busybox insmod reads no xz
		*.ko.zst) zstd -dc "$f" >"$OUT/modules/$m.ko" ;;
		*.ko.gz)  gzip -dc "$f" >"$OUT/modules/$m.ko" ;;
		esac
	done
	cp "$tmp/boot/vmlinuz-$ver" "$OUT/vmlinuz.tmp" && mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
	echo "$pkg $ver" >"$OUT/kernel.version"
	rm -rf "$dl"
	log "kernel $ver ready"
}

if [ "$FORCE" = 1 ] || ! kernel_ok; then
	fetch_kernel
fi

# ---- programs ----------------------------------------------------------------
build_prog() { # SRC OUT [gcc flags]
	local src=$1 out=$2; shift 2
	if [ "$FORCE" = 1 ] || [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
		log "cc $(basename "$src")"
		gcc -O2 -Wall -Wextra -Werror "$@" "$src" -o "$out.tmp"
		mv "$out.tmp" "$out"
	fi
}
build_prog "$HERE/udp_echo.c" "$OUT/udp_echo" -static   # runs in the guest
build_prog "$HERE/udp_probe.c" "$OUT/udp_probe"           # runs on the host
build_prog "$HERE/tcp_stream.c" "$OUT/tcp_stream" -std=gnu11 -static   # guest and host

# The host's ethtool and the shared libraries it loads (ldd), at the same
# paths in the guest.  Optional: a guest without it only lacks the evidence.
ETHTOOL=$(command -v ethtool 2>/dev/null || true)
ETHTOOL_FILES=()
if [ -n "$ETHTOOL" ]; then
	ETHTOOL=$(readlink -f "$ETHTOOL")
	ETHTOOL_FILES=("$ETHTOOL")
	while read -r lib; do
		[ -n "$lib" ] && ETHTOOL_FILES+=("$lib")
	done < <(ldd "$ETHTOOL" 2>/dev/null | grep -oE '/[^ ]+' || true)
fi

# ---- initramfs ---------------------------------------------------------------
stamp=$( { cat "$OUT/kernel.version"; sha256sum "$HERE/init" "$OUT/udp_echo" "$OUT/tcp_stream" \
	"$BUSYBOX" "${ETHTOOL_FILES[@]}" "$OUT"/modules/*.ko "$HERE/build-guest.sh"; } |
	sha256sum | cut -d' ' -f1)
if [ "$FORCE" = 1 ] || [ ! -s "$OUT/initramfs.gz" ] ||
   [ "$(cat "$OUT/initramfs.stamp" 2>/dev/null)" != "$stamp" ]; then
	log "initramfs"
	rd="$OUT/rootfs"
	rm -rf "$rd"
	mkdir -p "$rd"/{bin,sbin,dev,proc,sys,tmp,run,lib/modules}
	cp "$BUSYBOX" "$rd/bin/busybox"
	ln -s busybox "$rd/bin/sh"
	cp "$HERE/init" "$rd/init"
	chmod 755 "$rd/init"
	cp "$OUT/udp_echo" "$rd/bin/udp_echo"
	cp "$OUT/tcp_stream" "$rd/bin/tcp_stream"
	for f in "${ETHTOOL_FILES[@]}"; do
		# the libraries keep their paths: the loader finds them as on the host
		mkdir -p "$rd$(dirname "$f")"
		cp -L "$f" "$rd$f"
	done
	[ -n "$ETHTOOL" ] && [ "$ETHTOOL" != /sbin/ethtool ] && ln -sf "$ETHTOOL" "$rd/sbin/ethtool"
	cp "$OUT"/modules/*.ko "$rd/lib/modules/"
	# /dev/console must exist before devtmpfs is mounted for early output.
	mknod -m 600 "$rd/dev/console" c 5 1 2>/dev/null || true
	(cd "$rd" && find . -print0 | sort -z |
		cpio --null -o -H newc --owner 0:0 --quiet) | gzip -6 >"$OUT/initramfs.gz.tmp"
	mv "$OUT/initramfs.gz.tmp" "$OUT/initramfs.gz"
	echo "$stamp" >"$OUT/initramfs.stamp"
	rm -rf "$rd"
fi

echo "$OUT"
