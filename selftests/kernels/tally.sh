#!/usr/bin/env bash
# Read the output of build/tests/unit (and, from a guest, of
# selftests/kernels/e2e.sh, in the same format) and print what it says about
# a kernel:
#   "  failed: ..."   the tests that failed (a group whose setup failed:
#                     all its tests, which did not run)
#   "  lacks: ..."    BPF features the kernel refused (helpers, kfuncs)
#   "  verifier: ..." programs the verifier refused, with its last word
#   "LABEL: N passed, N failed, N skipped"   always, last
# Counts are per test from cmocka's lines, not the unit's own closing line
# (which counts a group whose setup failed as one failure).  A test that did
# not report (setup failed, the binary died) counts as failed; a run that
# did not reach its closing line or exited non-zero with nothing failed
# counts one failure more.
# usage: selftests/kernels/tally.sh LABEL LOG [EXIT_STATUS]
#        (EXIT_STATUS defaults to the guest's "XVNET-UNIT-EXIT N" line)
set -euo pipefail

LABEL=${1:?usage: tally.sh LABEL LOG [EXIT_STATUS]}
LOG=${2:?usage: tally.sh LABEL LOG [EXIT_STATUS]}
[ -f "$LOG" ] || LOG=/dev/null   # no output at all: counted as one failure
EXIT=${3:-$(sed -n 's/^XVNET-UNIT-EXIT \([0-9]*\).*/\1/p' "$LOG" | tail -1)}

tr -d '\r' <"$LOG" | awk -v label="$LABEL" -v rc="${EXIT:-none}" '
function endgroup() {
	if (n == "") return
	f = n - p - s
	if (f > 0 && gsetup == 0 && nfailed_in_group < f)
		{ failed = failed sep f - nfailed_in_group " tests that never reported"; sep = ", " }
	P += p; S += s; F += f
	n = ""
}
function add(kind, what) {
	if (!((kind, what) in seen)) { seen[kind, what] = 1; notes[++nn] = kind what }
}
BEGIN { sep = ""; failed = "" }
/^\[==========\] Running [0-9]+ test/ {
	endgroup(); n = $3; p = 0; s = 0; gsetup = 0; nfailed_in_group = 0; cur = ""
	next
}
/^\[ RUN      \] / { cur = $4; next }
/^\[       OK \] / { if ($4 == cur) { p++; cur = "" } next }
/^\[  SKIPPED \] [a-z_]+: [0-9]+ tests: / {
	# a whole group the unit binary did not run on this kernel, with why
	sub(/:$/, "", $4); S += $5; add("skipped: ", $4 " (" substr($0, index($0, "tests: ") + 7) ")")
	next
}
/^\[  SKIPPED \] / { if ($4 == cur) { s++; cur = "" } next }
/^\[  FAILED  \] GROUP SETUP/ { gsetup = 1; next }
/^\[  FAILED  \] / {
	if ($4 == cur) { failed = failed sep cur; sep = ", "; nfailed_in_group++; cur = "" }
	next
}
/^\[  ERROR   \] / {
	if (gsetup == 1 && $4 != "---") {
		failed = failed sep $4 " (group setup: " n " tests not run)"; sep = ", "; gsetup = 2
	}
	next
}
/^unit: [0-9]+ passed, [0-9]+ failed/ { closed = 1 }
/^XVNET-KERNEL / { guest = 1 }
/^e2e: [0-9]+ passed, [0-9]+ failed/ { e2e_closed = 1 }
/cannot use helper / || /unknown func / {
	match($0, /(helper|func) [a-z_0-9#]+/); h = substr($0, RSTART, RLENGTH)
	sub(/^(helper|func) /, "", h); if (h !~ /^unknown/) sub(/#.*/, "", h)
	add("lacks: helper ", h)
}
/extern \(func ksym\) .*not found/ {
	match($0, /\x27[a-zA-Z_0-9]+\x27/); add("lacks: kfunc ", substr($0, RSTART + 1, RLENGTH - 2))
}
/^processed [0-9]+ insns/ { why = last }
/^libbpf: prog \x27[^\x27]+\x27: failed to load/ {
	prog = $3; gsub(/[\x27:]/, "", prog)
	if (why != "" && why !~ /cannot use helper|unknown func/) add("verifier: ", prog ": " why)
	why = ""
}
/AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:/ { add("sanitizer: ", $0) }
{ last = $0 }
END {
	endgroup()
	if (!closed) { add("", "  unit did not reach its closing line"); F++ }
	else if (rc != "none" && rc != 0 && F == 0) { add("", "  unit exited " rc " with no failed test"); F++ }
	# a guest runs e2e.sh after the unit tests (selftests/kernels/init)
	if (guest && !e2e_closed) { add("", "  e2e did not reach its closing line"); F++ }
	if (failed != "") print "  failed: " failed
	for (i = 1; i <= nn; i++) print (notes[i] ~ /^  / ? notes[i] : "  " notes[i])
	printf "%s: %d passed, %d failed, %d skipped\n", label, P, F, S
}'
