// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * All of xvnet's data path, one object so the programs share their maps.
 * nic_rx: XDP on the physical NIC.  Parses, classifies (flow cache, then
 * (MAC, VLAN)), steers with the VM's virtual RSS and redirects every frame
 * straight into its VM's port (the common frame by a shorter way to the
 * same result: bpf/fastpath.h).  nic_flood: tc ingress on the same NIC,
 * copies broadcast/multicast to the VMs of the frame's VLAN.
 * vm_tx / vm_flood: the same for what VMs send (XDP and tc on VM ports).
 * xsk_side: XDP on the VM end of an xsk VM's side veth, into its socket.
 * nic_rx_hw: nic_rx taking the NIC's RSS hash (config `rx-hash hw`).
 * nic_egress: tc egress on the NIC, the host stack's frames from VMs on the
 * fallback to the VMs on ports here (bpf/hostveb.h).
 * vm_cpu: the rest of a spread VM's delivery, on its queue's CPU (CPUMAP).
 * nic_flood and vm_flood also finish the skb path (bpf/skbpath.h) whose
 * queue tap_steer, tun's steering program on multi-queue taps, honours.
 * Behaviour: docs/datapath.md.  Layouts: maps/xvnet_maps.h.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "bpf/maps.h"
#include "bpf/counters.h"
#include "bpf/parse.h"
#include "bpf/steer.h"
#include "bpf/deliver.h"
#include "bpf/flood.h"
#include "bpf/slowpath.h"
#include "bpf/flowcache.h"
#include "bpf/redirect_err.h"
#include "bpf/frag.h"
#include "bpf/vm_tx.h"
#include "bpf/hostveb.h"
#include "bpf/vmcache.h"
#include "bpf/fastpath.h"

/* Load-time policy (skeleton .rodata): pass malformed frames to the host? */
const volatile __u32 cfg_malformed_pass = 0;

static __always_inline int malformed(void)
{
	count(XVNET_CNT_MALFORMED);
	return cfg_malformed_pass ? XDP_PASS : XDP_DROP;
}

static __always_inline void mark(const struct xvnet_pkt *p)
{
	if (p->fragment)
		count(XVNET_CNT_FRAGMENT);
	if (p->ext_limit)
		count(XVNET_CNT_IPV6_EXT_LIMIT);
	if (p->too_deep)
		count(XVNET_CNT_VLAN_TOO_DEEP);
	if (!p->ip_version)
		count(XVNET_CNT_NON_IP);
}

/*
 * The (MAC, VLAN) key built in a register and stored with one 8-byte
 * store: the hash lookup reads it back in 4-byte words (jhash2) and the
 * key compare in wider ones, and a load that spans several narrower
 * stores cannot be forwarded from the store buffer (a stall of a dozen
 * cycles or more, measured at about 4 ns per packet with xvnet-costbench).
 */
union vm_key_word {
	struct xvnet_vm_key k;
	__u64 w;
};
_Static_assert(sizeof(struct xvnet_vm_key) == sizeof(__u64), "xvnet_vm_key is one word");

static __always_inline __u64 vm_key_of(const __u8 *mac, __u16 vlan)
{
	__u64 w = 0;

	__builtin_memcpy(&w, mac, ETH_ALEN);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return w | ((__u64)vlan << 48);
#else
	return w | vlan;
#endif
}

_Static_assert(__builtin_offsetof(struct xvnet_vm, vlan) ==
	       __builtin_offsetof(struct xvnet_vm, mac) + ETH_ALEN,
	       "a VM slot's MAC and VLAN read as one key word");

/*
 * Ingress matches egress (vm_tx_check, bpf/spoof.h): a VM receives only
 * frames of its own tag shape, untagged or one 802.1Q tag with its VLAN ID
 * (VLAN 0: untagged or priority-tagged).  A second tag (popping the outer
 * one would hand the VM an inner VLAN: VLAN hopping) or an 802.1ad S-tag
 * (delivered untagged it would look like the VM's own VLAN) never does.
 * Returns 0 or the counter of the reason.
 */
static __always_inline __u32 vlan_shape_bad(const struct xvnet_pkt *p,
					    const struct xvnet_vm *vm)
{
	if (p->too_deep || p->n_tags > 1)
		return XVNET_CNT_VLAN_QINQ;
	if (p->n_tags && p->outer_tpid != bpf_htons(ETH_P_8021Q))
		return XVNET_CNT_VLAN_STAG;
	if (p->key.vlan != vm->vlan)            /* a flow to a VM on another VLAN */
		return XVNET_CNT_VLAN_OTHER;
	return 0;
}

