/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Send-time stamps in UDP/IPv4 frames, and the latency figures the
 * coalescing consumers report from them (xvnet-xskdump --latency,
 * xvnet-vhostsink --latency; selftests/bench/coalesce.sh reads their
 * "latency_us" line).  The sender (selftests/lib/stamp_send.py) puts
 * "XVTS" and its CLOCK_MONOTONIC time in ns (8 bytes, little endian) at the
 * start of the UDP payload; a reader on the same host takes the same clock.
 */
#ifndef XVNET_LIB_STAMP_H
#define XVNET_LIB_STAMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define XV_STAMP_MAGIC 0x53545658u      /* "XVTS" in memory order */
#define XV_STAMP_LEN   12               /* magic + time */

/* The send time stamped in an Ethernet frame (UDP/IPv4, no VLAN), or 0. */
uint64_t xv_stamp_of(const unsigned char *frame, uint32_t len);

/* Delays in ns, gathered then summed up once at the end. */
struct xv_lat {
	uint64_t *ns;
	size_t n, cap;
};

/* 0, or -1 when out of memory (the sample is lost, the rest kept). */
int xv_lat_add(struct xv_lat *l, uint64_t ns);
/* "latency_us n N p50 X p90 X p99 X max X" (or "latency_us n 0"); sorts. */
void xv_lat_print(struct xv_lat *l, FILE *out);
void xv_lat_free(struct xv_lat *l);

#endif
