/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XVNET_LOADER_API_COALESCE_H
#define XVNET_LOADER_API_COALESCE_H

struct json_object;
struct xvd;

/* The coalescing page's counters (NULL if none): xsk's "notify". */
struct json_object *view_coal_counters(const struct xvd *d, int vm_id);

#endif
