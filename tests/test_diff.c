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
#include "loader/conf/flowidx.h"

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

/* base with one text replaced diffs as want */
static void edited(const char *from, const char *to, bool mac_in_place,
		   const char *want)
{
	char *t = edit(from, to);

	kinds(base, t, mac_in_place, want);
	free(t);
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

	(void)state;
	/* the config also loses a's flow and rule (as vm del does it) */
	*strstr(t, "flow proto udp") = '\0';
	strcat(t, "flow proto tcp src 10.0.0.9 dst 10.0.0.2 action drop\n");
	kinds(base, t, false, "dD");
	free(t);
	edited("flow proto udp src 10.0.0.9 dst 10.0.0.1 dport 53 action deliver vm a\n", "",
	       false, "d");
}

static void test_diff_vm_set_replace(void **state)
{
	(void)state;
	edited("ip 10.0.0.1", "ip 10.0.0.7", false, "S");
	/* reload: a veth's VM end carries the MAC; vm set: in place */
	edited("00:01 port tap ifname ta", "00:11 port tap ifname ta", false, "R");
	edited("00:01 port tap ifname ta", "00:11 port tap ifname ta", true, "S");
	edited("ifname ta", "ifname tz", false, "R");
	/* another id (the diff's contract; a reload keeps ids): the flow that
	 * delivers to a holds the old one in its map entry, so it is
	 * rewritten though its line is the same */
	edited("vm a id 1", "vm a id 5", false, "Rs");
	edited("vm b id 2", "vm b id 6", false, "R");
}

/* A new VM on the device of one that goes: the old one must go first. */
static void test_diff_reuse(void **state)
{
	(void)state;
	edited("vm b id 2 mac 02:00:00:00:00:02 port tap ifname tb\n",
	       "vm c id 3 mac 02:00:00:00:00:03 port tap ifname tb\n", false, "FA");
	edited("vm b id 2 mac 02:00:00:00:00:02 port tap ifname tb\n",
	       "vm c id 3 mac 02:00:00:00:00:03 port tap ifname tc\n", false, "AD");
}

static void test_diff_flows_rules(void **state)
{
	(void)state;
	edited("rule a", "flow proto udp src 10.0.0.9 dst 10.0.0.5 action drop\nrule a",
	       false, "a");
	edited("dst 10.0.0.2 action drop", "dst 10.0.0.2 action pass", false, "s");
	edited("dport 22 action allow", "dport 23 action allow", false, "r");
}

/* Many flows (the index: loader/conf/flowidx.h): every one found again by
 * key, one changed, one gone, one new, one duplicate refused by the parser. */
static void test_diff_many_flows(void **state)
{
	enum { N = 20000 };
	size_t len = 0, cap = (size_t)N * 96 + 256;
	char *text = malloc(cap), *dup;
	struct xvd_config o, n;
	struct cfg_diff d;
	int adds = 0, sets = 0, dels = 0;
	char err[256];
	FILE *f;

	(void)state;
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "nic eth0\n");
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"flow proto udp src 10.%d.%d.1 dst 10.0.0.1 action drop\n",
					i >> 8, i & 255);
	parse(text, &o);
	assert_int_equal(o.n_flows, N);
	assert_int_equal(config_copy(&n, &o), 0);
	n.flows[7].verdict = XVNET_FLOW_PASS;                   /* changed */
	n.flows[N - 1] = n.flows[N - 2];                        /* one gone ... */
	n.n_flows--;
	{
		struct flow_conf extra = n.flows[0];

		extra.key.dport = 99;                           /* ... one new */
		assert_int_equal(config_add_flow(&n, &extra), 0);
	}
	assert_int_equal(config_diff(&o, &n, false, &d), 0);
	for (size_t i = 0; i < d.n; i++) {
		adds += d.c[i].kind == CHG_FLOW_ADD;
		sets += d.c[i].kind == CHG_FLOW_SET;
		dels += d.c[i].kind == CHG_FLOW_DEL;
	}
	assert_int_equal(adds, 1);
	assert_int_equal(sets, 1);
	assert_int_equal(dels, 1);
	config_diff_free(&d);
	config_free(&n);
	config_free(&o);
	/* the same match twice: refused, naming the second line */
	assert_non_null(dup = malloc(len + 128));
	memcpy(dup, text, len);
	snprintf(dup + len, 128, "flow proto udp src 10.0.5.1 dst 10.0.0.1 action pass\n");
	f = fmemopen(dup, strlen(dup), "r");
	assert_int_equal(config_parse_stream(f, "t", &o, err, sizeof(err)), -1);
	fclose(f);
	assert_string_equal(err, "t:20002: flow: the same match is configured twice");
	free(dup);
	free(text);
}

/* The index with flows taken out (tombstones) and the array holding dead
 * ones until a batch compacts it: found, not found, added again, grown. */
