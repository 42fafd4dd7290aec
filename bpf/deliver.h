/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The last step of nic_rx: pick the queue, make the frame what the VM port
 * expects (access ports see untagged frames; AF_XDP sockets get a metadata
 * block), redirect, count.
 */
#ifndef XVNET_BPF_DELIVER_H
#define XVNET_BPF_DELIVER_H

#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/steer.h"
#include "bpf/hwhash.h"
#include "bpf/skbpath.h"
#include "bpf/spread.h"
#include "bpf/meta.h"
#include "bpf/portsel.h"

/* Where deliver() runs: from decides which sockets and which hash. */
#define DELIVER_FROM_VM         0       /* vm_tx: local VM to VM */
#define DELIVER_FROM_NIC        1       /* nic_rx */
#define DELIVER_FROM_NIC_HWHASH 2       /* nic_rx_hw: the NIC's hash first */

/* Pop the outer 4-byte tag: move both MACs over it, then drop 4 bytes. */
static __always_inline int vlan_pop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 macs[2 * ETH_ALEN];

	if (data + sizeof(macs) + sizeof(struct vlan_tag) > data_end)
		return -1;
	__builtin_memcpy(macs, data, sizeof(macs));
	__builtin_memcpy(data + sizeof(struct vlan_tag), macs, sizeof(macs));
	return bpf_xdp_adjust_head(ctx, sizeof(struct vlan_tag));
}

/*
 * from the NIC (nic_rx), an xsk VM's socket for this RX queue can take the
 * frame directly.  Anywhere else (vm_tx switching between local VMs) an
 * AF_XDP socket bound to the NIC cannot receive it, so an xsk VM gets it
 * through its side veth (xvnet_ports -> xsk_side -> side socket).
 */
static __always_inline int deliver(struct xdp_md *ctx, const struct xvnet_vm *vm,
				   __u32 vm_id, __u32 queue,
				   const struct xvnet_pkt *p, __u32 bytes,
				   const int from)
{
	int bank_b;
	__u32 kind = vm_port_kind(vm, &bank_b);
	int xsk = kind == XVNET_PORT_XSK;
	__u16 type = XVNET_RSS_TYPE_NONE;
	__u32 hash = 0;
	long ret;

	/* the fallback: the host stack takes the frame as it came (vm_tx
	 * sends a local VM's frame there through tc, bpf/skbfwd.h); before
	 * the spread and skb-path flags, which a move switched from a port
	 * with them leaves in the slot until it is normalized */
	if (kind == XVNET_PORT_NONE) {
		count_port(vm_id, kind, bytes);
		count(XVNET_CNT_FALLBACK);
		return XDP_PASS;
	}
	/* AF_XDP consumers get the hash even when it does not pick the queue,
	 * unless none reads it (XVNET_VM_F_NO_RX_HASH: ~34 ns per frame) */
	if (((xsk && !(vm->flags & XVNET_VM_F_NO_RX_HASH)) ||
	     (queue == XVNET_QUEUE_RSS && vm->n_queues > 1)) &&
	    !(from == DELIVER_FROM_NIC_HWHASH && hw_rx_hash(ctx, p, &hash, &type)))
		hash = rss_hash(vm, vm_id, p, &type);
	if (queue == XVNET_QUEUE_RSS)
		queue = vm->n_queues > 1 ? rss_queue(vm, hash) : 0;
	else if (queue >= vm->n_queues)
		queue = 0;

	if (p->n_tags && !(vm->flags & XVNET_VM_F_KEEP_VLAN) && vlan_pop(ctx)) {
		count(XVNET_CNT_VLAN_POP_FAIL);
		return XDP_DROP;
	}

	/* inline: a frame from a local VM reaches an xsk VM through its side
	 * veth, where xsk_side writes the block (one written here would be
	 * taken for part of the frame there) */
	if (xsk && !(meta_inline() && from == DELIVER_FROM_VM) &&
	    xsk_meta_put(ctx, hash, type, queue, p->key.vlan, vm_id)) {
		count(XVNET_CNT_META_FAIL);
		return XDP_DROP;
	}
	/* queue-cpus: the rest runs on the queue's CPU (bpf/spread.h) */
	if (!xsk && from != DELIVER_FROM_VM && (vm->flags & XVNET_VM_F_CPU_SPREAD)) {
		count_port(vm_id, kind, bytes);
		return spread_redirect(ctx, vm, vm_id, queue, bytes);
	}
	/* multi-queue tap / veth: through tc, to this queue (bpf/skbpath.h) */
	if (!xsk && (vm->flags & XVNET_VM_F_SKB_PATH)) {
		count_port(vm_id, kind, bytes);
		return skb_path_pass(ctx, vm_id, queue, bytes);
	}
	if (xsk && from != DELIVER_FROM_VM) {
		__u32 rxq = ctx->rx_queue_index;

		/* a socket only receives from the NIC queue it is bound to */
		if (rxq >= XVNET_MAX_NIC_QUEUES) {
			count(XVNET_CNT_QUEUE_NOT_READY);
			return XDP_DROP;
		}
		ret = bpf_redirect_map(&xvnet_xsks, XVNET_XSK_SLOT(vm_id, rxq), 0);
	} else {
		ret = redirect_vm_port(vm_id, bank_b);
	}
	if (ret != XDP_REDIRECT) {
		count(XVNET_CNT_QUEUE_NOT_READY);
		return XDP_DROP;
	}
	count_port(vm_id, kind, bytes);
	count(XVNET_CNT_DELIVERED);
	count_queue(vm_id, queue, bytes);
	return XDP_REDIRECT;
}

#endif
