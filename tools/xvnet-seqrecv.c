// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-seqrecv: the receiving end of xvnet-seqgen's numbered stream, on
 * every port a moving VM may be on at once: a tap read as a VMM reads it
 * (--tap, read() on the queue fd), and a veth's VM end read with an
 * AF_PACKET socket in the VM's namespace (--netns NS --packet IF), and the
 * VM's interface behind the host's bridge, which the fallback (no port of
 * xvnet's: the host stack) reaches (--fallback IF, same namespace).  One
 * thread polls them all, so what it records per flow is, for each port, the
 * runs of consecutive sequence numbers it got there.  At the end (all
 * frames in, or --idle seconds without any) it checks per flow:
 *   - gaps: numbers never received; dups: received twice (a bitmap);
 *   - reordered: a number lower than one already received on that port;
 *   - interleaved: two runs (on different ports) whose ranges overlap,
 *     i.e. the flow went back to a port for numbers the other already had:
 *     each switch must cut a flow at one point;
 * and prints one JSON object, with the socket's own drops
 * (PACKET_STATISTICS) kept apart from what never reached it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>

#include "tools/seq_proto.h"

enum { P_TAP, P_PKT, P_HOST, N_PORTS };
static const char *const port_names[N_PORTS] = { "tap", "veth", "fallback" };

struct run { uint64_t start, end; int port; };

struct flow {
	uint8_t *seen;                  /* bitmap of count bits */
	uint64_t got, dups, reordered;
	uint64_t last[N_PORTS];         /* highest seq + 1 on each port, 0 none */
	struct run *runs;
	size_t n_runs, cap_runs;
	long cur[N_PORTS];              /* the open run on each port, -1 none */
};

static struct flow flows[SEQ_MAX_FLOWS];
static uint32_t n_flows = 4;
static uint64_t per_flow = 1000, port_frames[N_PORTS], foreign;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void note(int port, const uint8_t *p, size_t len)
{
	const struct seq_payload *pl = (const void *)(p + 42);
	struct flow *f;
	uint64_t s;

	if (len < 42 + sizeof(*pl) || p[12] != 0x08 || p[13] != 0 ||
	    pl->magic != htonl(SEQ_MAGIC) || pl->flow >= n_flows ||
	    pl->seq >= per_flow) {
		if (!foreign++ && getenv("SEQRECV_DEBUG")) {
			fprintf(stderr, "foreign frame (%zu bytes):", len);
			for (size_t k = 0; k < len && k < 64; k++)
				fprintf(stderr, " %02x", p[k]);
			fprintf(stderr, "\n");
		}
		return;
	}
	f = &flows[pl->flow];
	s = pl->seq;
	port_frames[port]++;
	if (f->seen[s / 8] & (1u << (s % 8))) {
		f->dups++;
		return;
	}
	f->seen[s / 8] |= (uint8_t)(1u << (s % 8));
	f->got++;
	if (f->last[port] && s < f->last[port])
		f->reordered++;
	if (f->cur[port] >= 0 && f->runs[f->cur[port]].end + 1 == s) {
		f->runs[f->cur[port]].end = s;
	} else {
		/* a new run on this port: the other port's run ends */
		if (f->n_runs == f->cap_runs) {
			f->cap_runs = f->cap_runs ? 2 * f->cap_runs : 64;
			f->runs = realloc(f->runs, f->cap_runs * sizeof(*f->runs));
			if (!f->runs) {
				perror("realloc");
				exit(1);
			}
		}
		f->runs[f->n_runs] = (struct run){ s, s, port };
		f->cur[port] = (long)f->n_runs++;
	}
	if (s + 1 > f->last[port])
		f->last[port] = s + 1;
}

static int open_tap(const char *dev)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	/* plain frames: no virtio-net header to skip */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An AF_PACKET socket on dev in namespace ns (made there, used from here). */
static int open_packet(const char *ns, const char *dev)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), nsfd = -1;
	int fd = -1, buf = 64 << 20;
	char path[256];

	if (self < 0)
		return -1;
	if (ns) {
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET))
			goto out;
	}
	sll.sll_ifindex = (int)if_nametoindex(dev);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd >= 0 && (!sll.sll_ifindex ||
			bind(fd, (struct sockaddr *)&sll, sizeof(sll)))) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
out:
	if (ns && setns(self, CLONE_NEWNET))
		perror("setns back");
	if (nsfd >= 0)
		close(nsfd);
	close(self);
	return fd;
}

