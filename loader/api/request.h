/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A request to xvnetd, {"cmd": "OBJECT.VERB", "args": {...}}, and its one
 * reply line (lib/proto.h), answered from the command table of its object
 * (one file per object, as xvnetctl's: loader/api/request.c); what the
 * handlers share.  Each handler validates its request whole against the
 * recorded configuration, then hands the next configuration to the one
 * commit (loader/kern/commit.h).
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

/* Every request as one signature: what it changes or shows, its args
 * (NULL: none given), and the fds its reply hands over (xsk.get only). */
typedef struct json_object *(*api_fn)(struct xvd *d, struct json_object *args,
				      struct xvd_fds *fds);
struct api_cmd {
	const char *name;           /* "OBJECT.VERB", as on the wire */
	api_fn fn;
	bool without_datapath;      /* answered before a config exists */
};
/* A handler of the form fn(d, args) or fn(d) as an api_fn, cmd_<fn>. */
#define API_ARGS(fn) \
	static struct json_object *cmd_##fn(struct xvd *d, struct json_object *args, \
					    struct xvd_fds *fds) \
	{ (void)fds; return fn(d, args); }
#define API_NOARGS(fn) \
	static struct json_object *cmd_##fn(struct xvd *d, struct json_object *args, \
					    struct xvd_fds *fds) \
	{ (void)args; (void)fds; return fn(d); }

/* One table per object, each in its file and ended by { NULL }. */
extern const struct api_cmd daemon_cmds[];      /* daemon.c: status, shutdown, reload */
extern const struct api_cmd vm_cmds[];          /* vm.c (and vm_move.c) */
extern const struct api_cmd port_cmds[];        /* port.c */
extern const struct api_cmd flow_cmds[];        /* flow.c */
extern const struct api_cmd rule_cmds[];        /* rule.c */
extern const struct api_cmd stats_cmds[];       /* stats.c */
extern const struct api_cmd xsk_cmds[];         /* xsk.c */
extern const struct api_cmd rss_cmds[];         /* rss.c */
extern const struct api_cmd coalesce_cmds[];    /* coalesce.c */
extern const struct api_cmd batch_cmds[];       /* batch.c: many in one commit */

/* What the handlers share to read a request. */
/* The VM a request names in args[field]; NULL with err set if none. */
const struct vm_conf *req_vm(const struct xvd *d, struct json_object *args,
			     const char *field, char *err, size_t errlen);
/* A request argument as text ("true"/"false" for booleans, "" for null);
 * -1 with err naming key for an object or array. */
int req_arg_text(struct json_object *v, char *buf, size_t len, char *err,
		 size_t errlen, const char *key);
/* Pop a boolean flag (may-exist, if-exists, ...) from args: absent false. */
bool req_flag(struct json_object *args, const char *key);

#endif
