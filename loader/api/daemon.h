/* SPDX-License-Identifier: GPL-2.0-only */
/* The daemon's requests (loader/api/daemon.c). */
#ifndef XVNET_LOADER_API_DAEMON_H
#define XVNET_LOADER_API_DAEMON_H

#include <stddef.h>

struct xvd;

/* The admin's file read again and committed (the reload request and
 * SIGHUP): 0, XV_COMMIT_UNDONE (nothing changed) or XV_COMMIT_PARTIAL
 * (loader/kern/commit.h). */
int xvd_reload(struct xvd *d, char *err, size_t errlen);

#endif