static int cmp_run(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tap", required_argument, NULL, 't' },
		{ "netns", required_argument, NULL, 'N' },
		{ "packet", required_argument, NULL, 'p' },
		{ "fallback", required_argument, NULL, 'b' },
		{ "flows", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ "idle", required_argument, NULL, 'i' },
		{ "ready", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tap = NULL, *ns = NULL, *pkt = NULL, *host = NULL, *ready = NULL;
	uint64_t idle_ms = 3000, last_frame = 0, total_got = 0;
	uint64_t gaps = 0, dups = 0, reord = 0, inter = 0, runs = 0;
	struct pollfd pfd[N_PORTS] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
	static uint8_t buf[N_PORTS][64][2048];
	struct tpacket_stats pst = { 0 }, hst = { 0 };
	socklen_t pl = sizeof(pst);
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': tap = optarg; break;
		case 'N': ns = optarg; break;
		case 'p': pkt = optarg; break;
		case 'b': host = optarg; break;
		case 'f': n_flows = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': per_flow = strtoull(optarg, NULL, 0); break;
		case 'i': idle_ms = (uint64_t)(strtod(optarg, NULL) * 1000); break;
		case 'r': ready = optarg; break;
		default: goto usage;
		}
	}
	if ((!tap && !pkt && !host) || !n_flows || n_flows > SEQ_MAX_FLOWS || !per_flow)
		goto usage;
	for (uint32_t f = 0; f < n_flows; f++) {
		flows[f].seen = calloc(per_flow / 8 + 1, 1);
		flows[f].cur[P_TAP] = flows[f].cur[P_PKT] = flows[f].cur[P_HOST] = -1;
		if (!flows[f].seen) {
			perror("calloc");
			return 1;
		}
	}
	if (tap && (pfd[P_TAP].fd = open_tap(tap)) < 0) {
		fprintf(stderr, "xvnet-seqrecv: tap %s: %s\n", tap, strerror(errno));
		return 1;
	}
	if (pkt && (pfd[P_PKT].fd = open_packet(ns, pkt)) < 0) {
		fprintf(stderr, "xvnet-seqrecv: %s in %s: %s\n", pkt, ns ? ns : "-",
			strerror(errno));
		return 1;
	}
	if (host && (pfd[P_HOST].fd = open_packet(ns, host)) < 0) {
		fprintf(stderr, "xvnet-seqrecv: %s in %s: %s\n", host, ns ? ns : "-",
			strerror(errno));
		return 1;
	}
	pfd[P_TAP].events = pfd[P_PKT].events = pfd[P_HOST].events = POLLIN;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (ready) {
		FILE *rf = fopen(ready, "w");

		if (rf)
			fclose(rf);
	}
	while (!stop) {
		uint64_t t;

		if (poll(pfd, N_PORTS, 100) < 0 && errno != EINTR)
			break;
		t = now_ms();
		for (int p = 0; p < N_PORTS; p++) {
			if (pfd[p].fd < 0 || !(pfd[p].revents & POLLIN))
				continue;
			if (p == P_TAP) {
				ssize_t n;

				/* the VMM's way: one read per frame */
				while ((n = read(pfd[p].fd, buf[p][0], sizeof(buf[p][0]))) > 0) {
					note(p, buf[p][0], (size_t)n);
					last_frame = t;
				}
			} else {
				struct mmsghdr m[64];
				struct iovec iov[64];
				int n;

				do {
					memset(m, 0, sizeof(m));
					for (int k = 0; k < 64; k++) {
						iov[k] = (struct iovec){ buf[p][k], sizeof(buf[p][k]) };
						m[k].msg_hdr.msg_iov = &iov[k];
						m[k].msg_hdr.msg_iovlen = 1;
					}
					n = recvmmsg(pfd[p].fd, m, 64, MSG_DONTWAIT, NULL);
					for (int k = 0; k < n; k++)
						note(p, buf[p][k], m[k].msg_len);
					if (n > 0)
						last_frame = t;
				} while (n == 64);
			}
		}
		total_got = 0;
		for (uint32_t f = 0; f < n_flows; f++)
			total_got += flows[f].got;
		if (total_got == (uint64_t)n_flows * per_flow)
			break;
		if (last_frame && t - last_frame > idle_ms)
			break;
	}
	if (pfd[P_PKT].fd >= 0)
		getsockopt(pfd[P_PKT].fd, SOL_PACKET, PACKET_STATISTICS, &pst, &pl);
	pl = sizeof(hst);
	if (pfd[P_HOST].fd >= 0)
		getsockopt(pfd[P_HOST].fd, SOL_PACKET, PACKET_STATISTICS, &hst, &pl);

	for (uint32_t f = 0; f < n_flows; f++) {
		struct flow *fl = &flows[f];

		gaps += per_flow - fl->got;
		dups += fl->dups;
		reord += fl->reordered;
		runs += fl->n_runs;
		qsort(fl->runs, fl->n_runs, sizeof(*fl->runs), cmp_run);
		for (size_t r = 1; r < fl->n_runs; r++)
			if (fl->runs[r].start <= fl->runs[r - 1].end)
				inter++;
	}
	printf("{\"expected\": %llu, \"received\": %llu, \"gaps\": %llu, \"dups\": %llu,"
	       " \"reordered\": %llu, \"interleaved\": %llu, \"runs\": %llu,"
	       " \"foreign\": %llu, \"%s\": %llu, \"%s\": %llu, \"%s\": %llu,"
	       " \"packet_socket_drops\": %u}\n",
	       (unsigned long long)n_flows * per_flow, (unsigned long long)total_got,
	       (unsigned long long)gaps, (unsigned long long)dups,
	       (unsigned long long)reord, (unsigned long long)inter,
	       (unsigned long long)runs, (unsigned long long)foreign,
	       port_names[P_TAP], (unsigned long long)port_frames[P_TAP],
	       port_names[P_PKT], (unsigned long long)port_frames[P_PKT],
	       port_names[P_HOST], (unsigned long long)port_frames[P_HOST],
	       pst.tp_drops + hst.tp_drops);
	return gaps || dups || reord || inter ? 3 : 0;
usage:
	fprintf(stderr, "usage: xvnet-seqrecv [--tap TAP] [--netns NS] [--packet IF] [--fallback IF]"
		" [--flows F] [--count N per flow] [--idle S] [--ready FILE]\n");
	return 2;
}
