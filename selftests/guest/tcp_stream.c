// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcp_stream: a bulk TCP sender and receiver for the selftests, run in the
 * QEMU guest (built static by build-guest.sh) and on the host.  iperf3 is
 * not in the guest's busybox initramfs; this is the smallest tool that tells
 * a test, in one line each side, that every byte arrived, how fast, and how
 * many segments the sender had to retransmit.
 *
 *   tcp_stream -s PORT [-i IDLE_S]
 *       Receive.  Prints "TCP-STREAM-READY port=PORT" once listening, then
 *       serves each connection in a child process: reads until EOF (or
 *       IDLE_S seconds without data, default 10), answers "RCVD <bytes>\n"
 *       and prints
 *         TCP-STREAM-RX peer=IP:PORT bytes=N secs=S mbps=M status=ok|idle|error
 *
 *   tcp_stream -c IP PORT -b BYTES [-w WRITE] [-t TIMEOUT_S]
 *       Send BYTES in writes of WRITE bytes (default 65536: large writes
 *       let the sender build TSO super-frames), then half-close and wait for
 *       the receiver's count; the whole exchange is bounded by TIMEOUT_S
 *       (default 20).  Prints
 *         TCP-STREAM-TX dst=IP:PORT bytes=N sent=N rcvd=N secs=S mbps=M
 *           segs_out=N data_segs_out=N retrans=N bytes_retrans=N mss=N
 *           rtt_us=N status=ok|timeout|short|error[:why]
 *       (one line) and exits 0 only when the receiver counted all BYTES.
 *       rcvd is the receiver's own count; mbps is rcvd over the time from
 *       connect to that answer; segs_out and retrans come from the sender's
 *       TCP_INFO and count MSS-sized segments (a TSO frame counts as many).
 *
 * Built with -O2 -Wall -Wextra -Werror (C11 + GNU extensions for
 * getopt/poll; static for the guest).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>          /* the kernel's tcp_info: has segs_out & co. */
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_MAX (1 << 20)

static char buf[BUF_MAX];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* milliseconds left until DEADLINE (never negative) */
static int left_ms(double deadline)
{
	double l = deadline - now_s();

	return l <= 0 ? 0 : (int)(l * 1000) + 1;
}

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		/* a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d */
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof(host));
		port = ntohs(a->sin6_port);
	}
	/* [v6]:port, so the port never reads as part of the address */
	snprintf(out, len, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

/* ---- receiver ------------------------------------------------------------- */

static int listen_on(unsigned short port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, zero = 0, fd;

	/* dual-stack first, like udp_echo; IPv4 only where IPv6 is off */
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		a6.sin6_addr = in6addr_any;
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0 && listen(fd, 16) == 0)
			return fd;
		close(fd);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a4.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) != 0 || listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void serve_one(int fd, const struct sockaddr_storage *peer, int idle_s)
{
	unsigned long long bytes = 0;
	const char *status = "ok";
	char who[80], reply[64];
	double t0 = now_s(), secs;
	int n;

	addr_str(peer, who, sizeof(who));
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		n = poll(&p, 1, idle_s * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			status = n == 0 ? "idle" : "error";
			break;
		}
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			status = "error";   /* e.g. reset by a sender that gave up */
			break;
		}
		if (r == 0)
			break;
		bytes += (unsigned long long)r;
	}
	secs = now_s() - t0;
	/* the sender's proof that everything arrived: our own count */
	n = snprintf(reply, sizeof(reply), "RCVD %llu\n", bytes);
	if (write(fd, reply, (size_t)n) != n && strcmp(status, "ok") == 0)
		status = "error";
	printf("TCP-STREAM-RX peer=%s bytes=%llu secs=%.3f mbps=%.1f status=%s\n",
	       who, bytes, secs, secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0.0, status);
	fflush(stdout);
}

static int run_server(unsigned short port, int idle_s)
{
	struct sigaction sa = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
	int lfd;

	/* children are never waited for: let the kernel reap them */
	sigaction(SIGCHLD, &sa, NULL);
	lfd = listen_on(port);
	if (lfd < 0) {
		printf("TCP-STREAM-ERROR cannot listen on port %u: %s\n", port, strerror(errno));
		fflush(stdout);
		return 1;
	}
	printf("TCP-STREAM-READY port=%u\n", port);
	fflush(stdout);
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("tcp_stream: accept");
			return 1;
		}
		/* a child per connection: one stalled sender never delays another */
		pid = fork();
		if (pid == 0) {
			close(lfd);
			serve_one(fd, &peer, idle_s);
			_exit(0);
		}
		if (pid < 0)   /* no child: serve it here rather than drop it */
			serve_one(fd, &peer, idle_s);
		close(fd);
	}
}

/* ---- sender ----------------------------------------------------------------- */

struct tx_result {
	unsigned long long bytes, sent, rcvd;
	double secs;
	struct tcp_info ti;
	const char *status;
	char why[64];
};

