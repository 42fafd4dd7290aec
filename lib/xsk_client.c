// SPDX-License-Identifier: GPL-2.0-only
/* The consumer's side of an xsk VM port: lib/xsk_client.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/if_xdp.h>

#include "lib/xsk_client.h"
#include "maps/xvnet_maps.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static void say(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

long long xv_xsk_jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return -1;
	return (long long)json_object_get_int64(v);
}

int xv_xsk_meta_inline(struct json_object *data)
{
	struct json_object *at;

	return json_object_object_get_ex(data, "meta_at", &at) &&
	       strcmp(json_object_get_string(at), "inline") == 0;
}

/* Read the reply line, collecting the fds of every SCM_RIGHTS message. */
static char *read_reply(int s, int *fds, int max_fds, int *nfds, char *err,
			size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		union {
			char b[CMSG_SPACE(sizeof(int) * 64)];
			struct cmsghdr a;
		} u;
		struct iovec iov;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 16384);

			if (!nb) {
				say(err, errlen, "out of memory");
				goto fail;
			}
			buf = nb;
			cap = cap ? cap * 2 : 16384;
		}
		iov.iov_base = buf + len;
		iov.iov_len = cap - len - 1;
		n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
		if (n <= 0) {
			say(err, errlen, "xvnetd closed the connection");
			goto fail;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			int k;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (*nfds + k > max_fds) {
				int extra[64];

				say(err, errlen, "reply carries more than %d fds", max_fds);
				memcpy(extra, CMSG_DATA(c), sizeof(int) * (size_t)k);
				for (int i = 0; i < k; i++)
					close(extra[i]);
				goto fail;
			}
			memcpy(fds + *nfds, CMSG_DATA(c), sizeof(int) * (size_t)k);
			*nfds += k;
		}
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

struct json_object *xv_xsk_get(const char *path, const char *vm, int *fds,
			       int max_fds, int *nfds, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct json_object *req, *args, *rep = NULL, *ok, *data = NULL;
	const char *line;
	char *buf;
	int s;

	*nfds = 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		say(err, errlen, "control socket path too long: %s", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		say(err, errlen, "cannot reach xvnetd at %s: %s", path, strerror(errno));
		if (s >= 0)
			close(s);
		return NULL;
	}
	/* json-c quotes the name: a VM name cannot break the request */
	req = json_object_new_object();
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(vm));
	json_object_object_add(req, "cmd", json_object_new_string("xsk.get"));
	json_object_object_add(req, "args", args);
	line = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (dprintf(s, "%s\n", line) != (int)strlen(line) + 1) {
		say(err, errlen, "write to xvnetd: %s", strerror(errno));
		json_object_put(req);
		close(s);
		return NULL;
	}
	json_object_put(req);
	buf = read_reply(s, fds, max_fds, nfds, err, errlen);
	close(s);
	if (!buf) {
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return NULL;
	}
	rep = json_tokener_parse(buf);
	free(buf);
	if (!rep || !json_object_object_get_ex(rep, "ok", &ok)) {
		say(err, errlen, "malformed reply from xvnetd");
	} else if (!json_object_get_boolean(ok)) {
		struct json_object *e = NULL;

		json_object_object_get_ex(rep, "error", &e);
		say(err, errlen, "xsk.get refused: %s",
		    e ? json_object_get_string(e) : "(no reason)");
	} else if (!json_object_object_get_ex(rep, "data", &data)) {
		say(err, errlen, "reply without data");
	} else {
		json_object_get(data);
	}
	json_object_put(rep);
	if (!data) {
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
	}
	return data;
}

static int map_ring(int fd, struct xv_xsk_ring *r, const struct xdp_ring_offset *o,
		    long long n, size_t desc, off_t pgoff, char *err, size_t errlen)
{
	if (n <= 0 || (n & (n - 1))) {
		say(err, errlen, "ring size %lld is not a power of two", n);
		return -1;
	}
	r->map_len = o->desc + (size_t)n * desc;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, fd, pgoff);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		say(err, errlen, "mmap ring (offset %#lx): %s", (unsigned long)pgoff,
		    strerror(errno));
		return -1;
	}
	r->prod = (__u32 *)((char *)r->map + o->producer);
	r->cons = (__u32 *)((char *)r->map + o->consumer);
	r->flags = (__u32 *)((char *)r->map + o->flags);
	r->desc = (char *)r->map + o->desc;
	r->size = (__u32)n;
	r->mask = (__u32)n - 1;
	return 0;
}

