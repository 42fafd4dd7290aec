/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Frames stranded in a tap queue whose reader has stopped reading: a live
 * migration's source QEMU stops its vCPUs (and with them its tap reads)
 * before xvnet switches the VM to the destination's tap, so what arrived
 * in between waits in the source's queue and dies with it.  vm move takes
 * those frames out of the stopped reader's own queue file (pidfd_getfd)
 * and sends them on through the new port, so that nothing that reached
 * xvnet is lost (docs/dnis.md).
 */
#ifndef XVNET_LOADER_RESCUE_H
#define XVNET_LOADER_RESCUE_H

#include <stddef.h>
#include <stdint.h>

#define RESCUE_MAX_QUEUES 16

struct rescue {
	int n;                          /* queue files held */
	uint64_t own;                   /* frames from the VM itself, not sent on */
	int fds[RESCUE_MAX_QUEUES];     /* dups of the readers' tun files */
	int skipped;                    /* blocking files left alone */
	char why[128];                  /* why none could be taken, if so */
};

/* Take a dup of every tun queue file attached to tap ifname that another
 * process holds (the VMM's).  Needs CAP_SYS_PTRACE over those processes;
 * what cannot be taken is said in r->why.  Returns the number held. */
int rescue_grab(struct rescue *r, const char *ifname);

/* Read what waits in the held queues and send it out of ifindex (the VM's
 * new port, a tap or veth host end), offload header kept.  Frames whose
 * source is the VM's own MAC (its broadcasts, flooded to its old port while
 * both were attached) are read and dropped, counted in r->own: a VM never
 * gets its own frames back.  Returns the number of frames moved; r's files
 * stay held. */
uint64_t rescue_move(struct rescue *r, int ifindex, const uint8_t own_mac[6]);

void rescue_release(struct rescue *r);

struct xvd;
/* The same for an xsk VM whose consumer has stopped (a migration's source
 * back-end, which leaves frames that come after its rings stopped on the
 * AF_XDP rings): they are sent out of ifindex, the VM's own counted in
 * *own.  Returns the number moved. */
uint64_t rescue_xsk(struct xvd *d, int vm_id, int ifindex, const uint8_t own_mac[6],
		    uint64_t *own);

#endif
