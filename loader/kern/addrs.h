/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XVNET_LOADER_KERN_ADDRS_H
#define XVNET_LOADER_KERN_ADDRS_H

#include <stddef.h>

#include "loader/kern/xvd.h"

/* A VM's source addresses in xvnet_vm_addrs, its egress counters. */
int addrs_sync(struct xvd *d, const struct vm_conf *vm, char *err,
	       size_t errlen);
void addrs_remove_vm(struct xvd *d, int vm_id);
/* The VM's egress counters (XVNET_VM_TX_COUNTERS), summed over CPUs. */
void addrs_tx_counters(struct xvd *d, int vm_id, __u64 sum[XVNET_VM_CNT_MAX]);

#endif
