// SPDX-License-Identifier: GPL-2.0-only
/*
 * The slow path (docs/datapath.md): nic_rx and vm_tx send a flow-cache miss
 * of a VM with rules to xvnet_slow_rb and drop the packet; here xvnetd
 * evaluates the VM's rules and installs the exact-match flow entries.  The
 * rule commands are loader/api/rule.c: a change, through the commit,
 * flushes the VM's rule-installed flows (sp_flush_vm) so a denied flow
 * stops at once.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/err.h"
#include "loader/kern/log.h"
#include "loader/conf/rules.h"
#include "loader/kern/reinject.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/tables.h"
#include "loader/kern/flowtab.h"


static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);   /* = bpf_ktime_get_ns() */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Records are as long as the frame in them (bpf/slowpath.h). */
static int on_record(void *ctx, void *data, size_t size)
{
	const size_t head = offsetof(struct xvnet_slow_rec, pkt);
	struct xvnet_slow_rec r;

	if (size < head || size > sizeof(r))
		return 0;
	memcpy(&r, data, size);
	if (r.cap_len > size - head)
		return 0;
	sp_handle(ctx, &r);
	return 0;
}

/* A selector of rule flows to delete: key, entry, its argument. */
typedef bool (*flow_sel)(const struct xvnet_flow_key *, const struct xvnet_flow *,
			 const void *);
static unsigned long sweep(struct xvd *d, flow_sel sel, const void *arg,
			   unsigned long *kept);

static bool sel_misjudged(const struct xvnet_flow_key *k,
			  const struct xvnet_flow *v, const void *arg);

/* Start consuming.  Rule flows left by a previous run (pinned maps) carry
 * live connections: a flush would drop each one's next packet (and every
 * packet until its flow is set up again), so they are judged again by the
 * rules now in force and only those the rules no longer give go. */
int sp_start(struct xvd *d, char *err, size_t errlen)
{
	unsigned long kept = 0, n;

	n = sweep(d, sel_misjudged, d, &kept);
	if (n || kept)
		log_info("slow path: %lu flows of the previous run kept, %lu the"
			 " rules no longer give removed", kept, n);
	d->rb = ring_buffer__new(d->m.slow_rb, on_record, d, NULL);
	if (!d->rb)
		return ERR("%s: ring_buffer__new: %s", XVNET_MAP_SLOW_RB,
			   strerror(errno));
	return 0;
}

void sp_stop(struct xvd *d)
{
	ring_buffer__free(d->rb);
	d->rb = NULL;
	reinject_close(d);
}

int sp_fd(struct xvd *d)
{
	return d->rb ? ring_buffer__epoll_fd(d->rb) : -1;
}

static void install_after(struct xvd *d, const struct xvnet_flow_key *k,
			  const struct xvnet_flow *v);

int sp_poll(struct xvd *d)
{
	int n = d->rb ? ring_buffer__consume(d->rb) : 0;

	/* the first packets of this poll's flows, in one send, then the flows */
	reinject_flush(d, install_after);
	return n;
}

static void reverse(const struct xvnet_flow_key *k, struct xvnet_flow_key *r)
{
	*r = *k;
	memcpy(r->src, k->dst, 16);
	memcpy(r->dst, k->src, 16);
	r->sport = k->dport;
	r->dport = k->sport;
	r->dir = k->dir == XVNET_DIR_IN ? XVNET_DIR_OUT : XVNET_DIR_IN;
}

static int install(struct xvd *d, const struct xvnet_flow_key *k,
		   const struct xvnet_flow *v)
{
	/* BPF_NOEXIST: a duplicate record (packets that missed while this
	 * flow was being set up) leaves the installed entry and its counters */
	if (ft_update(d, FT_LEARNT, k, v, BPF_NOEXIST)) {
		if (errno == EEXIST)
			return 0;
		return -1;
	}
	d->sp.installed++;
	return 0;
}

int sp_handle(struct xvd *d, const struct xvnet_slow_rec *r)
{
	const struct vm_conf *vm = config_find_vm_id(&d->cfg, (int)r->vm_id);
	const struct rule_conf *rc;
	struct xvnet_flow v = { .flags = XVNET_FLOW_F_RULE,
				.queue = XVNET_QUEUE_RSS };
	struct xvnet_flow_key k = r->key, rk;
	bool allow;

	d->sp.records++;
	if (!vm || r->vm_id >= XVNET_MAX_VMS) {
		d->sp.unknown_vm++;
		return -1;
	}
	if (k.dir > XVNET_DIR_OUT)
		return -1;
	/* rules deleted since the record was queued: the VM allows all now,
	 * and nic_rx no longer asks; installing DROP here would be wrong */
	if (!vm->has_rules)
		return 0;
	rc = rules_eval(&d->cfg, vm->name, &k);
	allow = rc && rc->action != RULE_DENY;
	if (allow)
		d->sp.allowed++;
	else
		d->sp.denied++;
	if (!d->sp_flows_on) {
		if (tbl_flows_activate(d))
			return -1;
		d->sp_flows_on = true;
	}
	v.vm_id = r->vm_id;
	v.last_seen_ns = now_ns();
	if (!allow) {
		v.verdict = XVNET_FLOW_DROP;
		return install(d, &k, &v);
	}
	/* The reply direction first: the answer to the packet sent on below
	 * must find its flow (a miss would be judged as a new flow of its
	 * own, and denied by default).  Then the packet, then its flow: a
	 * later packet of the flow, which hits it, cannot overtake it. */
	v.verdict = XVNET_FLOW_DELIVER;
	reverse(&k, &rk);
	rk.vlan = vm->vlan;
	if (install(d, &rk, &v))
		return -1;
	if (rc->action == RULE_QUEUE)
		v.queue = rc->queue;
	if (reinject(d, r, vm, &k, &v, install_after) == 1)
		return 0;       /* the flow goes in after its packet is sent */
	d->sp.not_reinjected++;
	return install(d, &k, &v);
}

