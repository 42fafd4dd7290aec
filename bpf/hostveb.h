/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The host stack's side of the VMs on the fallback (docs/dnis.md).  There
 * the host's own bridge reaches the VM, and xvnet is the switch between the
 * host stack and the VMs on its ports, as an SR-IOV NIC's embedded bridge
 * (VEB) is between its PF and VFs: without it, what one sends the other
 * would leave by the wire and come back only where the network hairpins.
 *  - to the fallback (bpf/skbfwd.h, bpf/flood.h): a VM's unicast frame for
 *    a VM on the fallback, and one copy of its group-addressed frames, go
 *    into the NIC's ingress as from the wire;
 *  - from the fallback (nic_egress, tc egress of the NIC, here): a frame the
 *    host stack sends out of the NIC with a fallback VM's source (MAC and
 *    VLAN) and a local VM's destination goes to that VM's port; a
 *    group-addressed one is copied to the VLAN's VM ports too and goes on
 *    to the wire.  Everything else the host sends goes to the wire as before.
 * The fallback VM's frames are judged by the host's bridge, not by vm_tx:
 * xvnet checks their source MAC and VLAN (that is how it knows them), not
 * their addresses or rules.
 */
#ifndef XVNET_BPF_HOSTVEB_H
#define XVNET_BPF_HOSTVEB_H

#include <linux/pkt_cls.h>
#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/parse.h"
#include "bpf/portsel.h"
#include "bpf/flood.h"

/* The active VM of (mac, vlan) and its id, or NULL. */
static __always_inline struct xvnet_vm *veb_vm(const __u8 *mac, __u16 vlan, __u32 *id)
{
	struct xvnet_vm_key k = { .vlan = vlan };
	struct xvnet_vm *vm;
	__u32 *idp;

	__builtin_memcpy(k.mac, mac, ETH_ALEN);
	idp = bpf_map_lookup_elem(&xvnet_vm_by_mac, &k);
	if (!idp)
		return NULL;
	*id = *idp;
	vm = bpf_map_lookup_elem(&xvnet_vms, id);
	return vm && (vm->flags & XVNET_VM_F_ACTIVE) ? vm : NULL;
}

static __always_inline int nic_egress_frame(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct xvnet_vm *src, *dst;
	__u32 src_id, dst_id, vlan, *on_host;
	__be16 tpid = 0;
	__u16 tci = 0;
	int bank_b;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (skb->vlan_present) {
		tpid = skb->vlan_proto;
		tci = skb->vlan_tci;
	} else if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_tag *tag = (void *)(eth + 1);

		if ((void *)(tag + 1) > data_end)
			return TC_ACT_OK;
		tpid = eth->h_proto;
		tci = bpf_ntohs(tag->tci);
	}
	if (tpid && tpid != bpf_htons(ETH_P_8021Q))
		return TC_ACT_OK;
	/* no VM of this VLAN on the fallback (the common case): one array
	 * read, and the host's frame goes on without a hash lookup */
	vlan = tci & 0x0fff;
	on_host = bpf_map_lookup_elem(&xvnet_flood_host, &vlan);
	if (!on_host || !*on_host)
		return TC_ACT_OK;
	src = veb_vm(eth->h_source, tci & 0x0fff, &src_id);
	if (!src || vm_port_kind(src, &bank_b) != XVNET_PORT_NONE)
		return TC_ACT_OK;       /* not from a VM on the fallback */

	if (eth->h_dest[0] & 1) {
		if (tpid && bpf_skb_vlan_pop(skb)) {
			count(XVNET_CNT_VLAN_POP_FAIL);
			return TC_ACT_OK;
		}
		flood_members(skb, tci & 0x0fff, 0, tpid, tci);
		if (tpid && bpf_skb_vlan_push(skb, tpid, tci))
			return TC_ACT_SHOT;
		return TC_ACT_OK;       /* and on to the wire */
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	dst = veb_vm(eth->h_dest, tci & 0x0fff, &dst_id);
	if (!dst || vm_port_kind(dst, &bank_b) == XVNET_PORT_NONE || !dst->ifindex)
		return TC_ACT_OK;       /* the wire's, or the bridge's own */
	/* another VM's port: untagged, unless it keeps tags (as skb_forward) */
	if (tpid && !(dst->flags & XVNET_VM_F_KEEP_VLAN) && bpf_skb_vlan_pop(skb)) {
		count(XVNET_CNT_VLAN_POP_FAIL);
		return TC_ACT_SHOT;
	}
	count(XVNET_CNT_TX_LOCAL);
	return bpf_redirect(dst->ifindex, 0);
}

#endif
