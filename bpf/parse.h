/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frame parser for nic_rx: Ethernet, two VLAN tags, IPv4 (options), IPv6
 * (bounded extension-header walk), TCP/UDP/ICMP/ICMPv6.  Every access is
 * checked against data_end first; a header that does not fit is malformed.
 * The result is the flow key plus what the steering step needs.
 */
#ifndef XVNET_BPF_PARSE_H
#define XVNET_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "maps/xvnet_maps.h"

/* <linux/in6.h> would clash with <linux/in.h> users in some setups */
#define XVNET_NEXTHDR_HOP      0
#define XVNET_NEXTHDR_ROUTING  43
#define XVNET_NEXTHDR_FRAGMENT 44
#define XVNET_NEXTHDR_AUTH     51
#define XVNET_NEXTHDR_DEST     60
#define XVNET_IPPROTO_ICMPV6   58

#define XVNET_IP_MF     0x2000
#define XVNET_IP_OFFSET 0x1fff

enum parse_result {
	PARSE_OK = 0,
	PARSE_MALFORMED,
};

struct vlan_tag {
	__be16 tci;
	__be16 next_proto;
};

struct ipv6_frag {
	__u8   nexthdr;
	__u8   reserved;
	__be16 frag_off;
	__be32 id;
};

struct xvnet_pkt {
	struct xvnet_flow_key key;  /* valid when ip_version != 0 */
	__u8  ip_version;           /* 4, 6, or 0 for non-IP */
	__u8  has_ports;            /* TCP/UDP header parsed (whole packet or first fragment) */
	__u8  fragment;             /* IPv4 MF/offset, or an IPv6 fragment header (atomic too) */
	__u8  frag_first;           /* offset 0 and more to come: carries the L4 header */
	__u8  frag_later;           /* offset > 0: no L4 header, judged by frag_id */
	__be32 frag_id;             /* IPv4 identification (in the low bits) or IPv6 fragment id */
	__u8  ext_limit;            /* IPv6 extension chain longer than the bound */
	__u8  too_deep;             /* a third VLAN tag */
	__u8  n_tags;
	__be16 outer_tpid;
	__u16 l4_rel;               /* L4 header offset from the IP header */
};

static __always_inline void ipv4_mapped(__u8 *dst16, __be32 addr)
{
	__builtin_memset(dst16, 0, 10);
	dst16[10] = 0xff;
	dst16[11] = 0xff;
	__builtin_memcpy(dst16 + 12, &addr, 4);
}

/*
 * Parse L4 at l4 (bounded by data_end).  avail is how many bytes the IP
 * header says follow (datagram end), so a header that spills into Ethernet
 * padding is malformed too.
 */
static __always_inline int parse_l4(void *l4, void *data_end, __u32 avail,
				    struct xvnet_pkt *p)
{
	__u8 proto = p->key.proto;

	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		__u32 doff;

		if ((void *)(th + 1) > data_end)
			return PARSE_MALFORMED;
		doff = th->doff * 4;
		if (doff < sizeof(*th) || doff > avail || l4 + doff > data_end)
			return PARSE_MALFORMED;
		p->key.sport = th->source;
		p->key.dport = th->dest;
		p->has_ports = 1;
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end || sizeof(*uh) > avail)
			return PARSE_MALFORMED;
		p->key.sport = uh->source;
		p->key.dport = uh->dest;
		p->has_ports = 1;
	} else if (proto == IPPROTO_ICMP || proto == XVNET_IPPROTO_ICMPV6) {
		/* type, code, checksum */
		if (l4 + 4 > data_end || avail < 4)
			return PARSE_MALFORMED;
	}
	return PARSE_OK;
}

/*
 * A 16-bit length from the wire, with a range the verifier knows: the
 * verifiers of Debian's 6.1 and 6.12 lose the range of a byte swap
 * (bpf_ntohs), then refuse "pkt pointer + unbounded register".  The mask is
 * in asm so the compiler cannot drop it as redundant.
 */
static __always_inline __u32 wire_len16(__be16 v)
{
	__u32 n = bpf_ntohs(v);

#ifdef __bpf__          /* user space builds this parser too (lib/spoof.c) */
	asm volatile("%0 &= 0xffff" : "+r"(n));
#endif
	return n;
}