static void install_after(struct xvd *d, const struct xvnet_flow_key *k,
			  const struct xvnet_flow *v)
{
	if (install(d, k, v))
		log_warn("slow path: flow after its first packet: %s", strerror(errno));
}

struct sweep_ctx {
	flow_sel sel;
	const void *arg;
	unsigned long *kept;
};

static bool sweep_one(void *arg, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	struct sweep_ctx *c = arg;

	if (!(v->flags & XVNET_FLOW_F_RULE))
		return false;
	if (c->sel(k, v, c->arg))
		return true;
	if (c->kept)
		(*c->kept)++;
	return false;
}

/* Delete the rule-installed flows that sel() picks; *kept (if given)
 * counts the rule flows left in place. */
static unsigned long sweep(struct xvd *d, flow_sel sel, const void *arg,
			   unsigned long *kept)
{
	struct sweep_ctx c = { sel, arg, kept };

	return ft_each(d, FT_LEARNT, sweep_one, &c);
}

/* What sp_handle() would install for k now: 1 allow (queue in *queue),
 * 0 deny. */
static int judge(const struct xvd_config *cfg, const char *vm,
		 const struct xvnet_flow_key *k, __u16 *queue)
{
	const struct rule_conf *rc = rules_eval(cfg, vm, k);

	if (!rc || rc->action == RULE_DENY)
		return 0;
	*queue = rc->action == RULE_QUEUE ? (__u16)rc->queue : XVNET_QUEUE_RSS;
	return 1;
}

/*
 * A flow of the previous run that the rules in force would not install:
 * its VM gone or without rules, a drop the rules now allow, a delivery
 * they now deny.  A delivery entry is also the reply half of a connection
 * (sp_handle installs both): the rules judge the connection by its first
 * packet, so the reply half stands while its reverse would be allowed.
 */
static bool sel_misjudged(const struct xvnet_flow_key *k,
			  const struct xvnet_flow *v, const void *arg)
{
	const struct xvd *d = arg;
	const struct vm_conf *vm = config_find_vm_id(&d->cfg, (int)v->vm_id);
	struct xvnet_flow_key rk;
	__u16 q = XVNET_QUEUE_RSS, rq;

	if (!vm || !vm->has_rules || k->dir > XVNET_DIR_OUT)
		return true;
	if (v->verdict == XVNET_FLOW_DROP)
		return judge(&d->cfg, vm->name, k, &q);
	if (judge(&d->cfg, vm->name, k, &q) && q == v->queue)
		return false;
	reverse(k, &rk);
	return !(v->queue == XVNET_QUEUE_RSS && judge(&d->cfg, vm->name, &rk, &rq));
}

static bool sel_vm(const struct xvnet_flow_key *k, const struct xvnet_flow *v,
		   const void *arg)
{
	(void)k;
	return v->vm_id == *(const __u32 *)arg;
}

unsigned long sp_flush_vm(struct xvd *d, __u32 vm_id)
{
	unsigned long n = sweep(d, sel_vm, &vm_id, NULL);

	d->sp.flushed += n;
	return n;
}

struct age_arg {
	uint64_t now, idle;
};

static bool sel_idle(const struct xvnet_flow_key *k, const struct xvnet_flow *v,
		     const void *arg)
{
	const struct age_arg *a = arg;

	(void)k;
	return v->last_seen_ns < a->now && a->now - v->last_seen_ns > a->idle;
}

unsigned long sp_age(struct xvd *d, uint64_t now)
{
	struct age_arg a = { now, (uint64_t)d->cfg.flow_idle_timeout * 1000000000ull };
	unsigned long n = sweep(d, sel_idle, &a, NULL);

	d->sp.aged += n;
	return n;
}

void sp_tick(struct xvd *d)
{
	uint64_t now = now_ns(), period;

	if (now < d->next_age_ns)
		return;
	/* a quarter of the timeout: a flow goes within 1.25x of it */
	period = (uint64_t)d->cfg.flow_idle_timeout * 250000000ull;
	d->next_age_ns = now + period;
	if (d->cfg.n_rules || d->sp.installed)
		sp_age(d, now);
}

int sp_vm_flag(struct xvd *d, const struct vm_conf *vm)
{
	struct xvnet_vm slot;
	__u32 id = (__u32)vm->id;
	__u32 want;

	if (bpf_map_lookup_elem(d->m.vms, &id, &slot))
		return -1;
	if (!(slot.flags & XVNET_VM_F_ACTIVE))
		return 0;
	want = vm->has_rules ? slot.flags | XVNET_VM_F_HAS_RULES :
			       slot.flags & ~(__u32)XVNET_VM_F_HAS_RULES;
	if (want == slot.flags)
		return 0;
	slot.flags = want;
	return bpf_map_update_elem(d->m.vms, &id, &slot, BPF_ANY);
}
