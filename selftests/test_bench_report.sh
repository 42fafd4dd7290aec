#!/usr/bin/env bash
# The benchmark's own arithmetic (selftests/bench/benchfmt.py, report.py),
# which `make bench` alone would exercise: on made-up samples whose answers
# are known, so that a broken drop count, ratio or floor table fails here
# and not unnoticed in docs/PERFORMANCE.md.  No traffic, no timing.
#  - xmitdrop: a tap VM's loss is the sum of its redirect errors of way
#    "in" (what nic_rx sent into the port and the port refused), not "out";
#    a malformed answer prints nothing;
#  - sample: drops become rates over the sample's own interval, delivered
#    frames over the consumer's stamps; a "core" sample (the program run in
#    place of the NIC) counts the frames it ran at the source's own rate;
#  - report: per-round ratios and their median, the tap_xdp_dropped column,
#    the floor pair's label, floors apart from nic_rx's test-run rows; the
#    plots drawn even for a pair whose NIC counted no frame (no forwarding
#    ratio: the xsk pair on 6.18.44-fc-v1272).
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

require_cmd python3 gnuplot
FMT=$XV_ROOT/selftests/bench/benchfmt.py
REPORT=$XV_ROOT/selftests/bench/report.py

# xmitdrop
out=$(echo '{"vms":[{"redirect_errors":[{"dir":"in","err":105,"frames":300},
	{"dir":"out","err":90,"frames":50},{"dir":"in","err":6,"frames":7}]}]}' |
	python3 "$FMT" xmitdrop tap_xdp_dropped)
[ "$out" = "tap_xdp_dropped=307 " ] || fail "xmitdrop: '$out', expected 'tap_xdp_dropped=307 ' (way in only)"
out=$(echo 'not json' | python3 "$FMT" xmitdrop tap_xdp_dropped) || fail "xmitdrop: exit $? on a bad answer"
[ -z "$out" ] || fail "xmitdrop printed '$out' for a bad answer"

# sample: 2 s; the consumer's count 1,000,000 -> 3,000,000 over its own 2 s of stamps
gen='{"source":"af_packet","pps":1500000}'
line=$(python3 "$FMT" sample tap xvnet 1 "1000000:1000000000" "3000000:3000000000" 0 0 \
	"100 200 100 200" "300 400 300 400" "0 0" "1000000000 2000000" 0 2000000000 \
	"tap_tx_dropped=10 tap_xdp_dropped=1000" "tap_tx_dropped=70 tap_xdp_dropped=961000" "$gen" '{}') ||
	fail "benchfmt sample failed"
python3 - "$line" <<'EOF' || fail "benchfmt sample: $line"
import json, sys
r = json.loads(sys.argv[1])
assert r["pps"] == 1000000, r["pps"]
assert r["drops_per_s"] == {"tap_tx_dropped": 30, "tap_xdp_dropped": 480000}, r["drops_per_s"]
assert r["nic_rx_pps"] == 1000000 and r["fwd_ns_per_nic_frame"] == 500.0, r
EOF

# a core sample: the NIC's counter stands still (0 -> 0); the program ran
# 20 Mpps for the 2 s, and the forwarding process used the 2 s: 50 ns a frame
line=$(python3 "$FMT" sample veth-core xvnet 1 "0:1000000000" "39000000:3000000000" 0 0 \
	"100 200 100 200" "300 400 300 400" "0 0" "2000000000 0" 0 2000000000 "" "" \
	'{"source":"core","pps":20000000}' '{}') || fail "benchfmt sample (core) failed"
python3 - "$line" <<'EOF' || fail "benchfmt sample (core): $line"
import json, sys
r = json.loads(sys.argv[1])
assert r["pps"] == 19500000, r["pps"]
assert r["nic_rx_pps"] == 20000000 and r["fwd_ns_per_nic_frame"] == 50.0, r
EOF

# report: a tap pair of 2 rounds (A/B 0.5 and 1.0 -> median 0.75), a floor
# pair, a nic_rx cost row and a floor cost row
python3 - "$XV_TMP/r.json" <<'EOF'
import json, sys
rows = [{"row": "meta", "kernel": "k", "kernel_version": "v", "rounds": 2, "dur_s": 2.0,
         "warm_s": 0.5, "gen_cpu": 0, "rx_cpu": 1, "app_cpu": 0, "cpus": 2, "started": "t"}]
