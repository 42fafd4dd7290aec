// SPDX-License-Identifier: GPL-2.0-only
/* The bare AF_XDP RX socket of lib/xsk_rx.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>

#include "lib/xsk_rx.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

int xv_xsk_rx_open(__u32 ifindex, __u32 queue, void **umem_out)
{
	struct xdp_umem_reg mr;
	struct sockaddr_xdp sxdp;
	int fd, n = 64, err;
	void *umem;

	*umem_out = NULL;
	umem = mmap(NULL, XV_XSK_RX_UMEM_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (umem == MAP_FAILED)
		return -errno;
	fd = socket(AF_XDP, SOCK_RAW, 0);
	if (fd < 0) {
		err = -errno;
		munmap(umem, XV_XSK_RX_UMEM_SIZE);
		return err;
	}
	memset(&mr, 0, sizeof(mr));
	mr.addr = (__u64)(unsigned long)umem;
	mr.len = XV_XSK_RX_UMEM_SIZE;
	mr.chunk_size = 4096;
	memset(&sxdp, 0, sizeof(sxdp));
	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = ifindex;
	sxdp.sxdp_queue_id = queue;
	sxdp.sxdp_flags = XDP_COPY;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)) ||
	    bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp))) {
		err = -errno;
		close(fd);
		munmap(umem, XV_XSK_RX_UMEM_SIZE);
		return err;
	}
	*umem_out = umem;
	return fd;
}
