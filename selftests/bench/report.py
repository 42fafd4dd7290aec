#!/usr/bin/env python3
"""Summarise a bench results file (JSON lines from selftests/bench/bench.sh
and xvnet-costbench --json) as Markdown: per compared pair the ratio of
every interleaved round, their median and spread (min-max), the traffic
source and its rate, where frames were dropped; then the per-packet cost
by test runs, and the control-plane rates.  A pair that could not run
({"pair": ..., "skipped": reason}) is listed with its reason.  With --plots
DIR, also draws PNG plots with gnuplot (Debian's gnuplot-nox).

Two ratios per pair, both "A / B" with A = xvnet:
  delivered  frames per second delivered to the VM's consumer, A / B (the
             source's own rate is shown beside it: a veth wire pushes back,
             so the source slows down with the path it feeds)
  fwd cost   run time of the NIC's NAPI thread per frame the NIC took,
             A / B: xvnet's forwarding cost against the reference's,
             whatever the bottleneck (1.11 = 11% more CPU per frame)
"""
import json
import os
import statistics
import subprocess
import sys

PAIR_ORDER = ["veth", "veth-core", "flows-1-core", "flows-1", "flows-1000", "flows-100000", "flows-1000000", "mem-1000000",
              "vms-1024",
              "tap", "xsk", "xsk-core", "vhost", "vhost-deep", "bridge-veth", "bridge-tap", "ovs-veth", "ovs-tap",
              "ovs-vhost"]
LABEL = {
    "vhost": "vhost-user VM via xvnet-vhost to a vhost-user front-end (A) vs tap VM to its reader "
             "(B), default buffers (1024-entry rings; 1000-frame tap queue)",
    "vhost-deep": "the same, both buffering 8192 frames (xsk RX and fill rings; tap queue)",
    "veth": "veth port, 1 VM",
    "veth-core": "veth port, 1 VM, the forwarding core alone (the program runs in place of "
                 "the NIC, no generator on the other core)",
    "flows-1-core": "flow cache, 1 flow, the forwarding core alone",
    "xsk-core": "AF_XDP port, 1 VM, the forwarding core alone (its consumer on the other core)",
    "tap": "tap port, 1 VM (io_uring reader)",
    "xsk": "AF_XDP port, 1 VM",
    "bridge-veth": "veth port: xvnet vs Linux bridge",
    "bridge-tap": "tap port: xvnet vs Linux bridge",
    "ovs-veth": "veth port: xvnet vs OVS AF_XDP",
    "ovs-tap": "tap port: xvnet vs OVS AF_XDP",
    "ovs-vhost": "vhost-user port: xvnet-vhost vs OVS-DPDK dpdkvhostuserclient (AF_XDP NIC)",
}


def label(p):
    if p in LABEL:
        return LABEL[p]
    if p.startswith("flows-"):
        return f"flow cache, {int(p[6:]):,} flows"
    if p.startswith("mem-"):
        return (f"floor, not xvnet: trivial + one random read of a table with an entry "
                f"(128 B) per flow, {int(p[4:]):,} flows")
    if p.startswith("vms-"):
        return f"{int(p[4:]):,} VMs, traffic over all"
    return p


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def med_spread(v):
    """median (min-max), or n/a with no values"""
    return f"{statistics.median(v):.2f} ({spread(v)})" if v else "n/a"


def spread(v):
    return f"{min(v):.2f}-{max(v):.2f}"


def pairs_of(res):
    """pair -> {"arms": (A, B), "rounds": {round: {arm: sample}}}"""
    out = {}
    for r in res:
        if "pair" not in r or "arm" not in r:
            continue
        p = out.setdefault(r["pair"], {"arms": [], "rounds": {}})
        if r["arm"] not in p["arms"]:
            p["arms"].append(r["arm"])
        p["rounds"].setdefault(r["round"], {})[r["arm"]] = r
    for v in out.values():   # A is xvnet's arm, whichever ran first
        v["arms"].sort(key=lambda a: not a.startswith("xvnet"))
    return {k: v for k, v in out.items() if len(v["arms"]) == 2}


