/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The live state of xvnetd in one struct: the recorded configuration, the
 * BPF objects it is applied to and every resource beside them (sockets,
 * UMEMs, coalescing pages, the link watch), by VM slot.  No globals: a
 * kern/ function reaches what it changes through struct xvd.
 */
#ifndef XVNET_LOADER_KERN_XVD_H
#define XVNET_LOADER_KERN_XVD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/features.h"
#include "loader/conf/config.h"

#define XV_TC_HANDLE    0x7876      /* "xv": fixed, so restarts replace it */
#define XV_TC_PRIO      0x7876

struct nic_rx;

struct xvd_maps {
	int vm_by_mac, vms, flows, ports, flood, flood_count, flood_host, stats, queue_stats;
	int vm_cache;               /* direct-mapped index of vm_by_mac (tables.c) */
	int rss_tables;             /* each VM's Toeplitz tables (tables.c) */
	int ports_b, port_stats;     /* vm move: second bank, per-kind counts */
	int flows_cfg;              /* the operator's flows (never evicted) */
	int flows4, flows4_cfg;     /* the same two for IPv4 flows (loader/kern/flowtab.h) */
	int redirect_err;           /* failed redirects per VM and reason */
	int sp_budget;              /* per-VM slow-path token buckets */
	int port_vm, uplink, config;
	int vm_addrs, vm_tx_stats;  /* anti-spoofing (loader/kern/addrs.c) */
	int ll_owner, ll_vm;        /* ipv6-ll-any bindings (loader/kern/addrs.c) */
	int slow_rb;                /* slow path (loader/kern/slowpath.c) */
};

struct ring_buffer;

/* Slow-path counters (xvnetctl stats: "slowpath"). */
struct xvd_slow_stats {
	uint64_t records;           /* ring-buffer records read */
	uint64_t installed;         /* flow entries written (both directions) */
	uint64_t allowed, denied;   /* rule verdicts */
	uint64_t unknown_vm;        /* record for a VM no longer configured */
	uint64_t flushed, aged;     /* entries deleted */
	uint64_t reinjected;        /* first packets sent on (loader/kern/reinject.c) */
	uint64_t not_reinjected;    /* allowed, but dropped: see reinject() */
};

/* Datapath error counters sampled for health (loader/kern/health.c). */
#define XV_HEALTH_ERRS 9
#define XV_HEALTH_EVERY_S 10       /* default of --health-window */
#define XV_HEALTH_WINDOW_MAX 3600
struct xvd_err_sample {
	bool set;
	time_t t;                   /* CLOCK_MONOTONIC seconds */
	uint64_t v[XV_HEALTH_ERRS];
};

struct xvm;
struct vhost_child;
#define XVD_VHOST_LINGER 8      /* released back-ends tracked */
struct batch_tx;
struct reinject_q;
struct coal_live;
struct mnl_socket;

