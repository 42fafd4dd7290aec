// SPDX-License-Identifier: GPL-2.0-only
/* The vhost-user protocol, back-end side, for a net device: vhost/vu_dev.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vhost/vu_dev.h"
#include "vhost/vu_msg.h"

/*
 * A frame leaves through an AF_XDP socket, which carries no checksum or
 * segmentation metadata: the guest's TX offloads (partial checksums, TCP
 * super-frames) are finished by the back-end as it copies
 * (vhost/tx_offload.h).  Toward the guest nothing is offered (no GUEST_*):
 * it is given complete frames, its stack checks their checksums.
 */
uint64_t vu_dev_offered_features(const struct vu_dev *d)
{
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MRG_RXBUF |
		     1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << VIRTIO_F_ANY_LAYOUT |
		     1ull << VU_F_PROTOCOL_FEATURES | 1ull << VIRTIO_NET_F_CSUM |
		     1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 |
		     1ull << VU_F_LOG_ALL;

	if (d->queue_pairs > 1)
		f |= 1ull << VIRTIO_NET_F_MQ;
	return f;
}

/* LOG_SHMFD and LOG_ALL: QEMU migrates a guest only with both (the
 * back-end logs what it writes into guest memory, vhost/vu_log.h); RARP:
 * the back-end announces the guest's MAC after a migration */
static const uint64_t offered_protocol =
	1ull << VU_PROTO_F_MQ | 1ull << VU_PROTO_F_REPLY_ACK |
	1ull << VU_PROTO_F_LOG_SHMFD | 1ull << VU_PROTO_F_RARP;

static int fail(struct vu_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct vu_dev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	return -1;
}

void vu_dev_init(struct vu_dev *d, unsigned queue_pairs)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->queue_pairs = queue_pairs;
	for (unsigned i = 0; i < VU_MAX_VQS; i++) {
		vq_init(&d->vq[i]);
		d->vq[i].log = &d->log;
	}
}

static void vq_forget(struct vu_dev *d, struct virtq *q)
{
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	vq_init(q);
	q->log = &d->log;
}

/* Logging is on while LOG_ALL is negotiated and a bitmap is mapped. */
static void log_update(struct vu_dev *d)
{
	__atomic_store_n(&d->log.on, (d->features & 1ull << VU_F_LOG_ALL) && d->log.bits,
			 __ATOMIC_RELAXED);
}

void vu_dev_reset(struct vu_dev *d)
{
	unsigned pairs = d->queue_pairs;

	if (d->fd >= 0)
		close(d->fd);
	for (unsigned i = 0; i < VU_MAX_VQS; i++)
		vq_forget(d, &d->vq[i]);
	vu_mem_clear(&d->mem);
	vu_log_clear(&d->log);
	vu_dev_init(d, pairs);
}

void vu_dev_attach(struct vu_dev *d, int fd)
{
	vu_dev_reset(d);
	d->fd = fd;
}

static void close_fds(struct vu_msg *m)
{
	for (int i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}

/* One message: the header (with any fds), then its payload. */
static int read_msg(struct vu_dev *d, struct vu_msg *m)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct cmsghdr a;
	} u;
	struct iovec iov = { .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t n;

	m->nfds = 0;
	do
		n = recvmsg(d->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return fail(d, "front-end closed the connection");
	if (n < 0)
		return fail(d, "recvmsg: %s", strerror(errno));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			memcpy(m->fds + m->nfds, CMSG_DATA(c), sizeof(int) * (size_t)k);
			m->nfds += k;
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		close_fds(m);
		return fail(d, "message with more than %d fds", VU_MAX_FDS);
	}
	if (n != (ssize_t)sizeof(m->hdr)) {
		close_fds(m);
		return fail(d, "short message header (%zd bytes)", n);
	}
	if ((m->hdr.flags & VU_FLAG_VERSION_MASK) != VU_VERSION || m->hdr.size > VU_MAX_PAYLOAD) {
		close_fds(m);
		return fail(d, "request %u: version %#x or size %u not supported",
			    m->hdr.request, m->hdr.flags, m->hdr.size);
	}
	for (size_t got = 0; got < m->hdr.size; got += (size_t)n) {
		n = read(d->fd, m->p.raw + got, m->hdr.size - got);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			close_fds(m);
			return fail(d, "request %u: payload cut short", m->hdr.request);
		}
	}
	return 0;
}

static int reply(struct vu_dev *d, const struct vu_msg *m, const void *p, uint32_t size)
{
	struct {
		struct vu_hdr h;
		unsigned char p[sizeof(struct vu_vring_state)];
	} __attribute__((packed)) r;
	size_t len = sizeof(r.h) + size;

	r.h.request = m->hdr.request;
	r.h.flags = VU_VERSION | VU_FLAG_REPLY;
	r.h.size = size;
	if (size)
		memcpy(r.p, p, size);
	if (send(d->fd, &r, len, MSG_NOSIGNAL) != (ssize_t)len)
		return fail(d, "reply to request %u: %s", m->hdr.request, strerror(errno));
	return 0;
}

