/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-VM rules (loader/conf/rules.c), in-process: parsing and validation with the
 * field named, IPv4/IPv6 prefixes, port ranges, first-match order, --pos
 * insertion, deletion, the config file round trip with FILE:LINE errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit.h"
#include "lib/parse.h"
#include "loader/conf/config.h"
#include "loader/conf/rules.h"
#include "loader/api/flow.h"
#include "loader/api/request.h"
#include "loader/api/vm.h"
#include "loader/kern/addrs.h"
#include "loader/kern/datapath.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/reinject.h"
#include "loader/kern/tables.h"
#include "loader/kern/flowtab.h"
#include <bpf/bpf.h>
#include <unistd.h>

static int parse_line(const char *line, struct rule_conf *rc, char *err)
{
	char buf[512], *tok[64], *p;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (p = strtok(buf, " "); p && n < 64; p = strtok(NULL, " "))
		tok[n++] = p;
	return rule_parse_tokens(rc, tok, n, err, XV_ERR_LEN);
}

static struct xvnet_flow_key key(const char *src, const char *dst, uint8_t proto,
				 uint16_t sport, uint16_t dport, uint8_t dir)
{
	struct xvnet_flow_key k;
	char err[XV_ERR_LEN];
	bool v4;

	memset(&k, 0, sizeof(k));
	assert_int_equal(xv_parse_ip("src", src, k.src, &v4, err, sizeof(err)), 0);
	assert_int_equal(xv_parse_ip("dst", dst, k.dst, &v4, err, sizeof(err)), 0);
	k.proto = proto;
	k.sport = htons(sport);
	k.dport = htons(dport);
	k.dir = dir;
	return k;
}

static void test_rule_refusals(void **state)
{
	static const struct { const char *line, *err; } bad[] = {
		{ "a action allow", "dir: missing (in or out)" },
		{ "a dir in", "action: missing (allow, deny or queue Q)" },
		{ "a dir sideways action allow", "dir: 'sideways' is not in or out" },
		{ "a dir in action maybe", "action: 'maybe' is not allow, deny or queue" },
		{ "a dir in action queue", "queue: missing (action queue Q)" },
		{ "a dir in action queue 16", "queue: '16' out of range 0-15" },
		{ "a dir out action queue 1", "action: queue steers toward the VM (dir in only)" },
		{ "a dir in dport 80 action allow", "dport: port ranges need proto tcp or udp" },
		{ "a dir in proto icmp sport 1 action allow", "sport: port ranges need proto tcp or udp" },
		{ "a dir in proto tcp dport 90-80 action allow", "dport: range '90-80' is empty (A > B)" },
		{ "a dir in proto tcp dport 70000 action allow", "dport: '70000' out of range 0-65535" },
		{ "a dir in src 10.0.0.1/33 action allow", "src: '33' out of range 0-32" },
		{ "a dir in src 10.0.0.1/24 action allow", "src: '10.0.0.1/24' has host bits set" },
		{ "a dir in dst fd00::1/129 action allow", "dst: '129' out of range 0-128" },
		{ "a dir in src 10.0.0.0/8 dst fd00::/8 action allow", "dst: address family differs from src" },
		{ "a dir in proto icmp src fd00::/8 action allow", "proto: 'icmp' with IPv6 prefixes (use icmpv6)" },
		{ "a dir in frob 1 action allow", "frob: unknown key" },
		{ "a dir in action allow proto", "proto: needs a value" },
	};
	struct rule_conf rc;
	char err[XV_ERR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse_line(bad[i].line, &rc, err) == 0)
			fail_msg("accepted: %s", bad[i].line);
		if (strcmp(err, bad[i].err))
			fail_msg("%s: got '%s', want '%s'", bad[i].line, err, bad[i].err);
	}
}

