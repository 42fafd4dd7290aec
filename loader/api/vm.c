// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vm requests: vm.add, vm.del, vm.set, vm.list, vm.show (vm.move is
 * vm_move.c).  Each builds and validates the whole next configuration
 * against the recorded one (nothing touched yet), then hands it to the one
 * commit (loader/kern/commit.h: apply with undo, save, swap, removals).
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "lib/proto.h"
#include "loader/api/request.h"
#include "loader/api/views.h"
#include "loader/api/vm.h"
#include "loader/api/xsk.h"
#include "loader/kern/commit.h"
#include "loader/kern/log.h"
#include "loader/kern/move.h"
#include "loader/kern/netdev.h"

/* A move of the VM under way (--prepare given, no --switch or --abort yet):
 * what a libvirt hook looks for to follow a migration (docs/vmm.md). */
static void vm_json_move(struct xvd *d, const struct vm_conf *vm, struct json_object *o)
{
	char err[XV_ERR_LEN] = "";
	struct move_rec r;
	struct json_object *m, *to;

	if (move_pending(d, &r, err, sizeof(err)) != 1 || r.old.id != vm->id ||
	    strcmp(r.old.name, vm->name))
		return;
	m = json_object_new_object();
	to = json_object_new_object();
	json_object_object_add(m, "phase", json_object_new_string(move_phase_name(r.phase)));
	json_object_object_add(to, "port", json_object_new_string(vm_port_name(&r.new)));
	json_object_object_add(to, "ifname", json_object_new_string(r.new.ifname));
	if (r.new.vhost)
		json_object_object_add(to, "vhost_socket",
				       json_object_new_string(r.new.vhost_socket));
	json_object_object_add(m, "to", to);
	json_object_object_add(o, "move", m);
}

static struct json_object *vm_json(struct xvd *d, const struct vm_conf *vm)
{
	struct json_object *o = json_object_new_object();
	char mac[18], state[32];
	__u32 id = (__u32)vm->id, port_if = 0;

	xv_fmt_mac(vm->mac, mac);
	if (vm->fallback)       /* no device: the host stack reaches it */
		snprintf(state, sizeof(state), "host-stack");
	else
		netdev_state(vm->ifname, state, sizeof(state));
	json_object_object_add(o, "name", json_object_new_string(vm->name));
	json_object_object_add(o, "id", json_object_new_int(vm->id));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "vlan", json_object_new_int(vm->vlan));
	json_object_object_add(o, "port", json_object_new_string(vm_port_name(vm)));
	json_object_object_add(o, "ifname", json_object_new_string(vm->ifname));
	json_object_object_add(o, "ifindex",
			       json_object_new_int((int)if_nametoindex(vm->ifname)));
	json_object_object_add(o, "state", json_object_new_string(state));
	if (vm->port_kind == XVNET_PORT_VETH)
		json_object_object_add(o, "netns", json_object_new_string(vm->netns));
	if (vm->port_kind != XVNET_PORT_TAP && !vm->fallback)
		json_object_object_add(o, "peer_ifname",
				       json_object_new_string(vm->peer_ifname));
	json_object_object_add(o, "queues", json_object_new_int(vm->queues));
	if (vm->n_queue_cpus) {
		struct json_object *qc = json_object_new_array();

		for (int c = 0; c < vm->n_queue_cpus; c++)
			json_object_array_add(qc, json_object_new_int(vm->queue_cpus[c]));
		json_object_object_add(o, "queue_cpus", qc);
	}
	json_object_object_add(o, "ips", view_vm_addrs(vm));
	json_object_object_add(o, "allow", view_vm_allow(vm));
	if (vm->has_owner) {
		json_object_object_add(o, "owner", json_object_new_string(vm->owner));
		json_object_object_add(o, "owner_uid", json_object_new_int64(vm->owner_uid));
	}
	if (vm->has_group) {
		json_object_object_add(o, "group", json_object_new_string(vm->group));
		json_object_object_add(o, "group_gid", json_object_new_int64(vm->group_gid));
	}
	json_object_object_add(o, "keep_vlan", json_object_new_boolean(vm->keep_vlan));
	json_object_object_add(o, "owned", json_object_new_boolean(vm->owned));
	if (d && !bpf_map_lookup_elem(d->m.ports, &id, &port_if))
		json_object_object_add(o, "port_map_ifindex",
				       json_object_new_int((int)port_if));
	if (vm->port_kind == XVNET_PORT_XSK)
		json_object_object_add(o, "xsk", view_xsk(d, vm->id));
	if (vm->vhost && d)
		json_object_object_add(o, "vhost", view_vhost(d, vm));
	if (d)
		vm_json_move(d, vm, o);
	return o;
}

