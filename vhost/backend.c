// SPDX-License-Identifier: GPL-2.0-only
/* The frame mover of xvnet-vhost: vhost/backend.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "vhost/backend.h"
#include "vhost/tx_offload.h"
#include "vhost/net_copy.h"

#define BURST 64
#define TX_BURST 256
#define STARVED_CALL_NS 10000000ull     /* 10 ms */

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

void backend_init(struct backend *b, unsigned queue_pairs, uint64_t now)
{
	pthread_rwlockattr_t a;

	vu_dev_init(&b->dev, queue_pairs);
	for (unsigned p = 0; p < VU_MAX_QUEUE_PAIRS; p++) {
		struct backend_lane *l = &b->lane[p];

		b->pol_gen[p] = ~0u;
		xv_coal_init(&b->coal[p], &b->pol[p], now);
		l->b = b;
		l->pair = p;
		l->cpu = -1;
		l->wake_fd = -1;
		spsc_init(&l->in);
		spsc_init(&l->done);
	}
	b->wake_fd = -1;
	/* a pause must not wait behind workers that take the lock in a loop */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&b->lock, &a);
	pthread_rwlockattr_destroy(&a);
	pthread_mutex_init(&b->tx_lock, NULL);
}

static struct virtq *rx_vq(struct backend *b, unsigned pair)
{
	return &b->dev.vq[2 * pair];
}

static struct virtq *tx_vq(struct backend *b, unsigned pair)
{
	return &b->dev.vq[2 * pair + 1];
}

/* Frames of a lane's rings back to their fill rings; n of them. */
static uint32_t give_back(struct backend *b, struct spsc *r, bool count_no_guest)
{
	__u64 addrs[XSK_PORT_MAX_SOCKS][BURST];
	__u32 k[XSK_PORT_MAX_SOCKS] = { 0 };
	uint32_t n = spsc_count(r);

	for (uint32_t i = 0; i < n; i++) {
		const struct spsc_ent *e = spsc_peek(r, i);
		unsigned s = e->sock < b->port.n ? e->sock : 0;

		addrs[s][k[s]++] = e->addr;
		if (k[s] == BURST) {
			xsk_port_fill(&b->port.s[s], addrs[s], k[s]);
			k[s] = 0;
		}
		if (count_no_guest)
			b->dcnt.rx_no_guest++;
	}
	for (int s = 0; s < b->port.n; s++)
		xsk_port_fill(&b->port.s[s], addrs[s], k[s]);
	spsc_consume(r, n);
	return n;
}