static void test_rule_match(void **state)
{
	struct rule_conf rc;
	char err[XV_ERR_LEN];

	(void)state;
	/* IPv4 prefix, tcp, port range */
	assert_int_equal(parse_line("a dir in proto tcp src 10.1.0.0/16 dport 8000-8080"
				    " action allow", &rc, err), 0);
	assert_true(rule_match(&rc, &(struct xvnet_flow_key){ 0 }) == false);
	assert_true(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("10.1.2.3", "10.9.0.1", 6, 1234, 8000, XVNET_DIR_IN) }[0]));
	assert_true(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("10.1.255.255", "10.9.0.1", 6, 1, 8080, XVNET_DIR_IN) }[0]));
	assert_false(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("10.1.2.3", "10.9.0.1", 6, 1234, 8081, XVNET_DIR_IN) }[0]));
	assert_false(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("10.1.2.3", "10.9.0.1", 6, 1234, 7999, XVNET_DIR_IN) }[0]));
	assert_false(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("10.2.0.1", "10.9.0.1", 6, 1234, 8000, XVNET_DIR_IN) }[0]));
	assert_false(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("10.1.2.3", "10.9.0.1", 17, 1234, 8000, XVNET_DIR_IN) }[0]));
	assert_false(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("10.1.2.3", "10.9.0.1", 6, 1234, 8000, XVNET_DIR_OUT) }[0]));
	/* an IPv4 prefix never matches IPv6 (IPv4-mapped storage) */
	assert_false(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("fd00::1", "fd00::2", 6, 1234, 8000, XVNET_DIR_IN) }[0]));
	/* IPv6 prefix with a non-byte boundary, sport range */
	assert_int_equal(parse_line("a dir out proto udp dst fd00:ab80::/25 sport 53"
				    " action deny", &rc, err), 0);
	assert_true(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("fd00::1", "fd00:abff::9", 17, 53, 9, XVNET_DIR_OUT) }[0]));
	assert_true(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("fd00::1", "fd00:ab80::9", 17, 53, 9, XVNET_DIR_OUT) }[0]));
	assert_false(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("fd00::1", "fd00:ab7f::9", 17, 53, 9, XVNET_DIR_OUT) }[0]));
	assert_false(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("fd00::1", "fd00:abff::9", 17, 54, 9, XVNET_DIR_OUT) }[0]));
	/* /0 and no fields: everything of that direction */
	assert_int_equal(parse_line("a dir in src ::/0 action allow", &rc, err), 0);
	assert_true(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("fd00::1", "fd00::2", 58, 0, 0, XVNET_DIR_IN) }[0]));
	assert_int_equal(parse_line("a dir in action allow", &rc, err), 0);
	assert_true(rule_match(&rc, &(struct xvnet_flow_key[]){
		key("1.2.3.4", "5.6.7.8", 1, 0, 0, XVNET_DIR_IN) }[0]));
}

static void cfg_with_vms(struct xvd_config *cfg)
{
	struct vm_conf vm;

	config_init(cfg);
	strcpy(cfg->nic, "eth0");
	for (int i = 0; i < 2; i++) {
		vm_conf_init(&vm);
		snprintf(vm.name, sizeof(vm.name), "%s", i ? "b" : "a");
		vm.id = i;
		vm.queues = 4;
		vm.port_kind = XVNET_PORT_VETH;
		assert_int_equal(config_add_vm(cfg, &vm), 0);
	}
}

static void add(struct xvd_config *cfg, const char *line, unsigned pos)
{
	struct rule_conf rc;
	char err[XV_ERR_LEN];

	if (parse_line(line, &rc, err) || config_check_rule(cfg, &rc, err, sizeof(err)) ||
	    config_insert_rule(cfg, &rc, pos, err, sizeof(err)))
		fail_msg("%s: %s", line, err);
}

