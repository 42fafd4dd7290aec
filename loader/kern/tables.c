// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writing the maps.  Order matters because nic_rx reads them under traffic:
 * a VM becomes reachable only when its (MAC, VLAN) entry is inserted, after
 * the VM slot, the port and the flood membership are in place; it is
 * removed in the reverse order.  Reconciliation (restart, reload) compares
 * first and writes only what differs, so a live, correct entry is never
 * cleared and re-filled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "lib/err.h"
#include "loader/kern/log.h"
#include "loader/kern/netdev.h"
#include "loader/kern/xsk.h"
#include "loader/kern/coalesce.h"
#include "loader/kern/addrs.h"
#include "loader/kern/datapath.h"
#include "loader/kern/tables.h"
#include "loader/kern/flowtab.h"
#include "loader/conf/flowidx.h"
#include "bpf/toeplitz.h"


/*
 * RSS settings: the configured ones (rss-key, rss-indir, rss-fields; config
 * wins), else those of the live slot (restart with pinned maps: a flow
 * keeps its queue), else a random key, the default fields and the table
 * i % queues.  A live table is kept only for the same queue count.
 */
void vm_slot_build(const struct vm_conf *vm, int ifindex,
		   const struct xvnet_vm *old, struct xvnet_vm *out)
{
	bool keep = old && (old->flags & XVNET_VM_F_ACTIVE);

	memset(out, 0, sizeof(*out));
	out->flags = XVNET_VM_F_ACTIVE |
		     (vm->keep_vlan ? XVNET_VM_F_KEEP_VLAN : 0) |
		     (vm->has_rules ? XVNET_VM_F_HAS_RULES : 0) |
		     (vm->allow & XVNET_VM_ALLOW_ALL);
	/* their XDP transmit picks the queue by CPU: skb path (bpf/skbpath.h) */
	if ((vm->port_kind == XVNET_PORT_TAP || vm->port_kind == XVNET_PORT_VETH) &&
	    vm->queues > 1)
		out->flags |= XVNET_VM_F_SKB_PATH;
	/* queue-cpus: queue q on CPU list[q mod n] (bpf/spread.h).  Not for
	 * xsk ports: a frame reaches a socket only from the NIC queue it is
	 * bound to, so the consumer spreads its own work (xsk.get's
	 * queue_cpus: xvnet-vhost's threads) */
	if (vm->n_queue_cpus && vm->port_kind != XVNET_PORT_XSK &&
	    vm->port_kind != XVNET_PORT_NONE) {
		out->flags |= XVNET_VM_F_CPU_SPREAD;
		for (int q = 0; q < XVNET_MAX_QUEUES; q++)
			out->queue_cpu[q] = vm->queue_cpus[q % vm->n_queue_cpus];
	}
	/* xvnet-vhost takes only the queue from the xsk metadata */
	if (vm->vhost)
		out->flags |= XVNET_VM_F_NO_RX_HASH;
	out->ifindex = (__u32)ifindex;
	memcpy(out->mac, vm->mac, 6);
	out->vlan = vm->vlan;
	out->port_kind = vm->port_kind;
	out->n_queues = vm->queues;
	out->hash_fields = vm->has_rss_fields ? vm->rss_fields :
			   keep ? old->hash_fields : XVNET_RSS_FIELDS_DEFAULT;
	if (vm->has_rss_key) {
		memcpy(out->rss_key, vm->rss_key, sizeof(out->rss_key));
	} else if (keep) {
		memcpy(out->rss_key, old->rss_key, sizeof(out->rss_key));
	} else if (getrandom(out->rss_key, sizeof(out->rss_key), 0) !=
		   (ssize_t)sizeof(out->rss_key)) {
		for (size_t i = 0; i < sizeof(out->rss_key); i++)
			out->rss_key[i] = (__u8)random();
	}
	if (vm->has_rss_indir)
		memcpy(out->rss_indir, vm->rss_indir, sizeof(out->rss_indir));
	else if (keep && old->n_queues == vm->queues)
		memcpy(out->rss_indir, old->rss_indir, sizeof(out->rss_indir));
	else
		for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
			out->rss_indir[i] = (__u8)(i % vm->queues);
}

/*
 * Write a VM slot under traffic.  Each table entry is a byte, so one
 * update changes every entry atomically; when the queue count changes as
 * well, nic_rx must never see an entry at or past the count it reads, so
 * the table goes first when the count goes down, after it when it goes up
 * (an intermediate slot with the old count and the new table, or the new
 * count and the old table: every entry is valid in both).
 */
