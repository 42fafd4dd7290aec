// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reload as a three-way merge (config.h: config_merge).  The admin's file is
 * never written by xvnetd, and the running state holds more than the file
 * (VMs added with xvnetctl, ids, owned ports, rss/coalesce settings): so a
 * reload applies what the admin changed in the file since it was last
 * applied, not the whole file, and nothing made at run time is lost because
 * the admin edited an unrelated line.
 *
 * Objects are compared by their formatted line (the file syntax), so that
 * "changed" means what an admin would call changed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "loader/conf/config.h"
#include "loader/conf/flowidx.h"
#include "loader/conf/rules.h"

/*
 * Whether flow_conf_format writes the same line for both, field by field:
 * the diff asks this of every flow at every commit, and two formatted
 * lines per flow made a `vm add` with 60,000 configured flows take ~100 ms
 * more.  The fields are the ones the line holds (test_flow_same_is_line
 * holds this to the formatted lines).
 */
bool flow_conf_same(const struct flow_conf *a, const struct flow_conf *b)
{
	const struct xvnet_flow_key *x = &a->key, *y = &b->key;

	if (memcmp(x->src, y->src, sizeof(x->src)) || memcmp(x->dst, y->dst, sizeof(x->dst)) ||
	    x->vlan != y->vlan || x->proto != y->proto ||
	    a->has_sport != b->has_sport || a->has_dport != b->has_dport ||
	    (a->has_sport && x->sport != y->sport) ||
	    (a->has_dport && x->dport != y->dport) || a->verdict != b->verdict)
		return false;
	return a->verdict != XVNET_FLOW_DELIVER ||
	       (a->queue == b->queue && strcmp(a->vm, b->vm) == 0);
}

