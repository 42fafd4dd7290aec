/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An index of a configuration's flows by key (open addressing over their
 * positions in cfg->flows), so that the config diff and a batch of
 * requests find a flow in O(1) instead of scanning: a commit with 100k
 * configured flows used to compare every flow with every other.
 * The index follows cfg->flows as it is when built or added to; a flow
 * removed or moved needs the index built again.
 */
#ifndef XVNET_LOADER_CONF_FLOWIDX_H
#define XVNET_LOADER_CONF_FLOWIDX_H

#include <stddef.h>
#include <stdint.h>

#include "loader/conf/config.h"

struct flow_idx {
	uint32_t *slot;         /* position in cfg->flows + 1; 0: empty;
				 * FLOW_IDX_GONE: a flow taken out */
	size_t mask;            /* slots - 1 (a power of two) */
	size_t used;
	/* optional, the caller's: dead[i] set for a flow of cfg that is
	 * taken out but still in the array (a batch compacts it later);
	 * never indexed again when the index grows */
	const uint8_t *dead;
};
#define FLOW_IDX_GONE UINT32_MAX

/* Index every flow of cfg (x zeroed, or an index to build anew); -1 when
 * out of memory. */
int flow_idx_build(struct flow_idx *x, const struct xvd_config *cfg);
/* Add cfg->flows[i] (just appended); -1 when out of memory. */
int flow_idx_add(struct flow_idx *x, const struct xvd_config *cfg, size_t i);
/* Take flow f (of cfg, found by flow_idx_find) out of the index. */
void flow_idx_del(struct flow_idx *x, const struct xvd_config *cfg,
		  const struct flow_conf *f);
/* The flow of cfg with that key, or NULL. */
struct flow_conf *flow_idx_find(const struct flow_idx *x, const struct xvd_config *cfg,
				const struct xvnet_flow_key *key);
void flow_idx_free(struct flow_idx *x);

#endif
