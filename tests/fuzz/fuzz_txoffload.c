// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the guest's TX offloads done by xvnet-vhost
 * (vhost/tx_offload.c) on any virtio-net header and frame, as a guest may
 * write them.  Oracle: no memory error or UB (nothing read past the frame,
 * nothing written past a segment's frame); a planned super-frame's
 * segments each fit the frame size the plan was made for and together
 * carry exactly its payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vhost/tx_offload.h"

#define CAP 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[TXO_MAX_FRAME], out[CAP];
	struct virtio_net_hdr h;
	struct txo_plan p;
	const char *why = "";
	size_t len, total = 0;

	if (size < sizeof(h) || size - sizeof(h) > TXO_MAX_FRAME)
		return 0;
	memcpy(&h, data, sizeof(h));
	len = size - sizeof(h);
	memcpy(frame, data + sizeof(h), len);
	switch (txo_plan(frame, len, &h, CAP, &p, &why)) {
	case 0:
		if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			txo_csum(frame, len, &h);
		break;
	case 1:
		if (!p.segs || p.segs > 65536)
			abort();
		for (uint32_t i = 0; i < p.segs; i++) {
			size_t n = txo_segment(frame, &p, i, out);

			if (n > CAP || n < p.payload)
				abort();
			total += n - p.payload;
		}
		if (total != len - p.payload)
			abort();
		break;
	default:
		if (!why || !*why)
			abort();
	}
	return 0;
}
