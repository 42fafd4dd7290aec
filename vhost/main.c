// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-vhost: a vhost-user-net back-end for one xsk VM (docs/vhost-user.md).
 * It takes the VM's AF_XDP sockets from xvnetd (`xsk.get`), listens on a
 * vhost-user socket for the VMM (QEMU, libvirt, Cloud Hypervisor connect
 * as the front-end) and moves frames, one copy each way:
 *   NIC sockets and side socket RX -> guest RX virtqueue (metadata block
 *     taken off, a virtio_net_hdr put on);
 *   guest TX virtqueue -> side socket TX, so every frame crosses vm_tx.
 * A VMM that goes away (or restarts, `reconnect=` on QEMU's chardev) only
 * ends its connection: the sockets stay and the next VMM picks up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "lib/proto.h"
#include "vhost/net_copy.h"
#include "vhost/vu_dev.h"
#include "vhost/xsk_port.h"

#define BURST 64
#define TX_BURST 256

struct counters {
	unsigned long long rx, rx_bytes, rx_no_guest, rx_dropped;
	unsigned long long tx, tx_bytes, tx_dropped;
	unsigned long long connections;
};

static volatile sig_atomic_t stop;
static struct counters cnt;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("xvnet-vhost: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	exit(1);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("xvnet-vhost: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
}

static int listen_on(const char *path, int mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("--vhost-socket: path too long: %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* a socket file left by a previous run would make bind fail */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1))
		die("listen on %s: %s", path, strerror(errno));
	if (mode >= 0 && chmod(path, (mode_t)mode))
		die("chmod %s: %s", path, strerror(errno));
	return fd;
}

static void drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (!pw)
		die("--user: no user '%s'", user);
	if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
		die("--user %s: %s", user, strerror(errno));
	if (setuid(0) == 0)
		die("--user: privileges not dropped");
}

static void write_stats(const char *path, const struct vu_dev *d)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "rx %llu rx_bytes %llu rx_no_guest %llu rx_dropped %llu tx %llu"
		" tx_bytes %llu tx_dropped %llu connections %llu calls %llu connected %d\n",
		cnt.rx, cnt.rx_bytes, cnt.rx_no_guest, cnt.rx_dropped, cnt.tx, cnt.tx_bytes,
		cnt.tx_dropped, cnt.connections, d->vq[0].calls + d->vq[1].calls, d->fd >= 0);
	fclose(f);
	rename(tmp, path);
}

/*
 * Wire -> guest for one socket.  Returns true when frames wait because the
 * guest has no RX buffers (they stay on the RX ring: the guest's kick
 * resumes them).
 */
static bool rx_sock(struct vu_dev *d, struct xsk_port *p, struct xsk_sock *s, bool *pushed)
{
	struct virtq *q = &d->vq[0];
	struct xsk_frame f[BURST];
	__u32 n = xsk_port_rx_peek(p, s, f, BURST), i;

	if (!vq_live(q)) {
		/* no guest driver yet: frames would only get stale */
		cnt.rx_no_guest += n;
		xsk_port_rx_release(p, s, f, n);
		return false;
	}
	for (i = 0; i < n; i++) {
		enum net_rx_result r = f[i].len ?
			net_rx_put(d, q, f[i].data, f[i].len) : NET_RX_DROPPED;

		if (r == NET_RX_NO_BUFFERS)
			break;
		if (r == NET_RX_DONE) {
			cnt.rx++;
			cnt.rx_bytes += f[i].len;
			*pushed = true;
		} else {
			cnt.rx_dropped++;
		}
	}
	xsk_port_rx_release(p, s, f, i);
	return i < n;
}

/* Returns true when the guest's RX buffers ran out with frames waiting. */
static bool rx_round(struct vu_dev *d, struct xsk_port *p)
{
	struct virtq *q = &d->vq[0];
	bool pushed = false, starved = false;

	for (int k = 0; k < 4 && !starved; k++) {
		bool more = false;

		for (int i = 0; i < p->n; i++) {
			starved |= rx_sock(d, p, &p->s[i], &pushed);
			more |= *p->s[i].r.rx.prod != *p->s[i].r.rx.cons;
		}
		if (!more)
			break;
	}
	if (pushed && vq_flush(q))
		vq_call(q);
	/* buffers the guest added meanwhile: take them now, not at its kick */
	if (starved && vq_live(q) && vq_want_kick(q))
		starved = false;
	return starved;
}

/* Guest -> side socket TX.  Returns true when frames wait for TX room. */
static bool tx_round(struct vu_dev *d, struct xsk_port *p)
{
	struct virtq *q = &d->vq[1];
	bool pushed = false, blocked = false;
	unsigned sent = 0;

	if (!vq_live(q))
		return false;
	for (;;) {
		unsigned char *buf;
		__u64 addr;
		long len;

		if (sent == TX_BURST) {
			xsk_port_tx_kick(p);
			sent = 0;
		}
		if (!xsk_port_tx_room(p) || !(buf = xsk_port_tx_buf(p, &addr))) {
			blocked = vq_avail_count(q) != 0;
			break;
		}
		len = net_tx_take(d, q, buf, p->frame_size);
		if (len <= 0) {
			xsk_port_tx_unget(p, addr);
			if (len == 0) {
				/* re-arm the kick; chains that raced in are taken now */
				if (!vq_want_kick(q))
					break;
				continue;
			}
			cnt.tx_dropped++;
			pushed = true;
			if (q->broken)
				break;
			continue;
		}
		xsk_port_tx_put(p, addr, (__u32)len);
		cnt.tx++;
		cnt.tx_bytes += (unsigned long long)len;
		sent++;
		pushed = true;
	}
	if (sent)
		xsk_port_tx_kick(p);
	if (pushed && vq_flush(q))
		vq_call(q);
	return blocked;
}

