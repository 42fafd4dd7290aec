// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-xskdump: the reference consumer of an xsk VM port.  It asks xvnetd
 * for a VM's AF_XDP sockets (`xsk.get` on the control socket; the reply
 * carries the UMEM memfd, one RX socket per NIC RX queue and the side
 * socket, which transmits and receives broadcast/local frames, with
 * SCM_RIGHTS),
 * can drop every privilege right after (--user), maps the UMEM and the
 * rings itself, and then does what a VMM backend does: keeps the fill ring
 * full, reads RX (counting frames and the struct xvnet_xsk_meta in front of
 * each), recycles the frames, and optionally sends frames on TX.
 *
 *   --stats FILE   "total q0 q1 ... side" (frames per NIC RX queue, then
 *                  the side socket), rewritten every 100 ms
 *   --print N      print the first N frames: queue, length, meta, 5-tuple
 *   --no-read      fill once, never read RX (a stalled consumer)
 *   --tx N         send N 64-byte UDP frames on the side socket, from
 *                  --tx-src MAC and --tx-ip, to --tx-dst MAC
 *   --probe-nic-tx try to give a NIC socket a TX ring (must be refused)
 *   --latency      for frames with a send time stamp (lib/stamp.h), report
 *                  how long after the stamp their notification was issued
 *   --copy         copy every frame out of the UMEM, as a back-end that
 *                  copies frames into a guest's buffers does (the bench's
 *                  consumer: without it only the metadata is read)
 *
 * Notifications: like a VMM backend, it signals the guest (an eventfd write,
 * a "virtual interrupt") per virtual queue (the metadata's queue) for the
 * frames it took, as the VM's coalescing policy says (lib/coalesce.h; the
 * policy arrives and the counters go back through the coalescing page of
 * the xsk.get reply).  It drains the rings whenever frames arrive (a full
 * ring would drop them); only the notifications wait for their batch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_xdp.h>
#include <json-c/json.h>

#include <endian.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

#include "maps/xvnet_maps.h"
#include "lib/coalesce.h"
#include "lib/privdrop.h"
#include "lib/stamp.h"
#include "lib/statsfile.h"
#include "lib/xsk_client.h"

#define MAX_SOCKS (XVNET_MAX_NIC_QUEUES + 1)     /* + the side socket */
#define BATCH 256


struct sock {
	int fd, queue;
	struct xv_xsk_ring rx, tx, fq, cq;
	__u64 first, count;             /* the frames this socket owns */
	__u64 *free_frames;             /* stack of frames for TX */
	__u32 n_free;
	unsigned long long packets, bytes, tx_done;
};

static struct sock socks[MAX_SOCKS];
static int n_socks;
static unsigned char *umem;
static size_t umem_size;
static __u32 frame_size;
static int meta_size;
static bool meta_inline;     /* "meta_at": "inline": the block starts the data */
static volatile sig_atomic_t stop;

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
	fputs("xvnet-xskdump: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	exit(1);
}

static int jint(struct json_object *o, const char *k)
{
	long long v = xv_xsk_jint(o, k);

	if (v < 0)
		die("reply without '%s'", k);
	return (int)v;
}

static void drop_privileges(const char *user)
{
	char err[256];

	if (xv_drop_privileges(user, err, sizeof(err)))
		die("--user: %s", err);
}

static void map_sock(struct sock *s, struct json_object *so)
{
	struct xv_xsk_rings r;
	char err[256];

	if (xv_xsk_map_rings(s->fd, so, &r, err, sizeof(err)))
		die("%s", err);
	s->rx = r.rx;
	s->tx = r.tx;
	s->fq = r.fq;
	s->cq = r.cq;
}

static __u32 fill(struct sock *s, __u64 *addrs, __u32 n)
{
	return xv_xsk_fill(&s->fq, addrs, n);
}

static const char *qname(const struct sock *s)
{
	static char b[16];

	if (s->queue < 0)
		return "side";
	snprintf(b, sizeof(b), "%d", s->queue);
	return b;
}

