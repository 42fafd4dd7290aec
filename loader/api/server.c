// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket and xvnetd's single-threaded event loop: poll() over
 * the listening socket, the clients, and a signalfd (SIGTERM/SIGINT stop,
 * SIGHUP reloads the config).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/proto.h"
#include "loader/kern/linkwatch.h"
#include "loader/kern/caps.h"
#include "loader/kern/log.h"
#include "loader/kern/move.h"
#include "loader/kern/pinwatch.h"
#include "loader/api/service.h"
#include "loader/kern/vhostsup.h"
#include "loader/kern/xsk.h"
#include "loader/api/daemon.h"
#include "loader/api/request.h"
#include "loader/api/batch.h"
#include "loader/api/server.h"
#include "loader/kern/datapath.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/health.h"

#define MAX_CLIENTS 64
#define IDLE_POLL_MS 10000      /* no datapath: only the clients' timeouts to check */

/*
 * No client can stall the single-threaded daemon, nor lock others out
 * (docs/security.md G11): sockets are non-blocking, a reply that does not
 * fit the socket waits in the client's own output buffer (and the client's
 * next request waits until it is sent), and each client has limits.
 */
#define CLIENT_OUT_MAX     (64u << 20)  /* unsent reply bytes (a long flow list) */
#define CLIENT_REQ_MAX     (64u << 10)  /* one request line (the largest is ~2 KiB) */
#define CLIENT_PARTIAL_MS  5000         /* a started line must end by then */
#define CLIENT_WRITE_MS    10000        /* a pending reply must move by then */
#define CLIENT_IDLE_MS     60000        /* a connection without requests */
#define CLIENT_EVICT_MS    1000         /* full table: an idle one this old goes */
#define ROOT_RESERVE       8            /* slots only root's clients can take */

