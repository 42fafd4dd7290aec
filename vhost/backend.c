// SPDX-License-Identifier: GPL-2.0-only
/* The frame mover of xvnet-vhost: vhost/backend.h. */
#include <stdio.h>
#include <string.h>

#include "vhost/backend.h"
#include "vhost/tx_offload.h"
#include "vhost/net_copy.h"

#define BURST 64
#define TX_BURST 256

void backend_init(struct backend *b, unsigned queue_pairs, uint64_t now)
{
	vu_dev_init(&b->dev, queue_pairs);
	b->pol_gen = ~0u;
	for (unsigned p = 0; p < VU_MAX_QUEUE_PAIRS; p++)
		xv_coal_init(&b->coal[p], &b->pol, now);
}

void backend_guest_gone(struct backend *b, uint64_t now)
{
	b->rx_starved = b->tx_blocked = false;
	memset(b->pushed, 0, sizeof(b->pushed));
	for (unsigned p = 0; p < VU_MAX_QUEUE_PAIRS; p++)
		xv_coal_init(&b->coal[p], &b->pol, now);
}

static struct virtq *rx_vq(struct backend *b, unsigned pair)
{
	return &b->dev.vq[2 * pair];
}

/* The pair a frame of virtual queue `queue` goes to, or -1 (no guest). */
static int pick_pair(struct backend *b, unsigned queue)
{
	unsigned live[VU_MAX_QUEUE_PAIRS], n = 0;

	if (queue < b->dev.queue_pairs && vq_live(rx_vq(b, queue)))
		return (int)queue;
	for (unsigned p = 0; p < b->dev.queue_pairs; p++)
		if (vq_live(rx_vq(b, p)))
			live[n++] = p;
	return n ? (int)live[queue % n] : -1;
}

/* Wire -> guest for one socket; true when frames wait for guest buffers
 * (they stay on the RX ring: the guest's kick resumes them). */
static bool rx_sock(struct backend *b, struct xsk_sock *s)
{
	struct xsk_frame f[BURST];
	__u32 n = xsk_port_rx_peek(&b->port, s, f, BURST), i;

	for (i = 0; i < n; i++) {
		int pair = pick_pair(b, f[i].meta.queue);
		enum net_rx_result r;

		if (pair < 0) {
			/* no guest driver yet: frames would only get stale */
			b->cnt.rx_no_guest++;
			continue;
		}
		r = f[i].len ? net_rx_put(&b->dev, rx_vq(b, (unsigned)pair), f[i].data, f[i].len)
			     : NET_RX_DROPPED;
		if (r == NET_RX_NO_BUFFERS)
			break;
		if (r == NET_RX_DONE) {
			b->cnt.rx++;
			b->cnt.rx_bytes += f[i].len;
			b->cnt.rxq[pair]++;
			b->pushed[pair]++;
		} else {
			b->cnt.rx_dropped++;
		}
	}
	xsk_port_rx_release(&b->port, s, f, i);
	return i < n;
}

static void rx_round(struct backend *b)
{
	bool starved = false;

	/* a few bursts per socket, then the other way round */
	for (int k = 0; k < 4 && !starved; k++) {
		bool more = false;

		for (int i = 0; i < b->port.n; i++) {
			struct xsk_sock *s = &b->port.s[i];

			starved |= rx_sock(b, s);
			more |= *s->r.rx.prod != *s->r.rx.cons;
		}
		if (!more)
			break;
	}
	/* buffers the guest added meanwhile are taken now, not at its kick */
	if (starved) {
		starved = false;
		for (unsigned p = 0; p < b->dev.queue_pairs; p++)
			if (vq_live(rx_vq(b, p)) && !vq_want_kick(rx_vq(b, p)))
				starved = true;
	}
	b->rx_starved = starved;
}

/* A TCP super-frame of the guest (HOST_TSO4/6), cut into side-socket
 * frames; false when there is no room for all of its segments yet (the
 * chain goes back to the ring: it is taken whole or not at all). */
static bool tx_super_frame(struct backend *b, struct virtq *q, struct vq_chain *c,
			   const struct virtio_net_hdr *h, size_t len, unsigned *sent)
{
	struct xsk_port *p = &b->port;
	struct txo_plan plan;
	const char *why = "";

	net_tx_copy(&b->dev, c, b->gso_buf, len);
	if (txo_plan(b->gso_buf, len, h, p->frame_size, &plan, &why) < 0 ||
	    plan.segs > xsk_port_tx_size(p)) {
		net_tx_done(q, c);
		b->cnt.tx_dropped++;
		if (!b->gso_warned++)
			fprintf(stderr, "xvnet-vhost: guest frame dropped: %s\n",
				plan.segs > xsk_port_tx_size(p) ? "more segments than the TX ring" : why);
		return true;
	}
	if (xsk_port_tx_room(p) < plan.segs || xsk_port_tx_frames(p) < plan.segs) {
		net_tx_unpop(q);
		return false;
	}
	net_tx_done(q, c);
	for (uint32_t i = 0; i < plan.segs; i++) {
		__u64 addr;
		unsigned char *buf = xsk_port_tx_buf(p, &addr);
		size_t n = txo_segment(b->gso_buf, &plan, i, buf);

		xsk_port_tx_put(p, addr, (__u32)n);
		b->cnt.tx++;
		b->cnt.tx_bytes += n;
		(*sent)++;
	}
	b->cnt.tx_gso++;
	return true;
}

