/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xvnetd's state: the recorded configuration (desired state) and the BPF
 * objects it is applied to.  Every change is validated whole against cfg,
 * then committed (loader/kern/commit.h): applied to the kernel with undo, saved,
 * recorded in cfg, and what it removes removed after the save.
 */
#ifndef XVNET_LOADER_XVNETD_H
#define XVNET_LOADER_XVNETD_H

#include <stdbool.h>

#include "loader/kern/addrs.h"
#include "loader/kern/datapath.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/tables.h"
#include "loader/kern/xvd.h"

struct json_object;

/* ops.c: requests (validated whole, then applied and persisted). */
const struct vm_conf *req_vm(const struct xvd *d, struct json_object *args,
			     const char *field, char *err, size_t errlen);
/* Descriptors a reply hands over with its JSON line (SCM_RIGHTS): xsk.get's
 * UMEM, sockets and coalescing page.  xvnetd keeps its own copies open. */
/* the most one reply carries: xsk.get's UMEM memfd, one socket per NIC
 * queue, the side socket, the coalescing page */
#define XVD_REPLY_FDS_MAX (3 + XVNET_MAX_NIC_QUEUES)
struct xvd_fds {
	int fd[XVD_REPLY_FDS_MAX];
	int n;
};
/* One request: the JSON reply, plus in fds (n = 0: none) what it hands over. */
struct json_object *xvd_handle(struct xvd *d, struct json_object *req,
			       struct xvd_fds *fds);
/* 0, XV_COMMIT_UNDONE (nothing changed) or XV_COMMIT_PARTIAL (commit.h). */
int xvd_reload(struct xvd *d, char *err, size_t errlen);
/* Every XV_HEALTH_EVERY_S: a sample of the error counters, so that status
 * can say which grew in the last 10-20 s. */
void health_tick(struct xvd *d);
/* Whole validation of vm.add / flow.add|del arguments against cfg. */
int vm_request_parse(const struct xvd_config *cfg, struct json_object *args,
		     struct vm_conf *vm, char *err, size_t errlen);
int flow_request_parse(const struct xvd_config *cfg, struct json_object *args,
		       bool add, struct flow_conf *fc, char *err, size_t errlen);
int xvd_teardown_ports(const struct xvd_config *cfg);

/* server.c */
int server_run(struct xvd *d);

#endif
