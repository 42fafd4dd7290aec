/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AF_XDP VM ports (port kind xsk).  For each xsk VM xvnetd owns one UMEM,
 * backed by a sealed memfd so that another process can map it, and one
 * AF_XDP socket per NIC RX queue (libxdp xsk.h, shared UMEM), registered in
 * xvnet_xsks at XVNET_XSK_SLOT(vm_id, rxq).  `xsk.get` hands the sockets
 * and the memfd to a consumer (the VMM) with SCM_RIGHTS; see docs/xsk.md.
 */
#ifndef XVNET_LOADER_XSK_H
#define XVNET_LOADER_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "loader/conf/config.h"
#include "loader/conf/xsk.h"

struct xvd;
struct json_object;

/* Create (or keep, when already right) the VM's UMEM and sockets and put
 * them in xvnet_xsks.  Idempotent. */
int xskp_ensure(struct xvd *d, const struct vm_conf *vm, char *err,
		size_t errlen);
/* Take the sockets out of xvnet_xsks, close them, free the UMEM. */
void xskp_destroy(struct xvd *d, int vm_id);
void xskp_destroy_all(struct xvd *d);
/* NIC RX queues the VM's sockets are bound to (bit n = queue n); 0 if none. */
uint32_t xskp_queue_mask(const struct xvd *d, int vm_id);
/* vm show / stats: mode, sockets, XDP_STATISTICS (the coalescing counters
 * are added by loader/api/views.c view_xsk). NULL if none. */
struct json_object *xskp_json(const struct xvd *d, int vm_id);
/* status: live xsk VMs, sockets, UMEM bytes. */
struct json_object *xskp_status(const struct xvd *d);
/* The xsk.get request: reply data, and in fds the descriptors it hands
 * over (the JSON names each by its index). */
struct xvd_fds;
struct json_object *xskp_get(struct xvd *d, struct json_object *args,
			     struct xvd_fds *fds);

#endif
