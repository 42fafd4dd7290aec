// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the config file parser (loader/conf/config.c).  Oracle: no
 * memory error or undefined behaviour (ASan/UBSan), and a file it accepts
 * round-trips: format(parse(format(cfg))) == format(cfg).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/parse.h"
#include "loader/conf/config.h"

static char *format(const struct xvd_config *cfg, size_t *len)
{
	char *t = NULL;
	FILE *f = open_memstream(&t, len);

	if (!f)
		abort();
	config_format(cfg, f);
	fclose(f);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[XV_ERR_LEN];
	struct xvd_config a, b;
	char *t1, *t2;
	size_t l1, l2;
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (config_parse_stream(f, "fuzz", &a, err, sizeof(err))) {
		fclose(f);
		return 0;
	}
	fclose(f);
	t1 = format(&a, &l1);
	f = fmemopen(t1, l1 ? l1 : 1, "r");
	if (config_parse_stream(f, "fuzz-rt", &b, err, sizeof(err))) {
		fprintf(stderr, "accepted config does not load back: %s\n%s", err, t1);
		abort();
	}
	fclose(f);
	t2 = format(&b, &l2);
	if (l1 != l2 || memcmp(t1, t2, l1)) {
		fprintf(stderr, "config round trip differs:\n%s---\n%s", t1, t2);
		abort();
	}
	free(t1);
	free(t2);
	config_free(&a);
	config_free(&b);
	return 0;
}
