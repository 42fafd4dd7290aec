// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control requests.  Each handler builds and validates the whole next
 * configuration against the recorded one (nothing touched yet), then hands
 * it to the one commit (loader/kern/commit.h: apply with undo, save, swap,
 * removals).
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "lib/proto.h"
#include "xv_version.h"
#include "loader/kern/caps.h"
#include "loader/kern/log.h"
#include "loader/kern/netdev.h"
#include "loader/kern/xsk.h"
#include "loader/kern/coalesce.h"
#include "loader/kern/commit.h"
#include "loader/kern/datapath.h"
#include "loader/move.h"
#include "loader/api/coalesce.h"
#include "loader/api/rss.h"
#include "loader/api/rules.h"
#include "loader/api/service.h"
#include "loader/api/views.h"
#include "loader/api/xsk.h"
#include "loader/xvnetd.h"

/* A request argument as text ("true"/"false" for booleans). */
static int arg_text(struct json_object *v, char *buf, size_t len, char *err,
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

static struct json_object *vm_json(struct xvd *d, const struct vm_conf *vm)
{
	struct json_object *o = json_object_new_object();
	char mac[18], state[32];
	__u32 id = (__u32)vm->id, port_if = 0;

	xv_fmt_mac(vm->mac, mac);
	netdev_state(vm->ifname, state, sizeof(state));
	json_object_object_add(o, "name", json_object_new_string(vm->name));
	json_object_object_add(o, "id", json_object_new_int(vm->id));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "vlan", json_object_new_int(vm->vlan));
	json_object_object_add(o, "port", json_object_new_string(
				       port_kind_name(vm->port_kind)));
	json_object_object_add(o, "ifname", json_object_new_string(vm->ifname));
	json_object_object_add(o, "ifindex",
			       json_object_new_int((int)if_nametoindex(vm->ifname)));
	json_object_object_add(o, "state", json_object_new_string(state));
	if (vm->port_kind == XVNET_PORT_VETH)
		json_object_object_add(o, "netns", json_object_new_string(vm->netns));
	if (vm->port_kind != XVNET_PORT_TAP)
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
	return o;
}

/* cfg, changed by the request, through the one commit (loader/kern/commit.h). */
static int commit(struct xvd *d, struct xvd_config *next,
		  const struct commit_opts *opts, char *err, size_t errlen)
{
	return xvd_commit(d, next, opts, err, errlen) ? -1 : 0;
}

/* ---- vm --------------------------------------------------------------- */

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
		if (arg_text(v, val, sizeof(val), err, errlen, key))
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

/* Pop a boolean request flag (xvnetctl's --may-exist etc.) from args. */
static bool take_flag(struct json_object *args, const char *key)
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

	if (take_flag(args, "may-exist") && json_object_object_get_ex(args, "name", &jn) &&
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
	if (commit(d, &next, NULL, err, sizeof(err)))
		return xv_reply_err("%s", err);
	added = config_find_vm(&d->cfg, vm.name);
	log_info("vm %s added (id %d, %s %s, ifindex %u)", added->name, added->id,
		 port_kind_name(added->port_kind), added->ifname,
		 if_nametoindex(added->ifname));
	return xv_reply_ok(vm_json(d, added));
}

/* The configured flows that deliver to vm_id go with it (the kernel's
 * entries go after the save: loader/kern/commit.c). */
