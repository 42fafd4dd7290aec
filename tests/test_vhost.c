// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vhost-user back-end (vhost/) driven by a test front-end
 * (tools/vhostfe/frontend.c) that owns the guest memory and the virtqueues
 * in a memfd: feature and protocol negotiation, memory table (and its
 * growth while the rings run), vrings,
 * frames into the RX queue (one buffer, merged buffers, no buffers), frames
 * out of the TX queue, interrupt suppression by EVENT_IDX, and guests or
 * front-ends that send nonsense, a live migration's dirty log; and the ring that hands frames from the
 * dispatcher to a queue pair's worker thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "tests/unit.h"
#include "tools/vhostfe/frontend.h"
#include "vhost/net_copy.h"
#include "vhost/spsc.h"
#include "vhost/tx_offload.h"
#include "vhost/vu_dev.h"
#include "vhost/vu_msg.h"

struct rig {
	struct vu_dev dev;
	struct fe fe;
	int dead;               /* vu_dev_handle failed */
};

static void pump(void *ctx)
{
	struct rig *r = ctx;

	if (!r->dead && vu_dev_handle(&r->dev))
		r->dead = 1;
}

static int rig_setup(void **state)
{
	static struct rig r;
	int sv[2];

	memset(&r, 0, sizeof(r));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	vu_dev_init(&r.dev, 1);
	vu_dev_attach(&r.dev, sv[0]);
	if (fe_init(&r.fe, sv[1], pump, &r))
		return -1;
	*state = &r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;

	vu_dev_reset(&r->dev);
	fe_close(&r->fe);
	return 0;
}

