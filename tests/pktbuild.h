/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small packet builder for the nic_rx unit tests: describe a frame in a
 * struct pb_spec (Ethernet, 0..3 VLAN tags, IPv4 with options and fragment
 * bits or IPv6 with an extension-header chain, TCP/UDP/ICMP/ICMPv6, or ARP,
 * then payload) and pb_build() writes it with correct lengths and checksums.
 * Tests corrupt fields afterwards through the offsets in struct pb_layout.
 */
#ifndef XVNET_TESTS_PKTBUILD_H
#define XVNET_TESTS_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#define PB_MAX_FRAME   2048
#define PB_MAX_TAGS    3
#define PB_MAX_EXT     16

#define PB_TPID_8021Q  0x8100
#define PB_TPID_8021AD 0x88a8

enum pb_l3 {
	PB_L3_NONE = 0,  /* just Ethernet (+ tags) with spec->ethertype, then payload */
	PB_L3_IPV4,
	PB_L3_IPV6,
	PB_L3_ARP,
};

enum pb_l4 {
	PB_L4_NONE = 0,  /* no L4 header; proto_raw (if set) goes in the IP header */
	PB_L4_TCP,
	PB_L4_UDP,
	PB_L4_ICMP,      /* ICMP for IPv4, ICMPv6 for IPv6 */
};

/* One IPv6 extension header.  hdrlen is the header's own length field
 * (units of 8 bytes after the first 8, or for AH 4 bytes minus 2); 0 is a
 * valid minimal header except for AH, where 0 means "use 4" (24 bytes). */
struct pb_ext {
	uint8_t  type;        /* 0, 43, 60, 51 (AH) or 44 (fragment) */
	uint8_t  hdrlen;
	uint16_t frag;        /* fragment header: offset (8-byte units) << 3 | M */
};

struct pb_spec {
	uint8_t  dst[6], src[6];
	int      n_tags;                  /* 0..PB_MAX_TAGS */
	uint16_t tpid[PB_MAX_TAGS];       /* 0 = 0x8100 */
	uint16_t tci[PB_MAX_TAGS];        /* PCP/DEI/VID as on the wire */
	uint16_t ethertype;               /* only for PB_L3_NONE */

	enum pb_l3 l3;
	/* IPv4 */
	uint8_t  v4_src[4], v4_dst[4];
	uint8_t  ip_opt_len;              /* bytes of options (multiple of 4, <= 40) */
	uint16_t ip_frag;                 /* host order: 0x2000 MF | offset (8-byte units) */
	/* IPv6 */
	uint8_t  v6_src[16], v6_dst[16];
	int      n_ext;
	struct pb_ext ext[PB_MAX_EXT];

	enum pb_l4 l4;
	uint8_t  proto_raw;               /* protocol when l4 == PB_L4_NONE (e.g. 47 GRE) */
	uint16_t sport, dport;            /* host order */
	uint8_t  tcp_doff;                /* 0 = 5; options padded with NOPs */
	size_t   payload_len;             /* bytes of pattern after the last header */
};

struct pb_layout {
	size_t len;                       /* frame length */
	size_t l3_off, l4_off, payload_off;
	uint8_t proto;                    /* final protocol number in the IP chain */
};

/* Write the frame into buf (cap bytes); returns its length, 0 if it does not fit. */
size_t pb_build(const struct pb_spec *s, uint8_t *buf, size_t cap, struct pb_layout *lay);

/* Recompute the IPv4 header checksum at buf + l3_off (after a test edited it). */
void pb_ipv4_fix_csum(uint8_t *buf, size_t l3_off);

/* A short description of the frame's shape (no addresses or ports), e.g.
 * "q(8100)/v6[0,43,60]/tcp(doff=5)/pl". */
void pb_shape(const struct pb_spec *s, char *out, size_t cap);

/* Convenience: fill addresses from text ("10.0.0.1", "fd00::1", "02:00:..") */
void pb_mac(uint8_t mac[6], const char *text);
void pb_v4(uint8_t addr[4], const char *text);
void pb_v6(uint8_t addr[16], const char *text);

#endif
