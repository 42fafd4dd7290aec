// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtual RSS settings of a VM, in the manner of ethtool -x / -X: the
 * 40-byte Toeplitz key, the 128-entry indirection table, the hash fields.
 * Parsing and formatting (the config file and rss.set requests share them)
 * and the table builders of ethtool (--equal, --weight).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/parse.h"
#include "loader/conf/rss.h"

/* "6d:5a:..." (40 colon-separated bytes, as ethtool) or 80 hex digits. */
int rss_parse_key(const char *field, const char *s, uint8_t key[XVNET_RSS_KEY_SIZE],
		  char *err, size_t errlen)
{
	uint8_t k[XVNET_RSS_KEY_SIZE];
	size_t n = 0;
	const char *p = s;
	bool colons = strchr(s, ':') != NULL;

	while (*p) {
		int hi = xv_hexval((unsigned char)p[0]), lo;

		if (hi < 0 || !p[1] || (lo = xv_hexval((unsigned char)p[1])) < 0)
			return ERR("%s: '%.128s' is not hex bytes (40 bytes as"
				   " 6d:5a:... or 80 hex digits)", field, s);
		if (n == XVNET_RSS_KEY_SIZE)
			return ERR("%s: '%.128s' is longer than %d bytes", field, s,
				   XVNET_RSS_KEY_SIZE);
		k[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (colons) {
			if (*p == ':' && p[1])
				p++;
			else if (*p)
				return ERR("%s: '%.128s' is not hex bytes (40 bytes"
					   " as 6d:5a:... or 80 hex digits)", field, s);
		}
	}
	if (n != XVNET_RSS_KEY_SIZE)
		return ERR("%s: '%.128s' is %zu bytes, must be %d", field, s, n,
			   XVNET_RSS_KEY_SIZE);
	memcpy(key, k, sizeof(k));
	return 0;
}

void rss_format_key(const uint8_t key[XVNET_RSS_KEY_SIZE], char *buf)
{
	for (int i = 0; i < XVNET_RSS_KEY_SIZE; i++)
		sprintf(buf + i * 3, "%02x%s", key[i],
			i + 1 < XVNET_RSS_KEY_SIZE ? ":" : "");
}

/* Comma list of queues; "Q*N" is N entries of queue Q.  128 entries. */
int rss_parse_indir(const char *field, const char *s,
		    uint8_t indir[XVNET_RSS_INDIR_SIZE], char *err, size_t errlen)
{
	uint8_t t[XVNET_RSS_INDIR_SIZE];
	unsigned n = 0;
	const char *p = s;

	if (!*s)
		return ERR("%s: empty (%d comma-separated queues, Q*N repeats Q)",
			   field, XVNET_RSS_INDIR_SIZE);
	for (;;) {
		char *end;
		unsigned long q, rep = 1;

		if (!isdigit((unsigned char)*p))
			return ERR("%s: '%.128s' is not a list of queues (entry %u)",
				   field, s, n);
		q = strtoul(p, &end, 10);
		p = end;
		if (*p == '*') {
			p++;
			if (!isdigit((unsigned char)*p))
				return ERR("%s: '%.128s': bad repeat count (entry %u)",
					   field, s, n);
			rep = strtoul(p, &end, 10);
			p = end;
			if (!rep)
				return ERR("%s: '%.128s': repeat count 0 (entry %u)",
					   field, s, n);
		}
		if (q >= XVNET_MAX_QUEUES)
			return ERR("%s: entry %u is queue %lu, not below %d", field,
				   n, q, XVNET_MAX_QUEUES);
		if (rep > XVNET_RSS_INDIR_SIZE - n)
			return ERR("%s: more than %d entries", field,
				   XVNET_RSS_INDIR_SIZE);
		while (rep--)
			t[n++] = (uint8_t)q;
		if (!*p)
			break;
		if (*p != ',')
			return ERR("%s: '%.128s' is not a list of queues (entry %u)",
				   field, s, n);
		p++;
	}
	if (n != XVNET_RSS_INDIR_SIZE)
		return ERR("%s: %u entries, must be %d", field, n,
			   XVNET_RSS_INDIR_SIZE);
	memcpy(indir, t, sizeof(t));
	return 0;
}

void rss_format_indir(const uint8_t indir[XVNET_RSS_INDIR_SIZE], char *buf)
{
	char *o = buf;

	for (int i = 0; i < XVNET_RSS_INDIR_SIZE;) {
		int j = i;

		while (j < XVNET_RSS_INDIR_SIZE && indir[j] == indir[i])
			j++;
		o += sprintf(o, "%s%u", i ? "," : "", indir[i]);
		if (j - i > 1)
			o += sprintf(o, "*%d", j - i);
		i = j;
	}
	*o = '\0';
}

/*
 * l3 (addresses only), l4 (= tcp,udp), or a comma list of tcp, udp and
 * ethtool's tcp4, tcp6, udp4, udp6.  The hash fields are per protocol, not
 * per family: tcp4 needs tcp6 with it (and the same for udp).
 */
int rss_parse_fields(const char *field, const char *s, uint16_t *out,
		     char *err, size_t errlen)
{
	char buf[128], *tok, *save = NULL;
	unsigned fam[2] = { 0, 0 };   /* [tcp, udp]: bit 0 v4, bit 1 v6 */
	uint16_t f = 0;

	if (strcmp(s, "l3") == 0) {
		*out = 0;
		return 0;
	}
	if (strcmp(s, "l4") == 0) {
		*out = XVNET_RSS_L4_TCP | XVNET_RSS_L4_UDP;
		return 0;
	}
	if (!*s || strlen(s) >= sizeof(buf))
		return ERR("%s: '%.64s' is not l3, l4 or a list of tcp, udp", field, s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int proto = strncmp(tok, "tcp", 3) == 0 ? 0 :
			    strncmp(tok, "udp", 3) == 0 ? 1 : -1;
		const char *v = tok + 3;

		if (proto < 0 || (*v && strcmp(v, "4") && strcmp(v, "6")))
			return ERR("%s: '%.64s' is not l3, l4 or a list of tcp, udp,"
				   " tcp4, tcp6, udp4, udp6", field, tok);
		fam[proto] |= !*v ? 3u : *v == '4' ? 1u : 2u;
	}
	for (int p = 0; p < 2; p++) {
		if (fam[p] == 1 || fam[p] == 2)
			return ERR("%s: '%s%c' without '%s%c': ports are hashed per"
				   " protocol for IPv4 and IPv6 alike", field,
				   p ? "udp" : "tcp", fam[p] == 1 ? '4' : '6',
				   p ? "udp" : "tcp", fam[p] == 1 ? '6' : '4');
		if (fam[p])
			f |= p ? XVNET_RSS_L4_UDP : XVNET_RSS_L4_TCP;
	}
	*out = f;
	return 0;
}

const char *rss_fields_name(uint16_t f)
{
	f &= XVNET_RSS_L4_TCP | XVNET_RSS_L4_UDP;
	return f == (XVNET_RSS_L4_TCP | XVNET_RSS_L4_UDP) ? "l4" :
	       f == XVNET_RSS_L4_TCP ? "tcp" : f == XVNET_RSS_L4_UDP ? "udp" : "l3";
}

int rss_indir_equal(uint8_t indir[XVNET_RSS_INDIR_SIZE], unsigned long n,
		    unsigned queues, char *err, size_t errlen)
{
	if (n < 1 || n > queues)
		return ERR("equal: '%lu' out of range 1-%u (the VM's queues)", n,
			   queues);
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		indir[i] = (uint8_t)(i % n);
	return 0;
}

/* ethtool -X weight W0 W1 ...: entries in proportion, ethtool's algorithm. */
int rss_indir_weight(uint8_t indir[XVNET_RSS_INDIR_SIZE], const char *s,
		     unsigned queues, char *err, size_t errlen)
{
	unsigned long w[XVNET_MAX_QUEUES], sum = 0, partial = 0;
	unsigned nw = 0;
	const char *p = s;
	long j = -1;

	for (;;) {
		char *end;

		if (!isdigit((unsigned char)*p))
			return ERR("weight: '%.128s': weight %u is not a number >= 0",
				   s, nw);
		if (nw == queues)
			return ERR("weight: %u weights or more for the %u queues of"
				   " the VM", nw + 1, queues);
		errno = 0;
		w[nw] = strtoul(p, &end, 10);
		if (errno || w[nw] > XVNET_RSS_INDIR_SIZE)
			return ERR("weight: weight %u above %d", nw,
				   XVNET_RSS_INDIR_SIZE);
		sum += w[nw++];
		p = end;
		if (!*p)
			break;
		if (*p != ',')
			return ERR("weight: '%.128s' is not a comma list of weights", s);
		p++;
	}
	if (!sum)
		return ERR("weight: all weights are 0");
	if (sum > XVNET_RSS_INDIR_SIZE)
		return ERR("weight: total %lu exceeds the %d table entries", sum,
			   XVNET_RSS_INDIR_SIZE);
	for (unsigned long i = 0; i < XVNET_RSS_INDIR_SIZE; i++) {
		while (i >= XVNET_RSS_INDIR_SIZE * partial / sum)
			partial += w[++j];
		indir[i] = (uint8_t)j;
	}
	return 0;
}

int rss_check_indir(const uint8_t indir[XVNET_RSS_INDIR_SIZE], unsigned queues,
		    const char *field, char *err, size_t errlen)
{
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		if (indir[i] >= queues)
			return ERR("%s: entry %d is queue %u, not below the %u queues"
				   " of the VM", field, i, indir[i], queues);
	return 0;
}

/* ---- requests ------------------------------------------------------------ */
