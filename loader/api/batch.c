// SPDX-License-Identifier: GPL-2.0-only
/*
 * batch: many requests in one commit, as `ip -batch` and `bpftool batch`
 * give them (xvnetctl batch FILE).  A client opens a batch, sends its
 * requests in as many batch.add lines as it needs (a request line stays
 * under the socket's 64 KiB limit), then commits:
 *   batch.begin                     open one (one open batch at a time)
 *   batch.add {"requests": [{"cmd": "vm.add", "args": {...}}, ...]}
 *                                   vm.add, vm.del, flow.add, flow.del
 *   batch.commit                    apply and record the whole: one commit
 *   batch.abort                     forget it (so does a client that goes)
 * Each request is validated against the configuration the ones before it
 * make, as it would be alone (on the configuration of batch.begin: a
 * batch whose base changed meanwhile is refused at its commit); the first refusal discards the batch and
 * says which request it was.  Nothing reaches the kernel or the state file
 * before the commit, which is the one commit path's: all or nothing.
 * Flows are found by index (loader/conf/flowidx.h), so that 100k of them
 * cost linear time, not a scan each.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/err.h"
#include "lib/proto.h"
#include "loader/api/batch.h"
#include "loader/api/flow.h"
#include "loader/api/request.h"
#include "loader/api/vm.h"
#include "loader/conf/flowidx.h"
#include "loader/kern/commit.h"
#include "loader/kern/log.h"
#include "loader/kern/netdev.h"
#include "loader/kern/tables.h"

#define BATCH_LEARNT_MAX 65536      /* learnt flows deleted after the commit */

struct batch_tx {
	uint64_t client;
	uint64_t cfg_gen;           /* d->cfg_gen when it began */
	struct xvd_config next;
	struct flow_idx idx;        /* next's flows, by key */
	bool idx_stale;             /* next's flows moved: build it again first */
	/* flows deleted from next but left in its array until compact():
	 * taking each out at once would move the rest each time */
	uint8_t *dead;
	size_t dead_cap, n_dead;
	bool keep_ports_set, keep_ports;
	size_t n;                   /* requests taken */
	unsigned vms_added, vms_deleted, flows_added, flows_deleted;
	struct xvnet_flow_key *learnt;  /* learnt-only flows to delete */
	size_t n_learnt;
};

static void tx_free(struct xvd *d)
{
	struct batch_tx *tx = d->batch;

	if (!tx)
		return;
	config_free(&tx->next);
	flow_idx_free(&tx->idx);
	free(tx->dead);
	free(tx->learnt);
	free(tx);
	d->batch = NULL;
}

void batch_client_gone(struct xvd *d, uint64_t client)
{
	if (d->batch && d->batch->client == client) {
		log_info("batch of a client that went: discarded (%zu requests)",
			 d->batch->n);
		tx_free(d);
	}
}

/* The flows deleted so far out of next's array, in one pass. */
static void compact(struct batch_tx *tx)
{
	size_t kept = 0;

	if (!tx->n_dead)
		return;
	for (size_t i = 0; i < tx->next.n_flows; i++)
		if (!tx->dead[i])
			tx->next.flows[kept++] = tx->next.flows[i];
	tx->next.n_flows = kept;
	memset(tx->dead, 0, tx->dead_cap);
	tx->n_dead = 0;
	tx->idx_stale = true;
}

/* dead[] covers every flow of next. */
static int dead_fits(struct batch_tx *tx, char *err, size_t errlen)
{
	size_t cap = tx->dead_cap ? tx->dead_cap : 4096;
	uint8_t *d;

	if (tx->next.n_flows <= tx->dead_cap)
		return 0;
	while (cap < tx->next.n_flows)
		cap *= 2;
	if (!(d = realloc(tx->dead, cap)))
		return ERR("out of memory");
	memset(d + tx->dead_cap, 0, cap - tx->dead_cap);
	tx->dead = d;
	tx->dead_cap = cap;
	tx->idx.dead = d;
	return 0;
}

static int idx_fresh(struct batch_tx *tx, char *err, size_t errlen)
{
	if (dead_fits(tx, err, errlen))
		return -1;
	tx->idx.dead = tx->dead;
	if (tx->idx_stale) {
		if (flow_idx_build(&tx->idx, &tx->next))
			return ERR("out of memory");
		tx->idx_stale = false;
	}
	return 0;
}

/* ---- one request of a batch, into tx->next ------------------------------ */

static int take_vm_add(struct batch_tx *tx, struct json_object *args, char *err,
		       size_t errlen)
{
	bool may_exist = req_flag(args, "may-exist");
	struct json_object *jn;
	const struct vm_conf *old;
	struct vm_conf vm;

	if (may_exist && json_object_object_get_ex(args, "name", &jn) &&
	    (old = config_find_vm(&tx->next, json_object_get_string(jn)))) {
		/* the same settings are success: parsed as if alone */
		struct xvd_config alone;

		config_init(&alone);
		memcpy(alone.nic, tx->next.nic, sizeof(alone.nic));
		if (vm_request_parse(&alone, args, &vm, err, errlen))
			return -1;
		if (!vm_conf_same(&vm, old))
			return ERR("name: vm '%s' exists with other settings",
				   old->name);
		return 0;
	}
	if (vm_request_parse(&tx->next, args, &vm, err, errlen))
		return -1;
	if (!if_nametoindex(tx->next.nic))
		return ERR("nic: '%s' does not exist", tx->next.nic);
	if (netdev_check_port(&vm, err, errlen))
		return -1;
	if (config_add_vm(&tx->next, &vm))
		return ERR("out of memory");
	tx->vms_added++;
	return 0;
}