/* Parse and validate a vm.add request completely; nothing is applied. */
int vm_request_parse(const struct xvd_config *cfg, struct json_object *args,
		     struct vm_conf *vm, char *err, size_t errlen)
{
	char val[256];

	vm_conf_init(vm);
	if (!args || !json_object_is_type(args, json_type_object)) {
		snprintf(err, errlen, "args: missing");
		return -1;
	}
	json_object_object_foreach(args, key, v) {
		if (strcmp(key, "owned") == 0) {
			snprintf(err, errlen, "owned: set by the daemon only");
			return -1;
		}
		if (strcmp(key, "ip") == 0 &&
		    json_object_is_type(v, json_type_array)) {
			/* source addresses: a list (or one string) */
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *a = json_object_array_get_idx(v, i);

				if (!json_object_is_type(a, json_type_string)) {
					snprintf(err, errlen, "ip: must be a list of"
						 " addresses");
					return -1;
				}
				if (vm_conf_set(vm, key, json_object_get_string(a),
						err, errlen))
					return -1;
			}
			continue;
		}
		if (req_arg_text(v, val, sizeof(val), err, errlen, key))
			return -1;
		if (json_object_is_type(v, json_type_null))
			continue;
		if (vm_conf_set(vm, key, val, err, errlen))
			return -1;
	}
	if (vm_conf_finish(vm, err, errlen) ||
	    config_check_vm(cfg, vm, -1, err, errlen))
		return -1;
	if (vm->id < 0 && (vm->id = config_alloc_vm_id(cfg)) < 0) {
		snprintf(err, errlen, "name: no free VM slot (max %d)",
			 XVNET_MAX_VMS);
		return -1;
	}
	return 0;
}

/*
 * vm.add with may-exist (hooks, automation): a VM of that name with the
 * same settings is success and nothing changes; with other settings, a
 * refusal that says so.  The request is validated as if the VM were not
 * there, so its defaults fill in as they did the first time.
 */
static struct json_object *vm_add_existing(struct xvd *d, const struct vm_conf *old,
					   struct json_object *args)
{
	char err[XV_ERR_LEN];
	struct xvd_config without;
	struct vm_conf vm;
	int r;

	if (config_copy(&without, &d->cfg))
		return xv_reply_err("out of memory");
	config_del_vm(&without, old->name);
	r = vm_request_parse(&without, args, &vm, err, sizeof(err));
	config_free(&without);
	if (r)
		return xv_reply_err("%s", err);
	if (!vm_conf_same(&vm, old))
		return xv_reply_err("name: vm '%s' exists with other settings"
				    " (vm show %s; vm set changes it)", old->name, old->name);
	return xv_reply_ok(vm_json(d, old));
}

static struct json_object *vm_add(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN];
	const struct vm_conf *added;
	struct vm_conf vm;
	struct xvd_config next;
	struct json_object *jn;

	if (req_flag(args, "may-exist") && json_object_object_get_ex(args, "name", &jn) &&
	    config_find_vm(&d->cfg, json_object_get_string(jn)))
		return vm_add_existing(d, config_find_vm(&d->cfg, json_object_get_string(jn)),
				       args);
	if (vm_request_parse(&d->cfg, args, &vm, err, sizeof(err)))
		return xv_reply_err("%s", err);
	if (!if_nametoindex(d->cfg.nic))
		return xv_reply_err("nic: '%s' does not exist", d->cfg.nic);
	if (netdev_check_port(&vm, err, sizeof(err)))
		return xv_reply_err("%s", err);
	if (config_copy(&next, &d->cfg) || config_add_vm(&next, &vm)) {
		config_free(&next);
		return xv_reply_err("out of memory");
	}
	if (xvd_commit(d, &next, NULL, err, sizeof(err)))
		return xv_reply_err("%s", err);
	added = config_find_vm(&d->cfg, vm.name);
	log_info("vm %s added (id %d, %s %s, ifindex %u)", added->name, added->id,
		 vm_port_name(added), added->ifname,
		 if_nametoindex(added->ifname));
	return xv_reply_ok(vm_json(d, added));
}

