/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-VM rules (issue 7, slow path).  A VM's rules are an ordered list,
 * first match wins; a VM without rules allows everything, a VM with rules
 * denies what no rule allows.  The fast path never walks them: on a
 * flow-cache miss for such a VM the packet goes to xvnetd (xvnet_slow_rb),
 * which evaluates them here and installs the exact-match flow
 * (loader/kern/slowpath.c).  Positions are 1-based.
 */
#ifndef XVNET_LOADER_CONF_RULES_H
#define XVNET_LOADER_CONF_RULES_H

#include "loader/conf/config.h"

void rule_conf_init(struct rule_conf *rc);
/* One key of a rule (dir, proto, src, dst, sport, dport, action, queue). */
int rule_conf_set(struct rule_conf *rc, const char *key, const char *val,
		  char *err, size_t errlen);
/* Whole-rule checks (dir and action given, ports only with tcp/udp, ...). */
int rule_conf_finish(struct rule_conf *rc, char *err, size_t errlen);
/* "VM key val ... action allow|deny|queue Q" (a config 'rule' line). */
int rule_parse_tokens(struct rule_conf *rc, char **tok, int n, char *err,
		      size_t errlen);
/* "dir in proto tcp ... action allow" (no VM name). */
void rule_format(const struct rule_conf *rc, char *buf, size_t len);
/* Does the rule match the key (of direction key->dir)? */
bool rule_match(const struct rule_conf *rc, const struct xvnet_flow_key *key);
/* First matching rule of vm for key, or NULL (the default deny). */
const struct rule_conf *rules_eval(const struct xvd_config *cfg,
				   const char *vm, const struct xvnet_flow_key *key);

/* The VM exists and has the queue. */
int config_check_rule(const struct xvd_config *cfg, const struct rule_conf *rc,
		      char *err, size_t errlen);
size_t config_count_rules(const struct xvd_config *cfg, const char *vm);
/* Insert at 1-based position pos of rc->vm's list (0: append). */
int config_insert_rule(struct xvd_config *cfg, const struct rule_conf *rc,
		       unsigned pos, char *err, size_t errlen);
int config_del_rule(struct xvd_config *cfg, const char *vm, unsigned pos,
		    char *err, size_t errlen);
void config_del_vm_rules(struct xvd_config *cfg, const char *vm);
/* Recompute vm_conf.has_rules of every VM. */
void config_rules_sync(struct xvd_config *cfg);

#endif
