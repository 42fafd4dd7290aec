/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The desired-state layer's tests alone (build/tests/conf): linked with
 * loader/conf/ and plain lib/ code only, no libbpf, json-c or netlink, and
 * run as any user.  scripts/check-layers.sh builds and runs it; the groups
 * run again in build/tests/unit with the rest.
 */
#include <stdio.h>

#include "tests/unit.h"

extern const struct unit_group group_diff;
extern const struct unit_group group_knobs;

int main(void)
{
	static const struct unit_group *const groups[] = { &group_diff, &group_knobs };
	int failed = 0;

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		failed += _cmocka_run_group_tests(groups[i]->name, groups[i]->tests,
						  groups[i]->n_tests, groups[i]->setup,
						  groups[i]->teardown) != 0;
	return failed ? 1 : 0;
}
