/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The AF_XDP knobs of an xsk VM as configured (struct xsk_conf): the
 * "xsk-*" keys of vm statements and vm.add requests (named in
 * lib/knobs.h), their bounds and defaults.  The sockets: loader/kern/xsk.h.
 */
#ifndef XVNET_LOADER_CONF_XSK_H
#define XVNET_LOADER_CONF_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "loader/conf/config.h"

#define XSKP_FRAME_SIZE_DEFAULT 4096
#define XSKP_RING_DEFAULT       1024    /* rx, tx, fill, comp */
#define XSKP_FRAMES_DEFAULT     2048    /* UMEM frames per socket */
#define XSKP_RING_MIN           64
#define XSKP_RING_MAX           16384
#define XSKP_FRAMES_MAX         65536

/* Config keys "xsk-*" (vm statements, vm.add requests). */
int xsk_conf_set(struct xsk_conf *c, const char *key, const char *val,
		 char *err, size_t errlen);
bool xsk_conf_is_set(const struct xsk_conf *c);
/* Knobs that differ from the defaults, as " key value" tokens. */
void xsk_conf_format(const struct xsk_conf *c, FILE *f);
/* The effective values (defaults filled in). */
void xsk_conf_resolve(const struct xsk_conf *c, struct xsk_conf *out);

#endif
