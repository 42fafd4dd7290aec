#!/usr/bin/env bash
# xvnetctl batch (loader/api/batch.c): many requests, one commit.
#  - BATCH_FLOWS (20000) flow adds and 16 tap VMs from one file: all in,
#    recorded once (they survive a restart), and flows answer;
#  - a refused line (an unknown VM at line 5001) refuses the whole, names
#    the line, and leaves the running state as it was;
#  - a line that cannot be batched (vm list) is a usage error, nothing
#    applied (nothing sent when it comes first; after 5,000 lines sent, the
#    batch they opened is discarded);
#  - one open batch at a time: another client is refused while it is open,
#    a batch whose base changed (a plain request meanwhile) is refused at
#    its commit, and a client that goes takes its batch with it;
#  - the same flows and VMs deleted in one batch.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
N=${BATCH_FLOWS:-20000}
VMS=16

xv_topology
xvnetd_start
xvctl vm add vm1 --mac 02:00:00:00:b1:01 --port tap --ifname "$(xv_name bt0)" >/dev/null ||
	fail "vm add vm1"

# flows N: the configured flow count; vms N: the VM count
flows() { xvctl -j status | jq -r "$XV_JQ_PY"' .["configured_flows"] | py'; }
vms() { xvctl -j vm list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

ADD=$XV_TMP/add.batch
{
	echo "# $N flows and $VMS VMs"
	for ((i = 0; i < N; i++)); do
		echo "flow add --proto udp --src 10.98.$((i >> 8 & 255)).$((i & 255)) --sport $((1000 + (i >> 16)))" \
			"--dst 10.99.0.2 --dport 7777 --action deliver --vm vm1"
	done
	for ((v = 1; v <= VMS; v++)); do
		printf 'vm add b%d --mac 02:00:00:00:b2:%02x --port tap --ifname %s\n' "$v" "$v" "$(xv_name "bt$v")"
	done
} >"$ADD"
t0=$(date +%s%N)
out=$(xvctl batch "$ADD") || fail "batch refused: $out"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
log "batch of $((N + VMS)) requests: $out; ${ms} ms ($(( (N + VMS) * 1000 / (ms > 0 ? ms : 1) )) requests/s)"
[ "$(flows)" = "$N" ] || fail "configured flows $(flows), want $N"
[ "$(vms)" = $((VMS + 1)) ] || fail "VMs $(vms), want $((VMS + 1))"
for ((v = 1; v <= VMS; v++)); do
	ip link show "$(xv_name "bt$v")" >/dev/null 2>&1 || fail "tap of b$v not made"
done

# a refused line refuses all: nothing of it applied
BAD=$XV_TMP/bad.batch
{
	for ((i = 0; i < 5000; i++)); do
		echo "flow add --proto tcp --src 10.97.$((i >> 8)).$((i & 255)) --dst 10.99.0.2 --action drop"
	done
	echo "flow add --proto tcp --src 10.96.0.1 --dst 10.99.0.2 --action deliver --vm nosuch"
	echo "vm add b99 --mac 02:00:00:00:b3:01 --port tap --ifname $(xv_name bt99)"
} >"$BAD"
rc=0; xvctl batch "$BAD" >"$XV_TMP/bad.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a batch with a bad line: exit $rc ($(cat "$XV_TMP/bad.out"))"
grep -q "bad.batch:5001: request 5001 of the batch (flow.add): .*nosuch" "$XV_TMP/bad.out" ||
	fail "the refusal does not name line 5001: $(cat "$XV_TMP/bad.out")"
[ "$(flows)" = "$N" ] || fail "after a refused batch: $(flows) flows, want $N"
ip link show "$(xv_name bt99)" >/dev/null 2>&1 && fail "a refused batch made a tap"
log "refused: $(cat "$XV_TMP/bad.out")"
printf 'flow add --proto tcp --src 10.95.0.1 --dst 10.99.0.2 --action drop\nvm list\n' >"$XV_TMP/usage.batch"
rc=0; xvctl batch "$XV_TMP/usage.batch" >"$XV_TMP/usage.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "usage.batch:2: only vm add|del and flow add|del" "$XV_TMP/usage.out" ||
	fail "vm list in a batch: exit $rc ($(cat "$XV_TMP/usage.out"))"
# the same after 5,000 good lines, which went to xvnetd before the bad one
# was read (the requests stream): the batch they opened goes with the
# connection, nothing applied, and the next batch is not held up by it
{ head -n 5000 "$BAD"; echo "vm list"; } >"$XV_TMP/late.batch"
rc=0; xvctl batch "$XV_TMP/late.batch" >"$XV_TMP/late.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "late.batch:5001: only vm add|del" "$XV_TMP/late.out" ||
	fail "vm list at line 5001: exit $rc ($(cat "$XV_TMP/late.out"))"
[ "$(flows)" = "$N" ] || fail "after a batch cut by a usage error: $(flows) flows, want $N"
# (the first lines did go out: xvnetd held them in a batch, then dropped it)
wait_until 3 grep -Eq "batch of a client that went: discarded \([0-9]{4} requests\)" "$XV_TMP/xvnetd.log" ||
	fail "no batch of the cut file was opened and discarded: $(grep batch "$XV_TMP/xvnetd.log" | tail -3)"
head -n 1 "$BAD" >"$XV_TMP/one.batch"
xvctl batch "$XV_TMP/one.batch" >/dev/null || fail "a batch after one cut short was refused"
[ "$(flows)" = $((N + 1)) ] || fail "after a one-flow batch: $(flows) flows, want $((N + 1))"
xvctl flow del --proto tcp --src 10.97.0.0 --dst 10.99.0.2 >/dev/null || fail "flow del"

# one open batch at a time; a client that goes takes it along
python3 - "$XVD_SOCK" "$XV_BIN/xvnetctl" "$XV_TMP/usage.batch" <<'PYEOF' || fail "two clients' batches"
import json, socket, subprocess, sys, time
sock, ctl = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX); s.connect(sock); f = s.makefile("rw")
def ask(cmd, args=None):
    f.write(json.dumps({"cmd": cmd, "args": args or {}}) + "\n"); f.flush()
    return json.loads(f.readline())
