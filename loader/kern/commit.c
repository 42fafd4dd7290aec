// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one commit path (loader/kern/commit.h): diff, apply with undo, save, swap,
 * removals.  Removals wait for the save because a removed flow or VM cannot
 * be put back as it was (its counters, its learnt flows, a device a VMM
 * held); what is added or changed can be taken back.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "loader/kern/coalesce.h"
#include "loader/kern/commit.h"
#include "loader/conf/diff.h"
#include "loader/kern/log.h"
#include "loader/kern/netdev.h"
#include "loader/kern/xsk.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/tables.h"
#include "loader/kern/flowtab.h"
#include "loader/kern/vhostsup.h"

/* The state file written (d->save, set with the state directory by the
 * request side: loader/api/service.c); only a commit calls it.
 * flows_unchanged: cfg's flows are d->cfg's (their file is not rewritten). */
static int save(struct xvd *d, const struct xvd_config *cfg, bool flows_unchanged,
		char *err, size_t errlen)
{
	if (!d->save) {
		snprintf(err, errlen, "no state directory: nothing saved");
		return -1;
	}
	return d->save(d, cfg, flows_unchanged, err, errlen);
}

/* The diff changes no configured flow. */
static bool flows_untouched(const struct cfg_diff *diff)
{
	for (size_t i = 0; i < diff->n; i++)
		if (diff->c[i].kind == CHG_FLOW_ADD || diff->c[i].kind == CHG_FLOW_SET ||
		    diff->c[i].kind == CHG_FLOW_DEL)
			return false;
	return true;
}

/* ---- one VM in the kernel ------------------------------------------------- */

/* Its port (made if missing), then its maps and programs; on failure what
 * was done for it is taken back.  *created: the device was made here. */
static int vm_install(struct xvd *d, struct vm_conf *vm, bool *created,
		      char *err, size_t errlen)
{
	bool existed = if_nametoindex(vm->ifname) != 0;
	char why[XV_ERR_LEN];
	int ifindex;

	*created = false;
	if (netdev_ensure_port(vm, &ifindex, err, errlen))
		return -1;
	*created = !existed && !vm->fallback;
	if (!tbl_vm_ensure(d, vm, ifindex, err, errlen))
		return 0;
	tbl_vm_remove(d, vm->id);
	if (*created && netdev_delete(vm->ifname, why, sizeof(why)))
		log_warn("vm %s: %s", vm->name, why);
	*created = false;
	return -1;
}

static void vm_uninstall(struct xvd *d, const struct vm_conf *vm,
			 bool delete_device)
{
	char why[XV_ERR_LEN];

	tbl_vm_remove(d, vm->id);
	if (delete_device && netdev_delete(vm->ifname, why, sizeof(why)))
		log_warn("vm %s: %s", vm->name, why);
}

/* A VM taken out before the save, back as it was. */
static int vm_reinstall(struct xvd *d, const struct vm_conf *old)
{
	struct vm_conf vm = *old;
	char why[XV_ERR_LEN];
	bool created;

	if (!vm_install(d, &vm, &created, why, sizeof(why)))
		return 0;
	log_err("undo: vm %s could not be set up again: %s", old->name, why);
	return -1;
}

/* The live slot with to's rss key, table and fields (one map update: the
 * table changes atomically); nothing when the VM is not live. */
static int slot_rewrite(struct xvd *d, const struct vm_conf *to, char *err,
			size_t errlen)
{
	__u32 id = (__u32)to->id;
	struct xvnet_vm old, new;

	if (bpf_map_lookup_elem(d->m.vms, &id, &old) ||
	    !(old.flags & XVNET_VM_F_ACTIVE))
		return 0;
	vm_slot_build(to, (int)old.ifindex, &old, &new);
	if (tbl_rss_tables_ready(d, id, &old, &new)) {
		snprintf(err, errlen, "%s[%u]: %s", XVNET_MAP_RSS_TABLES, id, strerror(errno));
		return -1;
	}
	if (memcmp(&old, &new, sizeof(new)) &&
	    bpf_map_update_elem(d->m.vms, &id, &new, BPF_ANY)) {
		snprintf(err, errlen, "%s[%u]: %s", XVNET_MAP_VMS, id, strerror(errno));
		return -1;
	}
	return 0;
}

/* A VM changed in place, from -> to: only what changed is touched. */
static int vm_change(struct xvd *d, const struct vm_conf *from,
		     const struct vm_conf *to, char *err, size_t errlen)
{
	int ifindex;

	if (vm_differs_in_rss_only(from, to))
		return slot_rewrite(d, to, err, errlen);
	if (vm_differs_in_coal_only(from, to))
		return xskp_queue_mask(d, to->id) ? coal_vm_ensure(d, to, err, errlen) : 0;
	ifindex = (int)if_nametoindex(to->ifname);
	if (!ifindex && !to->fallback)  /* no port now: the link watcher sets it up when it comes */
		return 0;
	return tbl_vm_ensure(d, to, ifindex, err, errlen);
}