static void test_rule_order(void **state)
{
	struct xvd_config cfg;
	struct rule_conf rc;
	const struct rule_conf *m;
	char err[XV_ERR_LEN], buf[256];
	struct xvnet_flow_key k = key("10.0.0.1", "10.0.0.2", 17, 1000, 53, XVNET_DIR_IN);

	(void)state;
	cfg_with_vms(&cfg);
	/* no rules: nothing matches (and the VM has no rules: allow all) */
	assert_null(rules_eval(&cfg, "a", &k));
	assert_false(cfg.vms[0].has_rules);
	add(&cfg, "b dir in action deny", 0);          /* another VM's rule */
	add(&cfg, "a dir in proto udp dport 53 action deny", 0);
	add(&cfg, "a dir in proto udp action queue 2", 0);
	assert_true(cfg.vms[0].has_rules && cfg.vms[1].has_rules);
	m = rules_eval(&cfg, "a", &k);
	assert_non_null(m);
	assert_int_equal(m->action, RULE_DENY);        /* first match wins */
	/* --pos 1 goes in front */
	add(&cfg, "a dir in proto udp dport 50-60 action allow", 1);
	m = rules_eval(&cfg, "a", &k);
	assert_int_equal(m->action, RULE_ALLOW);
	/* order of a: allow(50-60), deny(53), queue 2 */
	rule_format(&cfg.rules[1], buf, sizeof(buf));
	assert_string_equal(buf, "dir in proto udp dport 50-60 action allow");
	assert_int_equal(config_count_rules(&cfg, "a"), 3);
	/* another dport: the queue rule */
	k.dport = htons(99);
	m = rules_eval(&cfg, "a", &k);
	assert_int_equal(m->action, RULE_QUEUE);
	assert_int_equal(m->queue, 2);
	/* tcp: no rule of a matches -> NULL = default deny */
	k.proto = 6;
	assert_null(rules_eval(&cfg, "a", &k));
	/* refusals, state unchanged */
	assert_int_equal(parse_line("a dir in action allow", &rc, err), 0);
	assert_int_equal(config_insert_rule(&cfg, &rc, 5, err, sizeof(err)), -1);
	assert_string_equal(err, "pos: '5' beyond the end (vm 'a' has 3 rules)");
	assert_int_equal(config_del_rule(&cfg, "a", 4, err, sizeof(err)), -1);
	assert_string_equal(err, "pos: '4' no such rule (vm 'a' has 3 rules)");
	assert_int_equal(parse_line("a dir in action queue 7", &rc, err), 0);
	assert_int_equal(config_check_rule(&cfg, &rc, err, sizeof(err)), -1);
	assert_string_equal(err, "queue: '7' not below the 4 queues of vm 'a'");
	assert_int_equal(parse_line("zz dir in action allow", &rc, err), 0);
	assert_int_equal(config_check_rule(&cfg, &rc, err, sizeof(err)), -1);
	assert_string_equal(err, "vm: 'zz' unknown");
	assert_int_equal(cfg.n_rules, 4);
	/* delete the first: deny(53) first again */
	k.proto = 17;
	k.dport = htons(53);
	assert_int_equal(config_del_rule(&cfg, "a", 1, err, sizeof(err)), 0);
	assert_int_equal(rules_eval(&cfg, "a", &k)->action, RULE_DENY);
	/* vm del takes its rules */
	config_del_vm(&cfg, "a");
	assert_int_equal(cfg.n_rules, 1);
	config_free(&cfg);
}

