// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-costbench: nic_rx's cost per packet against the trivial redirect
 * (bpf/bench_redirect.bpf.c), by BPF_PROG_TEST_RUN in one process, so the
 * figure does not drift with the machine's speed: the two programs are run
 * alternately, a fraction of a second each, ROUNDS times per configuration,
 * and each round gives nic_rx ns, trivial ns, their ratio and difference.
 *
 * The real nic_rx skeleton is loaded with its maps unpinned (as the unit
 * tests do, tests/nicrx_fixture.c) and the data path it would get from
 * xvnetd on this kernel (metadata head or inline, bpf_check_mtu).  Ports
 * are the loopback device (a test run does not transmit), xsk VMs get a
 * real copy-mode socket on a private veth.  Flows are written by
 * xvnet-flowfill through a private bpffs pin directory, so the flow key is
 * built in one place.
 *
 * Configurations: 1vm (also 1vm-single: timed as rss4 and xsk are; and
 * 1vm-general and flows-1-general: with nic_rx's fast path off), 1024vm (frame to VM 512, the trivial program fans
 * out by MAC over 1024 DEVMAP slots), flows-1, flows-1k, flows-1M (a
 * flow-cache hit on flow 0 with that many flows present), 1vm-v6 and
 * flows-1-v6 (an IPv6 frame, without flows and hitting its one flow under
 * the 40-byte key), flows-1k-spread,
 * flows-1M-spread (single mode, every run a different one of the flows, in a
 * scattered order: the lookup misses the CPU caches as live traffic does), rss4 (a 4-queue
 * VM: Toeplitz, indirection table and the skb path's metadata), xsk (an
 * AF_XDP VM: Toeplitz and the xsk metadata); both hash by the key's tables
 * as xvnetd's slots do, and bit by bit in rss4-bitwise and xsk-bitwise
 * (a slot without XVNET_VM_F_RSS_TABLE); xsk-v6 and xsk-v6-bitwise the same
 * with an IPv6 frame (36 bytes of hash input where IPv4 has 12).
 *
 * Floors, timed against the same trivial program in place of nic_rx, to
 * read the targets against what this machine allows: floor-classify
 * (bpf/bench_floor.bpf.c: the least a switch that parses and counts does,
 * repeat mode, the 1vm frame) and floor-mem-1M-spread (bench_redirect's
 * triv_memread: the trivial redirect plus one read of a random 128-byte
 * entry of a 1M-entry array, a different flow each run as in
 * flows-1M-spread).
 *
 * Caveat: a test run does not reset the xdp_buff between repeats, so a
 * program that pushes metadata (adjust_meta, or inline with adjust_head)
 * would parse its own prefix on the next repeat and soon run out of
 * headroom.  Repeat mode times one call of --repeat runs by the wall clock
 * (the kernel reports whole ns per run).  Each configuration is first run with repeat = 1000 and its
 * output length checked: where the frame grew (rss4 and xsk push metadata),
 * both programs are timed "single": many runs of repeat = 1, each a fresh
 * xdp_buff, summing the kernel's per-run duration (which then carries one
 * clock read per packet, the same for both programs: compare differences,
 * and ratios only within a mode).  Same frame every run: caches are hot;
 * the live rows of `make bench` show the memory-bound side.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/features.h"
#include "lib/xsk_rx.h"
#include "maps/xvnet_maps.h"
#include "bpf/toeplitz.h"
#include "tools/trafgen_flow.h"
#include "nic_rx.skel.h"
#include "bench_redirect.skel.h"
#include "bench_floor.skel.h"

/* floor-mem: triv_table's entries of 128 bytes, one per flow of flows-1M */
#define FLOOR_TABLE_LOG2 20

static const __u8 rss_key[XVNET_RSS_KEY_SIZE] = XVNET_RSS_MS_KEY;

struct opts {
	int rounds;
	unsigned int repeat;      /* per timed run (repeat mode) */
	unsigned int single;      /* runs of repeat = 1 (single mode) */
	const char *configs;
	const char *flowfill;
	int json;
	unsigned long flow_max;
};

struct bench {
	struct nic_rx *nrx;
	struct bench_redirect *triv;
	struct bench_floor *floor;
	int nrx_fd, triv_dev_fd, triv_xsk_fd, floor_cls_fd, floor_mem_fd, floor_f40_fd, floor_f16_fd;
	bool bitwise;               /* add_vm: no XVNET_VM_F_RSS_TABLE */
	int fd_rss_tables;
	int fd_vms, fd_by_mac, fd_vm_cache, fd_ports, fd_xsks, fd_stats, fd_config;
	int ncpus;
	char pin_dir[64];
	char veth[IFNAMSIZ];
	int xsk_fd;
	void *umem;
	unsigned long flows;      /* in the flow cache now */
	__u32 meta_at;
	const struct opts *o;
};


static __u8 frame[128];
static __u32 frame_len = 60;

