/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one way xvnetd's state changes.  Every request that changes
 * something, a reload and the start hand a whole, validated configuration
 * to xvd_commit, which
 *   1. diffs it against what runs (loader/conf/diff.h),
 *   2. applies the changes the kernel needs before the save (new and
 *      changed VMs, ports and flows), recording each one for undo,
 *   3. saves the state file,
 *   4. makes it the running configuration (d->cfg),
 *   5. then removes what the new state no longer has (flows, VMs, their
 *      devices, rule-installed flows of VMs whose rules changed).
 * A failure at 2 or 3 undoes what 2 did: the kernel and d->cfg are as
 * before, and the error says what failed (and if an undo failed too).
 *
 * Two changes cannot take that order, and are recorded here too, so that
 * the state file is written from this one place (the save is d->save,
 * which the request side sets: loader/api/service.c):
 *   - the reconcile (xvd_commit_reconcile): the kernel brought to what
 *     d->cfg says, at start and after a reload; no earlier state to keep;
 *   - a change the kernel has made already and that cannot be taken back
 *     (xvd_commit_record_vm): vm move's switch (frames went to the new
 *     port; its own record, move.state, finishes the move after a crash),
 *     the recovery of a move at start, and a port that vanished or came
 *     back under the link watch (the device is gone, or adopted: what is
 *     recorded is whose it is).
 */
#ifndef XVNET_LOADER_COMMIT_H
#define XVNET_LOADER_COMMIT_H

#include <stdbool.h>
#include <stddef.h>

struct xvd;
struct xvd_config;
struct vm_conf;

struct commit_opts {
	bool keep_ports;        /* vm del --keep-port: removed VMs' devices stay */
	bool mac_in_place;      /* vm set: a new MAC keeps the port */
};

/* Results besides 0: everything was put back, or not all of it could be
 * (then err says so). */
#define XV_COMMIT_UNDONE   (-1)
#define XV_COMMIT_PARTIAL  (-2)

/* Takes next over (freed or made d->cfg). */
int xvd_commit(struct xvd *d, struct xvd_config *next,
	       const struct commit_opts *opts, char *err, size_t errlen);
/* xvd_commit of d->cfg with one VM's settings replaced by nv (same name):
 * the requests that change a VM in place (rss set, coalesce set). */
int xvd_commit_vm(struct xvd *d, const struct vm_conf *nv, char *err,
		  size_t errlen);
/* The whole kernel state brought in line with d->cfg, then saved: at start
 * (over what the pinned maps hold), when a daemon that had no config gets
 * one, and after each reload (a port that came back while link events were
 * lost).  A VM whose port cannot be made is left unreachable and logged:
 * there is no earlier state to keep, d->cfg is already what runs.  Returns
 * -1 only when the save failed. */
int xvd_commit_reconcile(struct xvd *d, char *err, size_t errlen);
/* A change the kernel already made to one VM (same name), recorded: d->cfg
 * takes nv, then is saved.  Nothing to apply or undo; when the save
 * fails, d->cfg says nv all the same (it is what runs) and -1 is returned
 * with err set. */
int xvd_commit_record_vm(struct xvd *d, const struct vm_conf *nv, char *err,
			 size_t errlen);

#endif
