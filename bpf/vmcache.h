/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* xvnet_vm_cache's answer for a (MAC, VLAN) key word: nic_rx's general and
 * fast paths both ask it first (maps/xvnet_maps.h). */
#ifndef XVNET_BPF_VMCACHE_H
#define XVNET_BPF_VMCACHE_H

#include "bpf/maps.h"

/*
 * The VM of key through xvnet_vm_cache (maps/xvnet_maps.h), or NULL: then
 * xvnet_vm_by_mac decides.  A hit is an active slot with the frame's own
 * MAC and VLAN, so a stale or colliding cache slot never delivers.
 */
static __always_inline struct xvnet_vm *vm_cache_find(__u64 key, __u32 *vm_id)
{
	__u32 slot = xvnet_vm_cache_slot(key), id, *v;
	struct xvnet_vm *vm;
	__u64 vm_key = 0;

	v = bpf_map_lookup_elem(&xvnet_vm_cache, &slot);
	if (!v)
		return NULL;
	id = *(volatile __u32 *)v - 1;  /* 0 (empty) wraps out of range */
	vm = bpf_map_lookup_elem(&xvnet_vms, &id);
	if (!vm || !(vm->flags & XVNET_VM_F_ACTIVE))
		return NULL;
	__builtin_memcpy(&vm_key, vm->mac, sizeof(vm_key));
	if (vm_key != key)
		return NULL;
	*vm_id = id;
	return vm;
}

#endif
