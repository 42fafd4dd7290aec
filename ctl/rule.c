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

static void print_rule(struct json_object *r)
{
	printf("%s %s\n", js(r, "pos"), js(r, "rule"));
}

int cmd_rule(int argc, char **argv)
{
	static const char *const keys[] = { "pos", "dir", "proto", "src", "dst",
					    "sport", "dport", "action" };
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
			for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if (strncmp(a, "--", 2) == 0 &&
				    strcmp(a + 2, keys[k]) == 0)
					break;
			if (k == sizeof(keys) / sizeof(keys[0])) {
				json_object_put(args);
				return usage_err("rule add: unknown option '%s'", a);
			}
			if (i + 1 >= argc) {
				json_object_put(args);
				return usage_err("rule add: %s needs a value", a);
			}
			json_object_object_add(args, keys[k],
					       json_object_new_string(argv[++i]));
			if (strcmp(keys[k], "action") == 0 &&
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