static int take_vm_del(struct batch_tx *tx, struct json_object *args, char *err,
		       size_t errlen)
{
	bool if_exists = req_flag(args, "if-exists"), force = req_flag(args, "force");
	bool keep_port = req_flag(args, "keep-port");
	struct json_object *jn;
	const struct vm_conf *vm;

	if (!args || !json_object_object_get_ex(args, "name", &jn) ||
	    !json_object_is_type(jn, json_type_string))
		return ERR("name: missing");
	/* one commit has one keep-ports choice for all its removals */
	if (tx->keep_ports_set && keep_port != tx->keep_ports)
		return ERR("keep-port: given for some vm.del of a batch, not all");
	tx->keep_ports_set = true;
	tx->keep_ports = keep_port;
	vm = config_find_vm(&tx->next, json_object_get_string(jn));
	if (!vm)
		return if_exists ? 0 : ERR("name: '%.64s' unknown VM",
					   json_object_get_string(jn));
	if (vm->owned && !keep_port && !force && netdev_tap_in_use(vm))
		return ERR("name: vm '%s': its tap %s is held open (a VMM is attached):"
			   " stop the VM first, or keep-port, or force", vm->name,
			   vm->ifname);
	compact(tx);
	config_del_vm_flows(&tx->next, vm->id);
	config_del_vm(&tx->next, json_object_get_string(jn));
	tx->idx_stale = true;
	tx->vms_deleted++;
	return 0;
}

static int take_flow(struct xvd *d, struct batch_tx *tx, struct json_object *args,
		     bool add, char *err, size_t errlen)
{
	/* the flows are checked for the same match by index below, not by
	 * flow_request_parse's scan: it sees the VMs, none of the flows */
	struct xvd_config view = tx->next;
	struct xvnet_flow v;
	struct flow_conf fc;

	view.n_flows = 0;
	if (flow_request_parse(&view, args, add, &fc, err, errlen) ||
	    idx_fresh(tx, err, errlen))
		return -1;
	if (add) {
		if (tx->next.n_flows - tx->n_dead >= XVNET_FLOWS_CFG_MAX)
			return ERR("flow: %d configured flows already, the most %s holds",
				   XVNET_FLOWS_CFG_MAX, XVNET_MAP_FLOWS_CFG);
		if (flow_idx_find(&tx->idx, &tx->next, &fc.key))
			return ERR("flow: already configured (flow del first)");
		if (config_add_flow(&tx->next, &fc) || dead_fits(tx, err, errlen) ||
		    flow_idx_add(&tx->idx, &tx->next, tx->next.n_flows - 1))
			return ERR("out of memory");
		tx->flows_added++;
		return 0;
	}
	{
		struct flow_conf *f = flow_idx_find(&tx->idx, &tx->next, &fc.key);

		if (f) {
			tx->dead[f - tx->next.flows] = 1;
			tx->n_dead++;
			flow_idx_del(&tx->idx, &tx->next, f);
			tx->flows_deleted++;
			return 0;
		}
	}
	/* learnt only (slow path): no state to change, deleted after the
	 * commit as flow.del alone deletes it at once */
	if (tbl_flow_lookup(d, &fc.key, &v))
		return ERR("flow: no such flow");
	if (tx->n_learnt == BATCH_LEARNT_MAX)
		return ERR("flow: more than %d learnt flows in one batch",
			   BATCH_LEARNT_MAX);
	if (!tx->learnt && !(tx->learnt = malloc(BATCH_LEARNT_MAX * sizeof(*tx->learnt))))
		return ERR("out of memory");
	tx->learnt[tx->n_learnt++] = fc.key;
	tx->flows_deleted++;
	return 0;
}

static int take_one(struct xvd *d, struct batch_tx *tx, struct json_object *r,
		    const char **cmd, char *err, size_t errlen)
{
	struct json_object *jc, *args = NULL;

	*cmd = "?";
	if (!json_object_is_type(r, json_type_object) ||
	    !json_object_object_get_ex(r, "cmd", &jc) ||
	    !json_object_is_type(jc, json_type_string))
		return ERR("cmd: missing");
	*cmd = json_object_get_string(jc);
	json_object_object_get_ex(r, "args", &args);
	if (!args || !json_object_is_type(args, json_type_object))
		return ERR("args: must be an object");
	if (!strcmp(*cmd, "vm.add"))
		return take_vm_add(tx, args, err, errlen);
	if (!strcmp(*cmd, "vm.del"))
		return take_vm_del(tx, args, err, errlen);
	if (!strcmp(*cmd, "flow.add") || !strcmp(*cmd, "flow.del"))
		return take_flow(d, tx, args, (*cmd)[5] == 'a', err, errlen);
	return ERR("cmd: '%.64s' cannot be batched (vm.add, vm.del, flow.add,"
		   " flow.del)", *cmd);
}

