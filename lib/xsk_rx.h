/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A bare copy-mode AF_XDP socket bound to one RX queue, with a private
 * UMEM: what the unit tests and xvnet-costbench put into an XSKMAP slot so
 * that nic_rx's redirect to an xsk VM succeeds.  Not the VM ports' sockets
 * (loader/kern/xsk.c, libxdp): nothing is ever read from this one.
 */
#ifndef XVNET_LIB_XSK_RX_H
#define XVNET_LIB_XSK_RX_H

#include <linux/types.h>

#define XV_XSK_RX_UMEM_SIZE (16 * 4096)

/* The socket (fd), or -errno.  *umem_out: XV_XSK_RX_UMEM_SIZE bytes to
 * munmap() after close(). */
int xv_xsk_rx_open(__u32 ifindex, __u32 queue, void **umem_out);

#endif