def ratios(p):
    """per complete round: (delivered A/B, fwd cost A/B, samples A, B)"""
    a, b = p["arms"]
    out = []
    for rnd in sorted(p["rounds"]):
        s = p["rounds"][rnd]
        if a not in s or b not in s:
            continue
        sa, sb = s[a], s[b]
        d = sa["pps"] / sb["pps"] if sb["pps"] else None
        fa, fb = sa.get("fwd_ns_per_nic_frame"), sb.get("fwd_ns_per_nic_frame")
        f = fa / fb if fa and fb else None
        out.append((rnd, d, f, sa, sb))
    return out


def drops_text(samples):
    tot = {}
    for s in samples:
        for k, v in s.get("drops_per_s", {}).items():
            tot.setdefault(k, []).append(v)
    parts = [f"{k} {statistics.median(v):,.0f}/s" for k, v in sorted(tot.items())
             if statistics.median(v) > 0]
    return ", ".join(parts) or "none"


def meta_line(res):
    m = next((r for r in res if r.get("row") == "meta"), None)
    srcs = sorted({r["source"] for r in res if r.get("source")})
    rates = [r["source_pps"] for r in res if r.get("source_pps")]
    if m:
        print(f"Kernel `{m['kernel']}` ({m['kernel_version']}), {m['cpus']} CPUs; "
              f"{m['rounds']} rounds of {m['dur_s']:g} s per arm (after {m['warm_s']:g} s warm-up), "
              f"arms alternated A B A B; generator on CPU {m['gen_cpu']}, the NIC's NAPI thread "
              f"alone on CPU {m['rx_cpu']}, user-space consumers on CPU {m['app_cpu']}; "
              f"started {m['started']}.")
    gen = [r["source_pps"] for r in res if r.get("source_pps") and r.get("source") != "core"]
    if srcs:
        print(f"Traffic source: **{', '.join(srcs)}** (xvnet-trafgen), "
              f"{min(gen or rates) / 1e6:.2f}-{max(gen or rates) / 1e6:.2f} Mpps offered over the run "
              f"(median {statistics.median(gen or rates) / 1e6:.2f})"
              + ("; *core*: the program under test run in place of the NIC on the forwarding "
                 "core (`-core` pairs)" if "core" in srcs else "") + ".\n")


