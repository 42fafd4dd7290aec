// SPDX-License-Identifier: GPL-2.0-only
/* The AF_PACKET source of tools/trafgen/af_packet.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include "tools/trafgen/af_packet.h"
#include "tools/trafgen_flow.h"

#define BATCH 64
#define FRAME_MAX 3000

int afp_open(int ifindex, char *err, size_t errlen)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
				   .sll_protocol = 0 };
	int one = 1, sndbuf = 4 << 20;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "socket(AF_PACKET): %s", strerror(errno));
		return -1;
	}
	/* straight to the driver, as live frames are: no qdisc in the way */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		snprintf(err, errlen, "AF_PACKET on ifindex %d: %s", ifindex, strerror(errno));
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return fd;
}

static uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Frame i: the template with trafgen.bpf.c's MAC, port and address. */
static void stamp(uint8_t *f, const struct tg_stamp *st, uint64_t i)
{
	uint32_t mac_idx = (uint32_t)(i % st->n_macs);
	uint32_t flow = (uint32_t)((i / st->n_macs) % st->n_flows);
	uint32_t mac_lo = ((uint32_t)st->mac_base[4] << 8 | st->mac_base[5]) + mac_idx;
	struct iphdr *ip = (struct iphdr *)(f + st->l3_off);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	const uint16_t *w = (const uint16_t *)ip;
	uint32_t sum = 0;

	memcpy(f, st->mac_base, 4);
	f[4] = (uint8_t)(mac_lo >> 8);
	f[5] = (uint8_t)mac_lo;
	udp->source = htons((uint16_t)TRAFGEN_FLOW_SPORT(st->sport_base, flow));
	udp->check = 0;
	ip->saddr = htonl(ntohl(st->saddr_base) + TRAFGEN_FLOW_SADDR_ADD(flow));
	ip->check = 0;
	for (int k = 0; k < 10; k++)
		sum += w[k];
	ip->check = csum_fold(sum);
}

long afp_send(int fd, const uint8_t *tmpl, size_t len, const struct tg_stamp *st,
	      uint64_t *seq, unsigned long n)
{
	static uint8_t frames[BATCH][FRAME_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned long sent = 0;

	if (len > FRAME_MAX || st->l3_off + sizeof(struct iphdr) + sizeof(struct udphdr) > len) {
		errno = EINVAL;
		return -1;
	}
	for (int k = 0; k < BATCH; k++)
		memcpy(frames[k], tmpl, len);
	while (sent < n) {
		unsigned int b = n - sent < BATCH ? (unsigned int)(n - sent) : BATCH;
		int r;

		memset(msgs, 0, sizeof(msgs[0]) * b);
		for (unsigned int k = 0; k < b; k++) {
			stamp(frames[k], st, *seq + k);
			iov[k] = (struct iovec){ frames[k], len };
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(fd, msgs, b, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(50);     /* the device is full: as live frames, try on */
				continue;
			}
			return sent ? (long)sent : -1;
		}
		*seq += (uint64_t)r;
		sent += (unsigned long)r;
	}
	return (long)sent;
}
