// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-vhostsink: a vhost-user-net front-end that plays a guest which only
 * receives, to measure a back-end (xvnet-vhost) without a slow TCG guest.
 * It connects to the back-end's socket (or, with --listen, waits for a
 * back-end that connects, as OVS's dpdkvhostuserclient ports and QEMU's
 * `server` chardev do), negotiates like QEMU
 * (tools/vhostfe/frontend.c: guest memory in a memfd, one queue pair),
 * keeps the RX queue full of 2 KiB buffers, and counts the frames the
 * back-end writes into them, recycling each buffer at once.  It kicks only
 * when the device asked (EVENT_IDX), and reads the used ring only as a
 * virtio-net driver's NAPI does: woken by the call eventfd (the guest's
 * interrupt), it takes what is there until the ring is empty, asks for the
 * next interrupt (used_event), looks once more (the device may have
 * published before it saw the request), then sleeps until the interrupt.
 * Frames the device published without notifying wait for the notification,
 * so what the sink sees follows the back-end's coalescing.
 *
 *   --listen       listen on --vhost-socket, serve the first back-end
 *   --stats FILE   "FRAMES bytes B interrupts I", rewritten every 100 ms
 *   --duration S   stop after S seconds (default: SIGINT/SIGTERM)
 *   --count N      stop after N frames
 *   --latency      for frames with a send stamp (lib/stamp.h), the delay
 *                  from the stamp to when the sink took the frame off the
 *                  used ring; printed at the end as xvnet-xskdump does
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/stamp.h"
#include "lib/statsfile.h"
#include "tools/vhostfe/frontend.h"

#define BUF_SIZE 2048

static volatile sig_atomic_t stop;
static unsigned long long frames, bytes, interrupts;
static bool want_latency;
static struct xv_lat lat;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* the sender's stamps are CLOCK_MONOTONIC too (selftests/lib/stamp_send.py) */
static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The back-end may still be starting: retry for up to 10 s. */
static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double t0 = now_s();

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xvnet-vhostsink: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		if (now_s() - t0 > 10) {
			fprintf(stderr, "xvnet-vhostsink: cannot connect to %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		usleep(50000);
	}
}

/* --listen: bind (a stale socket file replaced), say so, take one
 * back-end; none within `wait_s` seconds is an error. */
static int listen_on(const char *path, double wait_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pf = { .events = POLLIN };
	int ls, fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xvnet-vhostsink: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return -1;
	unlink(path);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1)) {
		fprintf(stderr, "xvnet-vhostsink: cannot listen on %s: %s\n", path,
			strerror(errno));
		close(ls);
		return -1;
	}
	printf("XVNET-VHOSTSINK-LISTENING %s\n", path);
	fflush(stdout);
	pf.fd = ls;
	if (poll(&pf, 1, (int)(wait_s * 1000)) <= 0) {
		fprintf(stderr, "xvnet-vhostsink: no back-end connected to %s in %.0f s\n",
			path, wait_s);
		close(ls);
		return -1;
	}
	fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "xvnet-vhostsink: accept: %s\n", strerror(errno));
	close(ls);
	unlink(path);
	return fd;
}

static void write_stats(const char *path)
{
	xv_stats_write(path, "%llu bytes %llu interrupts %llu\n", frames, bytes, interrupts);
}

/* Take every used buffer, give it back, kick if asked; frames taken. */
static unsigned drain(struct fe *f)
{
	uint16_t old = f->vq[0].avail_idx, id;
	unsigned n = 0;
	uint32_t len;

	unsigned char *buf;

	while ((buf = fe_rx_used(f, &len, &id))) {
		uint64_t st;

		frames++;
		bytes += len > 12 ? len - 12 : 0;
		/* the frame after the 12-byte virtio-net header (VERSION_1) */
		if (want_latency && len > 12 && len <= BUF_SIZE &&
		    (st = xv_stamp_of(buf + 12, len - 12)) && xv_lat_add(&lat, now_ns() - st))
			fprintf(stderr, "xvnet-vhostsink: out of memory, latency sample lost\n");
		fe_rx_recycle(f, id);
		n++;
	}
	if (n)
		fe_kick(f, 0, old);
	return n;
}

static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: xvnet-vhostsink --vhost-socket PATH [--listen] [--stats FILE] [--duration SEC]\n"
		"         [--count N] [--latency]\n"
		"  a receive-only vhost-user-net front-end: counts what the back-end delivers\n"
		"  --listen: wait (60 s at most) for the back-end to connect to PATH\n");
	exit(code);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "vhost-socket", required_argument, 0, 'V' },
		{ "stats", required_argument, 0, 'S' },
		{ "duration", required_argument, 0, 'd' },
		{ "listen", no_argument, 0, 'l' },
		{ "count", required_argument, 0, 'c' },
		{ "latency", no_argument, 0, 'L' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *path = NULL, *stats = NULL;
	double duration = 0, t0, last = 0;
	static struct fe f;
	unsigned long long count = 0;
	int fd, o, listening = 0;
	bool awake = true;

	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'V': path = optarg; break;
		case 'S': stats = optarg; break;
		case 'd': duration = atof(optarg); break;
		case 'l': listening = 1; break;
		case 'c': count = strtoull(optarg, NULL, 10); break;
		case 'L': want_latency = true; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!path || optind != argc)
		usage(2);
	fd = listening ? listen_on(path, 60) : connect_to(path);
	if (fd < 0)
		return 1;
	if (fe_init(&f, fd, NULL, NULL) || fe_start(&f, 0)) {
		fprintf(stderr, "xvnet-vhostsink: the back-end refused the device set-up\n");
		return 1;
	}
	fe_rx_post(&f, FE_QSIZE, BUF_SIZE);
	fe_kick(&f, 0, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("XVNET-VHOSTSINK-READY features %#llx\n", (unsigned long long)f.features);
	fflush(stdout);
	t0 = now_s();
	if (stats)
		write_stats(stats);
	while (!stop) {
		struct pollfd pf = { .fd = f.vq[0].call, .events = POLLIN };
		double t;

		if (awake) {
			if (!drain(&f)) {
				/* interrupt me at the next used entry, then look once more */
				fe_set_used_event(&f, 0, f.vq[0].used_seen);
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
				awake = drain(&f) != 0;
			}
		} else if (poll(&pf, 1, 100) > 0 && fe_called(&f, 0)) {
			/* a timeout only lets the stats and --duration go on: a
			 * driver reads nothing until its interrupt */
			interrupts++;
			awake = true;
		}
		t = now_s();
		if (stats && t - last >= 0.1) {
			write_stats(stats);
			last = t;
		}
		if (duration > 0 && t - t0 >= duration)
			break;
		if (count && frames >= count)
			break;
	}
	if (stats)
		write_stats(stats);
	printf("frames %llu bytes %llu interrupts %llu\n", frames, bytes, interrupts);
	if (want_latency)
		xv_lat_print(&lat, stdout);
	xv_lat_free(&lat);
	fe_close(&f);
	return 0;
}
