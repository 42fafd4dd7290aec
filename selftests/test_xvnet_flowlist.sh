#!/usr/bin/env bash
# flow list of a large flow table: a page at a time (flow.list with limit
# and cursor), each page printed as it comes.  With 250,000 learnt flows
# plus a few configured ones, `flow list` prints every entry once (text and
# -j), the daemon's memory stays bounded by a page, and bad paging
# arguments are refused with the field named.  Before, the reply was one
# message: at 100,000 flows 22 MB that xvnetctl refused ("Message too
# long") while the daemon grew by hundreds of MB.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_bin xvnet-flowfill

N=${FLOWLIST_N:-250000}
xv_topology
xvnetd_start "flow-max ${FLOWLIST_MAX:-262144}"
vm_ns_add vm1 02:00:00:00:31:01 10.77.0.21/24
for p in 7001 7002 7003; do
	xvctl flow add --vlan 0 --proto udp --src 10.9.0.1 --sport 1000 --dst 10.77.0.21 --dport $p \
		--action deliver --vm vm1 || fail "flow add $p"
done
"$XV_BIN/xvnet-flowfill" --pin-dir "$XVD_PIN" --count $N --vm-id 0 >"$XV_TMP/fill.json" ||
	fail "flowfill: $(cat "$XV_TMP/fill.json")"
xv_raw_request() { python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
print(s.makefile().readline().strip())' "$XVD_SOCK"; }
rss() { awk '/^VmRSS:/ {print $2}' /proc/"$XVD_PID"/status; }
r0=$(rss)
t0=$(date +%s%N)
xvctl flow list >"$XV_TMP/list.txt" || fail "flow list failed"
t1=$(date +%s%N)
lines=$(wc -l <"$XV_TMP/list.txt")
[ "$lines" -eq $((N + 3)) ] || fail "flow list printed $lines entries, want $((N + 3))"
[ "$(sort -u "$XV_TMP/list.txt" | wc -l)" -eq "$lines" ] || fail "flow list printed an entry twice"
grep -c "dport 7002 .*configured\|dport 7002" "$XV_TMP/list.txt" >/dev/null || fail "a configured flow is missing"
xvctl -j flow list >"$XV_TMP/list.json" || fail "flow list -j failed"
python3 - "$XV_TMP/list.json" $((N + 3)) <<'PYEOF' || fail "flow list -j: $(head -c 300 "$XV_TMP/list.json")"
import json, sys
flows = json.load(open(sys.argv[1]))
assert len(flows) == int(sys.argv[2]), len(flows)
assert sum(1 for f in flows if f["configured"]) == 3
PYEOF
r1=$(rss)
grow=$(( (r1 - r0) / 1024 ))
[ "$grow" -lt 64 ] || fail "xvnetd grew by $grow MB listing $N flows"
# paging arguments the daemon did not give are refused, naming the field
out=$(printf '{"cmd":"flow.list","args":{"limit":0}}\n' | xv_raw_request) || true
grep -q '"limit: a number of entries' <<<"$out" || fail "limit 0: $out"
out=$(printf '{"cmd":"flow.list","args":{"limit":10,"cursor":"7:x"}}\n' | xv_raw_request) || true
grep -q "cursor: '7:x' is not one this daemon gave" <<<"$out" || fail "bad cursor: $out"
pass "flow list of $((N + 3)) flows in pages: every entry once (text and -j) in $(( (t1 - t0) / 1000000 )) ms, xvnetd grew by $grow MB; bad limit and cursor refused"
