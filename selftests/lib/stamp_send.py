#!/usr/bin/env python3
"""Send COUNT UDP datagrams to DST:PORT at RATE per second, each stamped
with its send time: payload = b"XVTS" + CLOCK_MONOTONIC ns (8 bytes, little
endian) + padding.  xvnet-xskdump --latency reads the stamp (same clock,
same host) to measure the delay from send to notification.  One datagram
per sleep: unlike the live-frames generator, no bursts at low rates.

usage: stamp_send.py DST PORT COUNT RATE
"""
import socket
import struct
import sys
import time


def main():
    dst, port, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gap = 1.0 / rate
    start = time.monotonic()
    for i in range(count):
        # pace on absolute times: no drift from the send cost
        delay = start + i * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s.sendto(b"XVTS" + struct.pack("<Q", time.monotonic_ns()) + bytes(18), (dst, port))


if __name__ == "__main__":
    main()
