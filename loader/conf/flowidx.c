// SPDX-License-Identifier: GPL-2.0-only
/* Flows of a configuration by key: loader/conf/flowidx.h. */
#include <stdlib.h>
#include <string.h>

#include "loader/conf/flowidx.h"

/* FNV-1a over the key's bytes: the keys are the operator's, not a
 * stranger's, so no keyed hash is needed against collisions made on purpose */
static uint64_t key_hash(const struct xvnet_flow_key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static int grow(struct flow_idx *x, const struct xvd_config *cfg, size_t want)
{
	size_t n = 64;

	while (n < want * 2)
		n <<= 1;
	free(x->slot);
	x->slot = calloc(n, sizeof(*x->slot));
	if (!x->slot)
		return -1;
	x->mask = n - 1;
	x->used = 0;
	for (size_t i = 0; i < cfg->n_flows && i < want; i++)
		if (!(x->dead && x->dead[i]) && flow_idx_add(x, cfg, i))
			return -1;
	return 0;
}

int flow_idx_build(struct flow_idx *x, const struct xvd_config *cfg)
{
	return grow(x, cfg, cfg->n_flows);
}

int flow_idx_add(struct flow_idx *x, const struct xvd_config *cfg, size_t i)
{
	size_t s;

	/* used counts tombstones too: they fill the probe chains */
	if ((x->used + 1) * 2 > x->mask + 1)
		return grow(x, cfg, i + 1);     /* re-adds 0..i, i included */
	s = key_hash(&cfg->flows[i].key) & x->mask;
	while (x->slot[s])
		s = (s + 1) & x->mask;
	x->slot[s] = (uint32_t)(i + 1);
	x->used++;
	return 0;
}

struct flow_conf *flow_idx_find(const struct flow_idx *x, const struct xvd_config *cfg,
				const struct xvnet_flow_key *key)
{
	size_t s = key_hash(key) & x->mask;

	for (; x->slot[s]; s = (s + 1) & x->mask) {
		struct flow_conf *f;

		if (x->slot[s] == FLOW_IDX_GONE)
			continue;
		f = &cfg->flows[x->slot[s] - 1];
		if (memcmp(&f->key, key, sizeof(*key)) == 0)
			return f;
	}
	return NULL;
}

void flow_idx_del(struct flow_idx *x, const struct xvd_config *cfg,
		  const struct flow_conf *f)
{
	uint32_t pos = (uint32_t)(f - cfg->flows) + 1;

	/* a tombstone keeps the probe chains behind it whole */
	for (size_t s = key_hash(&f->key) & x->mask; x->slot[s]; s = (s + 1) & x->mask)
		if (x->slot[s] == pos) {
			x->slot[s] = FLOW_IDX_GONE;
			return;
		}
}

void flow_idx_free(struct flow_idx *x)
{
	free(x->slot);
	memset(x, 0, sizeof(*x));
}
