// SPDX-License-Identifier: GPL-2.0-only
/* Per-VM rules: parsing, validation, matching (loader/conf/rules.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/parse.h"
#include "loader/conf/rules.h"


int grow(void **arr, size_t *cap, size_t n, size_t elem);

void rule_conf_init(struct rule_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->queue = XVNET_QUEUE_RSS;
	rc->sport_hi = rc->dport_hi = 65535;
}

static int parse_prefix(const char *field, const char *val, uint8_t addr[16],
			uint8_t *plen, bool *v4, char *err, size_t errlen)
{
	char ip[64];
	const char *slash = strchr(val, '/');
	unsigned long n, max;
	size_t len = slash ? (size_t)(slash - val) : strlen(val);

	if (len >= sizeof(ip))
		return ERR("%s: '%.64s' is not an address or prefix", field, val);
	memcpy(ip, val, len);
	ip[len] = '\0';
	if (xv_parse_ip(field, ip, addr, v4, err, errlen))
		return -1;
	max = *v4 ? 32 : 128;
	n = max;
	if (slash && xv_parse_uint(field, slash + 1, 0, max, &n, err, errlen))
		return -1;
	*plen = (uint8_t)(*v4 ? 96 + n : n);
	/* host bits must be zero: a prefix says what it means */
	for (unsigned b = *plen; b < 128; b++)
		if (addr[b / 8] & (0x80 >> (b % 8)))
			return ERR("%s: '%.64s' has host bits set", field, val);
	return 0;
}

static int parse_range(const char *field, const char *val, uint16_t *lo,
		       uint16_t *hi, char *err, size_t errlen)
{
	char a[16];
	const char *dash = strchr(val, '-');
	size_t len = dash ? (size_t)(dash - val) : strlen(val);
	unsigned long l, h;

	if (len >= sizeof(a))
		return ERR("%s: '%.64s' is not a port or range A-B", field, val);
	memcpy(a, val, len);
	a[len] = '\0';
	if (xv_parse_uint(field, a, 0, 65535, &l, err, errlen))
		return -1;
	h = l;
	if (dash && xv_parse_uint(field, dash + 1, 0, 65535, &h, err, errlen))
		return -1;
	if (h < l)
		return ERR("%s: range '%.64s' is empty (A > B)", field, val);
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return 0;
}

int rule_conf_set(struct rule_conf *rc, const char *key, const char *val,
		  char *err, size_t errlen)
{
	if (!val)
		return ERR("%s: needs a value", key);
	if (strcmp(key, "vm") == 0)
		return xv_parse_name("vm", val, rc->vm, sizeof(rc->vm), err,
				     errlen);
	if (strcmp(key, "dir") == 0) {
		rc->has_dir = true;
		if (strcmp(val, "in") == 0)
			rc->dir = XVNET_DIR_IN;
		else if (strcmp(val, "out") == 0)
			rc->dir = XVNET_DIR_OUT;
		else
			return ERR("dir: '%.64s' is not in or out", val);
		return 0;
	}
	if (strcmp(key, "proto") == 0) {
		rc->has_proto = true;
		return xv_parse_proto("proto", val, &rc->proto, err, errlen);
	}
	if (strcmp(key, "src") == 0) {
		rc->has_src = true;
		return parse_prefix("src", val, rc->src, &rc->src_plen,
				    &rc->src_v4, err, errlen);
	}
	if (strcmp(key, "dst") == 0) {
		rc->has_dst = true;
		return parse_prefix("dst", val, rc->dst, &rc->dst_plen,
				    &rc->dst_v4, err, errlen);
	}
	if (strcmp(key, "sport") == 0) {
		rc->has_sport = true;
		return parse_range("sport", val, &rc->sport_lo, &rc->sport_hi,
				   err, errlen);
	}
	if (strcmp(key, "dport") == 0) {
		rc->has_dport = true;
		return parse_range("dport", val, &rc->dport_lo, &rc->dport_hi,
				   err, errlen);
	}
	if (strcmp(key, "action") == 0) {
		rc->has_action = true;
		if (strcmp(val, "allow") == 0)
			rc->action = RULE_ALLOW;
		else if (strcmp(val, "deny") == 0)
			rc->action = RULE_DENY;
		else if (strcmp(val, "queue") == 0)
			rc->action = RULE_QUEUE;
		else
			return ERR("action: '%.64s' is not allow, deny or queue",
				   val);
		return 0;
	}
	if (strcmp(key, "queue") == 0) {
		unsigned long q;

		if (xv_parse_uint("queue", val, 0, XVNET_MAX_QUEUES - 1, &q, err,
				  errlen))
			return -1;
		rc->queue = (uint16_t)q;
		return 0;
	}
	return ERR("%s: unknown key", key);
}

