// SPDX-License-Identifier: GPL-2.0-only
/*
 * AF_XDP VM ports.  Per xsk VM: one UMEM in a sealed memfd (MAP_SHARED, so a
 * consumer that receives the memfd maps the very same frames), one AF_XDP
 * socket per NIC RX queue sharing it (each with its own fill and completion
 * ring, as the kernel requires for another queue), each socket in
 * xvnet_xsks at XVNET_XSK_SLOT(vm_id, rxq).  The NIC sockets have no TX
 * ring: the VM transmits on one more socket, the side socket, bound to the
 * VM end of its side veth, so that everything it sends crosses vm_tx (the
 * anti-spoofing checks, switching to local VMs) on the host end; the side
 * socket also receives broadcast copies and frames from local VMs
 * (xvnet_xsk_side[vm_id], program xsk_side).  xvnetd never touches the rings
 * after creating them: the consumer owns the frames (fills the fill ring,
 * reads RX, writes TX, drains completions).  It keeps the sockets open so
 * that they stay in the map across consumer restarts, reads their
 * XDP_STATISTICS, and closes them when the VM goes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "lib/err.h"
#include "loader/kern/caps.h"
#include "loader/kern/log.h"
#include "loader/kern/xsk.h"
#include "loader/kern/datapath.h"
#include "nic_rx.skel.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif


/* ---- sockets ------------------------------------------------------------ */

struct xsock {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx, cq;
	struct xsk_ring_prod tx, fq;
	int fd;
	__u32 rxq;
};

struct xvm {
	int vm_id;
	int side_ifindex;               /* VM end of the side veth */
	char side_ifname[IFNAMSIZ];
	char nic[IFNAMSIZ];
	int ifindex;
	struct xsk_conf conf;           /* as configured (for "unchanged") */
	struct xsk_conf eff;            /* resolved */
	int memfd;
	void *area;
	size_t size;
	struct xsk_umem *umem;
	bool zerocopy;
	int n;
	struct xsock s[XVNET_MAX_NIC_QUEUES];
	struct xsock side;              /* TX, and RX of what is not from the NIC */
	uint64_t gen;                   /* d->xsk_gen when made: a consumer of
					 * older sockets must take these */
};


static int xsks_map_fd(struct xvd *d)
{
	return d->skel ? bpf_map__fd(d->skel->maps.xvnet_xsks) : -1;
}

static int side_map_fd(struct xvd *d)
{
	return d->skel ? bpf_map__fd(d->skel->maps.xvnet_xsk_side) : -1;
}

/* RX queues of a device: /sys/class/net/DEV/queues/rx-N entries. */
static int nic_rx_queues(const char *nic)
{
	char path[128];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", nic);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "rx-", 3))
			n++;
	closedir(dir);
	return n;
}

static void xvm_free(struct xvd *d, struct xvm *x)
{
	int map = d ? xsks_map_fd(d) : -1, side = d ? side_map_fd(d) : -1;
	__u32 id = (__u32)x->vm_id, sif = (__u32)x->side_ifindex;

	if (x->side.xsk) {
		if (side >= 0)
			bpf_map_delete_elem(side, &id);
		xsk_socket__delete(x->side.xsk);
	}
	if (d && d->skel && sif) {
		bpf_map_delete_elem(d->m.port_vm, &sif);
		dp_port_detach((int)sif);       /* an adopted side veth stays clean */
	}
	for (int i = x->n; i-- > 0;) {
		__u32 slot = XVNET_XSK_SLOT((__u32)x->vm_id, x->s[i].rxq);

		if (map >= 0)
			bpf_map_delete_elem(map, &slot);
		xsk_socket__delete(x->s[i].xsk);
	}
	if (x->umem && xsk_umem__delete(x->umem))
		log_warn("vm id %d: UMEM still busy", x->vm_id);
	if (x->area && x->area != MAP_FAILED)
		munmap(x->area, x->size);
	if (x->memfd >= 0)
		close(x->memfd);
	free(x);
}

static int sock_knobs(struct xvm *x, struct xsock *s, char *err, size_t errlen)
{
	int one = 1, v;

	if (x->eff.prefer_busy_poll == 1 &&
	    setsockopt(s->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)))
		return ERR("xsk-prefer-busy-poll: %s", strerror(errno));
	v = (int)x->eff.busy_poll_us;
	if (v && setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof(v)))
		return ERR("xsk-busy-poll: %s", strerror(errno));
	v = (int)x->eff.busy_poll_budget;
	if (v && setsockopt(s->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &v, sizeof(v)))
		return ERR("xsk-busy-poll-budget: %s", strerror(errno));
	return 0;
}