static void test_flow_index_deletes(void **state)
{
	enum { N = 3000 };
	static uint8_t dead[2 * N + 16];
	struct xvd_config cfg;
	struct flow_idx x = { 0 };
	struct flow_conf fc;

	(void)state;
	config_init(&cfg);
	flow_conf_init(&fc);
	assert_int_equal(flow_idx_build(&x, &cfg), 0);
	x.dead = dead;
	for (int i = 0; i < N; i++) {
		fc.key.sport = (uint16_t)i;
		assert_int_equal(config_add_flow(&cfg, &fc), 0);
		assert_int_equal(flow_idx_add(&x, &cfg, cfg.n_flows - 1), 0);
	}
	for (int i = 0; i < N; i += 2) {        /* every other one out */
		struct flow_conf *f;

		fc.key.sport = (uint16_t)i;
		assert_non_null(f = flow_idx_find(&x, &cfg, &fc.key));
		dead[f - cfg.flows] = 1;
		flow_idx_del(&x, &cfg, f);
		assert_null(flow_idx_find(&x, &cfg, &fc.key));
	}
	for (int i = 0; i < N; i++) {           /* the rest still found */
		fc.key.sport = (uint16_t)i;
		assert_int_equal(flow_idx_find(&x, &cfg, &fc.key) != NULL, i % 2);
	}
	for (int i = 0; i < N; i += 2) {        /* back again: the index grows */
		struct flow_conf *f;

		fc.key.sport = (uint16_t)i;
		assert_int_equal(config_add_flow(&cfg, &fc), 0);
		assert_int_equal(flow_idx_add(&x, &cfg, cfg.n_flows - 1), 0);
		assert_non_null(f = flow_idx_find(&x, &cfg, &fc.key));
		assert_int_equal(f - cfg.flows, (long)cfg.n_flows - 1);
	}
	fc.key.sport = (uint16_t)N;
	assert_null(flow_idx_find(&x, &cfg, &fc.key));
	flow_idx_free(&x);
	config_free(&cfg);
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

/* flow_conf_same compares fields (a commit asks it of every flow): it must
 * say what comparing the two formatted lines says, for flows differing in
 * each field the line holds, and in ones it does not (where written). */
static const char *const same_lines[] = {
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 action drop\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 action pass\n",
	"flow proto tcp src 10.0.0.9 dst 10.0.0.1 action drop\n",
	"flow vlan 7 proto udp src 10.0.0.9 dst 10.0.0.1 action drop\n",
	"flow proto udp src 10.0.0.8 dst 10.0.0.1 action drop\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.3 action drop\n",
	"flow proto udp src 10.0.0.9 sport 0 dst 10.0.0.1 action drop\n",
	"flow proto udp src 10.0.0.9 sport 53 dst 10.0.0.1 action drop\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 dport 0 action drop\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 dport 53 action drop\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 dport 54 action drop\n",
	"flow proto udp src fd00::9 dst fd00::1 action drop\n",
	"flow proto udp src fd00::9 dst fd00::2 action drop\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 action deliver vm a\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 action deliver vm b\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 action deliver vm a queue 1\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 action deliver vm a queue rss\n",
	"flow proto udp src 10.0.0.9 dst 10.0.0.1 action deliver vm a queue 0\n",
};

static char *flow_line(const struct flow_conf *f)
{
	char *t = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&t, &len);

	assert_non_null(m);
	flow_conf_format(f, m);
	fclose(m);
	return t;
}

static void test_flow_same_is_line(void **state)
{
	enum { N = sizeof(same_lines) / sizeof(same_lines[0]) };
	struct xvd_config cfg[N];
	size_t same = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		char text[1024];

		snprintf(text, sizeof(text), "nic eth0\n"
			 "vm a id 1 mac 02:00:00:00:00:01 port tap ifname ta queues 2\n"
			 "vm b id 2 mac 02:00:00:00:00:02 port tap ifname tb\n%s",
			 same_lines[i]);
		config_init(&cfg[i]);
		parse(text, &cfg[i]);
	}
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++) {
			const struct flow_conf *a = &cfg[i].flows[cfg[i].n_flows - 1];
			struct flow_conf b = cfg[j].flows[cfg[j].n_flows - 1];
			char *la, *lb;
			bool line_same;

			b.line = a->line + 1;   /* not in the line */
			la = flow_line(a);
			lb = flow_line(&b);
			line_same = strcmp(la, lb) == 0;
			if (flow_conf_same(a, &b) != line_same)
				fail_msg("%s and %s: flow_conf_same says %d", la, lb, !line_same);
			same += line_same;
			free(la);
			free(lb);
		}
	/* the pairs with themselves, and a deliver with and without "queue 0"
	 * (its default) both ways; "sport 0" is not "no sport" */
	assert_int_equal(same, N + 2);
	for (size_t i = 0; i < N; i++)
		config_free(&cfg[i]);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_diff_none),
	cmocka_unit_test(test_diff_vm_del),
	cmocka_unit_test(test_diff_vm_set_replace),
	cmocka_unit_test(test_diff_reuse),
	cmocka_unit_test(test_diff_flows_rules),
	cmocka_unit_test(test_diff_only),
	cmocka_unit_test(test_diff_many_flows),
	cmocka_unit_test(test_flow_index_deletes),
	cmocka_unit_test(test_flow_same_is_line),
};

UNIT_GROUP(group_diff, "diff", tests, NULL, NULL);
