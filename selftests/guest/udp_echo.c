// SPDX-License-Identifier: GPL-2.0-only
/*
 * udp_echo: the guest's test application.  Binds UDP PORT (IPv6 dual-stack
 * when the kernel allows, else IPv4), prints the ready marker on stdout (the
 * serial console) once bound, and answers every datagram with
 *     "XVNET-ECHO <id> " + payload
 * so that a test knows the guest *application* answered (not the guest
 * kernel) and which guest it was.
 *
 * usage: udp_echo PORT [ID]
 * Built with gcc -static -O2 -Wall -Wextra -Werror by build-guest.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_MARKER "XVNET-ECHO "
#define READY_MARKER "XVNET-GUEST-READY"
#define MAX_DGRAM 65536
#define BATCH 64
#define RCVBUF (8 << 20)  /* absorbs a burst while the TCG vCPU catches up */

static void big_buffers(int fd)
{
	int sz = RCVBUF;

	/* root in the guest: FORCE ignores net.core.rmem_max */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int open_socket(unsigned short port)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	int one = 1, zero = 0;
	int fd;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		a6.sin6_addr = in6addr_any;
		a6.sin6_port = htons(port);
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0) {
			big_buffers(fd);
			return fd;
		}
		close(fd);
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	a4.sin_addr.s_addr = htonl(INADDR_ANY);
	a4.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) != 0) {
		close(fd);
		return -1;
	}
	big_buffers(fd);
	return fd;
}

int main(int argc, char **argv)
{
	static char in[BATCH][MAX_DGRAM], out[BATCH][MAX_DGRAM + 80];
	static struct sockaddr_storage peer[BATCH];
	static struct mmsghdr rx[BATCH], tx[BATCH];
	static struct iovec riov[BATCH], tiov[BATCH];
	char hdrbuf[80];
	const char *id;
	size_t hdr;
	long port;
	int fd, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PORT [ID]\n", argv[0]);
		return 2;
	}
	port = strtol(argv[1], NULL, 10);
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "udp_echo: bad port %s\n", argv[1]);
		return 2;
	}
	id = argc == 3 ? argv[2] : "guest";
	if (strlen(id) > 64) {
		fprintf(stderr, "udp_echo: id too long\n");
		return 2;
	}

	fd = open_socket((unsigned short)port);
	if (fd < 0) {
		printf("XVNET-GUEST-ERROR: udp_echo cannot bind port %ld: %s\n",
		       port, strerror(errno));
		fflush(stdout);
		return 1;
	}
	hdr = (size_t)snprintf(hdrbuf, sizeof(hdrbuf), "%s%s ", ECHO_MARKER, id);
	for (i = 0; i < BATCH; i++) {
		memcpy(out[i], hdrbuf, hdr);
		riov[i].iov_base = in[i];
		riov[i].iov_len = MAX_DGRAM;
		tiov[i].iov_base = out[i];
	}
	printf("%s udp_echo port %ld id %s\n", READY_MARKER, port, id);
	fflush(stdout);

	for (;;) {
		int n, sent = 0;

		for (i = 0; i < BATCH; i++) {
			memset(&rx[i].msg_hdr, 0, sizeof(rx[i].msg_hdr));
			rx[i].msg_hdr.msg_name = &peer[i];
			rx[i].msg_hdr.msg_namelen = sizeof(peer[i]);
			rx[i].msg_hdr.msg_iov = &riov[i];
			rx[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, rx, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("udp_echo: recvmmsg");
			return 1;
		}
		for (i = 0; i < n; i++) {
			memcpy(out[i] + hdr, in[i], rx[i].msg_len);
			tiov[i].iov_len = hdr + rx[i].msg_len;
			memset(&tx[i].msg_hdr, 0, sizeof(tx[i].msg_hdr));
			tx[i].msg_hdr.msg_name = &peer[i];
			tx[i].msg_hdr.msg_namelen = rx[i].msg_hdr.msg_namelen;
			tx[i].msg_hdr.msg_iov = &tiov[i];
			tx[i].msg_hdr.msg_iovlen = 1;
		}
		while (sent < n) {
			int r = sendmmsg(fd, tx + sent, (unsigned int)(n - sent), 0);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				/* e.g. no route back: drop this one, go on */
				sent++;
				continue;
			}
			sent += r;
		}
	}
	return 0;
}
