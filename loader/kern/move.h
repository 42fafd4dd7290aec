/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vm move (DNIS): a running VM switched between ports with no frame lost,
 * as a state machine that survives a daemon restart (loader/kern/move.c,
 * docs/dnis.md).  The kernel side only: the vm.move request and its reply
 * are loader/api/vm_move.c.
 */
#ifndef XVNET_LOADER_KERN_MOVE_H
#define XVNET_LOADER_KERN_MOVE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "loader/conf/config.h"

struct xvd;

enum move_phase {
	MV_PREPARING = 1,   /* the new port may exist in part */
	MV_PREPARED,        /* new port complete, not switched */
	MV_SWITCHED,        /* the slot names the new port */
};

/* The record of a move (<state dir>/move.state, and in memory). */
struct move_rec {
	enum move_phase phase;
	int bank_b;                 /* the new port's DEVMAP bank */
	int old_ifindex, new_ifindex;
	struct vm_conf old, new;
};

/* What a switch and commit took, for the reply. */
struct move_report {
	uint64_t prepare_us, switch_us, drain_us, commit_us;
	uint64_t drained;           /* frames the old port's reader took */
	uint64_t rescued;           /* stranded frames moved on to the new port */
	uint64_t rescued_own;       /* the VM's own frames read, not sent on */
};

/* Frames deliver() sent to one VM's ports, of one port kind. */
struct move_port_count {
	uint64_t packets, bytes;
};

/* Results of move_prepare and move_switch besides 0. */
#define MOVE_REFUSED  (-1)      /* nothing was done */
#define MOVE_ABORTED  (-2)      /* the prepare was undone: the VM stays */

const char *move_phase_name(enum move_phase p);
/* CLOCK_MONOTONIC in microseconds: the reply's times. */
uint64_t move_now_us(void);

/* The move a previous request (--prepare) or run left: 1 read into *r,
 * 0 none, -1 unreadable (err says why). */
int move_pending(struct xvd *d, struct move_rec *r, char *err, size_t errlen);
/* A prepared move of VM vm_id onto an xsk or vhost-user port: true with
 * the new port's configuration in *out.  Its sockets exist from the
 * prepare on, and a migration's incoming VMM needs them (xsk.get) and
 * its vhost-user back-end (loader/kern/vhostsup.c) before the switch. */
bool move_prepared_xsk(struct xvd *d, int vm_id, struct vm_conf *out);
/* Prepare the move of r->old (as configured) to r->new (validated whole
 * against the configuration): returns 0 with r->phase MV_PREPARED and the
 * record on disk, MOVE_REFUSED, or MOVE_ABORTED (logged, undone). */
int move_prepare(struct xvd *d, struct move_rec *r, char *err, size_t errlen);
/* Switch and commit a prepared move (t0: the request's start, t_prep: the
 * end of its prepare): 0 with *rep filled, or MOVE_ABORTED. */
int move_switch(struct xvd *d, struct move_rec *r, uint64_t t0, uint64_t t_prep,
		struct move_report *rep, char *err, size_t errlen);
/* Delete the taps a commit left because a VMM held them, once it lets go
 * (the server's tick). */
void move_release_tick(struct xvd *d);
/* Undo a prepared move (--abort): the VM never left the old port. */
void move_abort(struct xvd *d, const struct move_rec *r);
/* At start, before the reconcile: finish (switched) or undo (not) a move
 * a previous run left; 0 when there was none or it was settled. */
int move_recover(struct xvd *d);
/* Frames deliver() sent to the VM's ports, by port kind (index: kind). */
void move_port_stats(const struct xvd *d, int vm_id,
		     struct move_port_count out[XVNET_PORT_KINDS]);

#endif