/* ft_each: an entry that delivers to the VM (*arg) */
static bool delivers_to(void *arg, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	(void)k;
	return v->verdict == XVNET_FLOW_DELIVER && v->vm_id == *(const __u32 *)arg;
}

/* Every flow entry (configured or learnt) that delivers to vm_id. */
static void flows_of_vm_remove(struct xvd *d, int vm_id)
{
	__u32 id = (__u32)vm_id;

	ft_each(d, FT_CFG, delivers_to, &id);
	ft_each(d, FT_LEARNT, delivers_to, &id);
}

/* A device a VM of cfg uses under that name. */
static bool device_used(const struct xvd_config *cfg, const char *ifname)
{
	for (size_t i = 0; i < cfg->n_vms; i++)
		if (strcmp(cfg->vms[i].ifname, ifname) == 0)
			return true;
	return false;
}

/* ---- apply and undo --------------------------------------------------------- */

struct applied {
	const struct cfg_change *c;
	bool created;                   /* the new VM's device was made */
};

static int apply_one(struct xvd *d, const struct xvd_config *next,
		     const struct cfg_change *c, struct applied *a, char *err,
		     size_t errlen)
{
	const struct vm_conf *o = c->old_vm;

	a->c = c;
	a->created = false;
	switch (c->kind) {
	case CHG_VM_DEL_FIRST:
		/* its slot and (MAC, VLAN) are free for the VM that takes
		 * them; its device, if it goes, goes after the save */
		vm_uninstall(d, o, false);
		return 0;
	case CHG_VM_REPLACE:
		/* a device the new definition keeps (reload: same name and
		 * kind, owned carried over) stays */
		vm_uninstall(d, o, o->owned && !(c->vm->owned &&
						 strcmp(o->ifname, c->vm->ifname) == 0));
		if (!vm_install(d, c->vm, &a->created, err, errlen))
			return 0;
		return vm_reinstall(d, o) ? XV_COMMIT_PARTIAL : -1;
	case CHG_VM_ADD:
		return vm_install(d, c->vm, &a->created, err, errlen);
	case CHG_VM_SET:
		return vm_change(d, o, c->vm, err, errlen);
	case CHG_FLOW_ADD:
	case CHG_FLOW_SET:
		return tbl_flow_ensure(d, next, c->flow, err, errlen);
	default:
		return 0;
	}
}

/* Undo one applied change (d->cfg is the configuration to go back to). */
static int undo_one(struct xvd *d, const struct applied *a)
{
	const struct cfg_change *c = a->c;
	char why[XV_ERR_LEN];

	switch (c->kind) {
	case CHG_VM_DEL_FIRST:
		return vm_reinstall(d, c->old_vm);
	case CHG_VM_REPLACE:
		vm_uninstall(d, c->vm, a->created);
		return vm_reinstall(d, c->old_vm);
	case CHG_VM_ADD:
		vm_uninstall(d, c->vm, a->created);
		return 0;
	case CHG_VM_SET:
		if (!vm_change(d, c->vm, c->old_vm, why, sizeof(why)))
			return 0;
		log_err("undo: vm %s: the old settings could not be written back: %s",
			c->old_vm->name, why);
		return -1;
	case CHG_FLOW_ADD:
		tbl_flow_delete(d, &c->flow->key);
		return 0;
	case CHG_FLOW_SET:
		if (!tbl_flow_ensure(d, &d->cfg, c->old_flow, why, sizeof(why)))
			return 0;
		log_err("undo: flow (line %d): %s", c->old_flow->line, why);
		return -1;
	default:
		return 0;
	}
}

static int undo_all(struct xvd *d, const struct applied *done, size_t n)
{
	int rc = 0;

	while (n-- > 0)
		rc |= undo_one(d, &done[n]);
	return rc;
}

/* ---- after the save ----------------------------------------------------------- */

