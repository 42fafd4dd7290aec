#!/usr/bin/env python3
"""Helpers of bench.sh (one sample's JSON line, its log line, the xsk socket
counters), kept out of the shell script.

  benchfmt.py sample PAIR ARM ROUND A B W0 W1 C0 C1 F0 F1 T0 T1 D0 D1 GENJSON EXTRAJSON
  benchfmt.py line JSON
  benchfmt.py xsk < `xvnetctl -j stats VM`
  benchfmt.py xmitdrop LABEL < `xvnetctl -j stats VM`
"""
import json
import os
import sys


def kv(s):
    return {k: int(v) for k, v in (p.split("=") for p in s.split())}


def sample(args):
    (pair, arm, rnd, a, b, w0, w1, c0, c1, f0, f1, t0, t1, d0, d1, gen, extra) = args
    secs = (int(t1) - int(t0)) / 1e9
    # delivered: per stats file "count:mtime_ns" at the start and the end
    pps = 0.0
    for x, y in zip(a.split(), b.split()):
        (na, ta), (nb, tb) = map(int, x.split(":")), map(int, y.split(":"))
        if tb > ta:
            pps += (nb - na) * 1e9 / (tb - ta)
    n = pps * secs
    c0, c1 = [list(map(int, c.split())) for c in (c0, c1)]

    def busy(i):   # fraction of the window CPU i was busy (/proc/stat, ticks)
        db, dt = c1[2 * i] - c0[2 * i], c1[2 * i + 1] - c0[2 * i + 1]
        return db / dt if dt else 0.0

    # run time of the NIC's NAPI thread(s) + ksoftirqd; frames the NIC took
    (f0, r0), (f1, r1) = [map(int, f.split()) for f in (f0, f1)]
    fwd_ns, nic_rx = f1 - f0, r1 - r0
    k0, k1 = kv(d0), kv(d1)
    g = json.loads(gen)
    if g.get("source") == "core":
        # the program ran in place of the NIC (bench.sh CORE=1): it took
        # the frames the source made, at the source's own rate
        nic_rx = g["pps"] * secs
    r = {"pair": pair, "arm": arm, "round": int(rnd), "pps": round(pps),
         "source": g.get("source"), "source_pps": g.get("pps"),
         "gen_cpu_busy": round(busy(0), 3), "rx_cpu_busy": round(busy(1), 3),
         "fwd_cpu_busy": round(fwd_ns / (secs * 1e9), 3),
         "fwd_ns_per_pkt": round(fwd_ns / n, 1) if n > 0 else None,
         "nic_rx_pps": round(nic_rx / secs),
         "fwd_ns_per_nic_frame": round(fwd_ns / nic_rx, 1) if nic_rx > 0 else None,
         "drops_per_s": {k: round((k1[k] - k0.get(k, 0)) / secs) for k in k1}}
    if int(w1) > int(w0):
        r["frames_per_wakeup"] = round(n / (int(w1) - int(w0)), 1)
    r.update(json.loads(extra))
    print(json.dumps(r, separators=(",", ":")))


def line(js):
    r = json.loads(js)
    d = " ".join(f"{k} {v}/s" for k, v in r["drops_per_s"].items() if v) or "none"
    src = r["source"] or "?"
    sp = r["source_pps"] or 0
    fpw = f", {r['frames_per_wakeup']} frames/wakeup" if "frames_per_wakeup" in r else ""
    print(f"{r['pps']:,} pps delivered ({r['nic_rx_pps']:,} into the NIC), forwarding "
          f"{r['fwd_ns_per_pkt']} ns per delivered frame, {r['fwd_ns_per_nic_frame']} per NIC frame "
          f"(NAPI thread busy {r['fwd_cpu_busy']:.0%}, CPU {r['rx_cpu_busy']:.0%}){fpw}; "
          f"source {src} {sp:,.0f} pps; drops: {d}")


def xsk():
    try:
        x = json.load(sys.stdin)["vms"][0]["xsk"]
    except (ValueError, KeyError, IndexError, TypeError):
        return
    print(f"xsk_rx_dropped={x['rx_dropped']} xsk_rx_ring_full={x['rx_ring_full']} "
          f"xsk_fill_ring_empty={x['rx_fill_ring_empty_descs']}", end=" ")


def xmitdrop(label):
    """Frames the kernel dropped on their way into the VM's port after nic_rx
    redirected them (xvnet's xdp_redirect_err / xdp_devmap_xmit counters,
    dir in).  A tap's own tx_dropped counts one frame per refused bulk of up
    to 16 (tun_xdp_xmit stops at the first full ring slot and the devmap
    frees the rest), so it shows a fraction of what a full tap queue loses."""
    try:
        errs = json.load(sys.stdin)["vms"][0]["redirect_errors"]
    except (ValueError, KeyError, IndexError, TypeError):
        return
    n = sum(e["frames"] for e in errs if e.get("dir") == "in")
    print(f"{label}={n}", end=" ")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sample":
        sample(sys.argv[2:])
    elif cmd == "line":
        line(sys.argv[2])
    elif cmd == "xsk":
        xsk()
    elif cmd == "xmitdrop":
        xmitdrop(sys.argv[2])
    else:
        sys.exit(f"benchfmt.py: unknown command {cmd}")
