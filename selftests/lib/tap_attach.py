"""Try to attach to a tap as another user, the way a VMM does (TUNSETIFF).

usage: tap_attach.py TAP UID GID [QUEUES]
/dev/net/tun is opened first, as the caller (root): stock Debian has it
0666, so any user can get this far; some hosts have it 0600, which would
hide the tap's own check.  Then the process becomes UID:GID (no
supplementary groups, no capabilities left) and asks for the tap.
Prints "attached" (exit 0) or the errno name (exit 1 for EPERM, 2 other).
"""
import errno
import fcntl
import os
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE = 0x0002, 0x1000, 0x4000, 0x0100

tap, uid, gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
queues = int(sys.argv[4]) if len(sys.argv) > 4 else 1
fd = os.open("/dev/net/tun", os.O_RDWR)
os.setgroups([])
os.setgid(gid)
os.setuid(uid)  # from root to non-root: the effective capabilities go too
flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (IFF_MULTI_QUEUE if queues > 1 else 0)
try:
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", tap.encode(), flags))
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
    sys.exit(1 if e.errno == errno.EPERM else 2)
print("attached")