static int reply_u64(struct vu_dev *d, const struct vu_msg *m, uint64_t v)
{
	return reply(d, m, &v, sizeof(v));
}

/* The virtqueue a ring message names, or NULL (the message is refused). */
static struct virtq *msg_vq(struct vu_dev *d, uint32_t index)
{
	return index < 2 * d->queue_pairs ? &d->vq[index] : NULL;
}

static bool has_protocol_features(const struct vu_dev *d)
{
	return d->features & 1ull << VU_F_PROTOCOL_FEATURES;
}

/* Start a ring once it has its kick: map it, pick up where used->idx is. */
static int vq_start(struct vu_dev *d, struct virtq *q)
{
	if (vq_map(q, &d->mem))
		return -1;
	q->event_idx = !!(d->features & 1ull << VIRTIO_RING_F_EVENT_IDX);
	q->used_idx = q->used->idx;
	q->signalled = q->used_idx;
	q->force_call = true;
	q->started = true;
	/* without the protocol features a ring is enabled when started */
	if (!has_protocol_features(d))
		q->enabled = true;
	return 0;
}

/* KICK / CALL / ERR: the index and, unless NOFD, the eventfd. */
static int ring_fd(struct vu_dev *d, struct vu_msg *m, struct virtq **qp, int *fd)
{
	uint64_t v = m->p.u64;

	*qp = msg_vq(d, (uint32_t)(v & VU_VRING_IDX_MASK));
	*fd = -1;
	if (!*qp)
		return fail(d, "request %u: bad ring index", m->hdr.request);
	if (!(v & VU_VRING_NOFD)) {
		if (m->nfds != 1)
			return fail(d, "request %u: expected one fd, got %d",
				    m->hdr.request, m->nfds);
		*fd = m->fds[0];
		m->nfds = 0;
	}
	return 0;
}

/* The payload size a request needs at least (its fields are read). */
static uint32_t payload_needed(uint32_t request)
{
	switch (request) {
	case VU_SET_FEATURES: case VU_SET_PROTOCOL_FEATURES:
	case VU_SET_VRING_KICK: case VU_SET_VRING_CALL: case VU_SET_VRING_ERR:
		return sizeof(uint64_t);
	case VU_SET_VRING_NUM: case VU_SET_VRING_BASE: case VU_GET_VRING_BASE:
	case VU_SET_VRING_ENABLE:
		return sizeof(struct vu_vring_state);
	case VU_SET_VRING_ADDR:
		return sizeof(struct vu_vring_addr);
	case VU_SET_MEM_TABLE:
		return 8;
	case VU_SET_LOG_BASE:
		return sizeof(struct vu_log_base);
	case VU_SEND_RARP:
		return sizeof(uint64_t);
	default:
		return 0;
	}
}

