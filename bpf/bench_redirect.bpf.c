// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_redirect: the benchmark's reference programs, the least an XDP
 * program must do to put a NIC frame into a VM's port.  Every xvnet row of
 * `make bench` is measured against one of these on the same NIC, the same
 * port and the same consumer, so the ratio is xvnet's own cost
 * (docs/PERFORMANCE.md):
 *
 *   triv_devmap  redirect through a DEVMAP keyed by the low 16 bits of the
 *                destination MAC (one port, or a fan-out to 1024 ports with
 *                the bench's MACs 02:00:00:01:HH:LL); frames too short for
 *                a MAC are dropped
 *   triv_xsk     redirect into an XSKMAP at slot xsk_base + rx queue (the
 *                layout of xvnet_xsks: xvnetd's own sockets, reused by fd)
 *   triv_pass    XDP_PASS: hands the frame to the stack (the bridge rows,
 *                when a program must stay attached)
 *   triv_memread triv_devmap plus one read of a 128-byte entry of
 *                triv_table (sized by the loader, a power of two), picked by
 *                a hash of the frame's source address and UDP port: with
 *                the traffic spread over as many flows as the table has
 *                entries, one cache and TLB miss per frame, the least any
 *                flow lookup in a table of that size costs (a floor, not a
 *                reference: docs/PERFORMANCE.md)
 *
 * No counters: the consumer counts, as it does for xvnet.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps/xvnet_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} triv_ports SEC(".maps");

/* sized as xvnet_xsks (XVNET_XSKS_MAX) so that map can be reused by fd */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XVNET_XSKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} triv_xsks SEC(".maps");

const volatile __u32 xsk_base = 0;

struct triv_line {
	__u64 w[16];                /* 128 bytes, as an LRU element of xvnet_flows */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);     /* set by the loader */
	__type(key, __u32);
	__type(value, struct triv_line);
} triv_table SEC(".maps");

/* 32 - log2(triv_table's entries): the hash's top bits pick the entry */
const volatile __u32 table_shift = 31;

SEC("xdp")
int triv_devmap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	return bpf_redirect_map(&triv_ports, ((__u32)eth->h_dest[4] << 8) | eth->h_dest[5], XDP_DROP);
}

SEC("xdp")
int triv_memread(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if ((void *)(udp + 1) <= data_end) {
		__u32 idx = ((bpf_ntohl(ip->saddr) << 16) ^ bpf_ntohs(udp->source)) * 2654435761u;
		struct triv_line *l;

		idx >>= table_shift;
		l = bpf_map_lookup_elem(&triv_table, &idx);
		/* the verdict depends on the read: it cannot be left out */
		if (!l || l->w[0] == 0x5856)
			return XDP_PASS;
	}
	return bpf_redirect_map(&triv_ports, ((__u32)eth->h_dest[4] << 8) | eth->h_dest[5], XDP_DROP);
}

SEC("xdp")
int triv_xsk(struct xdp_md *ctx)
{
	return bpf_redirect_map(&triv_xsks, xsk_base + ctx->rx_queue_index, XDP_DROP);
}

SEC("xdp")
int triv_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
