// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl rule add|del|list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl/xvnetctl.h"
#include "lib/parse.h"
#include "maps/xvnet_maps.h"

static const char rule_help[] =
"usage: xvnetctl rule add VM [--pos N] --dir in|out [--proto P] [--src PFX]\n"
"                [--dst PFX] [--sport A[-B]] [--dport A[-B]]\n"
"                --action allow|deny|queue Q\n"
"       xvnetctl rule del VM POS\n"
"       xvnetctl rule list VM\n"
"  a VM's ordered rules, first match wins (positions from 1; --pos inserts\n"
"  before that rule, default: at the end).  dir in: toward the VM from the\n"
"  NIC, out: sent by the VM.  A VM with no rules allows everything; with\n"
"  rules, what no rule allows is denied.  A change flushes the VM's flows.\n";

/* rule add's options, each a request key of the same name. */
static const struct optdef rule_add_opts[] = {
	{ "pos", "pos", O_TEXT }, { "dir", "dir", O_TEXT },
	{ "proto", "proto", O_TEXT }, { "src", "src", O_TEXT },
	{ "dst", "dst", O_TEXT }, { "sport", "sport", O_TEXT },
	{ "dport", "dport", O_TEXT }, { "action", "action", O_TEXT },
};
#define N_RULE_ADD_OPTS (sizeof(rule_add_opts) / sizeof(rule_add_opts[0]))

static void print_rule(struct json_object *r)
{
	printf("%s %s\n", js(r, "pos"), js(r, "rule"));
}

int cmd_rule(int argc, char **argv)
{
	struct json_object *args;
	const char *verb = argc ? argv[0] : "";

	if (!argc || is_help(verb)) {
		fputs(rule_help, argc ? stdout : stderr);
		return argc ? EX_OK : EX_USAGE;
	}
	if (argc < 2)
		return usage_err("rule %s: VM missing", verb);
	args = json_object_new_object();
	json_object_object_add(args, "vm", json_object_new_string(argv[1]));
	if (strcmp(verb, "add") == 0) {
		for (int i = 2; i < argc; i++) {
			const char *a = argv[i];
			size_t k;

			if (is_help(a)) {
				fputs(rule_help, stdout);
				json_object_put(args);
				return EX_OK;
			}
			for (k = 0; k < N_RULE_ADD_OPTS; k++)
				if (strncmp(a, "--", 2) == 0 &&
				    strcmp(a + 2, rule_add_opts[k].flag) == 0)
					break;
			if (k == N_RULE_ADD_OPTS) {
				json_object_put(args);
				return usage_err("rule add: unknown option '%s'", a);
			}
			if (i + 1 >= argc) {
				json_object_put(args);
				return usage_err("rule add: %s needs a value", a);
			}
			json_object_object_add(args, rule_add_opts[k].key,
					       json_object_new_string(argv[++i]));
			if (strcmp(rule_add_opts[k].key, "action") == 0 &&
			    strcmp(argv[i], "queue") == 0) {
				if (i + 1 >= argc) {
					json_object_put(args);
					return usage_err("rule add: --action queue"
							 " needs a queue number");
				}
				json_object_object_add(args, "queue",
					json_object_new_string(argv[++i]));
			}
		}
		return call_simple("rule.add", args);
	}
	if (strcmp(verb, "del") == 0) {
		if (argc != 3) {
			json_object_put(args);
			return usage_err("rule del: usage: rule del VM POS");
		}
		json_object_object_add(args, "pos", json_object_new_string(argv[2]));
		return call_simple("rule.del", args);
	}
	if (strcmp(verb, "list") == 0) {
		if (argc != 2) {
			json_object_put(args);
			return usage_err("rule list: unexpected '%s'", argv[2]);
		}
		return list_request("rule.list", args, print_rule);
	}
	json_object_put(args);
	return usage_err("rule: unknown verb '%s' (add, del, list)", verb);
}

const struct verbdef rule_verbs[] = {
	VERBDEF("add", rule_add_opts), { "del", NULL, 0 }, { "list", NULL, 0 },
	{ NULL, NULL, 0 },
};
