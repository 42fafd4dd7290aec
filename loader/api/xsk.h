/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XVNET_LOADER_API_XSK_H
#define XVNET_LOADER_API_XSK_H

struct json_object;
struct xvd;
struct xvd_fds;

/* vm show / stats: mode, sockets, XDP_STATISTICS and the coalescing page's
 * counters ("notify"); NULL if the VM has no sockets. */
struct json_object *view_xsk(const struct xvd *d, int vm_id);
/* status: live xsk VMs, sockets, UMEM bytes. */
struct json_object *view_xsk_status(const struct xvd *d);
/* The xsk.get request: reply data, and in fds the descriptors it hands
 * over (the JSON names each by its index). */
struct json_object *xsk_get(struct xvd *d, struct json_object *args,
			    struct xvd_fds *fds);

#endif
