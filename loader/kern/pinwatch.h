/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pins under the pin directory are how the data path outlives the
 * daemon: a restart adopts the pinned maps and the pinned XDP link.  A pin
 * removed (rm, a careless cleanup script) or replaced by another object
 * while xvnetd runs would go unnoticed until that restart, which would then
 * build a new data path from nothing (losing every frame until it is up) or
 * adopt the stranger.  xvnetd checks them every few seconds and puts its
 * own objects back.
 */
#ifndef XVNET_LOADER_PINWATCH_H
#define XVNET_LOADER_PINWATCH_H

#include <stdint.h>

#include "loader/kern/xvd.h"

/* Every PINWATCH_EVERY_MS: re-pin what is missing or not ours. */
#define PINWATCH_EVERY_MS 2000
void pins_check(struct xvd *d, uint64_t now_ms);
/* Its counters are d->pins (status shows them: api/views.c). */


#endif
