/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nic_rx's common frame in few instructions (docs/datapath.md, "the fast
 * path"): an untagged IPv4 (no options, not a fragment) or IPv6 (no
 * extension header) TCP or UDP frame.  Such a frame leaves nic_rx_frame
 * through the same checks, counters and redirect as here; what it skips is
 * the general parser's state (VLAN tags, extension headers, fragments) and
 * the flow key where no flow table is in use.  A VM that takes a plain
 * redirect (one queue, a tap or veth port) skips deliver()'s port kinds
 * too; any other active VM on VLAN 0 (queues and RSS, queue-cpus, the skb
 * path, AF_XDP, the fallback) gets the frame through deliver() from here,
 * with the packet view fast_pkt makes of it.
 *
 * Everything else returns FAST_NO before any side effect, and nic_rx_frame
 * starts over: a frame of another shape (a malformed one is parsed again
 * there and counted), an inactive slot or one on another VLAN, and a VM
 * with rules whose frame no flow lets through (the slow path).
 */
#ifndef XVNET_BPF_FASTPATH_H
#define XVNET_BPF_FASTPATH_H

#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/fastparse.h"
#include "bpf/portsel.h"
#include "bpf/vmcache.h"
#include "bpf/flowcache.h"
#include "bpf/deliver.h"

#define FAST_NO (-1)
/* the frame goes to fast_deliver_any_nic/_hw with what struct fast_any says */
#define FAST_ANY (-2)

struct fast_any {
	__u32 vm_id;
	__u32 queue;
	__u32 shape;                    /* FAST_SHAPE_V6 | the L4 protocol */
};

/*
 * Tests only (tests/nicrx_fixture.c): count the frames the fast path
 * decided in fast_path_frames, and those of them it redirected plainly
 * (fast_deliver) in fast_plain_frames.  A load-time constant, so the
 * verifier removes the counts from xvnetd's programs.
 */
const volatile __u32 cfg_count_fast = 0;
__u64 fast_path_frames = 0;
__u64 fast_plain_frames = 0;

static __always_inline void fast_taken(void)
{
	if (cfg_count_fast)
		fast_path_frames++;
}

/* The flags of a VM slot a plain redirect can ignore (HAS_RULES: only
 * after a flow let the frame through).  Every flag not named here sends
 * the VM's frames through deliver(). */
#define FAST_VM_FLAGS_PLAIN (XVNET_VM_F_ACTIVE | XVNET_VM_F_KEEP_VLAN |        \
			     XVNET_VM_F_HAS_RULES | XVNET_VM_F_ALLOW_DHCP |     \
			     XVNET_VM_F_ALLOW_IPV6_LL |                         \
			     XVNET_VM_F_ALLOW_IPV6_LL_ANY | XVNET_VM_F_NO_RX_HASH | \
			     XVNET_VM_F_RSS_TABLE)

/*
 * The VM of an untagged frame's destination MAC as nic_rx_frame finds it
 * (xvnet_vm_cache, then xvnet_vm_by_mac): 0 and its slot in *vm (NULL if
 * the id has none), or -1: no VM has that MAC on VLAN 0.
 */
static __always_inline int fast_vm_of(struct ethhdr *eth, __u32 *vm_id,
				      struct xvnet_vm **vm)
{
	void *dst = eth;
	__u64 key = 0;
	__u32 *v;

	/* vm_key_of(MAC, VLAN 0) in two loads through a plain pointer, where
	 * the packed struct ethhdr makes six byte loads (the verifier allows
	 * unaligned packet loads where the CPU does, as x86 and arm64) */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	key = *(__u32 *)dst | (__u64)*(__u16 *)(dst + 4) << 32;
#else
	__builtin_memcpy(&key, dst, ETH_ALEN);
#endif
	*vm = vm_cache_find(key, vm_id);
	if (*vm)
		return 0;
	v = bpf_map_lookup_elem(&xvnet_vm_by_mac, &key);
	if (!v)
		return -1;
	*vm_id = *v;
	*vm = bpf_map_lookup_elem(&xvnet_vms, vm_id);
	return 0;
}