struct client {
	int fd;
	uint64_t id;                /* this connection's number (d->req_client) */
	bool root;
	struct xv_linebuf lb;
	char *out;                  /* reply bytes not yet sent */
	size_t out_len, out_off;
	uint64_t last_ms;           /* last request read or reply byte sent */
	uint64_t partial_ms;        /* when the unfinished line began, or 0 */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

static int group_gid(const char *name, gid_t *gid)
{
	struct group *g = getgrnam(name);

	if (!g)
		return -1;
	*gid = g->gr_gid;
	return 0;
}

static int listen_socket(struct xvd *d, gid_t *gid, bool *has_gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	int fd;

	*has_gid = false;
	if (strlen(d->socket_path) >= sizeof(sa.sun_path)) {
		log_err("socket path too long: %s", d->socket_path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", d->socket_path);
	if (mkdir_p(dirname(dir))) {
		log_err("mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	strcpy(sa.sun_path, d->socket_path);
	unlink(d->socket_path);         /* we hold the lock: it is stale */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 16)) {
		log_err("socket %s: %s", d->socket_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (d->cfg.socket_group[0]) {
		if (group_gid(d->cfg.socket_group, gid)) {
			log_warn("socket-group '%s' does not exist: root only",
				 d->cfg.socket_group);
		} else {
			*has_gid = true;
			if (chown(d->socket_path, 0, *gid))
				log_warn("chown %s: %s", d->socket_path,
					 strerror(errno));
		}
	}
	chmod(d->socket_path, 0660);
	log_info("listening on %s", d->socket_path);
	return fd;
}

static bool peer_allowed(int fd, bool has_gid, gid_t gid, bool *root)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd *pw;
	struct group *g;

	*root = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	if (cr.uid == 0) {
		*root = true;
		return true;
	}
	if (!has_gid)
		return false;
	if (cr.gid == gid)
		return true;
	pw = getpwuid(cr.uid);
	g = getgrgid(gid);
	for (char **m = g && pw ? g->gr_mem : NULL; m && *m; m++)
		if (strcmp(*m, pw->pw_name) == 0)
			return true;
	log_warn("refused control connection from uid %u", cr.uid);
	return false;
}

static void drop_client(struct xvd *d, struct client *c)
{
	batch_client_gone(d, c->id);
	close(c->fd);
	xv_linebuf_free(&c->lb);
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	c->fd = -1;
}

static bool client_busy(const struct client *c)
{
	return c->out_off < c->out_len;
}

/* Send what the socket takes now; -1 if the client must go. */
static int client_flush(struct client *c, uint64_t now)
{
	while (client_busy(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
		c->last_ms = now;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return 0;
}

/* Queue one reply line behind what is pending, then send what fits. */
static int client_reply(struct client *c, struct json_object *rep, uint64_t now)
{
	const char *s = json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s), keep = c->out_len - c->out_off;
	char *b;

	if (keep + len + 1 > CLIENT_OUT_MAX) {
		log_warn("control client: reply of %zu bytes over the %u MiB output"
			 " limit: disconnected", len, CLIENT_OUT_MAX >> 20);
		return -1;
	}
	b = malloc(keep + len + 1);
	if (!b)
		return -1;
	if (keep)
		memcpy(b, c->out + c->out_off, keep);
	memcpy(b + keep, s, len);
	b[keep + len] = '\n';
	free(c->out);
	c->out = b;
	c->out_len = keep + len + 1;
	c->out_off = 0;
	return client_flush(c, now);
}

/* A JSON reply line with the fds it hands over attached (SCM_RIGHTS). */
static int send_reply_fds(int sock, struct json_object *obj, const int *fds,
			  int nfds)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s);
	char *line = malloc(len + 1);
	union {
		char buf[CMSG_SPACE(sizeof(int) * XVD_REPLY_FDS_MAX)];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	ssize_t n;

	if (!line || nfds > XVD_REPLY_FDS_MAX) {
		free(line);
		return -1;
	}
	memcpy(line, s, len);
	line[len++] = '\n';
	memset(&u, 0, sizeof(u));
	iov.iov_base = line;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	/* the fds went with the first byte; the rest of the line, if any */
	for (size_t off = n > 0 ? (size_t)n : len; n > 0 && off < len;) {
		n = send(sock, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(line);
	return n > 0 ? 0 : -1;
}

/* Answer complete lines while nothing is pending; -1 if the client must go. */
static int client_work(struct xvd *d, struct client *c, uint64_t now)
{
	char *line;

	while (!client_busy(c) && (line = xv_linebuf_next(&c->lb))) {
		struct json_object *req = json_tokener_parse(line), *rep;
		struct xvd_fds fds = { .n = 0 };
		int r;

		free(line);
		c->last_ms = now;
		d->req_client = c->id;
		rep = req ? xvd_handle(d, req, &fds) : xv_reply_err("request: not JSON");
		/* xsk.get: the reply carries the sockets (SCM_RIGHTS); nothing
		 * is pending here, so the small reply goes at once */
		r = fds.n > 0 ? send_reply_fds(c->fd, rep, fds.fd, fds.n)
			      : client_reply(c, rep, now);
		json_object_put(req);
		json_object_put(rep);
		if (r)
			return -1;
	}
	c->partial_ms = c->lb.len ? (c->partial_ms ? c->partial_ms : now) : 0;
	return 0;
}

/* Readable: take the bytes, then answer; -1 if the client must go. */
static int serve_client(struct xvd *d, struct client *c, uint64_t now)
{
	long n = xv_linebuf_fill(&c->lb, c->fd);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (c->lb.len > CLIENT_REQ_MAX && !memchr(c->lb.buf, '\n', c->lb.len)) {
		log_warn("control client: request line over %u KiB: disconnected",
			 CLIENT_REQ_MAX >> 10);
		return -1;
	}
	return client_work(d, c, now);
}

/* The limits of docs/security.md G11; true if the client must go. */
static bool client_expired(const struct client *c, uint64_t now)
{
	if (client_busy(c))
		return now - c->last_ms > CLIENT_WRITE_MS;
	if (c->partial_ms)
		return now - c->partial_ms > CLIENT_PARTIAL_MS;
	return now - c->last_ms > CLIENT_IDLE_MS;
}

/*
 * A free slot for a new client, or -1.  Others than root take at most
 * MAX_CLIENTS - ROOT_RESERVE; when the table is full, the client idle the
 * longest (nothing pending, nothing half-sent, idle CLIENT_EVICT_MS or
 * more) makes room, so idle connections never lock anyone out.
 */
static int client_slot(struct xvd *d, struct client *cl, bool root, uint64_t now)
{
	int used = 0, free_i = -1, old = -1;
	int limit = root ? MAX_CLIENTS : MAX_CLIENTS - ROOT_RESERVE;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (cl[i].fd < 0) {
			if (free_i < 0)
				free_i = i;
			continue;
		}
		used++;
		if (!client_busy(&cl[i]) && !cl[i].lb.len &&
		    now - cl[i].last_ms >= CLIENT_EVICT_MS &&
		    (old < 0 || cl[i].last_ms < cl[old].last_ms))
			old = i;
	}
	if (used < limit)
		return free_i;          /* used < MAX_CLIENTS: there is one */
	/* one eviction must bring the count below the limit, or none */
	if (old < 0 || used - 1 >= limit)
		return -1;
	log_warn("control clients: %d connected, the longest idle one closed", used);
	drop_client(d, &cl[old]);
	return old;
}

int server_run(struct xvd *d)
{
	struct client cl[MAX_CLIENTS];
	struct pollfd pfd[MAX_CLIENTS + 4];
	uint64_t client_ids = 0;        /* connections so far: their ids */
	sigset_t mask;
	gid_t gid = 0;
	bool has_gid;
	int lfd, sfd, wfd;

	memset(cl, 0, sizeof(cl));
	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	lfd = listen_socket(d, &gid, &has_gid);
	if (sfd < 0 || lfd < 0)
		return -1;
	{
		char err[XV_ERR_LEN];

		if (caps_drop_unused(err, sizeof(err)))
			log_warn("capabilities not dropped: %s", err);
	}
	if (d->skel) {
		char err[XV_ERR_LEN];

		if (sp_start(d, err, sizeof(err)))
			log_warn("slow path disabled: %s", err);
	}
	wfd = lw_open(d);        /* ports that vanish or come back */
	svc_notify_ready(d);    /* the socket listens: xvnetctl works */
	d->serving = true;
	vhost_sync(d);

	while (!d->stop) {
		int n = 0, map[MAX_CLIENTS + 1], r, rbfd = sp_fd(d), rbk = -1, first;
		uint64_t now;

		/* fixed slots: signals, listener, link events (fd -1: ignored) */
		pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = wfd, .events = POLLIN };
		if (rbfd >= 0) {
			rbk = n;
			pfd[n++] = (struct pollfd){ .fd = rbfd, .events = POLLIN };
		}
		first = n;              /* the clients from here on */
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (cl[i].fd < 0)
				continue;
			map[n - first] = i;
			/* a client with a reply pending is not read: its next
			 * request waits until it takes this one */
			pfd[n++] = (struct pollfd){ .fd = cl[i].fd,
				.events = client_busy(&cl[i]) ? POLLOUT : POLLIN };
		}
		r = poll(pfd, (nfds_t)n, rbfd >= 0 ? 1000 : IDLE_POLL_MS);
		if (r < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			break;
		}
		if (d->skel) {
			sp_tick(d);
			health_tick(d);
			dp_tap_resteer(d);
			pins_check(d, mono_ms());
			vhost_sync(d);  /* a back-end that died comes back */
			move_release_tick(d);
		}
		if (rbk >= 0 && (pfd[rbk].revents & POLLIN))
			sp_poll(d);
		if (pfd[2].revents & POLLIN)
			lw_poll(d);
		if (r == 0) {
			now = mono_ms();
			for (int i = 0; i < MAX_CLIENTS; i++)
				if (cl[i].fd >= 0 && client_expired(&cl[i], now))
					drop_client(d, &cl[i]);
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					log_info("SIGHUP: reloading %s", d->config_path);
					char err[XV_ERR_LEN];

					xvd_reload(d, err, sizeof(err));
				} else {
					log_info("signal %u: exiting, datapath left"
						 " running", si.ssi_signo);
					d->stop = true;
				}
			}
		}
		now = mono_ms();
		for (int k = first; k < n; k++) {
			struct client *c = &cl[map[k - first]];
			int bad = 0;

			if (c->fd < 0)
				continue;
			if (pfd[k].revents & POLLOUT)
				bad = client_flush(c, now) || client_work(d, c, now);
			else if (pfd[k].revents)
				bad = serve_client(d, c, now);
			if (bad || client_expired(c, now))
				drop_client(d, c);
		}
		if (pfd[1].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;
			bool root;

			if (fd < 0)
				continue;
			if (!peer_allowed(fd, has_gid, gid, &root)) {
				struct json_object *rep =
					xv_reply_err("permission denied: root or"
						     " group '%s' only",
						     d->cfg.socket_group);
				xv_send_json(fd, rep);
				json_object_put(rep);
				close(fd);
				continue;
			}
			i = client_slot(d, cl, root, mono_ms());
			if (i < 0) {
				struct json_object *rep =
					xv_reply_err("busy: %d control connections",
						     MAX_CLIENTS);
				xv_send_json(fd, rep);  /* non-blocking: best effort */
				json_object_put(rep);
				close(fd);
				continue;
			}
			memset(&cl[i], 0, sizeof(cl[i]));
			cl[i].fd = fd;
			cl[i].id = ++client_ids;
			cl[i].root = root;
			cl[i].last_ms = mono_ms();
		}
	}
	svc_notify("STOPPING=1");
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			drop_client(d, &cl[i]);
	sp_stop(d);
	lw_close(d);
	close(lfd);
	unlink(d->socket_path);
	close(sfd);
	return 0;
}