static void frame(unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static void test_negotiation(void **state)
{
	struct rig *r = *state;
	struct vu_vring_state st = { 0, 0 };
	uint64_t qn;

	assert_int_equal(fe_start(&r->fe, 0), 0);
	assert_false(r->dead);
	assert_true(r->fe.features & 1ull << VIRTIO_F_VERSION_1);
	assert_true(r->fe.features & 1ull << VIRTIO_NET_F_MRG_RXBUF);
	assert_true(r->fe.features & 1ull << VIRTIO_RING_F_EVENT_IDX);
	assert_true(r->fe.features & 1ull << VU_F_PROTOCOL_FEATURES);
	/* the guest's TX offloads are done by the back-end; nothing toward
	 * the guest is claimed that the AF_XDP path cannot keep */
	assert_true(r->fe.features & 1ull << VIRTIO_NET_F_CSUM);
	assert_true(r->fe.features & 1ull << VIRTIO_NET_F_HOST_TSO4);
	assert_false(r->fe.features & 1ull << VIRTIO_NET_F_GUEST_CSUM);
	assert_false(r->fe.features & 1ull << VIRTIO_NET_F_GUEST_TSO4);
	assert_false(r->fe.features & 1ull << VIRTIO_NET_F_HOST_UFO);
	assert_int_equal(r->dev.features, r->fe.features);
	assert_int_equal(r->dev.hdr_len, sizeof(struct virtio_net_hdr_mrg_rxbuf));
	assert_int_equal(fe_request(&r->fe, VU_GET_QUEUE_NUM, NULL, 0, NULL, 0, &qn,
				    sizeof(qn)), 0);
	assert_int_equal(qn, 1);
	assert_true(vq_live(&r->dev.vq[0]) && vq_live(&r->dev.vq[1]));
	/* GET_VRING_BASE stops the ring and says where it stood */
	fe_rx_post(&r->fe, 3, 2048);
	{
		unsigned char f[60];

		frame(f, sizeof(f), 1);
		assert_int_equal(net_rx_put(&r->dev, &r->dev.vq[0], f, sizeof(f)), NET_RX_DONE);
	}
	assert_int_equal(fe_request(&r->fe, VU_GET_VRING_BASE, &st, sizeof(st), NULL, 0,
				    &st, sizeof(st)), 0);
	assert_int_equal(st.num, 1);
	assert_false(vq_live(&r->dev.vq[0]));
}

static void test_rx_one_buffer_each(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[0];
	static const size_t lens[] = { 60, 1514, 200 };
	unsigned char f[1514];

	assert_int_equal(fe_start(&r->fe, 0), 0);
	fe_rx_post(&r->fe, 8, 2048);
	for (size_t i = 0; i < 3; i++) {
		frame(f, lens[i], (unsigned)i);
		assert_int_equal(net_rx_put(&r->dev, q, f, lens[i]), NET_RX_DONE);
	}
	assert_true(vq_flush(q));
	vq_call(q);
	assert_true(fe_called(&r->fe, 0));
	for (size_t i = 0; i < 3; i++) {
		struct virtio_net_hdr_mrg_rxbuf h;
		uint32_t len;
		unsigned char *p = fe_rx_used(&r->fe, &len, NULL);

		assert_non_null(p);
		assert_int_equal(len, 12 + lens[i]);
		memcpy(&h, p, sizeof(h));
		assert_int_equal(h.num_buffers, 1);
		assert_int_equal(h.hdr.flags, 0);
		assert_int_equal(h.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		frame(f, lens[i], (unsigned)i);
		assert_memory_equal(p + 12, f, lens[i]);
	}
	assert_null(fe_rx_used(&r->fe, &(uint32_t){ 0 }, NULL));
}

static void test_rx_merged_buffers(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[0];
	unsigned char f[1000], got[1012];
	size_t off = 0;
	unsigned chains = 0;
	uint32_t len;
	unsigned char *p;

	assert_int_equal(fe_start(&r->fe, 0), 0);
	fe_rx_post(&r->fe, 8, 256);
	frame(f, sizeof(f), 9);
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
	vq_flush(q);
	while ((p = fe_rx_used(&r->fe, &len, NULL))) {
		assert_true(off + len <= sizeof(got));
		memcpy(got + off, p, len);
		off += len;
		chains++;
	}
	assert_int_equal(chains, 4);            /* 1012 bytes in 256-byte buffers */
	assert_int_equal(off, sizeof(got));
	assert_int_equal(((struct virtio_net_hdr_mrg_rxbuf *)got)->num_buffers, 4);
	assert_memory_equal(got + 12, f, sizeof(f));
}

static void test_rx_waits_for_buffers(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[0];
	unsigned char f[1000];

	assert_int_equal(fe_start(&r->fe, 0), 0);
	frame(f, sizeof(f), 3);
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_NO_BUFFERS);
	/* two buffers are not enough for 1012 bytes: none is taken */
	fe_rx_post(&r->fe, 2, 256);
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_NO_BUFFERS);
	assert_int_equal(q->last_avail, 0);
	assert_true(vq_want_kick(q));           /* buffers wait: no kick needed */
	fe_rx_post(&r->fe, 2, 256);
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
	assert_int_equal(q->last_avail, 4);
	assert_false(vq_want_kick(q));          /* all taken: kick me next time */
	{
		uint16_t avail_event;   /* the u16 after the used ring's entries */

		memcpy(&avail_event, &q->used->ring[FE_QSIZE], sizeof(avail_event));
		assert_int_equal(avail_event, 4);
	}
}

static void test_rx_without_mrg_rxbuf(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[0];
	unsigned char f[1000];

	assert_int_equal(fe_start(&r->fe, 1ull << VIRTIO_NET_F_MRG_RXBUF), 0);
	assert_int_equal(r->dev.hdr_len, 12);   /* VERSION_1: num_buffers stays */
	fe_rx_post(&r->fe, 4, 256);
	frame(f, sizeof(f), 5);
	/* a frame larger than one buffer cannot be split without MRG_RXBUF */
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DROPPED);
	assert_int_equal(q->last_avail, 0);
	assert_int_equal(net_rx_put(&r->dev, q, f, 200), NET_RX_DONE);
}