/*
 * One socket of the VM's UMEM on (dev, queue), with its own fill and
 * completion rings; a TX ring only if tx.  A socket just closed on this
 * queue (vm del, re-add) releases the queue's UMEM registration
 * asynchronously: EBUSY for a while.
 */
static int sock_create(struct xvm *x, struct xsock *s, const char *dev, __u32 q,
		       bool tx, const struct xsk_socket_config *scfg)
{
	int r;

	for (int tries = 0;; tries++) {
		r = xsk_socket__create_shared(&s->xsk, dev, q, x->umem, &s->rx,
					      tx ? &s->tx : NULL, &s->fq, &s->cq, scfg);
		if (r != -EBUSY || tries == 500)
			return r;
		usleep(2000);
	}
}

/*
 * The side socket, on queue 0 of the VM end of the side veth (created with
 * the port, loader/kern/netdev.c): xsk_side there redirects into it, and its TX
 * leaves through the veth to vm_tx on the host end.
 */
static int side_create(struct xvd *d, const struct vm_conf *vm, struct xvm *x,
		       const struct xsk_socket_config *scfg, char *err,
		       size_t errlen)
{
	struct xsock *s = &x->side;
	__u32 id = (__u32)vm->id, sif;
	int r;

	x->side_ifindex = (int)if_nametoindex(x->side_ifname);
	if (!x->side_ifindex)
		return ERR("xsk: side veth '%s' is missing", x->side_ifname);
	sif = (__u32)x->side_ifindex;
	if (bpf_map_update_elem(d->m.port_vm, &sif, &id, BPF_ANY))
		return ERR("%s[%u]: %s", XVNET_MAP_PORT_VM, sif, strerror(errno));
	if (dp_xsk_side_attach(d, x->side_ifindex, err, errlen))
		return -1;
	r = sock_create(x, s, x->side_ifname, 0, true, scfg);
	if (r) {
		s->xsk = NULL;
		return ERR("xsk: side socket on %s: %s", x->side_ifname, strerror(-r));
	}
	s->fd = xsk_socket__fd(s->xsk);
	if (sock_knobs(x, s, err, errlen))
		return -1;
	if (bpf_map_update_elem(side_map_fd(d), &id, &s->fd, BPF_ANY))
		return ERR("%s[%u]: %s", XVNET_MAP_XSK_SIDE, id, strerror(errno));
	return 0;
}