static void config_del_flows_of_vm(struct xvd_config *cfg, int vm_id)
{
	for (size_t i = cfg->n_flows; i-- > 0;) {
		const struct vm_conf *vm = config_find_vm(cfg, cfg->flows[i].vm);

		if (cfg->flows[i].verdict == XVNET_FLOW_DELIVER && vm &&
		    vm->id == vm_id) {
			struct xvnet_flow_key key = cfg->flows[i].key;

			config_del_flow(cfg, &key);
		}
	}
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

/*
 * vm.del: if-exists makes an unknown VM a success; a tap a VMM still holds
 * is refused (deleting it under QEMU leaves QEMU spinning on a dead fd)
 * unless force; keep-port leaves the device xvnetd made in place.
 */
static struct json_object *vm_del(struct xvd *d, struct json_object *args)
{
	bool if_exists = take_flag(args, "if-exists"), force = take_flag(args, "force");
	bool keep_port = take_flag(args, "keep-port");
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
				    " attached): stop the VM first, or --keep-port to"
				    " leave the tap, or --force", vm->name, vm->ifname);
	copy = *vm;
	if (config_copy(&next, &d->cfg))
		return xv_reply_err("out of memory");
	nflows = next.n_flows;
	config_del_flows_of_vm(&next, copy.id);
	config_del_vm(&next, copy.name);
	if (commit(d, &next, &opts, err, sizeof(err)))
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
				if (arg_text(one, val, sizeof(val), err, sizeof(err), key) ||
				    (val[0] && vm_conf_set(&next, key, val, err, sizeof(err))))
					return xv_reply_err("%s", err);
			}
			continue;
		}
		if (arg_text(v, val, sizeof(val), err, sizeof(err), key))
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
	if (commit(d, &cfg, &(struct commit_opts){ .mac_in_place = true }, err,
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

static struct json_object *port_list(struct xvd *d)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->cfg.n_vms; i++) {
		const struct vm_conf *vm = &d->cfg.vms[i];
		struct json_object *o = json_object_new_object();
		char state[32];
		__u32 id = (__u32)vm->id, mif = 0;
		int ifindex = (int)if_nametoindex(vm->ifname);

		netdev_state(vm->ifname, state, sizeof(state));
		bpf_map_lookup_elem(d->m.ports, &id, &mif);
		json_object_object_add(o, "ifname", json_object_new_string(vm->ifname));
		json_object_object_add(o, "ifindex", json_object_new_int(ifindex));
		json_object_object_add(o, "kind", json_object_new_string(
					       port_kind_name(vm->port_kind)));
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "vm", json_object_new_string(vm->name));
		json_object_object_add(o, "queues", json_object_new_int(vm->queues));
		json_object_object_add(o, "owned", json_object_new_boolean(vm->owned));
		json_object_object_add(o, "in_map", json_object_new_boolean(
					       ifindex && mif == (__u32)ifindex));
		json_object_array_add(arr, o);
	}
	return xv_reply_ok(arr);
}

/* ---- flow ------------------------------------------------------------- */

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
		if (arg_text(v, val, sizeof(val), err, errlen, key))
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
	if (commit(d, &next, NULL, err, sizeof(err)))
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
	if (commit(d, &next, NULL, err, sizeof(err)))
		return xv_reply_err("%s", err);
	/* a learnt entry under the same key goes too, as it always did */
	tbl_flow_delete(d, &fc.key);
	return xv_reply_ok(NULL);
}

/* ---- status, stats, shutdown ------------------------------------------ */

/* One line of /sys/class/net/IF/FILE ("" when unreadable). */
static void sysfs_read(const char *ifname, const char *file, char *buf,
		       size_t len)
{
	char path[128];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, file);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void problem(struct json_object *list, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct json_object *list, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(list, json_object_new_string(buf));
}

/*
 * Health: what makes the service degraded, each as a sentence in
 * "problems" (xvnetctl status exits 3 when there is one): the NIC down or
 * without carrier, nic_rx not attached, a VM port missing or not the one
 * in the port map (stale), a capability the unit grants but we lack.  The
 * datapath's error counters are shown, not judged: they only ever grow.
 */
static void health(struct xvd *d, struct json_object *o,
		   struct json_object *probs)
{
	static const int caps[] = { CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN,
				    CAP_SYS_ADMIN, CAP_NET_RAW, CAP_IPC_LOCK };
	struct json_object *missing = json_object_new_array();
	struct json_object *stale = json_object_new_array();
	char oper[32], carrier[8];
	const char *gap;

