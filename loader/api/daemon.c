// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's own requests: status (with its health: what makes the
 * service degraded), shutdown, and reload (also SIGHUP), which goes
 * through the one commit like every change.
 */
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "lib/proto.h"
#include "xv_version.h"
#include "loader/api/daemon.h"
#include "loader/api/request.h"
#include "loader/api/service.h"
#include "loader/api/views.h"
#include "loader/api/xsk.h"
#include "loader/kern/caps.h"
#include "loader/kern/commit.h"
#include "loader/kern/datapath.h"
#include "loader/kern/health.h"
#include "loader/kern/log.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/tables.h"

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

		if (vm->fallback)
			continue;       /* no port of xvnet's to check */
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

static const char *const counter_names[] = {
#define XVNET_X_NAME(e, name, desc) name,
	XVNET_COUNTERS(XVNET_X_NAME)
#undef XVNET_X_NAME
};

/* "errors" (totals), "errors_recent" (growth since the older sample, S to
 * 2*S s ago: --health-window) and a problem when any grew. */
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
	long window_s;

	health_sample(d, &cur);
	for (int i = 0; i < XV_HEALTH_ERRS; i++) {
		const char *name = counter_names[health_err_idx[i]];
		uint64_t dv = base && cur.v[i] > base->v[i] ? cur.v[i] - base->v[i] : 0;

		json_object_object_add(e, name, json_object_new_uint64(cur.v[i]));
		json_object_object_add(recent, name, json_object_new_uint64(dv));
		/* flood clones to a port that is down (a tap no VMM opened
		 * yet) fail by design: flood_err is shown, never judged */
		if (dv && health_err_idx[i] != XVNET_CNT_FLOOD_ERR && len < sizeof(grew))
			len += (size_t)snprintf(grew + len, sizeof(grew) - len,
						" %s +%" PRIu64, name, dv);
	}
	json_object_object_add(o, "errors", e);
	json_object_object_add(o, "errors_recent", recent);
	/* the samples' times are whole seconds: the older one was taken less
	 * than (difference + 1) s ago ("in the last 0 s" right after one) */
	window_s = base ? (long)(cur.t - base->t) + 1 : 0;
	json_object_object_add(o, "errors_window_s", json_object_new_int64(window_s));
	if (grew[0])
		problem(probs, "datapath errors in the last %ld s:%s", window_s, grew);
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

API_NOARGS(status)
API_ARGS(shutdown_req)
API_NOARGS(reload_req)

const struct api_cmd daemon_cmds[] = {
	{ "status", cmd_status, true },
	{ "shutdown", cmd_shutdown_req, true },
	{ "reload", cmd_reload_req, true },
	{ NULL, NULL, false },
};
