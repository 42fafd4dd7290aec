/* SPDX-License-Identifier: GPL-2.0-only */
/* The slow path's kernel side (loader/kern/slowpath.c); its counters are
 * d->sp, the rule requests are in loader/api/rule.c. */
#ifndef XVNET_LOADER_KERN_SLOWPATH_H
#define XVNET_LOADER_KERN_SLOWPATH_H

#include <stdint.h>

#include "loader/kern/xvd.h"

struct xvnet_slow_rec;

/* Rule evaluation for flow-cache misses, flow flush and aging. */
int sp_start(struct xvd *d, char *err, size_t errlen);
void sp_stop(struct xvd *d);
int sp_fd(struct xvd *d);                       /* -1: none */
int sp_poll(struct xvd *d);                     /* consume what is there */
/* One record: evaluate the VM's rules, install the flow(s). */
int sp_handle(struct xvd *d, const struct xvnet_slow_rec *r);
/* Delete every rule-installed flow of vm_id; returns how many. */
unsigned long sp_flush_vm(struct xvd *d, __u32 vm_id);
/* Delete rule-installed flows idle longer than the timeout (now: mono ns). */
unsigned long sp_age(struct xvd *d, uint64_t now_ns);
void sp_tick(struct xvd *d);                    /* aging when it is due */
/* Set or clear XVNET_VM_F_HAS_RULES in a live slot. */
int sp_vm_flag(struct xvd *d, const struct vm_conf *vm);

#endif
