/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The back-end end of one vhost-user connection for a net device: reads
 * the front-end's messages (QEMU, Cloud Hypervisor, a test), keeps the
 * negotiated features, the guest's memory table and the virtqueues, and
 * answers.  Frames are moved elsewhere (vhost/net_copy.h); this file only
 * speaks the protocol.
 */
#ifndef XVNET_VHOST_VU_DEV_H
#define XVNET_VHOST_VU_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/virtq.h"
#include "vhost/vu_log.h"
#include "vhost/vu_mem.h"

#define VU_MAX_QUEUE_PAIRS 8
#define VU_MAX_VQS (2 * VU_MAX_QUEUE_PAIRS)

struct vu_dev {
	int fd;                         /* the connection; -1 when none */
	unsigned queue_pairs;           /* offered (GET_QUEUE_NUM) */
	uint64_t features;              /* negotiated (SET_FEATURES) */
	uint64_t protocol_features;
	struct vu_mem mem;
	struct virtq vq[VU_MAX_VQS];    /* 2i: RX of pair i, 2i+1: its TX */
	struct vu_log log;              /* a live migration's dirty log */
	/* SEND_RARP after a migration: the guest's MAC, announced by the
	 * frame mover (the guest cannot: no GUEST_ANNOUNCE) */
	unsigned char rarp_mac[6];
	bool rarp_pending;
	unsigned hdr_len;               /* virtio-net header in front of frames */
	char why[160];                  /* why the connection was dropped */
};

/* The features this back-end offers (GET_FEATURES). */
uint64_t vu_dev_offered_features(const struct vu_dev *d);

void vu_dev_init(struct vu_dev *d, unsigned queue_pairs);
/* Take a new connection (a previous one is reset first). */
void vu_dev_attach(struct vu_dev *d, int fd);
/* Forget the connection: unmap the guest, close its fds, stop the rings. */
void vu_dev_reset(struct vu_dev *d);
/* Read and answer one message.  0, or -1 when the connection is over (EOF
 * or a protocol error; d->why says which): call vu_dev_reset(). */
int vu_dev_handle(struct vu_dev *d);

#endif
