/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dirty log of a live migration (VHOST_F_LOG_ALL with the protocol
 * feature LOG_SHMFD): a bitmap the front-end shares (SET_LOG_BASE), one
 * bit per 4 KiB page of guest-physical memory.  Every byte the back-end
 * writes into the guest while logging is on (RX buffers, the used rings)
 * sets its page's bit, so the front-end sends that page again; a write it
 * did not log would be lost on the destination.
 */
#ifndef XVNET_VHOST_VU_LOG_H
#define XVNET_VHOST_VU_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VU_LOG_PAGE 4096u

struct vu_log {
	unsigned char *bits;            /* the bitmap (map + offset) */
	uint64_t size;                  /* its bytes */
	void *map;
	size_t map_len;
	bool on;                        /* LOG_ALL negotiated and a bitmap given */
};

/* Map the front-end's bitmap: size bytes at offset in fd (fd is closed).
 * 0 or -errno; on failure the old bitmap stays. */
int vu_log_set(struct vu_log *l, int fd, uint64_t size, uint64_t offset);
void vu_log_clear(struct vu_log *l);

/* Mark len bytes at guest-physical gpa as written. */
static inline void vu_log_write(const struct vu_log *l, uint64_t gpa, uint64_t len)
{
	if (!l || !__atomic_load_n(&l->on, __ATOMIC_RELAXED) || !len)
		return;
	for (uint64_t pg = gpa / VU_LOG_PAGE; pg <= (gpa + len - 1) / VU_LOG_PAGE; pg++)
		if (pg / 8 < l->size)
			/* the front-end clears bits as it sends pages */
			__atomic_fetch_or(&l->bits[pg / 8], (unsigned char)(1u << (pg % 8)),
					  __ATOMIC_RELAXED);
}

#endif
