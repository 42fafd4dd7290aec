// SPDX-License-Identifier: GPL-2.0-only
/*
 * coalesce.get / coalesce.set and the coalescing views: the policy from the
 * config, the NAPI state and the page's counters read through
 * loader/kern/coalesce.h.
 */
#include <stdint.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/coalesce.h"
#include "lib/err.h"
#include "lib/knobs.h"
#include "lib/proto.h"
#include "loader/api/coalesce.h"
#include "loader/kern/commit.h"
#include "loader/conf/coalesce.h"
#include "loader/kern/coalesce.h"
#include "loader/kern/log.h"
#include "loader/api/request.h"

struct json_object *view_coal_counters(const struct xvd *d, int vm_id)
{
	struct json_object *o, *arr;
	const struct xvnet_coal_page *pg;
	uint64_t pk = 0, nt = 0;

	if (!(pg = coal_page(d, vm_id)))
		return NULL;
	o = json_object_new_object();
	arr = json_object_new_array();
	for (int q = 0; q < XVNET_MAX_QUEUES; q++) {
		struct json_object *qo;
		uint64_t p = pg->q[q].packets, n = pg->q[q].notifications;

		pk += p;
		nt += n;
		if (!p && !n)
			continue;
		qo = json_object_new_object();
		json_object_object_add(qo, "queue", json_object_new_int(q));
		json_object_object_add(qo, "packets", json_object_new_uint64(p));
		json_object_object_add(qo, "notifications", json_object_new_uint64(n));
		json_object_object_add(qo, "per_notification",
				       json_object_new_double(n ? (double)p / (double)n : 0));
		json_object_array_add(arr, qo);
	}
	json_object_object_add(o, "consumer_pid", json_object_new_int((int)pg->consumer_pid));
	json_object_object_add(o, "packets", json_object_new_uint64(pk));
	json_object_object_add(o, "notifications", json_object_new_uint64(nt));
	json_object_object_add(o, "per_notification",
			       json_object_new_double(nt ? (double)pk / (double)nt : 0));
	json_object_object_add(o, "wakeups", json_object_new_uint64(pg->wakeups));
	json_object_object_add(o, "rate_pps", json_object_new_uint64(pg->rate_pps));
	json_object_object_add(o, "effective_frames", json_object_new_int((int)pg->eff_frames));
	json_object_object_add(o, "effective_usecs", json_object_new_int((int)pg->eff_usecs));
	json_object_object_add(o, "queues", arr);
	return o;
}

static struct json_object *coal_json(const struct xvd *d, const struct vm_conf *vm)
{
	struct json_object *o = json_object_new_object(), *n, *ap;
	const char *why = coal_not_applicable(vm), *scope;
	struct json_object *cnt = view_coal_counters(d, vm->id);
	uint32_t mask;

	json_object_object_add(o, "vm", json_object_new_string(vm->name));
	json_object_object_add(o, "port", json_object_new_string(
				       port_kind_name(vm->port_kind)));
	ap = json_object_new_object();
	json_object_object_add(ap, "rx", json_object_new_string(
		why ? why : "the consumer's guest notifications (coalescing page)"));
	json_object_object_add(ap, "napi", json_object_new_string(
		why ? why : "the NAPI of the VM's NIC queues"));
	json_object_object_add(o, "applies", ap);
	json_object_object_add(o, "applicable", json_object_new_boolean(!why));
	json_object_object_add(o, "rx_frames", json_object_new_int((int)vm->coal.rx_frames));
	json_object_object_add(o, "rx_usecs", json_object_new_int((int)vm->coal.rx_usecs));
	json_object_object_add(o, "adaptive", json_object_new_boolean(vm->coal.adaptive));
	coal_napi_state(d, vm->id, &scope, &mask);
	n = json_object_new_object();
	json_object_object_add(n, "nic", json_object_new_string(d->cfg.nic));
	json_object_object_add(n, "defer_irqs", json_object_new_int((int)vm->coal.napi_defer_irqs));
	json_object_object_add(n, "flush_usecs", json_object_new_int((int)vm->coal.napi_flush_usecs));
	json_object_object_add(n, "scope", json_object_new_string(scope));
	json_object_object_add(n, "queue_mask", json_object_new_int((int)mask));
	json_object_object_add(o, "napi", n);
	if (cnt)
		json_object_object_add(o, "counters", cnt);
	return o;
}

/* ---- requests ----------------------------------------------------------- */

static struct json_object *coal_get(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN];
	const struct vm_conf *vm = req_vm(d, args, "name", err, sizeof(err));

	if (!vm)
		return xv_reply_err("%s", err);
	return xv_reply_ok(coal_json(d, vm));
}

/* The request's fields onto a copy of the VM's policy, checked whole. */
static int coal_request_parse(const struct vm_conf *vm, struct json_object *args,
			      struct vm_conf *out, char *err, size_t errlen)
{
	static const char options[] =
#define XV_X_COAL(f, n, kd, mx, arg, help) ", " n
		XV_COAL_KNOBS(XV_X_COAL);
#undef XV_X_COAL
	int given = 0;

	*out = *vm;
	json_object_object_foreach(args, k, v) {
		if (!strcmp(k, "name"))
			continue;
		if (coal_conf_set_field(&out->coal, k, json_object_get_string(v), err,
					errlen))
			return -1;
		given++;
	}
	if (!given)
		return ERR("coalesce: nothing to set (%s)", options + 2);
	if (!coal_conf_is_set(&out->coal) && coal_not_applicable(vm))
		return ERR("coalesce: does not apply to %s ports: %s",
			   port_kind_name(vm->port_kind), coal_not_applicable(vm));
	return coal_conf_check(out, err, errlen);
}

static struct json_object *coal_set(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN];
	const struct vm_conf *vm = req_vm(d, args, "name", err, sizeof(err));
	struct vm_conf nv;

	if (!vm)
		return xv_reply_err("%s", err);
	if (coal_request_parse(vm, args, &nv, err, sizeof(err)))
		return xv_reply_err("%s", err);
	/* e.g. the NIC refuses a NAPI knob: the commit puts back what was */
	if (xvd_commit_vm(d, &nv, err, sizeof(err)))
		return xv_reply_err("%s", err);
	vm = config_find_vm(&d->cfg, nv.name);
	log_info("vm %s: coalesce rx-frames %u rx-usecs %u adaptive %s napi defer %u"
		 " flush %u us", vm->name, vm->coal.rx_frames, vm->coal.rx_usecs,
		 vm->coal.adaptive ? "on" : "off", vm->coal.napi_defer_irqs,
		 vm->coal.napi_flush_usecs);
	return xv_reply_ok(coal_json(d, vm));
}

API_ARGS(coal_get)
API_ARGS(coal_set)

const struct api_cmd coalesce_cmds[] = {
	{ "coalesce.get", cmd_coal_get, false },
	{ "coalesce.set", cmd_coal_set, false },
	{ NULL, NULL, false },
};
