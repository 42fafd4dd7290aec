// SPDX-License-Identifier: GPL-2.0-only
/* JSON views of the live state: see loader/api/views.h. */
#include <stdio.h>
#include <json-c/json.h>

#include "lib/features.h"
#include "lib/proto.h"
#include "loader/api/views.h"
#include "loader/kern/datapath.h"
#include "loader/kern/vhostsup.h"

struct json_object *view_features(const struct xv_features *fs)
{
	struct json_object *arr = json_object_new_array();

	for (int f = 0; f < XV_FEAT_MAX; f++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(xv_feature_name(f)));
		json_object_object_add(o, "present", json_object_new_boolean(fs->present[f]));
		json_object_object_add(o, "used", json_object_new_boolean(xv_feature_usable(fs, f)));
		json_object_object_add(o, "what", json_object_new_string(xv_feature_what(f)));
		if (!xv_feature_usable(fs, f)) {
			json_object_object_add(o, "reason", json_object_new_string(
					       fs->disabled[f] ? "disabled (--without / XVNET_WITHOUT)" :
					       fs->why[f]));
			json_object_object_add(o, "instead", json_object_new_string(
						       xv_feature_instead(f)));
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *view_pins(const struct xvd *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "checks", json_object_new_uint64(d->pins.checks));
	json_object_object_add(o, "restored", json_object_new_uint64(d->pins.restored));
	json_object_object_add(o, "last_restored", d->pins.restored ?
			       json_object_new_string(d->pins.last) : NULL);
	return o;
}

struct json_object *view_datapath(const struct xvd *d)
{
	struct json_object *o = json_object_new_object();
	struct dp_info info;

	dp_info(d, &info);
	json_object_object_add(o, "nic", json_object_new_string(d->cfg.nic));
	json_object_object_add(o, "ifindex", json_object_new_int(d->nic_ifindex));
	json_object_object_add(o, "xdp_mode",
			       json_object_new_string(dp_xdp_mode(d)));
	json_object_object_add(o, "rx_hash", json_object_new_string(
				       d->cfg.rx_hash_hw ? "hw" : "sw"));
	if (info.has_link) {
		json_object_object_add(o, "link_id", json_object_new_int((int)info.link_id));
		json_object_object_add(o, "prog_id",
				       json_object_new_int((int)info.prog_id));
	}
	if (info.has_flood_prog)
		json_object_object_add(o, "flood_prog_id",
				       json_object_new_int((int)info.flood_prog_id));
	json_object_object_add(o, "tc_ingress",
			       json_object_new_boolean(info.tc_ingress));
	json_object_object_add(o, "pin_dir", json_object_new_string(xv_pin_dir));
	json_object_object_add(o, "maps_adopted",
			       json_object_new_boolean(d->maps_adopted));
	json_object_object_add(o, "link_adopted",
			       json_object_new_boolean(d->link_adopted));
	json_object_object_add(o, "pins", view_pins(d));
	json_object_object_add(o, "flow_max", json_object_new_int64(d->flow_max));
	json_object_object_add(o, "malformed", json_object_new_string(
				       d->cfg.malformed_pass ? "pass" : "drop"));
	json_object_object_add(o, "meta_at", json_object_new_string(
				       d->meta_at == XVNET_META_INLINE ? "inline" : "head"));
	json_object_object_add(o, "features", view_features(&d->feat));
	return o;
}

/* the allowances' names, as the maps header lists them */
struct json_object *view_vm_allow(const struct vm_conf *vm)
{
	struct json_object *arr = json_object_new_array();

#define XVNET_X_ALLOW(e, name, desc)                                        \
	if (vm->allow & XVNET_VM_F_ALLOW_##e)                                \
		json_object_array_add(arr, json_object_new_string(name));
	XVNET_VM_ALLOWS(XVNET_X_ALLOW)
#undef XVNET_X_ALLOW
	return arr;
}

struct json_object *view_vm_addrs(const struct vm_conf *vm)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < vm->n_addrs; i++) {
		char ip[46];

		xv_fmt_ip(vm->addrs[i], ip, sizeof(ip));
		json_object_array_add(arr, json_object_new_string(ip));
	}
	return arr;
}

struct json_object *view_vhost(const struct xvd *d, const struct vm_conf *vm)
{
	struct json_object *o = json_object_new_object();
	struct vhost_child_info ci;
	char sock[XV_SOCK_PATH_MAX + 1] = "";

	if (!vhost_child_info(d, vm->id, &ci))
		vhost_socket_path(d, vm, ci.socket, sizeof(ci.socket));
	snprintf(sock, sizeof(sock), "%s", ci.socket);
	json_object_object_add(o, "socket", json_object_new_string(sock));
	json_object_object_add(o, "running", json_object_new_boolean(ci.pid > 0));
	json_object_object_add(o, "pid", json_object_new_int(ci.pid));
	json_object_object_add(o, "starts", json_object_new_int64(ci.starts));
	json_object_object_add(o, "last_exit", json_object_new_int(ci.last_exit));
	if (ci.pid > 0)
		json_object_object_add(o, "up_s", json_object_new_double(ci.up_s));
	else
		json_object_object_add(o, "retry_in_s", json_object_new_double(ci.retry_in_s));
	if (ci.has_counters) {
		struct json_object *c = json_object_new_object(), *q = json_object_new_array();

#define XV_X_JSON(f) json_object_object_add(c, #f, json_object_new_int64((int64_t)ci.f));
		XV_VHOST_COUNTERS(XV_X_JSON)
#undef XV_X_JSON
		for (unsigned i = 0; i < ci.queue_pairs && i < XV_VHOST_STATS_QUEUES; i++)
			json_object_array_add(q, json_object_new_int64((int64_t)ci.rxq[i]));
		json_object_object_add(c, "rxq", q);
		json_object_object_add(o, "counters", c);
	}
	return o;
}
