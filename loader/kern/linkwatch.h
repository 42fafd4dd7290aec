/* SPDX-License-Identifier: GPL-2.0-only */
/* VM ports followed over rtnetlink (loader/kern/linkwatch.c). */
#ifndef XVNET_LOADER_LINKWATCH_H
#define XVNET_LOADER_LINKWATCH_H

struct xvd;

/* The socket to poll, or -1 (logged: no watch). */
int lw_open(struct xvd *d);
void lw_close(struct xvd *d);
/* Handle the link events that arrived: ports gone, ports back. */
void lw_poll(struct xvd *d);

#endif