static void test_tx_frames_out(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[1];
	unsigned char f[1514], out[2048];

	assert_int_equal(fe_start(&r->fe, 0), 0);
	assert_int_equal(net_tx_take(&r->dev, q, out, sizeof(out)), 0);
	frame(f, 60, 1);
	fe_tx_send(&r->fe, f, 60, 12);
	frame(f, 1514, 2);
	fe_tx_send(&r->fe, f, 1514, 12);
	fe_tx_send(&r->fe, f, 10, 12);          /* shorter than an Ethernet header */
	fe_tx_send(&r->fe, f, 1514, 12);        /* longer than the caller's buffer */
	assert_int_equal(net_tx_take(&r->dev, q, out, sizeof(out)), 60);
	frame(f, 60, 1);
	assert_memory_equal(out, f, 60);
	assert_int_equal(net_tx_take(&r->dev, q, out, sizeof(out)), 1514);
	frame(f, 1514, 2);
	assert_memory_equal(out, f, 1514);
	assert_int_equal(net_tx_take(&r->dev, q, out, sizeof(out)), -1);
	assert_int_equal(net_tx_take(&r->dev, q, out, 1000), -1);
	assert_int_equal(net_tx_take(&r->dev, q, out, sizeof(out)), 0);
	assert_false(q->broken);
	vq_flush(q);
	/* every chain goes back to the guest, the dropped ones too */
	assert_int_equal(fe_tx_reclaim(&r->fe), 4);
}

/* ---- TX offloads: partial checksums and TCP super-frames ---------------- */

static uint32_t t_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t t_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t t_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* The pseudo-header sum of an IPv4 or IPv6 packet at ip (l4 bytes of L4). */
static uint32_t t_pseudo(const uint8_t *ip, int v6, uint8_t proto, size_t l4)
{
	return (v6 ? t_sum(ip + 8, 32, 0) : t_sum(ip + 12, 8, 0)) + proto + (uint32_t)l4;
}

/* A TCP super-frame as a Linux guest hands it over: eth, IP (v4: id 0x1234,
 * DF), TCP seq 1000 with CWR|ACK|PSH|FIN, the checksum field seeded with
 * the pseudo-header sum of the whole, data bytes i & 0xff. */
static size_t tcp_super(uint8_t *f, size_t data, int v6)
{
	size_t l3 = 14, l4 = v6 ? 54 : 34, len = l4 + 20 + data;

	memset(f, 0, l4 + 20);
	memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[l3] = 0x60;
		f[l3 + 4] = (uint8_t)((20 + data) >> 8);
		f[l3 + 5] = (uint8_t)(20 + data);
		f[l3 + 6] = 6;
		f[l3 + 7] = 64;
		f[l3 + 8] = 0xfd; f[l3 + 23] = 1;
		f[l3 + 24] = 0xfd; f[l3 + 39] = 2;
	} else {
		f[l3] = 0x45;
		f[l3 + 4] = 0x12; f[l3 + 5] = 0x34;
		f[l3 + 6] = 0x40;       /* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = 6;
		memcpy(f + l3 + 12, "\x0a\0\0\x01\x0a\0\0\x02", 8);
	}
	f[l4] = 0x04; f[l4 + 1] = 0xd2; f[l4 + 3] = 80;
	f[l4 + 6] = 0x03; f[l4 + 7] = 0xe8;        /* seq 1000 */
	f[l4 + 11] = 1;
	f[l4 + 12] = 5 << 4;
	f[l4 + 13] = 0x80 | 0x10 | 0x08 | 0x01;
	f[l4 + 14] = 0xff;
	for (size_t i = 0; i < data; i++)
		f[l4 + 20 + i] = (uint8_t)i;
	{
		uint16_t seed = t_fold(t_pseudo(f + l3, v6, 6, 20 + data));

		f[l4 + 16] = (uint8_t)(seed >> 8);
		f[l4 + 17] = (uint8_t)seed;
	}
	return len;
}