static void build_frame(const __u8 dst[6])
{
	struct ethhdr *eth = (void *)frame;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	const __u8 src[6] = { 0x02, 0, 0, 0, 0xff, 0x01 };
	__u32 sum = 0;
	__u16 *w = (void *)ip;
	int i;

	memset(frame, 0, sizeof(frame));
	memcpy(eth->h_dest, dst, 6);
	memcpy(eth->h_source, src, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(frame_len - ETH_HLEN);
	ip->saddr = htonl(0x0a630001);  /* 10.99.0.1, xvnet-trafgen's flow 0 */
	ip->daddr = htonl(0x0a630002);
	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum;
	udp->source = htons(1024);
	udp->dest = htons(7777);
	udp->len = htons(frame_len - ETH_HLEN - sizeof(*ip));
}

/*
 * Make the frame xvnet-trafgen's flow f (tools/trafgen_flow.h: source port
 * 1024 + f % 32768, source address 10.99.0.1 + f / 32768).
 */
static void frame_flow(unsigned long f)
{
	struct iphdr *ip = (void *)(frame + ETH_HLEN);
	struct udphdr *udp = (void *)(ip + 1);
	__u16 *w = (void *)ip;
	__u32 sum = 0;
	int i;

	ip->saddr = htonl(0x0a630001 + TRAFGEN_FLOW_SADDR_ADD(f));
	udp->source = htons(TRAFGEN_FLOW_SPORT(1024, f));
	ip->check = 0;
	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum;
}

/*
 * An IPv6 UDP frame to dst, fd00:99::1 port 1024 -> fd00:99::2 port 7777
 * (no checksum: nic_rx does not check it), and the flow key nic_rx makes
 * of it: an IPv6 flow keeps the 40-byte key (maps/xvnet_maps.h).
 */
static void build_frame6(const __u8 dst[6], struct xvnet_flow_key *k)
{
	struct ethhdr *eth = (void *)frame;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip6 + 1);
	const __u8 src[6] = { 0x02, 0, 0, 0, 0xff, 0x01 };

	frame_len = ETH_HLEN + sizeof(*ip6) + sizeof(*udp) + 18;
	memset(frame, 0, sizeof(frame));
	memcpy(eth->h_dest, dst, 6);
	memcpy(eth->h_source, src, 6);
	eth->h_proto = htons(ETH_P_IPV6);
	ip6->version = 6;
	ip6->payload_len = htons(frame_len - ETH_HLEN - sizeof(*ip6));
	ip6->nexthdr = IPPROTO_UDP;
	ip6->hop_limit = 64;
	inet_pton(AF_INET6, "fd00:99::1", &ip6->saddr);
	inet_pton(AF_INET6, "fd00:99::2", &ip6->daddr);
	udp->source = htons(1024);
	udp->dest = htons(7777);
	udp->len = ip6->payload_len;
	memset(k, 0, sizeof(*k));
	memcpy(k->src, &ip6->saddr, 16);
	memcpy(k->dst, &ip6->daddr, 16);
	k->sport = udp->source;
	k->dport = udp->dest;
	k->proto = IPPROTO_UDP;
	k->dir = XVNET_DIR_IN;
}

/* spread mode: each run a different flow of spread_n, in a scattered order */
static unsigned long spread_n, spread_i;

static void vm_mac(__u32 i, bool fan, __u8 mac[6])
{
	/* the bench's MACs: 02:00:00:00:01:01 for one VM, 02:00:00:01:HH:LL for many */
	const __u8 one[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };

	if (!fan) {
		memcpy(mac, one, 6);
		return;
	}
	mac[0] = 0x02; mac[1] = 0; mac[2] = 0; mac[3] = 1;
	mac[4] = (__u8)(i >> 8); mac[5] = (__u8)i;
}

/* xvnet_vm_cache's slot of a (MAC, VLAN 0) key, which xvnetd sets after the hash entry. */
static __u32 cache_slot(const struct xvnet_vm_key *k)
{
	__u64 w;

	memcpy(&w, k, sizeof(w));
	return xvnet_vm_cache_slot(w);
}

