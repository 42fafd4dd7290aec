#!/usr/bin/env bash
# Virtual RSS end to end (xvnetctl rss show / set), on a 4-queue veth VM.
# nic_rx's per-queue counters (`xvnetctl -j stats VM`) record the queue the
# VM's table picked for each frame.
#  - 1000 distinct UDP flows from xvnet-trafgen (source ports 1024..2023,
#    exactly 4 frames each): the per-queue counts equal, exactly, what the
#    VM's key and table give for each flow (recomputed here in Python from
#    `rss show -j`), and are within 10% of even;
#  - the same traffic again, table unchanged: the same counts per queue
#    (every flow stayed on its queue);
#  - rss set --equal 2: only queues 0 and 1 receive, as predicted; the
#    published Microsoft key with --weight: as predicted;
#  - bad values (key of the wrong length or not hex, table entry past the
#    queue count, --equal 0 or above the queues, weights all zero / too
#    many / negative, unknown hash fields) are refused naming the field,
#    and change neither `rss show -j` nor the config file;
#  - the settings are in the config file and survive a restart of xvnetd;
#  - nic_rx hashes by tables: the slot has XVNET_VM_F_RSS_TABLE and
#    xvnet_rss_tables holds, entry for entry, the tables of the VM's key
#    (recomputed here), the random one, the one set, after a restart.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require

MAC=02:00:00:00:55:01
FLOWS=1000
PER_FLOW=4
MS_KEY=6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa

xv_topology
xvnetd_start
vm_ns_add r1 $MAC 10.77.0.51/24 --queues 4

# predict RSS-JSON: per-queue frames for the trafgen flows (UDP 10.99.0.1
# sport 1024+f -> 10.99.0.2 dport 9), from the VM's key, table and fields
predict() {
	python3 - "$1" "$FLOWS" "$PER_FLOW" <<'PYEOF'
import ipaddress, json, os, sys
sys.path.insert(0, os.environ["XV_ROOT"] + "/selftests/lib")
from toeplitz import toeplitz  # checked against the published suite on import
r = json.load(open(sys.argv[1]))
flows, per = int(sys.argv[2]), int(sys.argv[3])
key = bytes(int(b, 16) for b in r["key"].split(":"))
indir, nq = r["indir"], r["queues"]



c = [0] * nq
for f in range(flows):
    data = ipaddress.ip_address("10.99.0.1").packed + ipaddress.ip_address("10.99.0.2").packed
    if r["hash_fields"] in ("l4", "udp"):
        data += (1024 + f).to_bytes(2, "big") + (9).to_bytes(2, "big")
    q = indir[toeplitz(key, data) % 128]
    c[q if q < nq else 0] += per
print(" ".join(map(str, c)))
PYEOF
}

# send: the 1000 flows, 4 frames each, paced so the NIC veth's ring never
# overflows; prints the per-queue delta
send() {
	local before after
	before=$(vm_rxq r1)
	trafgen_from_wire --dst-mac $MAC --dport 9 --flows $FLOWS \
		--count $((FLOWS * PER_FLOW)) --rate 4000 >"$XV_TMP/trafgen.json" ||
		fail "trafgen failed"
	all_sent() { [ "$(nums_sum "$(nums_delta "$before" "$(vm_rxq r1)")")" -ge $((FLOWS * PER_FLOW)) ]; }
	wait_until 5 all_sent
	after=$(vm_rxq r1)
	nums_delta "$before" "$after"
}

rss_json() { xvctl -j rss show r1 >"$1" || fail "rss show -j refused"; }

