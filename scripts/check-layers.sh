#!/usr/bin/env bash
# The daemon's layers include one way only (issue 17; docs in README.md,
# section Layout):
#   loader/conf/  the desired state: plain C, no libbpf, JSON, netlink or
#                 systemd, and nothing of loader/ outside conf/;
#   loader/kern/  kern/, conf/, lib/, maps/ only: never the request layer,
#                 the files not split yet, nor JSON;
#   loader/api/   anything below it; nothing below includes api/.
# Files still directly under loader/ are not split into kern/ and api/ yet:
# they sit between kern/ and api/ (they may include kern/, not api/).
# Then build/tests/conf (conf/'s unit tests linked with conf/ and plain lib/
# code only) must run as nobody.
# Ends with "layers: N passed, N failed, 0 skipped" (one per file checked).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
build=${BUILD:-build}
passed=0 failed=0

bad() { echo "layers: $1"; failed=$((failed + 1)); }

# quoted headers a source reaches, its own included, one per line
deps() {
	cc -std=gnu11 -I. -I"$build/include" -MM "$1" 2>/dev/null |
		tr ' \\' '\n\n' | grep -E '\.[ch]$'
}

for f in loader/conf/*.c loader/conf/*.h; do
	ok=1
	files=$(deps "$f") || files=$f
	[ -n "$files" ] || files=$f
	for g in $files; do
		case "$g" in
		loader/conf/* | lib/* | maps/*) ;;
		*) bad "$f reaches $g (conf/ includes only conf/, lib/, maps/)"; ok=0 ;;
		esac
		if grep -nE '^#include <(bpf|json-c|xdp|libmnl|systemd)/' "$g" >/dev/null; then
			bad "$f reaches $g, which includes $(grep -m1 -oE '<(bpf|json-c|xdp|libmnl|systemd)/[^>]*>' "$g")"
			ok=0
		fi
	done
	[ "$ok" = 1 ] && passed=$((passed + 1))
done

# kern/: the live resources.  It reaches kern/, conf/, lib/, maps/, bpf/
# and the generated skeletons only, and nothing it reaches includes json-c
# (replies are built in api/ from the plain structs kern/ returns).
for f in $(ls loader/kern/*.[ch] 2>/dev/null); do
	ok=1
	files=$(deps "$f") || files=$f
	[ -n "$files" ] || files=$f
	for g in $files; do
		case "$g" in
		loader/kern/* | loader/conf/* | lib/* | maps/* | bpf/* | "$build"/include/*) ;;
		*) bad "$f reaches $g (kern/ includes only kern/, conf/, lib/, maps/)"; ok=0 ;;
		esac
		if grep -nE '^#include <json-c/' "$g" >/dev/null; then
			bad "$f reaches $g, which includes json-c"
			ok=0
		fi
	done
	[ "$ok" = 1 ] && passed=$((passed + 1))
done

# api/: the top.  It may reach every layer below it (and the files directly
# under loader/ that are not split yet), never ctl/ or tools/; and no file
# of a lower layer, nor the unsplit ones, reaches api/ (main.c, the
# program's entry, is the one caller from outside).
for f in $(ls loader/api/*.[ch] 2>/dev/null); do
	ok=1
	files=$(deps "$f") || files=$f
	[ -n "$files" ] || files=$f
	for g in $files; do
		case "$g" in
		loader/* | lib/* | maps/* | bpf/* | "$build"/include/*) ;;
		*) bad "$f reaches $g (api/ includes only loader/, lib/, maps/)"; ok=0 ;;
		esac
	done
	[ "$ok" = 1 ] && passed=$((passed + 1))
done
for f in $(ls loader/*.[ch] 2>/dev/null); do
	[ "$f" = loader/main.c ] && continue
	g=$(deps "$f" | grep -m1 '^loader/api/')
	if [ -n "$g" ]; then
		bad "$f reaches $g (only main.c and api/ itself include api/)"
	else
		passed=$((passed + 1))
	fi
done

# conf/ on its own: linked without libbpf, json-c, netlink; run unprivileged
conf_bin=$build/tests/conf
if [ ! -x "$conf_bin" ]; then
	bad "$conf_bin missing (make $conf_bin)"
elif ! command -v setpriv >/dev/null || [ "$(id -u)" != 0 ]; then
	"$conf_bin" >/dev/null 2>&1 && passed=$((passed + 1)) || bad "$conf_bin failed"
elif setpriv --reuid=nobody --regid=nogroup --clear-groups "$conf_bin" >"${TMPDIR:-/tmp}/xv-conf.$$" 2>&1; then
	passed=$((passed + 1))
else
	bad "$conf_bin as nobody: $(tail -3 "${TMPDIR:-/tmp}/xv-conf.$$")"
fi
rm -f "${TMPDIR:-/tmp}/xv-conf.$$"
if ldd "$conf_bin" 2>/dev/null | grep -qE 'libbpf|libjson-c|libmnl|libxdp'; then
	bad "$conf_bin links $(ldd "$conf_bin" | grep -oE 'lib(bpf|json-c|mnl|xdp)[^ ]*' | tr '\n' ' ')"
fi

echo "layers: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
