# shellcheck shell=bash
# xvnet selftest framework.  Source it first thing in every selftests/test_*.sh:
#
#   . "$(dirname "$0")/lib/common.sh"
#
# A test runs as its own bash process.  It ends with `pass MSG` (exit 0),
# `fail MSG` (exit 1) or `skip REASON` (exit 4); any other non-zero exit (e.g.
# from `set -e`) is a failure too.  Everything the test creates through these
# helpers (namespaces, interfaces, background processes) is registered and
# removed by an EXIT/INT/TERM trap, on every exit path.
#
# Names: every namespace and interface a test creates starts with $XV_PREFIX,
# "xt<pid in hex>_" (at most 9 characters), so names stay unique per test and
# run.sh can sweep what a killed test left behind.  Build a name with
# `xv_name SUFFIX` (checks the 15-character interface-name limit).
# XV_NAME_TAG=TAG replaces "xt" (e.g. to tell apart the tests of several
# people on one machine); run.sh sweeps only "xt" names, so such a test
# relies on its own trap.
#
# Call the creating helpers (ns_create, veth_create, tap_create, bg_start,
# guest_start, ...) in the test's main shell, not inside $(...) or a pipeline:
# a subshell's registrations and its fail/skip do not reach the test.
# common.sh sets pipefail only; a test may add `set -e` (a failing command
# then reports "FAIL: exit code N (last command: ...)").
#
# Tests touch only interfaces and namespaces they created: never the machine's
# own interfaces (never eth0 in the root namespace), and addresses live only
# inside namespaces the test created.

[ -n "${XV_COMMON_SH:-}" ] && return 0
XV_COMMON_SH=1

set -o pipefail

# Debian's programs before any other on PATH: the python3 modules `make deps`
# installs are Debian's interpreter's, and a version manager's shim first on
# PATH (pyenv's here) costs ~0.4 s a start against Debian's ~30 ms, in tests
# that start python3 a hundred times
case "$PATH" in
/usr/bin:*) ;;
*) PATH=/usr/bin:$PATH ;;
esac