static void check_segments(uint8_t *f, size_t len, int v6, uint16_t mss, unsigned want)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
						     VIRTIO_NET_HDR_GSO_TCPV4,
				    .gso_size = mss };
	size_t l3 = 14, l4 = v6 ? 54 : 34, data = len - l4 - 20, off = 0;
	static uint8_t out[2048];
	struct txo_plan p;
	const char *why = "";

	assert_int_equal(txo_plan(f, len, &h, sizeof(out), &p, &why), 1);
	assert_int_equal(p.segs, want);
	for (uint32_t i = 0; i < p.segs; i++) {
		size_t n = data - off < mss ? data - off : mss;
		size_t got = txo_segment(f, &p, i, out);
		uint8_t flags = out[l4 + 13];

		assert_int_equal(got, l4 + 20 + n);
		if (v6) {
			assert_int_equal(t_get16(out + l3 + 4), 20 + n);
		} else {
			assert_int_equal(t_get16(out + l3 + 2), 20 + 20 + n);
			assert_int_equal(t_get16(out + l3 + 4), 0x1234 + i);
			assert_int_equal(t_fold(t_sum(out + l3, 20, 0)), 0xffff);
		}
		assert_int_equal((uint32_t)(out[l4 + 4] << 24 | out[l4 + 5] << 16 |
					    out[l4 + 6] << 8 | out[l4 + 7]), 1000 + off);
		/* FIN and PSH on the last segment only, CWR on the first only */
		assert_int_equal(!!(flags & 0x01), i + 1 == p.segs);
		assert_int_equal(!!(flags & 0x08), i + 1 == p.segs);
		assert_int_equal(!!(flags & 0x80), i == 0);
		assert_true(flags & 0x10);
		assert_int_equal(t_fold(t_sum(out + l4, 20 + n,
					      t_pseudo(out + l3, v6, 6, 20 + n))), 0xffff);
		assert_memory_equal(out + l4 + 20, f + l4 + 20 + off, n);
		off += n;
	}
	assert_int_equal(off, data);
}

static void test_tx_offloads(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[1];
	static uint8_t f[TXO_MAX_FRAME], buf[TXO_MAX_FRAME];
	struct virtio_net_hdr h, sent = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					  .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					  .gso_size = 1448, .hdr_len = 54,
					  .csum_start = 34, .csum_offset = 16 };
	struct txo_plan p;
	struct vq_chain c;
	const char *why = "";
	size_t len;

	assert_int_equal(fe_start(&r->fe, 0), 0);
	/* offered, and a Linux guest takes them */
	assert_true(r->dev.features & 1ull << VIRTIO_NET_F_CSUM);
	assert_true(r->dev.features & 1ull << VIRTIO_NET_F_HOST_TSO4);
	assert_true(r->dev.features & 1ull << VIRTIO_NET_F_HOST_TSO6);
	/* a super-frame through the ring: its header read, its bytes whole */
	len = tcp_super(f, 4000, 0);
	fe_tx_send_hdr(&r->fe, &sent, f, (uint32_t)len, 12);
	assert_int_equal(net_tx_pop(&r->dev, q, &c, &h, sizeof(buf)), (long)len);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(h.gso_size, 1448);
	net_tx_copy(&r->dev, &c, buf, len);
	net_tx_done(q, &c);
	assert_memory_equal(buf, f, len);
	check_segments(buf, len, 0, 1448, 3);
	/* net_tx_take (one frame per chain) refuses a super-frame */
	fe_tx_send_hdr(&r->fe, &sent, f, (uint32_t)len, 12);
	assert_int_equal(net_tx_take(&r->dev, q, buf, sizeof(buf)), -1);
	/* IPv6, and data that fits one segment */
	len = tcp_super(f, 3000, 1);
	check_segments(f, len, 1, 1440, 3);
	len = tcp_super(f, 100, 0);
	check_segments(f, len, 0, 1448, 1);

	/* a partial checksum completed (UDP over IPv4 as the seed says) */
	{
		struct virtio_net_hdr ch = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					     .csum_start = 34, .csum_offset = 6 };
		size_t n = tcp_super(f, 80, 0);
		uint16_t seed;

		f[14 + 9] = 17;                         /* UDP: 8-byte header */
		f[34 + 4] = 0; f[34 + 5] = 100;         /* length 100 */
		seed = t_fold(t_pseudo(f + 14, 0, 17, 100));
		f[34 + 6] = (uint8_t)(seed >> 8);
		f[34 + 7] = (uint8_t)seed;
		n = 34 + 100;
		fe_tx_send_hdr(&r->fe, &ch, f, (uint32_t)n, 12);
		assert_int_equal(net_tx_take(&r->dev, q, buf, sizeof(buf)), (long)n);
		assert_int_equal(t_fold(t_sum(buf + 34, 100, t_pseudo(buf + 14, 0, 17, 100))),
				 0xffff);
		ch.csum_start = (uint16_t)n;            /* outside the frame */
		assert_int_equal(txo_csum(buf, n, &ch), -1);
		ch.csum_start = 34;
		ch.csum_offset = 99;                    /* its field past the end */
		assert_int_equal(txo_csum(buf, n, &ch), -1);
	}

	/* what the virtio header claims, the headers must say */
	len = tcp_super(f, 4000, 1);
	h = sent;                                       /* TSO4 on an IPv6 frame */
	assert_int_equal(txo_plan(f, len, &h, 2048, &p, &why), -1);
	len = tcp_super(f, 4000, 0);
	f[14 + 7] = 0x10;                               /* a fragment offset */
	assert_int_equal(txo_plan(f, len, &h, 2048, &p, &why), -1);
	f[14 + 7] = 0;
	f[14 + 9] = 17;                                 /* UDP under TSO4 */
	assert_int_equal(txo_plan(f, len, &h, 2048, &p, &why), -1);
	f[14 + 9] = 6;
	h.gso_size = 0;
	assert_int_equal(txo_plan(f, len, &h, 2048, &p, &why), -1);
	h.gso_size = 2000;                              /* segments over a frame */
	assert_int_equal(txo_plan(f, len, &h, 2048, &p, &why), -1);
	h.gso_size = 1448;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(txo_plan(f, len, &h, 2048, &p, &why), -1);
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(txo_plan(f, len, &h, 2048, &p, &why), -1);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	f[34 + 12] = 4 << 4;                            /* TCP data offset < 5 */
	assert_int_equal(txo_plan(f, len, &h, 2048, &p, &why), -1);
	assert_int_equal(txo_plan(f, 40, &h, 2048, &p, &why), -1);     /* cut short */
	vq_flush(q);
}

