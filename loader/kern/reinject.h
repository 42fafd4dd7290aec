/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A flow's first packet, sent on once the slow path has allowed its flow:
 * to the VM's port (dir in) or to the wire or a local VM (dir out), where
 * the program would have sent it had the flow existed.  Without this every
 * new TCP connection to or from a VM with rules waited for a SYN
 * retransmission (1 s).
 */
#ifndef XVNET_LOADER_REINJECT_H
#define XVNET_LOADER_REINJECT_H

#include "loader/kern/xvd.h"

struct xvnet_slow_rec;

/* Send r's frame on for vm (its flow allowed).  Returns 1 sent, 0 not
 * (a partial capture, an AF_XDP port, a local VM with rules of its own),
 * -1 a send error. */
int reinject(struct xvd *d, const struct xvnet_slow_rec *r,
	     const struct vm_conf *vm);

void reinject_close(struct xvd *d);

#endif