static int add_vm(struct bench *b, __u32 id, const __u8 mac[6], __u8 kind, __u8 n_queues)
{
	struct xvnet_vm vm;
	struct xvnet_vm_key k;
	__u32 lo = 1, key = ((__u32)mac[4] << 8) | mac[5], slot, cached = id + 1;
	int i;

	memset(&vm, 0, sizeof(vm));
	/* several queues on a tap/veth: the skb path, as xvnetd sets it */
	vm.flags = XVNET_VM_F_ACTIVE | (n_queues > 1 && kind != XVNET_PORT_XSK ? XVNET_VM_F_SKB_PATH : 0);
	vm.ifindex = kind == XVNET_PORT_XSK ? 0 : lo;
	memcpy(vm.mac, mac, 6);
	vm.port_kind = kind;
	vm.n_queues = n_queues;
	vm.hash_fields = XVNET_RSS_FIELDS_DEFAULT;
	memcpy(vm.rss_key, rss_key, sizeof(rss_key));
	for (i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		vm.rss_indir[i] = (__u8)(i % n_queues);
	if (!b->bitwise) {      /* as xvnetd: the tables, then the slot */
		static struct xvnet_rss_table t;

		xvnet_toeplitz_table_fill(vm.rss_key, &t);
		if (bpf_map_update_elem(b->fd_rss_tables, &id, &t, BPF_ANY)) {
			fprintf(stderr, "xvnet-costbench: tables of VM %u: %s\n", id, strerror(errno));
			return -1;
		}
		vm.flags |= XVNET_VM_F_RSS_TABLE;
	}
	memset(&k, 0, sizeof(k));
	memcpy(k.mac, mac, 6);
	slot = cache_slot(&k);
	if (bpf_map_update_elem(b->fd_vms, &id, &vm, BPF_ANY) ||
	    (kind != XVNET_PORT_XSK && bpf_map_update_elem(b->fd_ports, &id, &lo, BPF_ANY)) ||
	    bpf_map_update_elem(b->fd_by_mac, &k, &id, BPF_ANY) ||
	    bpf_map_update_elem(b->fd_vm_cache, &slot, &cached, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(b->triv->maps.triv_ports), &key, &lo, BPF_ANY)) {
		fprintf(stderr, "xvnet-costbench: add VM %u: %s\n", id, strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove VMs 0..n-1 (and their MACs) again. */
static void del_vms(struct bench *b, __u32 n, bool fan)
{
	struct xvnet_vm zero = { 0 };
	__u32 i;

	for (i = 0; i < n; i++) {
		struct xvnet_vm_key k;
		__u32 key, slot, none = 0;

		memset(&k, 0, sizeof(k));
		vm_mac(i, fan, k.mac);
		key = ((__u32)k.mac[4] << 8) | k.mac[5];
		slot = cache_slot(&k);
		bpf_map_update_elem(b->fd_vm_cache, &slot, &none, BPF_ANY);
		bpf_map_delete_elem(b->fd_by_mac, &k);
		bpf_map_delete_elem(b->fd_ports, &i);
		bpf_map_update_elem(b->fd_vms, &i, &zero, BPF_ANY);
		bpf_map_delete_elem(bpf_map__fd(b->triv->maps.triv_ports), &key);
	}
}

/* One __u32 of xvnet_config's one entry, the rest kept. */
static int config_set_u32(struct bench *b, size_t off, __u32 v)
{
	struct xvnet_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(b->fd_config, &zero, &c))
		return -1;
	memcpy((char *)&c + off, &v, sizeof(v));
	return bpf_map_update_elem(b->fd_config, &zero, &c, BPF_ANY);
}

static int set_flows_active(struct bench *b, __u32 on)
{
	return config_set_u32(b, offsetof(struct xvnet_config, flows_active), on);
}

/* nic_rx's fast path (bpf/fastpath.h): on, as xvnetd runs it, or off. */
static int set_fast_path(struct bench *b, bool on)
{
	return config_set_u32(b, offsetof(struct xvnet_config, fast_path_off), !on);
}

static int flowfill(struct bench *b, unsigned long n)
{
	char count[32];
	pid_t pid;
	int st;

	if (n <= b->flows)
		return set_flows_active(b, 1);
	snprintf(count, sizeof(count), "%lu", n);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 1);
		execl(b->o->flowfill, b->o->flowfill, "--pin-dir", b->pin_dir, "--count", count,
		      "--vm-id", "0", (char *)NULL);
		fprintf(stderr, "xvnet-costbench: exec %s: %s\n", b->o->flowfill, strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "xvnet-costbench: %s --count %lu failed\n", b->o->flowfill, n);
		return -1;
	}
	b->flows = n;
	return 0;
}

static __u64 counter(struct bench *b, __u32 idx)
{
	__u64 v[b->ncpus], sum = 0;
	int i;

	if (bpf_map_lookup_elem(b->fd_stats, &idx, v))
		return 0;
	for (i = 0; i < b->ncpus; i++)
		sum += v[i];
	return sum;
}

/* One test run of fd; returns its retval, sets *ns (per repeat) and *out_len. */
static int run(int fd, unsigned int repeat, __u32 *ns, __u32 *out_len)
{
	static __u8 out[4096];
	LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = frame, .data_size_in = frame_len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &ro)) {
		fprintf(stderr, "xvnet-costbench: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		exit(1);
	}
	*ns = ro.duration;
	*out_len = ro.data_size_out;
	return (int)ro.retval;
}

/*
 * One round: SLICES alternations of (trivial, nic_rx), each a fraction of
 * the round, so both programs see the same machine even when its speed
 * changes within a second.  Repeat mode: one call of repeat/SLICES runs per
 * slice; single mode: single/SLICES calls of repeat = 1 per slice.  The
 * figure is the kernel's (duration: whole ns per run, averaged over the
 * slices, so rounded down by up to 1 ns, alike for both programs); it leaves
 * out the time the test was scheduled out, which the wall clock (*wx, *wt,
 * repeat mode only) does not: on a shared machine only the kernel's is
 * usable.
 */
