// SPDX-License-Identifier: GPL-2.0-only
/* Send-time stamps and latency figures: lib/stamp.h. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "lib/stamp.h"

uint64_t xv_stamp_of(const unsigned char *p, uint32_t len)
{
	uint32_t ihl, magic;
	uint64_t t;

	if (len < 34 || p[12] != 0x08 || p[13] != 0x00 || p[23] != 17)
		return 0;
	ihl = (p[14] & 15) * 4u;
	if (ihl < 20 || 14 + ihl + 8 + XV_STAMP_LEN > len)
		return 0;
	memcpy(&magic, p + 14 + ihl + 8, 4);
	if (le32toh(magic) != XV_STAMP_MAGIC)
		return 0;
	memcpy(&t, p + 14 + ihl + 12, 8);
	return le64toh(t);
}

int xv_lat_add(struct xv_lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 65536;
		uint64_t *p = realloc(l->ns, cap * sizeof(*p));

		if (!p)
			return -1;
		l->ns = p;
		l->cap = cap;
	}
	l->ns[l->n++] = ns;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void xv_lat_print(struct xv_lat *l, FILE *out)
{
	size_t n = l->n;

	if (!n) {
		fprintf(out, "latency_us n 0\n");
		return;
	}
	qsort(l->ns, n, sizeof(*l->ns), cmp_u64);
	fprintf(out, "latency_us n %zu p50 %.1f p90 %.1f p99 %.1f max %.1f\n", n,
		(double)l->ns[n / 2] / 1e3, (double)l->ns[n * 9 / 10] / 1e3,
		(double)l->ns[n * 99 / 100] / 1e3, (double)l->ns[n - 1] / 1e3);
}

void xv_lat_free(struct xv_lat *l)
{
	free(l->ns);
	*l = (struct xv_lat){ 0 };
}
