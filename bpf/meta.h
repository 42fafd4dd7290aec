/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where xvnet's per-frame metadata goes (maps/xvnet_maps.h, enum
 * xvnet_meta_at): in front of the frame as XDP metadata
 * (bpf_xdp_adjust_meta), or, on a kernel whose verifier refuses that
 * helper in XDP programs, inline: pushed into the frame's data with
 * bpf_xdp_adjust_head, and taken off again by the receiving end.  Inline,
 * not at the tail: every XDP mode guarantees headroom (XDP_PACKET_HEADROOM),
 * while a frame built from an skb may have no tailroom at all.
 * cfg_meta_at is a load-time constant: the verifier prunes the branch not
 * taken, so the inline build never names adjust_meta and loads where that
 * helper is refused.  Both ends of every hop use these functions, so the
 * two ways cannot drift apart.
 */
#ifndef XVNET_BPF_META_H
#define XVNET_BPF_META_H

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include "bpf/maps.h"
#include "bpf/counters.h"

/* Load-time (skeleton .rodata), set by xvnetd from its xdp_meta probe. */
const volatile __u32 cfg_meta_at = XVNET_META_HEAD;

static __always_inline int meta_inline(void)
{
	return cfg_meta_at == XVNET_META_INLINE;
}

/* The inline mode's secret; 0 (unset) never matches. */
static __always_inline __u64 inline_tag(void)
{
	__u32 zero = 0;
	struct xvnet_config *c = bpf_map_lookup_elem(&xvnet_config, &zero);

	return c ? c->inline_tag : 0;
}

/* The cheap fields first: most frames tc sees (the host's own) stop there,
 * before the map lookup of the tag. */
static __always_inline int prefix_ok(const struct xvnet_skb_prefix *x)
{
	__u64 tag;

	if (x->mark != XVNET_SKB_PREFIX_MARK || x->proto != bpf_htons(ETH_P_IP))
		return 0;
	tag = inline_tag();
	return tag && (((__u64)x->tag_hi << 32) | x->tag_lo) == tag;
}

/*
 * Name the frame's VM and queue for the next hop (tc's skb path, or vm_cpu
 * behind the CPUMAP).  -1 (counted) if there is no room.
 */
static __always_inline int skb_meta_put(struct xdp_md *ctx, __u32 vm_id, __u32 queue)
{
	if (meta_inline()) {
		struct xvnet_skb_prefix *x;
		__u64 tag = inline_tag();

		if (!tag || bpf_xdp_adjust_head(ctx, -(int)sizeof(*x)))
			goto no_meta;
		x = (void *)(long)ctx->data;
		if ((void *)(x + 1) > (void *)(long)ctx->data_end)
			goto no_meta;
		x->mark = XVNET_SKB_PREFIX_MARK;
		x->pad = 0;
		x->queue = (__u16)queue;
		x->tag_lo = (__u32)tag;
		x->tag_hi = (__u32)(tag >> 32);
		x->proto = bpf_htons(ETH_P_IP);
		x->vm_id = (__u16)vm_id;
		return 0;
	} else {
		struct xvnet_skb_meta *m;

		if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
			goto no_meta;
		m = (void *)(long)ctx->data_meta;
		if ((void *)(m + 1) > (void *)(long)ctx->data)
			goto no_meta;
		m->magic = XVNET_SKB_META_MAGIC;
		m->vm_id = vm_id;
		m->queue = (__u16)queue;
		m->pad = 0;
		return 0;
	}
no_meta:
	count(XVNET_CNT_META_FAIL);
	return -1;
}

/*
 * XDP, behind the CPUMAP (vm_cpu): the VM and queue skb_meta_put() wrote.
 * 1 found, 0 none.  The block stays on the frame (the skb path needs it
 * further on); xdp_meta_drop() takes it off before a redirect.
 */
static __always_inline int xdp_meta_get(struct xdp_md *ctx, __u32 *vm_id, __u16 *queue)
{
	if (meta_inline()) {
		struct xvnet_skb_prefix *x = (void *)(long)ctx->data;

		if ((void *)(x + 1) > (void *)(long)ctx->data_end ||
		    !prefix_ok(x))
			return 0;
		*vm_id = x->vm_id;
		*queue = x->queue;
		return 1;
	} else {
		struct xvnet_skb_meta *m = (void *)(long)ctx->data_meta;

		if ((void *)(m + 1) > (void *)(long)ctx->data ||
		    m->magic != XVNET_SKB_META_MAGIC)
			return 0;
		*vm_id = m->vm_id;
		*queue = m->queue;
		return 1;
	}
}

static __always_inline int xdp_meta_drop(struct xdp_md *ctx)
{
	if (meta_inline())
		return bpf_xdp_adjust_head(ctx, (int)sizeof(struct xvnet_skb_prefix));
	return bpf_xdp_adjust_meta(ctx, (int)sizeof(struct xvnet_skb_meta));
}

/*
 * tc: the VM and queue XDP named for this skb.  1 found (an inline prefix
 * is already taken off), 0 not one of ours, -1 found but the prefix could
 * not be removed (drop it: the VM must never see it).  Inline, the stack
 * took the prefix for an IPv4 Ethernet header: shrinking 16 bytes after
 * that "header" removes the prefix's last 2 bytes and the real header,
 * which is then written back over the first 14.
 */
static __always_inline int skb_meta_take(struct __sk_buff *skb, __u32 *vm_id, __u16 *queue)
{
	if (meta_inline()) {
		struct xvnet_skb_prefix x;
		struct ethhdr eth;

		if (bpf_skb_load_bytes(skb, 0, &x, sizeof(x)) || !prefix_ok(&x))
			return 0;
		*vm_id = x.vm_id;
		*queue = x.queue;
		if (bpf_skb_load_bytes(skb, sizeof(x), &eth, sizeof(eth)) ||
		    bpf_skb_adjust_room(skb, -(int)sizeof(x), BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_FIXED_GSO) ||
		    bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0))
			return -1;
		return 1;
	} else {
		struct xvnet_skb_meta *m = (void *)(long)skb->data_meta;

		if ((void *)(m + 1) > (void *)(long)skb->data ||
		    m->magic != XVNET_SKB_META_MAGIC)
			return 0;
		*vm_id = m->vm_id;
		*queue = m->queue;
		return 1;
	}
}

/* struct xvnet_xsk_meta for an AF_XDP consumer, as metadata or inline. */
static __always_inline int xsk_meta_put(struct xdp_md *ctx, __u32 hash, __u16 type,
					__u32 queue, __u16 vlan, __u32 vm_id)
{
	struct xvnet_xsk_meta *m;

	if (meta_inline()) {
		if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*m)))
			return -1;
		m = (void *)(long)ctx->data;
		if ((void *)(m + 1) > (void *)(long)ctx->data_end)
			return -1;
	} else {
		if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
			return -1;
		m = (void *)(long)ctx->data_meta;
		if ((void *)(m + 1) > (void *)(long)ctx->data)
			return -1;
	}
	m->rss_hash = hash;
	m->rss_type = type;
	m->queue = queue;
	m->vlan = vlan;
	m->vm_id_lo = vm_id;
	return 0;
}

#endif
