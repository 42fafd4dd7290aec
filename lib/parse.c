// SPDX-License-Identifier: GPL-2.0-only
/* Value parsers shared by xvnetd, xvnetctl and the config file. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "lib/parse.h"
#include "maps/xvnet_maps.h"

static int parse_fail(char *err, size_t errlen, const char *field, const char *s,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int parse_fail(char *err, size_t errlen, const char *field, const char *s,
		const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (err)
		snprintf(err, errlen, "%s: '%.64s' %s", field, s ? s : "", why);
	return -1;
}

int xv_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int xv_parse_mac(const char *field, const char *s, uint8_t mac[6],
		 char *err, size_t errlen)
{
	const char *p = s;

	if (!s)
		return parse_fail(err, errlen, field, s, "is not a MAC address");
	for (int i = 0; i < 6; i++) {
		int hi = xv_hexval(p[0]), lo = hi >= 0 ? xv_hexval(p[1]) : -1;

		if (hi < 0 || lo < 0)
			return parse_fail(err, errlen, field, s, "is not a MAC address");
		mac[i] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (i < 5) {
			if (*p != ':' && *p != '-')
				return parse_fail(err, errlen, field, s,
					    "is not a MAC address");
			p++;
		}
	}
	if (*p)
		return parse_fail(err, errlen, field, s, "is not a MAC address");
	if (mac[0] & 1)
		return parse_fail(err, errlen, field, s,
			    "is a multicast/broadcast MAC, a VM needs a unicast one");
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return parse_fail(err, errlen, field, s, "is the all-zero MAC");
	return 0;
}

int xv_parse_num_list(const char *field, const char *s, unsigned long max,
		      const char *what, uint8_t *out, size_t cap, size_t *n,
		      char *err, size_t errlen)
{
	const char *p = s;

	*n = 0;
	if (!s || !*s)
		goto bad;
	while (*p) {
		char *end;
		unsigned long a, b;

		if (!isdigit((unsigned char)*p))
			goto bad;
		a = b = strtoul(p, &end, 10);
		if (*end == '-') {
			p = end + 1;
			if (!isdigit((unsigned char)*p))
				goto bad;
			b = strtoul(p, &end, 10);
		}
		if (a > b || b > max) {
			snprintf(err, errlen, "%s: '%.64s': %ss are 0-%lu", field, s,
				 what, max);
			return -1;
		}
		for (unsigned long v = a; v <= b; v++) {
			if (*n == cap)
				return parse_fail(err, errlen, field, s,
						  "has more than %zu entries", cap);
			out[(*n)++] = (uint8_t)v;
		}
		if (*end == ',')
			end++;
		else if (*end)
			goto bad;
		p = end;
	}
	return 0;
bad:
	return parse_fail(err, errlen, field, s, "is not a %s list (e.g. 0,2-3)", what);
}

int xv_parse_uint(const char *field, const char *s, unsigned long min,
		  unsigned long max, unsigned long *out, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return parse_fail(err, errlen, field, s, "is not a number");
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end)
		return parse_fail(err, errlen, field, s, "is not a number");
	if (errno || v < min || v > max)
		return parse_fail(err, errlen, field, s, "out of range %lu-%lu", min, max);
	*out = v;
	return 0;
}

int xv_parse_vlan(const char *field, const char *s, uint16_t *vlan,
		  char *err, size_t errlen)
{
	unsigned long v;

	if (xv_parse_uint(field, s, 0, XVNET_VLAN_MAX, &v, err, errlen))
		return -1;
	*vlan = (uint16_t)v;
	return 0;
}

bool xv_ip_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, pfx, sizeof(pfx)) == 0;
}

int xv_parse_ip(const char *field, const char *s, uint8_t addr[16], bool *is_v4,
		char *err, size_t errlen)
{
	struct in_addr a4;

	if (s && inet_pton(AF_INET, s, &a4) == 1) {
		memset(addr, 0, 16);
		addr[10] = 0xff;
		addr[11] = 0xff;
		memcpy(addr + 12, &a4, 4);
		*is_v4 = true;
		return 0;
	}
	if (s && inet_pton(AF_INET6, s, addr) == 1) {
		*is_v4 = xv_ip_is_v4mapped(addr);
		return 0;
	}
	return parse_fail(err, errlen, field, s, "is not an IPv4 or IPv6 address");
}

static const struct { const char *name; uint8_t num; } protos[] = {
	{ "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP }, { "icmpv6", IPPROTO_ICMPV6 },
};

int xv_parse_proto(const char *field, const char *s, uint8_t *proto,
		   char *err, size_t errlen)
{
	unsigned long v;

	for (size_t i = 0; s && i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strcmp(s, protos[i].name) == 0) {
			*proto = protos[i].num;
			return 0;
		}
	}
	if (s && isdigit((unsigned char)s[0])) {
		if (xv_parse_uint(field, s, 0, 255, &v, err, errlen))
			return -1;
		*proto = (uint8_t)v;
		return 0;
	}
	return parse_fail(err, errlen, field, s,
		    "is not a protocol (tcp, udp, icmp, icmpv6 or 0-255)");
}

const char *xv_proto_name(uint8_t proto, char *buf)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	snprintf(buf, 8, "%u", proto);
	return buf;
}

int xv_parse_queue(const char *field, const char *s, uint16_t *queue,
		   char *err, size_t errlen)
{
	unsigned long v;

	if (s && strcmp(s, "rss") == 0) {
		*queue = XVNET_QUEUE_RSS;
		return 0;
	}
	if (s && !isdigit((unsigned char)s[0]))
		return parse_fail(err, errlen, field, s, "is not a queue number or 'rss'");
	if (xv_parse_uint(field, s, 0, XVNET_MAX_QUEUES - 1, &v, err, errlen))
		return -1;
	*queue = (uint16_t)v;
	return 0;
}

int xv_parse_name(const char *field, const char *s, char *out, size_t outlen,
		  char *err, size_t errlen)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > XV_NAME_MAX || n >= outlen)
		return parse_fail(err, errlen, field, s, "must be 1-%d characters",
			    XV_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '-' && c != '_' && c != '.')
			return parse_fail(err, errlen, field, s,
				    "may only hold letters, digits, '-', '_', '.'");
	}
	if (s[0] == '-' || s[0] == '.')
		return parse_fail(err, errlen, field, s, "must start with a letter or digit");
	memcpy(out, s, n + 1);
	return 0;
}

bool xv_config_token_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		/* '#' starts a comment in the config and state files,
		 * whitespace splits tokens, control characters end lines */
		if (c == '#' || isspace(c) || !isprint(c))
			return false;
	}
	return true;
}

int xv_parse_ifname(const char *field, const char *s, char *out,
		    char *err, size_t errlen)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > XV_IFNAME_MAX)
		return parse_fail(err, errlen, field, s,
			    "is not an interface name (1-%d characters)",
			    XV_IFNAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' || c == ':')
			return parse_fail(err, errlen, field, s,
				    "is not an interface name");
	}
	if (!xv_config_token_ok(s) || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return parse_fail(err, errlen, field, s, "is not an interface name");
	/* never a VM port, nor a NIC: xvnet's programs on it would take the
	 * host's own loopback traffic */
	if (strcmp(s, "lo") == 0)
		return parse_fail(err, errlen, field, s, "is the host's loopback");
	memcpy(out, s, n + 1);
	return 0;
}

void xv_fmt_mac(const uint8_t m[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
}

void xv_fmt_ip(const uint8_t a[16], char *buf, size_t len)
{
	if (xv_ip_is_v4mapped(a))
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}
