// SPDX-License-Identifier: GPL-2.0-only
/*
 * The knob lists of lib/knobs.h: every name they give is one the config
 * parser takes and the formatter writes back, with the value it was given.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit.h"
#include "lib/knobs.h"
#include "loader/conf/coalesce.h"
#include "loader/conf/config.h"
#include "loader/conf/xsk.h"

/* A valid value of each kind (the largest for numbers). */
static const char *valid(enum xv_knob_kind kind, unsigned long max, char *buf,
			 size_t len)
{
	switch (kind) {
	case XV_KNOB_ONOFF: return "on";
	case XV_KNOB_QUEUES: return "1";
	default:
		snprintf(buf, len, "%lu", max);
		return buf;
	}
}

static void test_xsk_knobs(void **state)
{
	static const struct {
		const char *key;
		enum xv_knob_kind kind;
		unsigned long max;
	} knobs[] = {
#define XV_X_XSK(k, f, kd, mn, mx, d, arg, help) { k, kd, mx },
		XV_XSK_KNOBS(XV_X_XSK)
#undef XV_X_XSK
	};
	char err[256], num[32], *text = NULL, want[96];
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		struct xsk_conf c = { 0 };
		const char *v = valid(knobs[i].kind, knobs[i].max, num, sizeof(num));
		FILE *f = open_memstream(&text, &len);

		if (xsk_conf_set(&c, knobs[i].key, v, err, sizeof(err)))
			fail_msg("%s %s: %s", knobs[i].key, v, err);
		xsk_conf_format(&c, f);
		fclose(f);
		snprintf(want, sizeof(want), " %s %s", knobs[i].key, v);
		assert_string_equal(text, want);
		free(text);
	}
	assert_int_not_equal(xsk_conf_set(&(struct xsk_conf){ 0 }, "xsk-nope", "1",
					  err, sizeof(err)), 0);
	assert_non_null(strstr(err, "xsk-frame-size, xsk-frames,"));
}

static void test_coal_knobs(void **state)
{
	static const struct {
		const char *name;
		enum xv_knob_kind kind;
	} knobs[] = {
#define XV_X_COAL(f, n, kd, mx, arg, help) { n, kd },
		XV_COAL_KNOBS(XV_X_COAL)
#undef XV_X_COAL
	};
	char err[256], key[64], want[96], *text = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		struct coal_conf c = { 0 };
		const char *v = knobs[i].kind == XV_KNOB_ONOFF ? "on" : "7";
		FILE *f = open_memstream(&text, &len);

		snprintf(key, sizeof(key), "coalesce-%s", knobs[i].name);
		if (coal_conf_set(&c, key, v, err, sizeof(err)))
			fail_msg("%s %s: %s", key, v, err);
		coal_conf_format(&c, f);
		fclose(f);
		snprintf(want, sizeof(want), " %s %s", key, v);
		assert_string_equal(text, want);
		free(text);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_xsk_knobs),
	cmocka_unit_test(test_coal_knobs),
};

UNIT_GROUP(group_knobs, "knobs", tests, NULL, NULL);