/* ---- the requests --------------------------------------------------------- */

static struct batch_tx *own_tx(struct xvd *d, char *err, size_t errlen)
{
	if (!d->batch)
		snprintf(err, errlen, "batch: none open (batch.begin first)");
	else if (d->batch->client != d->req_client)
		snprintf(err, errlen, "batch: another client's batch is open");
	else
		return d->batch;
	return NULL;
}

static struct json_object *batch_begin(struct xvd *d)
{
	struct batch_tx *tx;

	if (d->batch)
		return xv_reply_err("batch: %s batch is open", d->batch->client ==
				    d->req_client ? "this client's" : "another client's");
	if (!(tx = calloc(1, sizeof(*tx))) || config_copy(&tx->next, &d->cfg)) {
		free(tx);
		return xv_reply_err("out of memory");
	}
	tx->client = d->req_client;
	tx->cfg_gen = d->cfg_gen;
	tx->idx_stale = true;
	d->batch = tx;
	return xv_reply_ok(NULL);
}

static struct json_object *batch_add(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN + 128], why[XV_ERR_LEN];
	struct batch_tx *tx = own_tx(d, err, sizeof(err));
	struct json_object *rs;
	size_t n;

	if (!tx)
		return xv_reply_err("%s", err);
	if (!args || !json_object_object_get_ex(args, "requests", &rs) ||
	    !json_object_is_type(rs, json_type_array)) {
		tx_free(d);
		return xv_reply_err("requests: missing (a list); the batch is discarded");
	}
	n = json_object_array_length(rs);
	for (size_t i = 0; i < n; i++) {
		const char *cmd;

		if (take_one(d, tx, json_object_array_get_idx(rs, i), &cmd, why,
			     sizeof(why))) {
			size_t at = tx->n;

			snprintf(err, sizeof(err), "request %zu of the batch (%.32s): %s;"
				 " the batch is discarded, nothing changed", at + 1, cmd, why);
			tx_free(d);
			return xv_reply_err("%s", err);
		}
		tx->n++;
	}
	return xv_reply_ok(json_object_new_int64((int64_t)tx->n));
}

static struct json_object *batch_commit(struct xvd *d)
{
	char err[XV_ERR_LEN];
	struct batch_tx *tx = own_tx(d, err, sizeof(err));
	struct commit_opts opts = { 0 };
	struct json_object *o;

	if (!tx)
		return xv_reply_err("%s", err);
	/* built on the configuration of batch.begin: another request that
	 * changed it since would be undone by this commit */
	if (tx->cfg_gen != d->cfg_gen) {
		tx_free(d);
		return xv_reply_err("batch: the configuration changed since batch.begin"
				    " (another request, a reload or a port that went);"
				    " the batch is discarded, nothing changed: send it again");
	}
	opts.keep_ports = tx->keep_ports;
	compact(tx);
	/* the commit takes next whether it succeeds or not */
	if (xvd_commit(d, &tx->next, &opts, err, sizeof(err))) {
		tx_free(d);
		return xv_reply_err("%s", err);
	}
	for (size_t i = 0; i < tx->n_learnt; i++)
		tbl_flow_delete(d, &tx->learnt[i]);
	log_info("batch: %zu requests committed (%u VMs added, %u deleted; %u flows"
		 " added, %u deleted)", tx->n, tx->vms_added, tx->vms_deleted,
		 tx->flows_added, tx->flows_deleted);
	o = json_object_new_object();
	json_object_object_add(o, "requests", json_object_new_int64((int64_t)tx->n));
	json_object_object_add(o, "vms_added", json_object_new_int(tx->vms_added));
	json_object_object_add(o, "vms_deleted", json_object_new_int(tx->vms_deleted));
	json_object_object_add(o, "flows_added", json_object_new_int(tx->flows_added));
	json_object_object_add(o, "flows_deleted", json_object_new_int(tx->flows_deleted));
	config_init(&tx->next);         /* given to the commit */
	tx_free(d);
	return xv_reply_ok(o);
}

static struct json_object *batch_abort(struct xvd *d)
{
	char err[XV_ERR_LEN];

	if (!own_tx(d, err, sizeof(err)))
		return xv_reply_err("%s", err);
	tx_free(d);
	return xv_reply_ok(NULL);
}

API_NOARGS(batch_begin)
API_ARGS(batch_add)
API_NOARGS(batch_commit)
API_NOARGS(batch_abort)

const struct api_cmd batch_cmds[] = {
	{ "batch.begin", cmd_batch_begin, false },
	{ "batch.add", cmd_batch_add, false },
	{ "batch.commit", cmd_batch_commit, false },
	{ "batch.abort", cmd_batch_abort, false },
	{ NULL, NULL, false },
};
