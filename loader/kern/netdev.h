/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VM port devices, over rtnetlink (libmnl) and ioctls: persistent taps and
 * veth pairs whose peer lives in the VM's network namespace.
 */
#ifndef XVNET_LOADER_NETDEV_H
#define XVNET_LOADER_NETDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "loader/conf/config.h"

#define XV_NETNS_DIR "/run/netns"

/* Create the port of vm if missing (vm->owned set when created), or adopt
 * it; bring it (and a veth peer, with GRO on) up. *ifindex = host device. */
int netdev_ensure_port(struct vm_conf *vm, int *ifindex, char *err,
		       size_t errlen);
/* Checks that need no change: netns exists, an existing ifname has the
 * right kind.  Called while validating a request. */
int netdev_check_port(const struct vm_conf *vm, char *err, size_t errlen);
int netdev_delete(const char *ifname, char *err, size_t errlen);
/* The alias given to every device netdev_ensure_port() creates. */
void netdev_set_owner_alias(const char *alias);
/* tun's steering program of tap ifname: prog_fd, or none with -1. */
int netdev_tap_steering(const char *ifname, int prog_fd, char *err, size_t errlen);
/* Driver name by ETHTOOL_GDRVINFO ("veth", "tun", ...); -1 if no device. */
int netdev_driver(const char *ifname, char *drv, size_t len);
/* "up", "down", "missing", ... from operstate. */
void netdev_state(const char *ifname, char *buf, size_t len);
bool netns_exists(const char *name);
/* A tap some process (a VMM) holds open: tun keeps its carrier on while a
 * queue is attached.  false for other kinds and missing devices. */
bool netdev_tap_in_use(const struct vm_conf *vm);

#endif