static int vm_slot_write(struct xvd *d, __u32 id, const struct xvnet_vm *old,
			 const struct xvnet_vm *new)
{
	struct xvnet_vm mid;

	if (old && (old->flags & XVNET_VM_F_ACTIVE) &&
	    old->n_queues != new->n_queues &&
	    memcmp(old->rss_indir, new->rss_indir, sizeof(new->rss_indir))) {
		mid = *new;
		if (new->n_queues < old->n_queues)
			mid.n_queues = old->n_queues;   /* table first */
		else
			memcpy(mid.rss_indir, old->rss_indir, sizeof(mid.rss_indir));
		if (bpf_map_update_elem(d->m.vms, &id, &mid, BPF_ANY))
			return -1;
	}
	return bpf_map_update_elem(d->m.vms, &id, new, BPF_ANY);
}

/* Slot id's Toeplitz tables, computed from key. */
static int rss_tables_write(struct xvd *d, __u32 id, const __u8 *key)
{
	struct xvnet_rss_table t;

	xvnet_toeplitz_table_fill(key, &t);
	return bpf_map_update_elem(d->m.rss_tables, &id, &t, BPF_ANY);
}

/*
 * The tables of a live slot with the same key are kept.  A live slot whose
 * key changes loses XVNET_VM_F_RSS_TABLE first, so that no frame hashes
 * with a half-rewritten table: meanwhile nic_rx hashes bit by bit, with the
 * old key, which gives the same hash.
 */
int tbl_rss_tables_ready(struct xvd *d, __u32 id, const struct xvnet_vm *old,
			 struct xvnet_vm *new)
{
	bool had = old && (old->flags & XVNET_VM_F_ACTIVE) &&
		   (old->flags & XVNET_VM_F_RSS_TABLE);

	if (had && !memcmp(old->rss_key, new->rss_key, sizeof(new->rss_key))) {
		new->flags |= XVNET_VM_F_RSS_TABLE;
		return 0;
	}
	if (had) {
		struct xvnet_vm off = *old;

		off.flags &= ~(__u32)XVNET_VM_F_RSS_TABLE;
		if (bpf_map_update_elem(d->m.vms, &id, &off, BPF_ANY))
			return -1;
	}
	if (rss_tables_write(d, id, new->rss_key))
		return -1;
	new->flags |= XVNET_VM_F_RSS_TABLE;
	return 0;
}

long tbl_rss_tables_rebuild(struct xvd *d)
{
	struct xvnet_vm s;
	long n = 0;

	for (__u32 id = 0; id < XVNET_MAX_VMS; id++) {
		if (bpf_map_lookup_elem(d->m.vms, &id, &s) ||
		    !(s.flags & XVNET_VM_F_ACTIVE) || !(s.flags & XVNET_VM_F_RSS_TABLE))
			continue;
		if (rss_tables_write(d, id, s.rss_key))
			return -1;
		n++;
	}
	return n;
}

/* ---- flood lists: (vlan, 0..count-1) kept dense ---------------------- */

static __u32 flood_count(struct xvd *d, __u32 vlan)
{
	__u32 n = 0;

	if (bpf_map_lookup_elem(d->m.flood_count, &vlan, &n))
		return 0;
	return n;
}

static int flood_set_count(struct xvd *d, __u32 vlan, __u32 n)
{
	if (!n) {
		bpf_map_delete_elem(d->m.flood_count, &vlan);
		return 0;
	}
	return bpf_map_update_elem(d->m.flood_count, &vlan, &n, BPF_ANY);
}

/*
 * A whole map (at most max entries) read in a few syscalls
 * (BPF_MAP_LOOKUP_BATCH) into caller-sized key and value arrays; the
 * count, or -1.  The VM maps are read so on every vm add and del: entry by
 * entry (get_next_key, then lookup) that was two syscalls per VM there,
 * which made a vm add cost 26 ms at 1000 veth VMs.  A kernel without batch
 * lookups is read entry by entry.
 */
static long map_read_all(int fd, size_t ksz, size_t vsz, void *keys, void *vals,
			 __u32 max)
{
	__u32 batch = 0, got = 0;
	bool started = false;

	for (;;) {
		__u32 n = max - got;
		int r;

		if (!n)
			return (long)got;
		r = bpf_map_lookup_batch(fd, started ? &batch : NULL, &batch,
					 (char *)keys + got * ksz, (char *)vals + got * vsz,
					 &n, NULL);
		if (r && errno != ENOENT && !started &&
		    (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP))
			break;
		started = true;
		got += n;       /* what was read, also by the call that ends */
		if (r)
			return errno == ENOENT ? (long)got : -1;
	}
	/* entry by entry */
	for (void *prev = NULL; got < max; got++) {
		char *k = (char *)keys + got * ksz;

		if (bpf_map_get_next_key(fd, prev, k))
			break;
		if (bpf_map_lookup_elem(fd, k, (char *)vals + got * vsz))
			got--;          /* went meanwhile */
		else
			prev = k;
	}
	return (long)got;
}

