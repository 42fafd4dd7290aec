/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * How xvnet-trafgen numbers its flows, shared by the generator's BPF program
 * and by xvnet-flowfill, which installs exactly those flows: flow f uses
 * source port base + (f mod 32768) and source address base + (f / 32768).
 */
#ifndef XVNET_TRAFGEN_FLOW_H
#define XVNET_TRAFGEN_FLOW_H

#define TRAFGEN_PORTS_PER_ADDR 0x8000
#define TRAFGEN_FLOW_SPORT(base, f) ((base) + ((f) % TRAFGEN_PORTS_PER_ADDR))
#define TRAFGEN_FLOW_SADDR_ADD(f)   ((f) / TRAFGEN_PORTS_PER_ADDR)

#endif
