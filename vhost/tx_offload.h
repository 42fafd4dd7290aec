/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest's TX offloads, done by the back-end: an AF_XDP frame carries no
 * checksum or segmentation metadata, so what the guest left to the device
 * (VIRTIO_NET_F_CSUM: a partial checksum; HOST_TSO4/6: a TCP super-frame)
 * is finished here, while the frame is copied out anyway:
 *   - a partial checksum is completed (the guest seeded the field with the
 *     pseudo-header sum, as virtio says);
 *   - a TCP super-frame is cut into gso_size segments, each with its own
 *     IPv4 length, id and header checksum (or IPv6 payload length), TCP
 *     sequence number, flags (FIN/PSH on the last, CWR on the first) and a
 *     full TCP checksum.
 * The headers are parsed here, not taken from the guest's hdr_len or
 * csum_start: a frame whose headers do not say what its virtio header
 * claims is dropped, never sent half-done.
 */
#ifndef XVNET_VHOST_TX_OFFLOAD_H
#define XVNET_VHOST_TX_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#define TXO_MAX_FRAME 65600      /* a super-frame: 64 KiB IP + L2 headers */

/* A super-frame, parsed: where its headers are and how it is cut. */
struct txo_plan {
	uint16_t l3, l4, payload;   /* offsets of the IP and TCP headers, payload */
	uint16_t mss;               /* gso_size */
	uint8_t ipv6;
	uint32_t segs;              /* frames it makes */
	size_t len;                 /* the super-frame's length */
};

/*
 * What frame f (len bytes, after the guest's virtio header h) needs: 0 none
 * or a completed checksum (plan->segs = 1), 1 segmentation (plan filled:
 * plan->segs frames of at most cap bytes each), -1 malformed or not
 * offered (the reason in *why).
 */
int txo_plan(const uint8_t *f, size_t len, const struct virtio_net_hdr *h,
	     size_t cap, struct txo_plan *plan, const char **why);
/* Complete the partial checksum h asks for, in place; -1 if its place is
 * outside the frame. */
int txo_csum(uint8_t *f, size_t len, const struct virtio_net_hdr *h);
/* Segment i of the planned super-frame f into out; its length. */
size_t txo_segment(const uint8_t *f, const struct txo_plan *p, uint32_t i,
		   uint8_t *out);

#endif
