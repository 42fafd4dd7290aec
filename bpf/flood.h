/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Broadcast and multicast.  XDP cannot both redirect copies and keep the
 * original, so group-addressed frames leave nic_rx / vm_tx with XDP_PASS and
 * are copied here, at tc ingress, with bpf_clone_redirect:
 *  - nic_flood (NIC): to every VM port of the frame's VLAN, popping the tag;
 *    the original goes on to the host;
 *  - vm_flood (VM port): to the other VMs of the sender's VLAN and, tagged,
 *    out of the NIC; never back to the sender, never to the host.
 */
#ifndef XVNET_BPF_FLOOD_H
#define XVNET_BPF_FLOOD_H

#include <linux/pkt_cls.h>
#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/parse.h"
#include "bpf/skbfwd.h"

static __always_inline int member_keeps_vlan(__u32 vm_id)
{
	struct xvnet_vm *vm = bpf_map_lookup_elem(&xvnet_vms, &vm_id);

	return vm && (vm->flags & XVNET_VM_F_KEEP_VLAN);
}

/*
 * Clone the (untagged) skb to the VLAN's members except `exclude`.  Members
 * that keep tags get the tag (tpid, tci) pushed around their copy.  VMs on
 * the fallback are no members (no port): the host stack reaches them, and
 * xvnet_flood_host counts them per VLAN.  (No test more in this loop: 6.1's
 * verifier refuses vm_flood with one, "the sequence of 8193 jumps".)
 */
static __always_inline void flood_members(struct __sk_buff *skb, __u32 vlan,
					  __u32 exclude, __be16 tpid, __u16 tci)
{
	__u32 *count_p = bpf_map_lookup_elem(&xvnet_flood_count, &vlan);
	__u32 n, i;

	if (!count_p)
		return;
	n = *count_p;
	for (i = 0; i < XVNET_MAX_FLOOD_PORTS; i++) {
		struct xvnet_flood_key k = { .vlan = vlan, .idx = i };
		struct xvnet_flood_member *m;
		long err;

		if (i >= n)
			break;
		m = bpf_map_lookup_elem(&xvnet_flood, &k);
		if (!m || m->ifindex == exclude)
			continue;
		if (tpid && member_keeps_vlan(m->vm_id)) {
			err = bpf_skb_vlan_push(skb, tpid, tci);
			if (!err)
				err = bpf_clone_redirect(skb, m->ifindex, 0);
			if (bpf_skb_vlan_pop(skb))
				err = -1;
		} else {
			err = bpf_clone_redirect(skb, m->ifindex, 0);
		}
		count(err ? XVNET_CNT_FLOOD_ERR : XVNET_CNT_FLOOD_COPIES);
	}
}

static __always_inline int nic_flood_frame(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__be16 tpid = 0, inner = 0;
	__u16 tci = 0;
	__u32 vlan;

	if ((void *)(eth + 1) > data_end || !(eth->h_dest[0] & 1))
		return TC_ACT_OK;
	/* a VM's broadcast put in here for the VMs on the fallback (vm_flood):
	 * the other VMs had their copies already */
	if (skb->mark == XVNET_MARK_HOST_COPY)
		return TC_ACT_OK;

	/* the NIC may have taken the tag out already (rx-vlan offload), and
	 * the stack does before tc ingress anyway */
	if (skb->vlan_present) {
		tpid = skb->vlan_proto;
		tci = skb->vlan_tci;
		inner = eth->h_proto;
	} else if (is_vlan_tpid(eth->h_proto)) {
		struct vlan_tag *tag = (void *)(eth + 1);

		if ((void *)(tag + 1) > data_end)
			return TC_ACT_OK;
		tpid = eth->h_proto;
		tci = bpf_ntohs(tag->tci);
		inner = tag->next_proto;
	}
	vlan = tci & 0x0fff;
	if (!bpf_map_lookup_elem(&xvnet_flood_count, &vlan))
		return TC_ACT_OK;
	/* as nic_rx for unicast: only a VM's own tag shape reaches VMs (one
	 * 802.1Q tag); a copy of a QinQ frame would carry the inner tag into
	 * the VM, an S-tag frame would look like the VM's VLAN */
	if (tpid && is_vlan_tpid(inner)) {
		count(XVNET_CNT_VLAN_QINQ);
		return TC_ACT_OK;
	}
	if (tpid && tpid != bpf_htons(ETH_P_8021Q)) {
		count(XVNET_CNT_VLAN_STAG);
		return TC_ACT_OK;
	}
	if (tpid && bpf_skb_vlan_pop(skb)) {
		count(XVNET_CNT_VLAN_POP_FAIL);
		return TC_ACT_OK;
	}
	flood_members(skb, vlan, 0, tpid, tci);
	/* the host gets the frame as it arrived */
	if (tpid)
		bpf_skb_vlan_push(skb, tpid, tci);
	return TC_ACT_OK;
}

