// SPDX-License-Identifier: GPL-2.0-only
/* Frames in and out of a virtio-net device's queues: vhost/net_copy.h. */
#include <string.h>
#include <linux/virtio_net.h>

#include "vhost/net_copy.h"
#include "vhost/tx_offload.h"

#define ETH_HLEN_MIN 14
/* with MRG_RXBUF a frame may take several chains: the guest's buffers are
 * at least 1 page for big frames in practice; this bounds the rollback */
#define MAX_MERGE 64

static int mrg_rxbuf(const struct vu_dev *d)
{
	return !!(d->features & 1ull << VIRTIO_NET_F_MRG_RXBUF);
}

enum net_rx_result net_rx_put(struct vu_dev *d, struct virtq *q, const void *frame,
			      size_t len)
{
	struct virtio_net_hdr_mrg_rxbuf h = { .hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE };
	size_t total = d->hdr_len + len, done = 0;
	/* a chain is VQ_MAX_SEGS segments (1.5 KiB): the first is popped in
	 * place, neither zeroed nor copied, which per 64-byte frame had cost
	 * more than the frame's own copy (perf: rep stos/movsq, 12% of the
	 * back-end's samples in the vhost bench) */
	struct vq_chain first, more, *c;
	uint16_t heads[MAX_MERGE];
	uint32_t lens[MAX_MERGE];
	unsigned n = 0;
	size_t first_len = 0;
	int r;

	first.n = 0;            /* a frame that took no chain writes nothing */
	while (done < total) {
		size_t k;

		if (n == MAX_MERGE || (n == 1 && !mrg_rxbuf(d))) {
			/* one chain without MRG_RXBUF: the guest posted too small
			 * a buffer for this frame; it stays for the next */
			vq_unpop(q, n);
			return NET_RX_DROPPED;
		}
		c = n == 0 ? &first : &more;
		r = vq_pop(q, &d->mem, c, true);
		if (r <= 0) {
			vq_unpop(q, n);
			return r < 0 ? NET_RX_DROPPED : NET_RX_NO_BUFFERS;
		}
		if (n == 0) {
			if (c->bytes < d->hdr_len) {
				vq_unpop(q, 1);
				__atomic_store_n(&q->broken, true, __ATOMIC_RELAXED);
				return NET_RX_DROPPED;
			}
			/* header written below, once num_buffers is known */
			k = c->bytes > total ? total : (size_t)c->bytes;
			first_len = k;
			vq_copy_to(c, d->hdr_len, frame, k - d->hdr_len);
		} else {
			k = c->bytes > total - done ? total - done : (size_t)c->bytes;
			vq_copy_to(c, 0, (const unsigned char *)frame + done - d->hdr_len, k);
			vq_log_chain(q, c, k);
		}
		heads[n] = c->head;
		lens[n] = (uint32_t)k;
		n++;
		done += k;
	}
	h.num_buffers = (uint16_t)n;      /* little endian: VERSION_1 or x86 */
	vq_copy_to(&first, 0, &h, d->hdr_len);
	/* a page is logged after it is written: the front-end may send it
	 * and clear its bit at any time */
	vq_log_chain(q, &first, first_len);
	for (unsigned i = 0; i < n; i++)
		vq_push(q, heads[i], lens[i]);
	return NET_RX_DONE;
}

long net_tx_pop(struct vu_dev *d, struct virtq *q, struct vq_chain *c,
		struct virtio_net_hdr *h, size_t max)
{
	size_t len;
	int r = vq_pop(q, &d->mem, c, false);

	if (r <= 0)
		return r;
	memset(h, 0, sizeof(*h));
	len = c->bytes > d->hdr_len ? (size_t)(c->bytes - d->hdr_len) : 0;
	if (len < ETH_HLEN_MIN || len > max) {
		vq_push(q, c->head, 0);
		return -1;
	}
	/* the first 10 bytes are the same with or without num_buffers */
	vq_copy_from(c, 0, h, sizeof(*h));
	return (long)len;
}

void net_tx_copy(const struct vu_dev *d, const struct vq_chain *c, void *buf,
		 size_t len)
{
	vq_copy_from(c, d->hdr_len, buf, len);
}

void net_tx_done(struct virtq *q, const struct vq_chain *c)
{
	vq_push(q, c->head, 0);
}

void net_tx_unpop(struct virtq *q)
{
	vq_unpop(q, 1);
}

long net_tx_take(struct vu_dev *d, struct virtq *q, void *buf, size_t cap)
{
	struct virtio_net_hdr h;
	struct vq_chain c;
	long len = net_tx_pop(d, q, &c, &h, cap);

	if (len <= 0)
		return len;
	net_tx_copy(d, &c, buf, (size_t)len);
	net_tx_done(q, &c);
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
	    ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && txo_csum(buf, (size_t)len, &h)))
		return -1;
	return len;
}
