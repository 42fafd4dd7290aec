/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU outcome counters: no atomics needed, user space sums the CPUs. */
#ifndef XVNET_BPF_COUNTERS_H
#define XVNET_BPF_COUNTERS_H

#include "bpf/maps.h"

static __always_inline void count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&xvnet_stats, &c);

	if (v)
		*v += 1;
}

static __always_inline void count_queue(__u32 vm_id, __u32 queue, __u32 bytes)
{
	__u32 idx = vm_id * XVNET_MAX_QUEUES + queue;
	struct xvnet_queue_stats *qs = bpf_map_lookup_elem(&xvnet_queue_stats, &idx);

	if (qs) {
		qs->packets++;
		qs->bytes += bytes;
	}
}

/* Where deliver() sent a VM's frame, by port kind (a vm move's record). */
static __always_inline void count_port(__u32 vm_id, __u32 kind, __u32 bytes)
{
	__u32 idx = vm_id * XVNET_PORT_KINDS + (kind & (XVNET_PORT_KINDS - 1));
	struct xvnet_queue_stats *ps = bpf_map_lookup_elem(&xvnet_port_stats, &idx);

	if (ps) {
		ps->packets++;
		ps->bytes += bytes;
	}
}

#endif