static void drain_eventfd(int fd)
{
	__u64 v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		note("kick eventfd: %s", strerror(errno));
}

static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: xvnet-vhost --vm NAME --vhost-socket PATH [-s CONTROL_SOCKET]\n"
		"         [--socket-mode OCTAL] [--user USER] [--stats FILE]\n"
		"  serves xsk VM NAME to a VMM as a vhost-user-net device on PATH\n"
		"  (the VMM connects: QEMU -chardev socket,path=PATH,reconnect=1)\n");
	exit(code);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, 0, 's' }, { "vm", required_argument, 0, 'v' },
		{ "vhost-socket", required_argument, 0, 'V' },
		{ "socket-mode", required_argument, 0, 'M' },
		{ "user", required_argument, 0, 'u' }, { "stats", required_argument, 0, 'S' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *ctl = XV_DEFAULT_SOCKET, *vm = NULL, *vpath = NULL, *user = NULL;
	const char *stats = NULL;
	int mode = -1, lfd, o;
	struct xsk_port port;
	struct vu_dev dev;
	char err[256];
	bool rx_starved = false, tx_blocked = false;
	struct timespec last = { 0 }, now;

	while ((o = getopt_long(argc, argv, "s:v:h", lo, NULL)) != -1) {
		switch (o) {
		case 's': ctl = optarg; break;
		case 'v': vm = optarg; break;
		case 'V': vpath = optarg; break;
		case 'M': {
			char *end;

			mode = (int)strtol(optarg, &end, 8);
			if (*end || mode < 0 || mode > 0777)
				die("--socket-mode: '%s' is not an octal mode", optarg);
			break;
		}
		case 'u': user = optarg; break;
		case 'S': stats = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!vm || !vpath || optind != argc)
		usage(2);
	if (xsk_port_open(&port, ctl, vm, err, sizeof(err)))
		die("vm %s: %s", vm, err);
	lfd = listen_on(vpath, mode);
	/* from here on nothing needs a privilege: the fds carry the rights */
	if (user)
		drop_privileges(user);
	vu_dev_init(&dev, 1);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	note("vm %s: %d AF_XDP sockets, UMEM %zu bytes, metadata %s; vhost-user on %s",
	     vm, port.n, port.umem_size, port.meta_inline ? "inline" : "at head", vpath);
	printf("XVNET-VHOST-READY\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd pf[4 + XSK_PORT_MAX_SOCKS];
		int n = 0, conn_i = -1, kick_i[2] = { -1, -1 }, r;
		int timeout = tx_blocked ? 1 : 100;

		pf[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		if (dev.fd >= 0) {
			conn_i = n;
			pf[n++] = (struct pollfd){ .fd = dev.fd, .events = POLLIN };
		}
		for (int v = 0; v < 2; v++)
			if (dev.vq[v].kick_fd >= 0) {
				kick_i[v] = n;
				pf[n++] = (struct pollfd){ .fd = dev.vq[v].kick_fd, .events = POLLIN };
			}
		/* frames waiting for guest buffers: the RX kick, not the sockets */
		for (int i = 0; !rx_starved && i < port.n; i++)
			pf[n++] = (struct pollfd){ .fd = port.s[i].fd, .events = POLLIN };
		r = poll(pf, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r > 0 && (pf[0].revents & POLLIN)) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0 && dev.fd >= 0) {
				note("a second front-end connected: refused (one VMM per VM)");
				close(c);
			} else if (c >= 0) {
				vu_dev_attach(&dev, c);
				cnt.connections++;
				note("front-end connected");
			}
		}
		if (conn_i >= 0 && pf[conn_i].revents) {
			if (vu_dev_handle(&dev)) {
				note("front-end gone: %s", dev.why);
				vu_dev_reset(&dev);
				rx_starved = tx_blocked = false;
				continue;
			}
		}
		for (int v = 0; v < 2; v++)
			if (kick_i[v] >= 0 && (pf[kick_i[v]].revents & POLLIN)) {
				drain_eventfd(dev.vq[v].kick_fd);
				dev.vq[v].kicks++;
			}
		rx_starved = rx_round(&dev, &port);
		tx_blocked = tx_round(&dev, &port);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (stats && (now.tv_sec - last.tv_sec) * 1000 +
			     (now.tv_nsec - last.tv_nsec) / 1000000 >= 100) {
			write_stats(stats, &dev);
			last = now;
		}
	}
	if (stats)
		write_stats(stats, &dev);
	printf("rx %llu rx_no_guest %llu rx_dropped %llu tx %llu tx_dropped %llu"
	       " connections %llu\n", cnt.rx, cnt.rx_no_guest, cnt.rx_dropped, cnt.tx,
	       cnt.tx_dropped, cnt.connections);
	vu_dev_reset(&dev);
	close(lfd);
	unlink(vpath);
	xsk_port_close(&port);
	return 0;
}
