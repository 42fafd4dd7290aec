// SPDX-License-Identifier: GPL-2.0-only
/* A tiny vhost-user front-end: tools/vhostfe/frontend.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/virtio_net.h>

#include "tools/vhostfe/frontend.h"
#include "vhost/vu_msg.h"

/* What this front-end's driver implements: fe_start accepts no other
 * feature, as a virtio driver does. */
#define FE_DRIVER_FEATURES                                                      \
	(1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_NET_F_MRG_RXBUF |           \
	 1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << VIRTIO_F_ANY_LAYOUT |         \
	 1ull << VU_F_PROTOCOL_FEATURES | 1ull << VIRTIO_NET_F_MQ |              \
	 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_HOST_TSO4 |            \
	 1ull << VIRTIO_NET_F_HOST_TSO6)
#define FE_DRIVER_PROTOCOL_FEATURES (1ull << VU_PROTO_F_MQ | 1ull << VU_PROTO_F_REPLY_ACK)

static uint64_t gpa(const struct fe *f, const void *p)
{
	return FE_GPA_BASE + (uint64_t)((const unsigned char *)p - f->mem);
}

static void *at(const struct fe *f, uint64_t a)
{
	return f->mem + (a - FE_GPA_BASE);
}

int fe_init(struct fe *f, int fd, void (*pump)(void *), void *ctx)
{
	/* each ring on its own pages, aligned as the virtio spec asks */
	size_t ring = (vring_size(FE_QSIZE, 4096) + 4095) & ~(size_t)4095;

	struct timeval tv = { .tv_sec = 2 };

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	/* a back-end that does not answer fails the request, not the caller */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	f->pump = pump;
	f->ctx = ctx;
	f->memfd = memfd_create("fe-guest", MFD_CLOEXEC);
	if (f->memfd < 0 || ftruncate(f->memfd, FE_MEM_SIZE))
		return -1;
	f->mem = mmap(NULL, FE_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	if (f->mem == MAP_FAILED)
		return -1;
	for (int q = 0; q < 2; q++) {
		vring_init(&f->vq[q].vr, FE_QSIZE, f->mem + (size_t)q * ring, 4096);
		f->vq[q].kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		f->vq[q].call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	f->buf_next = FE_BUF_AREA;
	return 0;
}

void fe_close(struct fe *f)
{
	for (int q = 0; q < 2; q++) {
		close(f->vq[q].kick);
		close(f->vq[q].call);
	}
	munmap(f->mem, FE_MEM_SIZE);
	close(f->memfd);
	if (f->fd >= 0)
		close(f->fd);
}

int fe_request(struct fe *f, uint32_t req, const void *payload, uint32_t size,
	       const int *fds, int nfds, void *reply, uint32_t reply_size)
{
	unsigned char buf[sizeof(struct vu_hdr) + sizeof(struct vu_memory)];
	struct vu_hdr h = { .request = req, .flags = VU_VERSION, .size = size };
	union {
		char b[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct cmsghdr a;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(h) + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, &h, sizeof(h));
	if (size)
		memcpy(buf + sizeof(h), payload, size);
	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	/* the header with its fds alone, then the payload, like QEMU */
	iov.iov_len = sizeof(h);
	if (sendmsg(f->fd, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(h) ||
	    (size && send(f->fd, buf + sizeof(h), size, MSG_NOSIGNAL) != (ssize_t)size))
		return -1;
	if (f->pump)
		f->pump(f->ctx);
	if (reply) {
		struct vu_hdr rh;

		if (recv(f->fd, &rh, sizeof(rh), MSG_WAITALL) != (ssize_t)sizeof(rh) ||
		    !(rh.flags & VU_FLAG_REPLY) || rh.request != req || rh.size != reply_size ||
		    (reply_size &&      /* an empty reply (SET_LOG_BASE) has no payload */
		     recv(f->fd, reply, reply_size, MSG_WAITALL) != (ssize_t)reply_size))
			return -1;
	}
	return 0;
}

static int ring_fd(struct fe *f, uint32_t req, uint32_t index, int fd)
{
	uint64_t v = index;

	return fe_request(f, req, &v, sizeof(v), &fd, 1, NULL, 0);
}

int fe_start(struct fe *f, uint64_t without)
{
	struct vu_memory m = { .nregions = 1 };
	uint64_t feat, proto;

	if (fe_request(f, VU_GET_FEATURES, NULL, 0, NULL, 0, &feat, sizeof(feat)) ||
	    fe_request(f, VU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0, &proto, sizeof(proto)))
		return -1;
	/* A driver accepts only what it implements: a back-end that offers
	 * more (DPDK's vhost library offers packed rings, IOMMU, a control
	 * queue, and the STATUS protocol feature, after which it waits for a
	 * SET_STATUS this front-end never sends) gets the split-ring subset. */
	f->features = feat & FE_DRIVER_FEATURES & ~without;
	f->protocol_features = proto & FE_DRIVER_PROTOCOL_FEATURES;
	proto = f->protocol_features;
	if (fe_request(f, VU_SET_PROTOCOL_FEATURES, &proto, sizeof(proto), NULL, 0, NULL, 0) ||
	    fe_request(f, VU_SET_OWNER, NULL, 0, NULL, 0, NULL, 0) ||
	    fe_request(f, VU_SET_FEATURES, &f->features, sizeof(f->features), NULL, 0, NULL, 0))
		return -1;
	m.regions[0] = (struct vu_region){ .guest_phys_addr = FE_GPA_BASE,
					   .memory_size = FE_MEM_SIZE,
					   .userspace_addr = (uint64_t)(uintptr_t)f->mem };
	if (fe_request(f, VU_SET_MEM_TABLE, &m, 8 + sizeof(m.regions[0]), &f->memfd, 1,
		       NULL, 0))
		return -1;
	for (uint32_t q = 0; q < 2; q++) {
		struct vu_vring_state num = { q, FE_QSIZE }, base = { q, 0 }, en = { q, 1 };
		struct vu_vring_addr a = {
			.index = q,
			.desc_user_addr = (uint64_t)(uintptr_t)f->vq[q].vr.desc,
			.avail_user_addr = (uint64_t)(uintptr_t)f->vq[q].vr.avail,
			.used_user_addr = (uint64_t)(uintptr_t)f->vq[q].vr.used,
		};

		if (fe_request(f, VU_SET_VRING_NUM, &num, sizeof(num), NULL, 0, NULL, 0) ||
		    fe_request(f, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, NULL, 0) ||
		    fe_request(f, VU_SET_VRING_BASE, &base, sizeof(base), NULL, 0, NULL, 0) ||
		    ring_fd(f, VU_SET_VRING_CALL, q, f->vq[q].call) ||
		    ring_fd(f, VU_SET_VRING_KICK, q, f->vq[q].kick) ||
		    fe_request(f, VU_SET_VRING_ENABLE, &en, sizeof(en), NULL, 0, NULL, 0))
			return -1;
	}
	return 0;
}

static void *buf_alloc(struct fe *f, uint32_t size)
{
	void *p;

	if (f->buf_next + size > FE_MEM_SIZE)
		f->buf_next = FE_BUF_AREA;      /* the tests never keep that many */
	p = f->mem + f->buf_next;
	f->buf_next += (size + 63) & ~63u;
	return p;
}

static void make_avail(struct fe_vq *v, uint16_t head)
{
	v->vr.avail->ring[v->avail_idx % FE_QSIZE] = head;
	__atomic_store_n(&v->vr.avail->idx, (uint16_t)(v->avail_idx + 1), __ATOMIC_RELEASE);
	v->avail_idx++;
}

void fe_rx_post(struct fe *f, unsigned n, uint32_t size)
{
	struct fe_vq *v = &f->vq[0];

	for (unsigned i = 0; i < n; i++) {
		uint16_t d = v->free_head++ % FE_QSIZE;

		v->vr.desc[d] = (struct vring_desc){ .addr = gpa(f, buf_alloc(f, size)),
						     .len = size, .flags = VRING_DESC_F_WRITE };
		make_avail(v, d);
	}
}

unsigned char *fe_rx_used(struct fe *f, uint32_t *len, uint16_t *id)
{
	struct fe_vq *v = &f->vq[0];
	struct vring_used_elem e;

	if (__atomic_load_n(&v->vr.used->idx, __ATOMIC_ACQUIRE) == v->used_seen)
		return NULL;
	e = v->vr.used->ring[v->used_seen++ % FE_QSIZE];
	*len = e.len;
	if (id)
		*id = (uint16_t)e.id;
	return at(f, v->vr.desc[e.id].addr);
}

void fe_rx_recycle(struct fe *f, uint16_t id)
{
	make_avail(&f->vq[0], id);
}

void fe_kick(struct fe *f, int q, uint16_t old)
{
	struct fe_vq *v = &f->vq[q];
	uint16_t now = v->avail_idx;
	uint64_t one = 1;
	bool want;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (f->features & 1ull << VIRTIO_RING_F_EVENT_IDX) {
		/* avail_event is the u16 after the used ring's entries */
		uint16_t *avail_event = (uint16_t *)&v->vr.used->ring[FE_QSIZE];
		uint16_t ev = __atomic_load_n(avail_event, __ATOMIC_ACQUIRE);

		want = (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	} else {
		want = !(v->vr.used->flags & VRING_USED_F_NO_NOTIFY);
	}
	if (want && write(v->kick, &one, sizeof(one)) != sizeof(one))
		return;
}

void fe_tx_send(struct fe *f, const void *frame, uint32_t len, uint32_t hdr_len)
{
	fe_tx_send_hdr(f, NULL, frame, len, hdr_len);
}

void fe_tx_send_hdr(struct fe *f, const void *hdr, const void *frame, uint32_t len,
		    uint32_t hdr_len)
{
	struct fe_vq *v = &f->vq[1];
	uint16_t d0 = v->free_head++ % FE_QSIZE, d1 = v->free_head++ % FE_QSIZE;
	unsigned char *h = buf_alloc(f, hdr_len), *p = buf_alloc(f, len);

	/* header and frame in two descriptors, as Linux's driver may send */
	memset(h, 0, hdr_len);
	if (hdr)
		memcpy(h, hdr, sizeof(struct virtio_net_hdr));
	memcpy(p, frame, len);
	v->vr.desc[d0] = (struct vring_desc){ .addr = gpa(f, h), .len = hdr_len,
					      .flags = VRING_DESC_F_NEXT, .next = d1 };
	v->vr.desc[d1] = (struct vring_desc){ .addr = gpa(f, p), .len = len };
	make_avail(v, d0);
}

unsigned fe_tx_reclaim(struct fe *f)
{
	struct fe_vq *v = &f->vq[1];
	uint16_t idx = __atomic_load_n(&v->vr.used->idx, __ATOMIC_ACQUIRE);
	unsigned n = (uint16_t)(idx - v->used_seen);

	v->used_seen = idx;
	return n;
}

bool fe_called(struct fe *f, int q)
{
	uint64_t v;

	return read(f->vq[q].call, &v, sizeof(v)) == sizeof(v);
}

void fe_set_used_event(struct fe *f, int q, uint16_t ev)
{
	/* used_event is the u16 after the avail ring's entries */
	f->vq[q].vr.avail->ring[FE_QSIZE] = ev;
}
