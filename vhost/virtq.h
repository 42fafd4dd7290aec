/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One split virtqueue seen from the device side (virtio 1.x, 2.7): take
 * descriptor chains the driver made available, give them back as used, and
 * decide whether the driver wants an interrupt (VIRTIO_RING_F_EVENT_IDX or
 * the avail ring's NO_INTERRUPT flag).  The rings live in guest memory
 * (vhost/vu_mem.h); nothing the guest writes is trusted: every index,
 * address and chain length is checked before use.
 */
#ifndef XVNET_VHOST_VIRTQ_H
#define XVNET_VHOST_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "vhost/vu_log.h"
#include "vhost/vu_mem.h"

#define VQ_MAX_SIZE  32768
#define VQ_MAX_SEGS  64         /* descriptors in one chain this back-end takes */

struct vq_seg {
	unsigned char *p;
	uint64_t gpa;           /* for the dirty log */
	uint32_t len;
};

/* One descriptor chain: its head (for the used ring) and its buffers. */
struct vq_chain {
	uint16_t head;
	unsigned n;
	struct vq_seg seg[VQ_MAX_SEGS];
	uint64_t bytes;
};

struct virtq {
	/* set by the front-end (SET_VRING_NUM/ADDR/BASE/KICK/CALL/ENABLE) */
	unsigned num;
	uint64_t desc_uva, avail_uva, used_uva;
	int kick_fd, call_fd;
	bool enabled, started;
	bool event_idx;
	/* mapped when the ring starts */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;    /* next avail entry this device takes */
	uint16_t used_idx;      /* its copy of used->idx, published by vq_flush */
	uint16_t signalled;     /* used->idx when the driver was last checked */
	bool broken;            /* the guest broke the ring: stop using it */
	bool force_call;        /* the next vq_need_call says yes: (re)started */
	/* a migration's dirty log: the used ring's guest-physical address
	 * (SET_VRING_ADDR with VHOST_VRING_F_LOG) */
	const struct vu_log *log;
	uint64_t log_used_gpa;
	bool log_used;
	unsigned long long calls, kicks;
};

void vq_init(struct virtq *q);
/* Map the ring addresses; 0 or -EINVAL (with the queue untouched). */
int vq_map(struct virtq *q, const struct vu_mem *m);
/* Ready for traffic: started by a kick fd, enabled, mapped, not broken. */
bool vq_live(const struct virtq *q);

/*
 * Take the next available chain: 1 (in *c), 0 when none, -1 when the guest
 * wrote something impossible (q->broken is set).  want_write: the chain
 * must be device-writable (RX) or device-readable (TX) throughout.
 */
int vq_pop(struct virtq *q, const struct vu_mem *m, struct vq_chain *c, bool want_write);
/* Give back the last n chains taken (not yet pushed). */
void vq_unpop(struct virtq *q, unsigned n);
/* Queue a used element; vq_flush publishes what was pushed. */
void vq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Publish the used index (the driver may see the elements by polling). */
void vq_publish(struct virtq *q);
/* True when the driver wants an interrupt for what was published since
 * the last time this was asked (a deferred interrupt is not lost). */
bool vq_need_call(struct virtq *q);
/* Both: publish, and say whether to interrupt now. */
bool vq_flush(struct virtq *q);
/* Signal the call fd (the guest's interrupt). */
void vq_call(struct virtq *q);
/* Ask for a kick when more chains are available; true when some already are. */
bool vq_want_kick(struct virtq *q);
/* Available chains not yet taken. */
unsigned vq_avail_count(const struct virtq *q);

/* Log the first len bytes of a chain as written (a migration's dirty log). */
void vq_log_chain(const struct virtq *q, const struct vq_chain *c, size_t len);

/* Copy len bytes into / out of a chain at byte offset off; bytes copied. */
size_t vq_copy_to(const struct vq_chain *c, size_t off, const void *src, size_t len);
size_t vq_copy_from(const struct vq_chain *c, size_t off, void *dst, size_t len);

#endif
