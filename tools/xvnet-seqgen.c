// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-seqgen: a numbered UDP stream for the vm move test (DNIS): F flows
 * (UDP source ports 40000+f), frame i belongs to flow i % F and carries
 * that flow's sequence number i / F in its payload (struct seq_payload,
 * tools/seq_proto.h), so xvnet-seqrecv can tell a gap, a duplicate or a
 * reordering within a flow.  Sent with AF_PACKET, PACKET_QDISC_BYPASS and
 * sendmmsg (as tools/trafgen/af_packet.c), paced to --rate frames/s; a
 * frame the device refuses (ENOBUFS) is sent again, never skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include "tools/seq_proto.h"

#define BATCH 32

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_mac(const char *s, uint8_t *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2],
		      &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

static uint16_t ip_csum(const void *p)
{
	const uint16_t *w = p;
	uint32_t sum = 0;

	for (int k = 0; k < 10; k++)
		sum += w[k];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void build(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
		  uint32_t flow, uint64_t seq, uint32_t run)
{
	struct iphdr *ip = (struct iphdr *)(f + ETH_HLEN);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	struct seq_payload *pl = (struct seq_payload *)(udp + 1);

	memset(f, 0, SEQ_FRAME_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(SEQ_FRAME_LEN - ETH_HLEN);
	ip->saddr = htonl(0x0a4d0001);          /* 10.77.0.1, the wire */
	ip->daddr = htonl(0x0a4d0032);          /* 10.77.0.50 */
	ip->check = ip_csum(ip);
	udp->source = htons((uint16_t)(SEQ_SPORT_BASE + flow));
	udp->dest = htons(SEQ_DPORT);
	udp->len = htons(SEQ_FRAME_LEN - ETH_HLEN - sizeof(*ip));
	pl->magic = htonl(SEQ_MAGIC);
	pl->run = run;
	pl->flow = flow;
	pl->seq = seq;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "flows", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "run", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t dmac[6] = { 0 }, smac[6] = { 0x02, 0x77, 0, 0, 0, 1 };
	static uint8_t frames[BATCH][SEQ_FRAME_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	const char *dev = NULL;
	uint64_t count = 1000, total, i = 0, t0, retries = 0;
	uint32_t flows = 4, run = 0;
	double rate = 100000, el;
	int c, fd, one = 1, sndbuf = 4 << 20;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'm':
			if (parse_mac(optarg, dmac))
				goto usage;
			break;
		case 'f': flows = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'R': run = (uint32_t)strtoul(optarg, NULL, 0); break;
		default: goto usage;
		}
	}
	if (!dev || !flows || flows > SEQ_MAX_FLOWS || rate <= 0)
		goto usage;
	sll.sll_ifindex = (int)if_nametoindex(dev);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (!sll.sll_ifindex || fd < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "xvnet-seqgen: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	total = count * flows;
	t0 = now_ns();
	while (i < total) {
		unsigned int b = total - i < BATCH ? (unsigned int)(total - i) : BATCH;
		uint64_t due = t0 + (uint64_t)((double)i * 1e9 / rate), t = now_ns();
		int r;

		/* paced: the batch leaves when the rate says it is due */
		if (due > t + 50000) {
			struct timespec ts = { 0, (long)(due - t) };

			nanosleep(&ts, NULL);
		}
		memset(msgs, 0, sizeof(msgs[0]) * b);
		for (unsigned int k = 0; k < b; k++) {
			uint64_t j = i + k;

			build(frames[k], dmac, smac, (uint32_t)(j % flows), j / flows, run);
			iov[k] = (struct iovec){ frames[k], SEQ_FRAME_LEN };
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(fd, msgs, b, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				retries++;
				usleep(20);
				continue;       /* the same frames again: none skipped */
			}
			fprintf(stderr, "xvnet-seqgen: sendmmsg: %s\n", strerror(errno));
			return 1;
		}
		i += (uint64_t)r;
	}
	el = (double)(now_ns() - t0) / 1e9;
	printf("{\"sent\": %llu, \"flows\": %u, \"per_flow\": %llu, \"elapsed_s\": %.3f,"
	       " \"pps\": %.0f, \"retries\": %llu}\n", (unsigned long long)total,
	       flows, (unsigned long long)count, el, (double)total / el,
	       (unsigned long long)retries);
	return 0;
usage:
	fprintf(stderr, "usage: xvnet-seqgen --dev IF --dst-mac MAC [--flows F]"
		" [--count N per flow] [--rate PPS] [--run ID]\n");
	return 2;
}
