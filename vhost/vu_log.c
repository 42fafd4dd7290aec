// SPDX-License-Identifier: GPL-2.0-only
/* The dirty log of a live migration: vhost/vu_log.h. */
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vhost/vu_log.h"

int vu_log_set(struct vu_log *l, int fd, uint64_t size, uint64_t offset)
{
	void *m;

	if (!size || offset > SIZE_MAX - size || size > (1ull << 40)) {
		close(fd);
		return -EINVAL;
	}
	/* from 0: an offset need not be page-aligned */
	m = mmap(NULL, (size_t)(size + offset), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	vu_log_clear(l);
	l->map = m;
	l->map_len = (size_t)(size + offset);
	l->bits = (unsigned char *)m + offset;
	l->size = size;
	return 0;
}

void vu_log_clear(struct vu_log *l)
{
	if (l->map)
		munmap(l->map, l->map_len);
	l->map = NULL;
	l->bits = NULL;
	l->size = 0;
	l->on = false;
}
