// SPDX-License-Identifier: GPL-2.0-only
/* The changes between two configurations: see loader/conf/diff.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/conf/diff.h"
#include "loader/conf/flowidx.h"

bool vm_same_port(const struct vm_conf *a, const struct vm_conf *b,
		  bool mac_in_place)
{
	return a->id == b->id && a->port_kind == b->port_kind &&
	       strcmp(a->ifname, b->ifname) == 0 &&
	       strcmp(a->netns, b->netns) == 0 &&
	       strcmp(a->peer_ifname, b->peer_ifname) == 0 &&
	       a->queues == b->queues &&
	       (mac_in_place || memcmp(a->mac, b->mac, 6) == 0) &&
	       memcmp(&a->xsk, &b->xsk, sizeof(a->xsk)) == 0;
}

bool vm_differs_in_rss_only(const struct vm_conf *a, const struct vm_conf *b)
{
	struct vm_conf t = *b;

	t.has_rss_key = a->has_rss_key;
	t.has_rss_indir = a->has_rss_indir;
	t.has_rss_fields = a->has_rss_fields;
	t.rss_fields = a->rss_fields;
	memcpy(t.rss_key, a->rss_key, sizeof(t.rss_key));
	memcpy(t.rss_indir, a->rss_indir, sizeof(t.rss_indir));
	return vm_conf_same(a, &t);
}

bool vm_differs_in_coal_only(const struct vm_conf *a, const struct vm_conf *b)
{
	struct vm_conf t = *b;

	t.coal = a->coal;
	return vm_conf_same(a, &t);
}

static struct cfg_change *add(struct cfg_diff *d, enum cfg_change_kind kind)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct cfg_change *c = realloc(d->c, cap * sizeof(*c));

		if (!c)
			return NULL;
		d->c = c;
		d->cap = cap;
	}
	memset(&d->c[d->n], 0, sizeof(d->c[0]));
	d->c[d->n].kind = kind;
	return &d->c[d->n++];
}

/* A VM of next takes over what old's vm holds: it must go before. */
static bool reused(const struct xvd_config *next, const struct vm_conf *vm)
{
	for (size_t i = 0; i < next->n_vms; i++) {
		const struct vm_conf *n = &next->vms[i];

		if (n->id == vm->id || strcmp(n->ifname, vm->ifname) == 0 ||
		    (n->vlan == vm->vlan && memcmp(n->mac, vm->mac, 6) == 0))
			return true;
	}
	return false;
}

/* The VM of cfg named name, tried first at position i: a commit's next
 * config is a copy of the old with a few changes, so the VMs mostly stand
 * where they stood, and a scan for each (N^2 name compares with 1000 VMs)
 * is rarely needed. */
static struct vm_conf *vm_at(const struct xvd_config *cfg, const char *name, size_t i)
{
	if (i < cfg->n_vms && strcmp(cfg->vms[i].name, name) == 0)
		return &cfg->vms[i];
	if (i + 1 < cfg->n_vms && strcmp(cfg->vms[i + 1].name, name) == 0)
		return &cfg->vms[i + 1];        /* one deleted before it */
	if (i > 0 && i - 1 < cfg->n_vms && strcmp(cfg->vms[i - 1].name, name) == 0)
		return &cfg->vms[i - 1];
	return config_find_vm(cfg, name);
}

static int diff_vms(const struct xvd_config *old, struct xvd_config *next,
		    bool mac_in_place, struct cfg_diff *d)
{
	struct cfg_change *c;

	for (size_t i = 0; i < old->n_vms; i++) {
		const struct vm_conf *o = &old->vms[i];

		if (vm_at(next, o->name, i))
			continue;
		if (!(c = add(d, reused(next, o) ? CHG_VM_DEL_FIRST : CHG_VM_DEL)))
			return -1;
		c->old_vm = o;
	}
	for (size_t i = 0; i < next->n_vms; i++) {
		struct vm_conf *n = &next->vms[i];
		const struct vm_conf *o = vm_at(old, n->name, i);
		enum cfg_change_kind kind;

		if (!o)
			kind = CHG_VM_ADD;
		else if (!vm_same_port(o, n, mac_in_place))
			kind = CHG_VM_REPLACE;
		else if (!vm_conf_same(o, n))
			kind = CHG_VM_SET;
		else
			continue;
		if (!(c = add(d, kind)))
			return -1;
		c->old_vm = o;
		c->vm = n;
	}
	return 0;
}