/* A VM's rules in order, as one text (empty: none). */
char *config_rules_text(const struct xvd_config *cfg, const char *vm)
{
	char *buf = NULL, line[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		if (strcmp(cfg->rules[i].vm, vm))
			continue;
		rule_format(&cfg->rules[i], line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	return buf;
}

static bool same_device(const struct vm_conf *a, const struct vm_conf *b)
{
	return a->port_kind == b->port_kind && strcmp(a->ifname, b->ifname) == 0;
}

/* new_admin's definition of VM name replaces (or adds) out's. */
static int put_vm(struct xvd_config *out, const struct vm_conf *def,
		  char *err, size_t errlen)
{
	struct vm_conf v = *def, *cur = config_find_vm(out, def->name);

	v.line = 0;
	v.owned = false;
	if (cur) {
		v.id = cur->id;                 /* the slot stays the VM's */
		if (same_device(cur, &v))
			v.owned = cur->owned;
		config_del_vm(out, cur->name);  /* its rules too: re-added below */
	} else if (config_find_vm_id(out, v.id)) {
		v.id = -1;      /* the file's slot is taken at run time */
	}
	if (config_check_vm(out, &v, -1, err, errlen))
		return -1;
	if (v.id < 0 && (v.id = config_alloc_vm_id(out)) < 0)
		return ERR("vm %s: no free VM slot (max %d)", v.name, XVNET_MAX_VMS);
	return config_add_vm(out, &v) ? ERR("out of memory") : 0;
}

/* out's rules of vm := src's rules of vm. */
static int put_rules(struct xvd_config *out, const struct xvd_config *src,
		     const char *vm, char *err, size_t errlen)
{
	config_del_vm_rules(out, vm);
	for (size_t i = 0; i < src->n_rules; i++) {
		struct rule_conf rc = src->rules[i];

		if (strcmp(rc.vm, vm))
			continue;
		rc.line = 0;
		if (config_insert_rule(out, &rc, 0, err, errlen))
			return -1;
	}
	return 0;
}

/* Flows that deliver to a VM out no longer has go with it (as vm del). */
static void drop_orphan_flows(struct xvd_config *out)
{
	for (size_t i = out->n_flows; i-- > 0;) {
		struct flow_conf *fc = &out->flows[i];

		if (fc->verdict == XVNET_FLOW_DELIVER && !config_find_vm(out, fc->vm)) {
			struct xvnet_flow_key k = fc->key;

			config_del_flow(out, &k);
		}
	}
}

static int merge_vms(struct xvd_config *out, const struct xvd_config *old_admin,
		     const struct xvd_config *new_admin, char *err, size_t errlen)
{
	/* removed from the file: removed */
	for (size_t i = 0; i < old_admin->n_vms; i++) {
		const char *name = old_admin->vms[i].name;

		if (!config_find_vm(new_admin, name))
			config_del_vm(out, name);
	}
	/* added or changed in the file: the file's definition */
	for (size_t i = 0; i < new_admin->n_vms; i++) {
		const struct vm_conf *nv = &new_admin->vms[i];
		const struct vm_conf *ov = config_find_vm(old_admin, nv->name);
		const struct vm_conf *cur = config_find_vm(out, nv->name);
		char *ro, *rn;
		bool rules_changed;

		if (ov && vm_conf_same(ov, nv))
			goto rules;             /* untouched: as it runs */
		if (put_vm(out, nv, err, errlen))
			return -1;
		/* a VM the file (re)defines takes the file's rules with it */
		if (put_rules(out, new_admin, nv->name, err, errlen))
			return -1;
		continue;
rules:
		ro = config_rules_text(old_admin, nv->name);
		rn = config_rules_text(new_admin, nv->name);
		rules_changed = !ro || !rn || strcmp(ro, rn) != 0;
		free(ro);
		free(rn);
		/* (a VM deleted at run time stays deleted until its line changes) */
		if (rules_changed && cur &&
		    put_rules(out, new_admin, nv->name, err, errlen))
			return -1;
	}
	/* rules of VMs the file does not define (VMs added at run time) */
	for (size_t i = 0; i < new_admin->n_rules; i++) {
		const char *vm = new_admin->rules[i].vm;
		char *ro, *rn;
		bool changed;

		if (config_find_vm(new_admin, vm))
			continue;
		ro = config_rules_text(old_admin, vm);
		rn = config_rules_text(new_admin, vm);
		changed = !ro || !rn || strcmp(ro, rn) != 0;
		free(ro);
		free(rn);
		if (changed && put_rules(out, new_admin, vm, err, errlen))
			return -1;
	}
	for (size_t i = 0; i < old_admin->n_rules; i++) {
		const char *vm = old_admin->rules[i].vm;

		if (!config_find_vm(new_admin, vm) && !config_count_rules(new_admin, vm))
			config_del_vm_rules(out, vm);   /* the file dropped them */
	}
	return 0;
}

/* By index (loader/conf/flowidx.h): linear in the flows, for 100k. */
static int merge_flows(struct xvd_config *out, const struct xvd_config *old_admin,
		       const struct xvd_config *new_admin, char *err, size_t errlen)
{
	struct flow_idx xold = { 0 }, xnew = { 0 }, xout = { 0 };
	int rc = -1;

	if (flow_idx_build(&xold, old_admin) || flow_idx_build(&xnew, new_admin))
		goto out;
	for (size_t i = 0; i < old_admin->n_flows; i++)
		if (!flow_idx_find(&xnew, new_admin, &old_admin->flows[i].key))
			config_del_flow(out, &old_admin->flows[i].key);
	if (flow_idx_build(&xout, out))
		goto out;
	for (size_t i = 0; i < new_admin->n_flows; i++) {
		const struct flow_conf *nf = &new_admin->flows[i];
		const struct flow_conf *of = flow_idx_find(&xold, old_admin, &nf->key);
		struct flow_conf f = *nf;

		if (of && flow_conf_same(of, nf))
			continue;
		if (flow_idx_find(&xout, out, &nf->key)) {
			/* changed in the file: the old line goes (rare: rebuilt) */
			config_del_flow(out, &nf->key);
			if (flow_idx_build(&xout, out))
				goto out;
		}
		f.line = 0;
		if (config_add_flow(out, &f) || flow_idx_add(&xout, out, out->n_flows - 1))
			goto out;
	}
	rc = 0;
out:
	flow_idx_free(&xold);
	flow_idx_free(&xnew);
	flow_idx_free(&xout);
	return rc ? ERR("out of memory") : 0;
}

void config_take_globals(struct xvd_config *out, const struct xvd_config *admin)
{
	/* no request changes these: the admin's file is their one source */
	snprintf(out->nic, sizeof(out->nic), "%s", admin->nic);
	snprintf(out->socket_group, sizeof(out->socket_group), "%s",
		 admin->socket_group);
	out->flow_max = admin->flow_max;
	out->malformed_pass = admin->malformed_pass;
	out->rx_hash_hw = admin->rx_hash_hw;
	out->flow_idle_timeout = admin->flow_idle_timeout;
	out->sp_rate = admin->sp_rate;
}

int config_merge(const struct xvd_config *running,
		 const struct xvd_config *old_admin,
		 const struct xvd_config *new_admin, struct xvd_config *out,
		 char *err, size_t errlen)
{
	char why[XV_ERR_LEN];

	if (config_copy(out, running))
		return ERR("out of memory");
	config_take_globals(out, new_admin);
	if (merge_vms(out, old_admin, new_admin, why, sizeof(why)) ||
	    merge_flows(out, old_admin, new_admin, why, sizeof(why)))
		goto fail;
	drop_orphan_flows(out);
	for (size_t i = 0; i < out->n_flows; i++)
		if (config_check_flow(out, &out->flows[i], why, sizeof(why)))
			goto fail;
	for (size_t i = 0; i < out->n_rules; i++)
		if (config_check_rule(out, &out->rules[i], why, sizeof(why)))
			goto fail;
	config_rules_sync(out);
	return 0;
fail:
	config_free(out);
	return ERR("%s", why);
}