def s(pair, arm, rnd, pps, drops):
    return {"pair": pair, "arm": arm, "round": rnd, "pps": pps, "source": "af_packet",
            "source_pps": 1000000, "gen_cpu_busy": 1, "rx_cpu_busy": 0.7, "fwd_cpu_busy": 0.7,
            "fwd_ns_per_pkt": 1000.0, "nic_rx_pps": 1000000, "fwd_ns_per_nic_frame": 600.0,
            "drops_per_s": drops, "port": "tap", "vms": 1}
d = {"tap_tx_dropped": 30000, "tap_xdp_dropped": 480000}
rows += [s("tap", "xvnet", 1, 300000, d), s("tap", "trivial", 1, 600000, d),
         s("tap", "xvnet", 2, 500000, d), s("tap", "trivial", 2, 500000, d),
         s("mem-1000000", "trivial-mem", 1, 800000, {}), s("mem-1000000", "trivial", 1, 1000000, {}),
         dict(s("flows-1-core", "xvnet", 1, 15000000, {}), source="core"),
         dict(s("flows-1-core", "trivial", 1, 20000000, {}), source="core"),
         dict(s("xsk", "xvnet", 1, 400000, {}), fwd_ns_per_nic_frame=None),
         dict(s("xsk", "trivial-xsk", 1, 500000, {}), fwd_ns_per_nic_frame=None)]
rnd = [{"nic_rx_ns": 20.0, "trivial_ns": 8.0, "ratio": 2.5, "diff_ns": 12.0,
        "wall_nic_rx_ns": 20.0, "wall_trivial_ns": 8.0}]
rows.append({"row": "cost", "program": "nic_rx", "config": "1vm", "what": "one VM",
             "mode": "repeat", "meta_at": "inline", "nic_rx_verdict": "REDIRECT",
             "trivial_verdict": "REDIRECT", "flow_hits": 0, "timed_runs": 1,
             "timed_flow_hits": 0, "rounds": rnd})
rows.append(dict(rows[-1], program="floor_classify", config="floor-classify",
                 what="bare classifier", rounds=[dict(rnd[0], nic_rx_ns=10.0, ratio=1.25, diff_ns=2.0)]))
with open(sys.argv[1], "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
EOF
python3 "$REPORT" "$XV_TMP/r.json" --plots "$XV_TMP/plots" >"$XV_TMP/r.md" 2>"$XV_TMP/r.err" ||
	fail "report.py failed: $(tail -3 "$XV_TMP/r.err")"
[ -s "$XV_TMP/plots/bench-ratios.png" ] || fail "report.py drew no ratio plot: $(tail -3 "$XV_TMP/r.err")"
grep -q '^| tap port, 1 VM (io_uring reader) | trivial | 0.50 1.00 | 0.75 (0.50-1.00) |' "$XV_TMP/r.md" ||
	fail "report: the tap pair's rounds and median are wrong: $(grep '^| tap port' "$XV_TMP/r.md" | head -1)"
grep -q 'tap_xdp_dropped 480,000/s' "$XV_TMP/r.md" || fail "report: no tap_xdp_dropped column"
grep -q '^| floor, not xvnet: trivial + one random read of a table with an entry (128 B) per flow, 1,000,000 flows | trivial | 0.80 |' \
	"$XV_TMP/r.md" || fail "report: the memory floor pair is missing or mislabelled"
grep -q '^| flow cache, 1 flow, the forwarding core alone | trivial | 0.75 |' "$XV_TMP/r.md" ||
	fail "report: the core pair is missing or mislabelled: $(grep 'core' "$XV_TMP/r.md" | head -2)"
grep -q '^| floor-classify: bare classifier | repeat | 10.0 | 8.0 | 1.25 |' "$XV_TMP/r.md" ||
	fail "report: the floor is not in the floors table"
grep -q '^| floor-classify' <(sed -n '/^| config |/,/^$/p' "$XV_TMP/r.md") &&
	fail "report: the floor is mixed into nic_rx's test-run table"
grep -q '| 12.0 (1vm) |' "$XV_TMP/r.md" || fail "report: the floor row does not name nic_rx's 1vm figure"
pass "bench arithmetic: xmitdrop sums way in only (307 of 357), sample rates over its own interval, a core sample's frames at its source's rate, report medians (0.75), the tap queue's loss column, the memory floor pair, the core pair and the floors table apart"
