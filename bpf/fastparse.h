/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The fast path's frame check and flow key (bpf/fastpath.h): whether a
 * frame is the common one (untagged; IPv4 with a 20-byte header and no
 * fragment bits, or IPv6 with no extension header; TCP or UDP; well formed
 * by exactly parse_frame's checks), and the flow key parse_frame would
 * make of it.  No maps: user space builds it too, and fuzz_fastparse holds
 * it to parse_frame on any bytes.
 */
#ifndef XVNET_BPF_FASTPARSE_H
#define XVNET_BPF_FASTPARSE_H

#include "bpf/parse.h"

/* A common frame's L3 and L4, as fast_shape found them. */
struct fast_frame {
	void *l3;
	void *l4;
	__u8 ipv6;
	__u8 proto;
};

/* TCP or UDP at l4 with avail bytes of datagram left, as parse_l4 checks them. */
static __always_inline int fast_l4_ok(void *l4, void *data_end, __u32 avail, __u8 proto)
{
	if (proto == IPPROTO_UDP)
		return l4 + sizeof(struct udphdr) <= data_end && avail >= sizeof(struct udphdr);
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		__u32 doff;

		if ((void *)(th + 1) > data_end)
			return 0;
		doff = th->doff * 4;
		return doff >= sizeof(*th) && doff <= avail && l4 + doff <= data_end;
	}
	return 0;
}

/* 1: the frame is a common one, well formed by parse_frame's checks. */
static __always_inline int fast_shape(void *data, void *data_end, struct fast_frame *ff)
{
	struct ethhdr *eth = data;
	void *l3 = eth + 1;

	if (l3 > data_end)
		return 0;
	ff->l3 = l3;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		__u32 tot;

		if ((void *)(ip + 1) > data_end)
			return 0;
		/* version 4 and a 20-byte header, in one byte */
		if (*(__u8 *)ip != 0x45 ||
		    (ip->frag_off & bpf_htons(XVNET_IP_MF | XVNET_IP_OFFSET)))
			return 0;
		tot = wire_len16(ip->tot_len);
		if (tot < sizeof(*ip) || l3 + tot > data_end)
			return 0;
		ff->l4 = ip + 1;
		ff->ipv6 = 0;
		ff->proto = ip->protocol;
		return fast_l4_ok(ff->l4, data_end, tot - sizeof(*ip), ff->proto);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		__u32 plen;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return 0;
		plen = wire_len16(ip6->payload_len);
		if ((void *)(ip6 + 1) + plen > data_end)
			return 0;
		ff->l4 = ip6 + 1;
		ff->ipv6 = 1;
		ff->proto = ip6->nexthdr;
		return fast_l4_ok(ff->l4, data_end, plen, ff->proto);
	}
	return 0;
}

/* Bytes 8-15 of an IPv4-mapped address (::ffff:a.b.c.d) as one word. */
static __always_inline __u64 fast_v4_mapped_hi(__be32 addr)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return 0xffff0000ull | (__u64)addr << 32;
#else
	return 0xffff00000000ull | addr;
#endif
}

/* Bytes 32-39 of the flow key: the ports as on the wire, VLAN 0, proto, dir 0. */
static __always_inline __u64 fast_key_tail(__u32 ports, __u8 proto)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return ports | (__u64)proto << 48;
#else
	return (__u64)ports << 32 | (__u64)proto << 8;
#endif
}

/*
 * What parse_frame makes of a common frame: the flow key (IPv4 mapped into
 * IPv6, ports, VLAN 0, direction in) stored in whole words, so that the
 * hash's and the key compare's loads are forwarded from the stores.
 */
static __always_inline void fast_pkt(const struct fast_frame *ff, void *data_end,
				     struct xvnet_pkt *p)
{
	__u64 *k = (__u64 *)&p->key;

	_Static_assert(sizeof(p->key) == 5 * sizeof(__u64), "flow key is five words");
	if (ff->ipv6) {
		struct ipv6hdr *ip6 = ff->l3;

		if ((void *)(ip6 + 1) > data_end)   /* checked; for the verifier */
			return;
		k[0] = *(__u64 *)&ip6->saddr;
		k[1] = *((__u64 *)&ip6->saddr + 1);
		k[2] = *(__u64 *)&ip6->daddr;
		k[3] = *((__u64 *)&ip6->daddr + 1);
		p->ip_version = 6;
		p->l4_rel = sizeof(*ip6);
	} else {
		struct iphdr *ip = ff->l3;

		if ((void *)(ip + 1) > data_end)
			return;
		k[0] = 0;
		k[1] = fast_v4_mapped_hi(ip->saddr);
		k[2] = 0;
		k[3] = fast_v4_mapped_hi(ip->daddr);
		p->ip_version = 4;
		p->l4_rel = sizeof(*ip);
	}
	if (ff->l4 + 4 > data_end)
		return;
	/* sport, dport as on the wire; VLAN 0; proto; XVNET_DIR_IN (0) */
	k[4] = fast_key_tail(*(__u32 *)ff->l4, ff->proto);
	p->has_ports = 1;
}

/*
 * The flow key of fast_pkt alone, for the flow cache's lookup: an IPv4
 * frame's 16-byte key (xvnet_flow_key_to4 of fast_pkt's) straight from the
 * frame, the IPv4 header's adjacent saddr and daddr in one load; an IPv6
 * frame's 40-byte key.  1, or 0 where the frame is not one fast_shape took.
 */
static __always_inline int fast_key4(const struct fast_frame *ff, void *data_end,
				     struct xvnet_flow4_key *k4)
{
	struct iphdr *ip = ff->l3;
	__u64 *k = (__u64 *)k4;

	_Static_assert(sizeof(*k4) == 2 * sizeof(__u64), "IPv4 flow key is two words");
	if (ff->ipv6 || (void *)(ip + 1) > data_end || ff->l4 + 4 > data_end)
		return 0;
	k[0] = *(__u64 *)&ip->saddr;        /* src, dst */
	k[1] = fast_key_tail(*(__u32 *)ff->l4, ff->proto);
	return 1;
}

static __always_inline int fast_key6(const struct fast_frame *ff, void *data_end,
				     struct xvnet_flow_key *key)
{
	struct ipv6hdr *ip6 = ff->l3;
	__u64 *k = (__u64 *)key;

	if (!ff->ipv6 || (void *)(ip6 + 1) > data_end || ff->l4 + 4 > data_end)
		return 0;
	k[0] = *(__u64 *)&ip6->saddr;
	k[1] = *((__u64 *)&ip6->saddr + 1);
	k[2] = *(__u64 *)&ip6->daddr;
	k[3] = *((__u64 *)&ip6->daddr + 1);
	k[4] = fast_key_tail(*(__u32 *)ff->l4, ff->proto);
	return 1;
}

#endif
