/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The test consumers' per-flow record (xvnet-xdpsink --flows, the
 * queue_flows program in bench_drop.bpf.c; xvnet-tapread --flows): which
 * flow arrived on which queue of the VM's port, how often.  Not an xvnet
 * map: the selftests check with it that every frame of a flow arrives on
 * the queue the VM's RSS picked.
 */
#ifndef XVNET_BPF_SINKFLOW_H
#define XVNET_BPF_SINKFLOW_H

#include <linux/types.h>

#define SINK_FLOWS_MAX 65536

struct sink_flow_key {
	__u32 queue;            /* RX queue (XDP rx_queue_index) / tap queue */
	__u8  proto;            /* IPPROTO_*, 0 if not IP */
	__u8  pad[3];
	__u8  src[16];          /* IPv4 stored IPv4-mapped */
	__u8  dst[16];
	__be16 sport;           /* 0 unless TCP/UDP */
	__be16 dport;
};

#ifndef __bpf__
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* One line per flow and queue: "queue proto src sport dst dport packets". */
static inline void sink_flow_print(FILE *out, const struct sink_flow_key *k,
				   unsigned long long packets)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int v4 = !memcmp(k->src, v4mapped, 12) && !memcmp(k->dst, v4mapped, 12);

	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? k->src + 12 : k->src, src, sizeof(src));
	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? k->dst + 12 : k->dst, dst, sizeof(dst));
	fprintf(out, "%u %u %s %u %s %u %llu\n", k->queue, k->proto, src,
		ntohs(k->sport), dst, ntohs(k->dport), packets);
}
#endif

#endif
