// SPDX-License-Identifier: GPL-2.0-only
/* flow.list's replies: the whole table, or a page at a cursor. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/proto.h"
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

static void flow_add(void *ctx, const struct xvnet_flow_key *k,
		     const struct xvnet_flow *v, bool configured, __u64 now)
{
	struct flow_view *fv = ctx;

	json_object_array_add(fv->arr, flow_json(fv->d, k, v, configured, now));
}

struct json_object *view_flow_list(struct xvd *d)
{
	struct flow_view fv = { d, json_object_new_array() };

	tbl_flow_each(d, flow_add, &fv);
	return fv.arr;
}

#define FLOW_PAGE_MAX 65536
struct json_object *view_flow_list_page(struct xvd *d, struct json_object *args,
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
		if (json_object_is_type(v, json_type_string) &&
		    (!strcmp(text, "0:start") || !strcmp(text, "1:start"))) {
			cur.table = (unsigned)(text[0] - '0');  /* from its first bucket */
		} else if (json_object_is_type(v, json_type_string) &&
			   sscanf(text, "%u:%lu%c", &t, &b, &tail) == 2 && t <= 1 &&
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
	rc = tbl_flow_page(d, &cur, limit, flow_add, &fv, &done);
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

