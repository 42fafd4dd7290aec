#!/usr/bin/env bash
# Pins removed or replaced under a running xvnetd are put back
# (loader/kern/pinwatch.c): the XDP link's pin and a map's pin removed, a map's
# pin replaced by another map; within a few seconds the pins name xvnetd's
# own objects again (same ids), `status` counts the restores, and a restart
# then adopts the running data path (maps and link) instead of building a
# new one, with no frame lost to a VM meanwhile.  Then the pins of an older
# xvnetd, from before xvnet_flows4 (an IPv4 flow in xvnet_flows_cfg under
# the 40-byte key, no xvnet_flows4*): a restart moves the flow to
# xvnet_flows4_cfg, leaves no copy behind, and the flow still drops.
# Last, the pin of xvnet_rss_tables removed while xvnetd is down: the
# restart makes the map anew and writes vm1's RSS tables from its key
# before its nic_rx runs (the slot it adopts says it hashes by them).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_cmd bpftool

MAC1=02:00:00:00:29:01
xv_topology
xvnetd_start
vm_ns_add vm1 $MAC1 10.77.0.21/24

status_field() { xvctl -j status | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[k]
print(d)' "$1"; }
pin_id() { bpftool -j "$1" show pinned "$XVD_PIN/$2" 2>/dev/null | jq -r "$XV_JQ_PY"' .["id"] | py'; }

link0=$(status_field link_id)
vms0=$(pin_id map xvnet_vms)
flows0=$(pin_id map xvnet_flows)
[ -n "$link0" ] && [ -n "$vms0" ] && [ -n "$flows0" ] || fail "no ids: link $link0 vms $vms0 flows $flows0"
[ "$(pin_id link nic_rx_link)" = "$link0" ] || fail "the link pin is not the running link"

# removed: the link's pin and a map's pin
rm "$XVD_PIN/nic_rx_link" "$XVD_PIN/xvnet_vms"
back() { [ "$(pin_id link nic_rx_link)" = "$link0" ] && [ "$(pin_id map xvnet_vms)" = "$vms0" ]; }
wait_until 6 back || fail "removed pins not restored: link $(pin_id link nic_rx_link) vms $(pin_id map xvnet_vms)"
# replaced: another map pinned where xvnet_flows was
rm "$XVD_PIN/xvnet_flows"
bpftool map create "$XVD_PIN/xvnet_flows" type hash key 4 value 4 entries 4 name xvstranger ||
	fail "could not pin a stranger"
[ "$(pin_id map xvnet_flows)" != "$flows0" ] || fail "the stranger has our id"
ours() { [ "$(pin_id map xvnet_flows)" = "$flows0" ]; }
wait_until 6 ours || fail "replaced pin not restored: $(pin_id map xvnet_flows), ours $flows0"
n=$(status_field pins.restored)
[ "$n" -ge 3 ] || fail "status pins.restored $n, want >= 3"
grep -q "xvnet_flows was replaced by another object" "$XV_TMP/xvnetd.log" || fail "the replacement was not logged"
log "restored: link $link0, xvnet_vms $vms0 (removed), xvnet_flows $flows0 (replaced); status: $(status_field pins.last_restored), $n restores"

# a restart adopts what the pins name, under traffic to vm1, losing nothing
bg_start "$XV_TMP/sink.log" "$XV_BIN/xvnet-xdpsink" --netns "$(vm_ns vm1)" --stats "$XV_TMP/sink" eth0
wait_until 5 test -s "$XV_TMP/sink" || fail "sink did not start"
s0=$(cat "$XV_TMP/sink")
trafgen_from_wire --dst-mac $MAC1 --rate 20000 --duration 2 >"$XV_TMP/gen.json" &
GEN=$!
sleep 0.5
proc_stop "$XVD_PID"
_xvnetd_launch
wait "$GEN" || fail "generator failed"
sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$XV_TMP/gen.json")
got() { [ $(( $(cat "$XV_TMP/sink") - s0 )) -ge "$sent" ]; }
wait_until 3 got || fail "restart after the restores lost frames: sent $sent, got $(( $(cat "$XV_TMP/sink") - s0 ))"
[ "$(status_field maps_adopted)" = True ] && [ "$(status_field link_adopted)" = True ] ||
	fail "the restart did not adopt the data path: maps $(status_field maps_adopted) link $(status_field link_adopted)"
[ "$(status_field link_id)" = "$link0" ] || fail "link changed: $(status_field link_id), was $link0"

# ---- the pins of an xvnetd before xvnet_flows4 -------------------------------
xvctl flow add --proto udp --src 10.99.0.1 --sport 4444 --dst 10.77.0.21 --dport 7777 \
	--action drop || fail "flow add drop"
dump() { bpftool -j map dump pinned "$XVD_PIN/$1"; }
proc_stop "$XVD_PID"
# the entry as the older xvnetd kept it: the 40-byte key in xvnet_flows_cfg
dump xvnet_flows4_cfg | python3 -c '
import json, sys
e = json.load(sys.stdin)
assert len(e) == 1, e
k = [int(b, 16) for b in e[0]["key"]]
v = [int(b, 16) for b in e[0]["value"]]
mapped = lambda a: [0] * 10 + [0xff, 0xff] + a
key = mapped(k[0:4]) + mapped(k[4:8]) + k[8:16]
print(" ".join("%02x" % b for b in key), "|", " ".join("%02x" % b for b in v))' >"$XV_TMP/old.kv" ||
	fail "xvnet_flows4_cfg does not hold the one flow: $(dump xvnet_flows4_cfg)"
# shellcheck disable=SC2046  # the hex bytes are words
bpftool map update pinned "$XVD_PIN/xvnet_flows_cfg" key hex $(cut -d'|' -f1 "$XV_TMP/old.kv") \
	value hex $(cut -d'|' -f2 "$XV_TMP/old.kv") || fail "bpftool map update xvnet_flows_cfg"
rm "$XVD_PIN/xvnet_flows4_cfg" "$XVD_PIN/xvnet_flows4"
_xvnetd_launch
grep -q "1 IPv4 flows moved from xvnet_flows_cfg and xvnet_flows to xvnet_flows4_cfg and xvnet_flows4" \
	"$XV_TMP/xvnetd.log" || fail "no move logged: $(grep -i flows "$XV_TMP/xvnetd.log" | tail -3)"
[ "$(dump xvnet_flows_cfg)" = "[]" ] || fail "the old entry stayed in xvnet_flows_cfg: $(dump xvnet_flows_cfg)"
[ "$(dump xvnet_flows4_cfg | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	fail "xvnet_flows4_cfg after the move: $(dump xvnet_flows4_cfg)"
[ "$(xvctl flow list | grep -c 'sport 4444')" = 1 ] ||
	fail "flow list after the move: $(xvctl flow list)"
s1=$(cat "$XV_TMP/sink") fd0=$(xv_counter flow_drop)
trafgen_from_wire --dst-mac $MAC1 --src-ip 10.99.0.1 --sport 4444 --dst-ip 10.77.0.21 --dport 7777 \
	--count 200 >/dev/null || fail "generator failed"
dropped() { [ $(( $(xv_counter flow_drop) - fd0 )) -ge 200 ]; }
wait_until 3 dropped || fail "the moved flow drops $(( $(xv_counter flow_drop) - fd0 )) of 200"
[ "$(cat "$XV_TMP/sink")" = "$s1" ] || fail "the moved drop flow let $(( $(cat "$XV_TMP/sink") - s1 )) frames through"
# ---- adopted slots without their RSS tables ---------------------------------
id1=$(xvctl -j vm show vm1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
	fail "vm show -j vm1 refused"
python3 "$XV_ROOT/selftests/lib/rss_tables.py" "$XVD_PIN" "$id1" || fail "vm1 has no RSS tables"
proc_stop "$XVD_PID"
rm "$XVD_PIN/xvnet_rss_tables"
_xvnetd_launch
grep -q "xvnet_rss_tables made anew: 1 VM slots' RSS tables written from their keys" \
	"$XV_TMP/xvnetd.log" || fail "no rebuild logged: $(grep -i rss "$XV_TMP/xvnetd.log" | tail -3)"
python3 "$XV_ROOT/selftests/lib/rss_tables.py" "$XVD_PIN" "$id1" ||
	fail "vm1's RSS tables not written again from its key"
log "xvnet_rss_tables's pin removed: the restart wrote vm1's tables again from its key"

pass "removed and replaced pins put back (link, xvnet_vms, xvnet_flows: same ids, $n restores counted); the restart adopted them, $sent/$sent frames delivered; an older xvnetd's IPv4 flow moved to xvnet_flows4_cfg and still drops (200/200); RSS tables made anew from the adopted slots' keys"
