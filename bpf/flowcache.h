/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The exact-match flow cache: the operator's flows (xvnet_flows_cfg, a
 * plain hash no traffic can evict) first, then the learnt ones (xvnet_flows,
 * the LRU the slow path fills); an IPv4 packet's in the same two under a
 * 16-byte key (xvnet_flows4_cfg, xvnet_flows4).  Each kind is only looked
 * into once it has held a flow (xvnet_config), so a host without flows pays
 * no lookup.
 *
 * A hit costs one lookup and no atomics or precise clock: the per-flow
 * counters are plain increments (a flow's packets arrive on one NIC queue,
 * so one CPU, in the common case; concurrent hits may lose a count) and the
 * idle clock is the coarse one (tick resolution, against an idle timeout of
 * seconds).
 */
#ifndef XVNET_BPF_FLOWCACHE_H
#define XVNET_BPF_FLOWCACHE_H

#include "bpf/maps.h"
#include "bpf/counters.h"

/* An IPv4 packet's flow (its 16-byte key: maps/xvnet_maps.h). */
static __always_inline struct xvnet_flow *flow_find4(const struct xvnet_config *cfg,
						     const struct xvnet_flow4_key *k4)
{
	struct xvnet_flow *f = NULL;

	/* The empty asm after each call keeps clang from merging it with the
	 * same call on flow_find6's map (one call, the map in a register):
	 * the verifier inlines a lookup only where its map is known, and the
	 * merged call cost 9 ns a hit (xvnet-costbench flows-1). */
	if (cfg->cfg_flows_active) {
		f = bpf_map_lookup_elem(&xvnet_flows4_cfg, k4);
		asm volatile("" : "+r"(f));
	}
	if (!f && cfg->flows_active) {
		f = bpf_map_lookup_elem(&xvnet_flows4, k4);
		asm volatile("" : "+r"(f));
	}
	return f;
}

/* Any other flow. */
static __always_inline struct xvnet_flow *flow_find6(const struct xvnet_config *cfg,
						     const struct xvnet_flow_key *key)
{
	struct xvnet_flow *f = NULL;

	if (cfg->cfg_flows_active)
		f = bpf_map_lookup_elem(&xvnet_flows_cfg, key);
	if (!f && cfg->flows_active)
		f = bpf_map_lookup_elem(&xvnet_flows, key);
	return f;
}

static __always_inline struct xvnet_flow *flow_find_in(const struct xvnet_config *cfg,
						       const struct xvnet_flow_key *key)
{
	struct xvnet_flow4_key k4;

	if (xvnet_flow_key_is4(key)) {
		xvnet_flow_key_to4(key, &k4);
		return flow_find4(cfg, &k4);
	}
	return flow_find6(cfg, key);
}

static __always_inline struct xvnet_flow *flow_find(const struct xvnet_flow_key *key)
{
	__u32 zero = 0;
	struct xvnet_config *cfg = bpf_map_lookup_elem(&xvnet_config, &zero);

	return cfg ? flow_find_in(cfg, key) : NULL;
}

/* A learnt flow only (vm_tx: the operator's flows are for frames from the wire). */
static __always_inline struct xvnet_flow *flow_find_learnt(const struct xvnet_flow_key *key)
{
	struct xvnet_flow4_key k4;

	struct xvnet_flow *f;

	if (xvnet_flow_key_is4(key)) {
		xvnet_flow_key_to4(key, &k4);
		f = bpf_map_lookup_elem(&xvnet_flows4, &k4);
		asm volatile("" : "+r"(f));     /* as in flow_find4 */
		return f;
	}
	return bpf_map_lookup_elem(&xvnet_flows, key);
}

static __always_inline void flow_hit(struct xvnet_flow *f, __u32 bytes)
{
	__u64 now = bpf_ktime_get_coarse_ns();

	count(XVNET_CNT_FLOW_HIT);
	f->packets++;
	f->bytes += bytes;
	if (f->last_seen_ns != now)
		f->last_seen_ns = now;
}

#endif
