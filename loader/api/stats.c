// SPDX-License-Identifier: GPL-2.0-only
/* stats's reply: the data path's counters, then each VM's (queues, xsk,
 * egress, failed redirects, ports), read through kern/ as numbers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/proto.h"
#include "loader/api/request.h"
#include "loader/api/views.h"
#include "loader/api/xsk.h"
#include "loader/kern/xsk.h"
#include "loader/kern/addrs.h"
#include "loader/kern/datapath.h"
#include "loader/kern/tables.h"

/* vm_tx's counters for the VM, and "spoof": the refusals summed. */
static struct json_object *egress_json(struct xvd *d, int vm_id)
{
	static const char *const names[] = {
#define XVNET_X_NAME(e, name, desc) name,
		XVNET_VM_TX_COUNTERS(XVNET_X_NAME)
#undef XVNET_X_NAME
	};
	struct json_object *o = json_object_new_object();
	__u64 sum[XVNET_VM_CNT_MAX], spoof = 0;

	addrs_tx_counters(d, vm_id, sum);
	for (int i = 0; i < XVNET_VM_CNT_MAX; i++) {
		json_object_object_add(o, names[i], json_object_new_uint64(sum[i]));
		if (i >= XVNET_VM_CNT_SPOOF_MAC)
			spoof += sum[i];
	}
	json_object_object_add(o, "spoof", json_object_new_uint64(spoof));
	return o;
}

static void redirect_err_add(void *ctx, bool out, int err, uint64_t frames)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "dir", json_object_new_string(out ? "out" : "in"));
	json_object_object_add(o, "err", json_object_new_int(err));
	json_object_object_add(o, "reason", json_object_new_string(strerror(err)));
	json_object_object_add(o, "frames", json_object_new_uint64(frames));
	json_object_array_add(ctx, o);
}

/* A VM's failed redirects: [{dir, err, reason, frames}]. */
static struct json_object *redirect_errors_json(struct xvd *d, int vm_id)
{
	struct json_object *arr = json_object_new_array();

	dp_redirect_errors(d, vm_id, redirect_err_add, arr);
	return arr;
}

/* One counter of /sys/class/net/IF/statistics; -1 when unreadable. */
static int64_t dev_stat(const char *ifname, const char *name)
{
	char path[128];
	uint64_t v;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fscanf(f, "%" SCNu64, &v) == 1;
	fclose(f);
	return ok ? (int64_t)v : -1;
}

/*
 * The port device's own transmit counters: what became of the frames xvnet
 * handed it.  A frame sent at the skb level (tc, a tap VM's generic XDP)
 * that the device drops -- a tap no VMM holds, a full ring -- is seen by no
 * XDP tracepoint, only here (tx_dropped); tun counts tx_packets as its
 * reader reads.  null when the device is missing.
 */
static struct json_object *port_dev_json(const struct vm_conf *vm)
{
	int64_t tx = dev_stat(vm->ifname, "tx_packets");
	int64_t drop = dev_stat(vm->ifname, "tx_dropped");
	struct json_object *o;

	if (tx < 0 || drop < 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "ifname", json_object_new_string(vm->ifname));
	json_object_object_add(o, "tx_packets", json_object_new_int64(tx));
	json_object_object_add(o, "tx_dropped", json_object_new_int64(drop));
	return o;
}

static struct json_object *vm_stats(struct xvd *d, const struct vm_conf *vm)
{
	struct json_object *o = json_object_new_object();
	struct json_object *qs = json_object_new_array();
	__u64 tp = 0, tb = 0;

	for (int q = 0; q < vm->queues; q++) {
		__u64 p, b;
		struct json_object *qo;

		tbl_queue_counts(d, vm->id, q, &p, &b);
		qo = json_object_new_object();
		json_object_object_add(qo, "queue", json_object_new_int(q));
		json_object_object_add(qo, "packets", json_object_new_uint64(p));
		json_object_object_add(qo, "bytes", json_object_new_uint64(b));
		json_object_array_add(qs, qo);
		tp += p;
		tb += b;
	}
	json_object_object_add(o, "name", json_object_new_string(vm->name));
	json_object_object_add(o, "id", json_object_new_int(vm->id));
	json_object_object_add(o, "packets", json_object_new_uint64(tp));
	json_object_object_add(o, "bytes", json_object_new_uint64(tb));
	json_object_object_add(o, "queues", qs);
	if (vm->port_kind == XVNET_PORT_XSK)
		json_object_object_add(o, "xsk", view_xsk(d, vm->id));
	json_object_object_add(o, "egress", egress_json(d, vm->id));
	json_object_object_add(o, "redirect_errors", redirect_errors_json(d, vm->id));
	json_object_object_add(o, "port_dev", port_dev_json(vm));
	json_object_object_add(o, "ports", view_port_stats(d, vm->id));
	return o;
}

struct json_object *view_stats(struct xvd *d, const struct vm_conf *only)
{
	static const char *const names[] = {
#define XVNET_X_NAME(e, name, desc) name,
		XVNET_COUNTERS(XVNET_X_NAME)
#undef XVNET_X_NAME
	};
	struct json_object *o = json_object_new_object();
	struct json_object *cnt = json_object_new_object();
	struct json_object *vms = json_object_new_array();
	__u64 *pc = calloc((size_t)d->ncpus, sizeof(__u64));

	for (__u32 i = 0; pc && i < XVNET_CNT_MAX; i++) {
		__u64 sum = 0;

		if (!tbl_counter(d, i, pc))
			for (int c = 0; c < d->ncpus; c++)
				sum += pc[c];
		json_object_object_add(cnt, names[i], json_object_new_uint64(sum));
		/* which CPUs did the spread VMs' delivery work */
		if (i == XVNET_CNT_CPU_SPREAD) {
			struct json_object *per = json_object_new_array();

			for (int c = 0; c < d->ncpus; c++)
				json_object_array_add(per, json_object_new_uint64(pc[c]));
			json_object_object_add(o, "cpu_spread_per_cpu", per);
		}
	}
	for (size_t i = 0; i < d->cfg.n_vms; i++)
		if (!only || only == &d->cfg.vms[i])
			json_object_array_add(vms, vm_stats(d, &d->cfg.vms[i]));
	free(pc);
	json_object_object_add(o, "counters", cnt);
	json_object_object_add(o, "vms", vms);
	return o;
}

struct json_object *view_slowpath(const struct xvd *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "records", json_object_new_uint64(d->sp.records));
	json_object_object_add(o, "installed", json_object_new_uint64(d->sp.installed));
	json_object_object_add(o, "allowed", json_object_new_uint64(d->sp.allowed));
	json_object_object_add(o, "denied", json_object_new_uint64(d->sp.denied));
	json_object_object_add(o, "unknown_vm", json_object_new_uint64(d->sp.unknown_vm));
	json_object_object_add(o, "flushed", json_object_new_uint64(d->sp.flushed));
	json_object_object_add(o, "aged", json_object_new_uint64(d->sp.aged));
	json_object_object_add(o, "reinjected", json_object_new_uint64(d->sp.reinjected));
	json_object_object_add(o, "not_reinjected", json_object_new_uint64(d->sp.not_reinjected));
	return o;
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

API_ARGS(stats)

const struct api_cmd stats_cmds[] = {
	{ "stats", cmd_stats, false },
	{ NULL, NULL, false },
};
