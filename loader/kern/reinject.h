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
struct xvnet_flow_key;
struct xvnet_flow;

/* What is done with a queued frame's flow once the frame is sent. */
typedef void (*reinject_after_fn)(struct xvd *d, const struct xvnet_flow_key *k,
				  const struct xvnet_flow *v);

/*
 * Queue r's frame to be sent on for vm (its flow allowed), and its flow
 * (k, v) to be given to after() once the frame is out: frames go in one
 * sendmmsg per batch of records (reinject_flush, or a full queue), each
 * before its flow is installed, so no later packet of the flow overtakes
 * it.  Returns 1 queued, 0 not sent on (a partial capture, an AF_XDP port,
 * a local VM with rules of its own: install the flow yourself), -1 an error.
 */
int reinject(struct xvd *d, const struct xvnet_slow_rec *r, const struct vm_conf *vm,
	     const struct xvnet_flow_key *k, const struct xvnet_flow *v,
	     reinject_after_fn after);
/* Send what is queued, then hand each frame's flow to after(). */
void reinject_flush(struct xvd *d, reinject_after_fn after);

void reinject_close(struct xvd *d);

#endif