static __always_inline int vm_flood_frame(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 port = skb->ingress_ifindex, zero = 0, nic, vlan, *on_host;
	struct xvnet_config *cfg;
	__u32 *vm_id;
	struct xvnet_vm *vm;

	/* vm_tx passes only frames it checked: group-addressed ones, and
	 * unicast ones XDP cannot send (bpf/skbfwd.h; those with skb-path
	 * metadata never get here); the VM port is no host interface, so
	 * nothing from it reaches the host stack */
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_SHOT;
	vm_id = bpf_map_lookup_elem(&xvnet_port_vm, &port);
	if (!vm_id)
		return TC_ACT_SHOT;
	vm = bpf_map_lookup_elem(&xvnet_vms, vm_id);
	if (!vm || !(vm->flags & XVNET_VM_F_ACTIVE))
		return TC_ACT_SHOT;
	if (!(eth->h_dest[0] & 1))
		return skb_forward(skb, *vm_id);
	/* A tag outside the data: the stack takes the tag of a --keep-vlan
	 * VM's tagged broadcast (ARP) out before tc ingress, after vm_tx
	 * checked it was exactly the VM's own; and a tag vm_tx could not see
	 * (a container's 8021q device or tc vlan action, over a veth).  Only
	 * one 802.1Q tag with the VM's VLAN ID is its own: that one is taken
	 * off (the copies get the VM's tag below); any other would make the
	 * copies carry a VLAN the VM picked. */
	if (skb->vlan_present &&
	    (skb->vlan_proto != bpf_htons(ETH_P_8021Q) ||
	     (skb->vlan_tci & 0x0fff) != vm->vlan || is_vlan_tpid(eth->h_proto) ||
	     bpf_skb_vlan_pop(skb))) {
		struct xvnet_vm_tx_stats *vs =
			bpf_map_lookup_elem(&xvnet_vm_tx_stats, vm_id);

		if (vs)
			vs->c[XVNET_VM_CNT_SPOOF_VLAN]++;
		count(XVNET_CNT_TX_SPOOF);
		return TC_ACT_SHOT;
	}

	cfg = bpf_map_lookup_elem(&xvnet_config, &zero);
	nic = cfg ? cfg->uplink_ifindex : 0;

	flood_members(skb, vm->vlan, port, vm->vlan ? bpf_htons(ETH_P_8021Q) : 0, vm->vlan);
	vlan = vm->vlan;
	on_host = bpf_map_lookup_elem(&xvnet_flood_host, &vlan);

	if (!nic) {
		count(XVNET_CNT_TX_UPLINK_DOWN);
		return TC_ACT_SHOT;
	}
	if (vm->vlan && bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vm->vlan)) {
		count(XVNET_CNT_VLAN_PUSH_FAIL);
		return TC_ACT_SHOT;
	}
	if (bpf_clone_redirect(skb, nic, 0))
		count(XVNET_CNT_FLOOD_ERR);
	else
		count(XVNET_CNT_TX_UPLINK);
	/* VMs on the fallback: one copy into the host stack at the NIC, as
	 * from the wire, which its bridge gives them (bpf/hostveb.h) */
	if (on_host && *on_host) {
		__u32 mark = skb->mark;

		skb->mark = XVNET_MARK_HOST_COPY;
		count(bpf_clone_redirect(skb, nic, BPF_F_INGRESS) ? XVNET_CNT_FLOOD_ERR :
		      XVNET_CNT_FLOOD_COPIES);
		skb->mark = mark;
	}
	return TC_ACT_SHOT;
}

#endif
