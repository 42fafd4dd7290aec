#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The figures of one live migration under a UDP echo stream: times from
migrate.py's JSON (MIG), losses and the blackout (the longest silence
between two replies around the migration) from echo_stream.py's (ECHO).
Fails when most of the stream was lost.  The last line is KEY=VALUE for the test's summary.
usage: migrate_figures.py MIG ECHO
"""
import json
import sys

m, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t0, rate = m["t0_mono"], e["rate"]


def rel(mono):
    return round((mono - t0) * 1000, 1)


sw = m["switch"]
print("migration: source stopped at %s ms (%s), switched by %s ms (slot write %s us, then drain %s us,"
      " %s frames stranded in the source's tap moved on),"
      " completed at %s ms, destination running at %s ms; QEMU downtime %s, total %s"
      % (m["source_stopped_ms"], m["source_state"], m["switched_ms"], sw["switch_us"],
         sw["drain_us"], sw["rescued"], m["completed_ms"], m["destination_running_ms"],
         m.get("qemu_downtime"), m.get("qemu_total_time")))
# the window: from the migrate command to 500 ms after the destination runs
lo, hi = t0, t0 + (m["destination_running_ms"] + 500) / 1000


def sent_at(k):
    return e["t0_mono"] + k / rate


lost_in = [k for k in e["lost_seqs"] if lo <= sent_at(k) <= hi]
n_in = int((hi - lo) * rate)
times = [t for t in e["reply_times"] if lo - 0.5 <= t <= hi]
gap, at = 0.0, lo
for a, b in zip(times, times[1:]):
    if b - a > gap:
        gap, at = b - a, a
print("echo stream (%d/s): %d sent, %d replies, %d lost in all; around the migration"
      " (%d ms, ~%d sent): %d lost, blackout %.1f ms from %s ms"
      % (rate, e["sent"], e["replies"], e["lost"], (hi - lo) * 1000, n_in, len(lost_in),
         gap * 1000, rel(at)))
print("lost frames sent at (ms): %s" % ", ".join("%.1f" % rel(sent_at(k)) for k in lost_in))
print("BLACKOUT_MS=%.1f LOST_IN=%d LOST_ALL=%d SENT=%d" % (gap * 1000, len(lost_in), e["lost"], e["sent"]))
assert e["replies"] > 0.9 * e["sent"], "most of the stream lost"
