/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VM egress anti-spoofing in user space, for transmit paths no XDP program
 * sees (an AF_XDP socket's TX ring goes straight to the NIC).  It is the
 * very code vm_tx runs (bpf/spoof.h: vm_frame_check, with bpf/parse.h's
 * parser), compiled for user space with the VM's addresses in a table
 * instead of xvnet_vm_addrs; tests/test_vm_tx.c checks the two agree frame
 * by frame.  Rules: docs/security.md.
 */
#ifndef XVNET_LIB_SPOOF_H
#define XVNET_LIB_SPOOF_H

#include <stddef.h>
#include <stdint.h>

#include "maps/xvnet_maps.h"

struct xv_spoof_vm {
	uint8_t mac[6];
	uint16_t vlan;                  /* 0 = untagged */
	const uint8_t (*addrs)[16];     /* IPv4 stored IPv4-mapped */
	int n_addrs;
	uint32_t allow;                 /* XVNET_VM_F_ALLOW_* (XVNET_VM_ALLOWS) */
	/* optional: the MACs of the other VMs of its VLAN, whose MAC-derived
	 * link-local addresses ipv6-ll-any refuses (vm_tx knows them all;
	 * without them lib/spoof.c lets such a frame through) */
	const uint8_t (*other_macs)[6];
	int n_other_macs;
	/* optional, likewise: the fe80::/64 addresses they list */
	const uint8_t (*other_addrs)[16];
	int n_other_addrs;
};

#define XV_SPOOF_MALFORMED (-1)

/*
 * 0: the VM may send this frame; XVNET_VM_CNT_SPOOF_*: refused, for that
 * reason; XV_SPOOF_MALFORMED: headers vm_tx counts as malformed (and drops).
 * A frame at an address that is 2 mod 4 (IP header 4-byte aligned, as the
 * kernel's NET_IP_ALIGN) is read in place; any other is copied first
 * (frames over 16 KiB then count as malformed).
 */
int xv_spoof_check(const struct xv_spoof_vm *vm, const void *frame, size_t len);

#endif