void backend_guest_gone(struct backend *b, uint64_t now)
{
	for (unsigned p = 0; p < VU_MAX_QUEUE_PAIRS; p++) {
		struct backend_lane *l = &b->lane[p];

		l->rx_starved = l->tx_blocked = false;
		xv_coal_init(&b->coal[p], &b->pol[p], now);
		/* paused: the dispatcher may consume the workers' rings too */
		if (b->threaded) {
			give_back(b, &l->in, true);
			give_back(b, &l->done, false);
		}
	}
	memset(b->pushed, 0, sizeof(b->pushed));
	b->rx_blocked = false;
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

static void count_rx(struct backend *b, struct backend_lane *l, unsigned pair,
		     enum net_rx_result r, __u32 len)
{
	if (r == NET_RX_DONE) {
		l->cnt.rx++;
		l->cnt.rx_bytes += len;
		l->cnt.rxq[pair]++;
		b->pushed[pair]++;
	} else {
		l->cnt.rx_dropped++;
	}
}

/* One thread: wire -> guest for one socket; true when frames wait for guest
 * buffers (they stay on the RX ring: the guest's kick resumes them). */
static bool rx_sock(struct backend_lane *l, struct xsk_sock *s)
{
	struct backend *b = l->b;
	struct xsk_frame f[BURST];
	__u32 n = xsk_port_rx_peek(&b->port, s, f, BURST), i;

	for (i = 0; i < n; i++) {
		int pair = pick_pair(b, f[i].meta.queue);
		enum net_rx_result r;

		if (pair < 0 && b->dev.fd >= 0) {
			/* a VMM is connected but no RX queue runs: its device is
			 * stopped (a migration: the source's rings stop before the
			 * switch, the destination's start after it) or not started
			 * yet.  The frames wait on the ring for it. */
			l->rx_held = true;
			break;
		}
		if (pair < 0) {
			/* no VMM: frames would only get stale */
			l->cnt.rx_no_guest++;
			continue;
		}
		r = f[i].len ? net_rx_put(&b->dev, rx_vq(b, (unsigned)pair), f[i].data, f[i].len)
			     : NET_RX_DROPPED;
		if (r == NET_RX_NO_BUFFERS)
			break;
		count_rx(b, l, (unsigned)pair, r, f[i].len);
	}
	xsk_port_rx_release(&b->port, s, f, i);
	return i < n && !l->rx_held;
}

static void rx_round(struct backend_lane *l)
{
	struct backend *b = l->b;
	bool starved = false;

	l->rx_held = false;
	/* a few bursts per socket, then the other way round */
	for (int k = 0; k < 4 && !starved && !l->rx_held; k++) {
		bool more = false;

		for (int i = 0; i < b->port.n; i++) {
			struct xsk_sock *s = &b->port.s[i];

			starved |= rx_sock(l, s);
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
	l->rx_starved = starved;
}

/* A TCP super-frame of the guest (HOST_TSO4/6), cut into side-socket
 * frames; false when there is no room for all of its segments yet (the
 * chain goes back to the ring: it is taken whole or not at all). */
static bool tx_super_frame(struct backend_lane *l, struct virtq *q, struct vq_chain *c,
			   const struct virtio_net_hdr *h, size_t len, unsigned *sent)
{
	struct backend *b = l->b;
	struct xsk_port *p = &b->port;
	struct txo_plan plan;
	const char *why = "";

	net_tx_copy(&b->dev, c, l->gso_buf, len);
	if (txo_plan(l->gso_buf, len, h, p->frame_size, &plan, &why) < 0 ||
	    plan.segs > xsk_port_tx_size(p)) {
		net_tx_done(q, c);
		l->cnt.tx_dropped++;
		if (!l->gso_warned++)
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
		size_t n = txo_segment(l->gso_buf, &plan, i, buf);

		xsk_port_tx_put(p, addr, (__u32)n);
		l->cnt.tx++;
		l->cnt.tx_bytes += n;
		(*sent)++;
	}
	l->cnt.tx_gso++;
	return true;
}

/* Guest -> side socket TX for one pair's TX queue (with workers, under
 * tx_lock: every pair sends through the one side socket). */
static void tx_queue(struct backend_lane *l, struct virtq *q, unsigned *sent)
{
	struct backend *b = l->b;
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
			l->tx_blocked |= vq_avail_count(q) != 0;
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
			if (!tx_super_frame(l, q, &c, &h, (size_t)len, sent)) {
				l->tx_blocked = true;
				break;
			}
			pushed = true;
			continue;
		}
		if (len > 0 && (size_t)len <= p->frame_size) {
			if (!(buf = xsk_port_tx_buf(p, &addr))) {
				net_tx_unpop(q);
				l->tx_blocked = true;
				break;
			}
			net_tx_copy(&b->dev, &c, buf, (size_t)len);
			net_tx_done(q, &c);
			pushed = true;
			/* a partial checksum (VIRTIO_NET_F_CSUM) completed here */
			if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
			    !txo_csum(buf, (size_t)len, &h)) {
				xsk_port_tx_put(p, addr, (__u32)len);
				l->cnt.tx++;
				l->cnt.tx_bytes += (unsigned long long)len;
				(*sent)++;
				continue;
			}
			xsk_port_tx_unget(p, addr);
		} else if (len > 0) {
			net_tx_done(q, &c);     /* over a frame, and no GSO */
		}
		l->cnt.tx_dropped++;
		pushed = true;
		if (__atomic_load_n(&q->broken, __ATOMIC_RELAXED))
			break;
	}
	if (pushed && vq_flush(q))
		vq_call(q);
}