/* xvnet_flood_host[vlan] counted again from the live slots: active VMs of
 * that VLAN on the fallback (port kind none, no move in force).  The slots
 * are read whole (a lookup each was 4,096 syscalls per fallback VM's add). */
static void flood_host_sync(struct xvd *d, __u32 vlan)
{
	__u32 *ids = malloc(XVNET_MAX_VMS * sizeof(*ids)), on_host = 0;
	struct xvnet_vm *s = malloc(XVNET_MAX_VMS * sizeof(*s));
	long n = ids && s ? map_read_all(d->m.vms, sizeof(*ids), sizeof(*s), ids, s,
					 XVNET_MAX_VMS) : -1;

	if (n < 0) {
		log_err("%s: not read (%s): %s[%u] left as it was", XVNET_MAP_VMS,
			strerror(errno), XVNET_MAP_FLOOD_HOST, vlan);
	} else {
		for (long i = 0; i < n; i++)
			if ((s[i].flags & XVNET_VM_F_ACTIVE) && s[i].vlan == vlan &&
			    s[i].port_kind == XVNET_PORT_NONE && !s[i].port_sel)
				on_host++;
		bpf_map_update_elem(d->m.flood_host, &vlan, &on_host, BPF_ANY);
	}
	free(ids);
	free(s);
}

/* Every member of every VLAN's flood list, read at once. */
struct flood_all {
	struct xvnet_flood_key k[XVNET_MAX_VMS];
	struct xvnet_flood_member m[XVNET_MAX_VMS];
	long n;
};

static struct flood_all *flood_read(struct xvd *d)
{
	struct flood_all *a = malloc(sizeof(*a));

	if (a && (a->n = map_read_all(d->m.flood, sizeof(a->k[0]), sizeof(a->m[0]),
				      a->k, a->m, XVNET_MAX_VMS)) < 0) {
		free(a);
		return NULL;
	}
	return a;
}

/* The first index of vm_id in vlan's list (below its count), or -1. */
static int flood_first(struct xvd *d, const struct flood_all *a, __u32 vlan,
		       __u32 vm_id)
{
	__u32 n = flood_count(d, vlan);
	int first = -1;

	for (long i = 0; i < a->n; i++)
		if (a->k[i].vlan == vlan && a->k[i].idx < n && a->m[i].vm_id == vm_id &&
		    (first < 0 || a->k[i].idx < first))
			first = a->k[i].idx;
	return first;
}

/* vm_id's index in vlan's flood list, or -1. */
static int flood_find(struct xvd *d, __u32 vlan, __u32 vm_id)
{
	struct flood_all *a = flood_read(d);
	int i;

	if (!a)
		return -1;
	i = flood_first(d, a, vlan, vm_id);
	free(a);
	return i;
}

static int flood_append(struct xvd *d, __u32 vlan, __u32 ifindex, __u32 vm_id)
{
	__u32 n = flood_count(d, vlan);
	struct xvnet_flood_key k = { .vlan = (__u16)vlan, .idx = (__u16)n };
	struct xvnet_flood_member m = { .ifindex = ifindex, .vm_id = vm_id };

	if (n >= XVNET_MAX_FLOOD_PORTS) {
		errno = ENOSPC;
		return -1;
	}
	/* member first, then the count that makes it visible */
	if (bpf_map_update_elem(d->m.flood, &k, &m, BPF_ANY))
		return -1;
	return flood_set_count(d, vlan, n + 1);
}

/* Remove member idx: the last member moves into the hole. */
static void flood_remove_at(struct xvd *d, __u32 vlan, __u32 idx)
{
	__u32 n = flood_count(d, vlan);
	struct xvnet_flood_key hole = { .vlan = (__u16)vlan, .idx = (__u16)idx };
	struct xvnet_flood_key last = { .vlan = (__u16)vlan };
	struct xvnet_flood_member m;

	if (idx >= n) {
		bpf_map_delete_elem(d->m.flood, &hole);
		return;
	}
	last.idx = (__u16)(n - 1);
	if (idx != n - 1 && !bpf_map_lookup_elem(d->m.flood, &last, &m))
		bpf_map_update_elem(d->m.flood, &hole, &m, BPF_ANY);
	flood_set_count(d, vlan, n - 1);
	bpf_map_delete_elem(d->m.flood, &last);
}

