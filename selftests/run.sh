#!/usr/bin/env bash
# Run the xvnet selftests: every selftests/test_*.sh, each as its own bash
# process, one line per test, then the summary line
#     selftest: N passed, N failed, N skipped
# Exit 0 only when no test failed.
#
# usage: selftests/run.sh [-v] [-t TIMEOUT_S] [TEST...]
#   TEST       test_foo, test_foo.sh or a path; a name without "test_" or
#              with a glob (guest*) selects every match.  Default: all.
#   -v         print each test's full output (default: only of failures)
#   -t SECS    per-test time limit (default $XV_TEST_TIMEOUT or 600)
# Environment: BUILD (default build), XV_KEEP=1 keeps each test's scratch dir.
# Logs: $BUILD/selftests/<test>.log
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
export BUILD
VERBOSE=0
TIMEOUT=${XV_TEST_TIMEOUT:-600}

while getopts "vt:h" o; do
	case "$o" in
	v) VERBOSE=1 ;;
	t) TIMEOUT=$OPTARG ;;
	*) sed -n '2,13p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

# ---- which tests -------------------------------------------------------------
tests=()
if [ $# -eq 0 ]; then
	for f in "$HERE"/test_*.sh; do
		[ -e "$f" ] && tests+=("$f")
	done
else
	for a in "$@"; do
		a=${a##*/}; a=${a%.sh}
		case "$a" in test_*) ;; *) a="test_$a" ;; esac
		found=0
		# shellcheck disable=SC2231  # $a may be a glob on purpose
		for f in "$HERE"/$a.sh "$HERE"/$a*.sh; do
			[ -e "$f" ] || continue
			case " ${tests[*]:-} " in *" $f "*) ;; *) tests+=("$f") ;; esac
			found=1
		done
		if [ $found = 0 ]; then
			echo "run.sh: no test matches '$a'" >&2
			exit 2
		fi
	done
fi

# ---- leftovers of killed tests -------------------------------------------------
# Test resources are named xt<hex pid>_*: remove those whose test process is
# gone (a test killed with SIGKILL could not clean up).  Only such names.
sweep_stale() {
	local n pid f tpid
	# background processes (qemu, daemons) of dead tests: by recorded id
	for f in "${XV_PIDDIR:-/tmp/xvnet-selftest-pids}"/*.*; do
		[ -e "$f" ] || continue
		n=${f##*/}; tpid=${n%%.*}; pid=${n#*.}
		kill -0 "$tpid" 2>/dev/null && continue
		# (on stdin: cmp -s would trust /proc's st_size of 0)
		if [ -r "/proc/$pid/cmdline" ] && cmp -s - "$f" <"/proc/$pid/cmdline" 2>/dev/null; then
			echo "run.sh: stopping stale process $pid ($(tr '\0' ' ' <"$f" | cut -c1-60))" >&2
			kill -9 "$pid" 2>/dev/null
		fi
		rm -f "$f"
	done
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^xt[0-9a-f]+_' || true); do
		pid=$((16#$(echo "$n" | sed -E 's/^xt([0-9a-f]+)_.*/\1/')))
		kill -0 "$pid" 2>/dev/null && continue
		echo "run.sh: removing stale namespace $n" >&2
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	for n in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
		   grep -E '^xt[0-9a-f]+_' || true); do
		pid=$((16#$(echo "$n" | sed -E 's/^xt([0-9a-f]+)_.*/\1/')))
		kill -0 "$pid" 2>/dev/null && continue
		echo "run.sh: removing stale interface $n" >&2
		ip link del "$n" 2>/dev/null
	done
	[ "${XV_KEEP:-0}" = 1 ] && return 0   # keep the scratch dirs asked for
	for f in /tmp/xt*_??????; do   # scratch dirs (common.sh XV_TMP)
		[ -d "$f" ] || continue
		n=${f##*/}
		[[ "$n" =~ ^xt([0-9a-f]+)_[A-Za-z0-9]{6}$ ]] || continue
		kill -0 "$((16#${BASH_REMATCH[1]}))" 2>/dev/null && continue
		rm -rf "$f"
	done
}
[ "$(id -u)" -eq 0 ] && sweep_stale

# ---- run ------------------------------------------------------------------------
LOGDIR="$BUILD/selftests"
mkdir -p "$LOGDIR"
npass=0 nfail=0 nskip=0
failed=()
have_timeout=0
command -v timeout >/dev/null && have_timeout=1

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	logf="$LOGDIR/$name.log"
	t0=$(date +%s%N)
	if [ $have_timeout = 1 ]; then
		timeout -k 10 "$TIMEOUT" bash "$t" >"$logf" 2>&1 </dev/null
	else
		bash "$t" >"$logf" 2>&1 </dev/null
	fi
	rc=$?
	secs=$(awk -v d=$(( $(date +%s%N) - t0 )) 'BEGIN { printf "%.1f", d / 1e9 }')
	case $rc in
	0)
		res=PASS; npass=$((npass + 1))
		msg=$(grep -E '^PASS: ' "$logf" | tail -n 1 | sed 's/^PASS: //')
		;;
	4)
		res=SKIP; nskip=$((nskip + 1))
		msg=$(grep -E '^SKIP: ' "$logf" | tail -n 1 | sed 's/^SKIP: //')
		;;
	*)
		res=FAIL; nfail=$((nfail + 1)); failed+=("$name")
		msg=$(grep -E '^FAIL: ' "$logf" | tail -n 1 | sed 's/^FAIL: //')
		[ $rc = 124 ] && msg="timed out after ${TIMEOUT}s${msg:+; $msg}"
		[ -z "$msg" ] && msg="exit code $rc"
		;;
	esac
	printf '%-4s %-32s %6ss  %s\n' "$res" "$name" "$secs" "$msg"
	if [ $VERBOSE = 1 ] || [ $res = FAIL ]; then
		sed 's/^/    | /' "$logf" | tail -n "$([ $VERBOSE = 1 ] && echo 100000 || echo 40)"
	fi
done

[ "$(id -u)" -eq 0 ] && sweep_stale
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]} (logs in $LOGDIR/)"
echo "selftest: $npass passed, $nfail failed, $nskip skipped"
[ $nfail -eq 0 ]
