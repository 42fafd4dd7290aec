#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Run HMP commands on a QEMU monitor socket and print their answers, for a
test's diagnostics.  usage: hmp.py MON CMD [CMD...]"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from migrate import Hmp  # noqa: E402


def main():
    mon = Hmp(sys.argv[1])
    for line in sys.argv[2:]:
        print("(qemu) " + line)
        out = mon.cmd(line).replace("\r", "").rsplit("(qemu) ", 1)[0]
        # the monitor echoes the command, key by key, on the first line
        print(out.split("\n", 1)[1].rstrip() if "\n" in out else "")


if __name__ == "__main__":
    main()
