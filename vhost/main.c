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
#include <poll.h>
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
#include <sys/mman.h>
#include <sys/prctl.h>

#include "lib/cpus.h"
#include "lib/privdrop.h"
#include "lib/proto.h"
#include "lib/statsfile.h"
#include "lib/vhost_stats.h"
#include "vhost/backend.h"

static volatile sig_atomic_t stop, release;
static unsigned long long connections;
/* the signals below are blocked but while the main thread polls: one
 * ends its wait at once, and none lands on a worker */
static sigset_t poll_mask;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		release = 1;
	else
		stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &poll_mask);
	sigdelset(&poll_mask, SIGINT);
	sigdelset(&poll_mask, SIGTERM);
	sigdelset(&poll_mask, SIGUSR1);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void vnote(const char *fmt, va_list ap)
{
	fputs("xvnet-vhost: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
	exit(1);
}

/* uid, gid: the socket file's owner and group (-1: left as made). */
static int listen_on(const char *path, int mode, long uid, long gid)
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
	/* mode first: once given away, changing it would take CAP_FOWNER */
	if (mode >= 0 && chmod(path, (mode_t)mode))
		die("chmod %s: %s", path, strerror(errno));
	if ((uid >= 0 || gid >= 0) && chown(path, (uid_t)uid, (gid_t)gid))
		die("chown %s to %ld:%ld: %s", path, uid, gid, strerror(errno));
	return fd;
}


static void write_stats(const char *path, const struct backend *b)
{
	struct backend_counters sum, *c = &sum;
	unsigned long long calls = 0;
	char rxq[24 * VU_MAX_QUEUE_PAIRS] = "";
	int n = 0;

	backend_counters_sum(b, c);
	for (unsigned i = 0; i < 2 * b->dev.queue_pairs; i++)
		calls += b->dev.vq[i].calls;
	for (unsigned p = 0; p < b->dev.queue_pairs && n < (int)sizeof(rxq); p++)
		n += snprintf(rxq + n, sizeof(rxq) - (size_t)n, " rxq%u %llu", p, c->rxq[p]);
	xv_stats_write(path, "rx %llu rx_bytes %llu rx_no_guest %llu rx_dropped %llu tx %llu"
		       " tx_bytes %llu tx_dropped %llu connections %llu calls %llu"
		       " notifications %llu connected %d tx_gso %llu%s\n", c->rx, c->rx_bytes,
		       c->rx_no_guest, c->rx_dropped, c->tx, c->tx_bytes, c->tx_dropped,
		       connections, calls, c->notifications, b->dev.fd >= 0, c->tx_gso, rxq);
}

/* --stats-fd: the page xvnetd reads (lib/vhost_stats.h) */
static struct xv_vhost_stats *shm;

static void write_shm(const struct backend *b)
{
	struct backend_counters sum, *c = &sum;
	unsigned long long calls = 0;

	if (!shm)
		return;
	backend_counters_sum(b, c);
	for (unsigned i = 0; i < 2 * b->dev.queue_pairs; i++)
		calls += b->dev.vq[i].calls;
#define SET(f, v) __atomic_store_n(&shm->f, (uint64_t)(v), __ATOMIC_RELAXED)
	SET(rx, c->rx); SET(rx_bytes, c->rx_bytes); SET(rx_no_guest, c->rx_no_guest);
	SET(rx_dropped, c->rx_dropped); SET(tx, c->tx); SET(tx_bytes, c->tx_bytes);
	SET(tx_dropped, c->tx_dropped); SET(connections, connections);
	SET(calls, calls); SET(notifications, c->notifications);
	SET(connected, b->dev.fd >= 0);
	SET(tx_gso, c->tx_gso);
	for (unsigned p = 0; p < b->dev.queue_pairs && p < XV_VHOST_STATS_QUEUES; p++)
		SET(rxq[p], c->rxq[p]);
#undef SET
	__atomic_store_n(&shm->queue_pairs, b->dev.queue_pairs, __ATOMIC_RELAXED);
	__atomic_store_n(&shm->magic, XV_VHOST_STATS_MAGIC, __ATOMIC_RELEASE);
}

static void map_shm(long fd)
{
	void *p = mmap(NULL, XV_VHOST_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       (int)fd, 0);

	if (p == MAP_FAILED)
		die("--stats-fd %ld: %s", fd, strerror(errno));
	close((int)fd);
	shm = p;
	shm->pid = (uint64_t)getpid();
}

