#!/usr/bin/env python3
"""The tables of `make bench-coalesce` (selftests/bench/coalesce.sh) from its
raw lines, one section per consumer path, each read the same way:

  xsk    wire -> xsk VM -> xvnet-xskdump, which signals an eventfd (the
         "virtual interrupt") per the VM's policy;
  vhost  wire -> vhost-user VM (xvnetd's xvnet-vhost) -> xvnet-vhostsink, a vhost-user
         front-end that reads its RX ring only when the back-end's call
         eventfd wakes it, as a guest's driver does.

Lines without a "path" are of the xsk path (runs before there were two).

usage: coalesce_report.py RESULTS.json FRAMES USECS NCPU
"""
import json
import statistics
import sys

TITLES = {
    "xsk": "xsk VM -> xvnet-xskdump (eventfd per notification)",
    "vhost": "vhost-user VM (xvnetd's xvnet-vhost) -> vhost-user front-end (xvnet-vhostsink, "
             "woken by the call eventfd)",
}


def section(rows, path, frames, usecs, ncpu):
    rows = [r for r in rows if r.get("path", "xsk") == path]
    if not rows:
        return

    def med(part, pol, k):
        return statistics.median(float(r[k]) for r in rows
                                 if r["part"] == part and r["policy"] == pol)

    where = ("NIC NAPI and consumer on the other" if path == "xsk" else
             "NIC NAPI, back-end and front-end on the other")
    print(f"## Notification coalescing: {TITLES[path]}\n")
    print(f"64-byte UDP; {ncpu} CPUs: generator on one, {where}.")
    print(f"Policies: off = one notification per batch the consumer takes; on = rx-frames {frames}"
          f" rx-usecs {usecs}; adaptive = the same bounds, batch following the rate.\n")
    dur = float([r for r in rows if r["part"] == "high"][0]["dur"])
    if path == "xsk":
        print("| high rate (line rate, 64 flows) | frames/s notified | frames per notification |"
              " notifications/s | consumer wakeups/s | socket drops/s |")
        print("|---|---|---|---|---|---|")
        for pol in ("off", "on", "adaptive"):
            print(f"| {pol} | {med('high', pol, 'packets') / dur:,.0f} |"
                  f" {med('high', pol, 'per_notification'):.1f} |"
                  f" {med('high', pol, 'notifications') / dur:,.0f} |"
                  f" {med('high', pol, 'wakeups') / dur:,.0f} |"
                  f" {med('high', pol, 'socket_drops') / dur:,.0f} |")
    else:
        # notifications: the policy's; calls: those the driver had asked
        # for (EVENT_IDX), i.e. the guest's interrupts
        print("| high rate (line rate, 64 flows) | frames/s to the guest | frames per notification |"
              " notifications/s | guest interrupts (calls)/s | front-end wakeups/s |"
              " socket drops/s |")
        print("|---|---|---|---|---|---|---|")
        for pol in ("off", "on", "adaptive"):
            print(f"| {pol} | {med('high', pol, 'packets') / dur:,.0f} |"
                  f" {med('high', pol, 'per_notification'):.1f} |"
                  f" {med('high', pol, 'notifications') / dur:,.0f} |"
                  f" {med('high', pol, 'calls') / dur:,.0f} |"
                  f" {med('high', pol, 'wakeups') / dur:,.0f} |"
                  f" {med('high', pol, 'socket_drops') / dur:,.0f} |")
    fewer = med("high", "on", "per_notification") / med("high", "off", "per_notification")
    fewer_a = med("high", "adaptive", "per_notification") / med("high", "off", "per_notification")
    bound = ("" if path == "xsk" else
             "; a batch is at most what the guest's RX ring holds: xvnet-vhostsink posts 256"
             " buffers, QEMU's default ring size")
    print(f"\n**{fewer:.1f}x fewer notifications per frame with coalescing on than off**"
          f" ({fewer_a:.1f}x adaptive; target 16x{bound}).\n")
    what = "notification" if path == "xsk" else "front-end taking the frame"
    print(f"| low rate (1,000 frames/s, stamped; latency: stamp to {what}) | median latency us |"
          " p90 us | p99 us | frames per notification |")
    print("|---|---|---|---|---|")
    for pol in ("off", "adaptive", "on"):
        print(f"| {pol} | {med('low', pol, 'p50_us'):.1f} | {med('low', pol, 'p90_us'):.1f} |"
              f" {med('low', pol, 'p99_us'):.1f} | {med('low', pol, 'per_notification'):.2f} |")
    add = med("low", "adaptive", "p50_us") - med("low", "off", "p50_us")
    add90 = med("low", "adaptive", "p90_us") - med("low", "off", "p90_us")
    add99 = med("low", "adaptive", "p99_us") - med("low", "off", "p99_us")
    print(f"\n**Adaptive adds {add:.1f} us at the median at 1,000 frames/s** (target: under 20 us;"
          f" p90 {add90:+.1f}, p99 {add99:+.1f}); fixed bounds add"
          f" {med('low', 'on', 'p50_us') - med('low', 'off', 'p50_us'):.1f} us.\n")


def main():
    path, frames, usecs, ncpu = sys.argv[1:5]
    rows = [json.loads(line) for line in open(path) if line.strip()]
    for p in ("xsk", "vhost"):
        section(rows, p, frames, usecs, ncpu)


if __name__ == "__main__":
    main()
