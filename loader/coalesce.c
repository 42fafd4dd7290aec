// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupt coalescing of xsk VMs (see loader/coalesce.h).  Per xsk VM
 * xvnetd owns a coalescing page (a sealed memfd holding struct
 * xvnet_coal_page) handed to the consumer with the sockets: xvnetd writes
 * the policy there and the consumer its counters.  The NIC NAPI knobs of
 * the VM's queues are set through loader/kern/napi.c and the values found before
 * are kept to be put back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <json-c/json.h>

#include "lib/coalesce.h"
#include "lib/err.h"
#include "lib/knobs.h"
#include "lib/parse.h"
#include "lib/proto.h"
#include "loader/coalesce.h"
#include "loader/conf/coalesce.h"
#include "loader/commit.h"
#include "loader/kern/log.h"
#include "loader/kern/napi.h"
#include "loader/xsk.h"
#include "loader/xvnetd.h"


struct coal_live {
	int memfd;
	struct xvnet_coal_page *page;
	struct napi_saved *napi;        /* old values of the knobs we set */
	struct coal_conf napi_conf;     /* what napi holds */
	uint32_t napi_mask;             /* ... on these NIC queues */
};


/* ---- live state --------------------------------------------------------- */

static void page_write(struct xvnet_coal_page *pg, const struct coal_conf *c)
{
	if (pg->rx_frames == c->rx_frames && pg->rx_usecs == c->rx_usecs &&
	    pg->adaptive == c->adaptive)
		return;
	pg->rx_frames = c->rx_frames;
	pg->rx_usecs = c->rx_usecs;
	pg->adaptive = c->adaptive;
	/* the consumer takes the policy when it sees gen move */
	__atomic_store_n(&pg->gen, pg->gen + 1, __ATOMIC_RELEASE);
}

static struct coal_live *live_create(const char *name, char *err, size_t errlen)
{
	struct coal_live *l = calloc(1, sizeof(*l));
	char mname[64];

	if (!l) {
		(void)ERR("out of memory");
		return NULL;
	}
	snprintf(mname, sizeof(mname), "xvnet-coal-%s", name);
	l->memfd = memfd_create(mname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (l->memfd < 0 || ftruncate(l->memfd, sizeof(*l->page))) {
		(void)ERR("coalesce: page memfd: %s", strerror(errno));
		goto fail;
	}
	fcntl(l->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	l->page = mmap(NULL, sizeof(*l->page), PROT_READ | PROT_WRITE, MAP_SHARED,
		       l->memfd, 0);
	if (l->page == MAP_FAILED) {
		l->page = NULL;
		(void)ERR("coalesce: mmap page: %s", strerror(errno));
		goto fail;
	}
	l->page->magic = XVNET_COAL_MAGIC;
	l->page->gen = 1;
	return l;
fail:
	if (l->memfd >= 0)
		close(l->memfd);
	free(l);
	return NULL;
}

static void napi_put_back(struct coal_live *l)
{
	napi_restore(l->napi);
	l->napi = NULL;
	memset(&l->napi_conf, 0, sizeof(l->napi_conf));
	l->napi_mask = 0;
}

int coal_vm_ensure(struct xvd *d, const struct vm_conf *vm, char *err,
		   size_t errlen)
{
	const struct coal_conf *c = &vm->coal;
	struct coal_live *l;
	uint32_t mask;

	if (vm->port_kind != XVNET_PORT_XSK) {
		coal_vm_stop(d, vm->id);
		return 0;
	}
	l = d->coal[vm->id];
	if (!l && !(l = d->coal[vm->id] = live_create(vm->name, err, errlen)))
		return -1;
	page_write(l->page, c);
	mask = xskp_queue_mask(d, vm->id);
	if (l->napi_mask == mask && l->napi_conf.napi_defer_irqs == c->napi_defer_irqs &&
	    l->napi_conf.napi_flush_usecs == c->napi_flush_usecs)
		return 0;
	napi_put_back(l);
	if (!c->napi_defer_irqs && !c->napi_flush_usecs)
		return 0;
	{
		struct napi_knobs k = {
			.defer_hard_irqs = c->napi_defer_irqs,
			.gro_flush_timeout_ns = (uint64_t)c->napi_flush_usecs * 1000,
		};
		char why[XV_ERR_LEN];

		if (napi_apply_rx_queues(d->cfg.nic, mask, &k, &l->napi, why,
					 sizeof(why)))
			return ERR("napi: %s", why);
	}
	l->napi_conf = *c;
	l->napi_mask = mask;
	log_info("vm %s: NIC %s NAPI (%s): defer %u irqs, gro flush %u us",
		 vm->name, d->cfg.nic, napi_saved_scope(l->napi),
		 c->napi_defer_irqs, c->napi_flush_usecs);
	return 0;
}

void coal_vm_stop(struct xvd *d, int vm_id)
{
	struct coal_live *l;

	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !(l = d->coal[vm_id]))
		return;
	d->coal[vm_id] = NULL;
	napi_put_back(l);
	munmap(l->page, sizeof(*l->page));
	close(l->memfd);
	free(l);
}

void coal_stop_all(struct xvd *d)
{
	for (int i = 0; i < XVNET_MAX_VMS; i++)
		coal_vm_stop(d, i);
}

int coal_page_fd(const struct xvd *d, int vm_id)
{
	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !d->coal[vm_id])
		return -1;
	return d->coal[vm_id]->memfd;
}