	if (d->empty) {
		problem(probs, "no configuration: %s is missing", d->config_path);
	} else {
		sysfs_read(d->cfg.nic, "operstate", oper, sizeof(oper));
		sysfs_read(d->cfg.nic, "carrier", carrier, sizeof(carrier));
		json_object_object_add(o, "nic_oper_state", json_object_new_string(
					       oper[0] ? oper : "missing"));
		/* carrier reads EINVAL while the device is down: no carrier */
		json_object_object_add(o, "nic_carrier", json_object_new_boolean(
					       strcmp(carrier, "1") == 0));
		if (!oper[0])
			problem(probs, "nic %s: missing", d->cfg.nic);
		else if (strcmp(oper, "up") && strcmp(oper, "unknown"))
			problem(probs, "nic %s: %s", d->cfg.nic, oper);
		else if (strcmp(carrier, "1"))
			problem(probs, "nic %s: no carrier", d->cfg.nic);
		if (strcmp(dp_xdp_mode(d), "none") == 0)
			problem(probs, "nic %s: nic_rx is not attached", d->cfg.nic);
	}
	for (size_t i = 0; !d->empty && i < d->cfg.n_vms; i++) {
		const struct vm_conf *vm = &d->cfg.vms[i];
		__u32 id = (__u32)vm->id, mif = 0;
		int ifindex = (int)if_nametoindex(vm->ifname);

		if (!ifindex) {
			json_object_array_add(missing, json_object_new_string(vm->ifname));
			problem(probs, "vm %s: port %s missing", vm->name, vm->ifname);
			continue;
		}
		if (bpf_map_lookup_elem(d->m.ports, &id, &mif) || mif != (__u32)ifindex) {
			json_object_array_add(stale, json_object_new_string(vm->ifname));
			problem(probs, "vm %s: port %s stale (port map has ifindex"
				" %u, the device is %d)", vm->name, vm->ifname, mif,
				ifindex);
		}
	}
	json_object_object_add(o, "ports_missing", missing);
	json_object_object_add(o, "ports_stale", stale);
	gap = caps_missing_hint(caps, sizeof(caps) / sizeof(caps[0]));
	/* " (missing CAP_A, CAP_B)" -> "CAP_A, CAP_B" */
	json_object_object_add(o, "capabilities_missing", json_object_new_string_len(
				       gap[0] ? gap + 10 : "", gap[0] ? (int)strlen(gap) - 11 : 0));
	if (gap[0])
		problem(probs, "capabilities:%s", gap);
	json_object_object_add(o, "degraded", json_object_new_boolean(
				       json_object_array_length(probs) > 0));
	json_object_object_add(o, "problems", probs);
}

/* The datapath's error counters: their growth is a health problem (their
 * totals alone are not: they only ever grow). */
static const __u32 err_idx[XV_HEALTH_ERRS] = {
	XVNET_CNT_FLOOD_ERR, XVNET_CNT_QUEUE_NOT_READY, XVNET_CNT_META_FAIL,
	XVNET_CNT_VLAN_POP_FAIL, XVNET_CNT_VLAN_PUSH_FAIL,
	XVNET_CNT_TX_UPLINK_DOWN, XVNET_CNT_SKB_PATH_DROP,
	XVNET_CNT_CPU_SPREAD_DROP, XVNET_CNT_SLOW_PATH_FULL,
};
static const char *const counter_names[] = {
#define XVNET_X_NAME(e, name, desc) name,
	XVNET_COUNTERS(XVNET_X_NAME)
#undef XVNET_X_NAME
};

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void err_sample(struct xvd *d, struct xvd_err_sample *s)
{
	__u64 *pc = calloc((size_t)d->ncpus, sizeof(*pc));

	memset(s, 0, sizeof(*s));
	s->t = mono_s();
	for (int i = 0; pc && i < XV_HEALTH_ERRS; i++) {
		__u32 k = err_idx[i];

		if (!bpf_map_lookup_elem(d->m.stats, &k, pc))
			for (int c = 0; c < d->ncpus; c++)
				s->v[i] += pc[c];
	}
	s->set = pc != NULL;
	free(pc);
}

void health_tick(struct xvd *d)
{
	if (d->hs[1].set && mono_s() - d->hs[1].t < XV_HEALTH_EVERY_S)
		return;
	d->hs[0] = d->hs[1];
	err_sample(d, &d->hs[1]);
}

/* "errors" (totals), "errors_recent" (growth since the older sample, 10-20
 * s ago) and a problem when any grew. */
static void error_counters(struct xvd *d, struct json_object *o,
			   struct json_object *probs)
{
	struct json_object *e = json_object_new_object();
	struct json_object *recent = json_object_new_object();
	const struct xvd_err_sample *base = d->hs[0].set ? &d->hs[0] :
					    d->hs[1].set ? &d->hs[1] : NULL;
	struct xvd_err_sample cur;
	char grew[200] = "";
	size_t len = 0;

