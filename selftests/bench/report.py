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


def draw(res, rows, out):
    os.makedirs(out, exist_ok=True)
    dat = os.path.join(out, "bench-rows.dat")
    with open(dat, "w") as f:
        for k in ROW_ORDER:
            if k in rows:
                m, lo, hi, _ = stats(rows[k])
                f.write(f'"{k}" {m / 1e6:.3f} {lo / 1e6:.3f} {hi / 1e6:.3f}\n')
    gnuplot(f"""set terminal pngcairo size 900,480 noenhanced
set output '{out}/bench-rows.png'
set title '64-byte UDP delivered to one VM (median, min-max)'
set ylabel 'Mpps'
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set xtics rotate by -20
plot '{dat}' using 0:2:xtic(1) with boxes notitle, '' using 0:2:3:4 with yerrorbars lc rgb 'black' notitle
""")
    for row, key, xlabel in (("scale-vms", "vms", "VMs (traffic spread over all)"),
                             ("scale-flows", "flows", "flows in the flow cache")):
        g = grouped(res, row, key)
        if not g:
            continue
        dat = os.path.join(out, f"bench-{row}.dat")
        with open(dat, "w") as f:
            for n, rs in g.items():
                m, lo, hi, _ = stats([r["pps"] for r in rs])
                f.write(f"{n} {m / 1e6:.3f} {lo / 1e6:.3f} {hi / 1e6:.3f}\n")
        gnuplot(f"""set terminal pngcairo size 700,420 noenhanced
set output '{out}/bench-{row}.png'
set title 'Delivered rate as {xlabel} grow'
set xlabel '{xlabel}'
set ylabel 'Mpps'
set logscale x
set yrange [0:*]
plot '{dat}' using 1:2:3:4 with yerrorlines title 'xvnet (median, min-max)'
""")


if __name__ == "__main__":
    args = sys.argv[1:]
    plots = None
    if "--plots" in args:
        i = args.index("--plots")
        plots = args[i + 1]
        del args[i:i + 2]
    main(args[0], plots)
