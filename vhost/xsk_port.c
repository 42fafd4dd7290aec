// SPDX-License-Identifier: GPL-2.0-only
/* An xsk VM's AF_XDP sockets for the vhost-user back-end: vhost/xsk_port.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>

#include "vhost/xsk_port.h"

static int bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

/* Mark the frame at addr as held by the kernel or on its way back. */
static void mark(const struct xsk_port *p, const struct xsk_sock *s, unsigned char *busy,
		 __u64 addr)
{
	__u64 f = addr / p->frame_size;

	if (f >= s->first && f - s->first < s->count)
		busy[f - s->first] = 1;
}

/*
 * Give the socket's frames their roles: frames [0, nfill) receive (fill
 * ring -> RX ring -> fill ring), the rest of the side socket's transmit
 * (free list -> TX ring -> completion ring -> free list).  xsk.get hands
 * a restarted back-end the same sockets, so what a previous consumer left
 * is adopted, not handed out twice: frames on the fill, RX or TX ring are
 * the kernel's or come back by themselves; completed TX frames are taken
 * back; only the others go on the fill ring or the free list.
 */
static int adopt(struct xsk_port *p, struct xsk_sock *s, __u64 nfill)
{
	unsigned char *busy = calloc(s->count, 1);
	const struct xdp_desc *d;
	__u64 addrs[256];
	__u32 n = 0;

	if (!busy)
		return -1;
	for (__u32 i = *s->r.fq.cons; i != *s->r.fq.prod; i++)
		mark(p, s, busy, ((__u64 *)s->r.fq.desc)[i & s->r.fq.mask]);
	d = s->r.rx.desc;
	for (__u32 i = *s->r.rx.cons; i != *s->r.rx.prod; i++)
		mark(p, s, busy, d[i & s->r.rx.mask].addr);
	if (s->r.tx.map) {
		d = s->r.tx.desc;
		for (__u32 i = *s->r.tx.cons; i != *s->r.tx.prod; i++)
			mark(p, s, busy, d[i & s->r.tx.mask].addr);
		__atomic_store_n(s->r.cq.cons, *s->r.cq.prod, __ATOMIC_RELEASE);
	}
	for (__u64 f = 0; f < s->count; f++) {
		__u64 addr = (s->first + f) * p->frame_size;

		if (busy[f])
			continue;
		if (f >= nfill) {
			if (s->queue < 0)
				p->tx_free[p->n_tx_free++] = addr;
			continue;
		}
		addrs[n++] = addr;
		if (n == 256) {
			xv_xsk_fill(&s->r.fq, addrs, n);
			n = 0;
		}
	}
	xv_xsk_fill(&s->r.fq, addrs, n);
	free(busy);
	if (*s->r.fq.flags & XDP_RING_NEED_WAKEUP)
		recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return 0;
}

static int open_sock(struct xsk_port *p, struct xsk_sock *s, struct json_object *so,
		     int queue, char *err, size_t errlen)
{
	long long fi = xv_xsk_jint(so, "fd_index");
	long long first = xv_xsk_jint(so, "frame_first");
	long long count = xv_xsk_jint(so, "frame_count");

	if (fi < 0 || fi >= p->nfds || first < 0 || count <= 0 ||
	    (unsigned long long)(first + count) * p->frame_size > p->umem_size)
		return bad(err, errlen, "xsk.get: a socket without fd or frames");
	s->fd = p->fds[fi];
	s->queue = queue;
	s->first = (__u64)first;
	s->count = (__u64)count;
	return xv_xsk_map_rings(s->fd, so, &s->r, err, errlen);
}

