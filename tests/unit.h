/* SPDX-License-Identifier: GPL-2.0-only */
/* The unit-test binary: each tests/test_*.c exports one group. */
#ifndef XVNET_TESTS_UNIT_H
#define XVNET_TESTS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

struct unit_group {
	const char *name;
	const struct CMUnitTest *tests;
	size_t n_tests;
	CMFixtureFunction setup;     /* group setup, may be NULL */
	CMFixtureFunction teardown;
	/* optional: nonzero (with why) when this kernel cannot run the group */
	int (*unavailable)(char *why, size_t len);
};

#define UNIT_GROUP(var, gname, arr, su, td)                                  \
	const struct unit_group var = { gname, arr, sizeof(arr) / sizeof(arr[0]), su, td, NULL }
#define UNIT_GROUP_IF(var, gname, arr, su, td, unav)                         \
	const struct unit_group var = { gname, arr, sizeof(arr) / sizeof(arr[0]), su, td, unav }

#endif
