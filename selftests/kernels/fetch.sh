#!/usr/bin/env bash
# Fetch one Debian kernel for `make check-kernels` (never installed on the
# host): the highest-versioned package apt-cache knows whose name matches
# PATTERN (a line of kernels.list) is fetched with `apt-get download` into
# $BUILD/kernels/debs/, unpacked with dpkg -x, and reduced to
#   $BUILD/kernels/PKG/vmlinuz
#   $BUILD/kernels/PKG/release          the kernel's `uname -r`
#   $BUILD/kernels/PKG/modules/*.ko     the guest's modules, decompressed
#   $BUILD/kernels/PKG/load.order       their names, dependencies first
# Prints the directory.  Cached: a rerun with nothing changed only prints.
# Exit 3 when the kernel cannot be had here (no such package, no network):
# the caller reports a SKIP with the reason printed on stderr.
# usage: selftests/kernels/fetch.sh PATTERN
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
KDIR="$BUILD/kernels"
PATTERN=${1:?usage: fetch.sh PATTERN}

# What the unit tests need that a cloud kernel builds as modules: veth (their
# devices), tun, clsact and cls_bpf (tc programs), 8021q.  Their dependencies
# are found with modinfo; a name built into the kernel is left out.  (No 9p:
# Debian's cloud kernels have CONFIG_NET_9P off, so the guest's programs
# travel in its initramfs and its results on a second serial port.)
MODULES="veth tun sch_ingress cls_bpf 8021q"

log() { echo "fetch-kernel: $*" >&2; }
missing() { echo "fetch-kernel: $*" >&2; exit 3; }
die() { echo "fetch-kernel: error: $*" >&2; exit 1; }

for c in apt-cache apt-get dpkg modinfo xz flock sha256sum; do
	command -v "$c" >/dev/null || missing "no $c on this machine"
done

mkdir -p "$KDIR/debs"
exec 9>"$KDIR/.lock"
flock 9   # one fetcher at a time

find_pkg() {
	apt-cache search --names-only "$PATTERN" 2>/dev/null | awk '{print $1}' |
		grep -E "$PATTERN" | sort -V | tail -1 || true
}
pkg=$(find_pkg)
if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
	log "no package matches '$PATTERN' in the apt lists: apt-get update"
	apt-get update -qq >&2 || true
	pkg=$(find_pkg)
fi
[ -n "$pkg" ] || missing "no package matches '$PATTERN' (apt-cache search)"

out="$KDIR/$pkg"
stamp=$( { echo "$pkg $MODULES"; sha256sum "$HERE/fetch.sh"; } | sha256sum | cut -d' ' -f1)
if [ -s "$out/vmlinuz" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$out"
	exit 0
fi

deb=$(find "$KDIR/debs" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -1)
if [ -z "$deb" ]; then
	log "apt-get download $pkg"
	# apt's _apt user cannot write here: its "unsandboxed" warning is harmless
	(cd "$KDIR/debs" && apt-get download -qq "$pkg" 2>&1 | grep -v unsandboxed >&2) || true
	deb=$(find "$KDIR/debs" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -1)
	[ -n "$deb" ] || missing "apt-get download $pkg failed"
fi

tmp=$(mktemp -d "$KDIR/unpack.XXXXXX")
trap 'trap "" INT TERM HUP; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
dpkg -x "$deb" "$tmp/x"
vmlinuz=$(find "$tmp/x/boot" -maxdepth 1 -name 'vmlinuz-*' | head -1)
[ -n "$vmlinuz" ] || die "no vmlinuz in $deb"
release=${vmlinuz##*/vmlinuz-}
moddir="$tmp/x/lib/modules/$release"
[ -d "$moddir" ] || die "no lib/modules/$release in $deb"

# mod_file NAME: the module's decompressed .ko under $tmp/ko, or "" when it
# is built in.  Module names use _ where file names may use -.
mod_file() {
	local m=$1 f alt=${1//_/-}
	[ -s "$tmp/ko/$m.ko" ] && { echo "$tmp/ko/$m.ko"; return; }
	f=$(find "$moddir" \( -name "$m.ko*" -o -name "$alt.ko*" \) | head -1)
	if [ -z "$f" ]; then
		grep -qE "/($m|$alt)\.ko\$" "$moddir/modules.builtin" 2>/dev/null ||
			die "module $m neither in $pkg nor built in"
		return 0
	fi
	mkdir -p "$tmp/ko"
	case "$f" in
	*.ko)     cp "$f" "$tmp/ko/$m.ko" ;;
	*.ko.xz)  xz -dc "$f" >"$tmp/ko/$m.ko" ;;   # busybox insmod reads no xz
	*.ko.zst) zstd -dc "$f" >"$tmp/ko/$m.ko" ;;
	*.ko.gz)  gzip -dc "$f" >"$tmp/ko/$m.ko" ;;
	*) die "unknown module file $f" ;;
	esac
	echo "$tmp/ko/$m.ko"
}

# Depth first, dependencies before the module: the insmod order.
declare -A seen=()
order=()
visit() {
	local m=$1 f d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	f=$(mod_file "$m")
	[ -n "$f" ] || return 0
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do
		visit "$d"
	done
	order+=("$m")
}
for m in $MODULES; do
	visit "$m"
done

rm -rf "$out"
mkdir -p "$out/modules"
for m in "${order[@]}"; do
	cp "$tmp/ko/$m.ko" "$out/modules/"
done
printf '%s\n' "${order[@]}" >"$out/load.order"
echo "$release" >"$out/release"
cp "$vmlinuz" "$out/vmlinuz"
echo "$stamp" >"$out/stamp"
log "$pkg: kernel $release, modules: ${order[*]}"
echo "$out"
