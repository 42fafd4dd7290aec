/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An xsk VM's AF_XDP sockets as xvnet-vhost uses them (docs/xsk.md): the
 * NIC sockets and the side socket receive (their frames recycled to their
 * own fill rings), the side socket transmits (its frames recycled from its
 * completion ring), so that what the guest sends crosses vm_tx.
 */
#ifndef XVNET_VHOST_XSK_PORT_H
#define XVNET_VHOST_XSK_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "lib/xsk_client.h"
#include "maps/xvnet_maps.h"

#define XSK_PORT_MAX_SOCKS (XVNET_MAX_NIC_QUEUES + 1)

struct xsk_sock {
	int fd;
	int queue;                      /* NIC RX queue; -1 for the side socket */
	struct xv_xsk_rings r;
	__u64 first, count;             /* the frames this socket owns */
};

struct xsk_port {
	unsigned char *umem;
	size_t umem_size;
	__u32 frame_size;
	__u32 meta_size;
	bool meta_inline;               /* "meta_at": "inline" */
	unsigned queues;                /* the VM's virtual queues */
	struct xsk_sock s[XSK_PORT_MAX_SOCKS];
	int n;                          /* sockets; the side socket is last */
	__u64 *tx_free;                 /* side-socket frames free for TX */
	__u32 n_tx_free;
	struct xvnet_coal_page *coal;   /* the VM's policy; NULL: none */
	unsigned char queue_cpus[XVNET_MAX_QUEUES];     /* the VM's queue-cpus */
	unsigned n_queue_cpus;
	int fds[XSK_PORT_MAX_SOCKS + 2];
	int nfds;
};

/* Take VM's sockets from xvnetd at ctl_path, map them, fill the fill rings.
 * 0, or -1 with the reason in err. */
int xsk_port_open(struct xsk_port *p, const char *ctl_path, const char *vm,
		  char *err, size_t errlen);
void xsk_port_close(struct xsk_port *p);

static inline struct xsk_sock *xsk_port_side(struct xsk_port *p)
{
	return &p->s[p->n - 1];
}

/* One received frame, the metadata block taken off. */
struct xsk_frame {
	const unsigned char *data;
	__u32 len;
	struct xvnet_xsk_meta meta;
	__u64 addr;                     /* the UMEM frame, for recycling */
};

/*
 * Peek at up to max frames on socket s's RX ring (not consumed yet); the
 * number in f[].  Descriptors outside the UMEM come back with len 0.
 */
__u32 xsk_port_rx_peek(struct xsk_port *p, struct xsk_sock *s, struct xsk_frame *f,
		       __u32 max);
/* Consume the first n peeked frames (they stay the caller's until given
 * back with xsk_port_fill). */
void xsk_port_rx_consume(struct xsk_sock *s, __u32 n);
/* Give n received frames of socket s back to its fill ring. */
void xsk_port_fill(struct xsk_sock *s, const __u64 *addrs, __u32 n);
/* Consume the first n peeked frames and give them back to the fill ring. */
void xsk_port_rx_release(struct xsk_port *p, struct xsk_sock *s,
			 const struct xsk_frame *f, __u32 n);

/* A free TX frame of the side socket (reclaiming completions), or NULL. */
unsigned char *xsk_port_tx_buf(struct xsk_port *p, __u64 *addr);
/* Free slots on the side socket's TX ring. */
__u32 xsk_port_tx_room(struct xsk_port *p);
/* Frames free for TX now (completions reclaimed), and the TX ring's size. */
__u32 xsk_port_tx_frames(struct xsk_port *p);
__u32 xsk_port_tx_size(struct xsk_port *p);
/* Queue the frame at addr (len bytes) on the side socket's TX ring, which
 * must have room (xsk_port_tx_room). */
void xsk_port_tx_put(struct xsk_port *p, __u64 addr, __u32 len);
/* Give back a frame from xsk_port_tx_buf that was not sent. */
void xsk_port_tx_unget(struct xsk_port *p, __u64 addr);
/* Tell the kernel to send what the TX ring holds. */
void xsk_port_tx_kick(struct xsk_port *p);

#endif
