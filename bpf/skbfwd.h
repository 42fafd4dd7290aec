/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frames a VM sends that XDP cannot transmit: a guest's TSO/GSO
 * super-frame (a tap hands generic XDP the whole 64 KiB skb) or any frame
 * longer than the target device's MTU.  An XDP redirect would fail after
 * the program returned (xdp_ok_fwd_dev: EMSGSIZE), unseen.  vm_tx checks
 * such a frame whole (source, VLAN, rules), then passes it without
 * metadata; vm_flood, tc ingress of the same port, sends it on at the skb
 * level (bpf_redirect -> dev_queue_xmit), where GSO and partial checksums
 * survive and the kernel segments only for a target that cannot take GSO.
 * docs/datapath.md "VM egress larger than XDP can send".
 */
#ifndef XVNET_BPF_SKBFWD_H
#define XVNET_BPF_SKBFWD_H

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/portsel.h"

/* Load-time: bpf_check_mtu verifies here (lib/features.h check_mtu); else
 * a fixed Ethernet bound stands in for the target's MTU. */
const volatile __u32 cfg_check_mtu = 1;

#define SKBFWD_FIXED_MAX (ETH_FRAME_LEN)      /* 1514: a 1500-byte MTU */

/* XDP: can a redirect of this frame to ifindex go through? */
static __always_inline int xdp_fits(struct xdp_md *ctx, __u32 ifindex)
{
	__u32 mtu_len = 0;

	if (cfg_check_mtu)
		return bpf_check_mtu(ctx, ifindex, &mtu_len, 0, 0) == BPF_MTU_CHK_RET_SUCCESS;
	return ctx->data_end - ctx->data <= SKBFWD_FIXED_MAX;
}

/* XDP (vm_tx): hand a checked frame to vm_flood; counted there. */
static __always_inline int xdp_to_skb_path(__u32 src_id)
{
	struct xvnet_vm_tx_stats *vs = bpf_map_lookup_elem(&xvnet_vm_tx_stats, &src_id);

	if (vs)
		vs->c[XVNET_VM_CNT_TX_SKB]++;
	count(XVNET_CNT_TX_SKB);
	return XDP_PASS;
}

/*
 * tc (vm_flood): a unicast frame vm_tx passed without metadata, from VM
 * src_id.  A global function, verified once on its own: inlined, its exits
 * would each walk vm_flood's flood loop.
 */
__attribute__((noinline)) int skb_forward(struct __sk_buff *skb, __u32 src_id)
{
	struct xvnet_vm_key dk = {};
	struct xvnet_config *cfg;
	struct xvnet_vm *vm, *dvm;
	__u32 zero = 0, *dst_id, id;
	int bank_b;

	vm = bpf_map_lookup_elem(&xvnet_vms, &src_id);
	if (!vm || !(vm->flags & XVNET_VM_F_ACTIVE))
		goto drop;
	dk.vlan = vm->vlan;

	/* the tag, in-band when vm_tx checked it, is out of band by now
	 * (skb_vlan_untag); a veth's own out-of-band tag vm_tx never saw */
	if (skb->vlan_present && (skb->vlan_tci & 0x0fff) != vm->vlan) {
		count(XVNET_CNT_TX_SPOOF);
		goto drop;
	}
	if (bpf_skb_load_bytes(skb, 0, dk.mac, ETH_ALEN))
		goto drop;
	cfg = bpf_map_lookup_elem(&xvnet_config, &zero);
	dst_id = bpf_map_lookup_elem(&xvnet_vm_by_mac, &dk);
	if (dst_id) {
		id = *dst_id;
		dvm = bpf_map_lookup_elem(&xvnet_vms, &id);
		if (!dvm || !(dvm->flags & XVNET_VM_F_ACTIVE))
			goto drop;
		/* on the fallback: into the host stack at the NIC, tagged as
		 * from the wire, where the host's bridge finds the VM */
		if (vm_port_kind(dvm, &bank_b) == XVNET_PORT_NONE) {
			if (!cfg || !cfg->uplink_ifindex)
				goto drop;
			if (vm->vlan && !skb->vlan_present &&
			    bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vm->vlan)) {
				count(XVNET_CNT_VLAN_PUSH_FAIL);
				return TC_ACT_SHOT;
			}
			count_port(id, XVNET_PORT_NONE, skb->len);
			count(XVNET_CNT_FALLBACK);
			count(XVNET_CNT_TX_LOCAL);
			return bpf_redirect(cfg->uplink_ifindex, BPF_F_INGRESS);
		}
		if (!dvm->ifindex)
			goto drop;
		/* another VM's port: untagged, unless it keeps tags */
		if (skb->vlan_present && !(dvm->flags & XVNET_VM_F_KEEP_VLAN) &&
		    bpf_skb_vlan_pop(skb))
			goto drop;
		count(XVNET_CNT_TX_LOCAL);
		return bpf_redirect(dvm->ifindex, 0);
	}
	if (!cfg || !cfg->uplink_ifindex) {
		count(XVNET_CNT_TX_UPLINK_DOWN);
		return TC_ACT_SHOT;
	}
	if (vm->vlan && !skb->vlan_present &&
	    bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vm->vlan)) {
		count(XVNET_CNT_VLAN_PUSH_FAIL);
		return TC_ACT_SHOT;
	}
	count(XVNET_CNT_TX_UPLINK);
	return bpf_redirect(cfg->uplink_ifindex, 0);
drop:
	count(XVNET_CNT_TX_SKB_DROP);
	return TC_ACT_SHOT;
}

#endif
