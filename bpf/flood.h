/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nic_flood: XDP cannot both redirect copies and pass the original, so
 * broadcast/multicast leaves nic_rx with XDP_PASS and is copied here, at tc
 * ingress, to every VM port of its VLAN; the original goes on to the host.
 */
#ifndef XVNET_BPF_FLOOD_H
#define XVNET_BPF_FLOOD_H

#include <linux/pkt_cls.h>
#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/parse.h"

static __always_inline int member_keeps_vlan(__u32 vm_id)
{
	struct xvnet_vm *vm = bpf_map_lookup_elem(&xvnet_vms, &vm_id);

	return vm && (vm->flags & XVNET_VM_F_KEEP_VLAN);
}

static __always_inline int flood(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__be16 tpid = 0;
	__u16 tci = 0;
	__u32 vlan, n, i;
	__u32 *count_p;
	int tagged = 0;

	if ((void *)(eth + 1) > data_end || !(eth->h_dest[0] & 1))
		return TC_ACT_OK;

	/* the NIC may have taken the tag out already (rx-vlan offload) */
	if (skb->vlan_present) {
		tagged = 1;
		tpid = skb->vlan_proto;
		tci = skb->vlan_tci;
	} else if (is_vlan_tpid(eth->h_proto)) {
		struct vlan_tag *tag = (void *)(eth + 1);

		if ((void *)(tag + 1) > data_end)
			return TC_ACT_OK;
		tagged = 1;
		tpid = eth->h_proto;
		tci = bpf_ntohs(tag->tci);
	}
	vlan = tci & 0x0fff;
	count_p = bpf_map_lookup_elem(&xvnet_flood_count, &vlan);
	if (!count_p || !*count_p)
		return TC_ACT_OK;
	n = *count_p;

	if (tagged && bpf_skb_vlan_pop(skb)) {
		count(XVNET_CNT_VLAN_POP_FAIL);
		return TC_ACT_OK;
	}
	for (i = 0; i < XVNET_MAX_FLOOD_PORTS; i++) {
		struct xvnet_flood_key k = { .vlan = vlan, .idx = i };
		struct xvnet_flood_member *m;
		long err;

		if (i >= n)
			break;
		m = bpf_map_lookup_elem(&xvnet_flood, &k);
		if (!m)
			continue;
		if (tagged && member_keeps_vlan(m->vm_id)) {
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
	/* the host gets the frame as it arrived */
	if (tagged)
		bpf_skb_vlan_push(skb, tpid, tci);
	return TC_ACT_OK;
}

#endif