static void test_event_idx_suppresses_calls(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[0];
	unsigned char f[60];

	assert_int_equal(fe_start(&r->fe, 0), 0);
	fe_rx_post(&r->fe, 8, 2048);
	frame(f, sizeof(f), 0);
	/* the driver wants an interrupt once used->idx passes 3 */
	fe_set_used_event(&r->fe, 0, 3);
	/* but the first after the ring started goes out whatever used_event
	 * says (a migrated guest's may not be in step) */
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
	assert_true(vq_flush(q));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
		assert_false(vq_flush(q));
	}
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
	assert_true(vq_flush(q));
	/* without EVENT_IDX, NO_INTERRUPT in the avail flags is obeyed */
	q->event_idx = false;
	r->fe.vq[0].vr.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
	assert_false(vq_flush(q));
}

static void test_guest_nonsense(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[0];
	struct fe_vq *v = &r->fe.vq[0];
	unsigned char f[60];

	assert_int_equal(fe_start(&r->fe, 0), 0);
	frame(f, sizeof(f), 0);
	/* a buffer outside guest memory */
	v->vr.desc[0] = (struct vring_desc){ .addr = FE_GPA_BASE + FE_MEM_SIZE - 16,
					     .len = 2048, .flags = VRING_DESC_F_WRITE };
	v->vr.avail->ring[0] = 0;
	v->vr.avail->idx = 1;
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DROPPED);
	assert_true(q->broken);
	assert_false(vq_live(q));
	/* a descriptor loop on TX ends, the ring marked broken */
	v = &r->fe.vq[1];
	v->vr.desc[0] = (struct vring_desc){ .addr = FE_GPA_BASE + FE_BUF_AREA, .len = 64,
					     .flags = VRING_DESC_F_NEXT, .next = 1 };
	v->vr.desc[1] = (struct vring_desc){ .addr = FE_GPA_BASE + FE_BUF_AREA, .len = 64,
					     .flags = VRING_DESC_F_NEXT, .next = 0 };
	v->vr.avail->ring[0] = 0;
	v->vr.avail->idx = 1;
	assert_int_equal(net_tx_take(&r->dev, &r->dev.vq[1], f, sizeof(f)), -1);
	assert_true(r->dev.vq[1].broken);
	/* an avail index further ahead than the ring is long */
	q = &r->dev.vq[1];
	q->broken = false;
	v->vr.avail->idx = FE_QSIZE + 5;
	assert_int_equal(vq_pop(q, &r->dev.mem, &(struct vq_chain){ 0 }, false), -1);
}

/* A request the back-end must refuse: the connection ends, saying why. */
static void assert_refused(struct rig *r, uint32_t req, const void *payload, uint32_t size,
			   const char *why)
{
	assert_int_equal(fe_request(&r->fe, req, payload, size, NULL, 0, NULL, 0), 0);
	assert_true(r->dead);
	assert_non_null(strstr(r->dev.why, why));
}

