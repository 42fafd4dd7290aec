// SPDX-License-Identifier: GPL-2.0-only
/*
 * The diff the commit applies (loader/conf/diff.h): which change each edit of a
 * configuration becomes, and the order the commit relies on (what can be
 * undone before the save, removals after it; a removal whose device, slot
 * or MAC a new VM takes first).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit.h"
#include "loader/conf/config.h"
#include "loader/conf/diff.h"

static const char base[] =
	"nic eth0\n"
	"vm a id 1 mac 02:00:00:00:00:01 port tap ifname ta ip 10.0.0.1\n"
	"vm b id 2 mac 02:00:00:00:00:02 port tap ifname tb\n"
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 dport 53 action deliver vm a\n"
	"flow proto tcp src 10.0.0.9 dst 10.0.0.2 action drop\n"
	"rule a dir in proto tcp dport 22 action allow\n";

static void parse(const char *text, struct xvd_config *cfg)
{
	char err[256];
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	if (config_parse_stream(f, "t", cfg, err, sizeof(err)))
		fail_msg("%s", err);
	fclose(f);
}

/* The kinds of old -> new as a string of letters, in the diff's order. */
static void kinds(const char *old_text, const char *new_text, bool mac_in_place,
		  const char *want)
{
	static const char letter[] = {
		[CHG_VM_DEL_FIRST] = 'F', [CHG_VM_REPLACE] = 'R', [CHG_VM_ADD] = 'A',
		[CHG_VM_SET] = 'S', [CHG_FLOW_ADD] = 'a', [CHG_FLOW_SET] = 's',
		[CHG_FLOW_DEL] = 'd', [CHG_VM_DEL] = 'D', [CHG_RULES] = 'r',
	};
	struct xvd_config o, n;
	struct cfg_diff d;
	char got[32] = "";

	parse(old_text, &o);
	parse(new_text, &n);
	assert_int_equal(config_diff(&o, &n, mac_in_place, &d), 0);
	assert_true(d.n < sizeof(got));
	for (size_t i = 0; i < d.n; i++)
		got[i] = letter[d.c[i].kind];
	assert_string_equal(got, want);
	config_diff_free(&d);
	config_free(&o);
	config_free(&n);
}

static char *edit(const char *from, const char *to)
{
	const char *at = strstr(base, from);
	char *out;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - base), base, to,
			     at + strlen(from)) > 0);
	return out;
}

static void test_diff_none(void **state)
{
	(void)state;
	kinds(base, base, false, "");
}

/* vm del: the VM's flows are removed after the save, before the VM. */
static void test_diff_vm_del(void **state)
{
	char *t = edit("vm a id 1 mac 02:00:00:00:00:01 port tap ifname ta ip 10.0.0.1\n", "");
	char *u = edit("flow proto udp src 10.0.0.9 dst 10.0.0.1 dport 53 action deliver vm a\n", "");
	char *v;

	(void)state;
	/* the config also loses a's flow and rule (as vm del does it) */
	v = strdup(t);
	*strstr(v, "flow proto udp") = '\0';
	strcat(v, "flow proto tcp src 10.0.0.9 dst 10.0.0.2 action drop\n");
	kinds(base, v, false, "dD");
	kinds(base, u, false, "d");
	free(t);
	free(u);
	free(v);
}

static void test_diff_vm_set_replace(void **state)
{
	char *ip = edit("ip 10.0.0.1", "ip 10.0.0.7");
	char *mac = edit("02:00:00:00:00:01 port tap ifname ta", "02:00:00:00:00:11 port tap ifname ta");
	char *dev = edit("ifname ta", "ifname tz");

	(void)state;
	kinds(base, ip, false, "S");
	kinds(base, mac, false, "R");           /* reload: a veth's end carries it */
	kinds(base, mac, true, "S");            /* vm set: in place */
	kinds(base, dev, false, "R");
	free(ip);
	free(mac);
	free(dev);
}

/* A new VM on the device of one that goes: the old one must go first. */
static void test_diff_reuse(void **state)
{
	char *t = edit("vm b id 2 mac 02:00:00:00:00:02 port tap ifname tb\n",
		       "vm c id 3 mac 02:00:00:00:00:03 port tap ifname tb\n");
	char *u = edit("vm b id 2 mac 02:00:00:00:00:02 port tap ifname tb\n",
		       "vm c id 3 mac 02:00:00:00:00:03 port tap ifname tc\n");

	(void)state;
	kinds(base, t, false, "FA");
	kinds(base, u, false, "AD");
	free(t);
	free(u);
}

static void test_diff_flows_rules(void **state)
{
	char *add = edit("rule a", "flow proto udp src 10.0.0.9 dst 10.0.0.5 action drop\nrule a");
	char *set = edit("dst 10.0.0.2 action drop", "dst 10.0.0.2 action pass");
	char *rule = edit("dport 22 action allow", "dport 23 action allow");

	(void)state;
	kinds(base, add, false, "a");
	kinds(base, set, false, "s");
	kinds(base, rule, false, "r");
	free(add);
	free(set);
	free(rule);
}

static void test_diff_only(void **state)
{
	struct vm_conf a, b;
	char err[256];

	(void)state;
	vm_conf_init(&a);
	assert_int_equal(vm_conf_set(&a, "name", "x", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&a, "mac", "02:00:00:00:00:01", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&a, "port", "xsk", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_finish(&a, err, sizeof(err)), 0);
	b = a;
	b.coal.rx_frames = 8;
	assert_true(vm_differs_in_coal_only(&a, &b));
	assert_false(vm_differs_in_rss_only(&a, &b));
	b = a;
	b.has_rss_fields = true;
	b.rss_fields = 0;
	assert_true(vm_differs_in_rss_only(&a, &b));
	assert_false(vm_differs_in_coal_only(&a, &b));
	b.vlan = 7;
	assert_false(vm_differs_in_rss_only(&a, &b));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_diff_none),
	cmocka_unit_test(test_diff_vm_del),
	cmocka_unit_test(test_diff_vm_set_replace),
	cmocka_unit_test(test_diff_reuse),
	cmocka_unit_test(test_diff_flows_rules),
	cmocka_unit_test(test_diff_only),
};

UNIT_GROUP(group_diff, "diff", tests, NULL, NULL);
