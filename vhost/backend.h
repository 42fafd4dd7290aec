/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The frame mover of xvnet-vhost: one xsk VM's AF_XDP sockets on one side,
 * the guest's virtqueue pairs (one vhost-user connection) on the other.
 *   wire -> guest: each frame goes to the RX queue of the pair its
 *     metadata names (the VM's virtual RSS), or, when the guest runs fewer
 *     pairs than the VM has queues, to one it does run;
 *   guest -> wire: every TX queue to the side socket (through vm_tx);
 *   guest interrupts for RX follow the VM's coalescing policy (the page of
 *     xsk.get, docs/coalescing.md); TX completions are signalled at once.
 *
 * Two ways to run it:
 *   one thread (backend_round): the caller's thread does everything;
 *   a worker per queue pair (backend_start_workers, when the VM has
 *     queue-cpus): pair p's copies, TX and guest interrupts run in a
 *     thread on CPU queue_cpus[p mod n], the virtual RSS of the back-end.
 *     The caller's thread only reads the sockets' RX rings and hands each
 *     frame to its pair's worker (backend_dispatch), gives frames back to
 *     the fill rings, and speaks the vhost-user protocol: between
 *     backend_pause and backend_resume no worker touches the device.
 */
#ifndef XVNET_VHOST_BACKEND_H
#define XVNET_VHOST_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/coalesce.h"
#include "vhost/spsc.h"
#include "vhost/tx_offload.h"
#include "vhost/vu_dev.h"
#include "vhost/xsk_port.h"

struct backend_counters {
	unsigned long long rx, rx_bytes, rx_no_guest, rx_dropped;
	unsigned long long tx, tx_bytes, tx_dropped;
	unsigned long long rxq[VU_MAX_QUEUE_PAIRS];     /* frames per RX queue */
	unsigned long long notifications;
	unsigned long long tx_gso;      /* guest super-frames segmented */
};

struct backend;

/* One thread's share: every pair (one thread) or pair `pair` (a worker). */
struct backend_lane {
	struct backend *b;
	unsigned pair;
	struct backend_counters cnt;
	bool rx_starved;        /* frames wait for guest RX buffers */
	bool rx_held;           /* frames wait for an RX queue to run */
	bool tx_blocked;        /* guest frames wait for TX ring room */
	unsigned gso_warned;    /* malformed super-frames said so (once) */
	/* workers only */
	int cpu;                /* pinned to; -1: not */
	int wake_fd;            /* eventfd: frames handed over, or a pause */
	int sleeping;           /* in poll: the dispatcher writes wake_fd */
	bool running;
	pthread_t thread;
	struct spsc in;         /* frames from the dispatcher */
	struct spsc done;       /* frames copied, back to the fill rings */
	unsigned char gso_buf[TXO_MAX_FRAME];   /* a super-frame being cut */
};

struct backend {
	struct vu_dev dev;
	struct xsk_port port;
	struct xv_coal_policy pol[VU_MAX_QUEUE_PAIRS];
	uint32_t pol_gen[VU_MAX_QUEUE_PAIRS];
	struct xv_coal coal[VU_MAX_QUEUE_PAIRS];
	uint32_t pushed[VU_MAX_QUEUE_PAIRS];    /* frames this round, per pair */
	uint64_t starved_call[VU_MAX_QUEUE_PAIRS];      /* last call to a starved guest */
	struct backend_lane lane[VU_MAX_QUEUE_PAIRS];   /* one thread: lane 0 */
	/* workers */
	bool threaded;
	struct backend_counters dcnt;   /* the dispatcher's own */
	bool rx_blocked;        /* a worker's ring is full: frames wait */
	int wake_fd;            /* eventfd: a worker gave frames back */
	int sleeping;
	int stopping;
	uint64_t gen;           /* bumped by every pause: fds may have changed */
	pthread_rwlock_t lock;  /* workers read, backend_pause writes */
	pthread_mutex_t tx_lock;        /* the side socket's TX ring */
};

void backend_init(struct backend *b, unsigned queue_pairs, uint64_t now);
/* The connection ended: what was pending is forgotten with the guest. */
void backend_guest_gone(struct backend *b, uint64_t now);
/* One thread: one round each way; returns the time by which it must run
 * again (0: no deadline). */
uint64_t backend_round(struct backend *b, uint64_t now);

/* How long a thread may sleep: until the coalescing deadline (0: none),
 * at most 1 ms while guest frames wait for TX room, else 100 ms. */
struct timespec backend_wait(bool tx_blocked, uint64_t deadline, uint64_t now);

/* Workers: one per pair, pair p on cpus[p % ncpus].  0, or -1 with the
 * reason in err (no thread is left running). */
int backend_start_workers(struct backend *b, const unsigned char *cpus, unsigned ncpus,
			  char *err, size_t errlen);
void backend_stop_workers(struct backend *b);
/* Workers: hand received frames to their pairs, give copied ones back. */
void backend_dispatch(struct backend *b);
/* Workers: no worker runs between these (the device, memory table and
 * rings may change); resume wakes them to take the changes up. */
void backend_pause(struct backend *b);
void backend_resume(struct backend *b);
/* SEND_RARP: announce the guest's MAC (dev.rarp_mac) through vm_tx. */
void backend_announce(struct backend *b);
/* Every lane's counters and the dispatcher's, summed. */
void backend_counters_sum(const struct backend *b, struct backend_counters *out);

#endif