static void test_frontend_nonsense(void **state)
{
	struct vu_vring_state bad = { 0, 100 };         /* not a power of two */

	assert_refused(*state, VU_SET_VRING_NUM, &bad, sizeof(bad), "SET_VRING_NUM");
}

static void test_frontend_unknown_request(void **state)
{
	assert_refused(*state, 77, NULL, 0, "request 77 not supported");
}

static void test_frontend_short_payload(void **state)
{
	uint32_t half = 1;

	/* SET_FEATURES with 4 of its 8 bytes: refused, not read past */
	assert_refused(*state, VU_SET_FEATURES, &half, sizeof(half), "too short");
}

static void test_reply_ack(void **state)
{
	struct rig *r = *state;
	uint64_t proto = 1ull << VU_PROTO_F_REPLY_ACK, ack = 99;
	struct vu_hdr h = { .request = VU_SET_OWNER, .flags = VU_VERSION | VU_FLAG_NEED_REPLY };

	assert_int_equal(fe_request(&r->fe, VU_SET_PROTOCOL_FEATURES, &proto, sizeof(proto),
				    NULL, 0, NULL, 0), 0);
	assert_int_equal(send(r->fe.fd, &h, sizeof(h), 0), sizeof(h));
	pump(r);
	assert_int_equal(recv(r->fe.fd, &h, sizeof(h), MSG_DONTWAIT), sizeof(h));
	assert_int_equal(h.request, VU_SET_OWNER);
	assert_int_equal(recv(r->fe.fd, &ack, sizeof(ack), MSG_DONTWAIT), sizeof(ack));
	assert_int_equal(ack, 0);
}

/* A memory table that grows while the rings run (memory hot-plug): the
 * rings keep working and a buffer in the new region is used. */
static void test_mem_table_change(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[0];
	struct fe_vq *v = &r->fe.vq[0];
	struct vu_memory m = { .nregions = 2 };
	const uint64_t gpa2 = 0x40000000, size2 = 1 << 20;
	int fds[2], memfd2 = memfd_create("fe-hotplug", MFD_CLOEXEC);
	unsigned char f[100], *mem2;
	uint32_t len;
	uint16_t d;

	assert_int_equal(fe_start(&r->fe, 0), 0);
	assert_true(memfd2 >= 0 && ftruncate(memfd2, size2) == 0);
	mem2 = mmap(NULL, size2, PROT_READ | PROT_WRITE, MAP_SHARED, memfd2, 0);
	assert_true(mem2 != MAP_FAILED);
	m.regions[0] = (struct vu_region){ .guest_phys_addr = FE_GPA_BASE, .memory_size = FE_MEM_SIZE,
					   .userspace_addr = (uint64_t)(uintptr_t)r->fe.mem };
	m.regions[1] = (struct vu_region){ .guest_phys_addr = gpa2, .memory_size = size2,
					   .userspace_addr = (uint64_t)(uintptr_t)mem2 };
	fds[0] = r->fe.memfd;
	fds[1] = memfd2;
	assert_int_equal(fe_request(&r->fe, VU_SET_MEM_TABLE, &m, 8 + 2 * sizeof(m.regions[0]),
				    fds, 2, NULL, 0), 0);
	assert_false(r->dead);
	assert_int_equal(r->dev.mem.n, 2);
	assert_true(vq_live(q));
	/* an RX buffer in the hot-plugged region */
	d = v->free_head++ % FE_QSIZE;
	v->vr.desc[d] = (struct vring_desc){ .addr = gpa2 + 4096, .len = 2048,
					     .flags = VRING_DESC_F_WRITE };
	v->vr.avail->ring[v->avail_idx % FE_QSIZE] = d;
	v->vr.avail->idx = ++v->avail_idx;
	frame(f, sizeof(f), 4);
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
	vq_flush(q);
	assert_non_null(fe_rx_used(&r->fe, &len, NULL));
	assert_int_equal(len, 12 + sizeof(f));
	assert_memory_equal(mem2 + 4096 + 12, f, sizeof(f));
	munmap(mem2, size2);
	close(memfd2);
}

