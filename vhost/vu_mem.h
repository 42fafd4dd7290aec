/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest's memory as the front-end shares it (SET_MEM_TABLE): one mmap
 * per region fd, and the two translations a back-end needs: guest physical
 * addresses (descriptors) and front-end virtual addresses (ring addresses)
 * to pointers here.
 */
#ifndef XVNET_VHOST_VU_MEM_H
#define XVNET_VHOST_VU_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "vhost/vu_msg.h"

struct vu_mem_region {
	uint64_t gpa, size, uva;
	unsigned char *host;            /* the region's first byte here */
	void *map;
	size_t map_len;
};

struct vu_mem {
	struct vu_mem_region r[VU_MAX_REGIONS];
	unsigned n;
};

/* Map the table's regions (fds[i] for region i; the fds are closed). 0 or
 * -errno (-ERANGE: a region beyond the end of its file); on failure
 * nothing stays mapped and the old table is kept. */
int vu_mem_set(struct vu_mem *m, const struct vu_memory *t, const int *fds, int nfds);
void vu_mem_clear(struct vu_mem *m);

/* A pointer to len bytes at guest physical address gpa, or NULL when the
 * range is not inside one region. */
void *vu_mem_gpa(const struct vu_mem *m, uint64_t gpa, uint64_t len);
/* The same for an address of the front-end's own address space. */
void *vu_mem_uva(const struct vu_mem *m, uint64_t uva, uint64_t len);

#endif