static void tx_round(struct backend_lane *l)
{
	struct backend *b = l->b;
	unsigned sent = 0;

	l->tx_blocked = false;
	for (unsigned pr = 0; pr < b->dev.queue_pairs; pr++)
		tx_queue(l, tx_vq(b, pr), &sent);
	if (sent)
		xsk_port_tx_kick(&b->port);
}

/* The guest's "virtual interrupt" for pair p's RX queue. */
static void notify(struct backend_lane *l, unsigned p)
{
	struct backend *b = l->b;
	struct virtq *q = rx_vq(b, p);
	struct xvnet_coal_page *pg = b->port.coal;

	if (vq_need_call(q))
		vq_call(q);
	l->cnt.notifications++;
	if (pg && p < XVNET_MAX_QUEUES) {
		pg->q[p].packets += b->coal[p].pending;
		pg->q[p].notifications++;
	}
	xv_coal_notified(&b->coal[p]);
}

/* Publish what pair p's RX queue got; interrupt as the policy says.  The
 * time by which this must run again (0: none). */
static uint64_t coalesce_pair(struct backend_lane *l, unsigned p, uint64_t now)
{
	struct backend *b = l->b;
	struct xv_coal *c = &b->coal[p];

	if (b->port.coal && xv_coal_page_policy(b->port.coal, &b->pol_gen[p], &b->pol[p]))
		xv_coal_repolicy(c, &b->pol[p], now);
	if (b->pushed[p]) {
		vq_publish(rx_vq(b, p));
		if (xv_coal_add(c, &b->pol[p], b->pushed[p], now))
			notify(l, p);
		b->pushed[p] = 0;
	}
	if (xv_coal_due(c, now))
		notify(l, p);
	/* A guest with no RX buffer left takes no frame before it has seen
	 * these: holding its interrupt to rx-usecs would only stall it while
	 * the socket ring overflows (rx-frames above the ring size lost 3
	 * frames in 4 at line rate, make bench-coalesce). */
	else if (c->pending && !vq_avail_count(rx_vq(b, p)))
		notify(l, p);
	/*
	 * A guest that leaves frames waiting with no RX buffer posted may
	 * have missed its interrupt (seen after a migration: the used ring
	 * full, the guest never woken, the socket ring overflowing).  Call it
	 * again every STARVED_CALL_NS while that lasts; a spurious interrupt
	 * costs a driver one look at its ring.
	 */
	if (l->rx_starved && vq_live(rx_vq(b, p)) && !vq_avail_count(rx_vq(b, p))) {
		uint64_t dl = xv_coal_deadline(c);

		if (now - b->starved_call[p] >= STARVED_CALL_NS) {
			vq_call(rx_vq(b, p));
			b->starved_call[p] = now;
		}
		if (!dl || dl > b->starved_call[p] + STARVED_CALL_NS)
			dl = b->starved_call[p] + STARVED_CALL_NS;
		return dl;
	}
	return xv_coal_deadline(c);
}

/* The page's totals: the rate over every queue, queue 0's bounds. */
static void page_totals(struct backend *b)
{
	uint64_t rate = 0;

	if (!b->port.coal)
		return;
	for (unsigned p = 0; p < b->dev.queue_pairs; p++)
		rate += b->coal[p].rate_pps;
	b->port.coal->rate_pps = rate;
	b->port.coal->eff_frames = b->coal[0].eff_frames;
	b->port.coal->eff_usecs = b->coal[0].eff_usecs;
}

uint64_t backend_round(struct backend *b, uint64_t now)
{
	struct backend_lane *l = &b->lane[0];
	uint64_t next = 0;

	rx_round(l);
	tx_round(l);
	for (unsigned p = 0; p < b->dev.queue_pairs; p++) {
		uint64_t dl = coalesce_pair(l, p, now);

		if (dl && (!next || dl < next))
			next = dl;
	}
	page_totals(b);
	return next;
}

struct timespec backend_wait(bool tx_blocked, uint64_t deadline, uint64_t now)
{
	/* to the ns: a deadline rounded up to whole ms let rx-usecs U hold
	 * frames up to U + 1 ms (make bench-coalesce, p90) */
	uint64_t ns = 100000000ull;     /* the stats tick */