static __u64 now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000ull + (__u64)t.tv_nsec;
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
		"         [--queue-pairs N] [--socket-mode OCTAL] [--socket-owner UID]\n"
		"         [--socket-group GID] [--user USER] [--stats FILE] [--parent-pid PID]\n"
		"         [--stats-fd FD] [--queue-cpus LIST]\n"
		"  serves xsk VM NAME to a VMM as a vhost-user-net device on PATH\n"
		"  (the VMM connects: QEMU -chardev socket,path=PATH,reconnect=1);\n"
		"  with queue-cpus (the VM's, or LIST: CPU,CPU...) a thread per queue\n"
		"  pair, pair p on CPU LIST[p mod n]\n");
	exit(code);
}

/* A second front-end while one is served is refused: one VMM per VM. */
static void accept_front_end(int lfd, struct backend *b, __u64 now)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		return;
	if (b->dev.fd >= 0) {
		note("a second front-end connected: refused (one VMM per VM)");
		close(c);
		return;
	}
	backend_pause(b);
	vu_dev_attach(&b->dev, c);
	backend_guest_gone(b, now);
	backend_resume(b);
	connections++;
	note("front-end connected");
}

/* One vhost-user message; false when the front-end went. */
static bool front_end_message(struct backend *b, __u64 now)
{
	bool gone;

	backend_pause(b);
	gone = vu_dev_handle(&b->dev) != 0;
	if (gone) {
		note("front-end gone: %s", b->dev.why);
		vu_dev_reset(&b->dev);
		backend_guest_gone(b, now);
	}
	backend_resume(b);
	if (b->dev.rarp_pending) {
		const unsigned char *m = b->dev.rarp_mac;

		backend_announce(b);
		note("announced %02x:%02x:%02x:%02x:%02x:%02x (RARP, the VMM asked)",
		     m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	return !gone;
}

static void publish_stats(struct backend *b, const char *stats)
{
	/* the workers' counters are read with the workers paused */
	backend_pause(b);
	if (stats)
		write_stats(stats, b);
	write_shm(b);
	backend_resume(b);
}

static void serve(int lfd, struct backend *b, const char *stats)
{
	__u64 last_stats = 0, deadline = 0;

	while (!stop && !release) {
		struct pollfd pf[3 + VU_MAX_VQS + XSK_PORT_MAX_SOCKS];
		int n = 0, conn_i = -1, wake_i = -1, kick_i[VU_MAX_VQS], r;
		__u64 now = now_ns();
		struct timespec ts = backend_wait(!b->threaded && b->lane[0].tx_blocked,
						  deadline, now);
		bool wait_rx;
		pf[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		if (b->dev.fd >= 0) {
			conn_i = n;
			pf[n++] = (struct pollfd){ .fd = b->dev.fd, .events = POLLIN };
		}
		/* with workers, they wait for the guest's kicks themselves */
		for (int v = 0; v < VU_MAX_VQS; v++) {
			kick_i[v] = -1;
			if (!b->threaded && b->dev.vq[v].kick_fd >= 0) {
				kick_i[v] = n;
				pf[n++] = (struct pollfd){ .fd = b->dev.vq[v].kick_fd,
							   .events = POLLIN };
			}
		}
		if (b->threaded) {
			wake_i = n;
			pf[n++] = (struct pollfd){ .fd = b->wake_fd, .events = POLLIN };
		}
		/* frames waiting for guest buffers (one thread) or for a worker's
		 * ring: its wake-up, not the sockets */
		wait_rx = b->threaded ? b->rx_blocked : b->lane[0].rx_starved || b->lane[0].rx_held;
		for (int i = 0; !wait_rx && i < b->port.n; i++)
			pf[n++] = (struct pollfd){ .fd = b->port.s[i].fd, .events = POLLIN };
		if (b->threaded) {
			__atomic_store_n(&b->sleeping, 1, __ATOMIC_SEQ_CST);
			/* frames a worker gave back before it saw us asleep */
			for (unsigned p = 0; p < b->dev.queue_pairs; p++)
				if (spsc_count(&b->lane[p].done))
					ts = (struct timespec){ 0 };
		}
		r = ppoll(pf, (nfds_t)n, &ts, &poll_mask);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		__atomic_store_n(&b->sleeping, 0, __ATOMIC_RELAXED);
		if (r < 0)
			continue;       /* a signal: the loop's test says which */
		now = now_ns();
		if (r > 0 && b->port.coal)
			b->port.coal->wakeups++;
		if (wake_i >= 0 && (pf[wake_i].revents & POLLIN))
			drain_eventfd(b->wake_fd);
		if (r > 0 && (pf[0].revents & POLLIN))
			accept_front_end(lfd, b, now);
		if (conn_i >= 0 && pf[conn_i].revents && !front_end_message(b, now))
			continue;
		for (int v = 0; v < VU_MAX_VQS; v++)
			if (kick_i[v] >= 0 && (pf[kick_i[v]].revents & POLLIN)) {
				drain_eventfd(b->dev.vq[v].kick_fd);
				b->dev.vq[v].kicks++;
			}
		if (b->threaded)
			backend_dispatch(b);
		else
			deadline = backend_round(b, now);
		if ((stats || shm) && now - last_stats >= 100000000ull) {
			publish_stats(b, stats);
			last_stats = now;
		}
	}
}

/*
 * SIGUSR1 from xvnetd: the VM's port moved away (vm move --switch, at a
 * live migration's switchover).  The sockets go back now: xvnetd sends on
 * the frames left on their rings, and a new port may bind the NIC queues.
 * The VMM's connection stays open until the VMM closes it: QEMU sets a
 * vhost-user NIC's link down when its back-end goes, and a migration's
 * source that is still saving its devices (it is paused, not done, when
 * the switch comes) carries that link state to the destination, whose
 * guest is then cut off (seen: no echo after the migration).  Called once
 * the sockets are closed: xvnetd waits for `released`.
 */
static void hand_back(const struct backend *b)
{
	if (shm) {
		__atomic_store_n(&shm->released, 1, __ATOMIC_RELEASE);
		munmap(shm, XV_VHOST_STATS_SIZE);
		shm = NULL;
	}
	note("the VM's sockets handed back (its port moved)%s",
	     b->dev.fd >= 0 ? "; the VMM's connection stays until it closes it" : "");
}

static bool rings_running(const struct vu_dev *d)
{
	for (unsigned i = 0; i < 2 * d->queue_pairs; i++)
		if (d->vq[i].started)
			return true;
	return false;
}

/* The released back-end keeps answering a VMM that stopped its device (a
 * migration's source: its cleanup messages) until the VMM closes the
 * connection, restarts its device (a failed migration resumes the source:
 * no port serves it any more, its link must go down), or LINGER_NS pass.
 * A device still running when the port moved (a switch before the source
 * paused) is not cut at once either: it may be a migration's source, whose
 * link state goes to the destination. */
#define LINGER_NS (XV_VHOST_LINGER_S * 1000000000ull)

static void linger(struct backend *b)
{
	__u64 until = now_ns() + LINGER_NS;
	bool ran = b->dev.fd >= 0 && rings_running(&b->dev);

	if (ran)
		note("the VMM's device still runs, served by no port");
	while (!stop && b->dev.fd >= 0) {
		struct pollfd pf = { .fd = b->dev.fd, .events = POLLIN };
		__u64 now = now_ns(), left = until > now ? until - now : 0;
		struct timespec ts = { .tv_sec = (time_t)(left / 1000000000ull),
				       .tv_nsec = (long)(left % 1000000000ull) };
		int r;

		if (!left) {
			note("the VMM kept its connection %llu s after the port moved: closed",
			     LINGER_NS / 1000000000ull);
			break;
		}
		r = ppoll(&pf, 1, &ts, &poll_mask);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if (vu_dev_handle(&b->dev)) {
			note("front-end gone: %s", b->dev.why);
			break;
		}
		if (rings_running(&b->dev) && !ran) {
			note("the VMM restarted its device after the VM's port moved:"
			     " connection closed");
			break;
		}
		ran = rings_running(&b->dev);
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, 0, 's' }, { "vm", required_argument, 0, 'v' },
		{ "vhost-socket", required_argument, 0, 'V' },
		{ "socket-mode", required_argument, 0, 'M' },
		{ "queue-pairs", required_argument, 0, 'q' },
		{ "user", required_argument, 0, 'u' }, { "stats", required_argument, 0, 'S' },
		{ "socket-owner", required_argument, 0, 'O' },
		{ "socket-group", required_argument, 0, 'G' },
		{ "parent-pid", required_argument, 0, 'P' },
		{ "stats-fd", required_argument, 0, 'F' },
		{ "queue-cpus", required_argument, 0, 'C' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *ctl = XV_DEFAULT_SOCKET, *vm = NULL, *vpath = NULL, *user = NULL;
	const char *stats = NULL;
	int mode = -1, lfd, o;
	long pairs = 0, uid = -1, gid = -1, parent = 0, stats_fd = -1;
	static struct backend b;
	struct backend_counters sum;
	unsigned char cpus[XVNET_MAX_QUEUES];
	int ncpus = -1;
	char err[256], *end;

	while ((o = getopt_long(argc, argv, "s:v:h", lo, NULL)) != -1) {
		switch (o) {
		case 's': ctl = optarg; break;
		case 'v': vm = optarg; break;
		case 'V': vpath = optarg; break;
		case 'M':
			mode = (int)strtol(optarg, &end, 8);
			if (*end || mode < 0 || mode > 0777)
				die("--socket-mode: '%s' is not an octal mode", optarg);
			break;
		case 'q':
			pairs = strtol(optarg, &end, 10);
			if (*end || pairs < 1 || pairs > VU_MAX_QUEUE_PAIRS)
				die("--queue-pairs: '%s' is not 1-%d", optarg, VU_MAX_QUEUE_PAIRS);
			break;
		case 'u': user = optarg; break;
		case 'O':
		case 'G':
		case 'P':
		case 'F':
			errno = 0;
			{
				long v = strtol(optarg, &end, 10);

				if (errno || *end || v < 0 || v > 0x7ffffffe)
					die("--%s: '%s' is not a number", o == 'O' ?
					    "socket-owner" : o == 'G' ? "socket-group" :
					    o == 'P' ? "parent-pid" : "stats-fd", optarg);
				*(o == 'O' ? &uid : o == 'G' ? &gid : o == 'P' ? &parent :
				  &stats_fd) = v;
			}
			break;
		case 'S': stats = optarg; break;
		case 'C': {
			size_t n;

			/* the same list as the VM's queue-cpus */
			if (xv_parse_cpu_list("--queue-cpus", optarg, cpus, XVNET_MAX_QUEUES, &n,
					      err, sizeof(err)))
				die("%s", err);
			ncpus = (int)n;
			break;
		}
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!vm || !vpath || optind != argc)
		usage(2);
	if (stats_fd >= 0)
		map_shm(stats_fd);
	if (xsk_port_open(&b.port, ctl, vm, err, sizeof(err)))
		die("vm %s: %s", vm, err);
	/* by default one virtqueue pair per virtual queue of the VM */
	if (!pairs)
		pairs = b.port.queues < 1 ? 1 : b.port.queues > VU_MAX_QUEUE_PAIRS ?
			VU_MAX_QUEUE_PAIRS : b.port.queues;
	lfd = listen_on(vpath, mode, uid, gid);
	/* from here on nothing needs a privilege: the fds carry the rights */
	if (user && xv_drop_privileges(user, err, sizeof(err)))
		die("--user: %s", err);
	/* a process of the same user (the VMM's) may not ptrace it: it holds
	 * the VM's sockets, not the VMM's to take */
	if (user)
		prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
	/* run by xvnetd: it goes when xvnetd goes (set after the drop, which
	 * clears it; xvnetd may already be gone) */
	if (parent && (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != (pid_t)parent))
		die("xvnetd (pid %ld) is gone", parent);
	backend_init(&b, (unsigned)pairs, now_ns());
	/* the VM's queue-cpus (xsk.get) unless given here */
	if (ncpus < 0) {
		ncpus = (int)b.port.n_queue_cpus;
		memcpy(cpus, b.port.queue_cpus, sizeof(cpus));
	}
	/* before the workers: they inherit the blocked signals */
	catch_signals();
	if (ncpus > 0 && backend_start_workers(&b, cpus, (unsigned)ncpus, err, sizeof(err)))
		die("queue-cpus: %s", err);
	if (b.port.coal)
		b.port.coal->consumer_pid = (__u32)getpid();
	/* the delay bounds are microseconds: no 50 us default timer slack */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	note("vm %s: %d AF_XDP sockets, UMEM %zu bytes, metadata %s, %ld queue pairs;"
	     " vhost-user on %s", vm, b.port.n, b.port.umem_size,
	     b.port.meta_inline ? "inline" : "at head", pairs, vpath);
	for (unsigned p = 0; b.threaded && p < (unsigned)pairs; p++)
		note("queue pair %u: thread xvnet-vq%u on CPU %d", p, p, b.lane[p].cpu);
	printf("XVNET-VHOST-READY\n");
	fflush(stdout);
	write_shm(&b);
	serve(lfd, &b, stats);
	if (stats)
		write_stats(stats, &b);
	backend_stop_workers(&b);
	write_shm(&b);
	backend_counters_sum(&b, &sum);
	printf("rx %llu rx_no_guest %llu rx_dropped %llu tx %llu tx_dropped %llu"
	       " connections %llu notifications %llu\n", sum.rx, sum.rx_no_guest,
	       sum.rx_dropped, sum.tx, sum.tx_dropped, connections, sum.notifications);
	close(lfd);
	unlink(vpath);
	xsk_port_close(&b.port);
	if (release && !stop) {
		hand_back(&b);
		linger(&b);
	}
	vu_dev_reset(&b.dev);
	return 0;
}