#define SLICES 20
static void round_pair(int xfd, int tfd, bool single, const struct opts *o,
		       double *x, double *t, double *wx, double *wt)
{
	double sum[2] = { 0, 0 }, ksum[2] = { 0, 0 };
	unsigned int per = (single ? o->single : o->repeat) / SLICES, i, k;
	__u32 ns, len;
	int p;

	if (!per)
		per = 1;
	for (k = 0; k < SLICES; k++) {
		for (p = 0; p < 2; p++) {
			int fd = p ? xfd : tfd;
			struct timespec a, z;

			if (single) {
				for (i = 0; i < per; i++) {
					if (spread_n)   /* a large prime stride: no two runs near */
						frame_flow((spread_i++ * 2654435761ul) % spread_n);
					run(fd, 1, &ns, &len);
					ksum[p] += ns;   /* no wall-clock figure */
				}
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &a);
			run(fd, per, &ns, &len);
			clock_gettime(CLOCK_MONOTONIC, &z);
			sum[p] += (z.tv_sec - a.tv_sec) * 1e9 + (z.tv_nsec - a.tv_nsec);
			ksum[p] += (double)ns * per;
		}
	}
	*wt = sum[0] / ((double)per * SLICES);
	*wx = sum[1] / ((double)per * SLICES);
	*t = ksum[0] / ((double)per * SLICES);
	*x = ksum[1] / ((double)per * SLICES);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *verdict_name(int v)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v >= 0 && v <= 4 ? n[v] : "?";
}

static const char *wall(double x, double t)
{
	static char s[64];

	snprintf(s, sizeof(s), "  (wall clock: %.1f, %.1f)", x, t);
	return s;
}

/* Time one configuration: rounds of (trivial, program A: nic_rx or a floor). */
static int measure_prog(struct bench *b, const char *name, const char *what, const char *prog,
			int a_fd, int triv_fd, bool force_single)
{
	const struct opts *o = b->o;
	double r[64], d[64], tn[64], xn[64], wx[64], wt[64];
	__u32 ns, len_x, len_t;
	__u64 hit0 = counter(b, XVNET_CNT_FLOW_HIT), hits, timed_hits;
	unsigned long long timed_runs;
	int vx, vt, i, rounds = o->rounds > 64 ? 64 : o->rounds;
	bool single;

	/* warm up, check verdicts, and see whether the frame grows across repeats */
	vx = run(a_fd, 1000, &ns, &len_x);
	vt = run(triv_fd, 1000, &ns, &len_t);
	single = force_single || len_x != frame_len || len_t != frame_len;
	hits = counter(b, XVNET_CNT_FLOW_HIT) - hit0;
	if (single) {   /* the verdict of one run from a fresh buffer */
		vx = run(a_fd, 1, &ns, &len_x);
		vt = run(triv_fd, 1, &ns, &len_t);
	}
	hit0 = counter(b, XVNET_CNT_FLOW_HIT);
	for (i = 0; i < rounds; i++) {
		round_pair(a_fd, triv_fd, single, o, &xn[i], &tn[i], &wx[i], &wt[i]);
		r[i] = xn[i] / tn[i];
		d[i] = xn[i] - tn[i];
	}
	/* flow-cache hits over the timed runs (every nic_rx run should hit when flows are on) */
	timed_hits = counter(b, XVNET_CNT_FLOW_HIT) - hit0;
	timed_runs = (unsigned long long)rounds * SLICES *
		     (((single ? o->single : o->repeat) / SLICES) ? (single ? o->single : o->repeat) / SLICES : 1);
	if (o->json) {
		printf("{\"row\":\"cost\",\"program\":\"%s\",\"config\":\"%s\",\"what\":\"%s\",\"mode\":\"%s\","
		       "\"meta_at\":\"%s\",\"nic_rx_verdict\":\"%s\",\"trivial_verdict\":\"%s\","
		       "\"flow_hits\":%llu,\"timed_runs\":%llu,\"timed_flow_hits\":%llu,\"rounds\":[",
		       prog, name, what, single ? "single" : "repeat",
		       b->meta_at == XVNET_META_INLINE ? "inline" : "head", verdict_name(vx),
		       verdict_name(vt), (unsigned long long)hits, timed_runs,
		       (unsigned long long)timed_hits);
		for (i = 0; i < rounds; i++)
			printf("%s{\"nic_rx_ns\":%.2f,\"trivial_ns\":%.2f,\"ratio\":%.3f,\"diff_ns\":%.2f,"
			       "\"wall_nic_rx_ns\":%.1f,\"wall_trivial_ns\":%.1f}",
			       i ? "," : "", xn[i], tn[i], r[i], d[i], wx[i], wt[i]);
		printf("]}\n");
	} else {
		printf("%-9s %-52s %-6s verdict %s/%s, flow-cache hits %llu of %llu timed runs\n", name,
		       what, single ? "single" : "repeat", verdict_name(vx), verdict_name(vt),
		       (unsigned long long)timed_hits, timed_runs);
		for (i = 0; i < rounds; i++)
			printf("  round %d: %s %6.1f ns, trivial %6.1f ns, ratio %5.2f, +%5.1f ns"
			       "%s\n",
			       i + 1, prog, xn[i], tn[i], r[i], d[i], single ? "" : wall(wx[i], wt[i]));
	}
	if (!o->json) {
		double dr[64], dd[64], dx[64], dt[64], mr, md, mx, mt;

		memcpy(dr, r, sizeof(r)); memcpy(dd, d, sizeof(d));
		memcpy(dx, xn, sizeof(xn)); memcpy(dt, tn, sizeof(tn));
		mr = median(dr, rounds); md = median(dd, rounds);   /* sorted from here on */
		mx = median(dx, rounds); mt = median(dt, rounds);
		printf("  median: %s %.1f ns, trivial %.1f ns, ratio %.2f (%.2f-%.2f), "
		       "+%.1f ns (%.1f-%.1f)\n", prog, mx, mt, mr, dr[0], dr[rounds - 1], md,
		       dd[0], dd[rounds - 1]);
	}
	fflush(stdout);
	return 0;
}

