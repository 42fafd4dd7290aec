/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vhost-user back-ends of `port vhost-user` VMs: xvnetd runs one
 * xvnet-vhost per such VM (docs/vhost-user.md), hands it the VM's AF_XDP
 * sockets over the control socket (xsk.get), and keeps it running as the
 * configuration says: started when the VM comes, restarted when it dies
 * (with a growing delay when it keeps dying) or when what it was started
 * with changes (socket path, owner, the VM's sockets recreated), stopped
 * when the VM goes or xvnetd stops.  The VMM reconnects by itself (QEMU
 * `reconnect=`, libvirt `<reconnect>`).
 */
#ifndef XVNET_LOADER_KERN_VHOSTSUP_H
#define XVNET_LOADER_KERN_VHOSTSUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/vhost_stats.h"
#include "loader/kern/xvd.h"

struct vhost_child_info {
	pid_t pid;                  /* 0: not running */
	unsigned starts;            /* processes started for this VM */
	int last_exit;              /* wait status of the last one, -1: none */
	double up_s;                /* seconds the running one has run */
	double retry_in_s;          /* not running: next start in */
	char socket[XV_SOCK_PATH_MAX + 1];
	/* the running back-end's own counters (lib/vhost_stats.h), once it
	 * has written them */
	bool has_counters;
#define XV_X_FIELD(f) uint64_t f;
	XV_VHOST_COUNTERS(XV_X_FIELD)
#undef XV_X_FIELD
	uint32_t queue_pairs;
	uint64_t rxq[XV_VHOST_STATS_QUEUES];
};

/* Bring the running back-ends in line with d->cfg (reap, stop, start).
 * Cheap when nothing changed: called after every commit and every tick. */
void vhost_sync(struct xvd *d);
/* Stop every back-end (xvnetd exits: they hold sockets it no longer
 * serves; a restarted xvnetd makes new ones). */
void vhost_stop_all(struct xvd *d);
/* VM vm_id's port moved away: its back-end hands the AF_XDP sockets back
 * (returns once it no longer touches them: the move takes what it left on
 * their rings) but keeps its VMM's connection until the VMM closes it, at
 * most XV_VHOST_LINGER_S (a migration's source is still saving its devices
 * when the switch comes: a closed connection would set the NIC's link down
 * there, and so on the destination).  A back-end that cannot say when it
 * let go (no counters page) is stopped. */
void vhost_release_vm(struct xvd *d, int vm_id);
/* The back-end of VM vm_id; false when the VM has none. */
bool vhost_child_info(const struct xvd *d, int vm_id,
		      struct vhost_child_info *out);
/* Where vm's back-end listens: vhost-socket, or RUNDIR/NAME.vhost. */
int vhost_socket_path(const struct xvd *d, const struct vm_conf *vm,
		      char *out, size_t outlen);

#endif
