"""Send one IPv6 router advertisement for fd00:77::/64 (SLAAC, A and L set,
router lifetime 0: not a default router) from the wire, as a router on the
VMs' link would: send_ra.py IFACE WIRE-MAC WIRE-LINK-LOCAL."""
import sys
from scapy.all import (Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptSrcLLAddr, sendp, conf)
conf.verb = 0
iface, wmac, wll = sys.argv[1:4]
sendp(Ether(src=wmac, dst="33:33:00:00:00:01") /
      IPv6(src=wll, dst="ff02::1", hlim=255) / ICMPv6ND_RA(routerlifetime=0) /
      ICMPv6NDOptSrcLLAddr(lladdr=wmac) /
      ICMPv6NDOptPrefixInfo(prefix="fd00:77::", prefixlen=64, L=1, A=1,
                            validlifetime=600, preferredlifetime=300), iface=iface)
