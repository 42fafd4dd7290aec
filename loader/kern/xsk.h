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
#include <net/if.h>
#include <linux/if_xdp.h>

#include "loader/conf/config.h"
#include "loader/conf/xsk.h"

struct xvd;

/* Create (or keep, when already right) the VM's UMEM and sockets and put
 * them in xvnet_xsks.  Idempotent. */
int xskp_ensure(struct xvd *d, const struct vm_conf *vm, char *err,
		size_t errlen);
/* Take the sockets out of xvnet_xsks, close them, free the UMEM. */
void xskp_destroy(struct xvd *d, int vm_id);
void xskp_destroy_all(struct xvd *d);
/* Which making of the VM's sockets is live (0: none): it changes when they
 * are made again, so a consumer holding the old ones knows to ask anew. */
uint64_t xskp_generation(const struct xvd *d, int vm_id);
/* NIC RX queues the VM's sockets are bound to (bit n = queue n); 0 if none. */
uint32_t xskp_queue_mask(const struct xvd *d, int vm_id);
/* A live xsk VM as plain values (vm show, stats, xsk.get): its sockets'
 * fds stay xvnetd's; XDP_STATISTICS read now.  false if it has none. */
struct xskp_sock_info {
	int fd;
	uint32_t rxq;
	struct xdp_statistics st;
};
struct xskp_info {
	char nic[IFNAMSIZ], side_ifname[IFNAMSIZ];
	int ifindex;
	bool zerocopy;
	int memfd;                      /* the UMEM */
	size_t size;                    /* its bytes */
	struct xsk_conf eff;            /* the knobs resolved */
	int n;                          /* NIC queue sockets */
	struct xskp_sock_info s[XVNET_MAX_NIC_QUEUES];
	struct xskp_sock_info side;
};
bool xskp_info(const struct xvd *d, int vm_id, struct xskp_info *out);

/* The frames that wait on VM vm_id's RX rings (its NIC sockets' and side
 * socket's) once their consumer has stopped: each handed to fn, in ring
 * order, its xvnet metadata taken off, then consumed.  Returns how many.
 * The consumer must be gone: the rings have one reader. */
uint64_t xskp_take_rx(struct xvd *d, int vm_id,
		      void (*fn)(void *ctx, const unsigned char *frame, size_t len), void *ctx);
/* status: live xsk VMs, sockets (side ones included), UMEM bytes. */
void xskp_totals(const struct xvd *d, int *vms, int *sockets, uint64_t *bytes);

#endif
