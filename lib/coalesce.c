// SPDX-License-Identifier: GPL-2.0-only
/* Notification coalescing for an xsk consumer: see lib/coalesce.h. */
#include <stddef.h>
#include <stdio.h>

#include "lib/coalesce.h"
#include "maps/xvnet_maps.h"

int xv_coal_check(const struct xv_coal_policy *p, char *err, size_t errlen)
{
	if (p->rx_frames > XVNET_COAL_FRAMES_MAX) {
		snprintf(err, errlen, "rx-frames: '%u' is above %u", p->rx_frames,
			 XVNET_COAL_FRAMES_MAX);
		return -1;
	}
	if (p->rx_usecs > XVNET_COAL_USECS_MAX) {
		snprintf(err, errlen, "rx-usecs: '%u' is above %u", p->rx_usecs,
			 XVNET_COAL_USECS_MAX);
		return -1;
	}
	if (p->rx_frames && !p->rx_usecs) {
		snprintf(err, errlen, "rx-frames: needs rx-usecs (the longest a"
			 " frame may wait for the batch to fill)");
		return -1;
	}
	if (p->adaptive && !p->rx_usecs) {
		snprintf(err, errlen, "adaptive: needs rx-usecs (the longest a"
			 " frame may wait at high rate)");
		return -1;
	}
	return 0;
}

/* The batch and delay bound for the measured rate. */
static void adapt(struct xv_coal *c, const struct xv_coal_policy *p)
{
	uint64_t expect;

	if (!p->adaptive) {
		c->eff_frames = p->rx_frames;
		c->eff_usecs = p->rx_usecs;
		return;
	}
	/* frames expected within the delay bound at the current rate */
	expect = c->rate_pps * p->rx_usecs / 1000000;
	if (expect < 2) {
		c->eff_frames = 0;      /* low rate: every batch at once */
		c->eff_usecs = 0;
		return;
	}
	c->eff_frames = p->rx_frames && expect > p->rx_frames ? p->rx_frames
							       : (uint32_t)expect;
	c->eff_usecs = p->rx_usecs;
}

void xv_coal_init(struct xv_coal *c, const struct xv_coal_policy *p, uint64_t now)
{
	*c = (struct xv_coal){ .win_start_ns = now };
	adapt(c, p);
}

static void measure(struct xv_coal *c, const struct xv_coal_policy *p,
		    uint32_t n, uint64_t now)
{
	uint64_t span = now - c->win_start_ns;

	c->win_frames += n;
	if (span < XV_COAL_WINDOW_NS)
		return;
	/* a quiet gap longer than a window counts as the rate it was */
	c->rate_pps = c->win_frames * 1000000000ull / span;
	c->win_frames = 0;
	c->win_start_ns = now;
	adapt(c, p);
}

bool xv_coal_add(struct xv_coal *c, const struct xv_coal_policy *p, uint32_t n,
		 uint64_t now)
{
	if (!n)
		return false;
	measure(c, p, n, now);
	if (!c->pending)
		c->first_ns = now;
	c->pending += n;
	return c->eff_frames && c->pending >= c->eff_frames;
}

bool xv_coal_due(const struct xv_coal *c, uint64_t now)
{
	if (!c->pending)
		return false;
	if (!c->eff_usecs)
		return true;    /* no delay bound: each batch at once */
	return now - c->first_ns >= (uint64_t)c->eff_usecs * 1000;
}

uint64_t xv_coal_deadline(const struct xv_coal *c)
{
	if (!c->pending || !c->eff_usecs)
		return 0;
	return c->first_ns + (uint64_t)c->eff_usecs * 1000;
}

void xv_coal_notified(struct xv_coal *c)
{
	c->pending = 0;
}

bool xv_coal_page_policy(const struct xvnet_coal_page *pg, uint32_t *gen,
			 struct xv_coal_policy *p)
{
	uint32_t g = __atomic_load_n(&pg->gen, __ATOMIC_ACQUIRE);

	if (g == *gen)
		return false;
	*gen = g;
	*p = (struct xv_coal_policy){ .rx_frames = pg->rx_frames, .rx_usecs = pg->rx_usecs,
				      .adaptive = pg->adaptive != 0 };
	return true;
}

void xv_coal_repolicy(struct xv_coal *c, const struct xv_coal_policy *p, uint64_t now)
{
	uint32_t pending = c->pending;
	uint64_t first = c->first_ns;

	xv_coal_init(c, p, now);
	c->pending = pending;
	c->first_ns = first;
}