int rule_conf_finish(struct rule_conf *rc, char *err, size_t errlen)
{
	if (!rc->vm[0])
		return ERR("vm: missing");
	if (!rc->has_dir)
		return ERR("dir: missing (in or out)");
	if (!rc->has_action)
		return ERR("action: missing (allow, deny or queue Q)");
	if (rc->action == RULE_QUEUE && rc->queue == XVNET_QUEUE_RSS)
		return ERR("queue: missing (action queue needs a queue number)");
	if (rc->action != RULE_QUEUE && rc->queue != XVNET_QUEUE_RSS)
		return ERR("queue: only with action queue");
	if (rc->action == RULE_QUEUE && rc->dir != XVNET_DIR_IN)
		return ERR("action: queue steers toward the VM (dir in only)");
	if ((rc->has_sport || rc->has_dport) &&
	    (!rc->has_proto || (rc->proto != 6 && rc->proto != 17)))
		return ERR("%s: port ranges need proto tcp or udp",
			   rc->has_sport ? "sport" : "dport");
	if (rc->has_src && rc->has_dst && rc->src_v4 != rc->dst_v4)
		return ERR("dst: address family differs from src");
	if (rc->has_proto && rc->proto == 1 &&
	    ((rc->has_src && !rc->src_v4) || (rc->has_dst && !rc->dst_v4)))
		return ERR("proto: 'icmp' with IPv6 prefixes (use icmpv6)");
	if (rc->has_proto && rc->proto == 58 &&
	    ((rc->has_src && rc->src_v4) || (rc->has_dst && rc->dst_v4)))
		return ERR("proto: 'icmpv6' with IPv4 prefixes");
	return 0;
}

int rule_parse_tokens(struct rule_conf *rc, char **tok, int n, char *err,
		      size_t errlen)
{
	rule_conf_init(rc);
	if (n < 1)
		return ERR("rule: needs a VM name");
	if (rule_conf_set(rc, "vm", tok[0], err, errlen))
		return -1;
	for (int i = 1; i < n; i += 2) {
		if (i + 1 >= n)
			return ERR("%s: needs a value", tok[i]);
		if (strcmp(tok[i], "vm") == 0)
			return ERR("vm: unknown key (the VM comes first)");
		if (rule_conf_set(rc, tok[i], tok[i + 1], err, errlen))
			return -1;
		if (strcmp(tok[i], "action") == 0 &&
		    strcmp(tok[i + 1], "queue") == 0) {
			if (i + 2 >= n)
				return ERR("queue: missing (action queue Q)");
			if (rule_conf_set(rc, "queue", tok[i + 2], err, errlen))
				return -1;
			i++;
		}
	}
	return rule_conf_finish(rc, err, errlen);
}

static void fmt_prefix(const uint8_t a[16], uint8_t plen, bool v4, char *buf,
		       size_t len)
{
	char ip[46];

	xv_fmt_ip(a, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u", ip, v4 ? plen - 96 : plen);
}

void rule_format(const struct rule_conf *rc, char *buf, size_t len)
{
	char pb[8], s[64], d[64];
	size_t o = 0;

#define APP(...) do { int r_ = snprintf(buf + o, len - o, __VA_ARGS__); \
	if (r_ > 0 && (size_t)r_ < len - o) o += (size_t)r_; } while (0)
	buf[0] = '\0';
	APP("dir %s", rc->dir == XVNET_DIR_IN ? "in" : "out");
	if (rc->has_proto)
		APP(" proto %s", xv_proto_name(rc->proto, pb));
	if (rc->has_src) {
		fmt_prefix(rc->src, rc->src_plen, rc->src_v4, s, sizeof(s));
		APP(" src %s", s);
	}
	if (rc->has_dst) {
		fmt_prefix(rc->dst, rc->dst_plen, rc->dst_v4, d, sizeof(d));
		APP(" dst %s", d);
	}
	if (rc->has_sport)
		APP(" sport %u-%u", rc->sport_lo, rc->sport_hi);
	if (rc->has_dport)
		APP(" dport %u-%u", rc->dport_lo, rc->dport_hi);
	if (rc->action == RULE_QUEUE)
		APP(" action queue %u", rc->queue);
	else
		APP(" action %s", rc->action == RULE_ALLOW ? "allow" : "deny");
#undef APP
}

