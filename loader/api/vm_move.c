// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vm.move request (xvnetctl vm move, docs/dnis.md): its options made
 * into the new port's settings and validated whole, then handed to the
 * move's state machine (loader/kern/move.c: prepare, switch, commit,
 * abort); and its replies.
 */
#include <string.h>
#include <json-c/json.h>

#include "lib/err.h"
#include "lib/knobs.h"
#include "lib/proto.h"
#include "loader/api/request.h"
#include "loader/api/views.h"
#include "loader/api/vm.h"
#include "loader/kern/log.h"
#include "loader/kern/move.h"

/* The request options that describe the new port (xvnetctl vm move). */
static const char *const port_keys[] = {
	"ifname", "netns", "peer-ifname", "owner", "group", "vhost-socket",
#define XV_X_XSK(k, f, kd, mn, mx, d, arg, help) k,
	XV_XSK_KNOBS(XV_X_XSK)
#undef XV_X_XSK
};

/* The new port's vm_conf: the VM as it is, port fields from the request. */
static int build_new(const struct vm_conf *old, struct json_object *args,
		     struct vm_conf *nv, char *err, size_t errlen)
{
	struct json_object *v;
	char val[256];

	*nv = *old;
	nv->ifname[0] = nv->netns[0] = nv->peer_ifname[0] = nv->vhost_socket[0] = '\0';
	nv->owned = false;
	memset(&nv->xsk, 0, sizeof(nv->xsk));
	if (!json_object_object_get_ex(args, "port", &v) ||
	    !json_object_is_type(v, json_type_string))
		return ERR("port: missing (tap, veth, xsk, vhost-user or fallback)");
	if (vm_conf_set(nv, "port", json_object_get_string(v), err, errlen))
		return -1;
	/* a tap's owner owns a vhost-user socket too: both are the VMM's */
	if (nv->port_kind != XVNET_PORT_TAP && !nv->vhost)
		nv->has_owner = nv->has_group = false;
	json_object_object_foreach(args, key, jv) {
		size_t k;

		if (!strcmp(key, "name") || !strcmp(key, "port"))
			continue;
		for (k = 0; k < sizeof(port_keys) / sizeof(port_keys[0]); k++)
			if (!strcmp(key, port_keys[k]))
				break;
		if (k == sizeof(port_keys) / sizeof(port_keys[0]))
			return ERR("%s: not a port option (a move keeps the VM's"
				   " MAC, VLAN, addresses, RSS; vm set changes them)", key);
		snprintf(val, sizeof(val), "%s", json_object_get_string(jv));
		if (vm_conf_set(nv, key, val, err, errlen))
			return -1;
	}
	if (vm_conf_finish(nv, err, errlen))
		return -1;
	if (nv->fallback && old->fallback)
		return ERR("port: vm '%s' is on the fallback already", old->name);
	if (!nv->fallback && !strcmp(nv->ifname, old->ifname))
		return ERR("ifname: %s is the VM's port now (give the new port's"
			   " ifname)", old->ifname);
	if (nv->port_kind == XVNET_PORT_XSK && old->port_kind == XVNET_PORT_XSK)
		return ERR("port: xsk to xsk is not a move (one socket set per VM)");
	return 0;
}

static struct json_object *port_json(const struct vm_conf *pc, int ifindex)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "port", json_object_new_string(vm_port_name(pc)));
	json_object_object_add(o, "ifname", json_object_new_string(pc->ifname));
	json_object_object_add(o, "ifindex", json_object_new_int(ifindex));
	if (pc->netns[0])
		json_object_object_add(o, "netns", json_object_new_string(pc->netns));
	return o;
}

struct json_object *view_port_stats(const struct xvd *d, int vm_id)
{
	struct json_object *o = json_object_new_object();
	struct move_port_count n[XVNET_PORT_KINDS];

	move_port_stats(d, vm_id, n);
	for (int k = XVNET_PORT_NONE; k <= XVNET_PORT_XSK; k++) {
		struct json_object *ko = json_object_new_object();

		json_object_object_add(ko, "packets", json_object_new_uint64(n[k].packets));
		json_object_object_add(ko, "bytes", json_object_new_uint64(n[k].bytes));
		json_object_object_add(o, port_kind_name((uint8_t)k), ko);
	}
	return o;
}

/* The reply of a move that was aborted: the reason, and where the VM is. */
static struct json_object *aborted(const struct move_rec *r, const char *err)
{
	return xv_reply_err("%s (vm %s stays on %s %s)", err, r->old.name,
			    port_kind_name(r->old.port_kind), r->old.ifname);
}

