// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-trafgen: line-rate (or paced) UDP/IPv4 generator for the benchmarks
 * and selftests.  It pushes frames out of a veth with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES (kernel 5.18+), the kernel's own packet
 * generator, because Debian's xdp-trafficgen does not run on this kernel.
 * Where the kernel refuses live frames (lib/features.h: live_frames, probed
 * the same way xvnetd probes, XVNET_WITHOUT honoured) it sends the same
 * frames through AF_PACKET (tools/trafgen/af_packet.h); the report names the
 * source.  Run it in the namespace that holds the device.
 *
 * With --prog-pin the frames are not sent out of --dev: the pinned XDP
 * program runs on them as if --dev had received them (live frames, ingress
 * --dev, queue 0), so its verdicts are carried out for real (a redirect is
 * queued, flushed and transmitted into the port) on the calling CPU, with
 * no generator on another CPU.  The benchmark's "forwarding core" pairs time
 * nic_rx and the trivial redirect that way.  The frame is the template, the
 * same every time (one MAC, one flow, no VLAN: the generator's program is
 * what stamps frames).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "trafgen.skel.h"
#include "lib/features.h"
#include "tools/trafgen/af_packet.h"

struct opts {
	const char *dev;
	struct ether_addr dst, src;
	struct in_addr saddr, daddr;
	unsigned int vlan;          /* 0: untagged */
	unsigned int size;          /* frame bytes without FCS */
	unsigned int n_macs, n_flows;
	unsigned int sport, dport;
	double duration;            /* seconds */
	unsigned long long count;   /* stop after this many (0: duration) */
	double rate;                /* packets/s, 0 = as fast as possible */
	double pace_ms;             /* when pacing, ms' worth of frames per burst */
	int cpu;
	int json;
	const char *source;         /* auto, live or packet */
	const char *prog_pin;       /* run this pinned XDP program instead */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: xvnet-trafgen --dev IF --dst-mac MAC [options]\n"
"  --src-mac MAC        source MAC (default 02:00:00:00:ff:01)\n"
"  --src-ip A --dst-ip B  IPv4 addresses (default 10.99.0.1 -> 10.99.0.2)\n"
"  --sport P --dport P  UDP ports (default 1024 -> 7777)\n"
"  --vlan N             802.1Q tag (default untagged)\n"
"  --size BYTES         frame size without FCS, >= 60 (default 60: 64 on the wire)\n"
"  --macs N             spread over N destination MACs (base + i)\n"
"  --flows N            N distinct flows per MAC (source port, then source IP)\n"
"  --duration S         run for S seconds (default 5)\n"
"  --count N            stop after N packets\n"
"  --rate PPS           pace to PPS packets per second (default: line rate)\n"
"  --pace-ms MS         when pacing, send MS milliseconds' worth of frames per\n"
"                       burst (default 50; small bursts tell when a frame\n"
"                       first passes to within MS, at more calls a second)\n"
"  --cpu N              pin to CPU N\n"
"  --source S           auto (default: live frames where the kernel allows\n"
"                       them, else AF_PACKET), live or packet\n"
"  --prog-pin PATH      run the pinned XDP program PATH on the frames as if\n"
"                       --dev received them, on this CPU, instead of sending\n"
"                       them (live frames only; one MAC, one flow, no VLAN)\n"
"  --json               print the report as JSON\n"
"SIGINT or SIGTERM ends the run early, after the burst in progress, with the report.\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "dev", required_argument, 0, 'd' }, { "dst-mac", required_argument, 0, 'm' },
		{ "src-mac", required_argument, 0, 'M' }, { "src-ip", required_argument, 0, 'S' },
		{ "dst-ip", required_argument, 0, 'D' }, { "sport", required_argument, 0, 'p' },
		{ "dport", required_argument, 0, 'P' }, { "vlan", required_argument, 0, 'v' },
		{ "size", required_argument, 0, 's' }, { "macs", required_argument, 0, 'n' },
		{ "flows", required_argument, 0, 'f' }, { "duration", required_argument, 0, 't' },
		{ "count", required_argument, 0, 'c' }, { "rate", required_argument, 0, 'r' },
		{ "cpu", required_argument, 0, 'C' }, { "json", no_argument, 0, 'j' },
		{ "source", required_argument, 0, 'o' }, { "prog-pin", required_argument, 0, 'g' },
		{ "pace-ms", required_argument, 0, 'a' }, { "help", no_argument, 0, 'h' }, { 0 }
	};
	int c;

	*o = (struct opts){ .size = 60, .n_macs = 1, .n_flows = 1, .sport = 1024,
			    .dport = 7777, .duration = 5, .pace_ms = 50, .cpu = -1,
			    .source = "auto" };
	ether_aton_r("02:00:00:00:ff:01", &o->src);
	inet_aton("10.99.0.1", &o->saddr);
	inet_aton("10.99.0.2", &o->daddr);
	memset(&o->dst, 0xff, sizeof(o->dst));

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end = NULL;

		switch (c) {
		case 'd': o->dev = optarg; break;
		case 'm': if (!ether_aton_r(optarg, &o->dst)) goto bad; break;
		case 'M': if (!ether_aton_r(optarg, &o->src)) goto bad; break;
		case 'S': if (!inet_aton(optarg, &o->saddr)) goto bad; break;
		case 'D': if (!inet_aton(optarg, &o->daddr)) goto bad; break;
		case 'p': o->sport = strtoul(optarg, &end, 0); if (*end || o->sport > 65535) goto bad; break;
		case 'P': o->dport = strtoul(optarg, &end, 0); if (*end || o->dport > 65535) goto bad; break;
		case 'v': o->vlan = strtoul(optarg, &end, 0); if (*end || o->vlan > 4094) goto bad; break;
		case 's': o->size = strtoul(optarg, &end, 0); if (*end || o->size < 60 || o->size > 3000) goto bad; break;
		case 'n': o->n_macs = strtoul(optarg, &end, 0); if (*end || !o->n_macs || o->n_macs > 65536) goto bad; break;
		case 'f': o->n_flows = strtoul(optarg, &end, 0); if (*end || !o->n_flows || o->n_flows > (1u << 24)) goto bad; break;
		case 't': o->duration = strtod(optarg, &end); if (*end || o->duration <= 0) goto bad; break;
		case 'c': o->count = strtoull(optarg, &end, 0); if (*end) goto bad; break;
		case 'r': o->rate = strtod(optarg, &end); if (*end || o->rate < 0) goto bad; break;
		case 'a': o->pace_ms = strtod(optarg, &end); if (*end || o->pace_ms <= 0 || o->pace_ms > 1000) goto bad; break;
		case 'C': o->cpu = strtol(optarg, &end, 0); if (*end || o->cpu < 0) goto bad; break;
		case 'j': o->json = 1; break;
		case 'o':
			if (strcmp(optarg, "auto") && strcmp(optarg, "live") && strcmp(optarg, "packet"))
				goto bad;
			o->source = optarg;
			break;
		case 'g': o->prog_pin = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		continue;
bad:
		for (const struct option *p = lo; p->name; p++)
			if (p->val == c)
				fprintf(stderr, "xvnet-trafgen: invalid --%s '%s'\n", p->name, optarg);
		return -1;
	}
	if (!o->dev) {
		fprintf(stderr, "xvnet-trafgen: --dev is required\n");
		return -1;
	}
	if (o->prog_pin && (o->vlan || o->n_macs > 1 || o->n_flows > 1 ||
			    !strcmp(o->source, "packet"))) {
		fprintf(stderr, "xvnet-trafgen: --prog-pin runs the template frame as it is, "
			"with live frames: no --vlan, --macs, --flows or --source packet\n");
		return -1;
	}
	return 0;
}