static bool prefix_match(const uint8_t a[16], const uint8_t p[16], uint8_t plen)
{
	unsigned full = plen / 8, rem = plen % 8;

	if (memcmp(a, p, full))
		return false;
	if (rem) {
		uint8_t m = (uint8_t)(0xff << (8 - rem));

		if ((a[full] & m) != (p[full] & m))
			return false;
	}
	return true;
}

bool rule_match(const struct rule_conf *rc, const struct xvnet_flow_key *k)
{
	uint16_t sp = ntohs(k->sport), dp = ntohs(k->dport);

	if (rc->dir != k->dir)
		return false;
	if (rc->has_proto && rc->proto != k->proto)
		return false;
	if (rc->has_src && !prefix_match(k->src, rc->src, rc->src_plen))
		return false;
	if (rc->has_dst && !prefix_match(k->dst, rc->dst, rc->dst_plen))
		return false;
	if (rc->has_sport && (sp < rc->sport_lo || sp > rc->sport_hi))
		return false;
	if (rc->has_dport && (dp < rc->dport_lo || dp > rc->dport_hi))
		return false;
	return true;
}

const struct rule_conf *rules_eval(const struct xvd_config *cfg,
				   const char *vm, const struct xvnet_flow_key *key)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (strcmp(cfg->rules[i].vm, vm) == 0 &&
		    rule_match(&cfg->rules[i], key))
			return &cfg->rules[i];
	return NULL;
}

int config_check_rule(const struct xvd_config *cfg, const struct rule_conf *rc,
		      char *err, size_t errlen)
{
	const struct vm_conf *vm = config_find_vm(cfg, rc->vm);

	if (!vm)
		return ERR("vm: '%s' unknown", rc->vm);
	if (rc->action == RULE_QUEUE && rc->queue >= vm->queues)
		return ERR("queue: '%u' not below the %u queues of vm '%s'",
			   rc->queue, vm->queues, vm->name);
	return 0;
}

size_t config_count_rules(const struct xvd_config *cfg, const char *vm)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_rules; i++)
		n += strcmp(cfg->rules[i].vm, vm) == 0;
	return n;
}

int config_insert_rule(struct xvd_config *cfg, const struct rule_conf *rc,
		       unsigned pos, char *err, size_t errlen)
{
	size_t n = config_count_rules(cfg, rc->vm), at = cfg->n_rules, seen = 0;

	if (pos > n + 1)
		return ERR("pos: '%u' beyond the end (vm '%s' has %zu rules)",
			   pos, rc->vm, n);
	if (pos && pos <= n) {
		for (at = 0; at < cfg->n_rules; at++)
			if (strcmp(cfg->rules[at].vm, rc->vm) == 0 &&
			    ++seen == pos)
				break;
	}
	if (grow((void **)&cfg->rules, &cfg->cap_rules, cfg->n_rules,
		 sizeof(*rc)))
		return ERR("out of memory");
	memmove(&cfg->rules[at + 1], &cfg->rules[at],
		(cfg->n_rules - at) * sizeof(*rc));
	cfg->rules[at] = *rc;
	cfg->n_rules++;
	config_rules_sync(cfg);
	return 0;
}

int config_del_rule(struct xvd_config *cfg, const char *vm, unsigned pos,
		    char *err, size_t errlen)
{
	size_t seen = 0;

	for (size_t i = 0; i < cfg->n_rules; i++) {
		if (strcmp(cfg->rules[i].vm, vm) || ++seen != pos)
			continue;
		memmove(&cfg->rules[i], &cfg->rules[i + 1],
			(cfg->n_rules - i - 1) * sizeof(cfg->rules[0]));
		cfg->n_rules--;
		config_rules_sync(cfg);
		return 0;
	}
	return ERR("pos: '%u' no such rule (vm '%s' has %zu rules)", pos, vm,
		   seen);
}

void config_del_vm_rules(struct xvd_config *cfg, const char *vm)
{
	size_t o = 0;

	for (size_t i = 0; i < cfg->n_rules; i++)
		if (strcmp(cfg->rules[i].vm, vm))
			cfg->rules[o++] = cfg->rules[i];
	cfg->n_rules = o;
}

void config_rules_sync(struct xvd_config *cfg)
{
	for (size_t i = 0; i < cfg->n_vms; i++)
		cfg->vms[i].has_rules =
			config_count_rules(cfg, cfg->vms[i].name) > 0;
}