# tables_are KEY: r1's slot hashes by tables and xvnet_rss_tables holds
# exactly KEY's (selftests/lib/rss_tables.py)
tables_are() {
	local id
	id=$(xvctl -j vm show r1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
		fail "vm show -j r1 refused"
	python3 "$XV_ROOT/selftests/lib/rss_tables.py" "$XVD_PIN" "$id" "$1" ||
		fail "xvnet_rss_tables: not the tables of key $1"
}

# ---- rss show ------------------------------------------------------------------
rss_json "$XV_TMP/rss0.json"
xvctl rss show r1 >"$XV_TMP/rss0.txt" || fail "rss show refused"
grep -q "RX flow hash indirection table for r1 with 4 RX queue(s):" "$XV_TMP/rss0.txt" ||
	fail "rss show: no ethtool-style header: $(cat "$XV_TMP/rss0.txt")"
grep -qE '^  120: +0 +1 +2 +3 +0 +1 +2 +3$' "$XV_TMP/rss0.txt" ||
	fail "rss show: default table not printed as i % 4: $(cat "$XV_TMP/rss0.txt")"
key0=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$XV_TMP/rss0.json")
grep -qx "$key0" "$XV_TMP/rss0.txt" || fail "rss show: key line missing"
log "rss show: 4 queues, random key $key0"
tables_are "$key0"

# ---- spread and stability ------------------------------------------------------
want=$(predict "$XV_TMP/rss0.json")
got1=$(send)
log "1000 flows x $PER_FLOW, random key, default table: queues $got1 (predicted $want)"
[ "$got1" = "$want" ] || fail "per-queue counts $got1, predicted from the key and table $want"
python3 -c '
import sys
c = list(map(int, sys.argv[1].split())); even = sum(c) / len(c)
bad = [x for x in c if abs(x - even) > 0.1 * even]
sys.exit(1 if bad else 0)' "$got1" || fail "per-queue counts $got1 not within 10% of even"
got2=$(send)
[ "$got2" = "$got1" ] || fail "same traffic, same table: $got2 the second time, $got1 the first"
log "again, table unchanged: $got2 (identical)"

# ---- rss set --equal 2 ---------------------------------------------------------
xvctl rss set r1 --equal 2 || fail "rss set --equal 2 refused"
rss_json "$XV_TMP/rss1.json"
want=$(predict "$XV_TMP/rss1.json")
got=$(send)
log "--equal 2: queues $got (predicted $want)"
[ "$got" = "$want" ] || fail "after --equal 2: $got, predicted $want"
case $got in *" 0 0") ;; *) fail "after --equal 2 queues 2/3 received: $got" ;; esac

# ---- the published key, weights, l3 ----------------------------------------------
xvctl rss set r1 --key $MS_KEY --weight 1,0,2,1 --hash-fields l4 || fail "rss set --key --weight refused"
rss_json "$XV_TMP/rss2.json"
python3 - "$XV_TMP/rss2.json" "$MS_KEY" <<'PYEOF' || fail "rss show after set: wrong key/table"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["key"] == sys.argv[2], r["key"]
# ethtool's weight algorithm: 1,0,2,1 -> 32 x 0, 64 x 2, 32 x 3
assert r["indir"] == [0] * 32 + [2] * 64 + [3] * 32, r["indir"]
assert r["hash_fields"] == "l4" and r["configured"]["key"] and r["configured"]["indir"]
PYEOF
want=$(predict "$XV_TMP/rss2.json")
got=$(send)
log "published key, --weight 1,0,2,1: queues $got (predicted $want)"
[ "$got" = "$want" ] || fail "published key, weights: $got, predicted $want"
tables_are $MS_KEY
log "xvnet_rss_tables holds the tables of the random key, then of the key set"