XV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export XV_ROOT   # python checkers import selftests/lib/*.py
XV_BUILD=${BUILD:-build}
case "$XV_BUILD" in /*) ;; *) XV_BUILD="$XV_ROOT/$XV_BUILD" ;; esac
XV_BIN="$XV_BUILD/bin"
XV_TEST=$(basename "${0%.sh}")
XV_PREFIX="${XV_NAME_TAG:-xt}$(printf %x $$)_"
# Per-test scratch directory (logs, pid files, sockets); removed at exit
# unless XV_KEEP=1.
XV_TMP=$(mktemp -d "/tmp/${XV_PREFIX}XXXXXX")
XV_EXIT_CODE_SKIP=4

# Background processes are recorded in $XV_PIDDIR/<test pid>.<pid> (their
# argv, NUL-separated) so that run.sh can stop those of a test that was killed
# with SIGKILL: by id, and only if /proc/<pid>/cmdline still matches.
XV_PIDDIR=${XV_PIDDIR:-/tmp/xvnet-selftest-pids}
mkdir -p "$XV_PIDDIR" 2>/dev/null || true

_XV_CLEANUPS=()   # shell-quoted commands, run last-registered first
_XV_CLEANING=0

# ---- messages and results -------------------------------------------------
xv_ts()  { date +%H:%M:%S.%3N; }
log()    { echo "[$(xv_ts)] $XV_TEST: $*" >&2; }
_XV_RESULT=""
pass()   { _XV_RESULT=pass; echo "PASS: ${*:-$XV_TEST}"; exit 0; }
fail()   { _XV_RESULT=fail; echo "FAIL: ${*:-$XV_TEST}"; exit 1; }
skip()   { _XV_RESULT=skip; echo "SKIP: ${*:-no reason given}"; exit "$XV_EXIT_CODE_SKIP"; }

# busybox_has APPLET: the host's busybox has APPLET.  Not `| grep -q`: with
# pipefail, grep's early exit can kill busybox with SIGPIPE while it still
# writes its list, and the pipeline fails though the applet is there (seen:
# "busybox without ping6" on a busybox that has it).
busybox_has() {
	busybox --list 2>/dev/null | grep -x "$1" >/dev/null
}

# check DESCRIPTION CMD...: run CMD, fail the test with DESCRIPTION if it fails.
check() {
	local what=$1; shift
	"$@" || fail "$what (command: $*)"
}

# ---- cleanup registry -------------------------------------------------------
# cleanup_add CMD [ARGS...]: run CMD at exit (errors ignored), LIFO order.
cleanup_add() {
	local q
	printf -v q '%q ' "$@"
	_XV_CLEANUPS+=("$q")
}

xv_run_cleanups() {
	local i
	[ "$_XV_CLEANING" = 1 ] && return 0
	_XV_CLEANING=1
	for ((i = ${#_XV_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${_XV_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
	_XV_CLEANUPS=()
	if [ "${XV_KEEP:-0}" != 1 ]; then
		rm -rf "$XV_TMP"
	else
		echo "$XV_TEST: kept $XV_TMP" >&2
	fi
}

_xv_on_exit() {
	local rc=$? cmd=$BASH_COMMAND
	trap - EXIT INT TERM HUP
	# An exit that did not go through pass/fail/skip (set -e, a plain exit).
	if [ -z "$_XV_RESULT" ] && [ "$rc" -ne 0 ]; then
		echo "FAIL: exit code $rc (last command: $cmd)"
		[ "$rc" -eq "$XV_EXIT_CODE_SKIP" ] && rc=1
	fi
	set +e
	xv_run_cleanups
	exit "$rc"
}
_xv_on_signal() { # SIGNAME
	_XV_RESULT=fail
	echo "FAIL: interrupted by SIG$1"
	exit 1   # the EXIT trap cleans up
}
trap _xv_on_exit EXIT
trap '_xv_on_signal INT' INT
trap '_xv_on_signal TERM' TERM
trap '_xv_on_signal HUP' HUP

# ---- requirements -------------------------------------------------------------
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "missing command: $c"
	done
}
require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
require_file() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || skip "missing $f"
	done
}
# require_bin NAME...: build/bin/NAME must exist (built by `make`).
require_bin() {
	local b
	for b in "$@"; do
		[ -x "$XV_BIN/$b" ] || skip "missing $XV_BIN/$b (run make)"
	done
}

# ---- names --------------------------------------------------------------------
# xv_name SUFFIX: print "$XV_PREFIX$SUFFIX".  The prefix is at most 9
# characters, so a suffix of up to 6 always gives a valid interface name (15);
# a longer result is refused (error on stderr, return 1).
xv_name() {
	local n="$XV_PREFIX$1"
	if [ ${#n} -gt 15 ]; then
		echo "xv_name: interface name too long: $n" >&2
		return 1
	fi
	echo "$n"
}

# ---- namespaces -----------------------------------------------------------------
# ns_create NAME: create namespace NAME (use xv_name), bring lo up.
ns_create() {
	local ns=$1
	case "$ns" in "$XV_PREFIX"*) ;; *) fail "ns_create: $ns does not start with $XV_PREFIX" ;; esac
	ip netns add "$ns" || fail "ip netns add $ns"
	cleanup_add ns_destroy "$ns"
	ip -n "$ns" link set lo up
}

# ns_destroy NAME: kill processes still in NAME (ours: the namespace is ours),
# then delete it.
ns_destroy() {
	local ns=$1 pids
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill $pids 2>/dev/null
		# shellcheck disable=SC2086
		wait_until 3 _xv_ns_empty "$ns" || kill -9 $pids 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null || true
}
_xv_ns_empty() { [ -z "$(ip netns pids "$1" 2>/dev/null)" ]; }

# ns_exec NS CMD...: run CMD in NS ("" = root namespace).
ns_exec() {
	local ns=$1; shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# _xv_ip NS ARGS...: `ip` in NS ("" = root namespace).
_xv_ip() {
	local ns=$1; shift
	if [ -n "$ns" ]; then ip -n "$ns" "$@"; else ip "$@"; fi
}

# ---- interfaces -------------------------------------------------------------------
_xv_own_if() {
	case "$1" in "$XV_PREFIX"*) ;; *) fail "refusing to touch interface $1: not created by this test (prefix $XV_PREFIX)" ;; esac
}

# _xv_noaddr IF NS: in the root namespace, keep the kernel from giving IF an
# IPv6 link-local address (addresses live only in test namespaces).
_xv_noaddr() {
	[ -z "${2:-}" ] || return 0
	ip link set dev "$1" addrgenmode none 2>/dev/null || true
}

# link_del IF [NS]: delete an interface this test created.
link_del() { _xv_own_if "$1"; _xv_ip "${2:-}" link del "$1" 2>/dev/null || true; }

# veth_create A B [nsA] [nsB]: veth pair A<->B, A in nsA, B in nsB (empty or
# absent = root namespace); both ends up.
veth_create() {
	local a=$1 b=$2 na=${3:-} nb=${4:-}
	_xv_own_if "$a"; _xv_own_if "$b"
	local args=(link add "$a")
	[ -n "$na" ] && args+=(netns "$na")
	args+=(type veth peer name "$b")
	[ -n "$nb" ] && args+=(netns "$nb")
	ip "${args[@]}" || fail "veth_create $a $b"
	cleanup_add link_del "$a" "$na"
	_xv_noaddr "$a" "$na"; _xv_noaddr "$b" "$nb"
	_xv_ip "$na" link set "$a" up || fail "link set $a up"
	_xv_ip "$nb" link set "$b" up || fail "link set $b up"
}

# tap_create NAME [NS]: a persistent tap (mode tap, no multi_queue unless
# TAP_MQ=1), up.
tap_create() {
	local t=$1 ns=${2:-}
	_xv_own_if "$t"
	local args=(tuntap add dev "$t" mode tap)
	[ "${TAP_MQ:-0}" = 1 ] && args+=(multi_queue)
	_xv_ip "$ns" "${args[@]}" || fail "tap_create $t"
	cleanup_add link_del "$t" "$ns"
	_xv_noaddr "$t" "$ns"
	_xv_ip "$ns" link set "$t" up || fail "link set $t up"
}

# bridge_create NAME [NS]: a Linux bridge (STP off, forward delay 0), up.
bridge_create() {
	local br=$1 ns=${2:-}
	_xv_own_if "$br"
	_xv_ip "$ns" link add "$br" type bridge stp_state 0 forward_delay 0 ||
		fail "bridge_create $br"
	cleanup_add link_del "$br" "$ns"
	_xv_noaddr "$br" "$ns"
	_xv_ip "$ns" link set "$br" up || fail "link set $br up"
}

# bridge_add BRIDGE IF [NS]
bridge_add() {
	_xv_own_if "$1"; _xv_own_if "$2"
	_xv_ip "${3:-}" link set "$2" master "$1" || fail "bridge_add $1 $2"
}

# addr_add IF ADDR/PREFIX NS: addresses only inside namespaces we created.
addr_add() {
	local ifc=$1 addr=$2 ns=${3:-}
	[ -n "$ns" ] || fail "addr_add $ifc $addr: addresses live only in a test namespace"
	case "$ns" in "$XV_PREFIX"*) ;; *) fail "addr_add: namespace $ns is not ours" ;; esac
	local fam=-4
	case "$addr" in *:*) fam=-6 ;; esac
	if [ $fam = -6 ]; then
		ip -n "$ns" -6 addr add "$addr" dev "$ifc" nodad || fail "addr_add $ifc $addr"
	else
		ip -n "$ns" addr add "$addr" dev "$ifc" || fail "addr_add $ifc $addr"
	fi
}

# if_stat IF FIELD [NS]: one counter from /sys/class/net/IF/statistics
# (rx_packets, tx_packets, rx_bytes, tx_dropped, ...).
if_stat() {
	local ifc=$1 field=$2 ns=${3:-}
	ns_exec "$ns" cat "/sys/class/net/$ifc/statistics/$field"
}
if_rx_packets() { if_stat "$1" rx_packets "${2:-}"; }
if_tx_packets() { if_stat "$1" tx_packets "${2:-}"; }

# if_mac IF [NS]
if_mac() { ns_exec "${2:-}" cat "/sys/class/net/$1/address"; }

# ---- processes ------------------------------------------------------------------
# bg_start LOGFILE CMD...: run CMD in the background (own process group), stdout
# and stderr to LOGFILE; killed at exit.  Sets BG_PID.  BG_NICE=N in the
# environment runs it at niceness N (nice execs CMD: the recorded argv still
# matches the process).
bg_start() {
	local logf=$1; shift
	if [ -n "${BG_NICE:-}" ]; then
		setsid nice -n "$BG_NICE" "$@" >"$logf" 2>&1 </dev/null &
	else
		setsid "$@" >"$logf" 2>&1 </dev/null &
	fi
	BG_PID=$!
	printf '%s\0' "$@" >"$XV_PIDDIR/$$.$BG_PID" 2>/dev/null || true
	cleanup_add proc_stop "$BG_PID"
}

# proc_stop PID: TERM, wait up to 3 s, then KILL (its process group too: it was
# started with setsid by bg_start).
proc_stop() {
	local pid=$1
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		rm -f "$XV_PIDDIR/$$.$pid"
		return 0
	fi
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	if ! wait_until 3 _xv_dead "$pid"; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		wait_until 2 _xv_dead "$pid" || true
	fi
	wait "$pid" 2>/dev/null
	rm -f "$XV_PIDDIR/$$.$pid"
	return 0
}
_xv_dead() { ! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" = Z ]; }

# ---- polling ----------------------------------------------------------------------
# wait_until TIMEOUT_S CMD...: poll CMD every 0.1 s until it succeeds (return
# 0) or TIMEOUT_S seconds pass (return 1).  Never sleep a fixed time where a
# condition can be polled.
wait_until() {
	local timeout=$1; shift
	local deadline=$(( $(date +%s%N) + ${timeout%.*} * 1000000000 ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# nums_delta BEFORE AFTER: "a1-b1 a2-b2 ..." of two blank-separated lists
nums_delta() {
	local -a b=($1) a=($2) out=()
	local i
	for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do
		out+=($((a[i] - b[i])))
	done
	echo "${out[*]}"
}
# nums_sum LIST: the sum of a blank-separated list
nums_sum() {
	local n s=0
	for n in $1; do s=$((s + n)); done
	echo "$s"
}

# elapsed_ms START_NS: milliseconds since START_NS (from `date +%s%N`).
elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# json_get FILE KEY: a top-level value of the JSON object in FILE
# (jq, not python3: an interpreter's start costs 40-400 ms here, and the
# helpers run hundreds of times in a `make check`; XV_JQ_PY prints what
# python's print() did for null and booleans: callers compare with them)
XV_JQ_PY='def py: if . == null then "None" elif . == true then "True" elif . == false then "False" else . end;'
json_get() {
	jq -r --arg k "$2" "$XV_JQ_PY"' if has($k) then .[$k] | py else error("no key \($k)") end' "$1"
}
# wait_done PID SECS: the background process PID ends within SECS, or fail
wait_done() {
	wait_until "$2" _xv_dead "$1" || fail "process $1 still running after $2 s"
}
