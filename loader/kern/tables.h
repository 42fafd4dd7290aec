/* SPDX-License-Identifier: GPL-2.0-only */
/* The BPF maps as user space writes and reads them (loader/kern/tables.c). */
#ifndef XVNET_LOADER_KERN_TABLES_H
#define XVNET_LOADER_KERN_TABLES_H

#include <stdbool.h>
#include <stddef.h>

#include "loader/kern/xvd.h"

/* tables.c: the maps as user space writes them. */
struct xvnet_vm;
void vm_slot_build(const struct vm_conf *vm, int ifindex,
		   const struct xvnet_vm *old, struct xvnet_vm *out);
/*
 * Before new is written over old (NULL: no slot) at id: new's Toeplitz
 * tables in xvnet_rss_tables, and XVNET_VM_F_RSS_TABLE in new.  0 or -1
 * (errno set).
 */
int tbl_rss_tables_ready(struct xvd *d, __u32 id, const struct xvnet_vm *old,
			 struct xvnet_vm *new);
/* Every live slot with XVNET_VM_F_RSS_TABLE: its tables written again from
 * its key.  How many, or -1 (errno set). */
long tbl_rss_tables_rebuild(struct xvd *d);
int tbl_vm_ensure(struct xvd *d, const struct vm_conf *vm, int ifindex,
		  char *err, size_t errlen);
int tbl_vm_remove(struct xvd *d, int vm_id);
/* fc's VM is looked up in cfg (the config being committed). */
int tbl_flow_ensure(struct xvd *d, const struct xvd_config *cfg,
		    const struct flow_conf *fc, char *err, size_t errlen);
/* Set xvnet_config.flows_active (before any flow is written). */
int tbl_flows_activate(struct xvd *d);
int tbl_flow_delete(struct xvd *d, const struct xvnet_flow_key *key);
/* The entry for key: the operator's map first, then the learnt one. */
int tbl_flow_lookup(struct xvd *d, const struct xvnet_flow_key *key,
		    struct xvnet_flow *v);
/* Bring the maps in line with cfg without touching correct entries; a VM
 * whose port cannot be made is left unreachable (and named in err). */
int tbl_reconcile(struct xvd *d, struct xvd_config *cfg, char *err,
		  size_t errlen);

/* Reading the flow tables: one call per entry, the operator's map first
 * (configured true), with the monotonic time the ages are taken from. */
typedef void (*tbl_flow_fn)(void *ctx, const struct xvnet_flow_key *k,
			    const struct xvnet_flow *v, bool configured,
			    __u64 now_ns);
void tbl_flow_each(struct xvd *d, tbl_flow_fn fn, void *ctx);
/* A page: up to limit entries from where cur points (table: a map in
 * flowtab.h's order, FT_MAPS of them, the operator's first; batch a hash bucket, BPF_MAP_LOOKUP_BATCH's
 * position: valid whatever was added or deleted since, unlike a key).
 * cur is moved on; *done at the end of the last.  -errno on failure. */
struct tbl_flow_cursor {
	unsigned table;
	__u32 batch;
	bool started;               /* false: table from its first bucket */
};
int tbl_flow_page(struct xvd *d, struct tbl_flow_cursor *cur, unsigned limit,
		  tbl_flow_fn fn, void *ctx, bool *done);
/* The VM's slot as the data path holds it; false if none or not active
 * (its port missing). */
bool tbl_vm_live(struct xvd *d, int vm_id, struct xvnet_vm *slot);
/* Counter idx of xvnet_stats per CPU (percpu: d->ncpus values). */
int tbl_counter(struct xvd *d, __u32 idx, __u64 *percpu);
/* A VM queue's delivered packets and bytes, summed over CPUs. */
void tbl_queue_counts(struct xvd *d, int vm_id, int q, __u64 *packets,
		      __u64 *bytes);
int tbl_count_active(struct xvd *d, int *vms, int *flows);

#endif