static __always_inline int parse_ipv4(void *l3, void *data_end, struct xvnet_pkt *p)
{
	struct iphdr *ip = l3;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	hlen = ip->ihl * 4;
	tot = wire_len16(ip->tot_len);
	if (tot < hlen || l3 + tot > data_end || l3 + hlen > data_end)
		return PARSE_MALFORMED;

	p->ip_version = 4;
	ipv4_mapped(p->key.src, ip->saddr);
	ipv4_mapped(p->key.dst, ip->daddr);
	p->key.proto = ip->protocol;
	/* A first fragment holds the L4 header and is parsed (and judged by
	 * rules) like a whole packet; one too short for that header is
	 * malformed (RFC 1858's tiny fragments).  Later fragments carry no
	 * ports: the datagram's id is what ties them to their first. */
	if (ip->frag_off & bpf_htons(XVNET_IP_MF | XVNET_IP_OFFSET)) {
		p->fragment = 1;
		p->frag_id = (__be32)ip->id;
		if (ip->frag_off & bpf_htons(XVNET_IP_OFFSET)) {
			p->frag_later = 1;
			return PARSE_OK;
		}
		p->frag_first = 1;
	}
	p->l4_rel = hlen;
	return parse_l4(l3 + hlen, data_end, tot - hlen, p);
}

static __always_inline int parse_ipv6(void *l3, void *data_end, struct xvnet_pkt *p)
{
	struct ipv6hdr *ip6 = l3;
	void *cur = l3 + sizeof(*ip6);
	__u32 plen, used = 0;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	plen = wire_len16(ip6->payload_len);
	if (cur + plen > data_end)
		return PARSE_MALFORMED;

	p->ip_version = 6;
	__builtin_memcpy(p->key.src, &ip6->saddr, 16);
	__builtin_memcpy(p->key.dst, &ip6->daddr, 16);
	nexthdr = ip6->nexthdr;

	for (i = 0; i < XVNET_IPV6_MAX_EXT_HDRS; i++) {
		__u32 len;

		if (nexthdr == XVNET_NEXTHDR_HOP || nexthdr == XVNET_NEXTHDR_ROUTING ||
		    nexthdr == XVNET_NEXTHDR_DEST || nexthdr == XVNET_NEXTHDR_AUTH) {
			__u8 *h = cur;

			/* every one of these is at least 8 bytes long */
			if (cur + 8 > data_end)
				return PARSE_MALFORMED;
			if (nexthdr == XVNET_NEXTHDR_AUTH)
				len = ((__u32)h[1] + 2) * 4;
			else
				len = ((__u32)h[1] + 1) * 8;
			nexthdr = h[0];
		} else if (nexthdr == XVNET_NEXTHDR_FRAGMENT) {
			struct ipv6_frag *fh = cur;

			if ((void *)(fh + 1) > data_end || used + sizeof(*fh) > plen)
				return PARSE_MALFORMED;
			p->fragment = 1;
			p->frag_id = fh->id;
			/* offset 0: the first fragment, or with M=0 an atomic
			 * fragment (RFC 6946, a whole packet): both carry the
			 * L4 header and are parsed on like a whole packet */
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->key.proto = fh->nexthdr;
				p->frag_later = 1;
				return PARSE_OK;
			}
			p->frag_first = !!(fh->frag_off & bpf_htons(1));
			len = sizeof(*fh);
			nexthdr = fh->nexthdr;
		} else {
			break;
		}
		used += len;
		if (used > plen)
			return PARSE_MALFORMED;
		cur += len;
	}
	p->key.proto = nexthdr;
	if (i == XVNET_IPV6_MAX_EXT_HDRS &&
	    (nexthdr == XVNET_NEXTHDR_HOP || nexthdr == XVNET_NEXTHDR_ROUTING ||
	     nexthdr == XVNET_NEXTHDR_DEST || nexthdr == XVNET_NEXTHDR_AUTH ||
	     nexthdr == XVNET_NEXTHDR_FRAGMENT)) {
		p->ext_limit = 1;
		return PARSE_OK;
	}
	p->l4_rel = sizeof(*ip6) + used;
	return parse_l4(cur, data_end, plen - used, p);
}

static __always_inline int is_vlan_tpid(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Fills p (zeroed by the caller); returns enum parse_result. */
static __always_inline int parse_frame(void *data, void *data_end, struct xvnet_pkt *p)
{
	struct ethhdr *eth = data;
	void *cur = eth + 1;
	__be16 proto;
	int i;

	if (cur > data_end)
		return PARSE_MALFORMED;
	proto = eth->h_proto;

	for (i = 0; i < 2; i++) {
		struct vlan_tag *tag = cur;

		if (!is_vlan_tpid(proto))
			break;
		if ((void *)(tag + 1) > data_end)
			return PARSE_MALFORMED;
		if (i == 0) {
			p->key.vlan = bpf_ntohs(tag->tci) & 0x0fff;
			p->outer_tpid = proto;
		}
		proto = tag->next_proto;
		cur = tag + 1;
		p->n_tags++;
	}
	if (is_vlan_tpid(proto)) {
		p->too_deep = 1;
		return PARSE_OK;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(cur, data_end, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(cur, data_end, p);
	return PARSE_OK;
}

#endif
