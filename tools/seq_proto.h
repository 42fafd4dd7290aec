/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The numbered stream of xvnet-seqgen and xvnet-seqrecv (the vm move test):
 * a 66-byte Ethernet/IPv4/UDP frame whose payload is struct seq_payload.
 * Flow f is UDP source port SEQ_SPORT_BASE + f; seq counts that flow's
 * frames from 0.  Sender and receiver run on one host: host byte order.
 */
#ifndef XVNET_TOOLS_SEQ_PROTO_H
#define XVNET_TOOLS_SEQ_PROTO_H

#include <stdint.h>

#define SEQ_MAGIC       0x78767351u     /* "xvsQ" */
#define SEQ_SPORT_BASE  40000
#define SEQ_DPORT       7000
#define SEQ_MAX_FLOWS   64
#define SEQ_FRAME_LEN   66      /* 14 + 20 + 8 + 24 */

struct seq_payload {
	uint32_t magic;                 /* SEQ_MAGIC, network order */
	uint32_t run;                   /* --run: tells streams apart */
	uint32_t flow;
	uint32_t pad;
	uint64_t seq;
};

#endif
