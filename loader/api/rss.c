// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtual RSS settings of a VM, in the manner of ethtool -x / -X: the
 * 40-byte Toeplitz key, the 128-entry indirection table, the hash fields.
 * The rss.get / rss.set requests (the settings themselves, their parsing
 * and formatting: loader/conf/rss.c).
 *
 * Under traffic: xvnet_vms[vm_id] is written whole by one
 * bpf_map_update_elem; the ARRAY map copies the value in place without a
 * lock, so a concurrent nic_rx may read some bytes old and some new, but
 * each table entry is one byte, hence read whole (old or new queue, both
 * below n_queues; rss set never changes n_queues).  See docs/datapath.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/err.h"
#include "lib/parse.h"
#include "lib/proto.h"
#include "lib/knobs.h"
#include "loader/kern/commit.h"
#include "loader/conf/rss.h"
#include "loader/kern/log.h"
#include "loader/api/rss.h"
#include "loader/api/request.h"
#include "loader/kern/tables.h"

static int arg_str(struct json_object *args, const char *key, char *buf,
		   size_t len, bool *have, char *err, size_t errlen)
{
	struct json_object *v;

	*have = false;
	if (!json_object_object_get_ex(args, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int))
		return ERR("%s: must be a string or number", key);
	snprintf(buf, len, "%s", json_object_get_string(v));
	*have = true;
	return 0;
}