/* Remove vm_id from every VLAN's list, except (keep_vlan, keep_ifindex). */
static void flood_remove_vm(struct xvd *d, __u32 vm_id, int keep_vlan,
			    __u32 keep_ifindex)
{
	for (;;) {
		struct flood_all *a = flood_read(d);
		long hit = -1;

		for (long i = 0; a && i < a->n && hit < 0; i++) {
			if (a->m[i].vm_id != vm_id)
				continue;
			if ((int)a->k[i].vlan == keep_vlan && a->m[i].ifindex == keep_ifindex &&
			    flood_first(d, a, a->k[i].vlan, vm_id) == a->k[i].idx)
				continue;
			hit = i;
		}
		if (hit < 0) {
			free(a);
			return;
		}
		/* the last member moves into the hole: read again after */
		flood_remove_at(d, a->k[hit].vlan, a->k[hit].idx);
		free(a);
	}
}

/* ---- (MAC, VLAN) -> vm_id -------------------------------------------- */

/*
 * xvnet_vm_cache is kept a subset of xvnet_vm_by_mac (maps/xvnet_maps.h):
 * a key's slot is cleared before its entry changes or goes, and set only
 * once the entry is in place, so a frame never finds there a VM the hash
 * would not give it.
 */
static __u32 vm_cache_slot_of(const struct xvnet_vm_key *k)
{
	__u64 w;

	memcpy(&w, k, sizeof(w));
	return xvnet_vm_cache_slot(w);
}

/* key's slot no longer names vm_id (another key's VM stays) */
static void vm_cache_forget(struct xvd *d, const struct xvnet_vm_key *k, __u32 vm_id)
{
	__u32 slot = vm_cache_slot_of(k), cur = 0, zero = 0;

	if (!bpf_map_lookup_elem(d->m.vm_cache, &slot, &cur) && cur == vm_id + 1 &&
	    bpf_map_update_elem(d->m.vm_cache, &slot, &zero, BPF_ANY))
		log_warn("%s[%u]: not cleared: %s", XVNET_MAP_VM_CACHE, slot, strerror(errno));
}

/* Only after xvnet_vm_by_mac maps k to vm_id.  A colliding key's VM is
 * found through the hash from then on. */
static void vm_cache_set(struct xvd *d, const struct xvnet_vm_key *k, __u32 vm_id)
{
	__u32 slot = vm_cache_slot_of(k), cur = 0, v = vm_id + 1;

	if (!bpf_map_lookup_elem(d->m.vm_cache, &slot, &cur) && cur == v)
		return;
	/* a failure costs speed, not correctness: the hash still answers */
	if (bpf_map_update_elem(d->m.vm_cache, &slot, &v, BPF_ANY))
		log_warn("%s[%u]: not set: %s", XVNET_MAP_VM_CACHE, slot, strerror(errno));
}

/*
 * At start (reconcile, pinned maps): clear every slot that does not name
 * a VM the hash maps its key to, as left by a build that did not keep the
 * cache.  Read whole; the VMs one by one (a few thousand at most).
 */
static void vm_cache_check(struct xvd *d)
{
	__u32 *keys = malloc(XVNET_VM_CACHE_SLOTS * sizeof(*keys));
	__u32 *vals = malloc(XVNET_VM_CACHE_SLOTS * sizeof(*vals));
	long n = keys && vals ? map_read_all(d->m.vm_cache, sizeof(*keys), sizeof(*vals),
					     keys, vals, XVNET_VM_CACHE_SLOTS) : -1;
	__u32 zero = 0;

	if (n < 0)
		log_warn("%s: not read: %s", XVNET_MAP_VM_CACHE, strerror(errno));
	for (long i = 0; i < n; i++) {
		__u32 id = vals[i] - 1, cur_id;
		struct xvnet_vm slot;
		struct xvnet_vm_key k = { 0 };

		if (!vals[i])
			continue;
		if (!bpf_map_lookup_elem(d->m.vms, &id, &slot) &&
		    (slot.flags & XVNET_VM_F_ACTIVE)) {
			memcpy(k.mac, slot.mac, 6);
			k.vlan = slot.vlan;
			if (vm_cache_slot_of(&k) == keys[i] &&
			    !bpf_map_lookup_elem(d->m.vm_by_mac, &k, &cur_id) && cur_id == id)
				continue;
		}
		log_info("stale %s slot %u (vm %u) cleared", XVNET_MAP_VM_CACHE, keys[i], id);
		bpf_map_update_elem(d->m.vm_cache, &keys[i], &zero, BPF_ANY);
	}
	free(keys);
	free(vals);
}

