// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupt coalescing of xsk VMs (see loader/kern/coalesce.h).  Per xsk VM
 * xvnetd owns a coalescing page (a sealed memfd holding struct
 * xvnet_coal_page) handed to the consumer with the sockets: xvnetd writes
 * the policy there and the consumer its counters.  The NIC NAPI knobs of
 * the VM's queues are set through loader/kern/napi.c and the values found before
 * are kept to be put back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/coalesce.h"
#include "lib/err.h"
#include "loader/kern/coalesce.h"
#include "loader/conf/coalesce.h"
#include "loader/kern/log.h"
#include "loader/kern/napi.h"
#include "loader/kern/xvd.h"
#include "loader/kern/xsk.h"


struct coal_live {
	int memfd;
	struct xvnet_coal_page *page;
	struct napi_saved *napi;        /* old values of the knobs we set */
	struct coal_conf napi_conf;     /* what napi holds */
	uint32_t napi_mask;             /* ... on these NIC queues */
};


/* ---- live state --------------------------------------------------------- */

static void page_write(struct xvnet_coal_page *pg, const struct coal_conf *c)
{
	if (pg->rx_frames == c->rx_frames && pg->rx_usecs == c->rx_usecs &&
	    pg->adaptive == c->adaptive)
		return;
	pg->rx_frames = c->rx_frames;
	pg->rx_usecs = c->rx_usecs;
	pg->adaptive = c->adaptive;
	/* the consumer takes the policy when it sees gen move */
	__atomic_store_n(&pg->gen, pg->gen + 1, __ATOMIC_RELEASE);
}

static struct coal_live *live_create(const char *name, char *err, size_t errlen)
{
	struct coal_live *l = calloc(1, sizeof(*l));
	char mname[64];

	if (!l) {
		(void)ERR("out of memory");
		return NULL;
	}
	snprintf(mname, sizeof(mname), "xvnet-coal-%s", name);
	l->memfd = memfd_create(mname, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (l->memfd < 0 || ftruncate(l->memfd, sizeof(*l->page))) {
		(void)ERR("coalesce: page memfd: %s", strerror(errno));
		goto fail;
	}
	fcntl(l->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	l->page = mmap(NULL, sizeof(*l->page), PROT_READ | PROT_WRITE, MAP_SHARED,
		       l->memfd, 0);
	if (l->page == MAP_FAILED) {
		l->page = NULL;
		(void)ERR("coalesce: mmap page: %s", strerror(errno));
		goto fail;
	}
	l->page->magic = XVNET_COAL_MAGIC;
	l->page->gen = 1;
	return l;
fail:
	if (l->memfd >= 0)
		close(l->memfd);
	free(l);
	return NULL;
}

static void napi_put_back(struct coal_live *l)
{
	napi_restore(l->napi);
	l->napi = NULL;
	memset(&l->napi_conf, 0, sizeof(l->napi_conf));
	l->napi_mask = 0;
}

int coal_vm_ensure(struct xvd *d, const struct vm_conf *vm, char *err,
		   size_t errlen)
{
	const struct coal_conf *c = &vm->coal;
	struct coal_live *l;
	uint32_t mask;

	if (vm->port_kind != XVNET_PORT_XSK) {
		coal_vm_stop(d, vm->id);
		return 0;
	}
	l = d->coal[vm->id];
	if (!l && !(l = d->coal[vm->id] = live_create(vm->name, err, errlen)))
		return -1;
	page_write(l->page, c);
	mask = xskp_queue_mask(d, vm->id);
	if (l->napi_mask == mask && l->napi_conf.napi_defer_irqs == c->napi_defer_irqs &&
	    l->napi_conf.napi_flush_usecs == c->napi_flush_usecs)
		return 0;
	napi_put_back(l);
	if (!c->napi_defer_irqs && !c->napi_flush_usecs)
		return 0;
	{
		struct napi_knobs k = {
			.defer_hard_irqs = c->napi_defer_irqs,
			.gro_flush_timeout_ns = (uint64_t)c->napi_flush_usecs * 1000,
		};
		char why[XV_ERR_LEN];

		if (napi_apply_rx_queues(d->cfg.nic, mask,
					 xv_feature_usable(&d->feat, XV_FEAT_NAPI_NETLINK),
					 &k, &l->napi, why, sizeof(why)))
			return ERR("napi: %s", why);
	}
	l->napi_conf = *c;
	l->napi_mask = mask;
	log_info("vm %s: NIC %s NAPI (%s): defer %u irqs, gro flush %u us",
		 vm->name, d->cfg.nic, napi_saved_scope(l->napi),
		 c->napi_defer_irqs, c->napi_flush_usecs);
	return 0;
}

void coal_vm_stop(struct xvd *d, int vm_id)
{
	struct coal_live *l;

	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !(l = d->coal[vm_id]))
		return;
	d->coal[vm_id] = NULL;
	napi_put_back(l);
	munmap(l->page, sizeof(*l->page));
	close(l->memfd);
	free(l);
}

void coal_stop_all(struct xvd *d)
{
	for (int i = 0; i < XVNET_MAX_VMS; i++)
		coal_vm_stop(d, i);
}

int coal_page_fd(const struct xvd *d, int vm_id)
{
	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !d->coal[vm_id])
		return -1;
	return d->coal[vm_id]->memfd;
}

/* ---- reading ------------------------------------------------------------ */

const struct xvnet_coal_page *coal_page(const struct xvd *d, int vm_id)
{
	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !d->coal[vm_id])
		return NULL;
	return d->coal[vm_id]->page;
}

void coal_napi_state(const struct xvd *d, int vm_id, const char **scope,
		     uint32_t *queue_mask)
{
	const struct coal_live *l = vm_id >= 0 && vm_id < XVNET_MAX_VMS ?
				    d->coal[vm_id] : NULL;

	*scope = l && l->napi ? napi_saved_scope(l->napi) : "unchanged";
	*queue_mask = l ? l->napi_mask : 0;
}
