/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A ring of fixed-size entries between exactly one producer thread and one
 * consumer thread (xvnet-vhost's dispatcher and a queue pair's worker).
 * The producer owns prod, the consumer cons; each reads the other's index
 * with acquire and publishes its own with release, so an entry is whole
 * before it is seen and free before it is overwritten.  No locks, no
 * syscalls: waking a sleeping peer is the caller's business.
 */
#ifndef XVNET_VHOST_SPSC_H
#define XVNET_VHOST_SPSC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/types.h>

/* A frame handed from the dispatcher to a worker and back. */
struct spsc_ent {
	__u64 addr;             /* UMEM frame (for the fill ring) */
	__u32 off, len;         /* the frame's bytes: umem + off, len; len 0: bad */
	__u8 sock;              /* the socket whose fill ring it returns to */
};

#define SPSC_SIZE 1024          /* entries; a power of two */

struct spsc {
	/* apart: the two threads write different cache lines */
	_Alignas(64) uint32_t prod;
	_Alignas(64) uint32_t cons;
	_Alignas(64) struct spsc_ent e[SPSC_SIZE];
};

static inline void spsc_init(struct spsc *r)
{
	r->prod = r->cons = 0;
}

/* Producer: free entries. */
static inline uint32_t spsc_room(const struct spsc *r)
{
	return SPSC_SIZE - (r->prod - __atomic_load_n(&r->cons, __ATOMIC_ACQUIRE));
}

/* Producer: the entry to fill next (spsc_room() must be > k). */
static inline struct spsc_ent *spsc_slot(struct spsc *r, uint32_t k)
{
	return &r->e[(r->prod + k) & (SPSC_SIZE - 1)];
}

/* Producer: publish the n entries filled through spsc_slot. */
static inline void spsc_publish(struct spsc *r, uint32_t n)
{
	__atomic_store_n(&r->prod, r->prod + n, __ATOMIC_RELEASE);
}

/* Consumer: entries waiting. */
static inline uint32_t spsc_count(const struct spsc *r)
{
	return __atomic_load_n(&r->prod, __ATOMIC_ACQUIRE) - r->cons;
}

/* Consumer: the k-th waiting entry (spsc_count() must be > k). */
static inline const struct spsc_ent *spsc_peek(const struct spsc *r, uint32_t k)
{
	return &r->e[(r->cons + k) & (SPSC_SIZE - 1)];
}

/* Consumer: the first n entries are done with. */
static inline void spsc_consume(struct spsc *r, uint32_t n)
{
	__atomic_store_n(&r->cons, r->cons + n, __ATOMIC_RELEASE);
}

#endif
