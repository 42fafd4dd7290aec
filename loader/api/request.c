// SPDX-License-Identifier: GPL-2.0-only
/*
 * A request, answered: the command tables of the objects (one file each,
 * as xvnetctl's and bpftool's: vm.c, vm_move.c, port.c, flow.c, rule.c,
 * rss.c, coalesce.c, xsk.c, stats.c, daemon.c), and what their handlers
 * share to read a request's arguments.
 */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/proto.h"
#include "loader/api/request.h"
#include "loader/kern/log.h"

/* A request argument as text ("true"/"false" for booleans). */
int req_arg_text(struct json_object *v, char *buf, size_t len, char *err,
		    size_t errlen, const char *key)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_boolean:
		snprintf(buf, len, "%s", json_object_get_string(v));
		return 0;
	case json_type_null:
		buf[0] = '\0';
		return 0;
	default:
		snprintf(err, errlen, "%s: must be a string, number or boolean",
			 key);
		return -1;
	}
}

/* Pop a boolean request flag (xvnetctl's --may-exist etc.) from args. */
bool req_flag(struct json_object *args, const char *key)
{
	struct json_object *v;
	bool on;

	if (!args || !json_object_object_get_ex(args, key, &v))
		return false;
	on = json_object_get_boolean(v) ||
	     (json_object_is_type(v, json_type_string) &&
	      strcmp(json_object_get_string(v), "0") != 0);
	json_object_object_del(args, key);
	return on;
}

/* The VM a request names in args[field]; NULL with err set if none. */
const struct vm_conf *req_vm(const struct xvd *d, struct json_object *args,
			     const char *field, char *err, size_t errlen)
{
	struct json_object *jn;
	const struct vm_conf *vm;

	if (!args || !json_object_object_get_ex(args, field, &jn) ||
	    !json_object_is_type(jn, json_type_string)) {
		snprintf(err, errlen, "%s: missing", field);
		return NULL;
	}
	vm = config_find_vm(&d->cfg, json_object_get_string(jn));
	if (!vm)
		snprintf(err, errlen, "%s: '%.64s' unknown VM", field,
			 json_object_get_string(jn));
	return vm;
}

/* Every object's requests (each table ends with { NULL }). */
static const struct api_cmd *const objects[] = {
	daemon_cmds, vm_cmds, port_cmds, flow_cmds, rule_cmds, stats_cmds,
	xsk_cmds, rss_cmds, coalesce_cmds, batch_cmds,
};

static const struct api_cmd *find_cmd(const char *name)
{
	for (size_t o = 0; o < sizeof(objects) / sizeof(objects[0]); o++)
		for (const struct api_cmd *c = objects[o]; c->name; c++)
			if (strcmp(name, c->name) == 0)
				return c;
	return NULL;
}

struct json_object *xvd_handle(struct xvd *d, struct json_object *req,
			       struct xvd_fds *fds)
{
	struct json_object *jc, *args = NULL;
	const struct api_cmd *c;
	const char *cmd;

	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &jc) ||
	    !json_object_is_type(jc, json_type_string))
		return xv_reply_err("cmd: missing");
	json_object_object_get_ex(req, "args", &args);
	if (args && !json_object_is_type(args, json_type_object))
		return xv_reply_err("args: must be an object");
	cmd = json_object_get_string(jc);
	log_debug("request %s", cmd);
	c = find_cmd(cmd);
	if (c && (!d->empty || c->without_datapath))
		return c->fn(d, args, fds);
	if (d->empty)   /* a known name, or not: no datapath yet */
		return xv_reply_err("no datapath: %s is missing (write it,"
				    " then 'xvnetctl reload')", d->config_path);
	return xv_reply_err("cmd: '%.64s' unknown", cmd);
}
