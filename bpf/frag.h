/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fragments and unparsable extension chains of VMs with rules, without
 * reassembly (docs/security.md): a first fragment (and an IPv6 atomic
 * fragment) carries the L4 header and meets the rules like a whole packet;
 * when its flow lets it through, frag_remember() records the datagram in
 * xvnet_frags, and a later fragment gets through only while that record is
 * fresh (frag_find).  A denied or unknown first fragment leaves no record,
 * so the rest of its datagram is dropped (frag_no_first): the guest never
 * holds enough to reassemble what the rules refused.
 */
#ifndef XVNET_BPF_FRAG_H
#define XVNET_BPF_FRAG_H

#include "bpf/maps.h"
#include "bpf/parse.h"

static __always_inline void frag_key_of(const struct xvnet_pkt *p, __u16 vlan, __u8 dir,
					struct xvnet_frag_key *k)
{
	__builtin_memcpy(k->src, p->key.src, 16);
	__builtin_memcpy(k->dst, p->key.dst, 16);
	k->id = p->frag_id;
	k->vlan = vlan;
	k->proto = p->key.proto;
	k->dir = dir;
}

/* The record of a later fragment's datagram, or NULL (none, or too old). */
static __always_inline struct xvnet_frag *frag_find(const struct xvnet_pkt *p, __u16 vlan,
						    __u8 dir)
{
	struct xvnet_frag_key k;
	struct xvnet_frag *e;

	frag_key_of(p, vlan, dir, &k);
	e = bpf_map_lookup_elem(&xvnet_frags, &k);
	if (!e || bpf_ktime_get_ns() - e->first_ns > XVNET_FRAG_TIMEOUT_NS)
		return 0;
	return e;
}

/* A first fragment let through: its datagram's later fragments may follow. */
static __always_inline void frag_remember(const struct xvnet_pkt *p, __u16 vlan, __u8 dir,
					  __u32 vm_id, __u32 queue)
{
	struct xvnet_frag_key k;
	struct xvnet_frag v = {
		.vm_id = vm_id,
		.queue = (__u16)queue,
		.first_ns = bpf_ktime_get_ns(),
	};

	frag_key_of(p, vlan, dir, &k);
	bpf_map_update_elem(&xvnet_frags, &k, &v, BPF_ANY);
}

/* A first fragment not let through: an older datagram's record with the
 * same id must not admit this one's later fragments. */
static __always_inline void frag_forget(const struct xvnet_pkt *p, __u16 vlan, __u8 dir)
{
	struct xvnet_frag_key k;

	frag_key_of(p, vlan, dir, &k);
	bpf_map_delete_elem(&xvnet_frags, &k);
}

#endif
