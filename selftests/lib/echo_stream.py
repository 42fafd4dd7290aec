#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A paced UDP echo stream to a guest's udp_echo (selftests/guest): sends
numbered datagrams at RATE/s for SECS s, notes when each reply comes back,
and prints one JSON object: sent, replies, lost, the longest silence between
two replies (the blackout) and when it was (CLOCK_MONOTONIC seconds, the
clock migrate.py prints too).
usage: echo_stream.py HOST PORT RATE SECS
"""
import json
import select
import socket
import sys
import time

host, port, rate, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
got = {}
t0 = time.monotonic()
n = 0
end = t0 + secs
while True:
    now = time.monotonic()
    if now < end:
        while n < (now - t0) * rate:
            s.sendto(b"seq=%d" % n, (host, port))
            n += 1
    elif now > end + 2:
        break
    r, _, _ = select.select([s], [], [], 0.0005)
    while r:
        try:
            data = s.recv(2048)
        except BlockingIOError:
            break
        i = data.rfind(b"seq=")
        if i >= 0:
            got.setdefault(int(data[i + 4:]), time.monotonic())
times = sorted(got.values())
gap, at = 0.0, None
for a, b in zip(times, times[1:]):
    if b - a > gap:
        gap, at = b - a, a
missing = [k for k in range(n) if k not in got]
# what migrate.py's window needs: when each lost datagram was sent, and
# every reply time (the blackout is looked for around the switch)
print(json.dumps({"sent": n, "replies": len(got), "lost": len(missing),
                  "rate": rate, "lost_seqs": missing, "reply_times": times,
                  "lost_first": missing[:1], "lost_last": missing[-1:],
                  "blackout_ms": round(gap * 1000, 1),
                  "blackout_from_mono": at, "t0_mono": t0}))