static void print_frame(const struct sock *s, const unsigned char *p, __u32 len,
			const struct xvnet_xsk_meta *m)
{
	char src[INET6_ADDRSTRLEN] = "-", dst[INET6_ADDRSTRLEN] = "-";
	unsigned sport = 0, dport = 0, proto = 0;
	__u32 off = 12;
	__u16 et;

	et = (__u16)(p[off] << 8 | p[off + 1]);
	while ((et == 0x8100 || et == 0x88a8) && off + 6 <= len) {
		off += 4;
		et = (__u16)(p[off] << 8 | p[off + 1]);
	}
	off += 2;
	if (et == 0x0800 && off + 20 <= len) {
		__u32 ihl = (p[off] & 15) * 4u;

		proto = p[off + 9];
		inet_ntop(AF_INET, p + off + 12, src, sizeof(src));
		inet_ntop(AF_INET, p + off + 16, dst, sizeof(dst));
		if ((proto == 6 || proto == 17) && off + ihl + 4 <= len) {
			sport = (unsigned)(p[off + ihl] << 8 | p[off + ihl + 1]);
			dport = (unsigned)(p[off + ihl + 2] << 8 | p[off + ihl + 3]);
		}
	} else if (et == 0x86dd && off + 40 <= len) {
		proto = p[off + 6];
		inet_ntop(AF_INET6, p + off + 8, src, sizeof(src));
		inet_ntop(AF_INET6, p + off + 24, dst, sizeof(dst));
		if ((proto == 6 || proto == 17) && off + 44 <= len) {
			sport = (unsigned)(p[off + 40] << 8 | p[off + 41]);
			dport = (unsigned)(p[off + 42] << 8 | p[off + 43]);
		}
	}
	printf("frame rxq %s len %u hash %#010x type %u queue %u vlan %u vm %u"
	       " dmac %02x:%02x:%02x:%02x:%02x:%02x proto %u src %s sport %u"
	       " dst %s dport %u\n", qname(s), len, m->rss_hash, m->rss_type,
	       m->queue, m->vlan, m->vm_id_lo, p[0], p[1], p[2], p[3], p[4], p[5],
	       proto, src, sport, dst, dport);
	fflush(stdout);
}

static long print_left;
static unsigned long long total;

/* ---- notifications ------------------------------------------------------ */

static struct xvnet_coal_page *cpage;   /* NULL: no page, coalescing off */
static struct xvnet_coal_page local;    /* counters when there is no page */
static struct xv_coal_policy pol;
static __u32 pol_gen = ~0u;
static struct xv_coal coal[XVNET_MAX_QUEUES];
static __u32 batch_n[XVNET_MAX_QUEUES]; /* frames per queue this round */
static int evfd = -1;                   /* the "guest": signalled per notification */
/* this consumer's own totals (the page's outlive consumers) */
static unsigned long long sess_notes, sess_packets, sess_wakeups;
static int want_latency;
/* --copy: frames land in COPY_SLOTS guest-buffer-sized slots in turn */
#define COPY_SLOTS 64
#define COPY_SLOT_SIZE 2048
static int want_copy;
static unsigned char copy_buf[COPY_SLOTS][COPY_SLOT_SIZE];
static unsigned copy_next;
#define MAX_PEND_STAMPS 8192
static __u64 pend_stamp[XVNET_MAX_QUEUES][MAX_PEND_STAMPS];
static __u32 n_pend_stamp[XVNET_MAX_QUEUES];
static struct xv_lat lat;

static __u64 now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (__u64)t.tv_sec * 1000000000ull + (__u64)t.tv_nsec;
}

static struct xvnet_coal_page *page(void)
{
	return cpage ? cpage : &local;
}

/* Take a new policy from xvnetd; frames already pending stay pending. */
static void policy_refresh(__u64 now)
{
	if (!cpage || !xv_coal_page_policy(cpage, &pol_gen, &pol))
		return;
	for (int q = 0; q < XVNET_MAX_QUEUES; q++)
		xv_coal_repolicy(&coal[q], &pol, now);
}

