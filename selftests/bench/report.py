#!/usr/bin/env python3
"""Summarise a bench results file (JSON lines) as Markdown tables: packets
per second per row (median, min, max over the repetitions), the ratios the
targets are stated in, the scaling curves with map memory, the control-plane
rates, and the program's own cost.  With --plots DIR, also draws PNG plots
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
    ("xvnet-veth", "ovs-veth", "veth port / OVS AF_XDP", 4.0),
    ("xvnet-tap", "ovs-tap", "tap port / OVS AF_XDP", 2.5),
]
ROW_ORDER = ["ceiling", "xvnet-veth", "xvnet-tap", "xvnet-xsk", "bridge-veth",
             "bridge-tap", "ovs-veth", "ovs-tap"]


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


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
    for r in res:
        if r["row"] in ROW_ORDER:
            rows.setdefault(r["row"], []).append(r["pps"])
    med = {k: statistics.median(v) for k, v in rows.items()}

    print("### Delivered packets per second (64-byte UDP)\n")
    print("| path | median pps | min | max | reps |")
    print("|---|---:|---:|---:|---:|")
    for k in ROW_ORDER:
        if k in rows:
            m, lo, hi, n = stats(rows[k])
            print(f"| {k} | {m:,.0f} | {lo:,.0f} | {hi:,.0f} | {n} |")
    print("\n### Ratios (medians, same run)\n")
    print("| ratio | value | target |")
    print("|---|---:|---|")
    for num, den, label, target in RATIOS:
        if num in med and den in med and med[den] > 0:
            v = med[num] / med[den]
            t = "" if target is None else (f">= {target:g}: " + ("met" if v >= target else "MISSED"))
            print(f"| {label} | {v:.2f} | {t} |")

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