/* ---- reading ------------------------------------------------------------ */

struct json_object *coal_counters_json(const struct xvd *d, int vm_id)
{
	struct json_object *o, *arr;
	const struct xvnet_coal_page *pg;
	uint64_t pk = 0, nt = 0;

	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !d->coal[vm_id])
		return NULL;
	pg = d->coal[vm_id]->page;
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
	const struct coal_live *l = vm->id >= 0 && vm->id < XVNET_MAX_VMS ?
				    d->coal[vm->id] : NULL;
	const char *why = coal_not_applicable(vm);
	struct json_object *cnt = coal_counters_json(d, vm->id);

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
	n = json_object_new_object();
	json_object_object_add(n, "nic", json_object_new_string(d->cfg.nic));
	json_object_object_add(n, "defer_irqs", json_object_new_int((int)vm->coal.napi_defer_irqs));
	json_object_object_add(n, "flush_usecs", json_object_new_int((int)vm->coal.napi_flush_usecs));
	json_object_object_add(n, "scope", json_object_new_string(
				       l && l->napi ? napi_saved_scope(l->napi) : "unchanged"));
	json_object_object_add(n, "queue_mask", json_object_new_int(
				       l ? (int)l->napi_mask : 0));
	json_object_object_add(o, "napi", n);
	if (cnt)
		json_object_object_add(o, "counters", cnt);
	return o;
}

/* ---- requests ----------------------------------------------------------- */

struct json_object *coal_get(struct xvd *d, struct json_object *args)
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
#define XV_X_COAL(f, n, kd, mx, arg, help) ", --" n
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

struct json_object *coal_set(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN];
	const struct vm_conf *vm = req_vm(d, args, "name", err, sizeof(err));
	struct xvd_config next;
	struct vm_conf nv;

	if (!vm)
		return xv_reply_err("%s", err);
	if (coal_request_parse(vm, args, &nv, err, sizeof(err)))
		return xv_reply_err("%s", err);
	if (config_copy(&next, &d->cfg))
		return xv_reply_err("out of memory");
	*config_find_vm(&next, nv.name) = nv;
	/* e.g. the NIC refuses a NAPI knob: the commit puts back what was */
	if (xvd_commit(d, &next, NULL, err, sizeof(err)))
		return xv_reply_err("%s", err);
	vm = config_find_vm(&d->cfg, nv.name);
	log_info("vm %s: coalesce rx-frames %u rx-usecs %u adaptive %s napi defer %u"
		 " flush %u us", vm->name, vm->coal.rx_frames, vm->coal.rx_usecs,
		 vm->coal.adaptive ? "on" : "off", vm->coal.napi_defer_irqs,
		 vm->coal.napi_flush_usecs);
	return xv_reply_ok(coal_json(d, vm));
}
