/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Frames in and out of a virtio-net device's virtqueues: one copy each way.
 *   wire -> guest: a frame into the RX queue's buffers, behind a
 *     virtio_net_hdr that says "no offload" (and, with MRG_RXBUF, over as
 *     many buffers as it needs: num_buffers);
 *   guest -> wire: the TX queue's next frame, its virtio-net header
 *     skipped, into a buffer of the caller's.
 */
#ifndef XVNET_VHOST_NET_COPY_H
#define XVNET_VHOST_NET_COPY_H

#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include "vhost/vu_dev.h"

enum net_rx_result {
	NET_RX_DONE,            /* in the guest's buffers (pushed, not flushed) */
	NET_RX_NO_BUFFERS,      /* the guest has too few buffers now: retry later */
	NET_RX_DROPPED,         /* cannot ever fit or the ring is broken */
};

enum net_rx_result net_rx_put(struct vu_dev *d, struct virtq *q, const void *frame,
			      size_t len);

/*
 * The next frame of TX queue q into buf (cap bytes): its length (> 0), 0
 * when the guest has none, -1 when it was dropped (too long, shorter than
 * an Ethernet header, a GSO super-frame, a partial checksum outside it,
 * or a broken ring; the chain is given back either way).  A partial
 * checksum (VIRTIO_NET_F_CSUM) is completed.  The chain is pushed as used;
 * the caller flushes.
 */
long net_tx_take(struct vu_dev *d, struct virtq *q, void *buf, size_t cap);

/*
 * The same in steps, for a caller that must see the virtio header before
 * it has room for what the frame becomes (a super-frame makes many):
 * net_tx_pop takes the next chain and reads its header into *h; it returns
 * the frame's length (> 0), 0 when there is none, -1 when the chain was
 * dropped (shorter than an Ethernet header, longer than max; given back
 * as used).  Then either net_tx_copy (the frame into buf) and
 * net_tx_done, or net_tx_unpop (the chain stays for later).
 */
long net_tx_pop(struct vu_dev *d, struct virtq *q, struct vq_chain *c,
		struct virtio_net_hdr *h, size_t max);
void net_tx_copy(const struct vu_dev *d, const struct vq_chain *c, void *buf,
		 size_t len);
void net_tx_done(struct virtq *q, const struct vq_chain *c);
void net_tx_unpop(struct virtq *q);

#endif
