/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The xvnetd control protocol: over a Unix SOCK_STREAM socket, one JSON
 * object per line each way.
 *   request: {"cmd":"vm.add","args":{"name":"vm1","mac":"02:00:00:00:00:01"}}
 *   reply:   {"ok":true,"data":...}  or  {"ok":false,"error":"FIELD: ..."}
 */
#ifndef XVNET_LIB_PROTO_H
#define XVNET_LIB_PROTO_H

#include <stddef.h>
#include <json-c/json.h>

#define XV_DEFAULT_SOCKET   "/run/xvnet/xvnetd.sock"
#define XV_DEFAULT_CONFIG   "/etc/xvnet/xvnetd.conf"
#define XV_PROTO_MAX_LINE   (4u << 20)   /* a flow list can be long */

struct xv_linebuf {
	char *buf;
	size_t len, cap;
};

void xv_linebuf_free(struct xv_linebuf *lb);
/* One read(); returns bytes read (>0), 0 on EOF, -1 on error (errno). */
long xv_linebuf_fill(struct xv_linebuf *lb, int fd);
/* Next complete line (without '\n'), malloc'd; NULL if none yet. */
char *xv_linebuf_next(struct xv_linebuf *lb);
/* True when the buffer holds more than XV_PROTO_MAX_LINE without a newline. */
int xv_linebuf_overflow(const struct xv_linebuf *lb);

/* Write the object as one line; 0 or -1 (errno). */
int xv_send_json(int fd, struct json_object *obj);
/* The object as a request line holds it (no newline; json-c's buffer). */
const char *xv_json_line_text(struct json_object *obj);
/* Write all len bytes (a line made by hand ends in '\n'); 0 or -1 (errno). */
int xv_send_all(int fd, const char *buf, size_t len);
/* Blocking: read until a full line arrives and parse it; NULL on error. */
struct json_object *xv_recv_json(int fd, struct xv_linebuf *lb);

/* Reply builders (take ownership of data). */
struct json_object *xv_reply_ok(struct json_object *data);
struct json_object *xv_reply_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Connect to the daemon's socket; -1 with errno on failure. */
int xv_connect(const char *path);

#endif
