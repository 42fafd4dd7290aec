// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl flow add|del|list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl/xvnetctl.h"
#include "lib/parse.h"
#include "maps/xvnet_maps.h"

static const struct optdef flow_opts[] = {
	{ "vlan", "vlan", O_VLAN }, { "proto", "proto", O_PROTO },
	{ "src", "src", O_IP }, { "sport", "sport", O_L4PORT },
	{ "dst", "dst", O_IP }, { "dport", "dport", O_L4PORT },
	{ "action", "action", O_ACTION }, { "vm", "vm", O_NAME },
	{ "queue", "queue", O_QUEUE },
};

static const char flow_help[] =
"usage: xvnetctl flow add [--vlan N] --proto tcp|udp|icmp|icmpv6|NUM --src IP\n"
"                [--sport P] --dst IP [--dport P] --action deliver|drop|pass\n"
"                [--vm NAME] [--queue Q|rss]\n"
"       xvnetctl flow del [--vlan N] --proto P --src IP [--sport P] --dst IP\n"
"                [--dport P]\n"
"       xvnetctl flow list\n"
"  exact-match entries of the flow cache, checked before the (MAC, VLAN)\n"
"  table; --vlan defaults to 0 (untagged), ports to 0; deliver needs --vm,\n"
"  --queue defaults to rss.\n";

static void print_flow(struct json_object *f)
{
	bool ports = ji(f, "sport") || ji(f, "dport");

	printf("vlan %s %s %s", js(f, "vlan"), js(f, "proto"), js(f, "src"));
	if (ports)
		printf(" sport %s", js(f, "sport"));
	printf(" > %s", js(f, "dst"));
	if (ports)
		printf(" dport %s", js(f, "dport"));
	printf(" %s", js(f, "action"));
	if (strcmp(js(f, "action"), "deliver") == 0)
		printf(" vm %s queue %s", js(f, "vm")[0] ? js(f, "vm") : js(f, "vm_id"),
		       js(f, "queue"));
	printf(" packets %s bytes %s", js(f, "packets"), js(f, "bytes"));
	if (js(f, "age_ms")[0])
		printf(" age %.1fs", (double)ji(f, "age_ms") / 1000.0);
	if (jb(f, "rule"))
		printf(" dir %s rule", js(f, "dir"));
	printf("%s\n", jb(f, "configured") || jb(f, "rule") ? "" : " learnt");
}

/*
 * flow list a page at a time (flow.list with a limit and a cursor), each
 * page printed as it comes: a table of a million flows needs neither one
 * reply of hundreds of megabytes nor the memory to hold it.  -j prints one
 * JSON array all the same.
 */
#define FLOW_PAGE 8192
static int flow_list_paged(void)
{
	struct json_object *rep, *d, *flows, *next;
	char cursor[64] = "";
	bool first = true;
	int r;

	if (json_out)
		printf("[");
	do {
		struct json_object *args = json_object_new_object();

		json_object_object_add(args, "limit", json_object_new_int(FLOW_PAGE));
		if (cursor[0])
			json_object_object_add(args, "cursor", json_object_new_string(cursor));
		r = call("flow.list", args, &rep, &d);
		if (r)
			return r;
		if (!json_object_object_get_ex(d, "flows", &flows) ||
		    !json_object_object_get_ex(d, "next", &next)) {
			fprintf(stderr, "xvnetctl: flow.list: malformed page\n");
			json_object_put(rep);
			return EX_REFUSED;
		}
		for (size_t i = 0; i < json_object_array_length(flows); i++) {
			struct json_object *f = json_object_array_get_idx(flows, i);

			if (json_out)
				printf("%s\n  %s", first ? "" : ",",
				       json_object_to_json_string_ext(f, JSON_C_TO_STRING_SPACED |
							JSON_C_TO_STRING_NOSLASHESCAPE));
			else
				print_flow(f);
			first = false;
		}
		cursor[0] = '\0';
		if (json_object_is_type(next, json_type_string))
			snprintf(cursor, sizeof(cursor), "%s", json_object_get_string(next));
		json_object_put(rep);
	} while (cursor[0]);
	if (json_out)
		printf("%s]\n", first ? "" : "\n");
	return EX_OK;
}

int cmd_flow(int argc, char **argv)
{
	struct json_object *args;
	const char *verb = argc ? argv[0] : "list";
	int r;

	if (argc && is_help(verb)) {
		fputs(flow_help, stdout);
		return EX_OK;
	}
	if (strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0) {
		bool add = verb[0] == 'a';

		args = json_object_new_object();
		r = parse_opts(argc - 1, argv + 1, flow_opts, add ? 9 : 6, args,
			       flow_help);
		for (size_t i = 0; !r && i < 3; i++) {
			static const char *const need[] = { "proto", "src", "dst" };

			if (!json_object_object_get_ex(args, need[i], NULL))
				r = usage_err("flow %s: --%s is required", verb,
					      need[i]);
		}
		if (!r && add && !json_object_object_get_ex(args, "action", NULL))
			r = usage_err("flow add: --action is required");
		if (r) {
			json_object_put(args);
			return r;
		}
		return call_simple(add ? "flow.add" : "flow.del", args);
	}
	if (strcmp(verb, "list") == 0) {
		if (argc > 1)
			return usage_err("flow list: unexpected '%s'", argv[1]);
		return flow_list_paged();
	}
	return usage_err("flow: unknown verb '%s' (add, del, list)", verb);
}

const struct verbdef flow_verbs[] = {
	VERBDEF("add", flow_opts), VERBDEF("del", flow_opts), { "list", NULL, 0 },
	{ NULL, NULL, 0 },
};