assert ask("batch.begin")["ok"]
assert ask("batch.add", {"requests": [{"cmd": "flow.add", "args": {"proto": "udp",
    "src": "10.94.0.1", "dst": "10.99.0.2", "action": "drop"}}]})["ok"]
open("/tmp/.xvb", "w").write("flow add --proto udp --src 10.94.0.2 --dst 10.99.0.2 --action drop\n")
r = subprocess.run([ctl, "-s", sock, "batch", "/tmp/.xvb"], capture_output=True, text=True)
assert r.returncode == 1 and "another client's batch is open" in r.stderr, r
# a plain request meanwhile: the open batch, built on the config before
# it, may no longer commit (it would undo this one)
r = subprocess.run([ctl, "-s", sock, "flow", "add", "--proto", "udp", "--src", "10.94.0.3",
                    "--dst", "10.99.0.2", "--action", "drop"], capture_output=True, text=True)
assert r.returncode == 0, r
c = ask("batch.commit")
assert not c["ok"] and "changed since batch.begin" in c["error"], c
assert ask("batch.begin")["ok"]     # a new one, kept open: goes with the client
f.close(); s.close()        # its batch goes with it
time.sleep(0.3)
r = subprocess.run([ctl, "-s", sock, "batch", "/tmp/.xvb"], capture_output=True, text=True)
assert r.returncode == 0, r
st = json.loads(subprocess.run([ctl, "-s", sock, "-j", "status"], capture_output=True, text=True).stdout)
import os; os.unlink("/tmp/.xvb")
print("second client refused while the first's batch was open; the first's commit refused"
      " after a plain request changed the config; committed after the first went;"
      f" flows {st['configured_flows']} (the gone client's one not among them)")
PYEOF
[ "$(flows)" = $((N + 2)) ] || fail "flows $(flows), want $((N + 2))"

# recorded once, kept across a restart
xvnetd_restart
[ "$(flows)" = $((N + 2)) ] || fail "after a restart: $(flows) flows, want $((N + 2))"
[ "$(vms)" = $((VMS + 1)) ] || fail "after a restart: $(vms) VMs"

# all deleted in one batch
sed -e 's/^flow add \(.*\) --action.*/flow del \1/' -e 's/^vm add \(b[0-9]*\) .*/vm del \1/' "$ADD" >"$XV_TMP/del.batch"
printf 'flow del --proto udp --src 10.94.0.%s --dst 10.99.0.2\n' 2 3 >>"$XV_TMP/del.batch"
t0=$(date +%s%N)
out=$(xvctl batch "$XV_TMP/del.batch") || fail "delete batch refused: $out"
t1=$(date +%s%N)
[ "$(flows)" = 0 ] && [ "$(vms)" = 1 ] || fail "after the delete batch: $(flows) flows, $(vms) VMs"
ip link show "$(xv_name bt1)" >/dev/null 2>&1 && fail "b1's tap left after vm del in a batch"
pass "xvnetctl batch: $N flows + $VMS VMs in one commit (${ms} ms), kept across a restart; a bad line 5001 refused the whole and was named; vm list refused (first, or after 5,000 lines sent: discarded); one open batch at a time; deleted again in one batch ($(( (t1 - t0) / 1000000 )) ms)"
