/* SPDX-License-Identifier: GPL-2.0-only */
/* The host's CPUs, without libbpf (the config parser checks queue-cpus). */
#ifndef XVNET_LIB_CPUS_H
#define XVNET_LIB_CPUS_H

#include <stddef.h>
#include <stdint.h>

/* Possible CPUs (the highest in /sys/devices/system/cpu/possible, plus
 * one: what per-CPU maps are sized by); sysconf's count if unreadable. */
int xv_possible_cpus(void);

/* "0,1" or "0-3" (queue-cpus: one host CPU per queue, in queue order):
 * at most cap CPUs, each one that exists, into out[0..*n).  0, or -1 with
 * the reason in err ("FIELD: ..."). */
int xv_parse_cpu_list(const char *field, const char *s, uint8_t *out, size_t cap,
		      size_t *n, char *err, size_t errlen);

#endif