static int connect_by(const char *host, const char *port, double deadline, char *why, size_t wl)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	unsigned short pn = (unsigned short)strtoul(port, NULL, 10);
	struct sockaddr *sa;
	socklen_t salen;
	int fd, r, err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p;

	/* numeric addresses only: no getaddrinfo, which a static glibc
	 * binary would want NSS libraries for */
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_port = htons(pn);
		sa = (struct sockaddr *)&a4;
		salen = sizeof(a4);
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_port = htons(pn);
		sa = (struct sockaddr *)&a6;
		salen = sizeof(a6);
	} else {
		snprintf(why, wl, "address:not-numeric");
		return -1;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, wl, "socket:%s", strerror(errno));
		return -1;
	}
	r = connect(fd, sa, salen);
	if (r < 0 && errno != EINPROGRESS) {
		snprintf(why, wl, "connect:%s", strerror(errno));
		close(fd);
		return -1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	while ((r = poll(&p, 1, left_ms(deadline))) < 0 && errno == EINTR)
		;
	if (r == 0) {
		snprintf(why, wl, "connect:timeout");
		close(fd);
		return -2;
	}
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		snprintf(why, wl, "connect:%s", strerror(err ? err : errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send, half-close, read the receiver's "RCVD n": all within DEADLINE. */
static void send_stream(int fd, struct tx_result *res, size_t wsize, double deadline)
{
	char reply[64];
	size_t rl = 0;

	memset(buf, 'x', wsize);
	while (res->sent < res->bytes) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		size_t n = wsize;
		ssize_t w;
		int r;

		if (res->bytes - res->sent < n)
			n = (size_t)(res->bytes - res->sent);
		w = write(fd, buf, n);
		if (w > 0) {
			res->sent += (unsigned long long)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			res->status = "error";
			snprintf(res->why, sizeof(res->why), "write:%s", strerror(errno));
			return;
		}
		r = poll(&p, 1, left_ms(deadline));
		if (r == 0) {
			res->status = "timeout";
			return;
		}
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		int n = poll(&p, 1, left_ms(deadline));

		if (n == 0) {
			res->status = "timeout";
			return;
		}
		if (n < 0)
			continue;
		r = read(fd, reply + rl, sizeof(reply) - 1 - rl);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			res->status = "error";
			snprintf(res->why, sizeof(res->why), "read:%s", strerror(errno));
			return;
		}
		if (r == 0 || rl + (size_t)r >= sizeof(reply) - 1) {
			rl += (size_t)(r > 0 ? r : 0);
			break;
		}
		rl += (size_t)r;
	}
	reply[rl] = 0;
	if (sscanf(reply, "RCVD %llu", &res->rcvd) != 1) {
		res->status = "error";
		snprintf(res->why, sizeof(res->why), "no-count-from-receiver");
		return;
	}
	res->status = res->rcvd == res->bytes ? "ok" : "short";
}

static int run_client(const char *host, const char *port, unsigned long long bytes,
		      size_t wsize, int timeout_s)
{
	struct tx_result res = { .bytes = bytes, .status = "error" };
	double t0 = now_s(), deadline = t0 + timeout_s;
	socklen_t tl = sizeof(res.ti);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd;

	fd = connect_by(host, port, deadline, res.why, sizeof(res.why));
	if (fd == -2)
		res.status = "timeout";
	if (fd >= 0) {
		t0 = now_s();   /* throughput counts the transfer, not the handshake */
		send_stream(fd, &res, wsize, deadline);
		res.secs = now_s() - t0;
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &res.ti, &tl))
			memset(&res.ti, 0, sizeof(res.ti));
		/* a sender that gave up resets the connection, so the receiver
		 * reports at once instead of after its idle time */
		if (strcmp(res.status, "ok") != 0)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	printf("TCP-STREAM-TX dst=%s:%s bytes=%llu sent=%llu rcvd=%llu secs=%.3f mbps=%.1f"
	       " segs_out=%u data_segs_out=%u retrans=%u bytes_retrans=%llu mss=%u rtt_us=%u"
	       " status=%s%s%s\n",
	       host, port, res.bytes, res.sent, res.rcvd, res.secs,
	       res.secs > 0 ? (double)res.rcvd * 8 / res.secs / 1e6 : 0.0,
	       res.ti.tcpi_segs_out, res.ti.tcpi_data_segs_out, res.ti.tcpi_total_retrans,
	       (unsigned long long)res.ti.tcpi_bytes_retrans, res.ti.tcpi_snd_mss,
	       res.ti.tcpi_rtt, res.status, res.why[0] ? ":" : "", res.why);
	fflush(stdout);
	return strcmp(res.status, "ok") == 0 ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: tcp_stream -s PORT [-i IDLE_S]\n"
			"       tcp_stream -c IP PORT -b BYTES [-w WRITE] [-t TIMEOUT_S]\n");
	exit(2);
}

static unsigned long long num(const char *s, unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	unsigned long long bytes = 0;
	size_t wsize = 65536;
	int idle_s = 10, timeout_s = 20, server = 0, client = 0, o;
	const char *sport = NULL;

	/* the sender's writes may outlive a receiver that reset the connection */
	signal(SIGPIPE, SIG_IGN);
	while ((o = getopt(argc, argv, "s:cb:w:t:i:")) != -1) {
		switch (o) {
		case 's': server = 1; sport = optarg; break;
		case 'c': client = 1; break;
		case 'b': bytes = num(optarg, 1ULL << 40); break;
		case 'w': wsize = (size_t)num(optarg, BUF_MAX); break;
		case 't': timeout_s = (int)num(optarg, 3600); break;
		case 'i': idle_s = (int)num(optarg, 3600); break;
		default: usage();
		}
	}
	if (server == client || wsize == 0 || idle_s == 0 || timeout_s == 0)
		usage();
	if (server) {
		if (optind != argc)
			usage();
		return run_server((unsigned short)num(sport, 65535), idle_s);
	}
	if (optind + 2 != argc || bytes == 0)
		usage();
	num(argv[optind + 1], 65535);
	return run_client(argv[optind], argv[optind + 1], bytes, wsize, timeout_s);
}
