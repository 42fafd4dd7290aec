/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests: parse a config given as text, as xvnetd parses its file. */
#ifndef XVNET_TESTS_CONFIG_TEXT_H
#define XVNET_TESTS_CONFIG_TEXT_H

#include <stdio.h>
#include <string.h>
#include "tests/unit.h"
#include "loader/conf/config.h"

static inline int parse_config_text(const char *text, struct xvd_config *cfg, char *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = config_parse_stream(f, "t.conf", cfg, err, XV_ERR_LEN);
	fclose(f);
	return r;
}

#endif