def pair_tables(res, ps):
    print("### xvnet / reference on the same port, interleaved rounds\n")
    print("A = xvnet, B = the reference named. *delivered* = A/B of frames per second at the "
          "VM's consumer; *fwd cost* = A/B of the forwarding thread's run time (the NIC's NAPI "
          "thread, plus OVS's PMD thread in the OVS pairs) per frame the NIC took (1.20 = xvnet "
          "spends 20% more CPU per frame; below 1 it spends less). The source's rate is what the "
          "wire accepted: a veth pushes back when the NIC's ring is full, so it follows the "
          "slower path.\n")
    print("| pair | B | delivered A/B per round | median (min-max) | fwd cost A/B per round "
          "| median (min-max) | A pps / B pps (median) | source | drops A; B (median) |")
    print("|---|---|---|---|---|---|---|---|---|")
    order = [p for p in PAIR_ORDER if p in ps] + sorted(p for p in ps if p not in PAIR_ORDER)
    for name in order:
        p = ps[name]
        rs = ratios(p)
        if not rs:
            continue
        a, b = p["arms"]
        d = [x[1] for x in rs if x[1]]
        f = [x[2] for x in rs if x[2]]
        sa = [x[3] for x in rs]
        sb = [x[4] for x in rs]
        src = [s["source_pps"] for s in sa + sb if s.get("source_pps")]
        srcname = ",".join(sorted({s.get("source") or "?" for s in sa + sb}))
        dr = " ".join(f"{v:.2f}" for v in d)
        fr = " ".join(f"{v:.2f}" for v in f)
        extra = ""
        fpw = [s["frames_per_wakeup"] for s in sa + sb if "frames_per_wakeup" in s]
        if fpw:
            extra = f"; reader: {statistics.median(fpw):.0f} frames/wakeup"
        consumer = {s["consumer"] for s in sa + sb if "consumer" in s}
        if consumer:
            extra += "; consumer: " + ",".join(sorted(consumer))
        # a ratio no round could form (the NIC's frames uncounted: an xsk
        # arm's veth counts no rx_packets for frames redirected to a
        # socket) is shown as such, not a crash of the whole report
        print(f"| {label(name)} | {b} | {dr or 'n/a'} | {med_spread(d)} | {fr or 'n/a'} | "
              f"{med_spread(f)} | "
              f"{statistics.median(s['pps'] for s in sa) / 1e6:.3f} / "
              f"{statistics.median(s['pps'] for s in sb) / 1e6:.3f} M | "
              f"{srcname} {statistics.median(src) / 1e6:.2f} M{extra} | "
              f"{cell(drops_text(sa))}; {cell(drops_text(sb))} |")
    for r in res:
        if "skipped" in r:
            print(f"| {label(r.get('pair', r.get('row', '?')))} | | skipped: {cell(r['skipped'])} | | | | | | |")
    print()
    print("Forwarding time in ns per frame (medians over the rounds): per frame the NIC took, "
          "and per frame delivered (frames dropped on the way, at a full tap queue or socket "
          "ring, cost forwarding time too):\n")
    print("| pair | B | xvnet ns / NIC frame | B ns / NIC frame | xvnet ns / delivered | "
          "B ns / delivered | forwarding thread busy xvnet / B |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name in order:
        rs = ratios(ps[name])
        if not rs:
            continue

        def med(i, k):
            v = [x[i][k] for x in rs if x[i].get(k)]
            return statistics.median(v) if v else float("nan")
        print(f"| {label(name)} | {ps[name]['arms'][1]} | {med(3, 'fwd_ns_per_nic_frame'):.0f} | "
              f"{med(4, 'fwd_ns_per_nic_frame'):.0f} | {med(3, 'fwd_ns_per_pkt'):.0f} | "
              f"{med(4, 'fwd_ns_per_pkt'):.0f} | "
              f"{med(3, 'fwd_cpu_busy'):.0%} / {med(4, 'fwd_cpu_busy'):.0%} |")
    print()


def is_floor(r):
    return r.get("row") == "cost" and r.get("program", "nic_rx") != "nic_rx"


def cost_table(res):
    cs = [r for r in res if r.get("row") == "cost" and not is_floor(r)]
    if not cs:
        return {}
    print("### Per-packet cost by BPF_PROG_TEST_RUN (xvnet-costbench)\n")
    print(f"nic_rx against the trivial redirect in the same process, {len(cs[0]['rounds'])} rounds "
          f"each of 20 alternations; the kernel's run time per packet ({cs[0]['meta_at']} metadata). "
          "*repeat*: one call runs the same frame many times (hot caches); *single*: one run per "
          "call, for configurations that push metadata (a test run does not reset the frame "
          "between repeats) and for *-spread* (every run a different flow, caches cold as with "
          "live traffic), which adds a syscall and a clock read around each run of both programs: "
          "compare single-mode rows with 1vm-single.\n")
    print("| config | mode | verdict | flow hits / timed runs | nic_rx ns | trivial ns | ratio per round | median (min-max) | + ns (median) |")
    print("|---|---|---|---|---:|---:|---|---|---:|")
    med = {}
    for c in cs:
        x = [r["nic_rx_ns"] for r in c["rounds"]]
        t = [r["trivial_ns"] for r in c["rounds"]]
        q = [r["ratio"] for r in c["rounds"]]
        d = [r["diff_ns"] for r in c["rounds"]]
        med[c["config"]] = statistics.median(x), statistics.median(t), statistics.median(d)
        hits = (f"{c['timed_flow_hits']:,} / {c['timed_runs']:,}" if "timed_runs" in c else "")
        print(f"| {c['config']}: {c['what']} | {c['mode']} | {c['nic_rx_verdict']} | {hits} | "
              f"{statistics.median(x):.1f} | {statistics.median(t):.1f} | "
              f"{' '.join(f'{v:.2f}' for v in q)} | {statistics.median(q):.2f} ({spread(q)}) | "
              f"{statistics.median(d):.1f} |")
    print()
    stages = []
    if "1vm" in med:
        stages.append(("parse + classify (MAC, VLAN) + deliver + counters, 1 VM "
                       "(the fast path, bpf/fastpath.h)", med["1vm"][2]))
        for k, what in (("1vm-general", "the general path instead of the fast path, 1 VM"),
                        ("flows-1-general", "the general path instead of the fast path, "
                         "flow-cache hit")):
            ref = "1vm" if k == "1vm-general" else "flows-1"
            if k in med and ref in med:
                stages.append((f"{what} (vs {ref})", med[k][0] - med[ref][0]))
        for k, what in (("flows-1", "flow-cache hit, 1 flow"), ("flows-1k", "flow-cache hit, 1k flows"),
                        ("flows-1M", "flow-cache hit, 1M flows"), ("1024vm", "1024 VMs instead of 1")):
            if k in med:
                stages.append((f"{what} (vs 1 VM without flows)", med[k][0] - med["1vm"][0]))
    if "flows-1-v6" in med and "1vm-v6" in med:
        stages.append(("flow-cache hit, 1 IPv6 flow, 40-byte key (vs 1 VM without flows, "
                       "the same IPv6 frame)", med["flows-1-v6"][0] - med["1vm-v6"][0]))
    if "1vm-single" in med:
        for k, what in (("flows-1k-spread", "flow-cache hit, a different one of 1k flows each run"),
                        ("flows-1M-spread", "flow-cache hit, a different one of 1M flows each run"),
                        ("rss4", "4 queues: Toeplitz + indirection + skb-path metadata"),
                        ("xsk", "AF_XDP port: Toeplitz + xsk metadata")):
            if k in med:
                stages.append((f"{what} (vs 1 VM, single mode)", med[k][0] - med["1vm-single"][0]))
    if stages:
        print("Where nic_rx's time goes (differences of the medians above, ns per packet):\n")
        print("| stage | ns |")
        print("|---|---:|")
        for what, ns in stages:
            print(f"| {what} | {ns:+.1f} |")
        print()
    floor_table(res, med)
    return med


def floor_table(res, med):
    """The floor programs (bpf/bench_floor.bpf.c): not xvnet, what any
    program pays on this machine, beside the nic_rx row each bounds."""
    fs = [r for r in res if is_floor(r)]
    if not fs:
        return
    against = {"floor-classify": "1vm", "floor-flow40": "flows-1-v6", "floor-flow16": "flows-1",
               "floor-mem-1M-spread": "flows-1M-spread"}
    print("Floors, timed the same way against the same trivial program "
          "(bpf/bench_floor.bpf.c; not xvnet: what any program pays here):\n")
    print("| floor | mode | program ns | trivial ns | ratio per round | median (min-max) "
          "| + ns (median) | nic_rx + ns, same mode |")
    print("|---|---|---:|---:|---|---|---:|---:|")
    for c in fs:
        x = [r["nic_rx_ns"] for r in c["rounds"]]
        t = [r["trivial_ns"] for r in c["rounds"]]
        q = [r["ratio"] for r in c["rounds"]]
        d = [r["diff_ns"] for r in c["rounds"]]
        ref = against.get(c["config"])
        nx = f"{med[ref][2]:.1f} ({ref})" if ref in med else ""
        print(f"| {c['config']}: {c['what']} | {c['mode']} | {statistics.median(x):.1f} | "
              f"{statistics.median(t):.1f} | {' '.join(f'{v:.2f}' for v in q)} | "
              f"{statistics.median(q):.2f} ({spread(q)}) | {statistics.median(d):.1f} | {nx} |")
    print()


def control_plane(res):
    cp = [r for r in res if str(r.get("row", "")).startswith("cp-")]
    if not cp:
        return
    print("### Control plane\n")
    for r in cp:
        if r["row"] == "cp-flowfill":
            f = r["fill"]
            print(f"- flow cache filled with {f['flows']:,} flows by batched map updates: "
                  f"{f['flows_per_s']:,.0f} flows/s")
        elif r["row"] == "cp-flow-add":
            print(f"- `xvnetctl flow add`, one request per flow ({r['flows']} flows): {r['per_s']} flows/s")
        elif r["row"] == "cp-vm-add":
            print(f"- `xvnetctl vm add` (veth ports, {r['vms']} VMs): {r['per_s']} VMs/s")
        elif r["row"] == "cp-flow-add-batch":
            print(f"- `xvnetctl batch`, {r['flows']:,} flow adds in one commit: {r['per_s']:,} flows/s")
        elif r["row"] == "cp-vm-add-batch":
            print(f"- `xvnetctl batch`, {r['vms']} veth VM adds in one commit: {r['per_s']} VMs/s")
        elif r["row"] == "cp-vm-add-at":
            b, u, fl = r["vms_before"], r["us"], r["flows_before"]
            print("- one `xvnetctl vm add` (veth), the whole command: " + "; ".join(
                f"{u[i] / 1000:.1f} ms with {b[i]} VMs and {fl[i]:,} flows configured"
                for i in range(len(u))))
        elif r["row"] == "cp-vm-add-first-packet":
            a = r.get("after_return_ms")
            after = ("" if a is None else f" ({a} ms after it returned)" if a >= 0
                     else f" ({-a} ms before it returned)")
            print(f"- `vm add` returned after {r['vm_add_ms']} ms; first packet at the VM's "
                  f"reader {r['first_packet_ms']} ms after the command started{after}")
    print()


def main(path, plots):
    res = load(path)
    meta_line(res)
    ps = pairs_of(res)
    if ps or any("skipped" in r for r in res):   # a run of skipped pairs says why
        pair_tables(res, ps)
    med = cost_table(res)
    control_plane(res)
    if plots:
        draw(res, ps, med, plots)


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


# The ratio plot groups the pairs by the VM's port kind, the comparisons
# with the Linux bridge and OVS first in each (what a reader picks a fast
# path by), then xvnet against the trivial redirect on the same port.
PORT_KINDS = [
    ("veth port", ["bridge-veth", "ovs-veth", "veth", "veth-core", "flows-1-core", "flows-1",
                   "flows-1000", "flows-100000", "flows-1000000", "vms-1024"]),
    ("tap port", ["bridge-tap", "ovs-tap", "tap"]),
    ("AF_XDP port", ["xsk", "xsk-core", "vhost", "vhost-deep", "ovs-vhost"]),
]
# short tick labels: the group names the port, the tables say the rest
SHORT = {
    "bridge-veth": "vs Linux bridge", "ovs-veth": "vs OVS AF_XDP", "veth": "1 VM vs trivial",
    "vms-1024": "1,024 VMs vs trivial", "bridge-tap": "vs Linux bridge",
    "ovs-tap": "vs OVS AF_XDP", "tap": "1 VM vs trivial", "xsk": "1 VM vs trivial-xsk",
    "vhost": "xvnet-vhost vs tap reader",
    "vhost-deep": "the same, 8192-frame buffers",
    "ovs-vhost": "xvnet-vhost vs OVS-DPDK",
    "veth-core": "1 VM vs trivial, core alone", "flows-1-core": "1 flow vs trivial, core alone",
    "xsk-core": "1 VM vs trivial-xsk, core alone",
}


def short(p):
    if p in SHORT:
        return SHORT[p]
    if p.startswith("flows-"):
        n = int(p[6:])
        return f"{n:,} flow{'s' if n != 1 else ''} vs trivial"
    return label(p)


def setup_line(res):
    """Topology and CPUs, from the run's meta row, for the plots' titles."""
    m = next((r for r in res if r.get("row") == "meta"), None)
    srcs = sorted({r["source"] for r in res if r.get("source") and r["source"] != "core"})
    core = any(r.get("source") == "core" for r in res)
    if not m:
        return "64-byte UDP into a veth NIC"
    return (f"kernel {m['kernel']}, {m['cpus']} CPUs: source ({'/'.join(srcs) or '?'}) on CPU "
            f"{m['gen_cpu']}, the NIC's NAPI thread alone on CPU {m['rx_cpu']}, consumers on CPU "
            f"{m['app_cpu']}" + (f" ('core alone': the program run in place of the NIC on CPU "
                                 f"{m['rx_cpu']}, no source)" if core else "") +
            f"; 64-byte UDP into a veth NIC; {m['rounds']} rounds of {m['dur_s']:g} s")


def draw(res, ps, med, out):
    os.makedirs(out, exist_ok=True)
    have = [p for p in ps if ratios(ps[p])]
    known = {p for _, g in PORT_KINDS for p in g}
    groups = [(k, [p for p in g if p in have]) for k, g in PORT_KINDS]
    groups.append(("other", sorted(p for p in have if p not in known)))
    groups = [(k, g) for k, g in groups if g]
    # x of each pair: one slot each, one empty slot between groups
    xs, seps, heads, x = {}, [], [], 0
    for k, g in groups:
        if xs:
            seps.append(x)
            x += 1
        heads.append((k, x + (len(g) - 1) / 2))
        for p in g:
            xs[p] = x
            x += 1
    if xs:
        pts = os.path.join(out, "bench-ratios.dat")
        with open(pts, "w") as f:
            # x, delivered A/B, fwd cost B/A (efficiency: >1 means xvnet cheaper)
            f.write("# x delivered_ratio fwd_efficiency (one line per round)\n")
            for p, i in xs.items():
                for _, d, c, _, _ in ratios(ps[p]):
                    f.write(f"{i} {d if d else '-'} {1 / c if c else '-'}\n")
        meds = os.path.join(out, "bench-ratios-median.dat")
        with open(meds, "w") as f:
            for p, i in xs.items():
                rs = ratios(ps[p])
                # a pair without the NIC's frame count (its counter stood
                # still) has no forwarding ratio: '-' leaves that bar out
                dv = [x[1] for x in rs if x[1]]
                cv = [1 / x[2] for x in rs if x[2]]
                d = f"{statistics.median(dv):.3f}" if dv else "-"
                c = f"{statistics.median(cv):.3f}" if cv else "-"
                f.write(f'{i} {d} {c} "{label(p)} / {ps[p]["arms"][1]}"\n')
        xt = ", ".join(f'"{short(p)}" {i}' for p, i in xs.items())
        marks = "\n".join(f"set arrow from first {s}, graph 0 to first {s}, graph 1 nohead "
                          "dt 2 lc rgb 'gray50'" for s in seps)
        names = "\n".join(f"set label '{k}' at first {c}, graph 0.96 center font ',11'"
                          for k, c in heads)
        gnuplot(f"""set terminal pngcairo size 1300,700 noenhanced
set output '{out}/bench-ratios.png'
set title "xvnet / reference on the same port kind: interleaved rounds (points) and their median (bars); above 1 xvnet is better\\nleft bar: delivered frames/s, xvnet / reference; right bar: forwarding efficiency, the reference's NAPI ns per frame / xvnet's\\n{setup_line(res)}" font ',10'
set logscale y 2
set yrange [0.25:16]
set ytics ("1/4" 0.25, "1/2" 0.5, "0.7" 0.7, "1" 1, "1.4" 1.4, "2" 2, "4" 4, "8" 8, "16" 16)
set ylabel 'xvnet / reference (log scale)'
set grid ytics lc rgb 'gray80'
set xrange [-0.7:{x - 0.3}]
set xtics ({xt}) rotate by 30 right font ',9' nomirror
set bmargin 9
set lmargin 10
set rmargin 3
set key at graph 0.99, graph 0.88 right top font ',9' box opaque
set style fill solid 0.5 border -1
set boxwidth 0.35 absolute
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb 'black'
{marks}
{names}
plot '{meds}' using ($1 - 0.18):2 with boxes lc rgb '#4477aa' title 'delivered (median)', \\
     '{meds}' using ($1 + 0.18):3 with boxes lc rgb '#ee8866' title 'forwarding efficiency (median)', \\
     '{pts}' using ($1 - 0.18):2 with points pt 7 ps 0.8 lc rgb '#223355' title 'per round', \\
     '{pts}' using ($1 + 0.18):3 with points pt 7 ps 0.8 lc rgb '#773322' notitle, \\
     '{meds}' using ($1 - 0.18):($2 * 1.15):(sprintf('%.2f', $2)) with labels font ',8' notitle, \\
     '{meds}' using ($1 + 0.18):($3 * 1.15):(sprintf('%.2f', $3)) with labels font ',8' notitle
""")
    cs = [r for r in res if r.get("row") == "cost" and not is_floor(r)]
    if cs:
        dat = os.path.join(out, "bench-cost.dat")
        with open(dat, "w") as f:
            for i, c in enumerate(cs):
                x = [r["nic_rx_ns"] for r in c["rounds"]]
                t = [r["trivial_ns"] for r in c["rounds"]]
                q = statistics.median(r["ratio"] for r in c["rounds"])
                f.write(f'{i} {statistics.median(x):.1f} {min(x):.1f} {max(x):.1f} '
                        f'{statistics.median(t):.1f} {min(t):.1f} {max(t):.1f} {q:.2f} '
                        f'"{c["config"]} ({c["mode"]})"\n')
        top = max(max(r["nic_rx_ns"] for r in c["rounds"]) for c in cs)
        low = min(min(r["trivial_ns"] for r in c["rounds"]) for c in cs)
        m = next((r for r in res if r.get("row") == "meta"), {})
        # log scale: one cold-cache row (1M flows, spread) is ten times the
        # rest, which a linear axis flattens into slivers
        gnuplot(f"""set terminal pngcairo size 1100,600 noenhanced
set output '{out}/bench-cost.png'
set title "nic_rx vs the trivial redirect, ns per packet by BPF_PROG_TEST_RUN (median, min-max of the rounds; nic_rx / trivial above)\\n'single': one run per call (configurations that push metadata, and -spread: a different flow each run), which adds a syscall and a clock read to both\\nkernel {m.get('kernel', '?')}, {m.get('cpus', '?')} CPUs, one process" font ',10'
set ylabel 'ns per packet (log scale)'
set logscale y 2
set yrange [{max(1, low / 2):.0f}:{top * 2.5:.0f}]
set grid ytics lc rgb 'gray80'
set xrange [-0.6:{len(cs) - 0.4}]
set xtics rotate by 30 right font ',9' nomirror
set bmargin 8
set style fill solid 0.6 border -1
set boxwidth 0.35 absolute
set key top left font ',9' box opaque
plot '{dat}' using ($1 - 0.18):2:xtic(9) with boxes lc rgb '#4477aa' title 'nic_rx', \\
     '{dat}' using ($1 + 0.18):5 with boxes lc rgb '#bbbbbb' title 'trivial redirect', \\
     '{dat}' using ($1 - 0.18):2:3:4 with yerrorbars pt 0 lc rgb 'black' notitle, \\
     '{dat}' using ($1 + 0.18):5:6:7 with yerrorbars pt 0 lc rgb 'black' notitle, \\
     '{dat}' using 1:($4 * 1.3):(sprintf('x%.2f', $8)) with labels font ',9' notitle
""")


if __name__ == "__main__":
    args = sys.argv[1:]
    plots = None
    if "--plots" in args:
        i = args.index("--plots")
        plots = args[i + 1]
        del args[i:i + 2]
    main(args[0], plots)
