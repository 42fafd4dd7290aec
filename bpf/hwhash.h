/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Config `rx-hash hw`: the NIC's own RSS hash of the frame, through the XDP
 * RX metadata kfunc (nic_rx_hw, a device-bound copy of nic_rx), in place of
 * xvnet's software Toeplitz hash.  Where the driver has none for a frame
 * (veth: frames that arrive as XDP frames rather than skbs) the caller falls
 * back to the software hash, counted.
 */
#ifndef XVNET_BPF_HWHASH_H
#define XVNET_BPF_HWHASH_H

#include "bpf/counters.h"
#include "bpf/parse.h"

/* The kernel's enum (include/net/xdp.h, not uapi): the kfunc's prototype
 * must match it by name; only the bit read here is spelled out. */
enum xdp_rss_hash_type {
	XDP_RSS_L4 = 1 << 3,
};

extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym __weak;

/* 1 and *hash, *type (with XVNET_RSS_TYPE_F_HW) if the NIC hashed the frame. */
static __always_inline int hw_rx_hash(struct xdp_md *ctx, const struct xvnet_pkt *p,
				      __u32 *hash, __u16 *type)
{
	enum xdp_rss_hash_type t = 0;
	int l4, v6 = p->ip_version == 6, tcp = p->key.proto == IPPROTO_TCP;

	if (!p->ip_version || bpf_xdp_metadata_rx_hash(ctx, hash, &t)) {
		count(XVNET_CNT_RX_HASH_HW_NONE);
		return 0;
	}
	count(XVNET_CNT_RX_HASH_HW);
	l4 = (t & XDP_RSS_L4) && (tcp || p->key.proto == IPPROTO_UDP);
	if (!l4)
		*type = v6 ? XVNET_RSS_TYPE_IPV6 : XVNET_RSS_TYPE_IPV4;
	else if (tcp)
		*type = v6 ? XVNET_RSS_TYPE_TCP6 : XVNET_RSS_TYPE_TCP4;
	else
		*type = v6 ? XVNET_RSS_TYPE_UDP6 : XVNET_RSS_TYPE_UDP4;
	*type |= XVNET_RSS_TYPE_F_HW;
	return 1;
}

#endif
