/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Redirects that fail after the XDP program returned, counted per VM and
 * reason (maps/xvnet_maps.h xvnet_redirect_err), from two of the kernel's
 * tracepoints, as BTF-typed raw tracepoints:
 *  - xdp:xdp_redirect_err (dev, xdp_prog, tgt, err, map_type, map_id,
 *    index): the redirect itself failed (the target's MTU, a device down);
 *  - xdp:xdp_devmap_xmit (from_dev, to_dev, sent, drops, err): the DEVMAP's
 *    bulk transmit took fewer frames than it was given (a tap no VMM holds:
 *    ENXIO; a full queue: the driver took fewer, err 0, counted ENOBUFS).
 *    Without it such frames count `delivered` and show nowhere else (a
 *    tap's tx_dropped counts only the first frame of a refused batch).
 */
#ifndef XVNET_BPF_REDIRECT_ERR_H
#define XVNET_BPF_REDIRECT_ERR_H

#include "bpf/maps.h"

#define XVNET_ENOBUFS 105       /* errno.h is no BPF header */

/* Only the field used, relocated against the kernel's BTF (CO-RE). */
struct net_device {
	int ifindex;
} __attribute__((preserve_access_index));

static __always_inline void redirect_err_add(struct xvnet_redirect_err_key *k, __u64 frames)
{
	__u64 *n = bpf_map_lookup_elem(&xvnet_redirect_err, k);

	if (n)
		*n += frames;
	else
		bpf_map_update_elem(&xvnet_redirect_err, k, &frames, BPF_NOEXIST);
}

static __always_inline void redirect_err_count(const struct net_device *dev, int err,
					       __u32 map_id, __u32 index)
{
	struct xvnet_redirect_err_key k = { .err = (__u16)(err < 0 ? -err : err) };
	__u32 ifindex = (__u32)dev->ifindex, *vm_id, zero = 0;
	struct xvnet_config *cfg = bpf_map_lookup_elem(&xvnet_config, &zero);

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
	redirect_err_add(&k, 1);
}

/*
 * A DEVMAP bulk transmit that dropped frames: into a VM's port, counted
 * for that VM, dir in (from the NIC or another VM alike: the port is where
 * they were lost); else from a VM's port (a veth VM's native vm_tx to the
 * NIC), counted for the sender, dir out.  Other devices are not xvnet's.
 */
static __always_inline void devmap_xmit_count(const struct net_device *from,
					      const struct net_device *to,
					      int drops, int err)
{
	struct xvnet_redirect_err_key k = {
		/* err 0 with drops: the driver took fewer (its queue is full) */
		.err = (__u16)(err < 0 ? -err : err ? err : XVNET_ENOBUFS),
	};
	__u32 ifindex = (__u32)to->ifindex, *vm_id;

	if (drops <= 0)
		return;
	vm_id = bpf_map_lookup_elem(&xvnet_port_vm, &ifindex);
	k.dir = XVNET_DIR_IN;
	if (!vm_id) {
		ifindex = (__u32)from->ifindex;
		vm_id = bpf_map_lookup_elem(&xvnet_port_vm, &ifindex);
		k.dir = XVNET_DIR_OUT;
	}
	if (!vm_id)
		return;
	k.vm_id = *vm_id;
	redirect_err_add(&k, (__u64)drops);
}

#endif