/* Guest -> side socket TX for one pair's TX queue. */
static void tx_queue(struct backend *b, struct virtq *q, unsigned *sent)
{
	struct xsk_port *p = &b->port;
	bool pushed = false;

	if (!vq_live(q))
		return;
	for (;;) {
		struct virtio_net_hdr h;
		struct vq_chain c;
		unsigned char *buf;
		__u64 addr;
		long len;

		if (*sent >= TX_BURST) {
			xsk_port_tx_kick(p);
			*sent = 0;
		}
		if (!xsk_port_tx_room(p)) {
			b->tx_blocked |= vq_avail_count(q) != 0;
			break;
		}
		len = net_tx_pop(&b->dev, q, &c, &h, TXO_MAX_FRAME);
		if (len == 0) {
			/* re-arm the kick; chains that raced in are taken now */
			if (!vq_want_kick(q))
				break;
			continue;
		}
		if (len > 0 && h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			if (!tx_super_frame(b, q, &c, &h, (size_t)len, sent)) {
				b->tx_blocked = true;
				break;
			}
			pushed = true;
			continue;
		}
		if (len > 0 && (size_t)len <= p->frame_size) {
			if (!(buf = xsk_port_tx_buf(p, &addr))) {
				net_tx_unpop(q);
				b->tx_blocked = true;
				break;
			}
			net_tx_copy(&b->dev, &c, buf, (size_t)len);
			net_tx_done(q, &c);
			pushed = true;
			/* a partial checksum (VIRTIO_NET_F_CSUM) completed here */
			if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
			    !txo_csum(buf, (size_t)len, &h)) {
				xsk_port_tx_put(p, addr, (__u32)len);
				b->cnt.tx++;
				b->cnt.tx_bytes += (unsigned long long)len;
				(*sent)++;
				continue;
			}
			xsk_port_tx_unget(p, addr);
		} else if (len > 0) {
			net_tx_done(q, &c);     /* over a frame, and no GSO */
		}
		b->cnt.tx_dropped++;
		pushed = true;
		if (q->broken)
			break;
	}
	if (pushed && vq_flush(q))
		vq_call(q);
}

static void tx_round(struct backend *b)
{
	unsigned sent = 0;

	b->tx_blocked = false;
	for (unsigned pr = 0; pr < b->dev.queue_pairs; pr++)
		tx_queue(b, &b->dev.vq[2 * pr + 1], &sent);
	if (sent)
		xsk_port_tx_kick(&b->port);
}

/* The guest's "virtual interrupt" for pair p's RX queue. */
static void notify(struct backend *b, unsigned p)
{
	struct virtq *q = rx_vq(b, p);
	struct xvnet_coal_page *pg = b->port.coal;

	if (vq_need_call(q))
		vq_call(q);
	b->cnt.notifications++;
	if (pg && p < XVNET_MAX_QUEUES) {
		pg->q[p].packets += b->coal[p].pending;
		pg->q[p].notifications++;
	}
	xv_coal_notified(&b->coal[p]);
}

/* Publish what each RX queue got; interrupt as the policy says. */
static uint64_t coalesce_round(struct backend *b, uint64_t now)
{
	uint64_t next = 0, rate = 0;

	if (b->port.coal && xv_coal_page_policy(b->port.coal, &b->pol_gen, &b->pol))
		for (unsigned p = 0; p < VU_MAX_QUEUE_PAIRS; p++)
			xv_coal_repolicy(&b->coal[p], &b->pol, now);
	for (unsigned p = 0; p < b->dev.queue_pairs; p++) {
		struct xv_coal *c = &b->coal[p];
		uint64_t dl;

		if (b->pushed[p]) {
			vq_publish(rx_vq(b, p));
			if (xv_coal_add(c, &b->pol, b->pushed[p], now))
				notify(b, p);
			b->pushed[p] = 0;
		}
		if (xv_coal_due(c, now))
			notify(b, p);
		/* A guest with no RX buffer left takes no frame before it has
		 * seen these: holding its interrupt to rx-usecs would only stall
		 * it while the socket ring overflows (rx-frames above the ring
		 * size lost 3 frames in 4 at line rate, make bench-coalesce). */
		else if (c->pending && !vq_avail_count(rx_vq(b, p)))
			notify(b, p);
		rate += c->rate_pps;
		dl = xv_coal_deadline(c);
		if (dl && (!next || dl < next))
			next = dl;
	}
	if (b->port.coal) {
		b->port.coal->rate_pps = rate;
		b->port.coal->eff_frames = b->coal[0].eff_frames;
		b->port.coal->eff_usecs = b->coal[0].eff_usecs;
	}
	return next;
}

uint64_t backend_round(struct backend *b, uint64_t now)
{
	rx_round(b);
	tx_round(b);
	return coalesce_round(b, now);
}
