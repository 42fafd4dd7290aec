/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * vm_tx: XDP on every VM port (the frames a guest writes into its tap; the
 * host end of a VM's veth).  The source must be the VM's own MAC on its own
 * VLAN; a frame for another local VM is redirected straight to that VM's
 * port (it never leaves the host), anything else goes out of the NIC tagged
 * with the VM's VLAN.  Group-addressed frames go to vm_flood (tc).
 */
#ifndef XVNET_BPF_VM_TX_H
#define XVNET_BPF_VM_TX_H

#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/parse.h"
#include "bpf/deliver.h"
#include "bpf/spoof.h"
#include "bpf/slowpath.h"
#include "bpf/frag.h"
#include "bpf/skbfwd.h"
#include "bpf/flowcache.h"

/* Push an 802.1Q tag: make room in front, move both MACs back over it. */
static __always_inline int vlan_push(struct xdp_md *ctx, __u16 vid)
{
	void *data, *data_end;
	__u8 macs[2 * ETH_ALEN];
	struct vlan_tag *tag;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct vlan_tag)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(macs) + sizeof(*tag) > data_end)
		return -1;
	__builtin_memcpy(macs, data + sizeof(*tag), sizeof(macs));
	__builtin_memcpy(data, macs, sizeof(macs));
	tag = data + sizeof(macs);
	tag->tci = bpf_htons(ETH_P_8021Q);      /* the TPID sits where tci is */
	tag->next_proto = bpf_htons(vid);       /* ... and the TCI after it */
	return 0;
}

static __always_inline int vm_tx_frame(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 bytes = data_end - data, port = ctx->ingress_ifindex;
	struct ethhdr *eth = data;
	struct xvnet_pkt p = {};
	struct xvnet_vm_key dk = {};
	struct xvnet_vm *vm, *dvm;
	struct xvnet_vm_tx_stats *vs;
	__u32 *vm_id, *dst_id, src_id, zero = 0;
	long ret;
	__u32 why;      /* 0 or the SPOOF_* reason */

	count(XVNET_CNT_TX);
	vm_id = bpf_map_lookup_elem(&xvnet_port_vm, &port);
	if (!vm_id) {
		count(XVNET_CNT_TX_NO_PORT);
		return XDP_DROP;
	}
	src_id = *vm_id;
	vm = bpf_map_lookup_elem(&xvnet_vms, &src_id);
	if (!vm || !(vm->flags & XVNET_VM_F_ACTIVE)) {
		count(XVNET_CNT_TX_NO_PORT);
		return XDP_DROP;
	}
	vs = bpf_map_lookup_elem(&xvnet_vm_tx_stats, &src_id);
	if (vs) {
		vs->c[XVNET_VM_CNT_TX]++;
		vs->c[XVNET_VM_CNT_TX_BYTES] += bytes;
	}
	if (parse_frame(data, data_end, &p) != PARSE_OK || (void *)(eth + 1) > data_end) {
		count(XVNET_CNT_MALFORMED);
		return XDP_DROP;
	}
	/* a VM speaks only as itself (MAC, addresses), on its own VLAN:
	 * untagged, or one 802.1Q tag with the VM's VLAN ID (bpf/spoof.h) */
	why = (__u32)vm_tx_check(ctx, &p, src_id, vm);
	if (why) {
		if (vs && why < XVNET_VM_CNT_MAX)
			vs->c[why]++;
		count(XVNET_CNT_TX_SPOOF);
		return XDP_DROP;
	}
	if (eth->h_dest[0] & 1) {
		count(XVNET_CNT_TX_FLOOD);
		return XDP_PASS;
	}
	/* a VM with rules sends only on installed out-flows (slow path);
	 * fragments and long extension chains as on the way in (bpf/frag.h) */
	if ((vm->flags & XVNET_VM_F_HAS_RULES) && p.ip_version) {
		struct xvnet_flow_key fk = p.key;
		struct xvnet_flow *f;

		if (p.ext_limit) {
			count(XVNET_CNT_RULES_EXT_LIMIT);
			return XDP_DROP;
		}
		if (p.frag_later) {
			struct xvnet_frag *e = frag_find(&p, vm->vlan, XVNET_DIR_OUT);

			if (!e || e->vm_id != src_id) {
				count(XVNET_CNT_FRAG_NO_FIRST);
				return XDP_DROP;
			}
			goto allowed;
		}
		fk.vlan = vm->vlan;
		fk.dir = XVNET_DIR_OUT;
		f = flow_find_learnt(&fk);
		if (!f) {
			if (p.frag_first)
				frag_forget(&p, vm->vlan, XVNET_DIR_OUT);
			return slow_path(ctx, &fk, src_id, XVNET_DIR_OUT, bytes);
		}
		flow_hit(f, bytes);
		if (f->verdict != XVNET_FLOW_DELIVER) {
			if (p.frag_first)
				frag_forget(&p, vm->vlan, XVNET_DIR_OUT);
			count(XVNET_CNT_FLOW_DROP);
			return XDP_DROP;
		}
		if (p.frag_first)
			frag_remember(&p, vm->vlan, XVNET_DIR_OUT, src_id, XVNET_QUEUE_RSS);
	}
allowed:
	dk.vlan = vm->vlan;
	__builtin_memcpy(dk.mac, eth->h_dest, ETH_ALEN);
	dst_id = bpf_map_lookup_elem(&xvnet_vm_by_mac, &dk);
	if (dst_id) {
		__u32 id = *dst_id;

		dvm = bpf_map_lookup_elem(&xvnet_vms, &id);
		if (!dvm || !(dvm->flags & XVNET_VM_F_ACTIVE)) {
			count(XVNET_CNT_QUEUE_NOT_READY);
			return XDP_DROP;
		}
		/* too big for an XDP redirect: tc sends it (the skb path of a
		 * multi-queue VM passes it to tc anyway, with its queue); and
		 * a VM on the fallback is reached through the host stack,
		 * which tc enters at the NIC (skb_forward) */
		{
			int bank_b;

			if (vm_port_kind(dvm, &bank_b) == XVNET_PORT_NONE ||
			    (!(dvm->flags & XVNET_VM_F_SKB_PATH) &&
			     !xdp_fits(ctx, dvm->ifindex)))
				return xdp_to_skb_path(src_id);
		}
		count(XVNET_CNT_TX_LOCAL);
		return deliver(ctx, dvm, id, XVNET_QUEUE_RSS, &p, bytes, DELIVER_FROM_VM);
	}
	{
		struct xvnet_config *cfg = bpf_map_lookup_elem(&xvnet_config, &zero);

		if (cfg && cfg->uplink_ifindex && !xdp_fits(ctx, cfg->uplink_ifindex))
			return xdp_to_skb_path(src_id);
	}

	if (!p.n_tags && vm->vlan && vlan_push(ctx, vm->vlan)) {
		count(XVNET_CNT_VLAN_PUSH_FAIL);
		return XDP_DROP;
	}
	ret = bpf_redirect_map(&xvnet_uplink, 0, 0);
	if (ret != XDP_REDIRECT) {
		count(XVNET_CNT_TX_UPLINK_DOWN);
		return XDP_DROP;
	}
	count(XVNET_CNT_TX_UPLINK);
	return XDP_REDIRECT;
}

#endif