static __u16 csum16(const void *p, size_t len)
{
	const __u16 *w = p;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Template frame; trafgen.bpf.c rewrites MAC, source port/IP, checksums. */
static size_t build_frame(const struct opts *o, __u8 *buf)
{
	struct ethhdr *eth = (void *)buf;
	size_t l3 = sizeof(*eth);
	struct iphdr *ip;
	struct udphdr *udp;

	memset(buf, 0, o->size);
	memcpy(eth->h_dest, &o->dst, ETH_ALEN);
	memcpy(eth->h_source, &o->src, ETH_ALEN);
	if (o->vlan) {
		__be16 tag[2] = { htons(o->vlan), htons(ETH_P_IP) };

		eth->h_proto = htons(ETH_P_8021Q);
		memcpy(buf + l3, tag, sizeof(tag));
		l3 += sizeof(tag);
	} else {
		eth->h_proto = htons(ETH_P_IP);
	}
	ip = (void *)(buf + l3);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(o->size - l3);
	ip->saddr = o->saddr.s_addr;
	ip->daddr = o->daddr.s_addr;
	ip->check = csum16(ip, sizeof(*ip));
	udp = (void *)(ip + 1);
	udp->source = htons(o->sport);
	udp->dest = htons(o->dport);
	udp->len = htons(o->size - l3 - sizeof(*ip));
	memcpy(udp + 1, "xvnet-trafgen", 13);
	return o->size;
}

/*
 * SIGINT or SIGTERM ends the run after the burst in progress, with the
 * usual report: the benchmark runs the source longer than it needs and
 * stops it once its window is measured.  The signals are blocked during a
 * burst, since a signal would cut BPF_PROG_TEST_RUN short (EINTR) without
 * saying how many frames it had sent.
 */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* auto: live frames where this kernel runs them (and XVNET_WITHOUT allows). */
static bool use_live(const struct opts *o)
{
	struct xv_features fs = { 0 };
	char err[256];

	if (strcmp(o->source, "auto") != 0)
		return strcmp(o->source, "live") == 0;
	if (xv_features_probe(&fs, err, sizeof(err)))
		fprintf(stderr, "xvnet-trafgen: %s\n", err);
	return xv_feature_usable(&fs, XV_FEAT_LIVE_FRAMES);
}

/*
 * One burst of n frames: live frames (one BPF_PROG_TEST_RUN call, which
 * stamps each copy in BPF), or AF_PACKET batches stamped here.
 */
struct source {
	bool live;
	int prog_fd, afp_fd;
	const __u8 *frame;
	size_t len;
	struct xdp_md ctx_in;
	struct tg_stamp st;
	uint64_t seq;
};

static int burst(struct source *src, unsigned long long n)
{
	if (src->live) {
		LIBBPF_OPTS(bpf_test_run_opts, ro,
			.data_in = src->frame, .data_size_in = src->len,
			.ctx_in = &src->ctx_in, .ctx_size_in = sizeof(src->ctx_in),
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

		ro.repeat = n;
		if (bpf_prog_test_run_opts(src->prog_fd, &ro)) {
			fprintf(stderr, "xvnet-trafgen: BPF_PROG_TEST_RUN: %s%s\n",
				strerror(errno), errno == EPERM ?
				" (this kernel refuses live frames: --source packet)" : "");
			return -1;
		}
		return 0;
	}
	if (afp_send(src->afp_fd, src->frame, src->len, &src->st, &src->seq, n) != (long)n) {
		fprintf(stderr, "xvnet-trafgen: AF_PACKET send: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct trafgen *skel = NULL;
	struct source src = { .afp_fd = -1 };
	struct opts o;
	__u8 frame[3000];
	unsigned long long sent = 0, calls = 0, chunk;
	double t0, t1, elapsed;
	unsigned int ifindex;
	char err[256];
	int rc = 1, pinned_fd = -1;
	sigset_t stop_sigs;

	if (parse_opts(argc, argv, &o))
		return 2;
	ifindex = if_nametoindex(o.dev);
	if (!ifindex) {
		fprintf(stderr, "xvnet-trafgen: --dev %s: no such device in this namespace\n", o.dev);
		return 2;
	}
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			fprintf(stderr, "xvnet-trafgen: cannot pin to CPU %d: %s\n", o.cpu, strerror(errno));
	}
	src.live = use_live(&o);
	src.len = build_frame(&o, frame);
	src.frame = frame;
	src.st = (struct tg_stamp){ .n_macs = o.n_macs, .n_flows = o.n_flows,
				    .l3_off = o.vlan ? 18 : 14, .sport_base = (__u16)o.sport,
				    .saddr_base = o.saddr.s_addr };
	memcpy(src.st.mac_base, &o.dst, ETH_ALEN);

	if (o.prog_pin) {
		if (!src.live) {
			fprintf(stderr, "xvnet-trafgen: --prog-pin needs live frames, which this "
				"kernel refuses\n");
			goto out;
		}
		src.prog_fd = pinned_fd = bpf_obj_get(o.prog_pin);
		if (pinned_fd < 0) {
			fprintf(stderr, "xvnet-trafgen: --prog-pin %s: %s\n", o.prog_pin, strerror(errno));
			goto out;
		}
		src.ctx_in.ingress_ifindex = ifindex;
		src.ctx_in.data_end = src.len;
	} else if (src.live) {
		int e;

		skel = trafgen__open();
		if (!skel) {
			fprintf(stderr, "xvnet-trafgen: cannot open BPF object\n");
			return 1;
		}
		skel->rodata->n_macs = o.n_macs;
		skel->rodata->n_flows = o.n_flows;
		skel->rodata->l3_off = o.vlan ? 18 : 14;
		skel->rodata->sport_base = o.sport;
		memcpy((void *)skel->rodata->mac_base, &o.dst, ETH_ALEN);
		skel->rodata->saddr_base = o.saddr.s_addr;
		memcpy(skel->bss->tmpl, frame, sizeof(skel->bss->tmpl));
		e = trafgen__load(skel);
		if (e) {
			fprintf(stderr, "xvnet-trafgen: cannot load BPF program: %s\n", strerror(-e));
			goto out;
		}
		src.prog_fd = bpf_program__fd(skel->progs.trafgen);
		src.ctx_in.ingress_ifindex = ifindex;
		src.ctx_in.data_end = src.len;  /* the kernel wants the ctx to describe the data */
	} else {
		src.afp_fd = afp_open((int)ifindex, err, sizeof(err));
		if (src.afp_fd < 0) {
			fprintf(stderr, "xvnet-trafgen: %s\n", err);
			goto out;
		}
	}

	/*
	 * Small live calls are dear (each sets up its frames' pages: 1.1 Mpps
	 * at 64 frames a call, 6.3 Mpps at 4096, 6.18.44-fc-v1272), so at line
	 * rate a call runs for a good fraction of a second; when pacing, a
	 * burst sends --pace-ms worth and the rate holds over longer spans.
	 */
	if (o.rate > 0) {
		double per_burst = o.rate * o.pace_ms / 1000;

		chunk = per_burst > 1 ? (unsigned long long)per_burst : 1;
	} else {
		chunk = src.live ? 1u << 20 : 1u << 14;
	}
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	t0 = now();
	for (;;) {
		unsigned long long n = chunk;
		int e;

		if (o.count && sent + n > o.count)
			n = o.count - sent;
		if (!n || stop_requested)
			break;
		sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
		e = burst(&src, n);
		sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);   /* a pending stop lands here */
		if (e)
			goto out;
		sent += n;
		calls++;
		t1 = now();
		if (!o.count && t1 - t0 >= o.duration)
			break;
		if (o.rate > 0) {
			double ahead = sent / o.rate - (t1 - t0);

			if (ahead > 0)
				usleep(ahead * 1e6);
		}
		/* line rate: size a burst to ~0.25 s (live) or ~10 ms (AF_PACKET) */
		if (o.rate == 0 && calls == 1 && t1 - t0 > 0)
			chunk = (unsigned long long)(sent / (t1 - t0) / (src.live ? 4 : 100)) + 1;
	}
	elapsed = now() - t0;
	if (o.json)
		printf("{\"sent\":%llu,\"seconds\":%.3f,\"pps\":%.0f,\"size\":%u,\"macs\":%u,"
		       "\"flows\":%u,\"source\":\"%s\"}\n",
		       sent, elapsed, sent / elapsed, o.size, o.n_macs, o.n_flows,
		       o.prog_pin ? "core" : src.live ? "live" : "af_packet");
	else
		printf("sent %llu packets of %u bytes in %.3f s: %.0f pps (%u MACs, %u flows, %s)\n",
		       sent, o.size, elapsed, sent / elapsed, o.n_macs, o.n_flows,
		       o.prog_pin ? "run in place of the NIC" : src.live ? "live frames" : "AF_PACKET");
	rc = 0;
out:
	if (src.afp_fd >= 0)
		close(src.afp_fd);
	if (pinned_fd >= 0)
		close(pinned_fd);
	trafgen__destroy(skel);
	return rc;
}
