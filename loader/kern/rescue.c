// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stranded tap frames moved to the VM's new port (loader/kern/rescue.h).
 *
 * A tun queue is a file: whoever holds it reads the frames queued to it.
 * The stopped VMM still holds its queue file, so a dup of it (pidfd_getfd,
 * Linux >= 5.6) reads exactly what the VMM would have read next, in order,
 * and nothing twice: a read takes the frame off the queue for every holder.
 * The frames keep their virtio-net header (GSO, partial checksum), which an
 * AF_PACKET socket with PACKET_VNET_HDR takes as is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loader/kern/log.h"
#include "loader/kern/rescue.h"
#include "loader/kern/xsk.h"

#define RESCUE_MAX_FRAMES 65536     /* nothing feeds the old queue any more */
#define RESCUE_BUF (65536 + 64)

/* "iff:\tNAME" in a tun file's fdinfo names the device it is attached to. */
static bool fd_is_queue_of(int pid, const char *fd, const char *ifname)
{
	char path[300], line[128], want[IFNAMSIZ + 8];
	bool hit = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	snprintf(want, sizeof(want), "iff:\t%s\n", ifname);
	while (!hit && fgets(line, sizeof(line), f))
		hit = strcmp(line, want) == 0;
	fclose(f);
	return hit;
}

static void take(struct rescue *r, int pid, int fd)
{
	int pidfd, dup, fl;

	if (r->n == RESCUE_MAX_QUEUES)
		return;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		snprintf(r->why, sizeof(r->why), "pidfd_open(%d): %s", pid, strerror(errno));
		return;
	}
	dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (dup < 0)
		snprintf(r->why, sizeof(r->why), "pidfd_getfd(%d, %d): %s%s", pid, fd,
			 strerror(errno), errno == EPERM ? " (CAP_SYS_PTRACE)" : "");
	close(pidfd);
	if (dup < 0)
		return;
	/* The flags belong to the VMM's open file, shared with the dup: never
	 * change them, and never read a blocking one (a reader that wakes up
	 * and takes the last frame first would block the daemon). */
	fl = fcntl(dup, F_GETFL);
	if (fl < 0 || !(fl & O_NONBLOCK)) {
		r->skipped++;
		close(dup);
		return;
	}
	r->fds[r->n++] = dup;
}

int rescue_grab(struct rescue *r, const char *ifname)
{
	DIR *proc = opendir("/proc"), *fds;
	struct dirent *p, *e;
	char path[300], link[32];
	int self = getpid();

	memset(r, 0, sizeof(*r));
	if (!proc) {
		snprintf(r->why, sizeof(r->why), "/proc: %s", strerror(errno));
		return 0;
	}
	while ((p = readdir(proc))) {
		int pid = atoi(p->d_name);

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((e = readdir(fds))) {
			ssize_t n;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, e->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n != (ssize_t)strlen("/dev/net/tun"))
				continue;
			link[n] = '\0';
			if (strcmp(link, "/dev/net/tun") == 0 &&
			    fd_is_queue_of(pid, e->d_name, ifname))
				take(r, pid, atoi(e->d_name));
		}
		closedir(fds);
	}
	closedir(proc);
	if (r->n == 0 && !r->why[0])
		snprintf(r->why, sizeof(r->why), "%s", r->skipped ?
			 "its reader's queue files are blocking" : "no process holds it");
	return r->n;
}

/* The layout tun_put_user writes: [tun_pi][virtio-net header][frame]. */
struct queue_shape {
	size_t pi, vnet;
};

static int queue_shape(int fd, struct queue_shape *s)
{
	struct ifreq ifr = { 0 };
	int sz = 0;

	if (ioctl(fd, TUNGETIFF, &ifr))
		return -1;
	s->pi = (ifr.ifr_flags & IFF_NO_PI) ? 0 : sizeof(struct tun_pi);
	s->vnet = 0;
	if (ifr.ifr_flags & IFF_VNET_HDR) {
		if (ioctl(fd, TUNGETVNETHDRSZ, &sz) || sz < (int)sizeof(struct virtio_net_hdr))
			return -1;
		s->vnet = (size_t)sz;
	}
	return 0;
}

