#!/usr/bin/env python3
"""Summarise a bench results file (JSON lines) as Markdown tables: packets
per second per row (median, min, max over the repetitions), the ratios the
targets are stated in, every Open vSwitch configuration tried, the scaling
curves with map memory, the control-plane rates, and the program's own cost.
A row that could not run ({"row": ..., "skipped": reason}) is listed as
skipped with its reason, never left out.  With --plots DIR, also draws PNG plots
with gnuplot (Debian's gnuplot-nox)."""
import json
import os
import statistics
import subprocess
import sys

RATIOS = [  # (numerator, denominator, label, target)
    ("xvnet-veth", "bridge-veth", "veth port / Linux bridge to veth", 3.0),
    ("xvnet-tap", "bridge-tap", "tap port / Linux bridge to tap", 3.0),
    ("xvnet-veth", "ceiling", "veth port / XDP_DROP ceiling", 0.6),
    ("xvnet-xsk", "ceiling", "xsk port / XDP_DROP ceiling", 0.6),
    ("xvnet-tap", "ceiling", "tap port / XDP_DROP ceiling", None),
    ("xvnet-veth-4q", "xvnet-veth", "4-queue veth (skb path, 1000 flows) / 1-queue veth (XDP redirect)", None),
    ("xvnet-tap-4q", "xvnet-tap", "4-queue tap (skb path, 1000 flows) / 1-queue tap (XDP redirect)", None),
    ("xvnet-veth", "ovs-veth", "veth port / OVS AF_XDP", 4.0),
    ("xvnet-tap", "ovs-tap", "tap port / OVS AF_XDP", 2.5),
    ("xvnet-veth", "ovs-veth-normal", "veth port / OVS AF_XDP, NORMAL action", None),
    ("xvnet-tap", "ovs-tap-normal", "tap port / OVS AF_XDP, NORMAL action", None),
    ("xvnet-veth", "ovs-veth-in_port", "veth port / OVS AF_XDP, in_port rule", None),
    ("xvnet-tap", "ovs-tap-in_port", "tap port / OVS AF_XDP, in_port rule", None),
]
ROW_ORDER = ["ceiling", "xvnet-veth", "xvnet-tap", "xvnet-xsk", "xvnet-veth-4q", "xvnet-tap-4q", "bridge-veth",
             "bridge-tap", "ovs-veth", "ovs-tap", "ovs-veth-normal", "ovs-veth-in_port",
             "ovs-tap-normal", "ovs-tap-in_port"]


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cell(text):
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def stats(values):
    return statistics.median(values), min(values), max(values), len(values)


def grouped(results, row, key):
    by = {}
    for r in results:
        if r["row"] == row:
            by.setdefault(r[key], []).append(r)
    return dict(sorted(by.items()))