static void notify(int q, __u64 now)
{
	struct xvnet_coal_page *pg = page();
	__u64 one = 1;

	if (evfd >= 0 && write(evfd, &one, sizeof(one)) != sizeof(one))
		die("eventfd: %s", strerror(errno));
	pg->q[q].packets += coal[q].pending;
	pg->q[q].notifications++;
	sess_packets += coal[q].pending;
	sess_notes++;
	for (__u32 i = 0; i < n_pend_stamp[q]; i++)
		if (xv_lat_add(&lat, now - pend_stamp[q][i]))
			die("out of memory");
	n_pend_stamp[q] = 0;
	xv_coal_notified(&coal[q]);
}

/* After a round over the sockets: add each queue's frames, notify what is
 * due. Returns the earliest time a queue must be notified (0: none). */
static __u64 coalesce_round(__u64 now)
{
	__u64 next = 0, rate = 0;
	struct xvnet_coal_page *pg = page();

	for (int q = 0; q < XVNET_MAX_QUEUES; q++) {
		__u64 dl;

		if (batch_n[q] && xv_coal_add(&coal[q], &pol, batch_n[q], now))
			notify(q, now);
		batch_n[q] = 0;
		if (xv_coal_due(&coal[q], now))
			notify(q, now);
		rate += coal[q].rate_pps;
		dl = xv_coal_deadline(&coal[q]);
		if (dl && (!next || dl < next))
			next = dl;
	}
	pg->rate_pps = rate;
	pg->eff_frames = coal[0].eff_frames;
	pg->eff_usecs = coal[0].eff_usecs;
	return next;
}

static __u32 rx_one(struct sock *s)
{
	struct xdp_desc *d = s->rx.desc;
	__u32 cons = *s->rx.cons;
	__u32 prod = __atomic_load_n(s->rx.prod, __ATOMIC_ACQUIRE);
	__u32 n = prod - cons;
	__u64 addrs[BATCH];

	if (n > BATCH)
		n = BATCH;
	for (__u32 i = 0; i < n; i++) {
		const struct xdp_desc *e = &d[(cons + i) & s->rx.mask];
		struct xvnet_xsk_meta m = { 0 };
		__u32 len = e->len;
		__u64 st;

		__u64 addr = e->addr;

		if (meta_inline && len >= (__u32)meta_size && addr + len <= umem_size) {
			memcpy(&m, umem + addr, sizeof(m));
			addr += (__u32)meta_size;
			len -= (__u32)meta_size;
		} else if (!meta_inline && e->addr >= (__u64)meta_size &&
			   e->addr + len <= umem_size) {
			memcpy(&m, umem + e->addr - sizeof(m), sizeof(m));
		}
		if (m.queue >= XVNET_MAX_QUEUES)
			m.queue = 0;
		batch_n[m.queue]++;
		if (want_latency && n_pend_stamp[m.queue] < MAX_PEND_STAMPS &&
		    addr + len <= umem_size &&
		    (st = xv_stamp_of(umem + addr, len)))
			pend_stamp[m.queue][n_pend_stamp[m.queue]++] = st;
		if (want_copy && addr + len <= umem_size)
			memcpy(copy_buf[copy_next++ % COPY_SLOTS], umem + addr,
			       len < COPY_SLOT_SIZE ? len : COPY_SLOT_SIZE);
		if (print_left > 0 && addr + len <= umem_size) {
			print_frame(s, umem + addr, len, &m);
			print_left--;
		}
		s->bytes += len;
		addrs[i] = e->addr;
	}
	__atomic_store_n(s->rx.cons, cons + n, __ATOMIC_RELEASE);
	s->packets += n;
	total += n;
	/* recycle: the fill ring has room for at least what RX gave back */
	if (n && fill(s, addrs, n) != n)
		fprintf(stderr, "xvnet-xskdump: fill ring full, frames lost\n");
	return n;
}

