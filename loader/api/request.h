/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A request to xvnetd, {"cmd": "OBJECT.VERB", "args": {...}}, and its one
 * reply line (lib/proto.h); what the handlers share.  Each handler
 * validates its request whole against the recorded configuration, then
 * hands the next configuration to the one commit (loader/kern/commit.h).
 */
#ifndef XVNET_LOADER_API_REQUEST_H
#define XVNET_LOADER_API_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "loader/kern/xvd.h"

struct json_object;

/* Descriptors a reply hands over with its JSON line (SCM_RIGHTS): xsk.get's
 * UMEM, sockets and coalescing page.  xvnetd keeps its own copies open.
 * The most one reply carries: xsk.get's UMEM memfd, one socket per NIC
 * queue, the side socket, the coalescing page. */
#define XVD_REPLY_FDS_MAX (3 + XVNET_MAX_NIC_QUEUES)
struct xvd_fds {
	int fd[XVD_REPLY_FDS_MAX];
	int n;
};
/* One request: the JSON reply, plus in fds (n = 0: none) what it hands over. */
struct json_object *xvd_handle(struct xvd *d, struct json_object *req,
			       struct xvd_fds *fds);

/* The VM a request names in args[field]; NULL with err set if none. */
const struct vm_conf *req_vm(const struct xvd *d, struct json_object *args,
			     const char *field, char *err, size_t errlen);

/* Whole validation of vm.add / flow.add|del arguments against cfg. */
int vm_request_parse(const struct xvd_config *cfg, struct json_object *args,
		     struct vm_conf *vm, char *err, size_t errlen);
int flow_request_parse(const struct xvd_config *cfg, struct json_object *args,
		       bool add, struct flow_conf *fc, char *err, size_t errlen);
/* vm.move (loader/api/vm_move.c): prepare, switch, commit; abort on any
 * failure before the switch. */
struct json_object *vm_move(struct xvd *d, struct json_object *args);

/* 0, XV_COMMIT_UNDONE (nothing changed) or XV_COMMIT_PARTIAL (commit.h):
 * the reload request and SIGHUP. */
int xvd_reload(struct xvd *d, char *err, size_t errlen);

#endif
