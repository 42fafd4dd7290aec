/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Backend spreading (XVNET_VM_F_CPU_SPREAD, vm `queue-cpus`): the delivery
 * work of a VM's queue q runs on host CPU queue_cpu[q] instead of the CPU
 * of the NIC's NAPI, so that one VM's receive work uses several cores.
 * nic_rx names the VM and queue on the frame (bpf/meta.h) and redirects
 * it into the CPUMAP xvnet_cpus; the kernel's cpumap thread of that CPU runs vm_cpu on it, which delivers to the port (DEVMAP); for a
 * multi-queue tap/veth that is exact only when this CPU maps to the frame's
 * queue (cpu % queues == queue, e.g. queue-cpus 0,1 for 2 queues), else the
 * frame goes up its own CPU's stack to the skb path (bpf/skbpath.h: cpumap
 * builds the skb with the metadata and the NIC's tc ingress finishes it).
 */
#ifndef XVNET_BPF_SPREAD_H
#define XVNET_BPF_SPREAD_H

#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/skbpath.h"
#include "bpf/meta.h"

/* nic_rx: to the CPU of the frame's queue; counted delivered there. */
static __always_inline int spread_redirect(struct xdp_md *ctx, const struct xvnet_vm *vm,
					   __u32 vm_id, __u32 queue, __u32 bytes)
{
	__u32 cpu = vm->queue_cpu[queue & (XVNET_MAX_QUEUES - 1)];

	if (skb_meta_put(ctx, vm_id, queue))
		return XDP_DROP;
	if (bpf_redirect_map(&xvnet_cpus, cpu, 0) != XDP_REDIRECT) {
		count(XVNET_CNT_QUEUE_NOT_READY);
		return XDP_DROP;
	}
	count(XVNET_CNT_DELIVERED);
	count_queue(vm_id, queue, bytes);
	return XDP_REDIRECT;
}

/* vm_cpu, on the queue's CPU. */
static __always_inline int spread_deliver(struct xdp_md *ctx)
{
	struct xvnet_vm *vm;
	__u32 vm_id;
	__u16 queue;

	if (!xdp_meta_get(ctx, &vm_id, &queue))
		goto drop;
	vm = bpf_map_lookup_elem(&xvnet_vms, &vm_id);
	if (!vm || !(vm->flags & XVNET_VM_F_ACTIVE))
		goto drop;
	count(XVNET_CNT_CPU_SPREAD);
	/*
	 * A multi-queue tap/veth: the XDP transmit into it picks queue
	 * cpu % queues (tun_xdp_xmit, veth_xdp_xmit), so on a CPU that maps to
	 * the frame's queue the fast redirect is exact; elsewhere the skb
	 * path, on this CPU (the block stays on for tc).
	 */
	if ((vm->flags & XVNET_VM_F_SKB_PATH) && vm->n_queues &&
	    bpf_get_smp_processor_id() % vm->n_queues != queue) {
		count(XVNET_CNT_SKB_PATH);
		return XDP_PASS;
	}
	if (xdp_meta_drop(ctx) ||
	    bpf_redirect_map(&xvnet_ports, vm_id, 0) != XDP_REDIRECT)
		goto drop;
	return XDP_REDIRECT;
drop:
	count(XVNET_CNT_CPU_SPREAD_DROP);
	return XDP_DROP;
}

#endif
