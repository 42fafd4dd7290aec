/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replies built from what kern/ returns as plain C: the JSON views of the
 * live state (status so far; the fields are in docs/xvnetctl.md).
 */
#ifndef XVNET_LOADER_API_VIEWS_H
#define XVNET_LOADER_API_VIEWS_H

struct json_object;
struct xvd;
struct xv_features;

/* status's data-path part: NIC, XDP mode, programs, pins, features. */
struct json_object *view_datapath(const struct xvd *d);
/* Each capability: present, used, and what the data path does without it. */
struct json_object *view_features(const struct xv_features *fs);
/* "pins": checked, restored, and the last restore. */
struct json_object *view_pins(const struct xvd *d);

#endif