/* A region larger than its file is refused: mapped, its first access
 * past the end would kill the back-end with SIGBUS. */
static void test_mem_region_past_its_file(void **state)
{
	struct rig *r = *state;
	struct vu_memory m = { .nregions = 1 };

	m.regions[0] = (struct vu_region){ .guest_phys_addr = FE_GPA_BASE,
					   .memory_size = 2ull * FE_MEM_SIZE,
					   .userspace_addr = (uint64_t)(uintptr_t)r->fe.mem };
	assert_int_equal(fe_request(&r->fe, VU_SET_MEM_TABLE, &m, 8 + sizeof(m.regions[0]),
				    &r->fe.memfd, 1, NULL, 0), 0);
	assert_true(r->dead);
	assert_non_null(strstr(r->dev.why, "SET_MEM_TABLE"));
	assert_int_equal(r->dev.mem.n, 0);
}

/* A live migration's dirty log (LOG_ALL + LOG_SHMFD): a frame put into an
 * RX buffer marks the buffer's page and the used ring's page in the
 * front-end's bitmap, nothing else; with LOG_ALL off again nothing is
 * marked.  SEND_RARP records the MAC to announce. */
static bool page_marked(const unsigned char *bits, uint64_t gpa)
{
	uint64_t pg = gpa / VU_LOG_PAGE;

	return bits[pg / 8] & (1u << (pg % 8));
}

static void test_dirty_log(void **state)
{
	struct rig *r = *state;
	struct virtq *q = &r->dev.vq[0];
	struct fe_vq *v = &r->fe.vq[0];
	const uint64_t bytes = (FE_GPA_BASE + FE_MEM_SIZE) / VU_LOG_PAGE / 8 + 1;
	uint64_t proto = 1ull << VU_PROTO_F_MQ | 1ull << VU_PROTO_F_REPLY_ACK |
			 1ull << VU_PROTO_F_LOG_SHMFD | 1ull << VU_PROTO_F_RARP, feat;
	struct vu_log_base lb = { .mmap_size = bytes, .mmap_offset = 0 };
	struct vu_vring_addr a = { .index = 0, .flags = 1u << VU_VRING_F_LOG };
	int logfd = memfd_create("fe-log", MFD_CLOEXEC);
	unsigned char f[100], *bits, mac[8] = { 0x52, 0x54, 0, 1, 2, 3 }, dummy;
	uint64_t used_gpa, buf_gpa, marked = 0;
	uint32_t len;
	uint16_t id;

	assert_int_equal(fe_start(&r->fe, 0), 0);
	assert_true(logfd >= 0 && ftruncate(logfd, (off_t)bytes) == 0);
	bits = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, logfd, 0);
	assert_true(bits != MAP_FAILED);
	assert_true(vu_dev_offered_features(&r->dev) & 1ull << VU_F_LOG_ALL);
	assert_int_equal(fe_request(&r->fe, VU_SET_PROTOCOL_FEATURES, &proto, sizeof(proto),
				    NULL, 0, NULL, 0), 0);
	feat = r->dev.features | 1ull << VU_F_LOG_ALL;
	assert_int_equal(fe_request(&r->fe, VU_SET_FEATURES, &feat, sizeof(feat), NULL, 0,
				    NULL, 0), 0);
	assert_false(r->dev.log.on);            /* no bitmap yet */
	/* QEMU waits for an empty reply */
	if (fe_request(&r->fe, VU_SET_LOG_BASE, &lb, sizeof(lb), &logfd, 1, &dummy, 0))
		fail_msg("SET_LOG_BASE: %s", r->dead ? r->dev.why : "no empty reply");
	assert_false(r->dead);
	assert_true(r->dev.log.on);
	used_gpa = FE_GPA_BASE + (q->used_uva - (uint64_t)(uintptr_t)r->fe.mem);
	a.desc_user_addr = q->desc_uva;
	a.avail_user_addr = q->avail_uva;
	a.used_user_addr = q->used_uva;
	a.log_guest_addr = used_gpa;
	assert_int_equal(fe_request(&r->fe, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, NULL, 0), 0);

	fe_rx_post(&r->fe, 1, 2048);
	frame(f, sizeof(f), 9);
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
	vq_flush(q);
	assert_non_null(fe_rx_used(&r->fe, &len, &id));
	buf_gpa = v->vr.desc[id].addr;
	assert_true(page_marked(bits, buf_gpa));
	assert_true(page_marked(bits, used_gpa));
	for (uint64_t i = 0; i < bytes; i++)
		marked += (uint64_t)__builtin_popcount(bits[i]);
	/* the buffer and the used ring (its entry and index): 2 pages at most */
	assert_true(marked >= 1 && marked <= 2);

	/* logging off: a frame marks nothing */
	memset(bits, 0, bytes);
	feat &= ~(1ull << VU_F_LOG_ALL);
	assert_int_equal(fe_request(&r->fe, VU_SET_FEATURES, &feat, sizeof(feat), NULL, 0,
				    NULL, 0), 0);
	assert_false(r->dev.log.on);
	fe_rx_recycle(&r->fe, id);
	assert_int_equal(net_rx_put(&r->dev, q, f, sizeof(f)), NET_RX_DONE);
	vq_flush(q);
	for (uint64_t i = 0; i < bytes; i++)
		assert_int_equal(bits[i], 0);

	assert_int_equal(fe_request(&r->fe, VU_SEND_RARP, mac, 8, NULL, 0, NULL, 0), 0);
	assert_true(r->dev.rarp_pending);
	assert_memory_equal(r->dev.rarp_mac, mac, 6);
	munmap(bits, bytes);
	close(logfd);
}