static int xvm_create(struct xvd *d, const struct vm_conf *vm, struct xvm **out,
		      char *err, size_t errlen)
{
	struct xsk_umem_config ucfg;
	struct xsk_socket_config scfg;
	struct xdp_options opts;
	socklen_t optlen;
	struct xvm *x;
	int nq, map = xsks_map_fd(d), r, qs[XVNET_MAX_NIC_QUEUES], nqs = 0;
	char name[64];

	if (map < 0)
		return ERR("port: no datapath (%s)", XVNET_MAP_XSKS);
	nq = nic_rx_queues(d->cfg.nic);
	if (nq <= 0)
		return ERR("nic: cannot count the RX queues of '%s'", d->cfg.nic);
	if (nq > XVNET_MAX_NIC_QUEUES) {
		log_warn("vm %s: nic %s has %d RX queues, xsk sockets on the first"
			 " %d only", vm->name, d->cfg.nic, nq, XVNET_MAX_NIC_QUEUES);
		nq = XVNET_MAX_NIC_QUEUES;
	}
	for (int q = 0; q < nq; q++) {
		if (vm->xsk.nic_queues && !(vm->xsk.nic_queues & (1u << q)))
			continue;
		/* the kernel has one UMEM per (device, queue): VMs cannot share */
		for (int id = 0; id < XVNET_MAX_VMS; id++) {
			const struct vm_conf *o;

			if (id == vm->id || !d->xsk[id] || strcmp(d->xsk[id]->nic, d->cfg.nic))
				continue;
			for (int i = 0; i < d->xsk[id]->n; i++) {
				if (d->xsk[id]->s[i].rxq != (__u32)q)
					continue;
				o = config_find_vm_id(&d->cfg, id);
				return ERR("xsk-nic-queues: queue %d of %s is taken by vm"
					   " '%s' (one UMEM per NIC queue: give xsk VMs"
					   " disjoint xsk-nic-queues)", q, d->cfg.nic,
					   o ? o->name : "?");
			}
		}
		qs[nqs++] = q;
	}
	if (!nqs)
		return ERR("xsk-nic-queues: none of the %d RX queues of %s", nq,
			   d->cfg.nic);
	x = calloc(1, sizeof(*x));
	if (!x)
		return ERR("out of memory");
	x->vm_id = vm->id;
	x->memfd = -1;
	x->conf = vm->xsk;
	xsk_conf_resolve(&vm->xsk, &x->eff);
	snprintf(x->nic, sizeof(x->nic), "%s", d->cfg.nic);
	x->ifindex = (int)if_nametoindex(x->nic);
	/* one share of frames per NIC socket, one for the side socket */
	x->size = (size_t)x->eff.frames * x->eff.frame_size * (size_t)(nqs + 1);

	snprintf(name, sizeof(name), "xvnet-umem-%s", vm->name);
	x->memfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (x->memfd < 0 || ftruncate(x->memfd, (off_t)x->size)) {
		(void)ERR("xsk: UMEM memfd of %zu bytes: %s", x->size, strerror(errno));
		goto fail;
	}
	/* a consumer may map it, never resize it under the kernel's feet */
	fcntl(x->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	x->area = mmap(NULL, x->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       x->memfd, 0);
	if (x->area == MAP_FAILED) {
		(void)ERR("xsk: mmap UMEM: %s", strerror(errno));
		goto fail;
	}
	ucfg = (struct xsk_umem_config){
		.fill_size = x->eff.fill_size, .comp_size = x->eff.comp_size,
		.frame_size = x->eff.frame_size, .frame_headroom = 0,
	};
	r = xsk_umem__create(&x->umem, x->area, x->size, &x->s[0].fq,
			     &x->s[0].cq, &ucfg);
	if (r) {
		x->umem = NULL;
		/* AF_XDP sockets need CAP_NET_RAW, the pinned UMEM CAP_IPC_LOCK
		 * (RLIMIT_MEMLOCK cannot be raised): an EPERM names the one
		 * missing, e.g. from a unit's CapabilityBoundingSet */
		static const int caps[] = { CAP_NET_RAW, CAP_IPC_LOCK };

		(void)ERR("xsk: UMEM registration (%zu bytes): %s%s", x->size,
			  strerror(-r), r == -EPERM ?
			  caps_missing_hint(caps, sizeof(caps) / sizeof(caps[0])) : "");
		goto fail;
	}
	scfg = (struct xsk_socket_config){
		.rx_size = x->eff.rx_size, .tx_size = x->eff.tx_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = x->eff.need_wakeup == 1 ? XDP_USE_NEED_WAKEUP : 0,
	};
	snprintf(x->side_ifname, sizeof(x->side_ifname), "%s", vm->peer_ifname);
	for (int i = 0; i < nqs; i++) {
		struct xsock *s = &x->s[i];
		int q = qs[i];
		__u32 slot = XVNET_XSK_SLOT((__u32)vm->id, (__u32)q);

		s->rxq = (__u32)q;
		/* no TX ring: a VM sends on its side socket only, which is
		 * what puts vm_tx's checks on its path */
		r = sock_create(x, s, x->nic, (__u32)q, false, &scfg);
		if (r) {
			(void)ERR("xsk: socket on %s queue %d: %s", x->nic, q, strerror(-r));
			goto fail;
		}
		x->n = i + 1;
		s->fd = xsk_socket__fd(s->xsk);
		if (sock_knobs(x, s, err, errlen))
			goto fail;
		if (bpf_map_update_elem(map, &slot, &s->fd, BPF_ANY)) {
			(void)ERR("%s[%u]: %s", XVNET_MAP_XSKS, slot, strerror(errno));
			goto fail;
		}
	}
	if (side_create(d, vm, x, &scfg, err, errlen))
		goto fail;
	optlen = sizeof(opts);
	if (!getsockopt(x->s[0].fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen))
		x->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	log_info("vm %s: %d AF_XDP sockets on %s (%s), side socket on %s, UMEM %zu"
		 " bytes", vm->name, nqs, x->nic, x->zerocopy ? "zero-copy" : "copy",
		 x->side_ifname, x->size);
	x->gen = ++d->xsk_gen;
	*out = x;
	return 0;
fail:
	xvm_free(d, x);
	return -1;
}

int xskp_ensure(struct xvd *d, const struct vm_conf *vm, char *err,
		size_t errlen)
{
	struct xvm *x;

	if (vm->id < 0 || vm->id >= XVNET_MAX_VMS)
		return ERR("id: out of range");
	x = d->xsk[vm->id];
	if (x && !strcmp(x->nic, d->cfg.nic) &&
	    x->ifindex == (int)if_nametoindex(d->cfg.nic) &&
	    x->side_ifindex == (int)if_nametoindex(vm->peer_ifname) &&
	    !memcmp(&x->conf, &vm->xsk, sizeof(x->conf))) {
		int map = xsks_map_fd(d);
		__u32 id = (__u32)vm->id;

		bpf_map_update_elem(side_map_fd(d), &id, &x->side.fd, BPF_ANY);
		/* right sockets: make sure the map still points at them */
		for (int i = 0; i < x->n; i++) {
			__u32 slot = XVNET_XSK_SLOT((__u32)vm->id, x->s[i].rxq);

			bpf_map_update_elem(map, &slot, &x->s[i].fd, BPF_ANY);
		}
		return 0;
	}
	if (x) {
		d->xsk[vm->id] = NULL;
		xvm_free(d, x);
	}
	if (xvm_create(d, vm, &x, err, errlen))
		return -1;
	d->xsk[vm->id] = x;
	return 0;
}

void xskp_destroy(struct xvd *d, int vm_id)
{
	struct xvm *x;

	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !(x = d->xsk[vm_id]))
		return;
	d->xsk[vm_id] = NULL;
	log_info("vm id %d: %d AF_XDP sockets closed, UMEM freed", vm_id, x->n);
	xvm_free(d, x);
}