/*
 * A plain redirect serves vm: active, one queue, a tap or veth port, none
 * of queue-cpus or the skb path (its VLAN is 0: the callers made sure).
 * *kind, *bank_b: its port.
 */
static __always_inline int fast_vm_plain(const struct xvnet_vm *vm, __u32 *kind, int *bank_b)
{
	if ((vm->flags & ~FAST_VM_FLAGS_PLAIN) || !(vm->flags & XVNET_VM_F_ACTIVE) ||
	    vm->n_queues != 1)
		return 0;
	*kind = vm_port_kind(vm, bank_b);
	return *kind == XVNET_PORT_TAP || *kind == XVNET_PORT_VETH;
}

/* deliver() for a VM fast_vm_plain accepted. */
static __always_inline int fast_deliver(__u32 vm_id, __u32 kind,
					int bank_b, __u32 bytes)
{
	long ret = redirect_vm_port(vm_id, bank_b);

	if (cfg_count_fast)
		fast_plain_frames++;
	if (ret != XDP_REDIRECT) {
		count(XVNET_CNT_QUEUE_NOT_READY);
		return XDP_DROP;
	}
	count_port(vm_id, kind, bytes);
	count(XVNET_CNT_DELIVERED);
	count_queue(vm_id, 0, bytes);
	return XDP_REDIRECT;
}

/*
 * deliver() for an active VLAN-0 VM fast_vm_plain did not take: RSS and
 * the metadata need the whole packet view (a lookup had only the key).
 * A subprogram per `from`, called from one place in the program (nic_rx,
 * nic_rx_hw): the verifier walks a static subprogram again at each call
 * site, and with two (a flow hit, and a VM without one) Linux 6.1's went
 * past its million instructions.  A subprogram takes five arguments, so it
 * rebuilds the frame's shape from what fast_shape found: L3 right after
 * the Ethernet header, L4 after a 20-byte IPv4 or a 40-byte IPv6 header.
 */
#define FAST_SHAPE_V6 (1u << 8)

static __always_inline int fast_deliver_any_body(struct xdp_md *ctx, __u32 vm_id,
						 __u32 queue, __u32 shape, const int from)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct fast_frame ff = {
		.l3 = data + sizeof(struct ethhdr),
		.ipv6 = !!(shape & FAST_SHAPE_V6),
		.proto = (__u8)shape,
	};
	struct xvnet_pkt p = {};
	struct xvnet_vm *vm = bpf_map_lookup_elem(&xvnet_vms, &vm_id);

	if (!vm)        /* the caller found it; for the verifier */
		return XDP_DROP;
	ff.l4 = ff.l3 + (ff.ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr));
	fast_pkt(&ff, data_end, &p);
	return deliver(ctx, vm, vm_id, queue, &p, data_end - data, from);
}

static __noinline int fast_deliver_any_nic(struct xdp_md *ctx, __u32 vm_id,
					   __u32 queue, __u32 shape)
{
	return fast_deliver_any_body(ctx, vm_id, queue, shape, DELIVER_FROM_NIC);
}

static __noinline int fast_deliver_any_hw(struct xdp_md *ctx, __u32 vm_id,
					  __u32 queue, __u32 shape)
{
	return fast_deliver_any_body(ctx, vm_id, queue, shape, DELIVER_FROM_NIC_HWHASH);
}

/* What the caller of nic_rx_fast passes to fast_deliver_any_*: FAST_ANY. */
static __always_inline int fast_any(struct fast_any *any, __u32 vm_id, __u32 queue,
				    const struct fast_frame *ff)
{
	any->vm_id = vm_id;
	any->queue = queue;
	any->shape = (ff->ipv6 ? FAST_SHAPE_V6 : 0) | ff->proto;
	return FAST_ANY;
}

