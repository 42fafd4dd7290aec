/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vm move (DNIS): a running VM switched between ports with no frame lost,
 * as a state machine that survives a daemon restart (loader/move.c,
 * docs/dnis.md).
 */
#ifndef XVNET_LOADER_MOVE_H
#define XVNET_LOADER_MOVE_H

struct xvd;
struct json_object;

/* The vm.move request: prepare, switch, commit; abort on any failure
 * before the switch. */
struct json_object *move_vm(struct xvd *d, struct json_object *args);
/* At start, before the reconcile: finish (switched) or undo (not) a move
 * a previous run left; 0 when there was none or it was settled. */
int move_recover(struct xvd *d);
/* Frames deliver() sent to the VM's ports, by port kind. */
struct json_object *move_port_stats(struct xvd *d, int vm_id);

#endif
