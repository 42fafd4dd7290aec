/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The frame mover of xvnet-vhost: one xsk VM's AF_XDP sockets on one side,
 * the guest's virtqueue pairs (one vhost-user connection) on the other.
 *   wire -> guest: each frame goes to the RX queue of the pair its
 *     metadata names (the VM's virtual RSS), or, when the guest runs fewer
 *     pairs than the VM has queues, to one it does run;
 *   guest -> wire: every TX queue to the side socket (through vm_tx);
 *   guest interrupts for RX follow the VM's coalescing policy (the page of
 *     xsk.get, docs/coalescing.md); TX completions are signalled at once.
 */
#ifndef XVNET_VHOST_BACKEND_H
#define XVNET_VHOST_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/coalesce.h"
#include "vhost/tx_offload.h"
#include "vhost/vu_dev.h"
#include "vhost/xsk_port.h"

struct backend_counters {
	unsigned long long rx, rx_bytes, rx_no_guest, rx_dropped;
	unsigned long long tx, tx_bytes, tx_dropped;
	unsigned long long rxq[VU_MAX_QUEUE_PAIRS];     /* frames per RX queue */
	unsigned long long notifications;
	unsigned long long tx_gso;      /* guest super-frames segmented */
};

struct backend {
	struct vu_dev dev;
	struct xsk_port port;
	struct backend_counters cnt;
	struct xv_coal_policy pol;
	uint32_t pol_gen;
	struct xv_coal coal[VU_MAX_QUEUE_PAIRS];
	uint32_t pushed[VU_MAX_QUEUE_PAIRS];    /* frames this round, per pair */
	bool rx_starved;        /* frames wait for guest RX buffers */
	bool tx_blocked;        /* guest frames wait for TX ring room */
	unsigned gso_warned;    /* malformed super-frames said so (once) */
	unsigned char gso_buf[TXO_MAX_FRAME];   /* a super-frame being cut */
};

void backend_init(struct backend *b, unsigned queue_pairs, uint64_t now);
/* The connection ended: what was pending is forgotten with the guest. */
void backend_guest_gone(struct backend *b, uint64_t now);
/* One round each way; returns the time by which backend_notify must run
 * again (0: no deadline). */
uint64_t backend_round(struct backend *b, uint64_t now);

#endif