int rss_request_parse(const struct xvd_config *cfg, struct json_object *args,
		      const struct xvnet_vm *live, struct vm_conf *out,
		      char *err, size_t errlen)
{
	static const char *const known[] = {
		"name",
#define XV_X_RSS(f, opt, arg, help) #f,
		XV_RSS_KNOBS(XV_X_RSS)
#undef XV_X_RSS
	};
	static const char fields[] =
#define XV_X_RSS(f, opt, arg, help) ", " #f
		XV_RSS_KNOBS(XV_X_RSS);
#undef XV_X_RSS
	struct json_object *jn;
	const struct vm_conf *vm;
	char val[1024];
	bool have;
	int tables = 0;
	unsigned long n;

	if (!args || !json_object_object_get_ex(args, "name", &jn) ||
	    !json_object_is_type(jn, json_type_string))
		return ERR("name: missing");
	vm = config_find_vm(cfg, json_object_get_string(jn));
	if (!vm)
		return ERR("name: '%.64s' unknown VM", json_object_get_string(jn));
	json_object_object_foreach(args, k, v) {
		size_t i;

		(void)v;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return ERR("%.64s: unknown argument (%s)", k, fields + 2);
		if (strcmp(k, "equal") == 0 || strcmp(k, "weight") == 0 ||
		    strcmp(k, "indir") == 0)
			tables++;
	}
	if (tables > 1)
		return ERR("equal: only one of equal, weight, indir");
	*out = *vm;
	/* what is live now becomes configured (config wins from now on) */
	if (live && !out->has_rss_key) {
		memcpy(out->rss_key, live->rss_key, sizeof(out->rss_key));
		out->has_rss_key = true;
	}
	if (live && !out->has_rss_indir && live->n_queues == vm->queues &&
	    !rss_check_indir(live->rss_indir, vm->queues, "indir", err, errlen)) {
		memcpy(out->rss_indir, live->rss_indir, sizeof(out->rss_indir));
		out->has_rss_indir = true;
	}
	if (live && !out->has_rss_fields) {
		out->rss_fields = live->hash_fields;
		out->has_rss_fields = true;
	}
	if (arg_str(args, "key", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (rss_parse_key("key", val, out->rss_key, err, errlen))
			return -1;
		out->has_rss_key = true;
	}
	if (arg_str(args, "hash_fields", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (rss_parse_fields("hash_fields", val, &out->rss_fields, err, errlen))
			return -1;
		out->has_rss_fields = true;
	}
	if (arg_str(args, "equal", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (xv_parse_uint("equal", val, 0, 255, &n, err, errlen) ||
		    rss_indir_equal(out->rss_indir, n, vm->queues, err, errlen))
			return -1;
		out->has_rss_indir = true;
	}
	if (arg_str(args, "weight", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (rss_indir_weight(out->rss_indir, val, vm->queues, err, errlen))
			return -1;
		out->has_rss_indir = true;
	}
	if (arg_str(args, "indir", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (rss_parse_indir("indir", val, out->rss_indir, err, errlen) ||
		    rss_check_indir(out->rss_indir, vm->queues, "indir", err, errlen))
			return -1;
		out->has_rss_indir = true;
	}
	return 0;
}

static struct json_object *rss_json(const struct vm_conf *vm,
				    const struct xvnet_vm *s, bool live)
{
	struct json_object *o = json_object_new_object(), *ind, *cf;
	char key[XVNET_RSS_KEY_SIZE * 3];

	rss_format_key(s->rss_key, key);
	json_object_object_add(o, "name", json_object_new_string(vm->name));
	json_object_object_add(o, "port", json_object_new_string(
				       port_kind_name(vm->port_kind)));
	json_object_object_add(o, "queues", json_object_new_int(vm->queues));
	json_object_object_add(o, "live", json_object_new_boolean(live));
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "hash_fields", json_object_new_string(
				       rss_fields_name(s->hash_fields)));
	json_object_object_add(o, "hash_fields_mask",
			       json_object_new_int(s->hash_fields));
	ind = json_object_new_array();
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		json_object_array_add(ind, json_object_new_int(s->rss_indir[i]));
	json_object_object_add(o, "indir", ind);
	cf = json_object_new_object();
	json_object_object_add(cf, "key", json_object_new_boolean(vm->has_rss_key));
	json_object_object_add(cf, "indir", json_object_new_boolean(vm->has_rss_indir));
	json_object_object_add(cf, "hash_fields",
			       json_object_new_boolean(vm->has_rss_fields));
	json_object_object_add(o, "configured", cf);
	/* where the queue the table picks is honoured (docs/xvnetctl.md) */
	json_object_object_add(o, "delivery", json_object_new_string(
		vm->port_kind == XVNET_PORT_XSK ? "queue carried in the AF_XDP metadata" :
		vm->queues <= 1 ? "XDP redirect (one queue)" :
		vm->port_kind == XVNET_PORT_TAP ?
		"skb path: on the tap queue of that number (tc redirect, tun"
		" steering program tap_steer)" :
		"skb path: on the VM end's RX queue of that number (tc redirect)"));
	return o;
}

static struct json_object *rss_get(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN];
	const struct vm_conf *vm = req_vm(d, args, "name", err, sizeof(err));
	struct xvnet_vm slot;
	bool live;

	if (!vm)
		return xv_reply_err("%s", err);
	live = tbl_vm_live(d, vm->id, &slot);
	if (!live) {    /* not in the maps (port missing): what it will get */
		vm_slot_build(vm, 0, NULL, &slot);
		if (!vm->has_rss_key)   /* random at creation: not known yet */
			memset(slot.rss_key, 0, sizeof(slot.rss_key));
	}
	return xv_reply_ok(rss_json(vm, &slot, live));
}

static struct json_object *rss_set(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN], why[XV_ERR_LEN];
	const struct vm_conf *vm = req_vm(d, args, "name", why, sizeof(why));
	struct xvnet_vm old, new;
	struct vm_conf nv;
	bool live = vm && tbl_vm_live(d, vm->id, &old);

	/* validated whole before anything is touched */
	if (rss_request_parse(&d->cfg, args, live ? &old : NULL, &nv, err,
			      sizeof(err)))
		return xv_reply_err("%s", err);
	/* a live slot: one update, every table entry changes atomically */
	if (xvd_commit_vm(d, &nv, err, sizeof(err)))
		return xv_reply_err("%s", err);
	vm = config_find_vm(&d->cfg, nv.name);
	log_info("vm %s: rss set (hash fields %s)", vm->name,
		 rss_fields_name(vm->rss_fields));
	if (live && tbl_vm_live(d, vm->id, &new))
		return xv_reply_ok(rss_json(vm, &new, true));
	vm_slot_build(vm, 0, NULL, &new);   /* key: configured above */
	return xv_reply_ok(rss_json(vm, &new, false));
}

API_ARGS(rss_get)
API_ARGS(rss_set)

const struct api_cmd rss_cmds[] = {
	{ "rss.get", cmd_rss_get, false },
	{ "rss.set", cmd_rss_set, false },
	{ NULL, NULL, false },
};
