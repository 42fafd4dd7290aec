/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsing of the values xvnet users type: MAC, VLAN, IP, protocol, port,
 * queue, names.  Shared by xvnetctl (local syntax checks), the daemon's
 * request validation and the config file parser, so a value means the same
 * thing everywhere.  Every parser returns 0 or -1 and, on error, writes
 * "FIELD: 'VALUE' reason" into err.
 */
#ifndef XVNET_LIB_PARSE_H
#define XVNET_LIB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XV_ERR_LEN 256
#define XV_NAME_MAX 31          /* VM names: [A-Za-z0-9_.-]{1,31} */
#define XV_IFNAME_MAX 15        /* IFNAMSIZ - 1 */

/* A hex digit's value, -1 if c is not one. */
int xv_hexval(int c);

int xv_parse_mac(const char *field, const char *s, uint8_t mac[6],
		 char *err, size_t errlen);
int xv_parse_vlan(const char *field, const char *s, uint16_t *vlan,
		  char *err, size_t errlen);
/* Decimal unsigned integer in [min, max]. */
int xv_parse_uint(const char *field, const char *s, unsigned long min,
		  unsigned long max, unsigned long *out, char *err, size_t errlen);
/*
 * "0,2-3": numbers and ranges A-B (A <= B <= max), expanded in order into
 * out[0..*n), at most cap of them.  what names one item in messages
 * ("queue": "... is not a queue list", "... queues are 0-15").
 */
int xv_parse_num_list(const char *field, const char *s, unsigned long max,
		      const char *what, uint8_t *out, size_t cap, size_t *n,
		      char *err, size_t errlen);
/* IPv4 (stored IPv4-mapped ::ffff:a.b.c.d) or IPv6; *is_v4 tells which. */
int xv_parse_ip(const char *field, const char *s, uint8_t addr[16], bool *is_v4,
		char *err, size_t errlen);
/* tcp|udp|icmp|icmpv6 or a number 0-255. */
int xv_parse_proto(const char *field, const char *s, uint8_t *proto,
		   char *err, size_t errlen);
/* Queue number below XVNET_MAX_QUEUES, or "rss" (XVNET_QUEUE_RSS). */
int xv_parse_queue(const char *field, const char *s, uint16_t *queue,
		   char *err, size_t errlen);
int xv_parse_name(const char *field, const char *s, char *out, size_t outlen,
		  char *err, size_t errlen);
/* An interface name the config file can carry; never "lo". */
int xv_parse_ifname(const char *field, const char *s, char *out,
		    char *err, size_t errlen);
/* s can be one token of the config/state file: no '#', whitespace or
 * control character.  Every free-text value passes this before it is kept. */
bool xv_config_token_ok(const char *s);

/* Formatting helpers (buffers of at least 18 / 46 / 8 bytes). */
void xv_fmt_mac(const uint8_t mac[6], char *buf);
void xv_fmt_ip(const uint8_t addr[16], char *buf, size_t len);
const char *xv_proto_name(uint8_t proto, char *buf);
bool xv_ip_is_v4mapped(const uint8_t addr[16]);

#endif