/*
 * The dispatcher -> worker ring across two threads: 2M entries in batches
 * of varying size against a consumer that takes varying amounts; every
 * entry arrives once, in order, whole (a torn or early read shows as a
 * wrong sequence or a field that does not match it).
 */
#define SPSC_N 2000000u

static void *spsc_consumer(void *arg)
{
	struct spsc *r = arg;
	uintptr_t bad = 0;
	uint32_t next = 0, k = 0;

	while (next < SPSC_N) {
		uint32_t n = spsc_count(r), take = n > (k % 97) + 1 ? (k % 97) + 1 : n;

		k++;
		for (uint32_t i = 0; i < take; i++, next++) {
			const struct spsc_ent *e = spsc_peek(r, i);

			if (e->addr != next || e->off != next * 3u || e->len != (next ^ 0x5a5a) ||
			    e->sock != (uint8_t)next)
				bad++;
		}
		spsc_consume(r, take);
	}
	return (void *)bad;
}

static void test_spsc_two_threads(void **state)
{
	static struct spsc r;
	pthread_t t;
	void *bad;
	uint32_t sent = 0, k = 0;

	(void)state;
	spsc_init(&r);
	assert_int_equal(pthread_create(&t, NULL, spsc_consumer, &r), 0);
	while (sent < SPSC_N) {
		uint32_t room = spsc_room(&r), n = (k++ % 61) + 1;

		if (n > room)
			n = room;
		if (n > SPSC_N - sent)
			n = SPSC_N - sent;
		for (uint32_t i = 0; i < n; i++)
			*spsc_slot(&r, i) = (struct spsc_ent){ .addr = sent + i,
				.off = (sent + i) * 3u, .len = (sent + i) ^ 0x5a5a,
				.sock = (uint8_t)(sent + i) };
		spsc_publish(&r, n);
		sent += n;
	}
	assert_int_equal(pthread_join(t, &bad), 0);
	assert_int_equal((uintptr_t)bad, 0);
	assert_int_equal(spsc_count(&r), 0);
	assert_int_equal(spsc_room(&r), SPSC_SIZE);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_negotiation, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_rx_one_buffer_each, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_rx_merged_buffers, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_rx_without_mrg_rxbuf, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_tx_frames_out, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_tx_offloads, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_event_idx_suppresses_calls, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_guest_nonsense, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_frontend_nonsense, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_frontend_unknown_request, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_frontend_short_payload, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_reply_ack, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_mem_table_change, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_mem_region_past_its_file, rig_setup, rig_teardown),
	cmocka_unit_test_setup_teardown(test_dirty_log, rig_setup, rig_teardown),
	cmocka_unit_test(test_spsc_two_threads),
};

UNIT_GROUP(group_vhost, "vhost", tests, NULL, NULL);
