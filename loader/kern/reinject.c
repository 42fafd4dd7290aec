// SPDX-License-Identifier: GPL-2.0-only
/*
 * First packets sent on after the slow path (loader/kern/reinject.h).
 *
 * The frame goes out by AF_PACKET on the device the program would have
 * redirected it to, shaped as the program would have shaped it: toward a
 * VM its outer 802.1Q tag removed (unless the VM keeps tags), toward the
 * wire the VM's tag added.  Sent before the flow is installed, so that a
 * later packet of the flow, which hits the flow, cannot overtake it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "loader/kern/log.h"
#include "loader/kern/reinject.h"
#include "maps/xvnet_maps.h"

#define VLAN_HLEN 4
/* frames sent in one sendmmsg: a ring-buffer poll's records, at most */
#define RQ_MAX 64

struct reinject_q {
	unsigned n;
	uint8_t frame[RQ_MAX][XVNET_SLOW_PKT_MAX + VLAN_HLEN];
	struct sockaddr_ll to[RQ_MAX];
	struct iovec iov[RQ_MAX];
	struct mmsghdr msg[RQ_MAX];
	struct xvnet_flow_key key[RQ_MAX];
	struct xvnet_flow val[RQ_MAX];
};

static int out_fd(struct xvd *d)
{
	if (d->reinject_fd > 0)
		return d->reinject_fd;
	d->reinject_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (d->reinject_fd < 0) {
		log_warn("slow path: AF_PACKET socket for first packets: %s",
			 strerror(errno));
		d->reinject_fd = 0;
		return -1;
	}
	return d->reinject_fd;
}

void reinject_close(struct xvd *d)
{
	if (d->reinject_fd > 0)
		close(d->reinject_fd);
	d->reinject_fd = 0;
	free(d->rq);
	d->rq = NULL;
}

void reinject_flush(struct xvd *d, reinject_after_fn after)
{
	struct reinject_q *q = d->rq;
	unsigned sent = 0;
	int s, r;

	if (!q || !q->n)
		return;
	s = out_fd(d);
	while (s >= 0 && sent < q->n) {
		r = sendmmsg(s, q->msg + sent, q->n - sent, 0);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			/* this one is lost; the rest may still go */
			d->sp.not_reinjected++;
			sent++;
			continue;
		}
		d->sp.reinjected += (uint64_t)r;
		sent += (unsigned)r;
	}
	if (s < 0)
		d->sp.not_reinjected += q->n;
	/* the flows after their frames: none can overtake its first packet */
	for (unsigned i = 0; i < q->n; i++)
		after(d, &q->key[i], &q->val[i]);
	q->n = 0;
}

static int tagged(const uint8_t *f, size_t len)
{
	return len >= ETH_HLEN + VLAN_HLEN && f[12] == 0x81 && f[13] == 0x00;
}

/* f (room for one more tag) as the receiver takes it: untagged, or with
 * one 802.1Q tag of vlan.  Returns the new length. */
static size_t retag(uint8_t *f, size_t len, uint16_t vlan, bool want_tag)
{
	if (tagged(f, len) && !want_tag) {
		memmove(f + 12, f + 12 + VLAN_HLEN, len - 12 - VLAN_HLEN);
		return len - VLAN_HLEN;
	}
	if (!tagged(f, len) && want_tag && vlan) {
		memmove(f + 12 + VLAN_HLEN, f + 12, len - 12);
		f[12] = 0x81;
		f[13] = 0x00;
		f[14] = (uint8_t)(vlan >> 8);
		f[15] = (uint8_t)vlan;
		return len + VLAN_HLEN;
	}
	return len;
}

static const struct vm_conf *local_vm(const struct xvd_config *cfg,
				      const uint8_t *mac, uint16_t vlan)
{
	for (size_t i = 0; i < cfg->n_vms; i++)
		if (cfg->vms[i].vlan == vlan && !memcmp(cfg->vms[i].mac, mac, 6))
			return &cfg->vms[i];
	return NULL;
}

/* A VM's port, as the data path has it (one lookup, where the name would
 * cost a socket and an ioctl per packet). */
static int port_ifindex(struct xvd *d, const struct vm_conf *vm)
{
	__u32 id = (__u32)vm->id, ifindex = 0;

	if (bpf_map_lookup_elem(d->m.ports, &id, &ifindex) || !ifindex)
		return (int)if_nametoindex(vm->ifname);
	return (int)ifindex;
}

int reinject(struct xvd *d, const struct xvnet_slow_rec *r, const struct vm_conf *vm,
	     const struct xvnet_flow_key *k, const struct xvnet_flow *v,
	     reinject_after_fn after)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	const struct vm_conf *dst = vm;
	struct reinject_q *q = d->rq;
	size_t len = r->cap_len;
	uint8_t *f;

	if (r->cap_len != r->pkt_len || len < ETH_HLEN)
		return 0;   /* longer than the capture: not all of it is here */
	if (!q && !(q = d->rq = calloc(1, sizeof(*q))))
		return -1;
	if (q->n == RQ_MAX)
		reinject_flush(d, after);
	f = q->frame[q->n];
	memcpy(f, r->pkt, len);
	if (r->key.dir == XVNET_DIR_OUT) {
		dst = local_vm(&d->cfg, f, vm->vlan);
		if (dst && dst->has_rules)
			return 0;   /* its own rules judge it, in its own setup */
		if (!dst) {
			to.sll_ifindex = d->nic_ifindex;
			len = retag(f, len, vm->vlan, vm->vlan != 0);
		}
	}
	if (dst) {
		if (dst->port_kind == XVNET_PORT_XSK)
			return 0;   /* its sockets take frames from NIC queues only */
		if (dst->fallback)
			return 0;   /* the host stack cannot be entered from here */
		to.sll_ifindex = port_ifindex(d, dst);
		len = retag(f, len, dst->vlan, dst->keep_vlan);
	}
	memcpy(to.sll_addr, f, 6);
	if (to.sll_ifindex <= 0)
		return -1;
	q->to[q->n] = to;
	q->iov[q->n] = (struct iovec){ .iov_base = f, .iov_len = len };
	q->msg[q->n] = (struct mmsghdr){ .msg_hdr = {
		.msg_name = &q->to[q->n], .msg_namelen = sizeof(q->to[0]),
		.msg_iov = &q->iov[q->n], .msg_iovlen = 1 } };
	q->key[q->n] = *k;
	q->val[q->n] = *v;
	q->n++;
	return 1;
}