static int measure(struct bench *b, const char *name, const char *what, int triv_fd,
		   bool force_single)
{
	return measure_prog(b, name, what, "nic_rx", b->nrx_fd, triv_fd, force_single);
}

/* The floor programs: VM 0's MAC and port as the bench's one VM. */
static int floor_setup(struct bench *b, const __u8 mac[6])
{
	struct { __u32 hi; __u16 lo, pad; } vm = { 0 };
	__u32 zero = 0, lo = 1;
	int e;

	b->floor = bench_floor__open();
	if (!b->floor)
		return -1;
	e = bench_floor__load(b->floor);
	if (e) {
		fprintf(stderr, "xvnet-costbench: load bench_floor: %s\n", strerror(-e));
		return -1;
	}
	memcpy(&vm.hi, mac, 4);
	memcpy(&vm.lo, mac + 4, 2);
	if (bpf_map_update_elem(bpf_map__fd(b->floor->maps.floor_vms), &zero, &vm, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(b->floor->maps.floor_ports), &zero, &lo, BPF_ANY))
		return -1;
	b->floor_cls_fd = bpf_program__fd(b->floor->progs.floor_classify);
	b->floor_f40_fd = bpf_program__fd(b->floor->progs.floor_flow40);
	b->floor_f16_fd = bpf_program__fd(b->floor->progs.floor_flow16);
	return 0;
}

