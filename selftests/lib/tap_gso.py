"""Write TCP super-frames into a tap the way QEMU does for a guest with TSO:
a struct virtio_net_hdr (NEEDS_CSUM, GSO TCPV4, gso_size) in front of each
frame, whose TCP checksum holds only the pseudo-header sum (the guest left
the rest to the device), and one frame far larger than the MTU.

usage: tap_gso.py TAP SRC_MAC DST_MAC SRC_IP DST_IP DPORT PAYLOAD [COUNT [GSO_SIZE]]
Prints "wrote COUNT frames of N bytes".
"""
import fcntl
import os
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
TUNSETVNETHDRSZ = 0x400454D8
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
VIRTIO_NET_HDR_GSO_TCPV4 = 1


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def mac(s):
    return bytes(int(b, 16) for b in s.split(":"))


tap, smac, dmac, sip, dip = sys.argv[1:6]
dport, payload = int(sys.argv[6]), int(sys.argv[7])
count = int(sys.argv[8]) if len(sys.argv) > 8 else 1
mss = int(sys.argv[9]) if len(sys.argv) > 9 else 1448

fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", tap.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", 10))
seq = 1000
for n in range(count):
    data = bytes((i + n) & 0xFF for i in range(payload))
    tcp_len = 20 + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, n, 0x4000, 64, 6, 0,
                     socket.inet_aton(sip), socket.inet_aton(dip))
    ip = ip[:10] + struct.pack("!H", 0xFFFF - csum16(ip)) + ip[12:]
    pseudo = csum16(socket.inet_aton(sip) + socket.inet_aton(dip) + struct.pack("!HH", 6, tcp_len))
    tcp = struct.pack("!HHIIBBHHH", 40000, dport, seq, 1, 5 << 4, 0x18, 65535, pseudo, 0)
    frame = mac(dmac) + mac(smac) + b"\x08\x00" + ip + tcp + data
    gso = payload > mss
    vhdr = struct.pack("<BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM,
                       VIRTIO_NET_HDR_GSO_TCPV4 if gso else 0, 54, mss if gso else 0, 34, 16)
    os.write(fd, vhdr + frame)
    seq += payload
print(f"wrote {count} frames of {len(frame)} bytes")