	err_sample(d, &cur);
	for (int i = 0; i < XV_HEALTH_ERRS; i++) {
		const char *name = counter_names[err_idx[i]];
		uint64_t dv = base && cur.v[i] > base->v[i] ? cur.v[i] - base->v[i] : 0;

		json_object_object_add(e, name, json_object_new_uint64(cur.v[i]));
		json_object_object_add(recent, name, json_object_new_uint64(dv));
		/* flood clones to a port that is down (a tap no VMM opened
		 * yet) fail by design: flood_err is shown, never judged */
		if (dv && err_idx[i] != XVNET_CNT_FLOOD_ERR && len < sizeof(grew))
			len += (size_t)snprintf(grew + len, sizeof(grew) - len,
						" %s +%" PRIu64, name, dv);
	}
	json_object_object_add(o, "errors", e);
	json_object_object_add(o, "errors_recent", recent);
	json_object_object_add(o, "errors_window_s", json_object_new_int64(
				       base ? (int64_t)(cur.t - base->t) : 0));
	if (grew[0])
		problem(probs, "datapath errors in the last %ld s:%s",
			(long)(cur.t - base->t), grew);
}

/* Failed redirects (xdp:xdp_redirect_err) per VM, direction and errno:
 * shown, not judged (a redirect into a port no VMM has opened yet fails by
 * design, as flood copies to it do). */
struct redir_rows {
	struct json_object *arr;
	const char *vm;
};

static void redirect_err_row(void *ctx, bool out, int err, uint64_t frames)
{
	struct redir_rows *c = ctx;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "vm", json_object_new_string(c->vm));
	json_object_object_add(o, "dir", json_object_new_string(out ? "out" : "in"));
	json_object_object_add(o, "err", json_object_new_int(err));
	json_object_object_add(o, "reason", json_object_new_string(strerror(err)));
	json_object_object_add(o, "frames", json_object_new_uint64(frames));
	json_object_array_add(c->arr, o);
}

static void redirect_errors(struct xvd *d, struct json_object *o)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->cfg.n_vms; i++) {
		struct redir_rows c = { arr, d->cfg.vms[i].name };

		dp_redirect_errors(d, d->cfg.vms[i].id, redirect_err_row, &c);
	}
	json_object_object_add(o, "redirect_errors", arr);
}

static struct json_object *status(struct xvd *d)
{
	struct json_object *o, *probs = json_object_new_array();
	int vms, flows;

	if (d->empty) {
		o = json_object_new_object();
		json_object_object_add(o, "nic", json_object_new_string(""));
		json_object_object_add(o, "xdp_mode", json_object_new_string("none"));
	} else {
		o = view_datapath(d);
		tbl_count_active(d, &vms, &flows);
		json_object_object_add(o, "vms", json_object_new_int(vms));
		json_object_object_add(o, "flows", json_object_new_int(flows));
		json_object_object_add(o, "configured_flows",
				       json_object_new_int((int)d->cfg.n_flows));
		error_counters(d, o, probs);
		redirect_errors(d, o);
	}
	json_object_object_add(o, "config", json_object_new_string(d->config_path));
	json_object_object_add(o, "state", json_object_new_string(d->state_path));
	json_object_object_add(o, "socket", json_object_new_string(d->socket_path));
	json_object_object_add(o, "uptime_s", json_object_new_int64(
				       (int64_t)(time(NULL) - d->started)));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "version", json_object_new_string(XV_VERSION));
	if (!d->empty)
		json_object_object_add(o, "xsk", view_xsk_status(d));
	health(d, o, probs);
	return xv_reply_ok(o);
}

static struct json_object *stats(struct xvd *d, struct json_object *args)
{
	struct json_object *jn;
	const struct vm_conf *vm = NULL;

	if (args && json_object_object_get_ex(args, "vm", &jn) &&
	    !json_object_is_type(jn, json_type_null)) {
		vm = config_find_vm(&d->cfg, json_object_get_string(jn));
		if (!vm)
			return xv_reply_err("vm: '%.64s' unknown VM",
					    json_object_get_string(jn));
	}
	{
		struct json_object *o = view_stats(d, vm);

		json_object_object_add(o, "slowpath", view_slowpath(d));
		return xv_reply_ok(o);
	}
}

static struct json_object *shutdown_req(struct xvd *d, struct json_object *args)
{
	struct json_object *jt;

	d->teardown = args && json_object_object_get_ex(args, "teardown", &jt) &&
		      json_object_get_boolean(jt);
	d->stop = true;
	log_info("shutdown requested%s", d->teardown ? " with teardown" : "");
	return xv_reply_ok(NULL);
}

static struct json_object *reload_req(struct xvd *d)
{
	char err[XV_ERR_LEN];
	int r = xvd_reload(d, err, sizeof(err));

