/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny vhost-user front-end (unit tests, xvnet-vhostsink): it plays QEMU
 * and the guest at once.  It owns "guest memory" (a memfd, shared with the back-end through
 * SET_MEM_TABLE like QEMU's memory-backend-memfd,share=on), lays out the
 * two split virtqueues of one queue pair in it, negotiates with a back-end
 * over a socket, and acts as the guest's virtio-net driver: posts RX
 * buffers, reads what the device wrote, sends TX frames.
 *
 * The back-end may run in the same thread: after each message the
 * front-end calls pump(ctx) (when given) so that it reads and answers it;
 * replies are awaited for at most 2 s.
 */
#ifndef XVNET_TOOLS_VHOSTFE_FRONTEND_H
#define XVNET_TOOLS_VHOSTFE_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#define FE_MEM_SIZE   (4u << 20)
#define FE_GPA_BASE   0x100000ull     /* guest physical address of the memfd */
#define FE_QSIZE      256
#define FE_BUF_AREA   (1u << 20)      /* offset of the buffers in the memfd */

struct fe_vq {
	struct vring vr;
	uint16_t avail_idx;             /* driver's next avail entry */
	uint16_t used_seen;             /* driver's next used entry to read */
	uint16_t free_head;             /* descriptors handed out linearly */
	int kick, call;                 /* eventfds (front-end's ends) */
};

struct fe {
	int fd;
	unsigned char *mem;
	int memfd;
	uint64_t features, protocol_features;
	struct fe_vq vq[2];             /* 0: RX, 1: TX */
	size_t buf_next;                /* bump allocator in the buffer area */
	void (*pump)(void *ctx);
	void *ctx;
};

/* Create memory and rings; fd is the front-end's end of the connection. */
int fe_init(struct fe *f, int fd, void (*pump)(void *), void *ctx);
void fe_close(struct fe *f);

/* Send a request; with a reply, read it into *reply (u64 or vring state).
 * 0, or -1 when the back-end closed the connection. */
int fe_request(struct fe *f, uint32_t req, const void *payload, uint32_t size,
	       const int *fds, int nfds, void *reply, uint32_t reply_size);

/* The whole start-up of a net device, as QEMU does it: features (all
 * offered but what `without` names), memory table, both rings started and
 * enabled.  0 or -1. */
int fe_start(struct fe *f, uint64_t without);

/* Driver side. */
void fe_rx_post(struct fe *f, unsigned n, uint32_t size);
/* Next used RX element: its buffer's bytes and length, or NULL.  *id (if
 * not NULL): its descriptor, for fe_rx_recycle. */
unsigned char *fe_rx_used(struct fe *f, uint32_t *len, uint16_t *id);
/* Make the RX descriptor id available again (its buffer reused). */
void fe_rx_recycle(struct fe *f, uint16_t id);
/* Kick queue q if the device asked for one since avail index `old`
 * (EVENT_IDX avail_event, else the used ring's NO_NOTIFY flag). */
void fe_kick(struct fe *f, int q, uint16_t old);
void fe_tx_send(struct fe *f, const void *frame, uint32_t len, uint32_t hdr_len);
/* The same with the first 10 bytes of the virtio-net header given (a
 * struct virtio_net_hdr: offload flags, GSO). */
void fe_tx_send_hdr(struct fe *f, const void *hdr, const void *frame, uint32_t len,
		    uint32_t hdr_len);
/* TX chains the device gave back. */
unsigned fe_tx_reclaim(struct fe *f);
/* True (and reset) when the device signalled the queue's call eventfd. */
bool fe_called(struct fe *f, int q);
/* Ask for interrupts only after used index `ev` (EVENT_IDX). */
void fe_set_used_event(struct fe *f, int q, uint16_t ev);

#endif
