// SPDX-License-Identifier: GPL-2.0-only
/* The frame builder of tests/pktbuild.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "tests/pktbuild.h"

#define PB_PROTO_HOP   0
#define PB_PROTO_ROUTE 43
#define PB_PROTO_FRAG  44
#define PB_PROTO_AH    51
#define PB_PROTO_DST   60
#define PB_PROTO_ICMP6 58

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* One's-complement sum over len bytes, added to sum (not folded). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void pb_ipv4_fix_csum(uint8_t *buf, size_t l3_off)
{
	uint8_t *ip = buf + l3_off;
	size_t hlen = (ip[0] & 0x0f) * 4;

	if (hlen < 20)
		hlen = 20;
	ip[10] = ip[11] = 0;
	put16(ip + 10, csum_fold(csum_add(0, ip, hlen)));
}

static size_t ext_len(const struct pb_ext *e)
{
	if (e->type == PB_PROTO_FRAG)
		return 8;
	if (e->type == PB_PROTO_AH)
		return ((size_t)(e->hdrlen ? e->hdrlen : 4) + 2) * 4;
	return ((size_t)e->hdrlen + 1) * 8;
}

static uint8_t l4_proto(const struct pb_spec *s)
{
	switch (s->l4) {
	case PB_L4_TCP:  return IPPROTO_TCP;
	case PB_L4_UDP:  return IPPROTO_UDP;
	case PB_L4_ICMP: return s->l3 == PB_L3_IPV6 ? PB_PROTO_ICMP6 : IPPROTO_ICMP;
	default:         return s->proto_raw;
	}
}

static size_t l4_hdr_len(const struct pb_spec *s)
{
	switch (s->l4) {
	case PB_L4_TCP:  return (size_t)(s->tcp_doff ? s->tcp_doff : 5) * 4;
	case PB_L4_UDP:  return 8;
	case PB_L4_ICMP: return 8;   /* type, code, csum, id, seq */
	default:         return 0;
	}
}

/* Write the L4 header + payload at p (len bytes in all); checksum later. */
static void write_l4(const struct pb_spec *s, uint8_t *p, size_t hlen, size_t len)
{
	size_t i;

	for (i = hlen; i < len; i++)
		p[i] = (uint8_t)(0xa0 + (i - hlen));
	switch (s->l4) {
	case PB_L4_TCP:
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, 0x1234); put16(p + 6, 0x5678);   /* seq */
		p[12] = (uint8_t)((s->tcp_doff ? s->tcp_doff : 5) << 4);
		p[13] = 0x18;                                  /* PSH|ACK */
		put16(p + 14, 0xffff);                         /* window */
		for (i = 20; i < hlen; i++)
			p[i] = 1;                              /* NOP options */
		break;
	case PB_L4_UDP:
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, (uint16_t)len);
		break;
	case PB_L4_ICMP:
		p[0] = s->l3 == PB_L3_IPV6 ? 128 : 8;          /* echo request */
		p[1] = 0;
		put16(p + 4, 0x4242);
		put16(p + 6, 1);
		break;
	default:
		break;
	}
}

static void l4_csum(const struct pb_spec *s, uint8_t *p, size_t len, uint32_t pseudo)
{
	size_t off;

	switch (s->l4) {
	case PB_L4_TCP:  off = 16; break;
	case PB_L4_UDP:  off = 6;  break;
	case PB_L4_ICMP: off = 2;  break;
	default: return;
	}
	put16(p + off, 0);
	put16(p + off, csum_fold(csum_add(pseudo, p, len)));
}

static size_t frame_len(const struct pb_spec *s)
{
	size_t n = 14 + 4 * (size_t)s->n_tags, l4len = l4_hdr_len(s) + s->payload_len;
	int i;

	switch (s->l3) {
	case PB_L3_IPV4:
		return n + 20 + s->ip_opt_len + l4len;
	case PB_L3_IPV6:
		n += 40 + l4len;
		for (i = 0; i < s->n_ext; i++)
			n += ext_len(&s->ext[i]);
		return n;
	case PB_L3_ARP:
		return n + 28 + s->payload_len;
	default:
		return n + s->payload_len;
	}
}

