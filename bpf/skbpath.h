/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The skb path: delivery to the queue RSS chose on multi-queue tap and veth
 * ports (XVNET_VM_F_SKB_PATH).  An XDP redirect cannot choose it: the
 * kernel's XDP transmit into a tap (tun_xdp_xmit) or a veth (veth_xdp_xmit)
 * picks the queue from the current CPU.  The skb transmit does let the
 * queue be chosen, so such frames take it:
 *
 *  1. XDP (deliver(): nic_rx, vm_tx) names the VM and queue in front of the
 *     frame (struct xvnet_skb_meta, XDP metadata, which stays with the skb)
 *     or inline in a tagged prefix where adjust_meta is refused (bpf/meta.h), and
 *     passes it (XDP_PASS);
 *  2. tc ingress of the same device (nic_flood, vm_flood) takes the block
 *     (skb_meta_take), records the queue as skb->queue_mapping = queue + 1 (what
 *     skb_record_rx_queue() writes) and bpf_redirect()s the skb to the
 *     port's egress: dev_queue_xmit -> netdev_core_pick_tx;
 *  3. the port picks the recorded queue:
 *     - tap: tun_select_queue() runs the tap's steering program, tap_steer
 *       (set by xvnetd with TUNSETSTEERINGEBPF), which returns
 *       queue_mapping - 1; tun takes it modulo the attached queues;
 *     - veth: no ndo_select_queue, so netdev_pick_tx -> skb_tx_hash(), which
 *       uses the recorded queue (no socket, no XPS map on the host end);
 *       veth_xmit hands the skb to the peer's RX queue of the same index.
 * docs/datapath.md says what it costs and where it does not apply.
 */
#ifndef XVNET_BPF_SKBPATH_H
#define XVNET_BPF_SKBPATH_H

#include <linux/pkt_cls.h>
#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/parse.h"
#include "bpf/meta.h"

/* XDP, last step of deliver(): meta block, counted as delivered, passed. */
static __always_inline int skb_path_pass(struct xdp_md *ctx, __u32 vm_id, __u32 queue,
					 __u32 bytes)
{
	/* the port must be there, as bpf_redirect_map would require */
	if (!bpf_map_lookup_elem(&xvnet_ports, &vm_id)) {
		count(XVNET_CNT_QUEUE_NOT_READY);
		return XDP_DROP;
	}
	if (skb_meta_put(ctx, vm_id, queue))
		return XDP_DROP;
	count(XVNET_CNT_DELIVERED);
	count(XVNET_CNT_SKB_PATH);
	count_queue(vm_id, queue, bytes);
	return XDP_PASS;
}

/*
 * tc ingress: a unicast skb carrying an xvnet_skb_meta block goes to its
 * VM's port with the queue recorded (TC_ACT_REDIRECT); -1: not one of
 * ours.  Only unicast: nic_rx and vm_tx pass group-addressed frames to
 * the flood code without a block, so a block on one could only be left
 * over from elsewhere.  The block is checked against the VM's slot.
 * A global function: the verifier checks it once, on its own, so its many
 * exits do not each walk the flood loop that follows it in the callers.
 */
__attribute__((noinline)) int skb_path_redirect(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct xvnet_vm *vm;
	__u32 vm_id;
	__u16 queue;
	int r;

	if ((void *)(eth + 1) > data_end || (eth->h_dest[0] & 1))
		return -1;
	r = skb_meta_take(skb, &vm_id, &queue);
	if (r == 0)
		return -1;
	vm = bpf_map_lookup_elem(&xvnet_vms, &vm_id);
	if (r < 0 || !vm || !(vm->flags & XVNET_VM_F_ACTIVE) ||
	    !(vm->flags & XVNET_VM_F_SKB_PATH) || queue >= vm->n_queues ||
	    !vm->ifindex) {
		count(XVNET_CNT_SKB_PATH_DROP);
		return TC_ACT_SHOT;
	}
	skb->queue_mapping = queue + 1;
	return bpf_redirect(vm->ifindex, 0);
}

/*
 * tun's steering program on multi-queue taps (TUNSETSTEERINGEBPF, a
 * socket filter): tun_select_queue() runs it for every skb sent into the
 * tap (never for XDP frames) and takes its return value modulo the
 * attached queues.  The skb path recorded the chosen queue + 1; another
 * skb keeps what the kernel recorded (a flood copy of a NIC frame: the
 * NIC's RX queue; a frame from a tap: that tap's queue) or, with nothing
 * recorded, goes by its flow hash.
 */
static __always_inline __u32 tap_steer_queue(const struct __sk_buff *skb)
{
	__u32 qm = skb->queue_mapping;

	return qm ? qm - 1 : skb->hash;
}

#endif
