// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VM's source addresses (vm add --ip, repeatable; "ip ADDR" in the config)
 * and the per-VM egress counters of vm_tx's anti-spoofing (bpf/spoof.h).
 *
 * xvnet_vm_addrs holds {vm_id, address} -> XVNET_ADDR_F_SOURCE for each
 * configured address plus one {vm_id, ::} -> XVNET_ADDR_F_HAS_ADDRS marker
 * when the VM has any, and {XVNET_ADDR_VLAN_ID(vlan), address} ->
 * XVNET_ADDR_F_LISTED for the fe80::/64 addresses VMs of a VLAN list (no
 * other VM may take them under ipv6-ll-any).  Writes keep the data path correct under traffic:
 * new entries go in before stale ones go out, and an entry already right is
 * not rewritten.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "lib/err.h"
#include "loader/kern/log.h"
#include "loader/kern/addrs.h"

/* fe80::/64, the link-local addresses ipv6-ll-any hands out */
static bool ll64(const __u8 a[16])
{
	static const __u8 p[8] = { 0xfe, 0x80 };

	return memcmp(a, p, 8) == 0;
}

/* Does a VM of vlan list addr: vm (if not NULL), or one of d's other than
 * vm and than the VM with id skip? */
static bool vlan_lists(struct xvd *d, const struct vm_conf *vm, int skip,
		       __u16 vlan, const __u8 addr[16])
{
	const struct xvd_config *cfg = xvd_desired(d);

	for (size_t i = 0; i <= cfg->n_vms; i++) {
		const struct vm_conf *o = i < cfg->n_vms ? &cfg->vms[i] : vm;

		if (!o || o->vlan != vlan || o->id == skip ||
		    (o != vm && vm && strcmp(o->name, vm->name) == 0))
			continue;
		for (int a = 0; a < o->n_addrs; a++)
			if (memcmp(o->addrs[a], addr, 16) == 0)
				return true;
	}
	return false;
}

/* The flags {vm, addr} should have: 0 = no entry. */
static __u32 want_flags(const struct vm_conf *vm, const __u8 addr[16])
{
	static const __u8 zero[16];

	if (memcmp(addr, zero, 16) == 0)
		return vm->n_addrs ? XVNET_ADDR_F_HAS_ADDRS : 0;
	for (int i = 0; i < vm->n_addrs; i++)
		if (memcmp(vm->addrs[i], addr, 16) == 0)
			return XVNET_ADDR_F_SOURCE;
	return 0;
}

static int put(struct xvd *d, __u32 id, const __u8 addr[16], __u32 flags)
{
	struct xvnet_vm_addr_key k = { .vm_id = id };
	__u32 cur;

	memcpy(k.addr, addr, 16);
	if (!bpf_map_lookup_elem(d->m.vm_addrs, &k, &cur) && cur == flags)
		return 0;
	return bpf_map_update_elem(d->m.vm_addrs, &k, &flags, BPF_ANY);
}

/* Keys of entries for which drop(key) is true. */
static size_t collect(struct xvd *d, struct xvnet_vm_addr_key **out,
		      bool (*drop)(struct xvd *, const struct xvnet_vm_addr_key *,
				   const void *), const void *arg)
{
	struct xvnet_vm_addr_key k, next, *v = NULL;
	size_t n = 0, cap = 0;
	int more = !bpf_map_get_next_key(d->m.vm_addrs, NULL, &next);

	while (more) {
		k = next;
		more = !bpf_map_get_next_key(d->m.vm_addrs, &k, &next);
		if (!drop(d, &k, arg))
			continue;
		if (n == cap) {
			struct xvnet_vm_addr_key *p;

			cap = cap ? cap * 2 : 32;
			p = realloc(v, cap * sizeof(*v));
			if (!p)
				break;
			v = p;
		}
		v[n++] = k;
	}
	*out = v;
	return n;
}

static bool stale(struct xvd *d, const struct xvnet_vm_addr_key *k,
		  const void *arg)
{
	const struct vm_conf *vm = arg;

	if (k->vm_id & XVNET_ADDR_VLAN_ID(0))
		return !vlan_lists(d, vm, -1, (__u16)k->vm_id, k->addr);
	if ((int)k->vm_id == vm->id)
		return !want_flags(vm, k->addr);
	/* entries of no configured VM (left by a crash) */
	return !config_find_vm_id(xvd_desired(d), (int)k->vm_id);
}