int xv_xsk_map_rings(int fd, struct json_object *so, struct xv_xsk_rings *r,
		     char *err, size_t errlen)
{
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);

	memset(r, 0, sizeof(*r));
	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len)) {
		say(err, errlen, "XDP_MMAP_OFFSETS: %s", strerror(errno));
		return -1;
	}
	if (map_ring(fd, &r->rx, &off.rx, xv_xsk_jint(so, "rx_size"),
		     sizeof(struct xdp_desc), XDP_PGOFF_RX_RING, err, errlen) ||
	    /* NIC sockets have no TX ring: a VM transmits on its side socket */
	    (xv_xsk_jint(so, "tx_size") > 0 &&
	     map_ring(fd, &r->tx, &off.tx, xv_xsk_jint(so, "tx_size"),
		      sizeof(struct xdp_desc), XDP_PGOFF_TX_RING, err, errlen)) ||
	    map_ring(fd, &r->fq, &off.fr, xv_xsk_jint(so, "fill_size"),
		     sizeof(__u64), XDP_UMEM_PGOFF_FILL_RING, err, errlen) ||
	    map_ring(fd, &r->cq, &off.cr, xv_xsk_jint(so, "comp_size"),
		     sizeof(__u64), XDP_UMEM_PGOFF_COMPLETION_RING, err, errlen)) {
		xv_xsk_unmap_rings(r);
		return -1;
	}
	return 0;
}

void xv_xsk_unmap_rings(struct xv_xsk_rings *r)
{
	struct xv_xsk_ring *all[] = { &r->rx, &r->tx, &r->fq, &r->cq };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i]->map)
			munmap(all[i]->map, all[i]->map_len);
	memset(r, 0, sizeof(*r));
}

__u32 xv_xsk_fill(struct xv_xsk_ring *fq, const __u64 *addrs, __u32 n)
{
	__u32 prod = *fq->prod;
	__u32 cons = __atomic_load_n(fq->cons, __ATOMIC_ACQUIRE);
	__u32 room = fq->size - (prod - cons);
	__u64 *ring = fq->desc;

	if (n > room)
		n = room;
	for (__u32 i = 0; i < n; i++)
		ring[(prod + i) & fq->mask] = addrs[i];
	__atomic_store_n(fq->prod, prod + n, __ATOMIC_RELEASE);
	return n;
}

struct xvnet_coal_page *xv_xsk_map_coal_page(struct json_object *data, const int *fds,
					     int nfds, char *err, size_t errlen)
{
	struct json_object *co;
	struct xvnet_coal_page *pg;
	long long fi, size;
	void *p;

	err[0] = '\0';
	if (!json_object_object_get_ex(data, "coalesce", &co))
		return NULL;
	fi = xv_xsk_jint(co, "fd_index");
	size = xv_xsk_jint(co, "size");
	if (fi < 0 || fi >= nfds) {
		say(err, errlen, "coalescing page fd missing from the reply");
		return NULL;
	}
	if (size != (long long)sizeof(struct xvnet_coal_page)) {
		say(err, errlen, "coalescing page of %lld bytes, this build knows %zu",
		    size, sizeof(struct xvnet_coal_page));
		return NULL;
	}
	p = mmap(NULL, sizeof(struct xvnet_coal_page), PROT_READ | PROT_WRITE, MAP_SHARED,
		 fds[fi], 0);
	if (p == MAP_FAILED) {
		say(err, errlen, "mmap coalescing page: %s", strerror(errno));
		return NULL;
	}
	pg = p;
	if (pg->magic != XVNET_COAL_MAGIC) {
		say(err, errlen, "coalescing page: bad magic %#x", pg->magic);
		munmap(p, sizeof(*pg));
		return NULL;
	}
	return pg;
}