struct xvd {
	struct xvd_config cfg;          /* what runs (the state) */
	uint64_t cfg_gen;               /* cfg replaced or changed so far
					 * (a batch checks it did not move) */
	/* during a commit (loader/kern/commit.c): the config being applied, which
	 * the kernel-side checks must see (e.g. the addresses of VMs added
	 * by the same reload); NULL otherwise */
	const struct xvd_config *applying;
	/* xvnet_config's flow words as the commit under way first read them
	 * (loader/kern/tables.c): a commit of 60,000 flows reads them once;
	 * cleared where d->applying is set */
	struct {
		bool known;
		bool learnt_on;         /* the learnt maps may hold entries */
	} commit_flows;
	struct xv_features feat;        /* probed at start (lib/features.h) */
	__u32 meta_at;                  /* enum xvnet_meta_at the programs use */
	char config_path[PATH_MAX];     /* the admin's file: read only */
	char state_dir[PATH_MAX];       /* loader/api/service.h */
	char state_path[PATH_MAX + 32];
	char applied_path[PATH_MAX + 32];
	struct xvd_config admin;        /* the admin's file as last applied */
	char *admin_text;               /* ... and its bytes (NULL: none) */
	char *pending_text;             /* read by a reload not yet applied */
	struct xvd_config pending;
	bool empty;                     /* no config at all: no datapath yet */
	char socket_path[PATH_MAX];
	bool xdp_generic;
	struct nic_rx *skel;
	struct bpf_link *redirect_link; /* redirect_err on xdp:xdp_redirect_err */
	struct bpf_link *devmap_link;   /* devmap_xmit_err on xdp:xdp_devmap_xmit */
	struct xvd_maps m;
	int link_fd;
	int nic_ifindex;
	bool link_adopted;          /* restart: the pinned link was updated */
	bool maps_adopted;          /* pinned maps were reused */
	bool flows4_new;            /* ... by a build that made xvnet_flows4 now */
	bool rss_tables_new;        /* ... xvnet_rss_tables made now (tables.c) */
	uint32_t flow_max;          /* effective xvnet_flows and xvnet_flows4 size */
	int ncpus;
	time_t started;
	bool stop, teardown;        /* set by shutdown requests */
	/* requests: the connection the one being answered came on (the
	 * server's count), and the batch one of them has open
	 * (loader/api/batch.c; kern/ never looks inside) */
	uint64_t req_client;
	struct batch_tx *batch;
	bool serving;               /* the control socket listens: children
				     * (vhost-user back-ends) may start */
	struct ring_buffer *rb;     /* xvnet_slow_rb consumer */
	struct xvd_slow_stats sp;
	uint64_t next_age_ns;
	int reinject_fd;            /* AF_PACKET, 0 until first used */
	struct reinject_q *rq;      /* first packets to send (reinject.c) */
	bool sp_flows_on;           /* xvnet_config.flows_active known set */
	struct xvd_err_sample hs[2];    /* older, newer (health_tick) */
	int health_every_s;             /* --health-window */
	struct {                    /* loader/kern/pinwatch.c */
		uint64_t next_ms, checks, restored;
		char last[PATH_MAX + 64];
	} pins;
	/* live resources beside the maps, by VM slot */
	struct xvm *xsk[XVNET_MAX_VMS];         /* UMEM, sockets (xsk.c) */
	uint64_t xsk_gen;                       /* xsk ports made so far */
	struct vhost_child *vhost[XVNET_MAX_VMS]; /* back-ends (vhostsup.c) */
	struct {                /* released ones still holding their VMM */
		pid_t pid;          /* 0: free */
		uint64_t kill_ms;
	} vhost_linger[XVD_VHOST_LINGER];
	struct coal_live *coal[XVNET_MAX_VMS];  /* page, NAPI knobs (coalesce.c) */
	int steer_ifindex[XVNET_MAX_VMS];       /* tap whose tun steering we set
						 * (datapath.c), 0: none */
	struct mnl_socket *linkwatch;           /* rtnetlink (linkwatch.c) */
	/* taps a move left because a VMM still held them (a migration's
	 * source QEMU): deleted once it lets go (move.c move_release_tick) */
	char release_later[8][XV_IFNAME_MAX + 1];
	int n_release_later;
	/* Writes cfg as the daemon's state file.  Set with the state
	 * directory by the request side (loader/api/service.c svc_save);
	 * called by the commit only (loader/kern/commit.h), the one place
	 * where a change is recorded.  flows_unchanged: cfg's flows are
	 * d->cfg's, the last saved (config.h: config_save_state). */
	int (*save)(struct xvd *d, const struct xvd_config *cfg,
		    bool flows_unchanged, char *err, size_t errlen);
	struct state_flows state_flows; /* the state's flows file (svc_save) */
};

/* The config the kernel is being brought to: d->applying in a commit,
 * else d->cfg. */
static inline const struct xvd_config *xvd_desired(const struct xvd *d)
{
	return d->applying ? d->applying : &d->cfg;
}

#endif
