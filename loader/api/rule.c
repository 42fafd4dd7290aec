// SPDX-License-Identifier: GPL-2.0-only
/* rule.add / rule.del / rule.list: a VM's rules, changed through the commit
 * (which sets the VM's flag and flushes the flows its old rules installed
 * after the save). */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/err.h"
#include "lib/parse.h"
#include "lib/proto.h"
#include "loader/kern/commit.h"
#include "loader/conf/rules.h"
#include "loader/kern/log.h"
#include "loader/api/request.h"

static int arg_str(struct json_object *v, char *buf, size_t len)
{
	if (json_object_is_type(v, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(v));
	else if (json_object_is_type(v, json_type_int))
		snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
	else
		return -1;
	return 0;
}

static int arg_pos(struct json_object *args, unsigned *pos, bool required,
		   char *err, size_t errlen)
{
	struct json_object *jp;
	char buf[32];
	unsigned long v;

	*pos = 0;
	if (!json_object_object_get_ex(args, "pos", &jp) ||
	    json_object_is_type(jp, json_type_null))
		return required ? ERR("pos: missing") : 0;
	if (arg_str(jp, buf, sizeof(buf)))
		return ERR("pos: must be a number");
	if (xv_parse_uint("pos", buf, 1, 1u << 20, &v, err, errlen))
		return -1;
	*pos = (unsigned)v;
	return 0;
}

/* A changed rule list of one VM, through the commit, which sets the VM's
 * flag and flushes the flows its old rules installed after the save. */
static struct json_object *commit(struct xvd *d, struct xvd_config *next,
				  const char *vmname, const char *what)
{
	char err[XV_ERR_LEN];

	if (xvd_commit(d, next, NULL, err, sizeof(err)))
		return xv_reply_err("%s", err);
	log_info("vm %s: rule %s", vmname, what);
	return xv_reply_ok(NULL);
}

static struct json_object *rule_add(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN], val[256];
	struct rule_conf rc;
	struct xvd_config next;
	unsigned pos;

	rule_conf_init(&rc);
	if (!args)
		return xv_reply_err("args: missing");
	json_object_object_foreach(args, key, v) {
		if (strcmp(key, "pos") == 0 ||
		    json_object_is_type(v, json_type_null))
			continue;
		if (arg_str(v, val, sizeof(val)))
			return xv_reply_err("%s: must be a string", key);
		if (rule_conf_set(&rc, key, val, err, sizeof(err)))
			return xv_reply_err("%s", err);
	}
	if (rule_conf_finish(&rc, err, sizeof(err)) ||
	    config_check_rule(&d->cfg, &rc, err, sizeof(err)) ||
	    arg_pos(args, &pos, false, err, sizeof(err)))
		return xv_reply_err("%s", err);
	if (config_copy(&next, &d->cfg))
		return xv_reply_err("out of memory");
	if (config_insert_rule(&next, &rc, pos, err, sizeof(err))) {
		config_free(&next);
		return xv_reply_err("%s", err);
	}
	return commit(d, &next, rc.vm, "added");
}

static struct json_object *rule_del(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN], name[XV_NAME_MAX + 1];
	const struct vm_conf *vm = req_vm(d, args, "vm", err, sizeof(err));
	struct xvd_config next;
	unsigned pos;

	if (!vm || arg_pos(args, &pos, true, err, sizeof(err)))
		return xv_reply_err("%s", err);
	snprintf(name, sizeof(name), "%s", vm->name);
	if (config_copy(&next, &d->cfg))
		return xv_reply_err("out of memory");
	if (config_del_rule(&next, name, pos, err, sizeof(err))) {
		config_free(&next);
		return xv_reply_err("%s", err);
	}
	return commit(d, &next, name, "deleted");
}

static struct json_object *rule_list(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN], buf[512];
	const struct vm_conf *vm = req_vm(d, args, "vm", err, sizeof(err));
	struct json_object *arr;
	int pos = 0;

	if (!vm)
		return xv_reply_err("%s", err);
	arr = json_object_new_array();
	for (size_t i = 0; i < d->cfg.n_rules; i++) {
		const struct rule_conf *rc = &d->cfg.rules[i];
		struct json_object *o;

		if (strcmp(rc->vm, vm->name))
			continue;
		o = json_object_new_object();
		rule_format(rc, buf, sizeof(buf));
		json_object_object_add(o, "pos", json_object_new_int(++pos));
		json_object_object_add(o, "rule", json_object_new_string(buf));
		json_object_object_add(o, "dir", json_object_new_string(
				rc->dir == XVNET_DIR_IN ? "in" : "out"));
		json_object_object_add(o, "action", json_object_new_string(
				rc->action == RULE_ALLOW ? "allow" :
				rc->action == RULE_DENY ? "deny" : "queue"));
		if (rc->action == RULE_QUEUE)
			json_object_object_add(o, "queue",
					       json_object_new_int(rc->queue));
		json_object_array_add(arr, o);
	}
	return xv_reply_ok(arr);
}

API_ARGS(rule_add)
API_ARGS(rule_del)
API_ARGS(rule_list)

const struct api_cmd rule_cmds[] = {
	{ "rule.add", cmd_rule_add, false },
	{ "rule.del", cmd_rule_del, false },
	{ "rule.list", cmd_rule_list, false },
	{ NULL, NULL, false },
};