static void write_stats(const char *path)
{
	char line[32 * (MAX_SOCKS + 1)];
	int n = snprintf(line, sizeof(line), "%llu", total);

	for (int i = 0; i < n_socks && n < (int)sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %llu", socks[i].packets);
	xv_stats_write(path, "%s\n", line);
}

struct tx_spec {
	unsigned char src[6], dst[6], ip[4];
};

static void udp_frame(unsigned char *p, const struct tx_spec *t, unsigned seq)
{
	static const unsigned char hdr[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x08, 0x00,
		0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0,
		10, 77, 0, 200, 10, 77, 0, 255,
		0x30, 0x39, 0x30, 0x39, 0, 30, 0, 0,
	};
	__u32 sum = 0;

	memcpy(p, hdr, sizeof(hdr));
	memcpy(p, t->dst, 6);
	memcpy(p + 6, t->src, 6);
	memcpy(p + 26, t->ip, 4);
	p[18] = (unsigned char)(seq >> 8);
	p[19] = (unsigned char)seq;
	for (int i = 14; i < 34; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[24] = (unsigned char)(~sum >> 8);
	p[25] = (unsigned char)~sum;
	memset(p + 42, 0, 64 - 42);
	memcpy(p + 42, "xvnet-xskdump", 13);
}

/* Send n frames on the side socket's TX ring, kick, drain completions. */
static unsigned long long tx_frames(struct sock *s, unsigned n,
				    const struct tx_spec *spec)
{
	unsigned sent = 0;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop && (sent < n || s->tx_done < sent)) {
		__u32 prod = *s->tx.prod;
		__u32 cons = __atomic_load_n(s->tx.cons, __ATOMIC_ACQUIRE);
		struct xdp_desc *d = s->tx.desc;
		__u32 k = 0;

		while (sent + k < n && s->n_free && prod + k - cons < s->tx.size) {
			__u64 a = s->free_frames[--s->n_free];

			udp_frame(umem + a, spec, sent + k);
			d[(prod + k) & s->tx.mask] = (struct xdp_desc){ .addr = a, .len = 64 };
			k++;
		}
		__atomic_store_n(s->tx.prod, prod + k, __ATOMIC_RELEASE);
		sent += k;
		sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		/* completions: the frames are ours again */
		cons = *s->cq.cons;
		prod = __atomic_load_n(s->cq.prod, __ATOMIC_ACQUIRE);
		for (__u32 i = cons; i != prod; i++)
			s->free_frames[s->n_free++] = ((__u64 *)s->cq.desc)[i & s->cq.mask];
		__atomic_store_n(s->cq.cons, prod, __ATOMIC_RELEASE);
		s->tx_done += prod - cons;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			break;
	}
	return s->tx_done;
}

/* The coalescing page of the reply, if any: the policy comes in, the
 * counters go out.  The "guest" is an eventfd. */
static void map_coalesce_page(struct json_object *data, const int *fds, int nfds)
{
	char err[256];

	evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (evfd < 0)
		die("eventfd: %s", strerror(errno));
	/* the delay bounds are microseconds: no 50 us default timer slack */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	cpage = xv_xsk_map_coal_page(data, fds, nfds, err, sizeof(err));
	if (!cpage && err[0])
		die("%s", err);
	if (!cpage)
		return;
	cpage->consumer_pid = (__u32)getpid();
	policy_refresh(now_ns());
}

static int parse_mac(const char *s, unsigned char *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2],
		      &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

/*
 * The kernel fixes a socket's rings at bind time, so a consumer that was
 * handed RX-only NIC sockets cannot transmit on the NIC behind vm_tx's back.
 */
static int probe_tx_ring(int fd)
{
	int n = 64;

	if (setsockopt(fd, SOL_XDP, XDP_TX_RING, &n, sizeof(n)) == 0) {
		printf("nic tx ring: ACCEPTED\n");
		return 1;
	}
	printf("nic tx ring: refused (%s)\n", strerror(errno));
	return 0;
}

static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: xvnet-xskdump -s SOCKET --vm NAME [--user USER] [--stats FILE]\n"
		"         [--print N] [--count N] [--duration SEC] [--cpu N] [--no-read]\n"
		"         [--tx N --tx-src MAC --tx-ip IPV4 --tx-dst MAC] [--probe-nic-tx]\n"
		"         [--latency] [--copy]\n"
		"  takes VM NAME's AF_XDP sockets from xvnetd (SCM_RIGHTS), drops to USER,\n"
		"  counts the frames per NIC RX queue and prints their xvnet_xsk_meta\n");
	exit(code);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, 0, 's' }, { "vm", required_argument, 0, 'v' },
		{ "user", required_argument, 0, 'u' }, { "stats", required_argument, 0, 'S' },
		{ "print", required_argument, 0, 'p' }, { "count", required_argument, 0, 'c' },
		{ "duration", required_argument, 0, 'd' }, { "cpu", required_argument, 0, 'C' },
		{ "no-read", no_argument, 0, 'n' }, { "tx", required_argument, 0, 't' },
		{ "tx-src", required_argument, 0, 'm' }, { "tx-dst", required_argument, 0, 'D' },
		{ "tx-ip", required_argument, 0, 'I' }, { "probe-nic-tx", no_argument, 0, 'P' },
		{ "latency", no_argument, 0, 'L' }, { "copy", no_argument, 0, 'y' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *sock_path = "/run/xvnet/xvnetd.sock", *vm = NULL, *user = NULL;
	const char *stats = NULL;
	unsigned long long count = 0;
	double duration = 0;
	int cpu = -1, no_read = 0, fds[MAX_SOCKS + 2], nfds, o;
	unsigned tx = 0;
	struct tx_spec spec = {
		.src = { 0x02, 0, 0, 0, 0, 0x01 },
		.dst = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		.ip = { 10, 77, 0, 200 },
	};
	int probe_nic_tx = 0;
	struct json_object *data, *um, *arr, *side;
	struct timespec t0, tl, t;
	char err[256];

	while ((o = getopt_long(argc, argv, "s:v:h", lo, NULL)) != -1) {
		switch (o) {
		case 's': sock_path = optarg; break;
		case 'v': vm = optarg; break;
		case 'u': user = optarg; break;
		case 'S': stats = optarg; break;
		case 'p': print_left = atol(optarg); break;
		case 'c': count = strtoull(optarg, NULL, 0); break;
		case 'd': duration = atof(optarg); break;
		case 'C': cpu = atoi(optarg); break;
		case 'n': no_read = 1; break;
		case 't': tx = (unsigned)atoi(optarg); break;
		case 'm':
			if (parse_mac(optarg, spec.src))
				usage(2);
			break;
		case 'D':
			if (parse_mac(optarg, spec.dst))
				usage(2);
			break;
		case 'I':
			if (inet_pton(AF_INET, optarg, spec.ip) != 1)
				usage(2);
			break;
		case 'P': probe_nic_tx = 1; break;
		case 'L': want_latency = 1; break;
		case 'y': want_copy = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!vm)
		usage(2);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	data = xv_xsk_get(sock_path, vm, fds, MAX_SOCKS + 2, &nfds, err, sizeof(err));
	if (!data)
		die("%s", err);
	/* from here on nothing needs a privilege: the fds carry the rights */
	if (user)
		drop_privileges(user);
	json_object_object_get_ex(data, "umem", &um);
	json_object_object_get_ex(data, "sockets", &arr);
	if (!um || !arr)
		die("reply without umem/sockets");
	meta_size = jint(data, "meta_size");
	if (meta_size != (int)sizeof(struct xvnet_xsk_meta))
		die("meta_size %d, this build knows %zu", meta_size,
		    sizeof(struct xvnet_xsk_meta));
	meta_inline = xv_xsk_meta_inline(data);
	frame_size = (__u32)jint(um, "frame_size");
	umem_size = (size_t)json_object_get_uint64(json_object_object_get(um, "size"));
	if (jint(um, "fd_index") >= nfds)
		die("UMEM fd missing from the reply");
	umem = mmap(NULL, umem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fds[jint(um, "fd_index")], 0);
	if (umem == MAP_FAILED)
		die("mmap UMEM: %s", strerror(errno));
	if (!json_object_object_get_ex(data, "side", &side))
		die("reply without the side socket");
	map_coalesce_page(data, fds, nfds);
	n_socks = (int)json_object_array_length(arr) + 1;
	if (n_socks > MAX_SOCKS)
		die("too many sockets");
	for (int i = 0; i < n_socks; i++) {
		struct json_object *so = i < n_socks - 1 ?
			json_object_array_get_idx(arr, (size_t)i) : side;
		struct sock *s = &socks[i];
		__u64 addrs[256];
		__u32 nfill, k = 0;

		if (jint(so, "fd_index") >= nfds)
			die("socket fd missing from the reply");
		s->fd = fds[jint(so, "fd_index")];
		s->queue = i < n_socks - 1 ? jint(so, "queue") : -1;
		s->first = (__u64)jint(so, "frame_first");
		s->count = (__u64)jint(so, "frame_count");
		map_sock(s, so);
		/* half the frames for RX (fill ring), the rest for TX */
		nfill = (__u32)(s->count / 2);
		if (nfill > s->fq.size)
			nfill = s->fq.size;
		s->free_frames = calloc(s->count, sizeof(__u64));
		for (__u64 f = nfill; f < s->count; f++)
			s->free_frames[s->n_free++] = (s->first + f) * frame_size;
		/* a previous consumer may have left the fill ring full: the
		 * frames in it are this socket's and come back on RX */
		while (k < nfill) {
			__u32 b = nfill - k < 256 ? nfill - k : 256, put;

			for (__u32 j = 0; j < b; j++)
				addrs[j] = (s->first + k + j) * frame_size;
			put = fill(s, addrs, b);
			if (!put)
				break;
			k += put;
		}
		/* need_wakeup: tell the kernel the fill ring has frames */
		if (*s->fq.flags & XDP_RING_NEED_WAKEUP)
			recvfrom(s->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
	fprintf(stderr, "xvnet-xskdump: vm %s: %d sockets on %s (%s), UMEM %zu bytes,"
		" uid %u\n", vm, n_socks, json_object_get_string(json_object_object_get(data, "nic")),
		json_object_get_string(json_object_object_get(data, "mode")), umem_size,
		(unsigned)getuid());
	printf("XVNET-XSKDUMP-READY\n");
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (probe_nic_tx && probe_tx_ring(socks[0].fd))
		return 1;
	if (tx)
		printf("tx sent %u completed %llu\n", tx,
		       tx_frames(&socks[n_socks - 1], tx, &spec));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tl = t0;
	if (stats)
		write_stats(stats);
	while (!stop) {
		struct pollfd pf[MAX_SOCKS];
		__u32 got = 0;
		__u64 now, next;
		int r;

		for (int i = 0; !no_read && i < n_socks; i++)
			got += rx_one(&socks[i]);
		now = now_ns();
		policy_refresh(now);
		next = coalesce_round(now);
		if (!got) {
			/* idle: sleep until a ring has frames or pending frames
			 * must be notified; the rings are always drained, only
			 * the notifications wait */
			__u64 wait = next ? next - now : 100000000ull;
			struct timespec ts = { .tv_sec = (time_t)(wait / 1000000000ull),
					       .tv_nsec = (long)(wait % 1000000000ull) };

			for (int i = 0; i < n_socks; i++)
				pf[i] = (struct pollfd){ .fd = socks[i].fd, .events = POLLIN };
			r = ppoll(pf, no_read ? 0 : (nfds_t)n_socks, &ts, NULL);
			if (r < 0 && errno != EINTR)
				die("poll: %s", strerror(errno));
			if (r > 0) {
				page()->wakeups++;
				sess_wakeups++;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (stats && (t.tv_sec - tl.tv_sec) * 1000000000L +
			     (t.tv_nsec - tl.tv_nsec) >= 100000000L) {
			write_stats(stats);
			tl = t;
		}
		if (count && total >= count)
			break;
		if (duration > 0 && (double)(t.tv_sec - t0.tv_sec) +
				    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= duration)
			break;
	}
	if (stats)
		write_stats(stats);
	for (int q = 0; q < XVNET_MAX_QUEUES; q++)
		if (coal[q].pending)
			notify(q, now_ns());
	printf("total %llu", total);
	for (int i = 0; i < n_socks; i++)
		printf(" %s%s %llu", socks[i].queue < 0 ? "" : "q", qname(&socks[i]),
		       socks[i].packets);
	printf("\n");
	printf("notifications %llu packets %llu wakeups %llu per_notification %.1f\n",
	       sess_notes, sess_packets, sess_wakeups,
	       sess_notes ? (double)sess_packets / (double)sess_notes : 0.0);
	if (want_latency)
		xv_lat_print(&lat, stdout);
	json_object_put(data);
	return 0;
}
