/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The difference between two configurations (the running one and the one a
 * request, a reload or the start wants), as the list of changes the commit
 * (loader/kern/commit.h) applies.  Pure: no kernel, no files.
 *
 * VMs are matched by name, flows by key.  A VM whose id or port differs is
 * replaced (removed, then added: its slot or device must be made anew); one
 * that differs otherwise is changed in place.  A VM that goes away is
 * removed after the save, unless a VM of next reuses its device, slot or
 * (MAC, VLAN): then its maps and programs go first (CHG_VM_DEL_FIRST), its
 * device (if xvnetd made it and no VM of next uses it) after the save.
 */
#ifndef XVNET_LOADER_CONF_DIFF_H
#define XVNET_LOADER_CONF_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "loader/conf/config.h"

enum cfg_change_kind {
	/* applied before the save, undone on failure, in this order */
	CHG_VM_DEL_FIRST,       /* old only, but next reuses its device/slot/MAC */
	CHG_VM_REPLACE,         /* same name, other id or port */
	CHG_VM_ADD,             /* next only */
	CHG_VM_SET,             /* same name, id and port; other settings */
	CHG_FLOW_ADD,
	CHG_FLOW_SET,           /* same key, other action */
	/* after the save (nothing to undo: the state no longer has them);
	 * CHG_VM_DEL_FIRST's device too */
	CHG_FLOW_DEL,
	CHG_VM_DEL,
	CHG_RULES,              /* a VM's rule list changed */
};

struct cfg_change {
	enum cfg_change_kind kind;
	const struct vm_conf *old_vm;   /* in old; NULL for CHG_VM_ADD */
	struct vm_conf *vm;             /* in next (the commit records owned) */
	const struct flow_conf *old_flow, *flow;
	char rules_vm[XV_NAME_MAX + 1]; /* CHG_RULES */
};

struct cfg_diff {
	struct cfg_change *c;           /* sorted by kind */
	size_t n, cap;
};

/* Pointers into old and next stay valid while neither is changed.
 * mac_in_place: a new MAC is a change in place (vm set), not a new port
 * (a reload makes a veth anew: its VM end carries the MAC). */
int config_diff(const struct xvd_config *old, struct xvd_config *next,
		bool mac_in_place, struct cfg_diff *out);
void config_diff_free(struct cfg_diff *diff);
/* A slot and a device that stay: same id, port kind, device, namespace,
 * peer, queues, AF_XDP knobs and (unless mac_in_place) MAC. */
bool vm_same_port(const struct vm_conf *a, const struct vm_conf *b,
		  bool mac_in_place);
/* Differ only in the rss keys (rss set): the slot is rewritten, nothing else. */
bool vm_differs_in_rss_only(const struct vm_conf *a, const struct vm_conf *b);
/* Differ only in the coalescing keys (coalesce set). */
bool vm_differs_in_coal_only(const struct vm_conf *a, const struct vm_conf *b);

#endif