/* 1: deliver to vm_id/queue; 0: return verdict; -1: miss. */
static __always_inline int flow_lookup(const struct xvnet_pkt *p, __u32 bytes,
				       __u32 *vm_id, __u32 *queue, int *verdict)
{
	struct xvnet_flow *f = flow_find(&p->key);

	if (!f)
		return -1;
	flow_hit(f, bytes);

	switch (f->verdict) {
	case XVNET_FLOW_DELIVER:
		*vm_id = f->vm_id;
		*queue = f->queue;
		return 1;
	case XVNET_FLOW_PASS:
		count(XVNET_CNT_FLOW_PASS);
		*verdict = XDP_PASS;
		return 0;
	default:
		count(XVNET_CNT_FLOW_DROP);
		*verdict = XDP_DROP;
		return 0;
	}
}

static __always_inline int nic_rx_frame(struct xdp_md *ctx, const int from)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 bytes = data_end - data;
	struct xvnet_pkt p = {};
	struct xvnet_vm *vm;
	__u32 vm_id, queue = XVNET_QUEUE_RSS;
	int verdict, from_flow = 0, from_frag = 0;

	count(XVNET_CNT_RX);
	if (parse_frame(data, data_end, &p) != PARSE_OK)
		return malformed();
	mark(&p);

	/* a later fragment of a datagram whose first fragment a VM with rules
	 * let through goes where that one went (bpf/frag.h) */
	if (p.frag_later) {
		struct xvnet_frag *e = frag_find(&p, p.key.vlan, XVNET_DIR_IN);

		if (e) {
			vm_id = e->vm_id;
			queue = e->queue;
			from_frag = 1;
			goto found;
		}
	}

	if (p.ip_version) {
		int hit = flow_lookup(&p, bytes, &vm_id, &queue, &verdict);

		if (hit == 0) {
			if (p.frag_first)
				frag_forget(&p, p.key.vlan, XVNET_DIR_IN);
			return verdict;
		}
		if (hit == 1) {
			from_flow = 1;
			goto found;
		}
	}

	{
		struct ethhdr *eth = data;
		union vm_key_word vk;
		__u32 *id;

		if ((void *)(eth + 1) > data_end)  /* parse_frame checked; for the verifier */
			return XDP_DROP;
		if (eth->h_dest[0] & 1) {
			count(XVNET_CNT_FLOOD);
			return XDP_PASS;
		}
		vk.w = vm_key_of(eth->h_dest, p.key.vlan);
		vm = vm_cache_find(vk.w, &vm_id);
		if (vm)
			goto active;
		id = bpf_map_lookup_elem(&xvnet_vm_by_mac, &vk.k);
		if (!id) {
			count(XVNET_CNT_NO_VM);
			return XDP_PASS;
		}
		vm_id = *id;
	}

found:
	vm = bpf_map_lookup_elem(&xvnet_vms, &vm_id);
	if (!vm || !(vm->flags & XVNET_VM_F_ACTIVE)) {
		count(XVNET_CNT_QUEUE_NOT_READY);
		return XDP_DROP;
	}
active:
	{
		__u32 why = vlan_shape_bad(&p, vm);

		if (why) {
			count(why);
			return XDP_DROP;
		}
	}
	/* a VM with rules: only installed flows get through (slow path);
	 * what the rules cannot judge does not get through (docs/security.md) */
	if ((vm->flags & XVNET_VM_F_HAS_RULES) && p.ip_version && !from_frag) {
		if (p.ext_limit) {
			count(XVNET_CNT_RULES_EXT_LIMIT);
			return XDP_DROP;
		}
		if (p.frag_later) {
			count(XVNET_CNT_FRAG_NO_FIRST);
			return XDP_DROP;
		}
		if (!from_flow) {
			if (p.frag_first)
				frag_forget(&p, p.key.vlan, XVNET_DIR_IN);
			return slow_path(ctx, &p.key, vm_id, XVNET_DIR_IN, bytes);
		}
		if (p.frag_first)
			frag_remember(&p, p.key.vlan, XVNET_DIR_IN, vm_id, queue);
	}
	return deliver(ctx, vm, vm_id, queue, &p, bytes, from);
}

/*
 * What the fast path (bpf/fastpath.h) leaves, as subprograms: inlined, the
 * general path's register pressure spilled the fast path's registers to
 * the stack (17.1 against 15.9 ns per common frame by xvnet-costbench);
 * the call costs the frames it takes a few instructions.
 */
static __noinline int nic_rx_general(struct xdp_md *ctx)
{
	return nic_rx_frame(ctx, DELIVER_FROM_NIC);
}

static __noinline int nic_rx_general_hw(struct xdp_md *ctx)
{
	return nic_rx_frame(ctx, DELIVER_FROM_NIC_HWHASH);
}

SEC("xdp")
int nic_rx(struct xdp_md *ctx)
{
	struct fast_any any;
	int r = nic_rx_fast(ctx, &any);

	if (r == FAST_ANY)
		return fast_deliver_any_nic(ctx, any.vm_id, any.queue, any.shape);
	return r != FAST_NO ? r : nic_rx_general(ctx);
}