	if (tx_blocked)
		ns = 1000000ull;        /* guest frames wait for TX ring room */
	if (deadline && (deadline <= now ? 0 : deadline - now) < ns)
		ns = deadline <= now ? 0 : deadline - now;
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ull),
				  .tv_nsec = (long)(ns % 1000000000ull) };
}

/* ---- workers ---- */

static void wake(int fd, int *sleeping)
{
	uint64_t one = 1;

	/* pairs with the sleeper's store of *sleeping before its last look */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(sleeping, __ATOMIC_RELAXED) && write(fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		fprintf(stderr, "xvnet-vhost: wake: %s\n", strerror(errno));
}

static void drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		fprintf(stderr, "xvnet-vhost: eventfd: %s\n", strerror(errno));
}

/* A worker's wire -> guest: the frames the dispatcher handed over. */
static void lane_rx(struct backend_lane *l)
{
	struct backend *b = l->b;
	struct virtq *q = rx_vq(b, l->pair);
	uint32_t n = spsc_count(&l->in), room = spsc_room(&l->done), i;
	bool starved = false;

	/* every frame taken goes back through done: no more than it holds */
	if (n > room)
		n = room;
	for (i = 0; i < n; i++) {
		const struct spsc_ent *e = spsc_peek(&l->in, i);

		if (!vq_live(q)) {
			/* the guest stopped this queue after the frame was handed */
			l->cnt.rx_no_guest++;
		} else {
			enum net_rx_result r = net_rx_put(&b->dev, q, b->port.umem + e->off,
							  e->len);

			if (r == NET_RX_NO_BUFFERS) {
				starved = true;
				break;
			}
			count_rx(b, l, l->pair, r, e->len);
		}
		*spsc_slot(&l->done, i) = *e;
	}
	if (i) {
		spsc_publish(&l->done, i);
		spsc_consume(&l->in, i);
		wake(b->wake_fd, &b->sleeping);
	}
	/* buffers the guest added meanwhile are taken now, not at its kick */
	l->rx_starved = starved && !vq_want_kick(q);
}

static void lane_tx(struct backend_lane *l)
{
	struct backend *b = l->b;
	unsigned sent = 0;

	pthread_mutex_lock(&b->tx_lock);
	l->tx_blocked = false;
	tx_queue(l, tx_vq(b, l->pair), &sent);
	if (sent)
		xsk_port_tx_kick(&b->port);
	pthread_mutex_unlock(&b->tx_lock);
}

static void *lane_main(void *arg)
{
	struct backend_lane *l = arg;
	struct backend *b = l->b;
	struct virtq *rq = rx_vq(b, l->pair), *tq = tx_vq(b, l->pair);
	struct pollfd pf[3];
	struct virtq *pq[3];
	uint64_t gen = 0;
	int n = 0;

	for (;;) {
		uint64_t now, dl;
		struct timespec ts;
		bool busy;

		pthread_rwlock_rdlock(&b->lock);
		if (__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE)) {
			pthread_rwlock_unlock(&b->lock);
			break;
		}
		/* kicks seen by the last poll, unless a pause changed the fds */
		for (int i = 1; i < n && gen == b->gen; i++)
			if (pf[i].revents & POLLIN) {
				drain(pf[i].fd);
				pq[i]->kicks++;
			}
		now = now_ns();
		lane_rx(l);
		lane_tx(l);
		dl = coalesce_pair(l, l->pair, now);
		gen = b->gen;
		n = 0;
		pf[n++] = (struct pollfd){ .fd = l->wake_fd, .events = POLLIN };
		if (rq->kick_fd >= 0) {
			pq[n] = rq;
			pf[n++] = (struct pollfd){ .fd = rq->kick_fd, .events = POLLIN };
		}
		if (tq->kick_fd >= 0) {
			pq[n] = tq;
			pf[n++] = (struct pollfd){ .fd = tq->kick_fd, .events = POLLIN };
		}
		ts = backend_wait(l->tx_blocked, dl, now);
		__atomic_store_n(&l->sleeping, 1, __ATOMIC_SEQ_CST);
		busy = !l->rx_starved && spsc_count(&l->in) && spsc_room(&l->done);
		pthread_rwlock_unlock(&b->lock);
		if (busy) {
			for (int i = 0; i < n; i++)
				pf[i].revents = 0;
		} else if (ppoll(pf, (nfds_t)n, &ts, NULL) < 0 && errno != EINTR) {
			fprintf(stderr, "xvnet-vhost: pair %u: poll: %s\n", l->pair,
				strerror(errno));
			n = 0;
		}
		__atomic_store_n(&l->sleeping, 0, __ATOMIC_RELAXED);
		if (n && (pf[0].revents & POLLIN))
			drain(l->wake_fd);
	}
	return NULL;
}