# ---- refusals change nothing -------------------------------------------------------
cp "$XVD_STATE" "$XV_TMP/conf.before"
refuse() { # FIELD ARGS...
	local field=$1; shift
	if xvctl rss set r1 "$@" 2>"$XV_TMP/err.txt"; then
		fail "rss set $* accepted"
	fi
	grep -q "$field" "$XV_TMP/err.txt" || fail "rss set $*: message does not name $field: $(cat "$XV_TMP/err.txt")"
	rss_json "$XV_TMP/rss3.json"
	cmp -s "$XV_TMP/rss2.json" "$XV_TMP/rss3.json" || fail "rss set $* (refused) changed rss show"
	cmp -s "$XVD_STATE" "$XV_TMP/conf.before" || fail "rss set $* (refused) changed the state"
}
refuse "key: '00:11:22' is 3 bytes, must be 40" --key 00:11:22
refuse "key: .* is not hex" --key "${MS_KEY%:fa}:zz"
refuse "key: .* longer than 40" --key "$MS_KEY:00"
refuse "indir: entry 127 is queue 4" --indir '0*127,4'
refuse "equal: '0' out of range 1-4" --equal 0
refuse "equal: '5' out of range 1-4" --equal 5
refuse "weight: all weights are 0" --weight 0,0,0,0
refuse "weight: 5 weights or more" --weight 1,1,1,1,1
refuse "weight: .* not a number" --weight 1,-1
refuse "equal: only one of" --equal 2 --weight 1,1
refuse "hash_fields: 'l5'" --hash-fields l5
refuse "hash_fields: 'tcp4' without 'tcp6'" --hash-fields tcp4,udp4
refuse "nothing to set"
log "13 bad values refused, naming the field; rss show and the config unchanged"

# ---- persisted, kept across a restart (config wins over the pinned map) --------------
grep -q "^vm r1 .* rss-key $MS_KEY rss-indir 0\*32,2\*64,3\*32 rss-fields l4" "$XVD_STATE" ||
	fail "state does not hold the RSS settings: $(grep '^vm r1' "$XVD_STATE")"
xvnetd_restart
rss_json "$XV_TMP/rss4.json"
cmp -s "$XV_TMP/rss2.json" "$XV_TMP/rss4.json" || fail "RSS settings changed across a restart"
tables_are $MS_KEY
# the config wins: edit it while xvnetd is down, the maps follow at start
# (r1 was added at run time: the admin declares it in the file, edited)
proc_stop "$XVD_PID"
grep '^vm r1 ' "$XVD_STATE" | sed 's/rss-indir [^ ]*/rss-indir 1*128/' >>"$XVD_CONF"
_xvnetd_launch
rss_json "$XV_TMP/rss5.json"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["indir"] == [1] * 128 and r["live"], r' "$XV_TMP/rss5.json" ||
	fail "the configured table did not win over the pinned one"
got=$(send)
[ "$got" = "0 $((FLOWS * PER_FLOW)) 0 0" ] || fail "table 1*128: $got"
log "kept across a restart; a table edited in the config wins over the pinned map"
# reload (SIGHUP path): a new table from the file; a bad one refused with FILE:LINE
sed -i 's/rss-indir [^ ]*/rss-indir 3*64,2*64/' "$XVD_CONF"
xvctl reload || fail "reload with a new rss-indir refused"
rss_json "$XV_TMP/rss6.json"
python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["indir"] == [3] * 64 + [2] * 64' "$XV_TMP/rss6.json" ||
	fail "reload did not apply the configured table"
sed -i 's/rss-indir [^ ]*/rss-indir 4*128/' "$XVD_CONF"
xvctl reload 2>"$XV_TMP/err.txt" && fail "reload with a table entry past the queue count accepted"
grep -q "xvnetd.conf:[0-9]*: rss-indir: entry 0 is queue 4, not below the 4 queues" "$XV_TMP/err.txt" ||
	fail "reload refusal without FILE:LINE and field: $(cat "$XV_TMP/err.txt")"
rss_json "$XV_TMP/rss7.json"
cmp -s "$XV_TMP/rss6.json" "$XV_TMP/rss7.json" || fail "a refused reload changed the table"
log "reload applies rss-indir from the file; a bad one is refused with FILE:LINE"

pass "1000 flows x $PER_FLOW over 4 queues: $got1 (as predicted per flow, twice); --equal 2: queues 2,3 empty; 13 bad values refused; kept across restart/reload"