static void remove_one(struct xvd *d, const struct cfg_change *c,
		       const struct commit_opts *opts)
{
	char why[XV_ERR_LEN];
	const struct vm_conf *vm;

	switch (c->kind) {
	case CHG_FLOW_DEL:
		tbl_flow_delete(d, &c->old_flow->key);
		break;
	case CHG_VM_DEL:
		vm = c->old_vm;
		flows_of_vm_remove(d, vm->id);
		sp_flush_vm(d, (__u32)vm->id);
		vm_uninstall(d, vm, vm->owned && !opts->keep_ports);
		break;
	case CHG_VM_DEL_FIRST:
		/* out of the maps before the save; its device unless a VM of
		 * the new state uses that name */
		vm = c->old_vm;
		if (vm->owned && !opts->keep_ports && !device_used(&d->cfg, vm->ifname) &&
		    netdev_delete(vm->ifname, why, sizeof(why)))
			log_warn("vm %s: %s", vm->name, why);
		break;
	case CHG_VM_REPLACE:
		sp_flush_vm(d, (__u32)c->vm->id);
		break;
	case CHG_VM_SET:
		/* flows the slow path installed were judged with the old
		 * addresses and allowances */
		if (!vm_differs_in_rss_only(c->old_vm, c->vm) &&
		    !vm_differs_in_coal_only(c->old_vm, c->vm))
			sp_flush_vm(d, (__u32)c->vm->id);
		break;
	case CHG_RULES:
		/* flag first: from here misses take the slow path, then no
		 * flow the old rules installed is left */
		vm = config_find_vm(&d->cfg, c->rules_vm);
		if (!vm)
			break;
		if (sp_vm_flag(d, vm))
			log_warn("vm %s: slot flag: %s", vm->name, strerror(errno));
		sp_flush_vm(d, (__u32)vm->id);
		break;
	default:
		break;
	}
}

/* ---- the commit ------------------------------------------------------------- */

int xvd_commit_vm(struct xvd *d, const struct vm_conf *nv, char *err,
		  size_t errlen)
{
	struct xvd_config next;
	struct vm_conf *slot;

	if (config_copy(&next, &d->cfg)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	slot = config_find_vm(&next, nv->name);
	if (!slot) {
		config_free(&next);
		snprintf(err, errlen, "name: no vm '%s'", nv->name);
		return -1;
	}
	*slot = *nv;
	return xvd_commit(d, &next, NULL, err, errlen);
}

int xvd_commit(struct xvd *d, struct xvd_config *next,
	       const struct commit_opts *opts, char *err, size_t errlen)
{
	static const struct commit_opts none;
	struct applied *done = NULL;
	struct xvd_config old;
	struct cfg_diff diff;
	size_t n = 0;
	int rc = 0;

	if (!opts)
		opts = &none;
	if (config_diff(&d->cfg, next, opts->mac_in_place, &diff) ||
	    !(done = calloc(diff.n + 1, sizeof(*done)))) {
		config_diff_free(&diff);
		config_free(next);
		snprintf(err, errlen, "out of memory");
		return XV_COMMIT_UNDONE;
	}
	d->applying = next;
	d->commit_flows.known = false;
	for (size_t i = 0; i < diff.n && diff.c[i].kind < CHG_FLOW_DEL; i++) {
		if ((rc = apply_one(d, next, &diff.c[i], &done[n], err, errlen)))
			break;
		n++;
	}
	d->applying = NULL;
	if (!rc && save(d, next, flows_untouched(&diff), err, errlen)) {
		log_err("state not saved: %s", err);
		rc = -1;
	}
	if (rc) {
		size_t len = strlen(err);

		rc = rc == XV_COMMIT_PARTIAL ? rc : XV_COMMIT_UNDONE;
		if (undo_all(d, done, n) || rc == XV_COMMIT_PARTIAL) {
			snprintf(err + len, errlen - len, " (and not all of the change"
				 " could be undone: the log names what)");
			rc = XV_COMMIT_PARTIAL;
		}
		config_diff_free(&diff);
		free(done);
		config_free(next);
		return rc;
	}
	old = d->cfg;
	d->cfg = *next;
	d->cfg_gen++;
	config_init(next);
	for (size_t i = 0; i < diff.n; i++)
		remove_one(d, &diff.c[i], opts);
	config_diff_free(&diff);       /* its pointers into old end here */
	config_free(&old);
	free(done);
	vhost_sync(d);                  /* back-ends follow the VMs at once */
	return 0;
}

int xvd_commit_reconcile(struct xvd *d, char *err, size_t errlen)
{
	struct xvd_config next;
	char why[XV_ERR_LEN];

	if (config_copy(&next, &d->cfg)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->applying = &next;
	d->commit_flows.known = false;
	if (tbl_reconcile(d, &next, why, sizeof(why)))
		log_warn("not every VM could be set up: %s", why);
	d->applying = NULL;
	/* the kernel now runs next (the owned flags of ports made here
	 * included), whether or not it can be saved */
	config_free(&d->cfg);
	d->cfg = next;
	d->cfg_gen++;
	vhost_sync(d);
	/* at start and after a reload: d->cfg came from elsewhere */
	if (save(d, &d->cfg, false, err, errlen)) {
		log_err("state not saved: %s", err);
		return -1;
	}
	return 0;
}

int xvd_commit_record_vm(struct xvd *d, const struct vm_conf *nv, char *err,
			 size_t errlen)
{
	struct vm_conf *vm = config_find_vm(&d->cfg, nv->name);

	if (!vm) {
		snprintf(err, errlen, "name: no vm '%s'", nv->name);
		return -1;
	}
	if (vm != nv)
		*vm = *nv;
	d->cfg_gen++;
	return save(d, &d->cfg, true, err, errlen);
}
