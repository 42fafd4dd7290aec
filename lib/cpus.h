/* SPDX-License-Identifier: GPL-2.0-only */
/* The host's CPUs, without libbpf (the config parser checks queue-cpus). */
#ifndef XVNET_LIB_CPUS_H
#define XVNET_LIB_CPUS_H

/* Possible CPUs (the highest in /sys/devices/system/cpu/possible, plus
 * one: what per-CPU maps are sized by); sysconf's count if unreadable. */
int xv_possible_cpus(void);

#endif