/* Switch and commit a prepared move, and its reply. */
static struct json_object *switch_commit(struct xvd *d, struct move_rec *r,
					 uint64_t t0, uint64_t t_prep)
{
	char err[XV_ERR_LEN] = "";
	struct move_report rep;
	struct json_object *o;

	if (move_switch(d, r, t0, t_prep, &rep, err, sizeof(err)))
		return aborted(r, err);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(r->new.name));
	json_object_object_add(o, "id", json_object_new_int(r->new.id));
	json_object_object_add(o, "phase", json_object_new_string("committed"));
	json_object_object_add(o, "from", port_json(&r->old, r->old_ifindex));
	json_object_object_add(o, "to", port_json(&r->new, r->new_ifindex));
	json_object_object_add(o, "prepare_us", json_object_new_uint64(rep.prepare_us));
	json_object_object_add(o, "switch_us", json_object_new_uint64(rep.switch_us));
	json_object_object_add(o, "drain_us", json_object_new_uint64(rep.drain_us));
	json_object_object_add(o, "commit_us", json_object_new_uint64(rep.commit_us));
	json_object_object_add(o, "drained", json_object_new_uint64(rep.drained));
	json_object_object_add(o, "rescued", json_object_new_uint64(rep.rescued));
	/* its own broadcasts, flooded to its old port: read, not sent on */
	json_object_object_add(o, "rescued_own", json_object_new_uint64(rep.rescued_own));
	json_object_object_add(o, "delivered", view_port_stats(d, r->new.id));
	return xv_reply_ok(o);
}

/* Pop a boolean flag of the request (absent: false). */
static bool flag(struct json_object *args, const char *key)
{
	struct json_object *v;
	bool on;

	if (!json_object_object_get_ex(args, key, &v))
		return false;
	on = json_object_get_boolean(v);
	json_object_object_del(args, key);
	return on;
}

/*
 * switch / abort: the move a vm.move with prepare left (a live
 * migration prepares when it starts and switches when the source stops).
 */
static struct json_object *move_pending_req(struct xvd *d, const struct vm_conf *vm,
					    bool do_switch)
{
	char err[XV_ERR_LEN] = "";
	struct move_rec r;
	int rc = move_pending(d, &r, err, sizeof(err));
	uint64_t t0 = move_now_us();
	struct json_object *o;

	if (rc <= 0)
		return xv_reply_err("name: no move of vm '%s' is prepared%s%s", vm->name,
				    rc < 0 ? ": " : "", rc < 0 ? err : "");
	if (strcmp(r.old.name, vm->name) || r.phase != MV_PREPARED ||
	    strcmp(r.old.ifname, vm->ifname))
		return xv_reply_err("name: the prepared move is of vm '%s' (%s)",
				    r.old.name, move_phase_name(r.phase));
	if (do_switch)
		return switch_commit(d, &r, t0, t0);
	move_abort(d, &r);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(vm->name));
	json_object_object_add(o, "phase", json_object_new_string("aborted"));
	json_object_object_add(o, "port", port_json(&r.old, r.old_ifindex));
	return xv_reply_ok(o);
}

struct json_object *vm_move(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN] = "";
	const struct vm_conf *vm;
	struct move_rec r = { 0 }, pending;
	struct json_object *o;
	uint64_t t0 = move_now_us();
	bool prepare_only, do_switch, do_abort;
	int rc;

	vm = req_vm(d, args, "name", err, sizeof(err));
	if (!vm)
		return xv_reply_err("%s", err);
	prepare_only = flag(args, "prepare");
	do_switch = flag(args, "switch");
	do_abort = flag(args, "abort");
	if (prepare_only + do_switch + do_abort > 1)
		return xv_reply_err("prepare, switch, abort: one at a time");
	if (do_switch || do_abort) {
		if (json_object_object_length(args) > 1)
			return xv_reply_err("%s: takes no port options (they were given"
					    " with prepare)", do_switch ? "switch" : "abort");
		return move_pending_req(d, vm, do_switch);
	}
	if (move_pending(d, &pending, err, sizeof(err)) > 0)
		return xv_reply_err("name: a move of vm '%s' is %s: its switch or"
				    " abort first", pending.old.name,
				    move_phase_name(pending.phase));
	err[0] = '\0';
	r.old = *vm;
	if (build_new(vm, args, &r.new, err, sizeof(err)) ||
	    config_check_vm(&d->cfg, &r.new, vm - d->cfg.vms, err, sizeof(err)))
		return xv_reply_err("%s", err);
	rc = move_prepare(d, &r, err, sizeof(err));
	if (rc == MOVE_ABORTED)
		return aborted(&r, err);
	if (rc)
		return xv_reply_err("%s", err);
	if (!prepare_only)
		return switch_commit(d, &r, t0, move_now_us());
	log_info("vm %s: move to %s %s prepared (%llu us): its switch or abort"
		 " comes next", r.old.name, port_kind_name(r.new.port_kind),
		 r.new.ifname, (unsigned long long)(move_now_us() - t0));
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(r.old.name));
	json_object_object_add(o, "phase", json_object_new_string("prepared"));
	json_object_object_add(o, "from", port_json(&r.old, r.old_ifindex));
	json_object_object_add(o, "to", port_json(&r.new, r.new_ifindex));
	json_object_object_add(o, "prepare_us", json_object_new_uint64(move_now_us() - t0));
	return xv_reply_ok(o);
}