/*
 * vm.del: if-exists makes an unknown VM a success; a tap a VMM still holds
 * is refused (deleting it under QEMU leaves QEMU spinning on a dead fd)
 * unless force; keep-port leaves the device xvnetd made in place.
 */
static struct json_object *vm_del(struct xvd *d, struct json_object *args)
{
	bool if_exists = req_flag(args, "if-exists"), force = req_flag(args, "force");
	bool keep_port = req_flag(args, "keep-port");
	const struct commit_opts opts = { .keep_ports = keep_port };
	const struct vm_conf *vm;
	struct vm_conf copy;
	struct xvd_config next;
	char err[XV_ERR_LEN];
	size_t nflows;

	vm = req_vm(d, args, "name", err, sizeof(err));
	if (!vm && if_exists && strstr(err, "unknown VM"))
		return xv_reply_ok(NULL);
	if (!vm)
		return xv_reply_err("%s", err);
	if (vm->owned && !keep_port && !force && netdev_tap_in_use(vm))
		return xv_reply_err("name: vm '%s': its tap %s is held open (a VMM is"
				    " attached): stop the VM first, or keep-port to"
				    " leave the tap, or force", vm->name, vm->ifname);
	copy = *vm;
	if (config_copy(&next, &d->cfg))
		return xv_reply_err("out of memory");
	nflows = next.n_flows;
	/* its configured flows go with it (their entries after the save) */
	config_del_vm_flows(&next, copy.id);
	config_del_vm(&next, copy.name);
	if (xvd_commit(d, &next, &opts, err, sizeof(err)))
		return xv_reply_err("%s", err);
	log_info("vm %s deleted (id %d, %zu flows with it)", copy.name, copy.id,
		 nflows - d->cfg.n_flows);
	return xv_reply_ok(NULL);
}

/*
 * vm.set: a VM's addresses, MAC, VLAN, tag handling, allowances and
 * queue CPUs, changed in place: same id, same port, same flows and rules.
 * What would need the port made anew (port kind, device, namespace,
 * queues, xsk knobs, owner) is refused with the way to do it.  Validated
 * whole against the rest of the configuration, applied to the slot (with
 * the old one written back on failure), then saved.
 */
static const char *const vm_set_keys[] = {
	"mac", "vlan", "ip", "keep-vlan", "allow", "no-allow", "queue-cpus",
};

