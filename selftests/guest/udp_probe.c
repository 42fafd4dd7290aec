// SPDX-License-Identifier: GPL-2.0-only
/*
 * udp_probe: send N paced UDP datagrams to a guest's udp_echo and count the
 * distinct application replies ("XVNET-ECHO <id> " + our payload).
 *
 * usage: udp_probe [-n COUNT] [-r PPS] [-t TIMEOUT_MS] [-s SIZE]
 *                  [-i EXPECT_ID] [-m MIN_REPLIES] [-b BIND_ADDR]
 *                  [-p SRC_PORT] [-q] HOST PORT
 *
 * Prints one line:  udp_probe: sent=N replies=M bad=K ids=ID[,ID...] ms=T
 * Exit 0 when replies >= MIN_REPLIES (default 1), 1 when fewer, 2 on error.
 * TIMEOUT_MS counts from the last datagram sent.  PPS is capped at 20000.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ECHO_MARKER "XVNET-ECHO "
#define MAX_COUNT 1000000
#define MAX_PPS 20000
#define MAX_IDS 8

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void usage(const char *p)
{
	fprintf(stderr,
		"usage: %s [-n COUNT] [-r PPS] [-t TIMEOUT_MS] [-s SIZE] [-i ID]\n"
		"          [-m MIN_REPLIES] [-b BIND_ADDR] [-p SRC_PORT] [-q] HOST PORT\n",
		p);
	exit(2);
}

static char ids[MAX_IDS][72];
static int n_ids;

static void note_id(const char *id, size_t len)
{
	int i;

	if (len >= sizeof(ids[0]))
		len = sizeof(ids[0]) - 1;
	for (i = 0; i < n_ids; i++)
		if (strlen(ids[i]) == len && !memcmp(ids[i], id, len))
			return;
	if (n_ids < MAX_IDS) {
		memcpy(ids[n_ids], id, len);
		ids[n_ids][len] = 0;
		n_ids++;
	}
}

int main(int argc, char **argv)
{
	long count = 10, pps = 100, timeout_ms = 2000, size = 64, min = 1;
	const char *expect_id = NULL, *bind_addr = NULL, *src_port = NULL;
	static char buf[70000], pay[65536];
	struct addrinfo hints, *ai = NULL, *b = NULL;
	unsigned char *seen;
	long sent = 0, replies = 0, bad = 0;
	long long start, next, last_sent = 0, gap;
	unsigned int nonce;
	int quiet = 0, fd, c, rc;

	while ((c = getopt(argc, argv, "n:r:t:s:i:m:b:p:q")) != -1) {
		switch (c) {
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'r': pps = strtol(optarg, NULL, 10); break;
		case 't': timeout_ms = strtol(optarg, NULL, 10); break;
		case 's': size = strtol(optarg, NULL, 10); break;
		case 'i': expect_id = optarg; break;
		case 'm': min = strtol(optarg, NULL, 10); break;
		case 'b': bind_addr = optarg; break;
		case 'p': src_port = optarg; break;
		case 'q': quiet = 1; break;
		default: usage(argv[0]);
		}
	}
	if (argc - optind != 2 || count < 1 || count > MAX_COUNT || pps < 1 ||
	    timeout_ms < 0 || size < 32 || size > (long)sizeof(pay) - 1 || min < 0)
		usage(argv[0]);
	if (pps > MAX_PPS)
		pps = MAX_PPS;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai);
	if (rc) {
		fprintf(stderr, "udp_probe: %s %s: %s\n", argv[optind],
			argv[optind + 1], gai_strerror(rc));
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udp_probe: socket");
		return 2;
	}
	if (bind_addr || src_port) {
		hints.ai_family = ai->ai_family;
		hints.ai_flags |= AI_PASSIVE;
		rc = getaddrinfo(bind_addr, src_port ? src_port : "0", &hints, &b);
		if (rc || bind(fd, b->ai_addr, b->ai_addrlen) < 0) {
			fprintf(stderr, "udp_probe: bind %s:%s: %s\n",
				bind_addr ? bind_addr : "*", src_port ? src_port : "0",
				rc ? gai_strerror(rc) : strerror(errno));
			return 2;
		}
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("udp_probe: connect");
		return 2;
	}
	seen = calloc((size_t)count, 1);
	if (!seen)
		return 2;

	nonce = (unsigned int)getpid() ^ (unsigned int)now_us();
	gap = 1000000LL / pps;
	start = now_us();
	next = start;

	for (;;) {
		long long t = now_us(), wait_us;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (sent < count && t >= next) {
			int hl = snprintf(pay, sizeof(pay), "xvp %08x %ld ", nonce, sent);

			memset(pay + hl, 'x', (size_t)(size - hl));
			if (send(fd, pay, (size_t)size, 0) < 0 &&
			    errno != ECONNREFUSED && errno != EAGAIN && errno != ENOBUFS) {
				perror("udp_probe: send");
				return 2;
			}
			sent++;
			last_sent = t;
			next += gap;
			continue;
		}
		if (replies >= count)
			break;
		if (sent >= count) {
			wait_us = last_sent + timeout_ms * 1000LL - t;
			if (wait_us <= 0)
				break;
		} else {
			wait_us = next - t;
		}
		rc = poll(&pfd, 1, (int)((wait_us + 999) / 1000));
		if (rc < 0 && errno != EINTR) {
			perror("udp_probe: poll");
			return 2;
		}
		while (rc > 0) {
			ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			char *id, *sp, *p;
			unsigned int rn;
			long seq;

			if (n < 0)
				break; /* EAGAIN, or ECONNREFUSED: keep going */
			buf[n] = 0;
			if ((size_t)n < sizeof(ECHO_MARKER) ||
			    memcmp(buf, ECHO_MARKER, strlen(ECHO_MARKER))) {
				bad++;
				continue;
			}
			id = buf + strlen(ECHO_MARKER);
			sp = strchr(id, ' ');
			if (!sp || sscanf(sp + 1, "xvp %x %ld ", &rn, &seq) != 2 ||
			    rn != nonce || seq < 0 || seq >= sent) {
				bad++;
				continue;
			}
			if (expect_id && ((size_t)(sp - id) != strlen(expect_id) ||
					  memcmp(id, expect_id, (size_t)(sp - id)))) {
				bad++;
				continue;
			}
			p = sp + 1;
			if ((buf + n) - p != size) {
				bad++;
				continue;
			}
			note_id(id, (size_t)(sp - id));
			if (!seen[seq]) {
				seen[seq] = 1;
				replies++;
			}
		}
	}

	if (!quiet || replies < min) {
		int i;

		printf("udp_probe: sent=%ld replies=%ld bad=%ld ids=", sent, replies, bad);
		for (i = 0; i < n_ids; i++)
			printf("%s%s", i ? "," : "", ids[i]);
		printf("%s ms=%lld\n", n_ids ? "" : "-", (now_us() - start) / 1000);
	}
	free(seen);
	freeaddrinfo(ai);
	if (b)
		freeaddrinfo(b);
	close(fd);
	return replies >= min ? 0 : 1;
}
