/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Redirects that fail after the XDP program returned, counted per VM and
 * reason (maps/xvnet_maps.h xvnet_redirect_err) from the kernel's
 * xdp:xdp_redirect_err tracepoint, as a BTF-typed raw tracepoint: its
 * arguments are (dev, xdp_prog, tgt, err, map_type, map_id, index).
 */
#ifndef XVNET_BPF_REDIRECT_ERR_H
#define XVNET_BPF_REDIRECT_ERR_H

#include "bpf/maps.h"

/* Only the field used, relocated against the kernel's BTF (CO-RE). */
struct net_device {
	int ifindex;
} __attribute__((preserve_access_index));

static __always_inline void redirect_err_count(const struct net_device *dev, int err,
					       __u32 map_id, __u32 index)
{
	struct xvnet_redirect_err_key k = { .err = (__u16)(err < 0 ? -err : err) };
	__u32 ifindex = (__u32)dev->ifindex, *vm_id, zero = 0;
	struct xvnet_config *cfg = bpf_map_lookup_elem(&xvnet_config, &zero);
	__u64 one = 1, *n;

	vm_id = bpf_map_lookup_elem(&xvnet_port_vm, &ifindex);
	if (vm_id) {
		k.vm_id = *vm_id;
		k.dir = XVNET_DIR_OUT;
	} else if (cfg && cfg->ports_map_id && map_id == cfg->ports_map_id) {
		k.vm_id = index;
		k.dir = XVNET_DIR_IN;
	} else {
		return;         /* not an xvnet port's redirect */
	}
	n = bpf_map_lookup_elem(&xvnet_redirect_err, &k);
	if (n)
		(*n)++;
	else
		bpf_map_update_elem(&xvnet_redirect_err, &k, &one, BPF_NOEXIST);
}

#endif