size_t pb_build(const struct pb_spec *s, uint8_t *buf, size_t cap, struct pb_layout *lay)
{
	struct pb_layout l = {0};
	size_t off = 12, i, l4hl = l4_hdr_len(s), l4len = l4hl + s->payload_len;
	uint8_t proto = l4_proto(s);

	if (s->n_tags < 0 || s->n_tags > PB_MAX_TAGS || s->n_ext < 0 ||
	    s->n_ext > PB_MAX_EXT || s->ip_opt_len > 40 || s->ip_opt_len % 4)
		return 0;
	if (frame_len(s) > cap)
		return 0;
	memset(buf, 0, frame_len(s));
	memcpy(buf, s->dst, 6);
	memcpy(buf + 6, s->src, 6);
	for (i = 0; i < (size_t)s->n_tags; i++) {
		put16(buf + off, s->tpid[i] ? s->tpid[i] : PB_TPID_8021Q);
		put16(buf + off + 2, s->tci[i]);
		off += 4;
	}

	switch (s->l3) {
	case PB_L3_IPV4: {
		uint8_t *ip;
		size_t hlen = 20 + s->ip_opt_len;
		uint32_t pseudo;

		put16(buf + off, 0x0800);
		off += 2;
		l.l3_off = off;
		ip = buf + off;
		ip[0] = (uint8_t)(0x40 | hlen / 4);
		put16(ip + 2, (uint16_t)(hlen + l4len));
		put16(ip + 4, 0xbeef);                           /* id */
		put16(ip + 6, s->ip_frag);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, s->v4_src, 4);
		memcpy(ip + 16, s->v4_dst, 4);
		for (i = 20; i < hlen; i++)
			ip[i] = 1;                               /* NOP options */
		if (s->ip_opt_len)
			ip[hlen - 1] = 0;                        /* end of options */
		pb_ipv4_fix_csum(buf, off);
		off += hlen;
		l.l4_off = off;
		write_l4(s, buf + off, l4hl, l4len);
		pseudo = csum_add(0, ip + 12, 8) + proto + (uint32_t)l4len;
		if (!(s->ip_frag & 0x3fff))
			l4_csum(s, buf + off, l4len, pseudo);
		off += l4len;
		l.payload_off = off - s->payload_len;
		l.proto = proto;
		break;
	}
	case PB_L3_IPV6: {
		uint8_t *ip;
		size_t ext_total = 0;
		uint32_t pseudo;
		int fragment = 0;

		put16(buf + off, 0x86dd);
		off += 2;
		l.l3_off = off;
		ip = buf + off;
		for (i = 0; i < (size_t)s->n_ext; i++)
			ext_total += ext_len(&s->ext[i]);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(ext_total + l4len));
		ip[6] = s->n_ext ? s->ext[0].type : proto;
		ip[7] = 64;
		memcpy(ip + 8, s->v6_src, 16);
		memcpy(ip + 24, s->v6_dst, 16);
		off += 40;
		for (i = 0; i < (size_t)s->n_ext; i++) {
			const struct pb_ext *e = &s->ext[i];
			uint8_t *h = buf + off;
			size_t n = ext_len(e);

			h[0] = i + 1 < (size_t)s->n_ext ? s->ext[i + 1].type : proto;
			if (e->type == PB_PROTO_FRAG) {
				put16(h + 2, e->frag);
				put16(h + 4, 0xcafe);                /* id */
				put16(h + 6, (uint16_t)i);
				fragment = 1;
			} else if (e->type == PB_PROTO_AH) {
				h[1] = (uint8_t)(n / 4 - 2);
				put16(h + 4, 0x1000);                /* SPI */
			} else {
				h[1] = e->hdrlen;
				if (n > 2) {
					h[2] = 1;                    /* PadN */
					h[3] = (uint8_t)(n - 4);
				}
				if (e->type == PB_PROTO_ROUTE) {
					h[2] = 4;                    /* type 4 (SRH-ish), */
					h[3] = 0;                    /* segments left 0 */
				}
			}
			off += n;
		}
		l.l4_off = off;
		write_l4(s, buf + off, l4hl, l4len);
		pseudo = csum_add(0, ip + 8, 32) + (uint32_t)l4len + proto;
		if (!fragment)
			l4_csum(s, buf + off, l4len, pseudo);
		off += l4len;
		l.payload_off = off - s->payload_len;
		l.proto = proto;
		break;
	}
	case PB_L3_ARP: {
		uint8_t *a;

		put16(buf + off, 0x0806);
		off += 2;
		l.l3_off = off;
		a = buf + off;
		put16(a, 1);                 /* Ethernet */
		put16(a + 2, 0x0800);
		a[4] = 6;
		a[5] = 4;
		put16(a + 6, 1);             /* request */
		memcpy(a + 8, s->src, 6);
		memcpy(a + 14, s->v4_src, 4);
		memcpy(a + 24, s->v4_dst, 4);
		off += 28;
		l.l4_off = l.payload_off = off;
		for (i = 0; i < s->payload_len; i++)
			buf[off++] = (uint8_t)i;
		break;
	}
	default:
		put16(buf + off, s->ethertype);
		off += 2;
		l.l3_off = l.l4_off = l.payload_off = off;
		for (i = 0; i < s->payload_len; i++)
			buf[off++] = (uint8_t)i;
		break;
	}
	l.len = off;
	if (lay)
		*lay = l;
	return off;
}

