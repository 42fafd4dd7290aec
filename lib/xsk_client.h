/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The consumer's side of an xsk VM port (docs/xsk.md): ask xvnetd for a
 * VM's AF_XDP sockets and UMEM (`xsk.get`, fds over SCM_RIGHTS) and map a
 * socket's rings.  Shared by xvnet-xskdump and xvnet-vhost.
 */
#ifndef XVNET_LIB_XSK_CLIENT_H
#define XVNET_LIB_XSK_CLIENT_H

#include <stddef.h>
#include <linux/types.h>
#include <json-c/json.h>

/* One mapped AF_XDP ring (RX/TX: struct xdp_desc, FILL/COMPLETION: __u64). */
struct xv_xsk_ring {
	__u32 *prod, *cons, *flags;
	void *desc;
	__u32 mask, size;
	void *map;              /* NULL: the socket has no such ring */
	size_t map_len;
};

struct xv_xsk_rings {
	struct xv_xsk_ring rx, tx, fq, cq;
};

/*
 * Send {"cmd":"xsk.get","args":{"name":VM}} to the control socket at PATH
 * and return the reply's "data" (json_object_put() it), with the fds it
 * carried in fds[0..*nfds) (at most max_fds; more is an error).  NULL on
 * failure, with the reason in err.
 */
struct json_object *xv_xsk_get(const char *path, const char *vm, int *fds,
			       int max_fds, int *nfds, char *err, size_t errlen);

/* An integer member of a reply object, or -1 when it is missing. */
long long xv_xsk_jint(struct json_object *o, const char *key);

/*
 * Map the rings of socket fd with the sizes of its reply object SO
 * (rx_size, tx_size, fill_size, comp_size; tx_size 0: no TX ring).
 * 0, or -1 with the reason in err.
 */
int xv_xsk_map_rings(int fd, struct json_object *so, struct xv_xsk_rings *r,
		     char *err, size_t errlen);
void xv_xsk_unmap_rings(struct xv_xsk_rings *r);

/* Put up to n frame addresses on a fill ring; returns how many fitted. */
__u32 xv_xsk_fill(struct xv_xsk_ring *fq, const __u64 *addrs, __u32 n);

struct xvnet_coal_page;
/*
 * The VM's coalescing page of the reply (docs/coalescing.md), mapped and
 * checked (size, magic).  NULL with err[0] == '\0' when the reply has
 * none; NULL with the reason in err when it is unusable.
 */
struct xvnet_coal_page *xv_xsk_map_coal_page(struct json_object *data, const int *fds,
					     int nfds, char *err, size_t errlen);

/* Where the metadata block sits: "meta_at" of the reply. */
int xv_xsk_meta_inline(struct json_object *data);

#endif
