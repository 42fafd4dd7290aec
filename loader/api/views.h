/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replies built from what kern/ returns as plain C: the JSON views of the
 * live state that more than one request shows (status, vm show, stats;
 * the fields are in docs/xvnetctl.md).
 */
#ifndef XVNET_LOADER_API_VIEWS_H
#define XVNET_LOADER_API_VIEWS_H

#include <stddef.h>

struct json_object;
struct xvd;
struct xv_features;
struct vm_conf;

/* status's data-path part: NIC, XDP mode, programs, pins, features. */
struct json_object *view_datapath(const struct xvd *d);
/* Each capability: present, used, and what the data path does without it. */
struct json_object *view_features(const struct xv_features *fs);
/* "pins": checked, restored, and the last restore. */
struct json_object *view_pins(const struct xvd *d);

/* A vhost-user VM's back-end: socket, running, pid, starts, last exit. */
struct json_object *view_vhost(const struct xvd *d, const struct vm_conf *vm);

/* A VM's source addresses, and the names of its allowances that are on. */
struct json_object *view_vm_addrs(const struct vm_conf *vm);
struct json_object *view_vm_allow(const struct vm_conf *vm);

/* stats (loader/api/stats.c): counters, and per VM (all, or only). */
struct json_object *view_stats(struct xvd *d, const struct vm_conf *only);
/* stats's "ports": frames deliver() sent to the VM's ports, by kind
 * (loader/api/vm_move.c). */
struct json_object *view_port_stats(const struct xvd *d, int vm_id);
/* stats's "slowpath": the counters of d->sp. */
struct json_object *view_slowpath(const struct xvd *d);

#endif