static void test_rule_config_file(void **state)
{
	const char *text =
		"nic eth0\n"
		"flow-idle-timeout 5\n"
		"rule a dir in proto tcp src 10.0.0.0/8 dport 22 action allow\n"
		"rule a dir out dst fd00::/64 action deny\n"
		"vm a mac 02:00:00:00:00:01 port veth ifname xqa netns xqa queues 2\n"
		"rule a dir in proto udp dport 1000-2000 action queue 1\n";
	struct xvd_config cfg, again;
	char err[XV_ERR_LEN], out[4096];
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	(void)state;
	assert_int_equal(config_parse_stream(f, "t.conf", &cfg, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(cfg.n_rules, 3);
	assert_int_equal(cfg.flow_idle_timeout, 5);
	assert_true(cfg.vms[0].has_rules);
	f = fmemopen(out, sizeof(out), "w");
	assert_int_equal(config_format(&cfg, f), 0);
	fclose(f);
	assert_non_null(strstr(out, "rule a dir in proto tcp src 10.0.0.0/8 dport 22-22 action allow\n"
				    "rule a dir out dst fd00::/64 action deny\n"
				    "rule a dir in proto udp dport 1000-2000 action queue 1\n"));
	assert_non_null(strstr(out, "flow-idle-timeout 5\n"));
	f = fmemopen(out, strlen(out), "r");
	assert_int_equal(config_parse_stream(f, "t2.conf", &again, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(again.n_rules, 3);
	assert_memory_equal(again.rules[2].vm, cfg.rules[2].vm, sizeof(cfg.rules[2].vm));
	config_free(&again);
	config_free(&cfg);
	/* FILE:LINE errors */
	{
		static const struct { const char *text, *err; } bad[] = {
			{ "nic a\nrule a dir in action allow\n", "t.conf:2: vm: 'a' unknown" },
			{ "nic a\nrule\n", "t.conf:2: rule: needs a VM name" },
			{ "nic a\nrule a dir in proto tcp dport x action allow\n",
			  "t.conf:2: dport: 'x' is not a number" },
			{ "nic a\nvm a mac 02:00:00:00:00:01 port veth ifname xqa netns xqa\n"
			  "\nrule a dir in action queue 3\n",
			  "t.conf:4: queue: '3' not below the 1 queues of vm 'a'" },
			{ "nic a\nflow-idle-timeout 0\n", "t.conf:2: flow-idle-timeout: '0' out of range 1-86400" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			f = fmemopen((void *)bad[i].text, strlen(bad[i].text), "r");
			err[0] = '\0';
			assert_int_equal(config_parse_stream(f, "t.conf", &cfg, err,
							     sizeof(err)), -1);
			fclose(f);
			if (strcmp(err, bad[i].err))
				fail_msg("got '%s', want '%s'", err, bad[i].err);
		}
	}
}

/* loader/kern/flowtab.c on real, private maps: each family's flows in its
 * own map, read back under the 40-byte key; an older daemon's IPv4 flows
 * moved out of the 40-byte maps. */
static bool count_entry(void *arg, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	(void)k;
	(void)v;
	(*(int *)arg)++;
	return false;
}

static bool drop_all(void *arg, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	(void)arg;
	(void)k;
	(void)v;
	return true;
}

static void test_flow_tables_by_family(void **state)
{
	struct xvd *d = calloc(1, sizeof(*d));
	struct xvnet_flow_key k4 = key("10.0.0.1", "10.0.0.2", 17, 1000, 53, XVNET_DIR_IN);
	struct xvnet_flow_key k6 = key("fd00::1", "fd00::2", 6, 1000, 80, XVNET_DIR_OUT);
	/* one address IPv4-mapped, the other not: not an IPv4 packet's key */
	struct xvnet_flow_key kx = key("::ffff:10.0.0.1", "fd00::2", 6, 1, 2, XVNET_DIR_IN);
	struct xvnet_flow v = { .verdict = XVNET_FLOW_DELIVER, .vm_id = 3, .packets = 7 }, got;
	struct xvnet_flow4_key raw4;
	struct xvnet_flow_key keys[8], back;
	struct xvnet_flow vals[8];
	__u32 n = 8, out = 0;
	int count = 0;

	(void)state;
	assert_non_null(d);
	k4.vlan = 20;
	d->m.flows = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xq_f", sizeof(struct xvnet_flow_key),
				    sizeof(struct xvnet_flow), 64, NULL);
	d->m.flows_cfg = bpf_map_create(BPF_MAP_TYPE_HASH, "xq_fc", sizeof(struct xvnet_flow_key),
					sizeof(struct xvnet_flow), 64, NULL);
	d->m.flows4 = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xq_f4", sizeof(struct xvnet_flow4_key),
				     sizeof(struct xvnet_flow), 64, NULL);
	d->m.flows4_cfg = bpf_map_create(BPF_MAP_TYPE_HASH, "xq_f4c",
					 sizeof(struct xvnet_flow4_key), sizeof(struct xvnet_flow),
					 64, NULL);
	assert_true(d->m.flows >= 0 && d->m.flows_cfg >= 0 && d->m.flows4 >= 0 &&
		    d->m.flows4_cfg >= 0);
	assert_true(xvnet_flow_key_is4(&k4));
	assert_false(xvnet_flow_key_is4(&k6));
	assert_false(xvnet_flow_key_is4(&kx));
	/* the 16-byte key holds the whole 40-byte one */
	xvnet_flow_key_to4(&k4, &raw4);
	xvnet_flow_key_from4(&raw4, &back);
	assert_memory_equal(&back, &k4, sizeof(k4));
	assert_int_equal(raw4.vlan, 20);
	assert_int_equal(raw4.sport, htons(1000));

	assert_int_equal(ft_update(d, FT_CFG, &k4, &v, BPF_ANY), 0);
	assert_int_equal(ft_update(d, FT_LEARNT, &k6, &v, BPF_ANY), 0);
	assert_int_equal(ft_update(d, FT_LEARNT, &kx, &v, BPF_ANY), 0);
	assert_int_equal(bpf_map_lookup_elem(d->m.flows4_cfg, &raw4, &got), 0);
	assert_int_equal(got.packets, 7);
	assert_int_equal(bpf_map_lookup_elem(d->m.flows, &k6, &got), 0);
	assert_int_equal(bpf_map_lookup_elem(d->m.flows, &kx, &got), 0);
	assert_int_not_equal(ft_lookup(d, FT_LEARNT, &k4, &got), 0);
	assert_int_equal(ft_lookup(d, FT_CFG, &k4, &got), 0);
	ft_each(d, FT_CFG, count_entry, &count);
	assert_int_equal(count, 1);
	ft_each(d, FT_LEARNT, count_entry, &count);
	assert_int_equal(count, 3);
	/* a page of the IPv4 operator's map comes back under the 40-byte key */
	assert_int_equal(ft_map_page(d, 0, NULL, &out, keys, vals, &n) == 0 || errno == ENOENT, 1);
	assert_int_equal(n, 1);
	assert_memory_equal(&keys[0], &k4, sizeof(k4));
	assert_true(ft_map_configured(0) && ft_map_configured(1) && !ft_map_configured(2));

	/* an older daemon's IPv4 flow in the 40-byte maps: moved, counters kept */
	assert_int_equal(ft_delete(d, FT_CFG, &k4), 0);
	assert_int_not_equal(ft_delete(d, FT_CFG, &k4), 0);
	assert_int_equal(bpf_map_update_elem(d->m.flows_cfg, &k4, &v, BPF_ANY), 0);
	assert_int_equal(ft_move_ipv4(d), 1);
	assert_int_not_equal(bpf_map_lookup_elem(d->m.flows_cfg, &k4, &got), 0);
	assert_int_equal(ft_lookup(d, FT_CFG, &k4, &got), 0);
	assert_int_equal(got.packets, 7);
	/* the mixed key is not IPv4: it stays */
	assert_int_equal(bpf_map_lookup_elem(d->m.flows, &kx, &got), 0);
	assert_int_equal(ft_each(d, FT_LEARNT, drop_all, NULL), 2);
	close(d->m.flows);
	close(d->m.flows_cfg);
	close(d->m.flows4);
	close(d->m.flows4_cfg);
	free(d);
}

/* sp_handle (the daemon's slow-path code) on real, private maps. */
static void test_slow_path_install(void **state)
{
	struct xvd *d = calloc(1, sizeof(*d));
	struct xvnet_slow_rec r;
	struct xvnet_flow v;
	struct xvnet_flow_key rk;
	struct xvnet_config c;
	__u32 zero = 0;
	int n = 0;

	(void)state;
	assert_non_null(d);
	cfg_with_vms(&d->cfg);
	d->cfg.vms[0].vlan = 20;
	d->m.flows = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xq_flows",
				    sizeof(struct xvnet_flow_key),
				    sizeof(struct xvnet_flow), 1024, NULL);
	d->m.flows4 = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xq_flows4",
				     sizeof(struct xvnet_flow4_key),
				     sizeof(struct xvnet_flow), 1024, NULL);
	d->m.config = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xq_config", 4,
				     sizeof(struct xvnet_config), 1, NULL);
	assert_true(d->m.flows >= 0 && d->m.flows4 >= 0 && d->m.config >= 0);
	memset(&r, 0, sizeof(r));
	r.vm_id = 0;
	r.key = key("10.0.0.1", "10.0.0.2", 17, 1000, 53, XVNET_DIR_IN);
	r.key.vlan = 20;
	/* a VM without rules: nothing installed (allow all, nic_rx no longer asks) */
	assert_int_equal(sp_handle(d, &r), 0);
	assert_int_equal(d->sp.installed, 0);
	add(&d->cfg, "a dir in proto udp dport 53 action queue 2", 0);
	add(&d->cfg, "a dir in proto udp dport 54 action deny", 0);
	/* allow (queue 2): the in entry and the reverse out entry */
	assert_int_equal(sp_handle(d, &r), 0);
	assert_int_equal(bpf_map_lookup_elem(d->m.config, &zero, &c), 0);
	assert_int_equal(c.flows_active, 1);
	assert_int_equal(ft_lookup(d, FT_LEARNT, &r.key, &v), 0);
	assert_int_equal(v.verdict, XVNET_FLOW_DELIVER);
	assert_int_equal(v.queue, 2);
	assert_int_equal(v.flags, XVNET_FLOW_F_RULE);
	assert_true(v.last_seen_ns > 0);
	rk = key("10.0.0.2", "10.0.0.1", 17, 53, 1000, XVNET_DIR_OUT);
	rk.vlan = 20;
	assert_int_equal(ft_lookup(d, FT_LEARNT, &rk, &v), 0);
	assert_int_equal(v.verdict, XVNET_FLOW_DELIVER);
	assert_int_equal(d->sp.installed, 2);
	/* a duplicate record changes nothing */
	assert_int_equal(sp_handle(d, &r), 0);
	assert_int_equal(d->sp.installed, 2);
	/* deny, and no match (default deny): one DROP entry each, no reverse */
	r.key.dport = htons(54);
	assert_int_equal(sp_handle(d, &r), 0);
	r.key.dport = htons(55);
	assert_int_equal(sp_handle(d, &r), 0);
	assert_int_equal(ft_lookup(d, FT_LEARNT, &r.key, &v), 0);
	assert_int_equal(v.verdict, XVNET_FLOW_DROP);
	assert_int_equal(d->sp.installed, 4);
	assert_int_equal(d->sp.denied, 2);
	/* a record for an unknown VM is ignored */
	r.vm_id = 77;
	assert_int_equal(sp_handle(d, &r), -1);
	assert_int_equal(d->sp.installed, 4);
	/* aging: nothing is idle yet; with the clock 61 s on, all go */
	assert_int_equal(sp_age(d, v.last_seen_ns + 1000), 0);
	assert_int_equal(sp_age(d, v.last_seen_ns + 61000000000ull), 4);
	/* flush: only the VM's rule entries */
	r.vm_id = 0;
	r.key.dport = htons(53);
	assert_int_equal(sp_handle(d, &r), 0);
	v = (struct xvnet_flow){ .verdict = XVNET_FLOW_DROP, .vm_id = 0 };
	rk.sport = htons(9);
	assert_int_equal(ft_update(d, FT_LEARNT, &rk, &v, BPF_ANY), 0);
	assert_int_equal(sp_flush_vm(d, 1), 0);
	assert_int_equal(sp_flush_vm(d, 0), 2);
	{
		struct xvnet_flow4_key k2;

		while (!bpf_map_get_next_key(d->m.flows4, n ? &k2 : NULL, &k2))
			n++;
	}
	assert_int_equal(n, 1);         /* the configured (non-rule) entry stays */
	/* IPv4 flows only in the IPv4 map */
	assert_int_not_equal(bpf_map_get_next_key(d->m.flows, NULL, &rk), 0);
	/* a whole first packet is sent on (to the VM's port: lo here), and its
	 * flow goes in only after the send, at the poll's end: the reply's
	 * flow at once, the flow itself when sp_poll sends the batch */
	snprintf(d->cfg.vms[0].ifname, sizeof(d->cfg.vms[0].ifname), "lo");
	r.key.sport = htons(2000);
	r.cap_len = r.pkt_len = 60;
	memcpy(r.pkt, "\x02\0\0\0\0\x01\x02\0\0\0\0\x09\x08\x00", 14);
	assert_int_equal(sp_handle(d, &r), 0);
	rk = key("10.0.0.2", "10.0.0.1", 17, 53, 2000, XVNET_DIR_OUT);
	rk.vlan = 20;
	assert_int_equal(ft_lookup(d, FT_LEARNT, &rk, &v), 0);
	assert_int_not_equal(ft_lookup(d, FT_LEARNT, &r.key, &v), 0);
	assert_int_equal(d->sp.reinjected, 0);
	sp_poll(d);
	assert_int_equal(d->sp.reinjected, 1);
	assert_int_equal(ft_lookup(d, FT_LEARNT, &r.key, &v), 0);
	assert_int_equal(v.verdict, XVNET_FLOW_DELIVER);
	reinject_close(d);
	close(d->m.flows);
	close(d->m.flows4);
	close(d->m.config);
	config_free(&d->cfg);
	free(d);
}

static const struct CMUnitTest rules_tests[] = {
	cmocka_unit_test(test_flow_tables_by_family),
	cmocka_unit_test(test_slow_path_install),
	cmocka_unit_test(test_rule_refusals),
	cmocka_unit_test(test_rule_match),
	cmocka_unit_test(test_rule_order),
	cmocka_unit_test(test_rule_config_file),
};

UNIT_GROUP(group_rules, "rules", rules_tests, NULL, NULL);
