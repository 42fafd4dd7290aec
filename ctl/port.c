// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl port list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl/xvnetctl.h"

static void print_port(struct json_object *p)
{
	printf("%s ifindex %s %s %s vm %s queues %s%s%s\n", js(p, "ifname"),
	       js(p, "ifindex"), js(p, "kind"), js(p, "state"),
	       js(p, "vm"), js(p, "queues"),
	       jb(p, "owned") ? " owned" : "",
	       jb(p, "in_map") ? "" : " stale");
}

int cmd_port(int argc, char **argv)
{
	if (argc && is_help(argv[0])) {
		puts("usage: xvnetctl port list\n  VM port devices: ifindex, kind,"
		     " state, VM; 'stale' when the port map disagrees");
		return EX_OK;
	}
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "list")))
		return usage_err("port: unknown verb '%s' (list)", argv[0]);
	return list_request("port.list", NULL, print_port);
}

const struct verbdef port_verbs[] = {
	{ "list", NULL, 0 }, { NULL, NULL, 0 },
};
