/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xvnet-trafgen's second traffic source, for kernels that refuse
 * BPF_PROG_TEST_RUN live frames (locked-down builds): an AF_PACKET socket
 * with PACKET_QDISC_BYPASS, frames stamped in user space exactly as
 * bpf/trafgen.bpf.c stamps them, sent in batches with sendmmsg.
 */
#ifndef XVNET_TOOLS_TRAFGEN_AF_PACKET_H
#define XVNET_TOOLS_TRAFGEN_AF_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* What varies per frame (trafgen.bpf.c's load-time constants). */
struct tg_stamp {
	uint32_t n_macs, n_flows;
	uint32_t l3_off;             /* 14, or 18 with a VLAN tag */
	uint16_t sport_base;
	uint8_t mac_base[6];
	uint32_t saddr_base;         /* network order */
};

/* A socket bound to ifindex; -1 with err set. */
int afp_open(int ifindex, char *err, size_t errlen);
/*
 * Send n frames numbered *seq, *seq + 1, ... built from tmpl (len bytes);
 * advances *seq.  Returns the number sent, -1 with errno on failure.
 */
long afp_send(int fd, const uint8_t *tmpl, size_t len, const struct tg_stamp *st,
	      uint64_t *seq, unsigned long n);

#endif