int addrs_sync(struct xvd *d, const struct vm_conf *vm, char *err,
	       size_t errlen)
{
	static const __u8 zero[16];
	struct xvnet_vm_addr_key *old;
	__u32 id = (__u32)vm->id;
	size_t n;

	for (int i = 0; i < vm->n_addrs; i++)
		if (put(d, id, vm->addrs[i], XVNET_ADDR_F_SOURCE))
			return ERR("%s: vm %s: %s", XVNET_MAP_VM_ADDRS, vm->name,
				   strerror(errno));
	if (vm->n_addrs && put(d, id, zero, XVNET_ADDR_F_HAS_ADDRS))
		return ERR("%s: vm %s: %s", XVNET_MAP_VM_ADDRS, vm->name,
			   strerror(errno));
	for (int i = 0; i < vm->n_addrs; i++)
		if (ll64(vm->addrs[i]) &&
		    put(d, XVNET_ADDR_VLAN_ID(vm->vlan), vm->addrs[i],
			XVNET_ADDR_F_LISTED))
			return ERR("%s: vm %s: %s", XVNET_MAP_VM_ADDRS, vm->name,
				   strerror(errno));
	n = collect(d, &old, stale, vm);
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(d->m.vm_addrs, &old[i]);
	if (n)
		log_debug("vm %s: %zu stale source address entries removed",
			  vm->name, n);
	free(old);
	return 0;
}

static bool of_vm(struct xvd *d, const struct xvnet_vm_addr_key *k,
		  const void *arg)
{
	__u32 id = *(const __u32 *)arg;

	/* its link-locals stay taken while another VM of the VLAN lists them */
	if (k->vm_id & XVNET_ADDR_VLAN_ID(0))
		return !vlan_lists(d, NULL, (int)id, (__u16)k->vm_id, k->addr);
	return k->vm_id == id;
}

void addrs_remove_vm(struct xvd *d, int vm_id)
{
	struct xvnet_vm_addr_key *old;
	struct xvnet_vm_tx_stats *zero;
	__u32 id = (__u32)vm_id;
	size_t n = collect(d, &old, of_vm, &id);

	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(d->m.vm_addrs, &old[i]);
	free(old);
	/* the link-local it holds under ipv6-ll-any is free again (the
	 * maps are there once the datapath is loaded) */
	if (d->m.ll_vm > 0) {
		struct xvnet_ll_slot slot, none = { 0 };

		if (!bpf_map_lookup_elem(d->m.ll_vm, &id, &slot) && slot.held) {
			struct xvnet_ll_key k = { .vlan = slot.vlan };
			__u32 owner;

			memcpy(k.addr, slot.addr, 16);
			if (!bpf_map_lookup_elem(d->m.ll_owner, &k, &owner) &&
			    owner == id)
				bpf_map_delete_elem(d->m.ll_owner, &k);
		}
		bpf_map_update_elem(d->m.ll_vm, &id, &none, BPF_ANY);
	}
	/* the slot's next VM starts from zero */
	zero = calloc((size_t)d->ncpus, sizeof(*zero));
	if (zero) {
		bpf_map_update_elem(d->m.vm_tx_stats, &id, zero, BPF_ANY);
		free(zero);
	}
}

void addrs_tx_counters(struct xvd *d, int vm_id, __u64 sum[XVNET_VM_CNT_MAX])
{
	struct xvnet_vm_tx_stats *pc = calloc((size_t)d->ncpus, sizeof(*pc));
	__u32 id = (__u32)vm_id;

	memset(sum, 0, XVNET_VM_CNT_MAX * sizeof(sum[0]));
	if (pc && !bpf_map_lookup_elem(d->m.vm_tx_stats, &id, pc))
		for (int c = 0; c < d->ncpus; c++)
			for (int i = 0; i < XVNET_VM_CNT_MAX; i++)
				sum[i] += pc[c].c[i];
	free(pc);
}
