// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the vhost-user messages xvnet-vhost reads from a VMM
 * (vhost/vu_dev.c), as any front-end may send them: the input is the byte
 * stream of the connection (headers, payloads, no fds), read and answered
 * message by message until the stream ends or the back-end refuses it.
 * Oracle: no memory error or UB, no hang, and a refused stream leaves the
 * device resettable (vu_dev_reset after every input).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "vhost/vu_dev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vu_dev d;
	int sv[2];

	/* the socket holds the whole input: the back-end reads it, its
	 * replies wait unread in the other direction */
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 0;
	vu_dev_init(&d, 2);
	vu_dev_attach(&d, sv[0]);
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);       /* the end of the stream reads as EOF */
	for (int i = 0; i < 4096 && vu_dev_handle(&d) == 0; i++)
		;
	vu_dev_reset(&d);               /* closes sv[0] */
	close(sv[1]);
	return 0;
}
