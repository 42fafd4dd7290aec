/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where xvnet's per-frame metadata goes (maps/xvnet_maps.h, enum
 * xvnet_meta_at): in front of the frame with bpf_xdp_adjust_meta, or, on a
 * kernel whose verifier refuses that helper in XDP programs, in a trailer
 * grown with bpf_xdp_adjust_tail that the receiving end takes off again.
 * cfg_meta_at is a load-time constant: the verifier prunes the branch not
 * taken, so the tail build never names adjust_meta and loads where that
 * helper is refused.  Both ends of every hop use these functions, so the
 * two ways cannot drift apart.
 */
#ifndef XVNET_BPF_META_H
#define XVNET_BPF_META_H

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include "bpf/maps.h"
#include "bpf/counters.h"

/* Load-time (skeleton .rodata), set by xvnetd from its xdp_meta probe. */
const volatile __u32 cfg_meta_at = XVNET_META_HEAD;

static __always_inline int meta_tail(void)
{
	return cfg_meta_at == XVNET_META_TAIL;
}

/* The tail mode's secret; 0 (unset) never matches. */
static __always_inline __u64 trailer_tag(void)
{
	__u32 zero = 0;
	struct xvnet_config *c = bpf_map_lookup_elem(&xvnet_config, &zero);

	return c ? c->trailer_tag : 0;
}

/* The last len bytes of the frame, checked for the verifier; NULL if not
 * there.  The verifier only gives a range to a packet pointer whose offset
 * plus access stays under 64 KiB, hence the mask: XDP frames are at most a
 * page (no frags here), and a longer one is refused, not misread. */
#define XDP_TAIL_MAX_OFF 0x3fff

static __always_inline void *xdp_tail_ptr(struct xdp_md *ctx, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 off = (__u32)(data_end - data);
	void *p;

	if (off < len)
		return NULL;
	off -= len;
	if (off > XDP_TAIL_MAX_OFF)
		return NULL;
	off &= XDP_TAIL_MAX_OFF;
	p = data + off;
	if (p + len > data_end)
		return NULL;
	return p;
}

/* Make room for len bytes after the frame; a pointer to them, or NULL. */
static __always_inline void *xdp_tail_grow(struct xdp_md *ctx, __u32 len)
{
	if (bpf_xdp_adjust_tail(ctx, (int)len))
		return NULL;
	return xdp_tail_ptr(ctx, len);
}

/*
 * Name the frame's VM and queue for the next hop (tc's skb path, or vm_cpu
 * behind the CPUMAP).  -1 (counted) if there is no room: a driver without
 * XDP metadata or tailroom.
 */
static __always_inline int skb_meta_put(struct xdp_md *ctx, __u32 vm_id, __u32 queue)
{
	if (meta_tail()) {
		struct xvnet_skb_trailer *t = xdp_tail_grow(ctx, sizeof(*t));
		__u64 tag = trailer_tag();

		if (!t || !tag)
			goto no_meta;
		t->vm_id = vm_id;
		t->queue = (__u16)queue;
		t->pad = 0;
		t->tag = tag;
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
	if (meta_tail()) {
		struct xvnet_skb_trailer *t = xdp_tail_ptr(ctx, sizeof(*t));
		__u64 tag = trailer_tag();

		if (!t || !tag || t->tag != tag)
			return 0;
		*vm_id = t->vm_id;
		*queue = t->queue;
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
	if (meta_tail())
		return bpf_xdp_adjust_tail(ctx, -(int)sizeof(struct xvnet_skb_trailer));
	return bpf_xdp_adjust_meta(ctx, (int)sizeof(struct xvnet_skb_meta));
}

/*
 * tc: the VM and queue XDP named for this skb.  1 found (a trailer is
 * already taken off), 0 not one of ours, -1 found but the trailer could
 * not be removed (drop it: the VM must never see it).
 */
static __always_inline int skb_meta_take(struct __sk_buff *skb, __u32 *vm_id, __u16 *queue)
{
	if (meta_tail()) {
		struct xvnet_skb_trailer t;
		__u32 len = skb->len;
		__u64 tag = trailer_tag();

		if (!tag || len < sizeof(struct ethhdr) + sizeof(t) ||
		    bpf_skb_load_bytes(skb, len - sizeof(t), &t, sizeof(t)) ||
		    t.tag != tag)
			return 0;
		*vm_id = t.vm_id;
		*queue = t.queue;
		return bpf_skb_change_tail(skb, len - sizeof(t), 0) ? -1 : 1;
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

/* struct xvnet_xsk_meta for an AF_XDP consumer, in front or at the end. */
static __always_inline int xsk_meta_put(struct xdp_md *ctx, __u32 hash, __u16 type,
					__u32 queue, __u16 vlan, __u32 vm_id)
{
	struct xvnet_xsk_meta *m;

	if (meta_tail()) {
		m = xdp_tail_grow(ctx, sizeof(*m));
		if (!m)
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