void xskp_destroy_all(struct xvd *d)
{
	for (int i = 0; i < XVNET_MAX_VMS; i++)
		xskp_destroy(d, i);
}

/* ---- reading ------------------------------------------------------------ */

uint64_t xskp_generation(const struct xvd *d, int vm_id)
{
	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !d->xsk[vm_id])
		return 0;
	return d->xsk[vm_id]->gen;
}

uint32_t xskp_queue_mask(const struct xvd *d, int vm_id)
{
	uint32_t mask = 0;
	struct xvm *x;

	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !(x = d->xsk[vm_id]))
		return 0;
	for (int i = 0; i < x->n; i++)
		mask |= 1u << x->s[i].rxq;
	return mask;
}

/* One socket's XDP_STATISTICS (zeros if the kernel gives none). */
static void sock_info(const struct xsock *s, struct xskp_sock_info *out)
{
	socklen_t len = sizeof(out->st);

	out->fd = s->fd;
	out->rxq = s->rxq;
	memset(&out->st, 0, sizeof(out->st));
	getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &out->st, &len);
}

bool xskp_info(const struct xvd *d, int vm_id, struct xskp_info *out)
{
	const struct xvm *x;

	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !(x = d->xsk[vm_id]))
		return false;
	snprintf(out->nic, sizeof(out->nic), "%s", x->nic);
	snprintf(out->side_ifname, sizeof(out->side_ifname), "%s", x->side_ifname);
	out->ifindex = x->ifindex;
	out->zerocopy = x->zerocopy;
	out->memfd = x->memfd;
	out->size = x->size;
	out->eff = x->eff;
	out->n = x->n;
	for (int i = 0; i < x->n; i++)
		sock_info(&x->s[i], &out->s[i]);
	sock_info(&x->side, &out->side);
	return true;
}

static uint64_t take_ring(const struct xvd *d, const struct xvm *x, struct xsock *s,
			  void (*fn)(void *ctx, const unsigned char *frame, size_t len), void *ctx)
{
	struct xsk_ring_cons *r = &s->rx;
	/* the consumer read the ring through its own mapping: our cached
	 * indices are stale */
	__u32 cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	__u32 prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
	uint64_t n = 0;

	if (!r->ring)
		return 0;
	for (__u32 i = cons; i != prod; i++) {
		const struct xdp_desc *e = xsk_ring_cons__rx_desc(r, i);
		__u64 addr = e->addr;
		__u32 len = e->len;

		if (addr > x->size || len > x->size - addr)
			continue;
		if (d->meta_at == XVNET_META_INLINE) {
			if (len < sizeof(struct xvnet_xsk_meta))
				continue;
			addr += sizeof(struct xvnet_xsk_meta);
			len -= sizeof(struct xvnet_xsk_meta);
		}
		fn(ctx, (const unsigned char *)x->area + addr, len);
		n++;
	}
	__atomic_store_n(r->consumer, prod, __ATOMIC_RELEASE);
	r->cached_cons = r->cached_prod = prod;
	return n;
}

uint64_t xskp_take_rx(struct xvd *d, int vm_id,
		      void (*fn)(void *ctx, const unsigned char *frame, size_t len), void *ctx)
{
	struct xvm *x;
	uint64_t n = 0;

	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !(x = d->xsk[vm_id]))
		return 0;
	for (int i = 0; i < x->n; i++)
		n += take_ring(d, x, &x->s[i], fn, ctx);
	return n + take_ring(d, x, &x->side, fn, ctx);
}

void xskp_totals(const struct xvd *d, int *vms, int *sockets, uint64_t *bytes)
{
	*vms = *sockets = 0;
	*bytes = 0;
	for (int i = 0; i < XVNET_MAX_VMS; i++) {
		if (!d->xsk[i])
			continue;
		(*vms)++;
		*sockets += d->xsk[i]->n + 1;     /* + the side socket */
		*bytes += d->xsk[i]->size;
	}
}
