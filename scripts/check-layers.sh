#!/usr/bin/env bash
# The daemon's layers include one way only (issue 17; docs in README.md,
# section Layout):
#   loader/conf/  the desired state: plain C, no libbpf, JSON, netlink or
#                 systemd, and nothing of loader/ outside conf/;
#   loader/kern/  (when it exists) never the request layer nor JSON;
#   loader/api/   anything below it.
# Files directly under loader/ are not split into kern/ and api/ yet: they
# count as the top, so conf/ may not include them.
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

if [ -d loader/kern ]; then
	for f in loader/kern/*.[ch]; do
		if grep -nE '^#include ("loader/api/|"loader/[a-z_]+\.h"|<json-c/)' "$f" >/dev/null; then
			bad "$f: $(grep -m1 -nE '^#include ("loader/api/|"loader/[a-z_]+\.h"|<json-c/)' "$f")"
		else
			passed=$((passed + 1))
		fi
	done
fi

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