static void by_mac_remove_vm(struct xvd *d, __u32 vm_id,
			     const struct xvnet_vm_key *keep)
{
	struct xvnet_vm_key *k = malloc(XVNET_MAX_VMS * sizeof(*k));
	__u32 *id = malloc(XVNET_MAX_VMS * sizeof(*id));
	long n = k && id ? map_read_all(d->m.vm_by_mac, sizeof(*k), sizeof(*id), k, id,
					XVNET_MAX_VMS) : -1;

	if (n < 0)
		log_warn("%s: not read: %s", XVNET_MAP_VM_BY_MAC, strerror(errno));
	for (long i = 0; i < n; i++)
		if (id[i] == vm_id && !(keep && memcmp(&k[i], keep, sizeof(*keep)) == 0)) {
			vm_cache_forget(d, &k[i], vm_id);
			bpf_map_delete_elem(d->m.vm_by_mac, &k[i]);
		}
	free(k);
	free(id);
}

/* ---- VMs -------------------------------------------------------------- */

/* Slot, port, flood, then (MAC, VLAN): each written only if it differs. */
static int vm_write(struct xvd *d, const struct vm_conf *vm, int ifindex,
		    char *err, size_t errlen)
{
	__u32 id = (__u32)vm->id, cur_if = 0, cur_id;
	struct xvnet_vm old, new;
	struct xvnet_vm_key key = { .vlan = vm->vlan };
	bool have_old = !bpf_map_lookup_elem(d->m.vms, &id, &old), have_key;

	memcpy(key.mac, vm->mac, 6);
	vm_slot_build(vm, ifindex, have_old ? &old : NULL, &new);
	if (tbl_rss_tables_ready(d, id, have_old ? &old : NULL, &new))
		return ERR("%s[%u]: %s", XVNET_MAP_RSS_TABLES, id, strerror(errno));
	if (!have_old || memcmp(&old, &new, sizeof(new))) {
		if (vm_slot_write(d, id, have_old ? &old : NULL, &new))
			return ERR("%s[%u]: %s", XVNET_MAP_VMS, id, strerror(errno));
		log_debug("vm %s: slot %u written", vm->name, id);
	}
	if (!ifindex) {         /* the fallback: no port */
		bpf_map_delete_elem(d->m.ports, &id);
	} else if (bpf_map_lookup_elem(d->m.ports, &id, &cur_if) ||
		   cur_if != (__u32)ifindex) {
		__u32 v = (__u32)ifindex;

		if (bpf_map_update_elem(d->m.ports, &id, &v, BPF_ANY))
			return ERR("%s[%u] = %d: %s", XVNET_MAP_PORTS, id, ifindex,
				   strerror(errno));
	}
	/* a VM on the fallback is no member: the VLAN's broadcasts reach it
	 * through the host stack (bpf/hostveb.h, xvnet_flood_host) */
	if (vm->fallback)
		flood_host_sync(d, vm->vlan);
	if (have_old && (old.flags & XVNET_VM_F_ACTIVE) && old.port_kind == XVNET_PORT_NONE &&
	    (!vm->fallback || old.vlan != vm->vlan))
		flood_host_sync(d, old.vlan);   /* it left the fallback (or its VLAN) */
	if (ifindex && flood_find(d, vm->vlan, id) < 0 &&
	    flood_append(d, vm->vlan, (__u32)ifindex, id))
		return ERR("%s: vlan %u: %s", XVNET_MAP_FLOOD, vm->vlan,
			   strerror(errno));
	have_key = !bpf_map_lookup_elem(d->m.vm_by_mac, &key, &cur_id);
	if (!have_key || cur_id != id) {
		if (have_key)
			vm_cache_forget(d, &key, cur_id);
		if (bpf_map_update_elem(d->m.vm_by_mac, &key, &id, BPF_ANY))
			return ERR("%s: %s", XVNET_MAP_VM_BY_MAC, strerror(errno));
	}
	vm_cache_set(d, &key, id);
	return 0;
}