/* A flow-cache hit of a common frame; FAST_NO only before any side effect. */
static __always_inline int fast_flow_hit(struct xvnet_flow *f, const struct fast_frame *ff,
					 __u32 bytes, struct fast_any *any)
{
	__u32 vm_id = f->vm_id, kind;
	struct xvnet_vm *vm;
	int bank_b;

	if (f->verdict != XVNET_FLOW_DELIVER) {
		count(XVNET_CNT_RX);
		flow_hit(f, bytes);
		if (f->verdict == XVNET_FLOW_PASS) {
			count(XVNET_CNT_FLOW_PASS);
			return XDP_PASS;
		}
		count(XVNET_CNT_FLOW_DROP);
		return XDP_DROP;
	}
	vm = bpf_map_lookup_elem(&xvnet_vms, &vm_id);
	if (!vm || !(vm->flags & XVNET_VM_F_ACTIVE) || vm->vlan)
		return FAST_NO;
	count(XVNET_CNT_RX);
	flow_hit(f, bytes);
	if (fast_vm_plain(vm, &kind, &bank_b))
		return fast_deliver(vm_id, kind, bank_b, bytes);
	return fast_any(any, vm_id, f->queue, ff);
}

/* nic_rx_frame for a common frame, FAST_ANY (*any filled), or FAST_NO. */
static __always_inline int nic_rx_fast(struct xdp_md *ctx, struct fast_any *any)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 bytes = data_end - data, zero = 0, vm_id, kind;
	struct ethhdr *eth = data;
	struct xvnet_config *cfg;
	struct fast_frame ff;
	struct xvnet_vm *vm;
	int bank_b, r;

	if (!fast_shape(data, data_end, &ff))
		return FAST_NO;
	cfg = bpf_map_lookup_elem(&xvnet_config, &zero);
	if (!cfg || cfg->fast_path_off)
		return FAST_NO;
	if (cfg->flows_active || cfg->cfg_flows_active) {
		struct xvnet_flow *f;

		if (ff.ipv6) {
			struct xvnet_flow_key key;

			/* an IPv6 frame with IPv4-mapped addresses has its flow
			 * under the IPv4 key (flow_find_in): the general path's */
			if (!fast_key6(&ff, data_end, &key) || xvnet_flow_key_is4(&key))
				return FAST_NO;
			f = flow_find6(cfg, &key);
		} else {
			struct xvnet_flow4_key k4;

			if (!fast_key4(&ff, data_end, &k4))
				return FAST_NO;
			f = flow_find4(cfg, &k4);
		}
		if (f) {
			r = fast_flow_hit(f, &ff, bytes, any);
			if (r != FAST_NO)
				fast_taken();
			return r;
		}
	}
	if ((void *)(eth + 1) > data_end)   /* checked; for the verifier */
		return FAST_NO;
	if (eth->h_dest[0] & 1) {
		count(XVNET_CNT_RX);
		count(XVNET_CNT_FLOOD);
		fast_taken();
		return XDP_PASS;
	}
	if (fast_vm_of(eth, &vm_id, &vm)) {
		count(XVNET_CNT_RX);
		count(XVNET_CNT_NO_VM);
		fast_taken();
		return XDP_PASS;
	}
	/* a VM with rules takes a frame no flow let through on the slow path;
	 * an inactive slot, or one on another VLAN, is the general path's
	 * to count */
	if (!vm || (vm->flags & XVNET_VM_F_HAS_RULES) ||
	    !(vm->flags & XVNET_VM_F_ACTIVE) || vm->vlan)
		return FAST_NO;
	count(XVNET_CNT_RX);
	fast_taken();
	if (fast_vm_plain(vm, &kind, &bank_b))
		return fast_deliver(vm_id, kind, bank_b, bytes);
	return fast_any(any, vm_id, XVNET_QUEUE_RSS, &ff);
}

#endif