int xsk_port_open(struct xsk_port *p, const char *ctl_path, const char *vm,
		  char *err, size_t errlen)
{
	struct json_object *data, *um, *arr, *side, *cpus;
	long long ufd;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	data = xv_xsk_get(ctl_path, vm, p->fds, (int)(sizeof(p->fds) / sizeof(p->fds[0])),
			  &p->nfds, err, errlen);
	if (!data)
		return -1;
	if (!json_object_object_get_ex(data, "umem", &um) ||
	    !json_object_object_get_ex(data, "sockets", &arr) ||
	    !json_object_object_get_ex(data, "side", &side)) {
		bad(err, errlen, "xsk.get: reply without umem, sockets or side");
		goto out;
	}
	if (xv_xsk_jint(data, "meta_size") != (long long)sizeof(struct xvnet_xsk_meta)) {
		snprintf(err, errlen, "xsk.get: meta_size %lld, this build knows %zu",
			 xv_xsk_jint(data, "meta_size"), sizeof(struct xvnet_xsk_meta));
		goto out;
	}
	p->meta_size = sizeof(struct xvnet_xsk_meta);
	p->meta_inline = xv_xsk_meta_inline(data);
	p->queues = (unsigned)xv_xsk_jint(data, "queues");
	/* the CPUs the VM's queues are worked on (absent: not set) */
	if (json_object_object_get_ex(data, "queue_cpus", &cpus)) {
		for (size_t i = 0; i < json_object_array_length(cpus) &&
				   i < XVNET_MAX_QUEUES; i++) {
			int c = json_object_get_int(json_object_array_get_idx(cpus, i));

			if (c < 0 || c > 255) {
				bad(err, errlen, "xsk.get: a queue CPU out of range");
				goto out;
			}
			p->queue_cpus[p->n_queue_cpus++] = (unsigned char)c;
		}
	}
	p->frame_size = (__u32)xv_xsk_jint(um, "frame_size");
	p->umem_size = (size_t)xv_xsk_jint(um, "size");
	ufd = xv_xsk_jint(um, "fd_index");
	if (ufd < 0 || ufd >= p->nfds || !p->frame_size || !p->umem_size) {
		bad(err, errlen, "xsk.get: UMEM without fd or size");
		goto out;
	}
	p->umem = mmap(NULL, p->umem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       p->fds[ufd], 0);
	if (p->umem == MAP_FAILED) {
		p->umem = NULL;
		snprintf(err, errlen, "mmap UMEM: %s", strerror(errno));
		goto out;
	}
	p->coal = xv_xsk_map_coal_page(data, p->fds, p->nfds, err, errlen);
	if (!p->coal && err[0])
		goto out;
	if (json_object_array_length(arr) + 1 > XSK_PORT_MAX_SOCKS) {
		bad(err, errlen, "xsk.get: too many sockets");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *so = json_object_array_get_idx(arr, i);

		if (open_sock(p, &p->s[p->n], so, (int)xv_xsk_jint(so, "queue"), err, errlen))
			goto out;
		p->n++;
	}
	if (open_sock(p, &p->s[p->n], side, -1, err, errlen))
		goto out;
	p->n++;
	if (!xsk_port_side(p)->r.tx.map) {
		bad(err, errlen, "xsk.get: the side socket has no TX ring");
		goto out;
	}
	for (int i = 0; i < p->n; i++) {
		struct xsk_sock *s = &p->s[i];
		/* the side socket splits its frames between RX and TX */
		__u64 nfill = s->queue < 0 ? s->count / 2 : s->count;

		if (nfill > s->r.fq.size)
			nfill = s->r.fq.size;
		if (s->queue < 0) {
			p->tx_free = calloc(s->count, sizeof(__u64));
			if (!p->tx_free) {
				bad(err, errlen, "out of memory");
				goto out;
			}
		}
		if (adopt(p, s, nfill)) {
			bad(err, errlen, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	json_object_put(data);
	if (rc)
		xsk_port_close(p);
	return rc;
}

void xsk_port_close(struct xsk_port *p)
{
	for (int i = 0; i < p->n; i++)
		xv_xsk_unmap_rings(&p->s[i].r);
	if (p->umem)
		munmap(p->umem, p->umem_size);
	if (p->coal)
		munmap(p->coal, sizeof(*p->coal));
	for (int i = 0; i < p->nfds; i++)
		close(p->fds[i]);
	free(p->tx_free);
	memset(p, 0, sizeof(*p));
}

__u32 xsk_port_rx_peek(struct xsk_port *p, struct xsk_sock *s, struct xsk_frame *f,
		       __u32 max)
{
	const struct xdp_desc *d = s->r.rx.desc;
	__u32 cons = *s->r.rx.cons;
	__u32 n = __atomic_load_n(s->r.rx.prod, __ATOMIC_ACQUIRE) - cons;

	if (n > max)
		n = max;
	for (__u32 i = 0; i < n; i++) {
		const struct xdp_desc *e = &d[(cons + i) & s->r.rx.mask];
		__u64 addr = e->addr;
		__u32 len = e->len;

		memset(&f[i], 0, sizeof(f[i]));
		f[i].addr = e->addr;
		if (addr > p->umem_size || len > p->umem_size - addr)
			continue;
		if (p->meta_inline) {
			if (len < p->meta_size)
				continue;
			memcpy(&f[i].meta, p->umem + addr, sizeof(f[i].meta));
			addr += p->meta_size;
			len -= p->meta_size;
		} else if (addr >= p->meta_size) {
			memcpy(&f[i].meta, p->umem + addr - p->meta_size, sizeof(f[i].meta));
		}
		f[i].data = p->umem + addr;
		f[i].len = len;
	}
	return n;
}

void xsk_port_fill(struct xsk_sock *s, const __u64 *addrs, __u32 n)
{
	if (!n)
		return;
	/* the fill ring has room: these frames came off it */
	xv_xsk_fill(&s->r.fq, addrs, n);
	if (*s->r.fq.flags & XDP_RING_NEED_WAKEUP)
		recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

void xsk_port_rx_consume(struct xsk_sock *s, __u32 n)
{
	__atomic_store_n(s->r.rx.cons, *s->r.rx.cons + n, __ATOMIC_RELEASE);
}

void xsk_port_rx_release(struct xsk_port *p, struct xsk_sock *s,
			 const struct xsk_frame *f, __u32 n)
{
	__u64 addrs[256];

	(void)p;
	xsk_port_rx_consume(s, n);
	for (__u32 done = 0; done < n;) {
		__u32 b = n - done < 256 ? n - done : 256;

		for (__u32 i = 0; i < b; i++)
			addrs[i] = f[done + i].addr;
		xsk_port_fill(s, addrs, b);
		done += b;
	}
}

static void reclaim(struct xsk_port *p)
{
	struct xsk_sock *s = xsk_port_side(p);
	__u32 cons = *s->r.cq.cons;
	__u32 prod = __atomic_load_n(s->r.cq.prod, __ATOMIC_ACQUIRE);

	for (__u32 i = cons; i != prod && p->n_tx_free < s->count; i++)
		p->tx_free[p->n_tx_free++] = ((__u64 *)s->r.cq.desc)[i & s->r.cq.mask];
	__atomic_store_n(s->r.cq.cons, prod, __ATOMIC_RELEASE);
}

unsigned char *xsk_port_tx_buf(struct xsk_port *p, __u64 *addr)
{
	if (!p->n_tx_free)
		reclaim(p);
	if (!p->n_tx_free)
		return NULL;
	*addr = p->tx_free[--p->n_tx_free];
	return p->umem + *addr;
}

__u32 xsk_port_tx_frames(struct xsk_port *p)
{
	reclaim(p);
	return p->n_tx_free;
}

__u32 xsk_port_tx_size(struct xsk_port *p)
{
	return xsk_port_side(p)->r.tx.size;
}

void xsk_port_tx_unget(struct xsk_port *p, __u64 addr)
{
	p->tx_free[p->n_tx_free++] = addr;
}

__u32 xsk_port_tx_room(struct xsk_port *p)
{
	struct xsk_sock *s = xsk_port_side(p);

	return s->r.tx.size - (*s->r.tx.prod - __atomic_load_n(s->r.tx.cons, __ATOMIC_ACQUIRE));
}

void xsk_port_tx_put(struct xsk_port *p, __u64 addr, __u32 len)
{
	struct xsk_sock *s = xsk_port_side(p);
	__u32 prod = *s->r.tx.prod;

	((struct xdp_desc *)s->r.tx.desc)[prod & s->r.tx.mask] =
		(struct xdp_desc){ .addr = addr, .len = len };
	__atomic_store_n(s->r.tx.prod, prod + 1, __ATOMIC_RELEASE);
}

void xsk_port_tx_kick(struct xsk_port *p)
{
	struct xsk_sock *s = xsk_port_side(p);

	/* copy mode sends in this call; EAGAIN/ENOBUFS: retried next round */
	sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	reclaim(p);
}