int tbl_vm_ensure(struct xvd *d, const struct vm_conf *vm, int ifindex,
		  char *err, size_t errlen)
{
	struct xvnet_vm_key key = { .vlan = vm->vlan };
	__u32 port = (__u32)ifindex, id = (__u32)vm->id;

	memcpy(key.mac, vm->mac, 6);
	/* stale reachability of this slot goes first */
	by_mac_remove_vm(d, (__u32)vm->id, &key);
	flood_remove_vm(d, (__u32)vm->id, vm->vlan, (__u32)ifindex);
	/* the addresses vm_tx lets it send from, before it can send */
	if (addrs_sync(d, vm, err, errlen))
		return -1;
	if (vm->port_kind != XVNET_PORT_XSK)
		xskp_destroy(d, vm->id);        /* was xsk before a reload */
	if (!ifindex)   /* the fallback: no port to attach to */
		goto write;
	/* egress: the port must know its VM before vm_tx runs on it */
	if (bpf_map_update_elem(d->m.port_vm, &port, &id, BPF_ANY))
		return ERR("%s[%d]: %s", XVNET_MAP_PORT_VM, ifindex, strerror(errno));
	if (dp_port_attach(d, ifindex, vm->port_kind == XVNET_PORT_TAP, err, errlen))
		return -1;
	/* a multi-queue tap steers by the recorded queue before frames come */
	if (dp_tap_steer(d, vm, ifindex, err, errlen))
		return -1;
	/* sockets in the XSKMAPs before the VM is reachable */
	if (vm->port_kind == XVNET_PORT_XSK && xskp_ensure(d, vm, err, errlen))
		return -1;
	if (coal_vm_ensure(d, vm, err, errlen))
		return -1;
write:
	return vm_write(d, vm, ifindex, err, errlen);
}

int tbl_vm_remove(struct xvd *d, int vm_id)
{
	__u32 id = (__u32)vm_id;
	struct xvnet_vm zero = { 0 }, old, *was;

	__u32 port = 0;

	by_mac_remove_vm(d, id, NULL);
	flood_remove_vm(d, id, -1, 0);
	xskp_destroy(d, vm_id);         /* unreachable now: sockets, UMEM go */
	coal_vm_stop(d, vm_id);            /* the NIC's NAPI knobs put back */
	if (!bpf_map_lookup_elem(d->m.ports, &id, &port) && port) {
		/* an adopted tap outlives the VM: leave it clean */
		dp_port_detach((int)port);
		dp_tap_unsteer(d, vm_id, (int)port);
		bpf_map_delete_elem(d->m.port_vm, &port);
	}
	bpf_map_delete_elem(d->m.ports, &id);
	bpf_map_delete_elem(d->m.ports_b, &id);  /* a move's bank (loader/kern/move.c) */
	was = bpf_map_lookup_elem(d->m.vms, &id, &old) ? NULL : &old;
	if (bpf_map_update_elem(d->m.vms, &id, &zero, BPF_ANY))
		return -1;
	if (was && (was->flags & XVNET_VM_F_ACTIVE) && was->port_kind == XVNET_PORT_NONE)
		flood_host_sync(d, was->vlan);
	addrs_remove_vm(d, vm_id);
	return 0;
}

/* ---- flows ------------------------------------------------------------ */

/*
 * nic_rx skips each flow map until a flow has ever been written to it.
 * *learnt_on (if not NULL): whether the learnt maps may hold an entry.
 */
static int flows_activate(struct xvd *d, bool configured, bool *learnt_on)
{
	struct xvnet_config c = { 0 };
	__u32 zero = 0;
	bool read = !bpf_map_lookup_elem(d->m.config, &zero, &c);

	if (learnt_on)
		*learnt_on = !read || c.flows_active;
	if (read && (configured ? c.cfg_flows_active : c.flows_active))
		return 0;
	if (configured)
		c.cfg_flows_active = 1;
	else
		c.flows_active = 1;
	return bpf_map_update_elem(d->m.config, &zero, &c, BPF_ANY);
}

int tbl_flows_activate(struct xvd *d)
{
	return flows_activate(d, false, NULL);
}

/*
 * Configured flows are on in nic_rx; *learnt_on: the learnt maps may hold
 * entries.  Read once in a commit: in xvnetd only the slow path, which
 * waits for the commit, turns the learnt maps on (a learnt entry another
 * program writes meanwhile under an operator's key is one nic_rx never
 * reads: it looks in the operator's map first).
 */
static int cfg_flows_on(struct xvd *d, bool *learnt_on)
{
	if (!d->applying || !d->commit_flows.known) {
		if (flows_activate(d, true, learnt_on))
			return -1;
		d->commit_flows.learnt_on = *learnt_on;
		d->commit_flows.known = d->applying != NULL;
	}
	*learnt_on = d->commit_flows.learnt_on;
	return 0;
}

/*
 * A configured flow: into xvnet_flows_cfg, where no traffic evicts it.
 * A new flow costs one syscall where nothing was learnt (the insert), not
 * four: a batch of 60,000 flows is mostly syscalls.
 */
