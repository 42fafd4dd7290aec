// SPDX-License-Identifier: GPL-2.0-only
/* The flow tables over their per-family maps (loader/kern/flowtab.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "loader/kern/flowtab.h"

static int fd_of(const struct xvd *d, enum ft_table t, bool ipv4)
{
	if (t == FT_CFG)
		return ipv4 ? d->m.flows4_cfg : d->m.flows_cfg;
	return ipv4 ? d->m.flows4 : d->m.flows;
}

/* The map of k's family and the key it takes there (k itself or *k4). */
static int map_key(const struct xvd *d, enum ft_table t, const struct xvnet_flow_key *k,
		   struct xvnet_flow4_key *k4, const void **key)
{
	if (xvnet_flow_key_is4(k)) {
		xvnet_flow_key_to4(k, k4);
		*key = k4;
		return fd_of(d, t, true);
	}
	*key = k;
	return fd_of(d, t, false);
}

int ft_lookup(struct xvd *d, enum ft_table t, const struct xvnet_flow_key *k,
	      struct xvnet_flow *v)
{
	struct xvnet_flow4_key k4;
	const void *key;
	int fd = map_key(d, t, k, &k4, &key);

	return bpf_map_lookup_elem(fd, key, v);
}

int ft_update(struct xvd *d, enum ft_table t, const struct xvnet_flow_key *k,
	      const struct xvnet_flow *v, __u64 flags)
{
	struct xvnet_flow4_key k4;
	const void *key;
	int fd = map_key(d, t, k, &k4, &key);

	return bpf_map_update_elem(fd, key, v, flags);
}

int ft_delete(struct xvd *d, enum ft_table t, const struct xvnet_flow_key *k)
{
	struct xvnet_flow4_key k4;
	const void *key;
	int fd = map_key(d, t, k, &k4, &key);

	return bpf_map_delete_elem(fd, key);
}

/* One map, entry by entry, each given to fn under the 40-byte key. */
static unsigned long each_map(int fd, bool ipv4, ft_each_fn fn, void *ctx)
{
	union { struct xvnet_flow_key k6; struct xvnet_flow4_key k4; } k, next;
	int more = !bpf_map_get_next_key(fd, NULL, &next);
	unsigned long n = 0;

	while (more) {
		struct xvnet_flow_key key;
		struct xvnet_flow v;

		k = next;
		/* the next key before fn may delete this one */
		more = !bpf_map_get_next_key(fd, &k, &next);
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		if (ipv4)
			xvnet_flow_key_from4(&k.k4, &key);
		else
			key = k.k6;
		if (fn(ctx, &key, &v) && !bpf_map_delete_elem(fd, &k))
			n++;
	}
	return n;
}

unsigned long ft_each(struct xvd *d, enum ft_table t, ft_each_fn fn, void *ctx)
{
	return each_map(fd_of(d, t, true), true, fn, ctx) +
	       each_map(fd_of(d, t, false), false, fn, ctx);
}

int ft_map_page(struct xvd *d, unsigned m, const __u32 *in, __u32 *out,
		struct xvnet_flow_key *keys, struct xvnet_flow *vals, __u32 *n)
{
	bool ipv4 = m % 2 == 0;
	struct xvnet_flow4_key *k4;
	int fd, r, e;

	if (m >= FT_MAPS) {
		errno = EINVAL;
		return -1;
	}
	fd = fd_of(d, ft_map_configured(m) ? FT_CFG : FT_LEARNT, ipv4);
	if (!ipv4)
		return bpf_map_lookup_batch(fd, (void *)in, out, keys, vals, n, NULL);
	k4 = calloc(*n ? *n : 1, sizeof(*k4));
	if (!k4) {
		errno = ENOMEM;
		return -1;
	}
	r = bpf_map_lookup_batch(fd, (void *)in, out, k4, vals, n, NULL);
	e = errno;
	if (!r || e == ENOENT)
		for (__u32 i = 0; i < *n; i++)
			xvnet_flow_key_from4(&k4[i], &keys[i]);
	free(k4);
	errno = e;
	return r;
}

struct move_ctx {
	struct xvd *d;
	enum ft_table t;
};

static bool move_one(void *arg, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	const struct move_ctx *c = arg;
	struct xvnet_flow4_key k4;

	if (!xvnet_flow_key_is4(k))
		return false;
	xvnet_flow_key_to4(k, &k4);
	/* BPF_NOEXIST: an entry the data path already has there is newer */
	if (bpf_map_update_elem(fd_of(c->d, c->t, true), &k4, v, BPF_NOEXIST) && errno != EEXIST)
		return false;
	return true;
}

unsigned long ft_move_ipv4(struct xvd *d)
{
	struct move_ctx c = { d, FT_CFG };
	unsigned long n = each_map(fd_of(d, FT_CFG, false), false, move_one, &c);

	c.t = FT_LEARNT;
	return n + each_map(fd_of(d, FT_LEARNT, false), false, move_one, &c);
}