/* Act on one message.  1 when it was answered with a reply of its own. */
static int dispatch(struct vu_dev *d, struct vu_msg *m)
{
	struct virtq *q;
	int fd, err;

	if (m->hdr.size < payload_needed(m->hdr.request))
		return fail(d, "request %u: payload of %u bytes is too short",
			    m->hdr.request, m->hdr.size);
	switch (m->hdr.request) {
	case VU_GET_FEATURES:
		return reply_u64(d, m, vu_dev_offered_features(d)) ? -1 : 1;
	case VU_SET_FEATURES:
		if (m->p.u64 & ~vu_dev_offered_features(d))
			return fail(d, "SET_FEATURES %#llx: not all offered",
				    (unsigned long long)m->p.u64);
		d->features = m->p.u64;
		d->hdr_len = d->features & (1ull << VIRTIO_F_VERSION_1 |
					    1ull << VIRTIO_NET_F_MRG_RXBUF) ?
			sizeof(struct virtio_net_hdr_mrg_rxbuf) : sizeof(struct virtio_net_hdr);
		for (unsigned i = 0; i < VU_MAX_VQS; i++)
			d->vq[i].event_idx = !!(d->features & 1ull << VIRTIO_RING_F_EVENT_IDX);
		log_update(d);
		return 0;
	case VU_GET_PROTOCOL_FEATURES:
		return reply_u64(d, m, offered_protocol) ? -1 : 1;
	case VU_SET_PROTOCOL_FEATURES:
		d->protocol_features = m->p.u64 & offered_protocol;
		return 0;
	case VU_GET_QUEUE_NUM:
		return reply_u64(d, m, d->queue_pairs) ? -1 : 1;
	case VU_SET_OWNER:
		return 0;
	case VU_RESET_OWNER:
		for (unsigned i = 0; i < VU_MAX_VQS; i++)
			vq_forget(d, &d->vq[i]);
		return 0;
	case VU_SET_MEM_TABLE:
		if (m->p.memory.nregions > VU_MAX_REGIONS ||
		    m->hdr.size < 8 + m->p.memory.nregions * sizeof(struct vu_region))
			return fail(d, "SET_MEM_TABLE: malformed");
		err = vu_mem_set(&d->mem, &m->p.memory, m->fds, m->nfds);
		m->nfds = 0;
		if (err)
			return fail(d, "SET_MEM_TABLE: %s", strerror(-err));
		/* live rings follow the new mapping */
		for (unsigned i = 0; i < VU_MAX_VQS; i++)
			if (d->vq[i].started && vq_map(&d->vq[i], &d->mem))
				d->vq[i].broken = true;
		return 0;
	case VU_SET_VRING_NUM:
		q = msg_vq(d, m->p.state.index);
		if (!q || !m->p.state.num || m->p.state.num > VQ_MAX_SIZE ||
		    (m->p.state.num & (m->p.state.num - 1)))
			return fail(d, "SET_VRING_NUM: bad ring %u or size %u",
				    m->p.state.index, m->p.state.num);
		q->num = m->p.state.num;
		return 0;
	case VU_SET_VRING_ADDR:
		q = msg_vq(d, m->p.addr.index);
		if (!q)
			return fail(d, "SET_VRING_ADDR: bad ring %u", m->p.addr.index);
		q->desc_uva = m->p.addr.desc_user_addr;
		q->avail_uva = m->p.addr.avail_user_addr;
		q->used_uva = m->p.addr.used_user_addr;
		q->log_used = !!(m->p.addr.flags & 1u << VU_VRING_F_LOG);
		q->log_used_gpa = m->p.addr.log_guest_addr;
		return 0;
	case VU_SET_LOG_BASE:
		if (!(d->protocol_features & 1ull << VU_PROTO_F_LOG_SHMFD) || m->nfds != 1)
			return fail(d, "SET_LOG_BASE: needs LOG_SHMFD and one fd (%d given)",
				    m->nfds);
		err = vu_log_set(&d->log, m->fds[0], m->p.log.mmap_size, m->p.log.mmap_offset);
		m->nfds = 0;
		if (err)
			return fail(d, "SET_LOG_BASE: %s", strerror(-err));
		log_update(d);
		/* QEMU waits for an empty reply to this one */
		return reply(d, m, NULL, 0) ? -1 : 1;
	case VU_SET_LOG_FD:
		return 0;       /* its fd (closed with the message): nothing is signalled */
	case VU_SEND_RARP:
		memcpy(d->rarp_mac, m->p.raw, sizeof(d->rarp_mac));
		d->rarp_pending = true;
		return 0;
	case VU_SET_VRING_BASE:
		q = msg_vq(d, m->p.state.index);
		if (!q)
			return fail(d, "SET_VRING_BASE: bad ring %u", m->p.state.index);
		q->last_avail = (uint16_t)m->p.state.num;
		return 0;
	case VU_GET_VRING_BASE: {
		struct vu_vring_state st;

		q = msg_vq(d, m->p.state.index);
		if (!q)
			return fail(d, "GET_VRING_BASE: bad ring %u", m->p.state.index);
		/* stops the ring; the front-end restarts it from this index */
		st = (struct vu_vring_state){ .index = m->p.state.index, .num = q->last_avail };
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		q->kick_fd = -1;
		q->started = false;
		return reply(d, m, &st, sizeof(st)) ? -1 : 1;
	}
	case VU_SET_VRING_KICK:
		if (ring_fd(d, m, &q, &fd))
			return -1;
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		q->kick_fd = fd;
		if (vq_start(d, q))
			return fail(d, "SET_VRING_KICK: ring %ld addresses outside guest memory",
				    (long)(q - d->vq));
		return 0;
	case VU_SET_VRING_CALL:
		if (ring_fd(d, m, &q, &fd))
			return -1;
		if (q->call_fd >= 0)
			close(q->call_fd);
		q->call_fd = fd;
		return 0;
	case VU_SET_VRING_ERR:
		if (ring_fd(d, m, &q, &fd))
			return -1;
		if (fd >= 0)
			close(fd);      /* errors are logged here, not signalled */
		return 0;
	case VU_SET_VRING_ENABLE:
		q = msg_vq(d, m->p.state.index);
		if (!q)
			return fail(d, "SET_VRING_ENABLE: bad ring %u", m->p.state.index);
		q->enabled = m->p.state.num != 0;
		return 0;
	default:
		return fail(d, "request %u not supported", m->hdr.request);
	}
}

int vu_dev_handle(struct vu_dev *d)
{
	struct vu_msg m;
	int r;

	if (read_msg(d, &m))
		return -1;
	r = dispatch(d, &m);
	close_fds(&m);
	if (r < 0)
		return -1;
	/* REPLY_ACK: a request without a reply of its own is acknowledged */
	if (r == 0 && (m.hdr.flags & VU_FLAG_NEED_REPLY) &&
	    (d->protocol_features & 1ull << VU_PROTO_F_REPLY_ACK))
		return reply_u64(d, &m, 0);
	return 0;
}