static struct json_object *vm_set(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN], val[256];
	const struct vm_conf *vm;
	struct vm_conf old, next;
	struct xvd_config cfg;
	bool ip_seen = false;
	long idx;

	vm = req_vm(d, args, "name", err, sizeof(err));
	if (!vm)
		return xv_reply_err("%s", err);
	old = next = *vm;
	idx = vm - d->cfg.vms;
	json_object_object_foreach(args, key, v) {
		size_t k;

		if (strcmp(key, "name") == 0)
			continue;
		for (k = 0; k < sizeof(vm_set_keys) / sizeof(vm_set_keys[0]); k++)
			if (strcmp(key, vm_set_keys[k]) == 0)
				break;
		if (k == sizeof(vm_set_keys) / sizeof(vm_set_keys[0]))
			return xv_reply_err("%s: not changeable in place (mac, vlan, ip,"
					    " keep-vlan, allow, no-allow, queue-cpus are):"
					    " vm del and vm add make the port anew", key);
		if (strcmp(key, "ip") == 0) {
			struct json_object *one = v;

			if (!ip_seen)
				next.n_addrs = 0;       /* the list given replaces */
			ip_seen = true;
			for (size_t i = 0; json_object_is_type(v, json_type_array) ?
			     i < json_object_array_length(v) : i < 1; i++) {
				if (json_object_is_type(v, json_type_array))
					one = json_object_array_get_idx(v, i);
				if (req_arg_text(one, val, sizeof(val), err, sizeof(err), key) ||
				    (val[0] && vm_conf_set(&next, key, val, err, sizeof(err))))
					return xv_reply_err("%s", err);
			}
			continue;
		}
		if (req_arg_text(v, val, sizeof(val), err, sizeof(err), key))
			return xv_reply_err("%s", err);
		if (strcmp(key, "keep-vlan") == 0) {
			if (strcmp(val, "on") && strcmp(val, "off") && strcmp(val, "1"))
				return xv_reply_err("keep-vlan: '%s' is not on or off", val);
			next.keep_vlan = strcmp(val, "off") != 0;
			continue;
		}
		if (strcmp(key, "queue-cpus") == 0)
			next.n_queue_cpus = 0;
		if (vm_conf_set(&next, key, val, err, sizeof(err)))
			return xv_reply_err("%s", err);
	}
	if (vm_conf_finish(&next, err, sizeof(err)) ||
	    config_check_vm(&d->cfg, &next, idx, err, sizeof(err)))
		return xv_reply_err("%s", err);
	if (vm_conf_same(&next, &old))
		return xv_reply_ok(vm_json(d, vm));
	if (!if_nametoindex(next.ifname))
		return xv_reply_err("name: vm '%s' has no port device %s now", old.name,
				    next.ifname);
	if (config_copy(&cfg, &d->cfg))
		return xv_reply_err("out of memory");
	cfg.vms[idx] = next;
	if (xvd_commit(d, &cfg, &(struct commit_opts){ .mac_in_place = true }, err,
		   sizeof(err)))
		return xv_reply_err("%s", err);
	log_info("vm %s changed in place", next.name);
	return xv_reply_ok(vm_json(d, &d->cfg.vms[idx]));
}

static struct json_object *vm_list(struct xvd *d)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->cfg.n_vms; i++)
		json_object_array_add(arr, vm_json(d, &d->cfg.vms[i]));
	return xv_reply_ok(arr);
}

static struct json_object *vm_show(struct xvd *d, struct json_object *args)
{
	struct json_object *o, *ind;
	char err[XV_ERR_LEN];
	const struct vm_conf *vm;
	struct xvnet_vm slot;
	__u32 id;
	char key[XVNET_RSS_KEY_SIZE * 3];

	vm = req_vm(d, args, "name", err, sizeof(err));
	if (!vm)
		return xv_reply_err("%s", err);
	o = vm_json(d, vm);
	id = (__u32)vm->id;
	if (!bpf_map_lookup_elem(d->m.vms, &id, &slot)) {
		for (int i = 0; i < XVNET_RSS_KEY_SIZE; i++)
			sprintf(key + i * 3, "%02x%s", slot.rss_key[i],
				i + 1 < XVNET_RSS_KEY_SIZE ? ":" : "");
		json_object_object_add(o, "active", json_object_new_boolean(
					       slot.flags & XVNET_VM_F_ACTIVE));
		json_object_object_add(o, "hash_fields",
				       json_object_new_int(slot.hash_fields));
		json_object_object_add(o, "rss_key", json_object_new_string(key));
		ind = json_object_new_array();
		for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
			json_object_array_add(ind, json_object_new_int(slot.rss_indir[i]));
		json_object_object_add(o, "rss_indir", ind);
	}
	json_object_object_add(o, "stats", view_stats(d, vm));
	return xv_reply_ok(o);
}

API_ARGS(vm_add)
API_ARGS(vm_del)
API_ARGS(vm_set)
API_ARGS(vm_move)
API_NOARGS(vm_list)
API_ARGS(vm_show)

const struct api_cmd vm_cmds[] = {
	{ "vm.add", cmd_vm_add, false },
	{ "vm.del", cmd_vm_del, false },
	{ "vm.set", cmd_vm_set, false },
	{ "vm.move", cmd_vm_move, false },
	{ "vm.list", cmd_vm_list, false },
	{ "vm.show", cmd_vm_show, false },
	{ NULL, NULL, false },
};