int tbl_flow_ensure(struct xvd *d, const struct xvd_config *cfg,
		    const struct flow_conf *fc, char *err, size_t errlen)
{
	struct xvnet_flow old, v = { .verdict = fc->verdict };
	const struct vm_conf *vm;
	bool learnt_on = true;

	if (cfg_flows_on(d, &learnt_on))
		return ERR("%s: %s", XVNET_MAP_CONFIG, strerror(errno));
	if (fc->verdict == XVNET_FLOW_DELIVER) {
		vm = config_find_vm(cfg, fc->vm);
		if (!vm)
			return ERR("vm: '%s' unknown", fc->vm);
		v.vm_id = (__u32)vm->id;
		v.queue = fc->queue;
	}
	if (!ft_update(d, FT_CFG, &fc->key, &v, BPF_NOEXIST))
		goto written;
	if (errno != EEXIST)
		goto refused;
	if (!ft_lookup(d, FT_CFG, &fc->key, &old)) {
		if (old.verdict == v.verdict && old.queue == v.queue &&
		    old.vm_id == v.vm_id)
			return 0;       /* live and correct: keep its counters */
		v.packets = old.packets;
		v.bytes = old.bytes;
		v.last_seen_ns = old.last_seen_ns;
	}
	if (ft_update(d, FT_CFG, &fc->key, &v, BPF_ANY))
		goto refused;
written:
	/* a learnt entry under the same key would only shadow nothing now
	 * (none where no learnt flow was ever written: flows_active) */
	if (learnt_on)
		ft_delete(d, FT_LEARNT, &fc->key);
	return 0;
refused:
	return ERR("%s: %s", xvnet_flow_key_is4(&fc->key) ? XVNET_MAP_FLOWS4_CFG :
		   XVNET_MAP_FLOWS_CFG, strerror(errno));
}

/* Delete key from both flow maps; 0 if it was in either. */
int tbl_flow_delete(struct xvd *d, const struct xvnet_flow_key *key)
{
	int a = ft_delete(d, FT_CFG, key);
	int b = ft_delete(d, FT_LEARNT, key);

	return a && b ? -1 : 0;
}

int tbl_flow_lookup(struct xvd *d, const struct xvnet_flow_key *key,
		    struct xvnet_flow *v)
{
	if (!ft_lookup(d, FT_CFG, key, v))
		return 0;
	return ft_lookup(d, FT_LEARNT, key, v);
}

/* ---- reconciliation --------------------------------------------------- */

struct unconfigured {
	const struct xvd_config *cfg;
	struct flow_idx x;
};

/* ft_each: an operator's flow that cfg no longer has goes */
static bool unconfigured(void *arg, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	struct unconfigured *u = arg;

	(void)v;
	return !flow_idx_find(&u->x, u->cfg, k);
}

int tbl_reconcile(struct xvd *d, struct xvd_config *cfg, char *err, size_t errlen)
{
	struct xvnet_vm slot;
	int rc = 0;

	/* 1. active slots that no configured VM owns: unreachable, then gone */
	for (__u32 id = 0; id < XVNET_MAX_VMS; id++) {
		const struct vm_conf *vm;

		if (bpf_map_lookup_elem(d->m.vms, &id, &slot) ||
		    !(slot.flags & XVNET_VM_F_ACTIVE))
			continue;
		vm = config_find_vm_id(cfg, (int)id);
		if (!vm) {
			log_info("slot %u: active but not configured: removed", id);
			tbl_vm_remove(d, (int)id);
		}
	}
	/* 2. (MAC, VLAN) entries that point at the wrong slot */
	{
		struct xvnet_vm_key k, next;
		int more = !bpf_map_get_next_key(d->m.vm_by_mac, NULL, &next);
		__u32 id;

		while (more) {
			const struct vm_conf *vm;

			k = next;
			more = !bpf_map_get_next_key(d->m.vm_by_mac, &k, &next);
			if (bpf_map_lookup_elem(d->m.vm_by_mac, &k, &id))
				continue;
			vm = config_find_vm_id(cfg, (int)id);
			if (!vm || vm->vlan != k.vlan || memcmp(vm->mac, k.mac, 6)) {
				log_info("stale %s entry for slot %u removed",
					 XVNET_MAP_VM_BY_MAC, id);
				vm_cache_forget(d, &k, id);
				bpf_map_delete_elem(d->m.vm_by_mac, &k);
			}
		}
	}
	vm_cache_check(d);
	/* 3. every configured VM: port device, then its entries */
	for (size_t i = 0; i < cfg->n_vms; i++) {
		struct vm_conf *vm = &cfg->vms[i];
		char why[XV_ERR_LEN];
		int ifindex;

		if (netdev_ensure_port(vm, &ifindex, why, sizeof(why))) {
			log_err("vm %s: %s (left unreachable)", vm->name, why);
			__u32 id = (__u32)vm->id;

			by_mac_remove_vm(d, id, NULL);
			rc = -1;
			snprintf(err, errlen, "vm %s: %s", vm->name, why);
			continue;
		}
		if (tbl_vm_ensure(d, vm, ifindex, why, sizeof(why))) {
			log_err("vm %s: %s", vm->name, why);
			rc = -1;
			snprintf(err, errlen, "vm %s: %s", vm->name, why);
		}
	}
	/* 4. configured flows (entries learnt otherwise are left alone) */
	for (size_t i = 0; i < cfg->n_flows; i++) {
		char why[XV_ERR_LEN];

		if (tbl_flow_ensure(d, cfg, &cfg->flows[i], why, sizeof(why))) {
			log_err("flow (config line %d): %s", cfg->flows[i].line, why);
			rc = -1;
		}
	}
	/* 5. configured flows no longer configured (by index: 100k flows) */
	{
		struct unconfigured u = { .cfg = cfg, .x = { 0 } };

		if (flow_idx_build(&u.x, cfg)) {
			log_err("reconcile: out of memory");
			return -1;
		}
		ft_each(d, FT_CFG, unconfigured, &u);
		flow_idx_free(&u.x);
	}
	return rc;
}