static int out_socket(int ifindex, bool vnet)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_ifindex = ifindex,
	};
	int one = 1, s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -1;
	if ((vnet && setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one))) ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

/* Every frame queued on fd, in order, sent out of s (vnet: with its header
 * cut to the virtio_net_hdr that PACKET_VNET_HDR takes). */
static uint64_t move_queue(int fd, const struct queue_shape *q, int s,
			   unsigned char *buf, const uint8_t *own_mac,
			   uint64_t *own, uint64_t *failed)
{
	const size_t vh = sizeof(struct virtio_net_hdr);
	uint64_t moved = 0;

	for (int i = 0; i < RESCUE_MAX_FRAMES; i++) {
		ssize_t n = read(fd, buf, RESCUE_BUF);
		unsigned char *frame;
		size_t len;

		if (n <= 0)
			break;  /* EAGAIN: the queue is empty */
		if ((size_t)n < q->pi + q->vnet + ETH_HLEN) {
			(*failed)++;
			continue;
		}
		frame = buf + q->pi + q->vnet;
		len = (size_t)n - q->pi - q->vnet;
		if (!memcmp(frame + ETH_ALEN, own_mac, ETH_ALEN)) {
			(*own)++;
			continue;
		}
		if (q->vnet) {
			/* mergeable-buffer headers add num_buffers after it */
			memmove(frame - vh, buf + q->pi, vh);
			frame -= vh;
			len += vh;
		}
		if (send(s, frame, len, 0) == (ssize_t)len)
			moved++;
		else
			(*failed)++;
	}
	return moved;
}

uint64_t rescue_move(struct rescue *r, int ifindex, const uint8_t own_mac[6])
{
	unsigned char *buf;
	uint64_t moved = 0, failed = 0;
	int s[2] = { -1, -1 };

	if (!r->n)
		return 0;
	buf = malloc(RESCUE_BUF);
	if (!buf)
		return 0;
	for (int i = 0; i < r->n; i++) {
		struct queue_shape q;
		int v;

		if (queue_shape(r->fds[i], &q)) {
			log_warn("rescue: queue file %d: %s", i, strerror(errno));
			continue;
		}
		v = q.vnet != 0;
		if (s[v] < 0 && (s[v] = out_socket(ifindex, v)) < 0) {
			log_warn("rescue: AF_PACKET on ifindex %d: %s", ifindex,
				 strerror(errno));
			break;
		}
		moved += move_queue(r->fds[i], &q, s[v], buf, own_mac, &r->own, &failed);
	}
	for (int v = 0; v < 2; v++)
		if (s[v] >= 0)
			close(s[v]);
	free(buf);
	if (failed)
		log_warn("rescue: %llu stranded frames could not be sent on",
			 (unsigned long long)failed);
	return moved;
}

struct xsk_out {
	int s;
	const uint8_t *own_mac;
	uint64_t moved, own, failed;
};

static void xsk_frame_out(void *ctx, const unsigned char *frame, size_t len)
{
	struct xsk_out *o = ctx;

	if (len < ETH_HLEN) {
		o->failed++;
	} else if (!memcmp(frame + ETH_ALEN, o->own_mac, ETH_ALEN)) {
		o->own++;
	} else if (send(o->s, frame, len, 0) == (ssize_t)len) {
		o->moved++;
	} else {
		o->failed++;
	}
}

uint64_t rescue_xsk(struct xvd *d, int vm_id, int ifindex, const uint8_t own_mac[6],
		    uint64_t *own)
{
	struct xsk_out o = { .own_mac = own_mac };

	o.s = out_socket(ifindex, false);
	if (o.s < 0) {
		log_warn("rescue: AF_PACKET on ifindex %d: %s", ifindex, strerror(errno));
		return 0;
	}
	xskp_take_rx(d, vm_id, xsk_frame_out, &o);
	close(o.s);
	*own += o.own;
	if (o.failed)
		log_warn("rescue: %llu frames left on the AF_XDP rings could not be sent on",
			 (unsigned long long)o.failed);
	return o.moved;
}

void rescue_release(struct rescue *r)
{
	for (int i = 0; i < r->n; i++)
		close(r->fds[i]);
	r->n = 0;
}