int backend_start_workers(struct backend *b, const unsigned char *cpus, unsigned ncpus,
			  char *err, size_t errlen)
{
	b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	b->threaded = true;
	for (unsigned p = 0; p < b->dev.queue_pairs; p++) {
		struct backend_lane *l = &b->lane[p];
		pthread_attr_t a;
		cpu_set_t set;
		char name[24];
		int e;

		l->cpu = ncpus ? cpus[p % ncpus] : -1;
		l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (l->wake_fd < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			goto fail;
		}
		pthread_attr_init(&a);
		if (l->cpu >= 0) {
			CPU_ZERO(&set);
			CPU_SET(l->cpu, &set);
			pthread_attr_setaffinity_np(&a, sizeof(set), &set);
		}
		e = pthread_create(&l->thread, &a, lane_main, l);
		pthread_attr_destroy(&a);
		if (e) {
			snprintf(err, errlen, "queue pair %u on CPU %d: %s", p, l->cpu,
				 strerror(e));
			goto fail;
		}
		l->running = true;
		/* ps -L / top -H show which thread serves which pair */
		snprintf(name, 16, "xvnet-vq%u", p % 100);
		pthread_setname_np(l->thread, name);
	}
	return 0;
fail:
	backend_stop_workers(b);
	return -1;
}

void backend_stop_workers(struct backend *b)
{
	if (!b->threaded)
		return;
	__atomic_store_n(&b->stopping, 1, __ATOMIC_RELEASE);
	for (unsigned p = 0; p < VU_MAX_QUEUE_PAIRS; p++) {
		struct backend_lane *l = &b->lane[p];
		uint64_t one = 1;

		if (l->running) {
			if (write(l->wake_fd, &one, sizeof(one)) < 0)
				fprintf(stderr, "xvnet-vhost: wake: %s\n", strerror(errno));
			pthread_join(l->thread, NULL);
			l->running = false;
		}
		if (l->wake_fd >= 0)
			close(l->wake_fd);
		l->wake_fd = -1;
	}
	if (b->wake_fd >= 0)
		close(b->wake_fd);
	b->wake_fd = -1;
	b->threaded = false;
	__atomic_store_n(&b->stopping, 0, __ATOMIC_RELEASE);
}

void backend_pause(struct backend *b)
{
	if (b->threaded)
		pthread_rwlock_wrlock(&b->lock);
}

void backend_resume(struct backend *b)
{
	if (!b->threaded)
		return;
	b->gen++;
	page_totals(b);
	pthread_rwlock_unlock(&b->lock);
	for (unsigned p = 0; p < b->dev.queue_pairs; p++) {
		uint64_t one = 1;

		/* a worker asleep on a kick fd that was replaced looks again */
		if (b->lane[p].running && write(b->lane[p].wake_fd, &one, sizeof(one)) < 0)
			fprintf(stderr, "xvnet-vhost: wake: %s\n", strerror(errno));
	}
}

