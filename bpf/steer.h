/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Virtual RSS: the VM's Toeplitz hash over the Microsoft RSS input (source
 * address, destination address, source port, destination port) and its
 * 128-entry indirection table pick the VM's queue.
 */
#ifndef XVNET_BPF_STEER_H
#define XVNET_BPF_STEER_H

#include "bpf/maps.h"
#include "bpf/parse.h"
#include "bpf/toeplitz.h"

static __always_inline int rss_uses_ports(const struct xvnet_vm *vm,
					  const struct xvnet_pkt *p)
{
	/* every fragment of a datagram hashes alike (2-tuple), the first
	 * too although it carries the ports: one queue for the datagram */
	if (!p->has_ports || p->fragment)
		return 0;
	if (p->key.proto == IPPROTO_TCP)
		return vm->hash_fields & XVNET_RSS_L4_TCP;
	if (p->key.proto == IPPROTO_UDP)
		return vm->hash_fields & XVNET_RSS_L4_UDP;
	return 0;
}

/* The hash input and key as sized types: a global function's pointer
 * argument is checked at the call for the size of what it points to. */
struct rss_input {
	__u8 b[XVNET_TOEPLITZ_MAX_IN];
};

struct rss_key_bytes {
	__u8 b[XVNET_RSS_KEY_SIZE];
};

/*
 * The two hashes, by the VM's tables (XVNET_VM_F_RSS_TABLE) and bit by bit
 * with its key.  Zero input bits add nothing to a Toeplitz hash, so a
 * 2-tuple hashed with its ports zeroed equals the 2-tuple hash: two
 * lengths cover all four types.  Out of line, so each unrolled hash is
 * emitted twice rather than once per input type (which overflows the
 * registers and the 512-byte stack); global, not static: the verifier
 * checks a global function once, on its own, where it walks a static one
 * again on every path that reaches the call (with both hashes walked on
 * every path of vm_tx, Linux 6.1's verifier went past its million
 * instructions).  A global function may be handed NULL, so each checks
 * its arguments.
 */
__noinline __u32 xvnet_rss_hash_tab(const struct xvnet_rss_table *t,
				    const struct rss_input *in, __u32 ipv6)
{
	if (!t || !in)
		return 0;
	if (ipv6)
		return xvnet_toeplitz_tab(t, in->b, XVNET_TOEPLITZ_LEN_V6_L4);
	return xvnet_toeplitz_tab(t, in->b, XVNET_TOEPLITZ_LEN_V4_L4);
}

__noinline __u32 xvnet_rss_hash_key(const struct rss_key_bytes *key,
				    const struct rss_input *in, __u32 ipv6)
{
	if (!key || !in)
		return 0;
	if (ipv6)
		return xvnet_toeplitz(key->b, in->b, XVNET_TOEPLITZ_LEN_V6_L4);
	return xvnet_toeplitz(key->b, in->b, XVNET_TOEPLITZ_LEN_V4_L4);
}

static __always_inline __u32 rss_hash(const struct xvnet_vm *vm, __u32 vm_id,
				      const struct xvnet_pkt *p, __u16 *type)
{
	int l4 = rss_uses_ports(vm, p);
	int tcp = p->key.proto == IPPROTO_TCP;
	struct rss_input rin = {};
	__u8 *in = rin.b;

	if (p->ip_version == 4) {
		__builtin_memcpy(in, p->key.src + 12, 4);
		__builtin_memcpy(in + 4, p->key.dst + 12, 4);
		*type = XVNET_RSS_TYPE_IPV4;
		if (l4) {
			__builtin_memcpy(in + 8, &p->key.sport, 2);
			__builtin_memcpy(in + 10, &p->key.dport, 2);
			*type = tcp ? XVNET_RSS_TYPE_TCP4 : XVNET_RSS_TYPE_UDP4;
		}
	} else if (p->ip_version == 6) {
		__builtin_memcpy(in, p->key.src, 16);
		__builtin_memcpy(in + 16, p->key.dst, 16);
		*type = XVNET_RSS_TYPE_IPV6;
		if (l4) {
			__builtin_memcpy(in + 32, &p->key.sport, 2);
			__builtin_memcpy(in + 34, &p->key.dport, 2);
			*type = tcp ? XVNET_RSS_TYPE_TCP6 : XVNET_RSS_TYPE_UDP6;
		}
	} else {
		*type = XVNET_RSS_TYPE_NONE;
		return 0;
	}
	if (vm->flags & XVNET_VM_F_RSS_TABLE) {
		const struct xvnet_rss_table *t = bpf_map_lookup_elem(&xvnet_rss_tables, &vm_id);

		if (t)
			return xvnet_rss_hash_tab(t, &rin, p->ip_version == 6);
	}
	return xvnet_rss_hash_key((const struct rss_key_bytes *)vm->rss_key, &rin,
				  p->ip_version == 6);
}

/* The indirection table is written a byte at a time, so each read is whole. */
static __always_inline __u32 rss_queue(const struct xvnet_vm *vm, __u32 hash)
{
	__u32 q = vm->rss_indir[hash % XVNET_RSS_INDIR_SIZE];

	return q < vm->n_queues ? q : 0;
}

#endif
