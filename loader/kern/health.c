// SPDX-License-Identifier: GPL-2.0-only
/* Samples of the datapath's error counters (loader/kern/health.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "loader/kern/health.h"

const __u32 health_err_idx[XV_HEALTH_ERRS] = {
	XVNET_CNT_FLOOD_ERR, XVNET_CNT_QUEUE_NOT_READY, XVNET_CNT_META_FAIL,
	XVNET_CNT_VLAN_POP_FAIL, XVNET_CNT_VLAN_PUSH_FAIL,
	XVNET_CNT_TX_UPLINK_DOWN, XVNET_CNT_SKB_PATH_DROP,
	XVNET_CNT_CPU_SPREAD_DROP, XVNET_CNT_SLOW_PATH_FULL,
};

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void health_sample(struct xvd *d, struct xvd_err_sample *s)
{
	__u64 *pc = calloc((size_t)d->ncpus, sizeof(*pc));

	memset(s, 0, sizeof(*s));
	s->t = mono_s();
	for (int i = 0; pc && i < XV_HEALTH_ERRS; i++) {
		__u32 k = health_err_idx[i];

		if (!bpf_map_lookup_elem(d->m.stats, &k, pc))
			for (int c = 0; c < d->ncpus; c++)
				s->v[i] += pc[c];
	}
	s->set = pc != NULL;
	free(pc);
}

void health_tick(struct xvd *d)
{
	if (d->hs[1].set && mono_s() - d->hs[1].t < d->health_every_s)
		return;
	d->hs[0] = d->hs[1];
	health_sample(d, &d->hs[1]);
}
