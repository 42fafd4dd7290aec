#!/usr/bin/env python3
"""Check a VM's RSS tables as xvnetd keeps them (docs/maps.md, xvnet_rss_tables).

usage: rss_tables.py PIN_DIR VM_ID [KEY]

The VM's slot in PIN_DIR/xvnet_vms must have XVNET_VM_F_RSS_TABLE, and
PIN_DIR/xvnet_rss_tables[VM_ID] must hold, entry for entry, the tables of
KEY (aa:bb:... hex), or of the slot's own key without one: nib[n][v] is the
Toeplitz hash of a 36-byte input holding v in nibble n and zeros elsewhere.
Exits 1 with what differs.
"""
import json
import subprocess
import sys

from toeplitz import toeplitz  # checked against the published suite on import

RSS_TABLE = 1 << 9


def lookup(pin, name, vm_id):
    out = subprocess.run(["bpftool", "-j", "map", "lookup", "pinned", f"{pin}/{name}", "key"] +
                         [str(b) for b in vm_id.to_bytes(4, "little")],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["formatted"]["value"]


def main():
    pin, vm_id = sys.argv[1], int(sys.argv[2])
    slot = lookup(pin, "xvnet_vms", vm_id)
    key = (bytes(int(b, 16) for b in sys.argv[3].split(":")) if len(sys.argv) > 3
           else bytes(slot["rss_key"]))
    if not slot["flags"] & RSS_TABLE:
        sys.exit(f"vm {vm_id}: slot flags {slot['flags']:#x} without XVNET_VM_F_RSS_TABLE")
    nib = lookup(pin, "xvnet_rss_tables", vm_id)["nib"]
    for n in range(72):
        for v in range(16):
            data = bytearray(36)
            data[n // 2] = v << 4 if n % 2 == 0 else v
            want = toeplitz(key, bytes(data))
            if nib[n][v] != want:
                sys.exit(f"vm {vm_id}: nib[{n}][{v}] = {nib[n][v]:#x}, key gives {want:#x}")


if __name__ == "__main__":
    main()
