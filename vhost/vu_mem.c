// SPDX-License-Identifier: GPL-2.0-only
/* The guest's shared memory: vhost/vu_mem.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "vhost/vu_mem.h"

void vu_mem_clear(struct vu_mem *m)
{
	for (unsigned i = 0; i < m->n; i++)
		munmap(m->r[i].map, m->r[i].map_len);
	memset(m, 0, sizeof(*m));
}

int vu_mem_set(struct vu_mem *m, const struct vu_memory *t, const int *fds, int nfds)
{
	struct vu_mem next = { 0 };
	struct stat st;
	int err = 0;

	if (t->nregions > VU_MAX_REGIONS || (int)t->nregions != nfds)
		err = -EINVAL;
	for (unsigned i = 0; !err && i < t->nregions; i++) {
		const struct vu_region *g = &t->regions[i];
		struct vu_mem_region *r = &next.r[i];

		if (!g->memory_size || g->mmap_offset + g->memory_size < g->memory_size) {
			err = -EINVAL;
			break;
		}
		/* a region past the end of its file would map, and then kill
		 * this process with SIGBUS at the first access */
		if (fstat(fds[i], &st) || (uint64_t)st.st_size < g->mmap_offset + g->memory_size) {
			err = -ERANGE;
			break;
		}
		/* the offset need not be page aligned: map from 0 and skip it */
		r->map_len = (size_t)(g->mmap_offset + g->memory_size);
		r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			      fds[i], 0);
		if (r->map == MAP_FAILED) {
			err = -errno;
			break;
		}
		r->host = (unsigned char *)r->map + g->mmap_offset;
		r->gpa = g->guest_phys_addr;
		r->size = g->memory_size;
		r->uva = g->userspace_addr;
		next.n = i + 1;
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (err) {
		vu_mem_clear(&next);
		return err;
	}
	vu_mem_clear(m);
	*m = next;
	return 0;
}

static void *lookup(const struct vu_mem *m, uint64_t a, uint64_t len, int by_uva)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct vu_mem_region *r = &m->r[i];
		uint64_t base = by_uva ? r->uva : r->gpa;

		if (a >= base && a - base < r->size && len <= r->size - (a - base))
			return r->host + (a - base);
	}
	return NULL;
}

void *vu_mem_gpa(const struct vu_mem *m, uint64_t gpa, uint64_t len)
{
	return lookup(m, gpa, len, 0);
}

void *vu_mem_uva(const struct vu_mem *m, uint64_t uva, uint64_t len)
{
	return lookup(m, uva, len, 1);
}