	if (r == XV_COMMIT_UNDONE)
		return xv_reply_err("%s (previous state kept)", err);
	if (r)
		return xv_reply_err("%s", err);
	return xv_reply_ok(NULL);
}

/* ---- the command table ------------------------------------------------ */

/* Every request as one signature: what it changes or shows, its args (NULL:
 * none given), and the fds its reply hands over (xsk.get only). */
typedef struct json_object *(*cmd_fn)(struct xvd *d, struct json_object *args,
				      struct xvd_fds *fds);

#define CMD_ARGS(fn) \
	static struct json_object *cmd_##fn(struct xvd *d, struct json_object *args, \
					    struct xvd_fds *fds) \
	{ (void)fds; return fn(d, args); }
#define CMD_NOARGS(fn) \
	static struct json_object *cmd_##fn(struct xvd *d, struct json_object *args, \
					    struct xvd_fds *fds) \
	{ (void)args; (void)fds; return fn(d); }
CMD_NOARGS(status)
CMD_ARGS(vm_add)
CMD_ARGS(vm_del)
CMD_ARGS(vm_set)
CMD_ARGS(move_vm)
CMD_NOARGS(vm_list)
CMD_ARGS(vm_show)
CMD_NOARGS(port_list)
CMD_ARGS(flow_add)
CMD_ARGS(flow_del)
CMD_ARGS(rule_add)
CMD_ARGS(rule_del)
CMD_ARGS(rule_list)
CMD_ARGS(stats)
CMD_ARGS(rss_get)
CMD_ARGS(rss_set)
CMD_ARGS(coal_get)
CMD_ARGS(coal_set)
CMD_ARGS(shutdown_req)
CMD_NOARGS(reload_req)

/* flow.list: the whole table without args, else a page at a cursor */
static struct json_object *cmd_flow_list(struct xvd *d, struct json_object *args,
					 struct xvd_fds *fds)
{
	char err[XV_ERR_LEN];
	struct json_object *page;

	(void)fds;
	if (!args || !json_object_object_length(args))
		return xv_reply_ok(view_flow_list(d));
	page = view_flow_list_page(d, args, err, sizeof(err));
	return page ? xv_reply_ok(page) : xv_reply_err("%s", err);
}

static const struct cmd {
	const char *name;
	cmd_fn fn;
	bool without_datapath;      /* answered before a config exists */
} cmds[] = {
	{ "status", cmd_status, true },
	{ "vm.add", cmd_vm_add, false },
	{ "vm.del", cmd_vm_del, false },
	{ "vm.set", cmd_vm_set, false },
	{ "vm.move", cmd_move_vm, false },
	{ "vm.list", cmd_vm_list, false },
	{ "vm.show", cmd_vm_show, false },
	{ "port.list", cmd_port_list, false },
	{ "flow.add", cmd_flow_add, false },
	{ "flow.del", cmd_flow_del, false },
	{ "flow.list", cmd_flow_list, false },
	{ "rule.add", cmd_rule_add, false },
	{ "rule.del", cmd_rule_del, false },
	{ "rule.list", cmd_rule_list, false },
	{ "stats", cmd_stats, false },
	{ "xsk.get", xsk_get, false },
	{ "rss.get", cmd_rss_get, false },
	{ "rss.set", cmd_rss_set, false },
	{ "coalesce.get", cmd_coal_get, false },
	{ "coalesce.set", cmd_coal_set, false },
	{ "shutdown", cmd_shutdown_req, true },
	{ "reload", cmd_reload_req, true },
};

struct json_object *xvd_handle(struct xvd *d, struct json_object *req,
			       struct xvd_fds *fds)
{
	struct json_object *jc, *args = NULL;
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
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmd, cmds[i].name))
			continue;
		if (d->empty && !cmds[i].without_datapath)
			return xv_reply_err("no datapath: %s is missing (write it,"
					    " then 'xvnetctl reload')", d->config_path);
		return cmds[i].fn(d, args, fds);
	}
	if (d->empty)   /* as before the table: an unknown name gets this too */
		return xv_reply_err("no datapath: %s is missing (write it,"
				    " then 'xvnetctl reload')", d->config_path);
	return xv_reply_err("cmd: '%.64s' unknown", cmd);
}

/* ---- reload (SIGHUP) and teardown ------------------------------------- */

/* No config at start: the first reload brings the datapath up.  A save
 * failure is only logged: the datapath runs, there was none before. */
