/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The slow path: a flow-cache miss for a VM with rules.  The packet's key,
 * its VM, and the frame (its first XVNET_SLOW_PKT_MAX bytes: all of an
 * MTU-sized frame) go to xvnetd through the xvnet_slow_rb ring buffer; the
 * packet is dropped here, and xvnetd, once it has judged the flow and
 * installed it, sends an allowed frame on to where the program would have
 * (loader/kern/reinject.c): the flow's first packet is not lost.  Counted as slow_path, or
 * slow_path_full when the ring buffer has no room, or slow_path_budget when
 * the VM is over its rate: each VM draws from its own token bucket
 * (xvnet_sp_budget), so one VM's flood of new flows leaves ring buffer and
 * daemon time for the others' flow setup.
 */
#ifndef XVNET_BPF_SLOWPATH_H
#define XVNET_BPF_SLOWPATH_H

#include "bpf/maps.h"
#include "bpf/counters.h"

_Static_assert(XVNET_SLOW_PKT_MAX == 2048, "the mask below is 2048 - 1");

/* One token of vm_id's bucket, refilled at xvnet_config.sp_rate per s. */
static __always_inline int sp_budget_take(__u32 vm_id)
{
	__u32 zero = 0, rate, burst, tokens;
	struct xvnet_config *cfg = bpf_map_lookup_elem(&xvnet_config, &zero);
	struct xvnet_sp_bucket *b;
	__u64 now, elapsed, add;

	rate = cfg ? cfg->sp_rate : 0;
	if (!rate)
		return 1;
	b = bpf_map_lookup_elem(&xvnet_sp_budget, &vm_id);
	if (!b)
		return 1;
	now = bpf_ktime_get_ns();
	elapsed = now - b->last_ns;
	if (elapsed > 1000000000ull)
		elapsed = 1000000000ull;
	add = elapsed * rate / 1000000000ull;
	tokens = b->tokens;
	burst = rate / 8 + 1;
	if (add) {
		/* whole tokens only: the remainder of elapsed waits */
		tokens = tokens + add > burst ? burst : tokens + (__u32)add;
		b->last_ns = now;
	}
	if (!tokens)
		return 0;
	b->tokens = tokens - 1;
	return 1;
}

static __always_inline int slow_path(struct xdp_md *ctx,
				     const struct xvnet_flow_key *key,
				     __u32 vm_id, __u8 dir, __u32 bytes)
{
	struct xvnet_slow_rec *r;
	__u32 cap = bytes, size, zero = 0;

	if (!sp_budget_take(vm_id)) {
		count(XVNET_CNT_SLOW_PATH_BUDGET);
		return XDP_DROP;
	}
	r = bpf_map_lookup_elem(&slow_buf, &zero);
	if (!r) {
		count(XVNET_CNT_SLOW_PATH_FULL);
		return XDP_DROP;
	}
	r->key = *key;
	r->key.dir = dir;
	r->vm_id = vm_id;
	r->pkt_len = bytes;
	r->pad = 0;
	/* sizes the verifier can bound: the constant, or below it masked */
	size = sizeof(*r) - XVNET_SLOW_PKT_MAX;
	if (cap >= XVNET_SLOW_PKT_MAX) {
		cap = XVNET_SLOW_PKT_MAX;
		if (bpf_xdp_load_bytes(ctx, 0, r->pkt, XVNET_SLOW_PKT_MAX))
			cap = 0;
		else
			size += XVNET_SLOW_PKT_MAX;
	} else if (cap) {
		__u32 n = cap - 1;

		/* 1..2048 for the verifier; n + 1 == cap */
		asm volatile("%0 &= 0x7ff; %0 += 1" : "+r"(n));
		if (bpf_xdp_load_bytes(ctx, 0, r->pkt, n))
			cap = 0;
		else
			size += n;
	}
	r->cap_len = (__u16)cap;
	if (bpf_ringbuf_output(&xvnet_slow_rb, r, size, 0)) {
		count(XVNET_CNT_SLOW_PATH_FULL);
		return XDP_DROP;
	}
	count(XVNET_CNT_SLOW_PATH);
	return XDP_DROP;
}

#endif
