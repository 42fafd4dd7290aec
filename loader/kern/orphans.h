/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a daemon killed mid-change leaves behind: a port device it created
 * before the state that would name it was saved, and the temp file of that
 * save.  xvnetd marks the devices it creates (their alias names its state
 * directory, so daemons side by side keep apart) and, at start, once the
 * state is applied, removes its marked devices that no VM names and its
 * temp files.
 */
#ifndef XVNET_LOADER_ORPHANS_H
#define XVNET_LOADER_ORPHANS_H

#include <stddef.h>

#include "loader/kern/xvd.h"

/* The alias xvnetd gives the devices it creates (IFLA_IFALIAS). */
void orphans_tag(const struct xvd *d, char *buf, size_t len);
/* Remove marked devices no VM of d->cfg uses (and no VMM holds), and
 * temp files in the state directory.  Returns how many things went. */
int orphans_clean(struct xvd *d);

#endif