/* Config `rx-hash hw`: loaded bound to the NIC (the metadata kfunc needs a
 * device-bound program) and attached instead of nic_rx. */
SEC("xdp")
int nic_rx_hw(struct xdp_md *ctx)
{
	struct fast_any any;
	int r = nic_rx_fast(ctx, &any);

	if (r == FAST_ANY)
		return fast_deliver_any_hw(ctx, any.vm_id, any.queue, any.shape);
	return r != FAST_NO ? r : nic_rx_general_hw(ctx);
}

SEC("tc")
int nic_flood(struct __sk_buff *skb)
{
	int r = skb_path_redirect(skb);

	if (r >= 0)
		return r;
	return nic_flood_frame(skb);
}

/* tc egress on the NIC: what the host stack sends a VM here from a VM on
 * the fallback (bpf/hostveb.h) */
SEC("tc")
int nic_egress(struct __sk_buff *skb)
{
	return nic_egress_frame(skb);
}

SEC("xdp")
int vm_tx(struct xdp_md *ctx)
{
	return vm_tx_frame(ctx);
}

SEC("tc")
int vm_flood(struct __sk_buff *skb)
{
	int r = skb_path_redirect(skb);

	if (r >= 0)
		return r;
	return vm_flood_frame(skb);
}

/*
 * The VM end of an xsk VM's side veth: what reaches it (broadcast copies,
 * frames from other local VMs) goes into the VM's side socket.  A frame
 * without the metadata block (flood copies, and inline every frame:
 * bpf/meta.h) gets one here, with the VM's own hash of the flow.
 */
SEC("xdp")
int xsk_side(struct xdp_md *ctx)
{
	__u32 port = ctx->ingress_ifindex, vm_id;
	struct xvnet_vm *vm;
	void *data;
	__u32 *id;

	id = bpf_map_lookup_elem(&xvnet_port_vm, &port);
	if (!id) {
		count(XVNET_CNT_TX_NO_PORT);
		return XDP_DROP;
	}
	vm_id = *id;
	vm = bpf_map_lookup_elem(&xvnet_vms, &vm_id);
	if (!vm || !(vm->flags & XVNET_VM_F_ACTIVE)) {
		count(XVNET_CNT_QUEUE_NOT_READY);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	/* opaque to the compiler: where data_meta == data it would otherwise
	 * parse through the data_meta register, which the verifier refuses */
	asm volatile("" : "+r"(data));
	if (meta_inline() || ctx->data_meta == ctx->data) {
		void *data_end = (void *)(long)ctx->data_end;
		__u16 type = XVNET_RSS_TYPE_NONE;
		__u32 hash = 0, queue = 0;
		struct xvnet_pkt p = {};

		if ((vm->n_queues > 1 || !(vm->flags & XVNET_VM_F_NO_RX_HASH)) &&
		    parse_frame(data, data_end, &p) == PARSE_OK) {
			hash = rss_hash(vm, vm_id, &p, &type);
			queue = vm->n_queues > 1 ? rss_queue(vm, hash) : 0;
		}
		if (xsk_meta_put(ctx, hash, type, queue, vm->vlan, vm_id)) {
			count(XVNET_CNT_META_FAIL);
			return XDP_DROP;
		}
	}
	if (bpf_redirect_map(&xvnet_xsk_side, vm_id, 0) != XDP_REDIRECT) {
		count(XVNET_CNT_QUEUE_NOT_READY);
		return XDP_DROP;
	}
	return XDP_REDIRECT;
}

/* A spread VM's queue, on that queue's CPU (entries of xvnet_cpus). */
SEC("xdp/cpumap")
int vm_cpu(struct xdp_md *ctx)
{
	return spread_deliver(ctx);
}

/* Multi-queue taps: tun's steering program (TUNSETSTEERINGEBPF). */
SEC("socket")
int tap_steer(struct __sk_buff *skb)
{
	return tap_steer_queue(skb);
}

/* Failed redirects, per VM and reason (bpf/redirect_err.h). */
SEC("tp_btf/xdp_redirect_err")
int redirect_err(__u64 *ctx)
{
	redirect_err_count((const struct net_device *)ctx[0], (int)ctx[3],
			   (__u32)ctx[5], (__u32)ctx[6]);
	return 0;
}

/* Frames a DEVMAP's bulk transmit dropped, per VM and reason (same map). */
SEC("tp_btf/xdp_devmap_xmit")
int devmap_xmit_err(__u64 *ctx)
{
	devmap_xmit_count((const struct net_device *)ctx[0],
			  (const struct net_device *)ctx[1], (int)ctx[3], (int)ctx[4]);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
