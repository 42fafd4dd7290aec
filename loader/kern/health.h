/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Samples of the datapath's error counters, so that status can say which
 * grew in the last S to 2*S seconds, S set by xvnetd --health-window
 * (their totals alone say nothing: they only ever grow).  The samples live
 * in struct xvd (hs[]); status's view of them is loader/api/daemon.c.
 */
#ifndef XVNET_LOADER_KERN_HEALTH_H
#define XVNET_LOADER_KERN_HEALTH_H

#include "loader/kern/xvd.h"

/* The counters sampled (indices into XVNET_COUNTERS, maps/xvnet_maps.h). */
extern const __u32 health_err_idx[XV_HEALTH_ERRS];

/* The counters now, summed over the CPUs. */
void health_sample(struct xvd *d, struct xvd_err_sample *s);
/* Every d->health_every_s (--health-window): a new sample, the last one
 * kept as the older. */
void health_tick(struct xvd *d);

#endif
