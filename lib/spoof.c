// SPDX-License-Identifier: GPL-2.0-only
/* vm_tx's anti-spoofing for user space: see lib/spoof.h. */
#include <stdint.h>
#include <string.h>

#define XVNET_SPOOF_USER 1
#include "lib/spoof.h"
#include "bpf/spoof.h"

/* the VM being checked (xv_spoof_check is reentrant per thread) */
static __thread const struct xv_spoof_vm *cur_vm;

__u32 xv_spoof_user_flags(__u32 vm_id, const __u8 *addr16)
{
	static const __u8 zero[16];

	if (vm_id & XVNET_ADDR_VLAN_ID(0)) {     /* the VLAN's listed link-locals */
		for (int i = 0; i < cur_vm->n_other_addrs; i++)
			if (memcmp(cur_vm->other_addrs[i], addr16, 16) == 0)
				return XVNET_ADDR_F_LISTED;
		return 0;
	}
	if (memcmp(addr16, zero, 16) == 0)
		return cur_vm->n_addrs ? XVNET_ADDR_F_HAS_ADDRS : 0;
	for (int i = 0; i < cur_vm->n_addrs; i++)
		if (memcmp(cur_vm->addrs[i], addr16, 16) == 0)
			return XVNET_ADDR_F_SOURCE;
	return 0;
}

int xv_spoof_user_other_mac(__u32 vm_id, __u16 vlan, const __u8 *mac)
{
	(void)vm_id;
	(void)vlan;     /* the caller lists the MACs of the VM's VLAN only */
	for (int i = 0; i < cur_vm->n_other_macs; i++)
		if (memcmp(cur_vm->other_macs[i], mac, 6) == 0)
			return 1;
	return 0;
}

/* Frames whose IP header is not 4-byte aligned are checked from here. */
#define XV_SPOOF_COPY_MAX 16384
static __thread uint64_t scratch[(XV_SPOOF_COPY_MAX + 8) / 8];

int xv_spoof_check(const struct xv_spoof_vm *vm, const void *frame, size_t len)
{
	void *data = (void *)frame, *data_end;
	struct xvnet_pkt p;
	struct xvnet_vm v;
	int r;

	/* the parser reads headers as structs: keep them aligned as the
	 * kernel does (NET_IP_ALIGN), copying only when the caller did not */
	if (((uintptr_t)frame & 3) != 2) {
		if (len > XV_SPOOF_COPY_MAX)
			return XV_SPOOF_MALFORMED;
		data = (char *)scratch + 2;
		memcpy(data, frame, len);
	}
	data_end = (char *)data + len;

	memset(&p, 0, sizeof(p));
	memset(&v, 0, sizeof(v));
	memcpy(v.mac, vm->mac, 6);
	v.vlan = vm->vlan;
	v.flags = vm->allow & XVNET_VM_ALLOW_ALL;
	if (parse_frame(data, data_end, &p) != PARSE_OK)
		return XV_SPOOF_MALFORMED;
	cur_vm = vm;
	r = vm_frame_check(data, data_end, &p, 0, &v);
	cur_vm = NULL;
	return r;
}
