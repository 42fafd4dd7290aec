/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interrupt coalescing of a VM, in the manner of ethtool -c/-C: the policy
 * by which the VM's consumer notifies the guest (rx-frames, rx-usecs,
 * adaptive; written into the VM's coalescing page, struct xvnet_coal_page,
 * which the consumer maps), and the NAPI knobs of the NIC queues that serve
 * the VM (loader/kern/napi.c), put back when the VM goes or xvnetd stops.  Only
 * xsk VMs have a consumer xvnet hands a policy to and NIC queues of their
 * own; for tap and veth VMs the guest's kernel or the VMM notifies, and the
 * commands say so.  See docs/coalescing.md.
 */
#ifndef XVNET_LOADER_COALESCE_H
#define XVNET_LOADER_COALESCE_H

#include <stddef.h>
#include <stdint.h>

#include "loader/conf/coalesce.h"

struct xvd;

/* xsk VMs: create the page if needed, write the policy, set the NAPI
 * knobs (restoring earlier values first when they change). */
int coal_vm_ensure(struct xvd *d, const struct vm_conf *vm, char *err,
		   size_t errlen);
/* The VM goes: NAPI knobs back, page unmapped. */
void coal_vm_stop(struct xvd *d, int vm_id);
void coal_stop_all(struct xvd *d);
/* The page's memfd for xsk.get (-1 if none). */
int coal_page_fd(const struct xvd *d, int vm_id);
/* The page the consumer writes its counters to (NULL if none). */
struct xvnet_coal_page;
const struct xvnet_coal_page *coal_page(const struct xvd *d, int vm_id);
/* The NAPI knobs' state: their scope ("unchanged" if none set) and the
 * NIC queues they are set on. */
void coal_napi_state(const struct xvd *d, int vm_id, const char **scope,
		     uint32_t *queue_mask);

#endif
