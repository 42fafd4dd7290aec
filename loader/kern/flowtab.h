/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flow maps as the rest of xvnetd sees them: two tables, the
 * operator's (never evicted) and the learnt (LRU, filled by the slow path),
 * and one key for both families (struct xvnet_flow_key).  Behind each table
 * are two maps: an IPv4 packet's flow under the 16-byte key
 * (xvnet_flows4_cfg, xvnet_flows4), any other under the 40-byte one
 * (xvnet_flows_cfg, xvnet_flows); maps/xvnet_maps.h says why.  Only this
 * file converts between the two keys.
 */
#ifndef XVNET_LOADER_KERN_FLOWTAB_H
#define XVNET_LOADER_KERN_FLOWTAB_H

#include "loader/kern/xvd.h"

enum ft_table { FT_CFG = 0, FT_LEARNT = 1 };

/* The map calls, on the map of k's family: 0, or -1 with errno. */
int ft_lookup(struct xvd *d, enum ft_table t, const struct xvnet_flow_key *k,
	      struct xvnet_flow *v);
int ft_update(struct xvd *d, enum ft_table t, const struct xvnet_flow_key *k,
	      const struct xvnet_flow *v, __u64 flags);
int ft_delete(struct xvd *d, enum ft_table t, const struct xvnet_flow_key *k);

/* Every entry of table t, its IPv4 map first; fn returns true to delete
 * the entry.  The number deleted. */
typedef bool (*ft_each_fn)(void *ctx, const struct xvnet_flow_key *k,
			   const struct xvnet_flow *v);
unsigned long ft_each(struct xvd *d, enum ft_table t, ft_each_fn fn, void *ctx);

/*
 * A page of BPF_MAP_LOOKUP_BATCH over the maps in the order FT_MAPS lists
 * (the operator's IPv4, IPv6, then the learnt IPv4, IPv6): up to *n entries
 * of map m from batch position in (NULL: its first bucket) into keys and
 * vals, *out the next position.  As bpf_map_lookup_batch: -1 with errno,
 * ENOENT when map m is done (*n entries still given).
 */
#define FT_MAPS 4
int ft_map_page(struct xvd *d, unsigned m, const __u32 *in, __u32 *out,
		struct xvnet_flow_key *keys, struct xvnet_flow *vals, __u32 *n);
/* Map m belongs to the operator's table. */
static inline bool ft_map_configured(unsigned m)
{
	return m < 2;
}

/* Before a restart's adoption: IPv4 flows an older xvnetd left in the
 * 40-byte maps move to their own, counters kept.  The number moved. */
unsigned long ft_move_ipv4(struct xvd *d);

#endif
