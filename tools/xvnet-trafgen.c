// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-trafgen: line-rate (or paced) UDP/IPv4 generator for the benchmarks
 * and selftests.  It pushes frames out of a veth with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES (kernel 5.18+), the kernel's own packet
 * generator, because Debian's xdp-trafficgen does not run on this kernel.
 * Run it in the namespace that holds the device.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "trafgen.skel.h"

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
	int cpu;
	int json;
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
"  --cpu N              pin to CPU N\n"
"  --json               print the report as JSON\n");
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
		{ "help", no_argument, 0, 'h' }, { 0 }
	};
	int c;

	*o = (struct opts){ .size = 60, .n_macs = 1, .n_flows = 1, .sport = 1024,
			    .dport = 7777, .duration = 5, .cpu = -1 };
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
		case 'C': o->cpu = strtol(optarg, &end, 0); if (*end || o->cpu < 0) goto bad; break;
		case 'j': o->json = 1; break;
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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct trafgen *skel;
	struct opts o;
	__u8 frame[3000];
	struct xdp_md ctx_in = {};
	unsigned long long sent = 0, calls = 0;
	double t0, t1, elapsed;
	unsigned int ifindex;
	int err, prog_fd;

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
	build_frame(&o, frame);
	memcpy(skel->bss->tmpl, frame, sizeof(skel->bss->tmpl));
	err = trafgen__load(skel);
	if (err) {
		fprintf(stderr, "xvnet-trafgen: cannot load BPF program: %s\n", strerror(-err));
		trafgen__destroy(skel);
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.trafgen);
	ctx_in.ingress_ifindex = ifindex;

	/*
	 * Each call has a fixed setup cost (tens of ms here), so at line rate a
	 * call runs for a good fraction of a second; when pacing, a call sends
	 * 50 ms worth as one burst and the rate holds over longer spans.
	 */
	{
		size_t len = build_frame(&o, frame);

		ctx_in.data_end = len;  /* the kernel wants the ctx to describe the data */
		unsigned long long chunk = o.rate > 0 ? (o.rate / 20 > 1 ? o.rate / 20 : 1) : 1u << 20;

		t0 = now();
		for (;;) {
			unsigned long long n = chunk;
			LIBBPF_OPTS(bpf_test_run_opts, ro,
				.data_in = frame, .data_size_in = len,
				.ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
				.flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

			if (o.count && sent + n > o.count)
				n = o.count - sent;
			if (!n)
				break;
			ro.repeat = n;
			err = bpf_prog_test_run_opts(prog_fd, &ro);
			if (err) {
				fprintf(stderr, "xvnet-trafgen: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
				trafgen__destroy(skel);
				return 1;
			}
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
			/* line rate with a big chunk: size it to ~0.25 s per call */
			if (o.rate == 0 && calls == 1 && t1 - t0 > 0)
				chunk = (unsigned long long)(sent / (t1 - t0) / 4) + 1;
		}
	}
	elapsed = now() - t0;
	if (o.json)
		printf("{\"sent\":%llu,\"seconds\":%.3f,\"pps\":%.0f,\"size\":%u,\"macs\":%u,\"flows\":%u}\n",
		       sent, elapsed, sent / elapsed, o.size, o.n_macs, o.n_flows);
	else
		printf("sent %llu packets of %u bytes in %.3f s: %.0f pps (%u MACs, %u flows)\n",
		       sent, o.size, elapsed, sent / elapsed, o.n_macs, o.n_flows);
	trafgen__destroy(skel);
	return 0;
}