def main(path, plots):
    res = load(path)
    rows = {}
    skipped = {}  # row -> reason: a row that could not run says why
    for r in res:
        if "skipped" in r:
            skipped[r["row"]] = r["skipped"]
        elif r["row"] in ROW_ORDER:
            rows.setdefault(r["row"], []).append(r["pps"])
    med = {k: statistics.median(v) for k, v in rows.items()}

    print("### Delivered packets per second (64-byte UDP)\n")
    print("| path | median pps | min | max | reps |")
    print("|---|---:|---:|---:|---:|")
    for k in ROW_ORDER:
        if k in rows:
            m, lo, hi, n = stats(rows[k])
            print(f"| {k} | {m:,.0f} | {lo:,.0f} | {hi:,.0f} | {n} |")
    for k, why in skipped.items():
        if k not in rows:
            print(f"| {k} | skipped: {cell(why)} | | | |")
    print("\n### Ratios (medians, same run)\n")
    print("| ratio | value | target |")
    print("|---|---:|---|")
    for num, den, label, target in RATIOS:
        if num in med and den in med and med[den] > 0:
            v = med[num] / med[den]
            t = "" if target is None else (f">= {target:g}: " + ("met" if v >= target else "MISSED"))
            print(f"| {label} | {v:.2f} | {t} |")
        elif num in skipped or den in skipped:
            k = num if num in skipped else den
            t = "" if target is None else f">= {target:g}: not measured"
            print(f"| {label} | skipped ({k}: {cell(skipped[k])}) | {t} |")

    ovs_table(res)

    for row, key, title in (("scale-vms", "vms", "VMs"), ("scale-flows", "flows", "flows in the flow cache")):
        g = grouped(res, row, key)
        if not g:
            continue
        base = None
        print(f"\n### Scaling: {title}\n")
        print(f"| {key} | median pps | min | max | vs first | maps memory (MiB) | flow map (MiB) |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for n, rs in g.items():
            m, lo, hi, _ = stats([r["pps"] for r in rs])
            base = base or m
            mem = rs[0].get("maps_bytes", 0) / 2**20
            fm = rs[0].get("flows_map_bytes", 0) / 2**20
            print(f"| {n:,} | {m:,.0f} | {lo:,.0f} | {hi:,.0f} | {m / base:.2f} | {mem:.1f} | {fm:.1f} |")

    cp = [r for r in res if r["row"].startswith("cp-") or r["row"] == "prog-cost"]
    if cp:
        print("\n### Control plane and program cost\n")
        for r in cp:
            if r["row"] == "cp-flowfill":
                f = r["fill"]
                print(f"- flow cache filled with {f['flows']:,} flows by batched map updates: "
                      f"{f['flows_per_s']:,.0f} flows/s")
            elif r["row"] == "cp-flow-add":
                print(f"- `xvnetctl flow add`, one request per flow ({r['flows']} flows): {r['per_s']} flows/s")
            elif r["row"] == "cp-vm-add":
                print(f"- `xvnetctl vm add` (veth ports, {r['vms']} VMs): {r['per_s']} VMs/s")
            elif r["row"] == "cp-vm-add-first-packet":
                print(f"- `vm add` returned after {r['vm_add_ms']} ms; first packet at the VM's "
                      f"reader {r['first_packet_ms']} ms after the command started")
            elif r["row"] == "prog-cost":
                print(f"- {r['prog']}: {r['ns_per_packet']} ns per packet (bpf_stats run time over "
                      f"{r['runs']:,} runs)")

    if plots:
        draw(res, rows, plots)


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def ovs_table(res):
    """Every Open vSwitch configuration measured, and which became a row."""
    by = {}
    for r in res:
        if r["row"].startswith("ovs-") and "pps" in r and "flows" in r:
            k = (r["row"].split("-")[1], r["flows"], r.get("pmd_cpu"), r.get("pmd_maxsleep_us", 0),
                 r.get("xdp_mode", "?"), r.get("vm_port", "?"))
            by.setdefault(k, {"label": r["row"], "pps": []})["pps"].append(r["pps"])
    if not by:
        return
    print("\n### Open vSwitch configurations (userspace datapath, AF_XDP NIC port)\n")
    print("| VM port | flows | PMD core | pmd-maxsleep (us) | NIC XDP mode | median pps | min | max | reported as |")
    print("|---|---|---:|---:|---|---:|---:|---:|---|")
    for (vm, flows, cpu, sl, mode, port), v in sorted(by.items(), key=lambda kv: tuple(map(str, kv[0]))):
        m, lo, hi, _ = stats(v["pps"])
        label = v["label"] if not v["label"].endswith("-alt") else ""
        print(f"| {vm} ({port}) | {flows} | {cpu} | {sl} | {mode} | {m:,.0f} | {lo:,.0f} | {hi:,.0f} | {label} |")


# The rows plot: one group per port kind, xvnet beside what a host uses
# today for that kind of port.  (series label, row per port kind)
KINDS = ["veth", "tap", "xsk"]
SERIES = [("xvnet, 1 queue (XDP redirect)", {"veth": "xvnet-veth", "tap": "xvnet-tap", "xsk": "xvnet-xsk"}),
          ("xvnet, 4 queues, 1000 flows (skb path)", {"veth": "xvnet-veth-4q", "tap": "xvnet-tap-4q"}),
          ("Linux bridge", {"veth": "bridge-veth", "tap": "bridge-tap"}),
          ("Open vSwitch, AF_XDP NIC port", {"veth": "ovs-veth", "tap": "ovs-tap"})]
TOPOLOGY = ("64-byte UDP, one flow, to one VM; NIC = a veth; generator on CPU 0, "
            "the whole receive path on CPU 1")


def draw(res, rows, out):
    os.makedirs(out, exist_ok=True)
    dat = os.path.join(out, "bench-rows.dat")
    ceiling = statistics.median(rows["ceiling"]) / 1e6 if "ceiling" in rows else None
    with open(dat, "w") as f:
        # one line per port kind: per series median min max (Mpps), "-" if not run
        f.write("# kind " + " ".join(f'"{name}" min max' for name, _ in SERIES) + "\n")
        for k in KINDS:
            cols = []
            for _, by in SERIES:
                r = by.get(k)
                if r in rows:
                    m, lo, hi, _ = stats(rows[r])
                    cols.append(f"{m / 1e6:.3f} {lo / 1e6:.3f} {hi / 1e6:.3f}")
                else:
                    cols.append("- - -")
            f.write(f'"{k} port" ' + " ".join(cols) + "\n")
    plots = []
    for i, (name, _) in enumerate(SERIES):
        c = 2 + 3 * i
        plots.append(f"'{dat}' using {c}:{c + 1}:{c + 2}{':xtic(1)' if i == 0 else ''} title '{name}'")
    labels = []
    for i, (name, _) in enumerate(SERIES):
        c = 2 + 3 * i
        # the median above each bar (x: cluster + offset of series i)
        labels.append(f"'{dat}' using ($0 + ({i} - 1.5) * 0.2):(column({c + 2}) * 1.1):"
                      f"(sprintf('%.2f', column({c}))) with labels notitle font ',9'")
    ceil = ""
    if ceiling:
        ceil = (f"set arrow from graph 0, first {ceiling:.3f} to graph 1, first {ceiling:.3f} "
                f"nohead dt 2 lc rgb 'gray30'\n"
                f"set label 'XDP_DROP on the NIC (ceiling): {ceiling:.1f} Mpps' at graph 0.01, "
                f"first {ceiling * 1.15:.3f} font ',9' tc rgb 'gray30'\n")
    # the ratios a reader compares, under each group
    med = {k: statistics.median(v) for k, v in rows.items()}
    for x, k in enumerate(KINDS):
        x1 = SERIES[0][1].get(k)
        parts = [f"{med[x1] / med[SERIES[j][1][k]]:.1f}x {short}"
                 for j, short in ((2, "bridge"), (3, "OVS"))
                 if x1 in med and SERIES[j][1].get(k) in med]
        if parts:     # above the group's highest whisker
            top = max(max(rows[r]) for _, by in SERIES for kk, r in by.items()
                      if kk == k and r in rows) / 1e6
            ceil += (f"set label 'xvnet: {', '.join(parts)}' at {x}, first {top * 1.45:.3f} "
                     f"center font ',10' front\n")
    gnuplot(f"""set terminal pngcairo size 1000,560 noenhanced
set output '{out}/bench-rows.png'
set title "Delivered rate by port kind: xvnet beside the Linux bridge and OVS (median, min-max; log scale)\\n{TOPOLOGY}" font ',10'
set ylabel 'Mpps delivered to the VM (log scale)'
set logscale y
set yrange [0.1:20]
set ytics (0.1, 0.2, 0.5, 1, 2, 5, 10, 20)
set grid ytics lc rgb 'gray80'
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.7 border -1
set boxwidth 0.9
set key top right font ',9'
set datafile missing '-'
{ceil}plot {", ".join(plots)}, {", ".join(labels)}
""")
    for row, key, xlabel, what, unit in (
            ("scale-vms", "vms", "VMs (traffic spread over all)",
             "one flow per VM (destination MAC), veth VMs", "VM"),
            ("scale-flows", "flows", "flows in the flow cache",
             "every frame a flow-cache hit, one veth VM", "flow")):
        g = grouped(res, row, key)
        if not g:
            continue
        dat = os.path.join(out, f"bench-{row}.dat")
        with open(dat, "w") as f:
            for n, rs in g.items():
                m, lo, hi, _ = stats([r["pps"] for r in rs])
                f.write(f"{n} {m / 1e6:.3f} {lo / 1e6:.3f} {hi / 1e6:.3f}\n")
        first_n, first = next(iter(g.items()))
        base = statistics.median(r["pps"] for r in first) / 1e6
        refs = [f"{base:.3f} dt 2 lc rgb 'gray30' title 'baseline: xvnet with {first_n:,} {unit}"
                f"{'' if first_n == 1 else 's'} ({base:.2f} Mpps)'"]
        if "bridge-veth" in rows:
            b = statistics.median(rows["bridge-veth"]) / 1e6
            refs.append(f"{b:.3f} dt 3 lc rgb 'dark-red' title 'Linux bridge to a veth VM ({b:.2f} Mpps)'")
        gnuplot(f"""set terminal pngcairo size 760,440 noenhanced
set output '{out}/bench-{row}.png'
set title "xvnet's delivered rate as {xlabel} grow\\n64-byte UDP, {what}; NIC = a veth; generator on CPU 0, receive path on CPU 1" font ',9'
set xlabel '{xlabel}'
set ylabel 'Mpps delivered'
set logscale x
set format x '%.0f'
set xrange [{min(g) * 0.7}:{max(g) * 1.5}]
set yrange [0:{max(base, max(st[2] for st in [stats([r["pps"] for r in rs]) for rs in g.values()]) / 1e6) * 1.35:.2f}]
set grid ytics lc rgb 'gray80'
set key top right font ',9'
plot '{dat}' using 1:2:3:4 with yerrorlines lw 2 title 'xvnet (median, min-max)', {", ".join(refs)}
""")


if __name__ == "__main__":
    args = sys.argv[1:]
    plots = None
    if "--plots" in args:
        i = args.index("--plots")
        plots = args[i + 1]
        del args[i:i + 2]
    main(args[0], plots)