void backend_dispatch(struct backend *b)
{
	struct xsk_frame f[BURST];

	for (unsigned p = 0; p < b->dev.queue_pairs; p++)
		give_back(b, &b->lane[p].done, false);
	b->rx_blocked = false;
	for (int si = 0; si < b->port.n; si++) {
		struct xsk_sock *s = &b->port.s[si];

		/* a few bursts per socket, as the one-thread round does */
		for (int k = 0; k < 4 && !b->rx_blocked; k++) {
			__u32 n = xsk_port_rx_peek(&b->port, s, f, BURST), i, nret = 0;
			uint32_t taken[VU_MAX_QUEUE_PAIRS] = { 0 };
			__u64 ret[BURST];

			if (!n)
				break;
			for (i = 0; i < n; i++) {
				int pair = f[i].len ? pick_pair(b, f[i].meta.queue) : -1;
				struct backend_lane *l;

				if (pair < 0 && f[i].len && b->dev.fd >= 0) {
					/* no RX queue runs: the frames wait on the
					 * ring (rx_sock says when) */
					b->rx_blocked = true;
					break;
				}
				if (pair < 0) {
					if (f[i].len)
						b->dcnt.rx_no_guest++;
					else
						b->dcnt.rx_dropped++;
					ret[nret++] = f[i].addr;
					continue;
				}
				l = &b->lane[pair];
				if (spsc_room(&l->in) <= taken[pair]) {
					b->rx_blocked = true;   /* the rest waits on the ring */
					break;
				}
				*spsc_slot(&l->in, taken[pair]++) = (struct spsc_ent){
					.addr = f[i].addr,
					.off = (__u32)(f[i].data - b->port.umem),
					.len = f[i].len, .sock = (__u8)si };
			}
			xsk_port_rx_consume(s, i);
			xsk_port_fill(s, ret, nret);
			for (unsigned p = 0; p < b->dev.queue_pairs; p++)
				if (taken[p]) {
					spsc_publish(&b->lane[p].in, taken[p]);
					wake(b->lane[p].wake_fd, &b->lane[p].sleeping);
				}
			if (i < BURST)
				break;
		}
	}
}

void backend_announce(struct backend *b)
{
	/* RARP (0x8035) "request reverse" from the guest's MAC, to every
	 * port: what QEMU sends for a guest on a tap after a migration */
	static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const unsigned char *mac = b->dev.rarp_mac;
	unsigned char *f;
	__u64 addr;

	b->dev.rarp_pending = false;
	if (b->threaded)
		pthread_mutex_lock(&b->tx_lock);
	if (xsk_port_tx_room(&b->port) && (f = xsk_port_tx_buf(&b->port, &addr))) {
		memset(f, 0, 60);
		memcpy(f, bcast, 6);
		memcpy(f + 6, mac, 6);
		f[12] = 0x80; f[13] = 0x35;     /* RARP */
		f[15] = 1;                      /* hardware: Ethernet */
		f[16] = 0x08;                   /* protocol: IPv4 */
		f[18] = 6; f[19] = 4;
		f[21] = 3;                      /* request reverse */
		memcpy(f + 22, mac, 6);         /* sender MAC; IPs stay 0 */
		memcpy(f + 32, mac, 6);         /* target MAC */
		xsk_port_tx_put(&b->port, addr, 60);
		xsk_port_tx_kick(&b->port);
		b->dcnt.tx++;
		b->dcnt.tx_bytes += 60;
	} else {
		b->dcnt.tx_dropped++;
	}
	if (b->threaded)
		pthread_mutex_unlock(&b->tx_lock);
}

static void add_counters(struct backend_counters *to, const struct backend_counters *c)
{
	to->rx += c->rx;
	to->rx_bytes += c->rx_bytes;
	to->rx_no_guest += c->rx_no_guest;
	to->rx_dropped += c->rx_dropped;
	to->tx += c->tx;
	to->tx_bytes += c->tx_bytes;
	to->tx_dropped += c->tx_dropped;
	to->notifications += c->notifications;
	to->tx_gso += c->tx_gso;
	for (unsigned p = 0; p < VU_MAX_QUEUE_PAIRS; p++)
		to->rxq[p] += c->rxq[p];
}

void backend_counters_sum(const struct backend *b, struct backend_counters *out)
{
	memset(out, 0, sizeof(*out));
	add_counters(out, &b->dcnt);
	for (unsigned p = 0; p < VU_MAX_QUEUE_PAIRS; p++)
		add_counters(out, &b->lane[p].cnt);
}