void pb_shape(const struct pb_spec *s, char *out, size_t cap)
{
	size_t n = 0;
	int i;

#define PB_OUT(...) do { \
		int r_ = snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__); \
		if (r_ > 0) n += (size_t)r_; \
	} while (0)
	out[0] = 0;
	for (i = 0; i < s->n_tags; i++)
		PB_OUT("q(%04x%s%s)/", s->tpid[i] ? s->tpid[i] : PB_TPID_8021Q,
		       s->tci[i] & 0xf000 ? ",pcp" : "", s->tci[i] & 0x0fff ? "" : ",vid0");
	switch (s->l3) {
	case PB_L3_IPV4:
		PB_OUT("v4");
		if (s->ip_opt_len)
			PB_OUT("(opt=%u)", s->ip_opt_len);
		if (s->ip_frag)
			PB_OUT("(%s%s)", s->ip_frag & 0x2000 ? "MF" : "",
			       s->ip_frag & 0x1fff ? "+off" : "");
		break;
	case PB_L3_IPV6:
		PB_OUT("v6");
		if (s->n_ext) {
			PB_OUT("[");
			for (i = 0; i < s->n_ext; i++)
				PB_OUT("%s%u", i ? "," : "", s->ext[i].type);
			PB_OUT("]");
		}
		break;
	case PB_L3_ARP:
		PB_OUT("arp");
		break;
	default:
		PB_OUT("et(%04x)", s->ethertype);
		break;
	}
	if (s->l3 == PB_L3_IPV4 || s->l3 == PB_L3_IPV6) {
		switch (s->l4) {
		case PB_L4_TCP:  PB_OUT("/tcp(doff=%u)", s->tcp_doff ? s->tcp_doff : 5); break;
		case PB_L4_UDP:  PB_OUT("/udp"); break;
		case PB_L4_ICMP: PB_OUT("/icmp"); break;
		default:         PB_OUT("/proto%u", s->proto_raw); break;
		}
	}
	if (s->payload_len)
		PB_OUT("/pl");
#undef PB_OUT
}

void pb_mac(uint8_t mac[6], const char *text)
{
	unsigned int m[6] = {0};
	int i;

	sscanf(text, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
}

void pb_v4(uint8_t addr[4], const char *text)
{
	if (inet_pton(AF_INET, text, addr) != 1)
		memset(addr, 0, 4);
}

void pb_v6(uint8_t addr[16], const char *text)
{
	if (inet_pton(AF_INET6, text, addr) != 1)
		memset(addr, 0, 16);
}
