// SPDX-License-Identifier: GPL-2.0-only
/* Line framing of JSON objects over a stream socket. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/proto.h"

void xv_linebuf_free(struct xv_linebuf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

long xv_linebuf_fill(struct xv_linebuf *lb, int fd)
{
	ssize_t n;

	if (lb->cap - lb->len < 4096) {
		size_t cap = lb->cap ? lb->cap * 2 : 8192;
		char *b = realloc(lb->buf, cap);

		if (!b)
			return -1;
		lb->buf = b;
		lb->cap = cap;
	}
	do
		n = read(fd, lb->buf + lb->len, lb->cap - lb->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		lb->len += (size_t)n;
	return n;
}

char *xv_linebuf_next(struct xv_linebuf *lb)
{
	char *nl = lb->len ? memchr(lb->buf, '\n', lb->len) : NULL;
	size_t n;
	char *line;

	if (!nl)
		return NULL;
	n = (size_t)(nl - lb->buf);
	line = malloc(n + 1);
	if (!line)
		return NULL;
	memcpy(line, lb->buf, n);
	line[n] = '\0';
	memmove(lb->buf, nl + 1, lb->len - n - 1);
	lb->len -= n + 1;
	return line;
}

int xv_linebuf_overflow(const struct xv_linebuf *lb)
{
	return lb->len > XV_PROTO_MAX_LINE;
}

int xv_send_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

const char *xv_json_line_text(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

int xv_send_json(int fd, struct json_object *obj)
{
	const char *s = xv_json_line_text(obj);
	size_t len = strlen(s);
	char *line = malloc(len + 1);
	int r;

	if (!line)
		return -1;
	memcpy(line, s, len);
	line[len++] = '\n';
	r = xv_send_all(fd, line, len);
	free(line);
	return r;
}

struct json_object *xv_recv_json(int fd, struct xv_linebuf *lb)
{
	char *line;
	struct json_object *o;

	while (!(line = xv_linebuf_next(lb))) {
		long n = xv_linebuf_fill(lb, fd);

		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return NULL;
		}
		if (xv_linebuf_overflow(lb)) {
			errno = EMSGSIZE;
			return NULL;
		}
	}
	o = json_tokener_parse(line);
	free(line);
	if (!o)
		errno = EPROTO;
	return o;
}

struct json_object *xv_reply_ok(struct json_object *data)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	json_object_object_add(r, "data", data ? data : json_object_new_object());
	return r;
}

struct json_object *xv_reply_err(const char *fmt, ...)
{
	struct json_object *r = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

int xv_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
