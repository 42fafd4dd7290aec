// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl status, reload, shutdown: the daemon itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl/xvnetctl.h"
#include "lib/parse.h"
#include "maps/xvnet_maps.h"

/* Kernel capabilities: one line each; absent ones say what is done instead. */
static void print_features(struct json_object *d)
{
	struct json_object *arr;

	printf("metadata %s\n", js(d, "meta_at"));
	if (!json_object_object_get_ex(d, "features", &arr))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *f = json_object_array_get_idx(arr, i);

		if (jb(f, "used")) {
			printf("  %-14s yes\n", js(f, "name"));
			continue;
		}
		printf("  %-14s %s: %s\n  %-14s instead: %s\n", js(f, "name"),
		       jb(f, "present") ? "disabled" : "no", js(f, "reason"), "",
		       js(f, "instead"));
	}
}

int cmd_status(int argc, char **argv)
{
	struct json_object *rep, *d;
	int r;

	if (argc > 0 && (strcmp(argv[0], "--help") == 0 || !strcmp(argv[0], "-h"))) {
		puts("usage: xvnetctl status\n  the datapath, its attachment, counts"
		     " of VMs and flows, the kernel features it uses, and\n"
		     "  health: the NIC's state and carrier, missing or stale ports,\n"
		     "  capability gaps, error counters.  Exit 3 when degraded (each\n"
		     "  problem on a 'problem' line).");
		return EX_OK;
	}
	if (argc > 0)
		return usage_err("status: unexpected '%s'", argv[0]);
	r = call("status", NULL, &rep, &d);
	if (r)
		return r;
	if (json_out) {
		print_json(d);
	} else if (!*js(d, "nic")) {
		printf("no datapath: config %s missing\n", js(d, "config"));
	} else {
		struct json_object *e;

		printf("nic %s ifindex %s state %s carrier %s xdp %s link %s prog %s"
		       " tc-ingress %s\n", js(d, "nic"), js(d, "ifindex"),
		       js(d, "nic_oper_state"), jb(d, "nic_carrier") ? "yes" : "no",
		       js(d, "xdp_mode"), js(d, "link_id"), js(d, "prog_id"),
		       jb(d, "tc_ingress") ? "yes" : "no");
		printf("maps %s%s flow-max %s malformed %s\n", js(d, "pin_dir"),
		       jb(d, "maps_adopted") ? " (adopted)" : "",
		       js(d, "flow_max"), js(d, "malformed"));
		printf("vms %s flows %s (configured %s) uptime %ss pid %s\n",
		       js(d, "vms"), js(d, "flows"), js(d, "configured_flows"),
		       js(d, "uptime_s"), js(d, "pid"));
		if (json_object_object_get_ex(d, "errors", &e)) {
			printf("errors");
			json_object_object_foreach(e, k, v)
				printf(" %s %s", k, json_object_get_string(v));
			printf("\n");
		}
		if (json_object_object_get_ex(d, "redirect_errors", &e) &&
		    json_object_array_length(e)) {
			printf("redirect errors");
			for (size_t i = 0; i < json_object_array_length(e); i++) {
				struct json_object *r = json_object_array_get_idx(e, i);

				printf("%s vm %s %s %s (%s) %s", i ? ";" : "", js(r, "vm"),
				       js(r, "dir"), js(r, "err"), js(r, "reason"),
				       js(r, "frames"));
			}
			printf("\n");
		}
		print_features(d);
	}
	{
		struct json_object *probs;
		bool degraded = jb(d, "degraded");

		if (!json_out && json_object_object_get_ex(d, "problems", &probs))
			for (size_t i = 0; i < json_object_array_length(probs); i++)
				printf("problem: %s\n", json_object_get_string(
					       json_object_array_get_idx(probs, i)));
		if (!json_out)
			printf("health %s\n", degraded ? "degraded" : "ok");
		json_object_put(rep);
		return degraded ? EX_DEGRADED : EX_OK;
	}
}

static const struct optdef shutdown_opts[] = {
	{ "teardown", "teardown", O_FLAG },
};

int cmd_shutdown(int argc, char **argv)
{
	struct json_object *args = json_object_new_object();

	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			puts("usage: xvnetctl shutdown [--teardown]\n"
			     "  stop xvnetd; the datapath keeps running unless"
			     " --teardown, which\n  detaches it, removes the pins"
			     " and the ports xvnetd created");
			json_object_put(args);
			return EX_OK;
		}
		if (strncmp(argv[i], "--", 2) || strcmp(argv[i] + 2, shutdown_opts[0].flag)) {
			json_object_put(args);
			return usage_err("shutdown: unknown option '%s'", argv[i]);
		}
		json_object_object_add(args, shutdown_opts[0].key, json_object_new_boolean(1));
	}
	return call_simple("shutdown", args);
}

int cmd_reload(int argc, char **argv)
{
	(void)argv;
	return argc ? usage_err("reload: takes no arguments") :
		call_simple("reload", NULL);
}

const struct verbdef shutdown_verbs[] = {
	VERBDEF("", shutdown_opts), { NULL, NULL, 0 },
};
