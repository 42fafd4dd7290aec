#!/bin/sh
# busybox udhcpc's event script for the selftests: configure the lease as a
# stock guest's DHCP client does.  Kept in the checkout, not written to
# /tmp at run time: /tmp may be mounted noexec, and udhcpc then takes the
# lease without configuring it (and still exits 0).
case "$1" in
bound|renew) ip addr add "$ip/${mask:-24}" dev "$interface" ;;
esac
exit 0