/* A VM that diff_vms found replaced under another id, by name: a flow
 * that delivers to it holds the old id in its map entry.  No request makes
 * this today (a reload keeps a running VM's slot: merge.c), but nothing
 * else rewrites configured flows any more. */
static bool renumbered(const struct cfg_diff *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->c[i].kind == CHG_VM_REPLACE && d->c[i].old_vm->id != d->c[i].vm->id &&
		    strcmp(d->c[i].vm->name, name) == 0)
			return true;
	return false;
}

/* Flows matched by key through an index each: linear in the flows, as a
 * commit with 100k configured flows must be.  After diff_vms: a flow whose
 * line stays but whose VM took another id is changed. */
static int diff_flows(const struct xvd_config *old, const struct xvd_config *next,
		      struct cfg_diff *d)
{
	struct flow_idx xo = { 0 }, xn = { 0 };
	bool any_renumbered = false;
	struct cfg_change *c;
	int rc = -1;

	for (size_t i = 0; i < d->n; i++)
		any_renumbered |= d->c[i].kind == CHG_VM_REPLACE &&
				  d->c[i].old_vm->id != d->c[i].vm->id;
	/* the flows of a copy the request did not touch (vm add, vm set...):
	 * one memcmp, where indexing 60,000 flows twice takes ~7 ms */
	if (!any_renumbered && old->n_flows == next->n_flows &&
	    (!old->n_flows ||
	     memcmp(old->flows, next->flows, old->n_flows * sizeof(old->flows[0])) == 0))
		return 0;
	if (flow_idx_build(&xo, old) || flow_idx_build(&xn, next))
		goto out;
	for (size_t i = 0; i < old->n_flows; i++) {
		if (flow_idx_find(&xn, next, &old->flows[i].key))
			continue;
		if (!(c = add(d, CHG_FLOW_DEL)))
			goto out;
		c->old_flow = &old->flows[i];
	}
	for (size_t i = 0; i < next->n_flows; i++) {
		const struct flow_conf *o = flow_idx_find(&xo, old, &next->flows[i].key);

		if (o && flow_conf_same(o, &next->flows[i]) &&
		    !(any_renumbered && o->verdict == XVNET_FLOW_DELIVER &&
		      renumbered(d, o->vm)))
			continue;
		if (!(c = add(d, o ? CHG_FLOW_SET : CHG_FLOW_ADD)))
			goto out;
		c->old_flow = o;
		c->flow = &next->flows[i];
	}
	rc = 0;
out:
	flow_idx_free(&xo);
	flow_idx_free(&xn);
	return rc;
}

/* Every VM of next whose rule list is not the one it had. */
static int diff_rules(const struct xvd_config *old, const struct xvd_config *next,
		      struct cfg_diff *d)
{
	for (size_t i = 0; i < next->n_vms; i++) {
		const char *name = next->vms[i].name;
		char *ro = config_rules_text(old, name), *rn = config_rules_text(next, name);
		bool ok = ro && rn, same = ok && strcmp(ro, rn) == 0;
		struct cfg_change *c = NULL;

		free(ro);
		free(rn);
		if (!ok)
			return -1;
		if (same)
			continue;
		if (!(c = add(d, CHG_RULES)))
			return -1;
		snprintf(c->rules_vm, sizeof(c->rules_vm), "%s", name);
	}
	return 0;
}

static int by_kind(const void *a, const void *b)
{
	const struct cfg_change *x = a, *y = b;

	return (int)x->kind - (int)y->kind;
}

int config_diff(const struct xvd_config *old, struct xvd_config *next,
		bool mac_in_place, struct cfg_diff *out)
{
	memset(out, 0, sizeof(*out));
	if (diff_vms(old, next, mac_in_place, out) || diff_flows(old, next, out) ||
	    diff_rules(old, next, out)) {
		config_diff_free(out);
		return -1;
	}
	/* the order between kinds matters (enum cfg_change_kind); within a
	 * kind none depends on another */
	if (out->n)
		qsort(out->c, out->n, sizeof(out->c[0]), by_kind);
	return 0;
}

void config_diff_free(struct cfg_diff *diff)
{
	free(diff->c);
	memset(diff, 0, sizeof(*diff));
}
