/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XVNET_LOADER_API_XSK_H
#define XVNET_LOADER_API_XSK_H

struct json_object;
struct xvd;

/* vm show / stats: mode, sockets, XDP_STATISTICS and the coalescing page's
 * counters ("notify"); NULL if the VM has no sockets. */
struct json_object *view_xsk(const struct xvd *d, int vm_id);
/* status: live xsk VMs, sockets, UMEM bytes. */
struct json_object *view_xsk_status(const struct xvd *d);

#endif
