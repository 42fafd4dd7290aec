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
#include <unistd.h>

#include "lib/proto.h"
#include "loader/linkwatch.h"
#include "loader/log.h"
#include "loader/service.h"
#include "loader/xsk.h"
#include "loader/xvnetd.h"

#define MAX_CLIENTS 64
#define FLOW_REFRESH_MS 10000   /* re-assert configured flows (LRU map) */

struct client {
	int fd;
	struct xv_linebuf lb;
};

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

static bool peer_allowed(int fd, bool has_gid, gid_t gid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd *pw;
	struct group *g;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	if (cr.uid == 0)
		return true;
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

static void drop_client(struct client *c)
{
	close(c->fd);
	xv_linebuf_free(&c->lb);
	c->fd = -1;
}

/* Process every complete line; -1 if the client must go. */
static int serve_client(struct xvd *d, struct client *c)
{
	long n = xv_linebuf_fill(&c->lb, c->fd);
	char *line;

	if (n <= 0)
		return -1;
	if (xv_linebuf_overflow(&c->lb))
		return -1;
	while ((line = xv_linebuf_next(&c->lb))) {
		struct json_object *req = json_tokener_parse(line), *rep;
		int r;

		free(line);
		int fds[XSKP_MAX_FDS], nfds;

		rep = req ? xvd_handle(d, req) : xv_reply_err("request: not JSON");
		/* xsk.get: the reply carries the sockets (SCM_RIGHTS) */
		nfds = xskp_take_fds(fds, XSKP_MAX_FDS);
		r = nfds > 0 ? xskp_send_json_fds(c->fd, rep, fds, nfds)
			     : xv_send_json(c->fd, rep);
		json_object_put(req);
		json_object_put(rep);
		if (r)
			return -1;
	}
	return 0;
}

static void refresh_flows(struct xvd *d)
{
	char err[XV_ERR_LEN];

	for (size_t i = 0; i < d->cfg.n_flows; i++)
		if (tbl_flow_ensure(d, &d->cfg.flows[i], err, sizeof(err)))
			log_warn("flow refresh: %s", err);
}

int server_run(struct xvd *d)
{
	struct client cl[MAX_CLIENTS];
	struct pollfd pfd[MAX_CLIENTS + 4];
	struct timeval tv = { .tv_sec = 5 };
	sigset_t mask;
	gid_t gid = 0;
	bool has_gid;
	int lfd, sfd, wfd;

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
	if (d->skel) {
		char err[XV_ERR_LEN];

		if (sp_start(d, err, sizeof(err)))
			log_warn("slow path disabled: %s", err);
	}
	wfd = lw_open();        /* ports that vanish or come back */
	svc_notify_ready(d);    /* the socket listens: xvnetctl works */

	while (!d->stop) {
		int n = 0, map[MAX_CLIENTS + 1], r, rbfd = sp_fd(d), rbk = -1, first;

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
			pfd[n++] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
		}
		r = poll(pfd, (nfds_t)n, rbfd >= 0 ? 1000 : FLOW_REFRESH_MS);
		if (r < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			break;
		}
		if (d->skel) {
			sp_tick(d);
			health_tick(d);
			dp_tap_resteer(d);
		}
		if (rbk >= 0 && (pfd[rbk].revents & POLLIN))
			sp_poll(d);
		if (pfd[2].revents & POLLIN)
			lw_poll(d);
		if (r == 0) {
			refresh_flows(d);
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
		for (int k = first; k < n; k++) {
			struct client *c = &cl[map[k - first]];

			if (pfd[k].revents && serve_client(d, c))
				drop_client(c);
		}
		if (pfd[1].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), i;

			if (fd < 0)
				continue;
			if (!peer_allowed(fd, has_gid, gid)) {
				struct json_object *rep =
					xv_reply_err("permission denied: root or"
						     " group '%s' only",
						     d->cfg.socket_group);
				xv_send_json(fd, rep);
				json_object_put(rep);
				close(fd);
				continue;
			}
			for (i = 0; i < MAX_CLIENTS && cl[i].fd >= 0; i++)
				;
			if (i == MAX_CLIENTS) {
				close(fd);
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			cl[i].fd = fd;
			memset(&cl[i].lb, 0, sizeof(cl[i].lb));
		}
	}
	svc_notify("STOPPING=1");
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			drop_client(&cl[i]);
	sp_stop(d);
	lw_close();
	close(lfd);
	unlink(d->socket_path);
	close(sfd);
	return 0;
}
