// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow requests: flow.add and flow.del (the operator's flows, through
 * the one commit), flow.list (the whole table, or a page at a cursor).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/proto.h"
#include "loader/api/flow.h"
#include "loader/api/request.h"
#include "loader/kern/commit.h"
#include "loader/kern/flowtab.h"
#include "loader/api/views.h"
#include "loader/kern/tables.h"

struct flow_view {
	const struct xvd *d;
	struct json_object *arr;
};

/* One flow entry as flow.list shows it. */
static struct json_object *flow_json(const struct xvd *d,
				     const struct xvnet_flow_key *kp,
				     const struct xvnet_flow *vp,
				     bool configured_map, __u64 now)
{
	const struct xvnet_flow_key k = *kp;
	const struct xvnet_flow v = *vp;
	const struct vm_conf *vm;
	struct json_object *o;
	char src[46], dst[46], pb[8];

	o = json_object_new_object();
	xv_fmt_ip(k.src, src, sizeof(src));
	xv_fmt_ip(k.dst, dst, sizeof(dst));
	json_object_object_add(o, "vlan", json_object_new_int(k.vlan));
	json_object_object_add(o, "proto", json_object_new_string(
				       xv_proto_name(k.proto, pb)));
	json_object_object_add(o, "src", json_object_new_string(src));
	json_object_object_add(o, "sport", json_object_new_int(ntohs(k.sport)));
	json_object_object_add(o, "dst", json_object_new_string(dst));
	json_object_object_add(o, "dport", json_object_new_int(ntohs(k.dport)));
	json_object_object_add(o, "action",
			       json_object_new_string(verdict_name(v.verdict)));
	if (v.verdict == XVNET_FLOW_DELIVER) {
		vm = config_find_vm_id(&d->cfg, (int)v.vm_id);
		json_object_object_add(o, "vm", vm ?
			json_object_new_string(vm->name) : NULL);
		json_object_object_add(o, "vm_id", json_object_new_int((int)v.vm_id));
		json_object_object_add(o, "queue", v.queue == XVNET_QUEUE_RSS ?
			json_object_new_string("rss") :
			json_object_new_int(v.queue));
	}
	json_object_object_add(o, "packets", json_object_new_uint64(v.packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(v.bytes));
	json_object_object_add(o, "age_ms", v.last_seen_ns && now >= v.last_seen_ns ?
		json_object_new_uint64((now - v.last_seen_ns) / 1000000) : NULL);
	json_object_object_add(o, "configured", json_object_new_boolean(
				       configured_map));
	json_object_object_add(o, "dir", json_object_new_string(
				       k.dir == XVNET_DIR_OUT ? "out" : "in"));
	json_object_object_add(o, "rule", json_object_new_boolean(
				       (v.flags & XVNET_FLOW_F_RULE) != 0));
	return o;
}

static void flow_visit(void *ctx, const struct xvnet_flow_key *k,
		     const struct xvnet_flow *v, bool configured, __u64 now)
{
	struct flow_view *fv = ctx;

	json_object_array_add(fv->arr, flow_json(fv->d, k, v, configured, now));
}

/* flow.list: every entry */
static struct json_object *flow_list_all(struct xvd *d)
{
	struct flow_view fv = { d, json_object_new_array() };

	tbl_flow_each(d, flow_visit, &fv);
	return fv.arr;
}

#define FLOW_PAGE_MAX 65536
/* flow.list {"limit": N, "cursor": C}: a page, {"flows": [...], "next": C or
 * null} */
static struct json_object *flow_list_page(struct xvd *d, struct json_object *args,
					  char *err, size_t errlen)
{
	struct json_object *o, *arr, *v;
	struct tbl_flow_cursor cur = { 0 };
	struct flow_view fv = { d, NULL };
	unsigned limit;
	bool done;
	int rc;
	const char *text = NULL;
	int64_t lim;

	if (!json_object_object_get_ex(args, "limit", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (lim = json_object_get_int64(v)) < 1 || lim > FLOW_PAGE_MAX) {
		snprintf(err, errlen, "limit: a number of entries, 1 to %d", FLOW_PAGE_MAX);
		return NULL;
	}
	limit = (unsigned)lim;
	if (json_object_object_get_ex(args, "cursor", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		unsigned t;
		unsigned long b;
		char tail;

		text = json_object_get_string(v);
		if (json_object_is_type(v, json_type_string) && text[0] >= '0' &&
		    text[0] < '0' + FT_MAPS && !strcmp(text + 1, ":start")) {
			cur.table = (unsigned)(text[0] - '0');  /* from its first bucket */
		} else if (json_object_is_type(v, json_type_string) &&
			   sscanf(text, "%u:%lu%c", &t, &b, &tail) == 2 && t < FT_MAPS &&
			   b <= UINT32_MAX) {
			cur.table = t;
			cur.batch = (__u32)b;
			cur.started = true;
		} else {
			snprintf(err, errlen, "cursor: '%s' is not one this daemon gave",
				 text ? text : "");
			return NULL;
		}
	}
	arr = fv.arr = json_object_new_array();
	rc = tbl_flow_page(d, &cur, limit, flow_visit, &fv, &done);
	if (rc) {
		json_object_put(arr);
		snprintf(err, errlen, "flow maps: %s", strerror(-rc));
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "flows", arr);
	if (done) {
		json_object_object_add(o, "next", NULL);
	} else {
		char next[32];

		/* not started: the next table from its first bucket */
		snprintf(next, sizeof(next), cur.started ? "%u:%u" : "%u:start",
			 cur.table, cur.batch);
		json_object_object_add(o, "next", json_object_new_string(next));
	}
	return o;
}

/* ---- flow.add, flow.del ----------------------------------------------- */

int flow_request_parse(const struct xvd_config *cfg, struct json_object *args,
		       bool add, struct flow_conf *fc, char *err, size_t errlen)
{
	char val[256];

	flow_conf_init(fc);
	if (!args || !json_object_is_type(args, json_type_object)) {
		snprintf(err, errlen, "args: missing");
		return -1;
	}
	json_object_object_foreach(args, key, v) {
		if (req_arg_text(v, val, sizeof(val), err, errlen, key))
			return -1;
		if (json_object_is_type(v, json_type_null))
			continue;
		if (!add && (strcmp(key, "action") == 0 || strcmp(key, "vm") == 0 ||
			     strcmp(key, "queue") == 0))
			continue;       /* flow del: only the match counts */
		if (flow_conf_set(fc, key, val, err, errlen))
			return -1;
	}
	if (flow_conf_finish(fc, add, err, errlen))
		return -1;
	if (add && config_check_flow(cfg, fc, err, errlen))
		return -1;
	if (add && cfg->n_flows >= XVNET_FLOWS_CFG_MAX) {
		snprintf(err, errlen, "flow: %d configured flows already, the most %s"
			 " holds", XVNET_FLOWS_CFG_MAX, XVNET_MAP_FLOWS_CFG);
		return -1;
	}
	if (add && config_find_flow(cfg, &fc->key)) {
		snprintf(err, errlen, "flow: already configured (flow del first)");
		return -1;
	}
	return 0;
}

static struct json_object *flow_add(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN];
	struct flow_conf fc;
	struct xvd_config next;

	if (flow_request_parse(&d->cfg, args, true, &fc, err, sizeof(err)))
		return xv_reply_err("%s", err);
	if (config_copy(&next, &d->cfg) || config_add_flow(&next, &fc)) {
		config_free(&next);
		return xv_reply_err("out of memory");
	}
	if (xvd_commit(d, &next, NULL, err, sizeof(err)))
		return xv_reply_err("%s", err);
	return xv_reply_ok(NULL);
}

static struct json_object *flow_del(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN];
	struct flow_conf fc;
	struct xvnet_flow v;
	struct xvd_config next;
	bool in_map;

	if (flow_request_parse(&d->cfg, args, false, &fc, err, sizeof(err)))
		return xv_reply_err("%s", err);
	in_map = !tbl_flow_lookup(d, &fc.key, &v);
	if (!in_map && !config_find_flow(&d->cfg, &fc.key))
		return xv_reply_err("flow: no such flow");
	if (!config_find_flow(&d->cfg, &fc.key)) {
		/* learnt only (slow path): not in the state, nothing to save */
		tbl_flow_delete(d, &fc.key);
		return xv_reply_ok(NULL);
	}
	if (config_copy(&next, &d->cfg))
		return xv_reply_err("out of memory");
	config_del_flow(&next, &fc.key);
	if (xvd_commit(d, &next, NULL, err, sizeof(err)))
		return xv_reply_err("%s", err);
	/* a learnt entry under the same key goes too, as it always did */
	tbl_flow_delete(d, &fc.key);
	return xv_reply_ok(NULL);
}

/* flow.list: the whole table without args, else a page at a cursor */
static struct json_object *cmd_flow_list(struct xvd *d, struct json_object *args,
					 struct xvd_fds *fds)
{
	char err[XV_ERR_LEN];
	struct json_object *page;

	(void)fds;
	if (!args || !json_object_object_length(args))
		return xv_reply_ok(flow_list_all(d));
	page = flow_list_page(d, args, err, sizeof(err));
	return page ? xv_reply_ok(page) : xv_reply_err("%s", err);
}

API_ARGS(flow_add)
API_ARGS(flow_del)

const struct api_cmd flow_cmds[] = {
	{ "flow.add", cmd_flow_add, false },
	{ "flow.del", cmd_flow_del, false },
	{ "flow.list", cmd_flow_list, false },
	{ NULL, NULL, false },
};
