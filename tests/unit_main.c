/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Runs every unit-test group, or those named in argv[1] (a comma-separated
 * list), and prints the closing line CI reads.
 * The whole binary runs in a private network namespace so that tests may
 * create devices (veth, tap) that vanish with the process, whatever happens.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include "tests/unit.h"

extern const struct unit_group group_toeplitz;
extern const struct unit_group group_nic_rx;
extern const struct unit_group group_nic_rx_inline;
extern const struct unit_group group_fastpath;
extern const struct unit_group group_config;
extern const struct unit_group group_diff;
extern const struct unit_group group_knobs;
extern const struct unit_group group_vm_tx;
extern const struct unit_group group_rules;
extern const struct unit_group group_napi;
extern const struct unit_group group_coalesce;
extern const struct unit_group group_move;
extern const struct unit_group group_vhost;

static const struct unit_group *const groups[] = {
	&group_toeplitz,
	&group_nic_rx,
	&group_nic_rx_inline,
	&group_fastpath,
	&group_config,
	&group_diff,
	&group_knobs,
	&group_vm_tx,
	&group_rules,
	&group_napi,
	&group_coalesce,
	&group_move,
	&group_vhost,
};

/* name is one of the comma-separated names in list */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len;
		if (!*p)
			return 0;
	}
}

/* 0, or -1 after naming a group in list that this binary lacks */
static int check_list(const char *list)
{
	char name[64];

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ","), i;

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (strcmp(groups[i]->name, name) == 0)
				break;
		if (i == sizeof(groups) / sizeof(groups[0])) {
			fprintf(stderr, "unit: no test group '%s'\n", name);
			return -1;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t total = 0, failed = 0, skipped = 0;
	const char *only = argc > 1 ? argv[1] : NULL;

	if (only && check_list(only))
		return 2;

	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "unit: unshare(CLONE_NEWNET): %s (run as root)\n",
			strerror(errno));
		return 2;
	}
	/* keep the loopback up: some tests send to it */
	if (system("ip link set lo up") != 0)
		fprintf(stderr, "unit: could not bring lo up\n");

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		const struct unit_group *g = groups[i];
		int f;

		char why[256];

		if (only && !listed(only, g->name))
			continue;
		if (g->unavailable && g->unavailable(why, sizeof(why))) {
			printf("[  SKIPPED ] %s: %zu tests: %s\n", g->name, g->n_tests, why);
			skipped += g->n_tests;
			continue;
		}
		f = _cmocka_run_group_tests(g->name, g->tests, g->n_tests,
					    g->setup, g->teardown);
		total += g->n_tests;
		failed += f > 0 ? (size_t)f : 0;
	}
	printf("\nunit: %zu passed, %zu failed, %zu skipped\n", total - failed, failed,
	       skipped);
	return failed ? 1 : 0;
}
