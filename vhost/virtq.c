// SPDX-License-Identifier: GPL-2.0-only
/* A split virtqueue, device side: vhost/virtq.h. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "vhost/virtq.h"

/* The rings are shared with a guest on another CPU: loads of its indices
 * acquire, stores of ours release, and the event-index checks need a full
 * fence between our store and its field's load (virtio 1.x 2.7.7.2). */
#define load_acquire(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define full_fence()        __atomic_thread_fence(__ATOMIC_SEQ_CST)

void vq_init(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
	q->kick_fd = -1;
	q->call_fd = -1;
}

int vq_map(struct virtq *q, const struct vu_mem *m)
{
	size_t n = q->num;
	void *d, *a, *u;

	if (!n || n > VQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	/* the trailing u16 of each ring is used_event / avail_event */
	d = vu_mem_uva(m, q->desc_uva, n * sizeof(struct vring_desc));
	a = vu_mem_uva(m, q->avail_uva, 4 + 2 * n + 2);
	u = vu_mem_uva(m, q->used_uva, 4 + 8 * n + 2);
	if (!d || !a || !u)
		return -EINVAL;
	q->desc = d;
	q->avail = a;
	q->used = u;
	return 0;
}

bool vq_live(const struct virtq *q)
{
	/* broken is set by the thread that moves the ring's frames and read by
	 * the dispatcher (vhost/backend.c): an atomic flag */
	return q->started && q->enabled && q->used &&
	       !__atomic_load_n(&q->broken, __ATOMIC_RELAXED);
}

unsigned vq_avail_count(const struct virtq *q)
{
	return (uint16_t)(load_acquire(&q->avail->idx) - q->last_avail);
}

static int broken(struct virtq *q)
{
	__atomic_store_n(&q->broken, true, __ATOMIC_RELAXED);
	return -1;
}

int vq_pop(struct virtq *q, const struct vu_mem *m, struct vq_chain *c, bool want_write)
{
	uint16_t avail_idx = load_acquire(&q->avail->idx);
	unsigned i, hops = 0;

	if (avail_idx == q->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->num)
		return broken(q);
	c->head = q->avail->ring[q->last_avail & (q->num - 1)];
	c->n = 0;
	c->bytes = 0;
	if (c->head >= q->num)
		return broken(q);
	i = c->head;
	for (;;) {
		const struct vring_desc *d = &q->desc[i];
		uint16_t flags = d->flags;
		uint32_t len = d->len;
		void *p;

		/* INDIRECT is not offered; a loop must end within num hops */
		if ((flags & VRING_DESC_F_INDIRECT) || ++hops > q->num ||
		    c->n == VQ_MAX_SEGS ||
		    !!(flags & VRING_DESC_F_WRITE) != want_write)
			return broken(q);
		p = vu_mem_gpa(m, d->addr, len);
		if (!p && len)
			return broken(q);
		c->seg[c->n++] = (struct vq_seg){ .p = p, .gpa = d->addr, .len = len };
		c->bytes += len;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = d->next;
		if (i >= q->num)
			return broken(q);
	}
	q->last_avail++;
	return 1;
}

void vq_unpop(struct virtq *q, unsigned n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

/* A write into the used ring, at byte off of it, for the dirty log. */
static void log_used(const struct virtq *q, size_t off, size_t len)
{
	if (q->log_used)
		vu_log_write(q->log, q->log_used_gpa + off, len);
}

void vq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	unsigned slot = q->used_idx & (q->num - 1);
	struct vring_used_elem *e = &q->used->ring[slot];

	e->id = head;
	e->len = len;
	log_used(q, offsetof(struct vring_used, ring) + slot * sizeof(*e), sizeof(*e));
	q->used_idx++;
}

void vq_publish(struct virtq *q)
{
	store_release(&q->used->idx, q->used_idx);
	log_used(q, offsetof(struct vring_used, idx), sizeof(q->used->idx));
}

bool vq_need_call(struct virtq *q)
{
	uint16_t old = q->signalled, now = q->used_idx;

	full_fence();
	q->signalled = now;
	/* a ring (re)started (a migration's destination, a reconnect) cannot
	 * trust the guest's used_event to be in step with what came before:
	 * the first interrupt goes out whatever it says */
	if (q->force_call) {
		q->force_call = false;
		return true;
	}
	if (q->event_idx) {
		/* used_event sits after the avail ring's entries */
		uint16_t ev = load_acquire(&q->avail->ring[q->num]);

		return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	}
	return now != old && !(load_acquire(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool vq_flush(struct virtq *q)
{
	vq_publish(q);
	return vq_need_call(q);
}

void vq_call(struct virtq *q)
{
	uint64_t one = 1;

	if (q->call_fd >= 0 && write(q->call_fd, &one, sizeof(one)) == sizeof(one))
		q->calls++;
}

bool vq_want_kick(struct virtq *q)
{
	if (q->event_idx) {
		/* avail_event sits after the used ring's entries */
		uint16_t *avail_event = (uint16_t *)&q->used->ring[q->num];

		store_release(avail_event, q->last_avail);
		log_used(q, offsetof(struct vring_used, ring) + q->num * sizeof(q->used->ring[0]),
			 sizeof(*avail_event));
	} else {
		store_release(&q->used->flags, 0);
		log_used(q, offsetof(struct vring_used, flags), sizeof(q->used->flags));
	}
	full_fence();
	return vq_avail_count(q) != 0;
}

/* Walk the chain's segments from byte off, copying in either direction. */
static size_t copy(const struct vq_chain *c, size_t off, unsigned char *buf,
		   size_t len, bool into_chain)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->n && done < len; i++) {
		size_t k;

		if (off >= c->seg[i].len) {
			off -= c->seg[i].len;
			continue;
		}
		k = c->seg[i].len - off;
		if (k > len - done)
			k = len - done;
		if (into_chain)
			memcpy(c->seg[i].p + off, buf + done, k);
		else
			memcpy(buf + done, c->seg[i].p + off, k);
		done += k;
		off = 0;
	}
	return done;
}

void vq_log_chain(const struct virtq *q, const struct vq_chain *c, size_t len)
{
	if (!q->log || !__atomic_load_n(&q->log->on, __ATOMIC_RELAXED))
		return;
	for (unsigned i = 0; i < c->n && len; i++) {
		size_t k = c->seg[i].len < len ? c->seg[i].len : len;

		vu_log_write(q->log, c->seg[i].gpa, k);
		len -= k;
	}
}

size_t vq_copy_to(const struct vq_chain *c, size_t off, const void *src, size_t len)
{
	/* the source is only read when copying into the chain */
	return copy(c, off, (unsigned char *)(uintptr_t)src, len, true);
}

size_t vq_copy_from(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
	return copy(c, off, dst, len, false);
}
