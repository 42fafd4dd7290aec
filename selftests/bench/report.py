#!/usr/bin/env python3
"""Summarise a bench results file (JSON lines): median/min/max per row and the
ratios the issue asks for, as a table on stdout (Markdown)."""
import json
import statistics
import sys

RATIOS = [  # (numerator, denominator, label)
    ("xvnet-veth", "bridge-veth", "veth port / bridge-to-veth"),
    ("xvnet-tap", "bridge-tap", "tap port / bridge-to-tap"),
    ("xvnet-veth", "ceiling", "veth port / XDP_DROP ceiling"),
    ("xvnet-tap", "ceiling", "tap port / XDP_DROP ceiling"),
    ("xvnet-xsk", "ceiling", "xsk port / XDP_DROP ceiling"),
]


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows.setdefault(r["row"], []).append(r["pps"])
    return rows


def main(path):
    rows = load(path)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print("| row | median pps | min | max | reps |")
    print("|---|---:|---:|---:|---:|")
    for k, v in rows.items():
        print(f"| {k} | {med[k]:,.0f} | {min(v):,.0f} | {max(v):,.0f} | {len(v)} |")
    print()
    print("| ratio | value |")
    print("|---|---:|")
    for num, den, label in RATIOS:
        if num in med and den in med and med[den] > 0:
            print(f"| {label} | {med[num] / med[den]:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
