/* SPDX-License-Identifier: GPL-2.0-only */
/* The control socket and xvnetd's event loop (loader/api/server.c). */
#ifndef XVNET_LOADER_API_SERVER_H
#define XVNET_LOADER_API_SERVER_H

struct xvd;

/* Serves requests, signals and timers until a shutdown: 0, or -1 when the
 * socket cannot be set up. */
int server_run(struct xvd *d);

#endif
