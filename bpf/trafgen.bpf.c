// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trafgen: the benchmark's traffic source.  Run by tools/xvnet-trafgen with
 * BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES, it stamps each copy of a
 * template UDP/IPv4 frame with a destination MAC and a flow (source port,
 * then source address) and transmits it out of the wire veth (XDP_TX).
 * Live frames are recycled without their data being reset, and a receiver
 * that rewrites a frame in place (nic_rx popping a VLAN tag) hands the page
 * back changed: so the whole header is restored from the template on every
 * packet, then stamped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tools/trafgen_flow.h"

const volatile __u32 n_macs = 1;      /* dst MAC = base + (i % n_macs) */
const volatile __u32 n_flows = 1;     /* flow = (i / n_macs) % n_flows */
const volatile __u32 l3_off = 14;     /* 18 with a VLAN tag */
const volatile __u16 sport_base = 1024;
const volatile __u8 mac_base[ETH_ALEN] = {};
const volatile __be32 saddr_base = 0;

#define TMPL_LEN 48                   /* Ethernet + VLAN + IPv4 + UDP + 2 */
__u8 tmpl[TMPL_LEN];                  /* set by xvnet-trafgen before load */
__u64 seq;                            /* single generator thread */

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

SEC("xdp")
int trafgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	__u64 i = seq++;
	__u32 mac_idx = i % n_macs;
	__u32 flow = (i / n_macs) % n_flows;
	__u32 mac_lo, sum = 0;
	__u16 *w;
	int k;

	if (l3_off > 18 || data + TMPL_LEN > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, tmpl, TMPL_LEN);
	ip = data + l3_off;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return XDP_ABORTED;

	/* MAC: the base with mac_idx added to its last two bytes.  Byte by byte:
	 * a memcpy would drop the volatile and fold the .rodata default (0). */
	for (k = 0; k < 4; k++)
		eth->h_dest[k] = mac_base[k];
	mac_lo = ((__u32)mac_base[4] << 8 | mac_base[5]) + mac_idx;
	eth->h_dest[4] = mac_lo >> 8;
	eth->h_dest[5] = mac_lo;

	udp->source = bpf_htons(TRAFGEN_FLOW_SPORT(sport_base, flow));
	udp->check = 0;
	ip->saddr = bpf_htonl(bpf_ntohl(saddr_base) + TRAFGEN_FLOW_SADDR_ADD(flow));
	ip->check = 0;
	w = (__u16 *)ip;
	for (k = 0; k < 10; k++)
		sum += w[k];
	ip->check = csum_fold(sum);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
