#!/usr/bin/env bash
# The daemon's layers include one way only (issue 17; docs in README.md,
# section Layout):
#   loader/conf/  the desired state: plain C, no libbpf, JSON, netlink or
#                 systemd, and nothing of loader/ outside conf/;
#   loader/kern/  kern/, conf/, lib/, maps/ only: never the request layer
#                 nor JSON;
#   loader/api/   anything below it; nothing below includes api/.
# Every file of loader/ is in one of the three, but for main.c (the
# program's entry, which wires them together): another file directly under
# loader/, or a C file in another directory of it, fails.
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

# layer DIR ALLOWED FORBIDDEN WHAT: every file of DIR reaches only headers
# whose paths match the ERE ALLOWED, none of which includes a system header
# matching the ERE FORBIDDEN (empty: any); WHAT says the rule in a failure.
layer() {
	local f g ok inc
	for f in $(ls "$1"/*.[ch] 2>/dev/null); do
		ok=1
		files=$(deps "$f") || files=$f
		[ -n "$files" ] || files=$f
		for g in $files; do
			if ! [[ "$g" =~ ^($2) ]]; then
				bad "$f reaches $g ($4)"
				ok=0
			fi
			[ -n "$3" ] || continue
			inc=$(grep -m1 -oE "^#include <($3)/[^>]*>" "$g")
			if [ -n "$inc" ]; then
				bad "$f reaches $g, which includes ${inc#\#include }"
				ok=0
			fi
		done
		[ "$ok" = 1 ] && passed=$((passed + 1))
	done
}

gen="$build/include/"
# conf/: the desired state, plain C
layer loader/conf 'loader/conf/|lib/|maps/' 'bpf|json-c|xdp|libmnl|systemd' \
	'conf/ includes only conf/, lib/, maps/'
# kern/: the live resources; replies are built in api/ from the plain
# structs kern/ returns, so nothing it reaches includes json-c
layer loader/kern "loader/kern/|loader/conf/|lib/|maps/|bpf/|$gen" 'json-c' \
	'kern/ includes only kern/, conf/, lib/, maps/'
# api/: the top.  It may reach every layer below it, never ctl/ or tools/;
# no file of a lower layer reaches api/ (conf/ and kern/ are held to their
# lists above).
layer loader/api "loader/(conf|kern|api)/|lib/|maps/|bpf/|$gen" '' \
	'api/ includes only conf/, kern/, api/, lib/, maps/'
# nothing of the daemon outside the layers but its entry (not even a
# unit file: those are in systemd/)
for f in $(find loader -type f \( -name '*.[ch]' -o ! -path 'loader/*/*' \) | sort); do
	case "$f" in
	loader/main.c|loader/conf/*.[ch]|loader/kern/*.[ch]|loader/api/*.[ch])
		;;
	*)
		bad "$f is in no layer (loader/conf/, loader/kern/, loader/api/)"
		continue ;;
	esac
	[ "$f" = loader/main.c ] || continue
	g=$(deps "$f" | grep -vE "^(loader/main\.c$|loader/(conf|kern|api)/|lib/|maps/|bpf/|$gen)" | head -1)
	if [ -n "$g" ]; then
		bad "$f reaches $g (main.c includes the layers, lib/, maps/)"
	else
		passed=$((passed + 1))
	fi
done

# the state file is written by the commit only (loader/kern/commit.h):
# d->save is called nowhere else
for f in $(grep -rlE -- '->save *\(' loader | sort); do
	if [ "$f" = loader/kern/commit.c ]; then
		passed=$((passed + 1))
	else
		bad "$f calls d->save (only loader/kern/commit.c records the state)"
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
