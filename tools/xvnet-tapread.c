// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-tapread: reads a (multi-queue) tap the way a VMM's backend does,
 * with read() on one fd per queue, and counts what arrives per queue.  The
 * benchmarks and selftests count delivery here, at the reader, because a
 * tap's own tx_dropped under-counts drops after an XDP redirect.
 *
 * --io uring reads the way a VMM backend with io_uring does: --batch reads
 * (default 64) stay queued on each queue's fd in one io_uring, and one
 * io_uring_enter() both hands back every frame that arrived and re-queues
 * as many reads (liburing, Debian's liburing-dev).  The stats line then
 * also carries the wakeups (io_uring_enter calls that returned frames), so
 * frames per wakeup can be reported.  --io read (the default) is one read()
 * per frame, as QEMU's tap backend without vhost does.
 *
 * The counters are rewritten every 100 ms into --stats FILE as one line
 * "total q0 q1 ...", so a script can sample them while traffic runs.
 * Queue i is the i-th queue attached (tun numbers a multi-queue tap's
 * queues in attach order, as a VMM attaches its virtqueue pairs).
 * --flows FILE also notes per flow which queue it was read from and writes
 * them to FILE at exit ("queue proto src sport dst dport packets" per line,
 * bpf/sinkflow.h), so a test can check that a flow sticks to one queue.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>

#include <liburing.h>

#include "bpf/sinkflow.h"

#define MAX_QUEUES 16
#define FLOW_SLOTS 32768        /* per queue, open addressing */

struct flow_slot {
	struct sink_flow_key k;
	unsigned long long n;
	int used;
};

struct queue {
	int fd;
	int index;
	_Atomic unsigned long long packets;
	_Atomic unsigned long long bytes;
	_Atomic unsigned long long wakeups;   /* --io uring: enters that returned frames */
	pthread_t thread;
	struct flow_slot *flows;   /* --flows: written by this queue's reader only */
	unsigned long long flows_lost;
};

static struct queue queues[MAX_QUEUES];
static int n_queues = 1;
static int cpu = -1;
static const char *first_file;     /* --first-packet FILE */
static const char *flows_file;     /* --flows FILE */
static int vnet_hdr_len;
static int use_uring;
static unsigned int batch = 64;
static atomic_flag first_seen = ATOMIC_FLAG_INIT;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_queue(const char *dev, int multi)
{
	struct ifreq ifr = {};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
	/* IFF_VNET_HDR as a VMM sets it: every read carries a virtio-net header */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The frame's flow, as bpf/bench_drop.bpf.c's queue_flows keys it. */
static void flow_key(const unsigned char *p, size_t len, struct sink_flow_key *k)
{
	size_t off = ETH_HLEN, l4 = 0;
	unsigned short proto;
	int i;

	if (len < ETH_HLEN)
		return;
	memcpy(&proto, p + 12, 2);
	for (i = 0; i < 2 && (proto == htons(ETH_P_8021Q) || proto == htons(ETH_P_8021AD)); i++) {
		if (off + 4 > len)
			return;
		memcpy(&proto, p + off + 2, 2);
		off += 4;
	}
	if (proto == htons(ETH_P_IP) && off + sizeof(struct iphdr) <= len) {
		const struct iphdr *ip = (const void *)(p + off);

		k->proto = ip->protocol;
		k->src[10] = k->src[11] = k->dst[10] = k->dst[11] = 0xff;
		memcpy(k->src + 12, &ip->saddr, 4);
		memcpy(k->dst + 12, &ip->daddr, 4);
		l4 = off + ip->ihl * 4u;
	} else if (proto == htons(ETH_P_IPV6) && off + sizeof(struct ip6_hdr) <= len) {
		const struct ip6_hdr *ip6 = (const void *)(p + off);

		k->proto = ip6->ip6_nxt;
		memcpy(k->src, &ip6->ip6_src, 16);
		memcpy(k->dst, &ip6->ip6_dst, 16);
		l4 = off + sizeof(*ip6);
	}
	if (l4 && (k->proto == IPPROTO_UDP || k->proto == IPPROTO_TCP) && l4 + 4 <= len) {
		memcpy(&k->sport, p + l4, 2);
		memcpy(&k->dport, p + l4 + 2, 2);
	}
}

static void flow_note(struct queue *q, const unsigned char *frame, size_t len)
{
	struct sink_flow_key k = { .queue = (__u32)q->index };
	unsigned int h = 2166136261u, i;

	flow_key(frame, len, &k);
	for (i = 0; i < sizeof(k); i++)
		h = (h ^ ((const unsigned char *)&k)[i]) * 16777619u;
	for (i = 0; i < FLOW_SLOTS; i++) {
		struct flow_slot *s = &q->flows[(h + i) % FLOW_SLOTS];

		if (!s->used) {
			s->k = k;
			s->used = 1;
		}
		if (!memcmp(&s->k, &k, sizeof(k))) {
			s->n++;
			return;
		}
	}
	q->flows_lost++;
}

static void write_flows(const char *path)
{
	unsigned long long lost = 0;
	FILE *f = fopen(path, "w");
	int i, j;

	if (!f) {
		fprintf(stderr, "xvnet-tapread: %s: %s\n", path, strerror(errno));
		return;
	}
	for (i = 0; i < n_queues; i++) {
		for (j = 0; j < FLOW_SLOTS; j++)
			if (queues[i].flows[j].used)
				sink_flow_print(f, &queues[i].flows[j].k, queues[i].flows[j].n);
		lost += queues[i].flows_lost;
	}
	fclose(f);
	if (lost)
		fprintf(stderr, "xvnet-tapread: %llu frames of flows past %d per queue not noted\n",
			lost, FLOW_SLOTS);
}

static void got_frame(struct queue *q, const char *buf, ssize_t n)
{
	if (first_file && !atomic_flag_test_and_set(&first_seen)) {
		struct timespec ts;
		FILE *f = fopen(first_file, "w");

		clock_gettime(CLOCK_REALTIME, &ts);
		if (f) {
			fprintf(f, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
			fclose(f);
		}
	}
	if (q->flows && n > vnet_hdr_len)
		flow_note(q, (unsigned char *)buf + vnet_hdr_len, (size_t)(n - vnet_hdr_len));
	atomic_fetch_add_explicit(&q->packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&q->bytes, n, memory_order_relaxed);
}

#define URING_BUF 65536

/* --io uring: batch reads in flight; one enter reaps and re-arms them all. */
static void *uring_reader(struct queue *q)
{
	struct io_uring ring;
	struct __kernel_timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
	char *bufs = malloc((size_t)batch * URING_BUF);
	unsigned int i;
	int e;

	if (!bufs || (e = io_uring_queue_init(batch * 2, &ring, 0)) < 0) {
		fprintf(stderr, "xvnet-tapread: io_uring: %s\n", bufs ? strerror(-e) : "out of memory");
		exit(1);
	}
	for (i = 0; i < batch; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read(sqe, q->fd, bufs + (size_t)i * URING_BUF, URING_BUF, 0);
		io_uring_sqe_set_data64(sqe, i);
	}
	while (!stop) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0, frames = 0;

		e = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
		if (e < 0 && e != -ETIME && e != -EINTR) {
			fprintf(stderr, "xvnet-tapread: io_uring_enter: %s\n", strerror(-e));
			break;
		}
		io_uring_for_each_cqe(&ring, head, cqe) {
			__u64 slot = io_uring_cqe_get_data64(cqe);
			struct io_uring_sqe *sqe;

			seen++;
			if (cqe->res > 0) {
				got_frame(q, bufs + slot * URING_BUF, cqe->res);
				frames++;
			} else if (cqe->res != -EAGAIN && cqe->res != -EINTR) {
				fprintf(stderr, "xvnet-tapread: read: %s\n", strerror(-cqe->res));
				stop = 1;
			}
			sqe = io_uring_get_sqe(&ring);
			if (sqe) {
				io_uring_prep_read(sqe, q->fd, bufs + slot * URING_BUF, URING_BUF, 0);
				io_uring_sqe_set_data64(sqe, slot);
			}
		}
		io_uring_cq_advance(&ring, seen);
		if (frames)
			atomic_fetch_add_explicit(&q->wakeups, 1, memory_order_relaxed);
	}
	io_uring_queue_exit(&ring);
	free(bufs);
	return NULL;
}

static void *reader(void *arg)
{
	struct queue *q = arg;
	char buf[65536];

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (use_uring)
		return uring_reader(q);
	while (!stop) {
		ssize_t n = read(q->fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		got_frame(q, buf, n);
	}
	return NULL;
}

static void write_stats(const char *path, FILE *out)
{
	char line[1024];
	unsigned long long total = 0;
	int len, i;

	for (i = 0; i < n_queues; i++)
		total += atomic_load(&queues[i].packets);
	len = snprintf(line, sizeof(line), "%llu", total);
	for (i = 0; i < n_queues && len < (int)sizeof(line) - 24; i++)
		len += snprintf(line + len, sizeof(line) - len, " %llu",
				atomic_load(&queues[i].packets));
	if (use_uring) {   /* "total q0 q1 ... w=WAKEUPS" */
		unsigned long long w = 0;

		for (i = 0; i < n_queues; i++)
			w += atomic_load(&queues[i].wakeups);
		len += snprintf(line + len, sizeof(line) - len, " w=%llu", w);
	}
	line[len++] = '\n';
	if (path) {
		char tmp[4096];
		int fd;

		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			if (write(fd, line, len) == len)
				rename(tmp, path);
			close(fd);
		}
	}
	if (out)
		fwrite(line, 1, len, out);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, 0, 'd' }, { "queues", required_argument, 0, 'q' },
		{ "cpu", required_argument, 0, 'c' }, { "stats", required_argument, 0, 's' },
		{ "duration", required_argument, 0, 't' }, { "first-packet", required_argument, 0, 'F' },
		{ "flows", required_argument, 0, 'f' }, { "io", required_argument, 0, 'i' },
		{ "batch", required_argument, 0, 'b' },
		{ "help", no_argument, 0, 'h' }, { 0 }
	};
	const char *dev = NULL, *stats = NULL;
	double duration = 0;
	struct timespec start, now;
	int c, i;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'q': n_queues = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 's': stats = optarg; break;
		case 't': duration = atof(optarg); break;
		case 'F': first_file = optarg; break;
		case 'f': flows_file = optarg; break;
		case 'i':
			if (strcmp(optarg, "read") && strcmp(optarg, "uring"))
				goto usage;
			use_uring = !strcmp(optarg, "uring");
			break;
		case 'b': batch = strtoul(optarg, NULL, 0); if (batch < 1 || batch > 1024) goto usage; break;
		case 'h':
		default:
usage:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: xvnet-tapread --dev TAP [--queues N] [--cpu C] [--stats FILE] [--duration S]\n"
				"                     [--io read|uring] [--batch N]  (io_uring: N reads in flight)\n"
				"                     [--first-packet FILE]  (wall-clock ns of the first frame)\n"
				"                     [--flows FILE]  (per flow: the queue it was read from)\n"
				"Reads TAP until SIGINT/SIGTERM (or S seconds) and prints \"total q0 q1 ...\".\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!dev || n_queues < 1 || n_queues > MAX_QUEUES) {
		fprintf(stderr, "xvnet-tapread: --dev is required and --queues must be 1..%d\n", MAX_QUEUES);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	for (i = 0; i < n_queues; i++) {
		queues[i].index = i;
		queues[i].fd = open_queue(dev, n_queues > 1);
		if (queues[i].fd < 0) {
			fprintf(stderr, "xvnet-tapread: cannot attach to %s queue %d: %s\n",
				dev, i, strerror(errno));
			return 1;
		}
		if (flows_file) {
			queues[i].flows = calloc(FLOW_SLOTS, sizeof(*queues[i].flows));
			if (!queues[i].flows) {
				fprintf(stderr, "xvnet-tapread: out of memory\n");
				return 1;
			}
		}
	}
	/* the virtio-net header in front of every frame (size per device) */
	if (ioctl(queues[0].fd, TUNGETVNETHDRSZ, &vnet_hdr_len) < 0)
		vnet_hdr_len = 10;
	for (i = 0; i < n_queues; i++)
		pthread_create(&queues[i].thread, NULL, reader, &queues[i]);

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop) {
		usleep(100 * 1000);
		write_stats(stats, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration > 0 && (now.tv_sec - start.tv_sec) +
		    (now.tv_nsec - start.tv_nsec) / 1e9 >= duration)
			stop = 1;
	}
	/* readers may sit in read(): closing is not enough, cancel them */
	for (i = 0; i < n_queues; i++) {
		pthread_cancel(queues[i].thread);
		pthread_join(queues[i].thread, NULL);
		close(queues[i].fd);
	}
	write_stats(stats, stdout);
	if (flows_file)
		write_flows(flows_file);
	return 0;
}
