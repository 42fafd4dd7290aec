/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Notification coalescing for one virtual queue of an xsk VM's consumer:
 * when to signal the guest ("virtual interrupt") for the frames taken off
 * the RX rings.  Pure logic on explicit timestamps, so that it is unit
 * tested without a clock; the consumer (tools/xvnet-xskdump.c) feeds it.
 *
 * Policy (struct xvnet_coal_page fields, like ethtool -C):
 *   rx_frames 0, rx_usecs 0   off: notify once per batch taken off the ring
 *   rx_usecs U, rx_frames F   notify when the oldest pending frame has
 *                             waited U us, or when F are pending (0: no
 *                             count bound); F needs U
 *   adaptive                  F and U are the ceilings; the batch in force
 *                             follows the measured rate: at a rate where
 *                             fewer than 2 frames arrive within U, every
 *                             batch is notified at once (no added delay).
 */
#ifndef XVNET_LIB_COALESCE_H
#define XVNET_LIB_COALESCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xv_coal_policy {
	uint32_t rx_frames, rx_usecs;
	bool adaptive;
};

struct xv_coal {
	uint32_t pending;           /* frames taken, not yet notified */
	uint64_t first_ns;          /* when the oldest pending frame was taken */
	/* rate estimate: frames over a window of XV_COAL_WINDOW_NS */
	uint64_t win_start_ns, win_frames, rate_pps;
	uint32_t eff_frames, eff_usecs; /* batch and delay bound in force */
};

#define XV_COAL_WINDOW_NS 1000000ull  /* rate measured per millisecond */

/* Refuse what cannot be a policy; writes why to err. */
int xv_coal_check(const struct xv_coal_policy *p, char *err, size_t errlen);
void xv_coal_init(struct xv_coal *c, const struct xv_coal_policy *p, uint64_t now);
/* n frames were taken off the ring at now; true: notify now. */
bool xv_coal_add(struct xv_coal *c, const struct xv_coal_policy *p, uint32_t n,
		 uint64_t now);
/* End of a batch: true if the pending frames must be notified now (off,
 * adaptive at low rate, or their delay bound has passed). */
bool xv_coal_due(const struct xv_coal *c, uint64_t now);
/* Absolute time by which pending frames must be notified (0: none). */
uint64_t xv_coal_deadline(const struct xv_coal *c);
/* The consumer notified: pending frames are accounted. */
void xv_coal_notified(struct xv_coal *c);

struct xvnet_coal_page;
/* Read the page's policy into *p when xvnetd changed it since *gen (which
 * is updated); true when it did.  Start with *gen = ~0u. */
bool xv_coal_page_policy(const struct xvnet_coal_page *pg, uint32_t *gen,
			 struct xv_coal_policy *p);
/* A new policy for a queue: what is pending stays pending. */
void xv_coal_repolicy(struct xv_coal *c, const struct xv_coal_policy *p, uint64_t now);

#endif