static int bring_up(struct xvd *d, struct xvd_config *next, char *err,
		    size_t errlen)
{
	char why[XV_ERR_LEN];

	d->cfg = *next;
	config_init(next);
	if (dp_start(d, err, errlen)) {
		if (d->skel)
			dp_close(d);
		config_free(&d->cfg);
		return XV_COMMIT_UNDONE;
	}
	d->empty = false;
	if (!xvd_commit_reconcile(d, why, sizeof(why)))
		svc_reload_done(d);
	if (sp_start(d, why, sizeof(why)))
		log_warn("slow path disabled: %s", why);
	return 0;
}

/* What the reload cannot change while running stays as loaded; a VM on the
 * device of a VM of the running state (the same one, or one renamed in the
 * file) keeps the owned flag of that device. */
static void reload_keep_running(const struct xvd *d, struct xvd_config *next)
{
	if (strcmp(next->nic, d->cfg.nic) || next->flow_max != d->cfg.flow_max ||
	    next->malformed_pass != d->cfg.malformed_pass ||
	    next->rx_hash_hw != d->cfg.rx_hash_hw)
		log_warn("reload: nic, flow-max, malformed and rx-hash take effect"
			 " at the next start");
	strcpy(next->nic, d->cfg.nic);
	next->rx_hash_hw = d->cfg.rx_hash_hw;   /* what is loaded */
	for (size_t i = 0; i < next->n_vms; i++) {
		struct vm_conf *nv = &next->vms[i];
		const struct vm_conf *old = config_find_vm(&d->cfg, nv->name);

		for (size_t k = 0; !old && k < d->cfg.n_vms; k++)
			if (!config_find_vm(next, d->cfg.vms[k].name) &&
			    strcmp(d->cfg.vms[k].ifname, nv->ifname) == 0)
				old = &d->cfg.vms[k];
		if (old && strcmp(nv->ifname, old->ifname) == 0 &&
		    nv->port_kind == old->port_kind)
			nv->owned = old->owned;         /* same device, kept */
	}
}

/* Returns 0, or XV_COMMIT_UNDONE (nothing changed), or XV_COMMIT_PARTIAL. */
int xvd_reload(struct xvd *d, char *err, size_t errlen)
{
	struct xvd_config next;
	int r;

	svc_notify("RELOADING=1");
	if (svc_reload_config(d, &next, err, errlen)) {
		log_err("reload refused, previous state kept: %s", err);
		svc_notify("READY=1");
		return XV_COMMIT_UNDONE;
	}
	if (d->empty) {
		r = bring_up(d, &next, err, errlen);
		if (r)
			log_err("reload: %s", err);
		svc_notify_ready(d);
		return r;
	}
	reload_keep_running(d, &next);
	r = xvd_commit(d, &next, NULL, err, errlen);
	if (r) {
		svc_notify("READY=1");
		log_err("reload: %s%s", err, r == XV_COMMIT_UNDONE ?
			" (previous state kept)" : "");
		return r;
	}
	/* and what drifted (a port deleted and made again while link events
	 * were lost): the promise of `xvnetctl reload` to bring ports in line */
	if (xvd_commit_reconcile(d, err, errlen))
		log_warn("reload: %s", err);
	svc_notify("READY=1");
	svc_reload_done(d);
	log_info("config reloaded: %zu VMs, %zu flows", d->cfg.n_vms,
		 d->cfg.n_flows);
	return 0;
}

int xvd_teardown_ports(const struct xvd_config *cfg)
{
	char err[XV_ERR_LEN];
	int rc = 0;

	for (size_t i = 0; i < cfg->n_vms; i++) {
		const struct vm_conf *vm = &cfg->vms[i];

		if (!vm->owned) {       /* adopted: keep it, without our programs */
			int ifindex = (int)if_nametoindex(vm->ifname);

			if (ifindex)
				dp_port_detach(ifindex);
			/* and without tun's steering program (dp_tap_steer) */
			if (ifindex && vm->port_kind == XVNET_PORT_TAP && vm->queues > 1 &&
			    netdev_tap_steering(vm->ifname, -1, err, sizeof(err)))
				log_warn("%s", err);
			continue;
		}
		if (netdev_delete(vm->ifname, err, sizeof(err))) {
			log_warn("%s", err);
			rc = -1;
		} else {
			log_info("deleted port %s of vm %s", vm->ifname, vm->name);
		}
	}
	return rc;
}
