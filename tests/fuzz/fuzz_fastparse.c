// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: nic_rx's fast-path frame check and flow key
 * (bpf/fastparse.h) against the general parser (bpf/parse.h), compiled for
 * user space, on any bytes.  Oracle: the fast path takes a frame exactly
 * when parse_frame finds it well formed and of the common shape (untagged,
 * IPv4 with a 20-byte header or IPv6 with no extension header, TCP or UDP,
 * not a fragment), and then builds the very flow key parse_frame builds;
 * neither reads past the end; the flow cache's lookup keys (fast_key4,
 * fast_key6) are the general path's too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bpf/fastparse.h"

static int common_by_parse(const struct xvnet_pkt *p)
{
	return p->n_tags == 0 && !p->too_deep && p->ip_version && p->has_ports &&
	       !p->fragment && !p->ext_limit &&
	       (p->key.proto == IPPROTO_TCP || p->key.proto == IPPROTO_UDP) &&
	       p->l4_rel == (p->ip_version == 4 ? 20 : 40);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* headers are read as structs: 2 mod 4 like the kernel's frames */
	static uint8_t buf[16384 + 2] __attribute__((aligned(8)));
	struct xvnet_pkt p, q;
	struct fast_frame ff;
	void *d = buf + 2, *end;
	int fast, common;

	if (size > 16384)
		return 0;
	memcpy(d, data, size);
	end = (uint8_t *)d + size;
	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	fast = fast_shape(d, end, &ff);
	common = parse_frame(d, end, &p) == PARSE_OK && common_by_parse(&p);
	if (fast != common)
		abort();
	if (!fast)
		return 0;
	fast_pkt(&ff, end, &q);
	if (memcmp(&q.key, &p.key, sizeof(p.key)) || q.ip_version != p.ip_version ||
	    q.l4_rel != p.l4_rel || !q.has_ports)
		abort();
	/* the lookup keys: the 16-byte one exactly an IPv4 frame's, the
	 * 40-byte one an IPv6 frame's, both the general path's */
	if (p.ip_version == 4) {
		struct xvnet_flow4_key k4, want;

		xvnet_flow_key_to4(&p.key, &want);
		if (!xvnet_flow_key_is4(&p.key) || !fast_key4(&ff, end, &k4) ||
		    memcmp(&k4, &want, sizeof(k4)) || fast_key6(&ff, end, &q.key))
			abort();
	} else {
		struct xvnet_flow_key key;
		struct xvnet_flow4_key k4;

		if (!fast_key6(&ff, end, &key) || memcmp(&key, &p.key, sizeof(key)) ||
		    fast_key4(&ff, end, &k4))
			abort();
	}
	return 0;
}
