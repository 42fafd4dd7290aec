// SPDX-License-Identifier: GPL-2.0-only
/* The guest's TX offloads, done by the back-end: vhost/tx_offload.h. */
#include <endian.h>
#include <string.h>

#include "vhost/tx_offload.h"

#define XV_ETH_IPV4 0x0800
#define XV_ETH_IPV6 0x86dd
#define IPPROTO_TCP_ 6
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The one's-complement sum of n bytes as 16-bit big-endian words. */
static uint64_t sum16(const uint8_t *p, size_t n, uint64_t s)
{
	for (; n > 1; p += 2, n -= 2)
		s += get16(p);
	if (n)
		s += (uint64_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

int txo_csum(uint8_t *f, size_t len, const struct virtio_net_hdr *h)
{
	size_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);
	uint16_t c;

	if (start >= len || off > len - start || len - start - off < 2)
		return -1;
	/* the field holds the pseudo-header's sum: fold it in with the rest */
	c = (uint16_t)~fold(sum16(f + start, len - start, 0));
	/* a UDP checksum of 0 means "none": its other form (RFC 768) */
	if (c == 0 && off == 6)
		c = 0xffff;
	put16(f + start + off, c);
	return 0;
}

int txo_plan(const uint8_t *f, size_t len, const struct virtio_net_hdr *h,
	     size_t cap, struct txo_plan *p, const char **why)
{
	uint8_t gso = h->gso_type;
	size_t l3, l4, doff, data, type;

	memset(p, 0, sizeof(*p));
	p->segs = 1;
	p->len = len;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	if (gso & VIRTIO_NET_HDR_GSO_ECN) {
		*why = "GSO with ECN (HOST_ECN not offered)";
		return -1;
	}
	if (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6) {
		*why = "a GSO type not offered";
		return -1;
	}
	if (len < 14) {
		*why = "GSO frame shorter than Ethernet";
		return -1;
	}
	type = get16(f + 12);
	l3 = 14;
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		type = get16(f + 16);
		l3 = 18;
	}
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4) {
		size_t ihl;

		if (type != XV_ETH_IPV4 || len < l3 + 20 || (f[l3] >> 4) != 4) {
			*why = "TSO4 frame without an IPv4 header";
			return -1;
		}
		ihl = (size_t)(f[l3] & 0xf) * 4;
		if (ihl < 20 || len < l3 + ihl || f[l3 + 9] != IPPROTO_TCP_ ||
		    (get16(f + l3 + 6) & 0x3fff)) {
			*why = "TSO4 frame: not one unfragmented TCP/IPv4 packet";
			return -1;
		}
		l4 = l3 + ihl;
	} else {
		if (type != XV_ETH_IPV6 || len < l3 + 40 || (f[l3] >> 4) != 6 ||
		    f[l3 + 6] != IPPROTO_TCP_) {
			*why = "TSO6 frame: not TCP right after the IPv6 header";
			return -1;
		}
		l4 = l3 + 40;
		p->ipv6 = 1;
	}
	if (len < l4 + 20 || (doff = (size_t)(f[l4 + 12] >> 4) * 4) < 20 ||
	    len < l4 + doff) {
		*why = "TSO frame with a broken TCP header";
		return -1;
	}
	p->mss = le16toh(h->gso_size);
	if (!p->mss || l4 + doff + p->mss > cap) {
		*why = "TSO segment size 0 or over a frame";
		return -1;
	}
	data = len - l4 - doff;
	p->l3 = (uint16_t)l3;
	p->l4 = (uint16_t)l4;
	p->payload = (uint16_t)(l4 + doff);
	p->segs = data ? (uint32_t)((data + p->mss - 1) / p->mss) : 1;
	return 1;
}

size_t txo_segment(const uint8_t *f, const struct txo_plan *p, uint32_t i,
		   uint8_t *out)
{
	size_t off = (size_t)i * p->mss, data = p->len - p->payload;
	size_t n = data - off < p->mss ? data - off : p->mss;
	size_t tcp_len = p->payload - p->l4 + n;
	uint8_t *ip = out + p->l3, *tcp = out + p->l4;
	uint64_t s;

	memcpy(out, f, p->payload);
	memcpy(out + p->payload, f + p->payload + off, n);
	if (p->ipv6) {
		put16(ip + 4, (uint16_t)tcp_len);
		s = sum16(ip + 8, 32, 0);       /* source and destination */
	} else {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;

		put16(ip + 2, (uint16_t)(ihl + tcp_len));
		put16(ip + 4, (uint16_t)(get16(f + p->l3 + 4) + i));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~fold(sum16(ip, ihl, 0)));
		s = sum16(ip + 12, 8, 0);
	}
	s += IPPROTO_TCP_ + tcp_len;
	put32(tcp + 4, get32(f + p->l4 + 4) + (uint32_t)off);
	if (i + 1 < p->segs)
		tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i > 0)
		tcp[13] &= (uint8_t)~TCP_CWR;
	put16(tcp + 16, 0);
	put16(tcp + 16, (uint16_t)~fold(sum16(tcp, tcp_len, s)));
	return p->payload + n;
}