/* ---- reading ---------------------------------------------------------- */

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

struct each_ctx {
	tbl_flow_fn fn;
	void *ctx;
	bool configured;
	__u64 now;
};

static bool each_visit(void *arg, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	struct each_ctx *c = arg;

	c->fn(c->ctx, k, v, c->configured, c->now);
	return false;
}

void tbl_flow_each(struct xvd *d, tbl_flow_fn fn, void *ctx)
{
	struct each_ctx c = { fn, ctx, true, mono_ns() };

	ft_each(d, FT_CFG, each_visit, &c);
	c.configured = false;
	ft_each(d, FT_LEARNT, each_visit, &c);
}

int tbl_flow_page(struct xvd *d, struct tbl_flow_cursor *cur, unsigned limit,
		  tbl_flow_fn fn, void *ctx, bool *done)
{
	struct xvnet_flow_key *keys = calloc(limit, sizeof(*keys));
	struct xvnet_flow *vals = calloc(limit, sizeof(*vals));
	__u64 now = mono_ns();
	unsigned got = 0;
	int rc = 0;

	*done = false;
	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < limit && cur->table < FT_MAPS) {
		__u32 n = limit - got, out_batch = 0;
		int r;

		r = ft_map_page(d, cur->table, cur->started ? &cur->batch : NULL,
				&out_batch, keys, vals, &n);
		if (r && errno != ENOENT) {
			/* ENOSPC: one bucket holds more than the room left */
			if (errno == ENOSPC && got)
				break;
			rc = -errno;
			goto out;
		}
		for (__u32 i = 0; i < n; i++)
			fn(ctx, &keys[i], &vals[i], ft_map_configured(cur->table), now);
		got += n;
		if (r) {                /* ENOENT: this map is done */
			cur->table++;
			cur->started = false;
			continue;
		}
		cur->batch = out_batch;
		cur->started = true;
	}
	*done = cur->table >= FT_MAPS;
out:
	free(keys);
	free(vals);
	return rc;
}

bool tbl_vm_live(struct xvd *d, int vm_id, struct xvnet_vm *slot)
{
	__u32 id = (__u32)vm_id;

	return !bpf_map_lookup_elem(d->m.vms, &id, slot) &&
	       (slot->flags & XVNET_VM_F_ACTIVE);
}

int tbl_counter(struct xvd *d, __u32 idx, __u64 *percpu)
{
	return bpf_map_lookup_elem(d->m.stats, &idx, percpu);
}

void tbl_queue_counts(struct xvd *d, int vm_id, int q, __u64 *packets,
		      __u64 *bytes)
{
	__u32 idx = (__u32)(vm_id * XVNET_MAX_QUEUES + q);
	struct xvnet_queue_stats *pc = calloc((size_t)d->ncpus, sizeof(*pc));

	*packets = *bytes = 0;
	if (pc && !bpf_map_lookup_elem(d->m.queue_stats, &idx, pc))
		for (int c = 0; c < d->ncpus; c++) {
			*packets += pc[c].packets;
			*bytes += pc[c].bytes;
		}
	free(pc);
}

/* ft_each: count the entry */
static bool count_one(void *arg, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	(void)k;
	(void)v;
	(*(int *)arg)++;
	return false;
}

int tbl_count_active(struct xvd *d, int *vms, int *flows)
{
	*vms = (int)d->cfg.n_vms;
	*flows = 0;
	ft_each(d, FT_CFG, count_one, flows);
	ft_each(d, FT_LEARNT, count_one, flows);
	return 0;
}