static int setup(struct bench *b, const struct opts *o)
{
	struct xv_features fs = { 0 };
	struct xvnet_config c = { .inline_tag = 0x5456584e54414721ull };
	struct bpf_map *m;
	char err[256];
	__u32 zero = 0;
	int e;

	b->o = o;
	b->xsk_fd = -1;
	if (xv_features_probe(&fs, err, sizeof(err)))
		fprintf(stderr, "xvnet-costbench: %s\n", err);
	b->nrx = nic_rx__open();
	if (!b->nrx)
		return -1;
	bpf_object__for_each_map(m, b->nrx->obj)
		bpf_map__set_pin_path(m, NULL);
	bpf_map__set_max_entries(b->nrx->maps.xvnet_flows, o->flow_max);
	bpf_map__set_max_entries(b->nrx->maps.xvnet_flows4, o->flow_max);
	b->meta_at = xv_feature_usable(&fs, XV_FEAT_XDP_META) ? XVNET_META_HEAD : XVNET_META_INLINE;
	b->nrx->rodata->cfg_meta_at = b->meta_at;
	b->nrx->rodata->cfg_check_mtu = xv_feature_usable(&fs, XV_FEAT_CHECK_MTU);
	bpf_program__set_autoload(b->nrx->progs.nic_rx_hw, false);
	e = nic_rx__load(b->nrx);
	if (e) {
		fprintf(stderr, "xvnet-costbench: load nic_rx: %s\n", strerror(-e));
		return -1;
	}
	b->nrx_fd = bpf_program__fd(b->nrx->progs.nic_rx);
	b->fd_vms = bpf_map__fd(b->nrx->maps.xvnet_vms);
	b->fd_rss_tables = bpf_map__fd(b->nrx->maps.xvnet_rss_tables);
	b->fd_by_mac = bpf_map__fd(b->nrx->maps.xvnet_vm_by_mac);
	b->fd_vm_cache = bpf_map__fd(b->nrx->maps.xvnet_vm_cache);
	b->fd_ports = bpf_map__fd(b->nrx->maps.xvnet_ports);
	b->fd_xsks = bpf_map__fd(b->nrx->maps.xvnet_xsks);
	b->fd_stats = bpf_map__fd(b->nrx->maps.xvnet_stats);
	b->fd_config = bpf_map__fd(b->nrx->maps.xvnet_config);
	b->ncpus = libbpf_num_possible_cpus();
	if (bpf_map_update_elem(b->fd_config, &zero, &c, BPF_ANY))
		return -1;

	b->triv = bench_redirect__open();
	if (!b->triv)
		return -1;
	b->triv->rodata->xsk_base = XVNET_XSK_SLOT(0, 0);
	if (strstr(o->configs, "floor-mem")) {      /* 128 MB: only when asked */
		bpf_map__set_max_entries(b->triv->maps.triv_table, 1u << FLOOR_TABLE_LOG2);
		b->triv->rodata->table_shift = 32 - FLOOR_TABLE_LOG2;
	}
	if (bpf_map__reuse_fd(b->triv->maps.triv_xsks, b->fd_xsks))
		return -1;
	e = bench_redirect__load(b->triv);
	if (e) {
		fprintf(stderr, "xvnet-costbench: load bench_redirect: %s\n", strerror(-e));
		return -1;
	}
	b->triv_dev_fd = bpf_program__fd(b->triv->progs.triv_devmap);
	b->triv_xsk_fd = bpf_program__fd(b->triv->progs.triv_xsk);
	b->floor_mem_fd = bpf_program__fd(b->triv->progs.triv_memread);

	/* flows go in through xvnet-flowfill and a private pin directory */
	snprintf(b->pin_dir, sizeof(b->pin_dir), "/sys/fs/bpf/xvcost%d", (int)getpid());
	if (mkdir(b->pin_dir, 0700) || bpf_object__pin_maps(b->nrx->obj, b->pin_dir)) {
		fprintf(stderr, "xvnet-costbench: pin maps in %s: %s\n", b->pin_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void teardown(struct bench *b)
{
	char cmd[128];

	if (b->nrx && b->pin_dir[0]) {
		bpf_object__unpin_maps(b->nrx->obj, b->pin_dir);
		rmdir(b->pin_dir);
	}
	if (b->xsk_fd >= 0)
		close(b->xsk_fd);
	if (b->veth[0]) {
		snprintf(cmd, sizeof(cmd), "ip link del %s 2>/dev/null", b->veth);
		if (system(cmd)) { /* already gone */ }
	}
	bench_redirect__destroy(b->triv);
	bench_floor__destroy(b->floor);
	nic_rx__destroy(b->nrx);
}

/* measure() with the fast path off: what the general path costs the same frame. */
static int measure_general(struct bench *b, const char *name, const char *what)
{
	int err;

	if (set_fast_path(b, false))
		return -1;
	err = measure(b, name, what, b->triv_dev_fd, false);
	return set_fast_path(b, true) || err;
}

static bool wanted(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',' || p[-1] == ' ') && (p[n] == 0 || p[n] == ',' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

/* Config name, if wanted: one VM of that kind and queues (its RSS bit by bit
 * where bitwise, else by tables as xvnetd writes them), measured against
 * triv_fd. */
static int one_vm_row(struct bench *b, const char *configs, const char *name, const char *what,
		      const __u8 mac[6], __u8 kind, __u8 n_queues, int triv_fd, bool bitwise)
{
	int e;

	if (!wanted(configs, name))
		return 0;
	b->bitwise = bitwise;
	e = add_vm(b, 0, mac, kind, n_queues) || measure(b, name, what, triv_fd, false);
	b->bitwise = false;
	return e;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rounds", required_argument, 0, 'r' }, { "repeat", required_argument, 0, 'n' },
		{ "single", required_argument, 0, 's' }, { "configs", required_argument, 0, 'c' },
		{ "flowfill", required_argument, 0, 'f' }, { "json", no_argument, 0, 'j' },
		{ "flow-max", required_argument, 0, 'm' },
		{ "help", no_argument, 0, 'h' }, { 0 }
	};
	struct opts o = { .rounds = 5, .repeat = 2000000, .single = 100000,
			  .configs = "1vm,1vm-general,1vm-single,1024vm,flows-1,flows-1-general,flows-1k,"
				     "flows-1k-spread,flows-1M,1vm-v6,flows-1-v6,"
				     "flows-1M-spread,rss4,rss4-bitwise,xsk,xsk-bitwise,xsk-v6,xsk-v6-bitwise,floor-classify,floor-flow40,floor-flow16,floor-mem-1M-spread",
			  .flow_max = 2097152 };
	static char ff[4096];
	struct bench b = { 0 };
	__u8 mac[6];
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o.rounds = atoi(optarg); break;
		case 'n': o.repeat = strtoul(optarg, NULL, 0); break;
		case 's': o.single = strtoul(optarg, NULL, 0); break;
		case 'c': o.configs = optarg; break;
		case 'f': o.flowfill = optarg; break;
		case 'j': o.json = 1; break;
		case 'm': o.flow_max = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: xvnet-costbench [--rounds N] [--repeat N] [--single N] [--configs LIST]\n"
				"                       [--flowfill PATH] [--flow-max N] [--json]\n"
				"configs: 1vm,1vm-general,1vm-single,1024vm,flows-1,flows-1-general,flows-1k,\n"
				"         flows-1k-spread,flows-1M,1vm-v6,flows-1-v6,\n"
				"         flows-1M-spread,rss4,rss4-bitwise,xsk,xsk-bitwise,xsk-v6,\n"
				"         xsk-v6-bitwise,floor-classify,\n"
				"         floor-flow40,floor-flow16,\n"
				"         floor-mem-1M-spread\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (o.rounds < 1 || o.rounds > 64 || !o.repeat || !o.single) {
		fprintf(stderr, "xvnet-costbench: --rounds 1..64, --repeat and --single > 0\n");
		return 2;
	}
	if (!o.flowfill) {   /* beside this binary */
		ssize_t n = readlink("/proc/self/exe", ff, sizeof(ff) - 32);
		char *slash;

		if (n > 0) {
			ff[n] = 0;
			slash = strrchr(ff, '/');
			strcpy(slash ? slash + 1 : ff, "xvnet-flowfill");
		}
		o.flowfill = ff;
	}
	libbpf_set_print(NULL);
	if (setup(&b, &o))
		goto out;
	if (!o.json)
		printf("nic_rx vs trivial redirect (BPF_PROG_TEST_RUN, %s metadata; repeat %u, single %u; "
		       "%d rounds)\n", b.meta_at == XVNET_META_INLINE ? "inline" : "head",
		       o.repeat, o.single, o.rounds);

	vm_mac(0, false, mac);
	build_frame(mac);
	if (add_vm(&b, 0, mac, XVNET_PORT_VETH, 1))
		goto out;
	if (wanted(o.configs, "1vm") &&
	    measure(&b, "1vm", "1 VM, veth port, 1 queue, no flows", b.triv_dev_fd, false))
		goto out;
	if (wanted(o.configs, "1vm-general") &&
	    measure_general(&b, "1vm-general", "the same, fast path off (the general path)"))
		goto out;
	if ((wanted(o.configs, "floor-classify") || wanted(o.configs, "floor-flow40") ||
	     wanted(o.configs, "floor-flow16")) && floor_setup(&b, mac))
		goto out;
	if (wanted(o.configs, "floor-classify") &&
	    measure_prog(&b, "floor-classify", "floor, not nic_rx: parse Ethernet/IPv4/UDP, "
			 "one ARRAY read, one counter, redirect", "floor_classify", b.floor_cls_fd,
			 b.triv_dev_fd, false))
		goto out;
	if (wanted(o.configs, "floor-flow40") &&
	    measure_prog(&b, "floor-flow40", "floor, not nic_rx: floor-classify + an LRU hash "
			 "hit, 40-byte key", "floor_flow40", b.floor_f40_fd, b.triv_dev_fd, false))
		goto out;
	if (wanted(o.configs, "floor-flow16") &&
	    measure_prog(&b, "floor-flow16", "floor, not nic_rx: the same, 16-byte IPv4 key",
			 "floor_flow16", b.floor_f16_fd, b.triv_dev_fd, false))
		goto out;
	if (wanted(o.configs, "floor-mem-1M-spread")) {
		/* the same scattered order of the same 1M flows as flows-1M-spread */
		spread_n = 1000000;
		spread_i = 0;
		if (measure_prog(&b, "floor-mem-1M-spread", "floor, not nic_rx: trivial + one read "
				 "of a random 128-byte entry of a 1M-entry array", "triv_memread",
				 b.floor_mem_fd, b.triv_dev_fd, true))
			goto out;
		spread_n = 0;
		frame_flow(0);
	}
	/* the same in single mode: the reference for rss4 and xsk */
	if (wanted(o.configs, "1vm-single") &&
	    measure(&b, "1vm-single", "1 VM, veth port, 1 queue, no flows", b.triv_dev_fd, true))
		goto out;
	{
		static const struct { const char *name, *what; unsigned long n; } fl[] = {
			{ "flows-1", "flow-cache hit, 1 flow in the cache", 1 },
			{ "flows-1k", "flow-cache hit, 1,000 flows in the cache", 1000 },
			{ "flows-1M", "flow-cache hit, 1,000,000 flows in the cache", 1000000 },
		};
		for (unsigned int i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
			char name[32], what[96];

			if (wanted(o.configs, fl[i].name) &&
			    (flowfill(&b, fl[i].n) ||
			     measure(&b, fl[i].name, fl[i].what, b.triv_dev_fd, false)))
				goto out;
			if (i == 0 && wanted(o.configs, "flows-1-general") &&
			    (flowfill(&b, fl[i].n) ||
			     measure_general(&b, "flows-1-general",
					     "the same, fast path off (the general path)")))
				goto out;
			/* -spread: every run a different one of the flows (single mode) */
			snprintf(name, sizeof(name), "%s-spread", fl[i].name);
			snprintf(what, sizeof(what), "flow-cache hit, a different one of %lu flows each run",
				 fl[i].n);
			if (fl[i].n > 1 && wanted(o.configs, name)) {
				if (flowfill(&b, fl[i].n))
					goto out;
				spread_n = fl[i].n;
				spread_i = 0;
				if (measure(&b, strdup(name), strdup(what), b.triv_dev_fd, true))
					goto out;
				spread_n = 0;
				frame_flow(0);
			}
		}
		set_flows_active(&b, 0);
	}
	/* an IPv6 frame without flows, then hitting its one flow (40-byte key) */
	if (wanted(o.configs, "1vm-v6") || wanted(o.configs, "flows-1-v6")) {
		struct xvnet_flow_key k6;
		struct xvnet_flow v = { .verdict = XVNET_FLOW_DELIVER, .queue = XVNET_QUEUE_RSS };
		int fd = bpf_map__fd(b.nrx->maps.xvnet_flows);

		build_frame6(mac, &k6);
		if (wanted(o.configs, "1vm-v6") &&
		    measure(&b, "1vm-v6", "1 VM, veth port, 1 queue, no flows, an IPv6 frame",
			    b.triv_dev_fd, false))
			goto out;
		if (wanted(o.configs, "flows-1-v6")) {
			if (bpf_map_update_elem(fd, &k6, &v, BPF_ANY) || set_flows_active(&b, 1)) {
				fprintf(stderr, "xvnet-costbench: the IPv6 flow: %s\n", strerror(errno));
				goto out;
			}
			if (measure(&b, "flows-1-v6", "flow-cache hit, 1 IPv6 flow (40-byte key)",
				    b.triv_dev_fd, false))
				goto out;
			bpf_map_delete_elem(fd, &k6);
			set_flows_active(&b, 0);
		}
		frame_len = 60;
		build_frame(mac);
	}
	if (one_vm_row(&b, o.configs, "rss4", "1 VM, veth port, 4 queues (Toeplitz, skb path)",
		       mac, XVNET_PORT_VETH, 4, b.triv_dev_fd, false) ||
	    one_vm_row(&b, o.configs, "rss4-bitwise",
		       "1 VM, veth port, 4 queues (Toeplitz bit by bit, skb path)",
		       mac, XVNET_PORT_VETH, 4, b.triv_dev_fd, true))
		goto out;
	if (wanted(o.configs, "xsk") || wanted(o.configs, "xsk-bitwise") ||
	    wanted(o.configs, "xsk-v6") || wanted(o.configs, "xsk-v6-bitwise")) {
		char cmd[160];
		__u32 slot = XVNET_XSK_SLOT(0, 0), ifx;

		snprintf(b.veth, sizeof(b.veth), "xvcb%x", (unsigned int)getpid() & 0xfffff);
		snprintf(cmd, sizeof(cmd), "ip link add %sa type veth peer name %sb && ip link set %sa up "
			 "&& ip link set %sb up", b.veth, b.veth, b.veth, b.veth);
		if (system(cmd)) {
			fprintf(stderr, "xvnet-costbench: cannot create veth %sa\n", b.veth);
			goto out;
		}
		strcat(b.veth, "a");
		ifx = if_nametoindex(b.veth);
		b.xsk_fd = xv_xsk_rx_open(ifx, 0, &b.umem);
		if (b.xsk_fd < 0 || bpf_map_update_elem(b.fd_xsks, &slot, &b.xsk_fd, BPF_ANY)) {
			fprintf(stderr, "xvnet-costbench: AF_XDP socket on %s: %s\n", b.veth, strerror(errno));
			goto out;
		}
		if (one_vm_row(&b, o.configs, "xsk", "1 VM, AF_XDP port (Toeplitz, xsk metadata)",
			       mac, XVNET_PORT_XSK, 1, b.triv_xsk_fd, false) ||
		    one_vm_row(&b, o.configs, "xsk-bitwise",
			       "1 VM, AF_XDP port (Toeplitz bit by bit, xsk metadata)",
			       mac, XVNET_PORT_XSK, 1, b.triv_xsk_fd, true))
			goto out;
		/* the IPv6 4-tuple: 36 input bytes to hash where IPv4 has 12 */
		if (wanted(o.configs, "xsk-v6") || wanted(o.configs, "xsk-v6-bitwise")) {
			struct xvnet_flow_key k6;

			build_frame6(mac, &k6);
			if (one_vm_row(&b, o.configs, "xsk-v6",
				       "1 VM, AF_XDP port, an IPv6 frame (Toeplitz, xsk metadata)",
				       mac, XVNET_PORT_XSK, 1, b.triv_xsk_fd, false) ||
			    one_vm_row(&b, o.configs, "xsk-v6-bitwise",
				       "1 VM, AF_XDP port, an IPv6 frame (Toeplitz bit by bit, xsk metadata)",
				       mac, XVNET_PORT_XSK, 1, b.triv_xsk_fd, true))
				goto out;
			frame_len = 60;
			build_frame(mac);
		}
	}
	del_vms(&b, 1, false);
	if (wanted(o.configs, "1024vm")) {
		for (__u32 i = 0; i < 1024; i++) {
			vm_mac(i, true, mac);
			if (add_vm(&b, i, mac, XVNET_PORT_VETH, 1))
				goto out;
		}
		vm_mac(512, true, mac);
		build_frame(mac);
		if (measure(&b, "1024vm", "1024 VMs, veth ports, frame to VM 512", b.triv_dev_fd, false))
			goto out;
		del_vms(&b, 1024, true);
	}
	rc = 0;
out:
	teardown(&b);
	return rc;
}
