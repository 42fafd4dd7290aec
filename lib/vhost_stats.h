/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The counters an xvnet-vhost back-end run by xvnetd shares with it: a
 * page of a memfd xvnetd makes and passes as --stats-fd, mapped by both.
 * The back-end rewrites it every 100 ms (each field a relaxed atomic
 * store: a reader sees each counter whole, not all of them at one
 * instant); xvnetd shows it in `vm show`.  Counts since the back-end
 * process started.
 */
#ifndef XVNET_LIB_VHOST_STATS_H
#define XVNET_LIB_VHOST_STATS_H

#include <stdint.h>

#define XV_VHOST_STATS_MAGIC 0x78766873u    /* "xvhs" */
#define XV_VHOST_STATS_QUEUES 8
#define XV_VHOST_STATS_SIZE 4096
/* a released back-end keeps its VMM's connection this long at most
 * (vhost/main.c linger); xvnetd ends it a little later if it did not */
#define XV_VHOST_LINGER_S 60

/* X(field): the counters, in the order vm show prints them */
#define XV_VHOST_COUNTERS(X)                                                   \
	X(rx) X(rx_bytes) X(rx_no_guest) X(rx_dropped)                         \
	X(tx) X(tx_bytes) X(tx_dropped)                                        \
	X(connections) X(calls) X(notifications) X(connected) X(tx_gso)

struct xv_vhost_stats {
	uint32_t magic;             /* set by the back-end once it runs */
	uint32_t queue_pairs;
	uint64_t pid;
#define XV_X_FIELD(f) uint64_t f;
	XV_VHOST_COUNTERS(XV_X_FIELD)
#undef XV_X_FIELD
	uint64_t rxq[XV_VHOST_STATS_QUEUES];    /* frames per RX queue */
	/* set (release) by a back-end told to hand the VM's sockets back
	 * (SIGUSR1: the VM's port moved away): it no longer touches them and
	 * writes nothing here again */
	uint32_t released;
};

#endif
