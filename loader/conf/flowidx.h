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
	uint32_t *slot;         /* position in cfg->flows + 1; 0: empty */
	size_t mask;            /* slots - 1 (a power of two) */
	size_t used;
};

/* Index every flow of cfg (x zeroed, or an index to build anew); -1 when
 * out of memory. */
int flow_idx_build(struct flow_idx *x, const struct xvd_config *cfg);
/* Add cfg->flows[i] (just appended); -1 when out of memory. */
int flow_idx_add(struct flow_idx *x, const struct xvd_config *cfg, size_t i);
/* The flow of cfg with that key, or NULL. */
struct flow_conf *flow_idx_find(const struct flow_idx *x, const struct xvd_config *cfg,
				const struct xvnet_flow_key *key);
void flow_idx_free(struct flow_idx *x);

#endif
