// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_drop: count and XDP_DROP.  The benchmark's ceiling (on the NIC)
 * and its stand-in VM consumer (on the far end of a VM's veth), so every
 * compared path ends in the same cheapest possible sink.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf/sinkflow.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_packets SEC(".maps");

SEC("xdp")
int bench_drop(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sink_packets, &zero);

	(void)ctx;
	if (n)
		*n += 1;
	return XDP_DROP;
}

/*
 * queue_flows (xvnet-xdpsink --flows): count per (RX queue, flow), then
 * drop.  The queue is the one the frame arrived on (rx_queue_index: on a
 * veth the peer's RX queue its transmit picked).  IPv4/IPv6 with TCP/UDP
 * ports, up to two VLAN tags; IPv6 extension headers are not walked.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SINK_FLOWS_MAX);
	__type(key, struct sink_flow_key);
	__type(value, __u64);
} sink_flows SEC(".maps");

SEC("xdp")
int queue_flows(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sink_flow_key k = { .queue = ctx->rx_queue_index };
	struct ethhdr *eth = data;
	void *l3 = eth + 1, *l4 = NULL;
	__u32 zero = 0;
	__u16 proto;
	__u64 one = 1, *n;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = eth->h_proto;
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (l3 + 4 > data_end)
			return XDP_DROP;
		proto = *(__u16 *)(l3 + 2);
		l3 += 4;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > data_end)
			goto count;
		k.proto = ip->protocol;
		k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
		__builtin_memcpy(k.src + 12, &ip->saddr, 4);
		__builtin_memcpy(k.dst + 12, &ip->daddr, 4);
		l4 = l3 + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > data_end)
			goto count;
		k.proto = ip6->nexthdr;
		__builtin_memcpy(k.src, &ip6->saddr, 16);
		__builtin_memcpy(k.dst, &ip6->daddr, 16);
		l4 = ip6 + 1;
	}
	if (l4 && (k.proto == IPPROTO_UDP || k.proto == IPPROTO_TCP) && l4 + 4 <= data_end) {
		__builtin_memcpy(&k.sport, l4, 2);
		__builtin_memcpy(&k.dport, l4 + 2, 2);
	}
count:
	n = bpf_map_lookup_elem(&sink_packets, &zero);
	if (n)
		*n += 1;
	n = bpf_map_lookup_elem(&sink_flows, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&sink_flows, &k, &one, BPF_NOEXIST);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
