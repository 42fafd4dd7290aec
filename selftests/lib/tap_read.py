"""Read a tap as a VMM does (IFF_VNET_HDR) and count what a guest would get.

usage: tap_read.py TAP SECONDS OFFLOAD OUT
OFFLOAD "tso": the reader takes super-frames (TUNSETOFFLOAD CSUM|TSO4|TSO6,
as QEMU asks for a guest with TSO); "none": the kernel must segment first.
Writes to OUT one line: "frames N gso N tcp_payload N max_len N" (TCP/IPv4
only), once SECONDS have passed.  Prints "ready" once attached.
"""
import fcntl
import os
import select
import struct
import sys
import time

TUNSETIFF, TUNSETOFFLOAD, TUNSETVNETHDRSZ = 0x400454CA, 0x400454D0, 0x400454D8
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 = 0x01, 0x02, 0x04

tap, secs, offload, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", tap.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", 10))
fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 if offload == "tso" else 0)
print("ready", flush=True)
frames = gso = payload = max_len = 0
end = time.time() + secs
while time.time() < end:
    if not select.select([fd], [], [], 0.1)[0]:
        continue
    buf = os.read(fd, 70000)
    vhdr, frame = buf[:10], buf[10:]
    frames += 1
    max_len = max(max_len, len(frame))
    if vhdr[1] != 0:
        gso += 1
    off = 14
    if frame[12:14] == b"\x81\x00":
        off = 18
    if frame[off - 2:off] != b"\x08\x00" or frame[off + 9] != 6:
        continue
    ihl = (frame[off] & 0x0F) * 4
    tot = struct.unpack("!H", frame[off + 2:off + 4])[0]
    thl = (frame[off + ihl + 12] >> 4) * 4
    payload += tot - ihl - thl
with open(out, "w") as f:
    f.write(f"frames {frames} gso {gso} tcp_payload {payload} max_len {max_len}\n")
