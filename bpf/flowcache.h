/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The exact-match flow cache: the operator's flows (xvnet_flows_cfg, a
 * plain hash no traffic can evict) first, then the learnt ones (xvnet_flows,
 * the LRU the slow path fills).  Each map is only looked into once it has
 * held a flow (xvnet_config), so a host without flows pays no lookup.
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

static __always_inline struct xvnet_flow *flow_find_in(const struct xvnet_config *cfg,
						       const struct xvnet_flow_key *key)
{
	struct xvnet_flow *f = NULL;

	if (cfg->cfg_flows_active)
		f = bpf_map_lookup_elem(&xvnet_flows_cfg, key);
	if (!f && cfg->flows_active)
		f = bpf_map_lookup_elem(&xvnet_flows, key);
	return f;
}

static __always_inline struct xvnet_flow *flow_find(const struct xvnet_flow_key *key)
{
	__u32 zero = 0;
	struct xvnet_config *cfg = bpf_map_lookup_elem(&xvnet_config, &zero);

	return cfg ? flow_find_in(cfg, key) : NULL;
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
