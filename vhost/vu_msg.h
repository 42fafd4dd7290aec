/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vhost-user wire format, as QEMU's docs/interop/vhost-user.rst
 * specifies it: a 12-byte header (request, flags, payload size) and a
 * payload, over a Unix stream socket; fds travel with SCM_RIGHTS on the
 * header.  Only what a net back-end of one VM needs is named here.
 */
#ifndef XVNET_VHOST_VU_MSG_H
#define XVNET_VHOST_VU_MSG_H

#include <stdint.h>

enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_SEND_RARP = 19,
};

#define VU_VERSION          0x1u
#define VU_FLAG_VERSION_MASK 0x3u
#define VU_FLAG_REPLY       (1u << 2)
#define VU_FLAG_NEED_REPLY  (1u << 3)

/* SET_VRING_KICK/CALL/ERR payload: index in bits 0-7, "no fd" in bit 8 */
#define VU_VRING_IDX_MASK   0xffu
#define VU_VRING_NOFD       (1u << 8)

/* virtio and vhost feature bits this back-end speaks of */
#define VU_F_PROTOCOL_FEATURES  30      /* VHOST_USER_F_PROTOCOL_FEATURES */
#define VU_PROTO_F_MQ           0
#define VU_PROTO_F_LOG_SHMFD    1
#define VU_PROTO_F_RARP         2
#define VU_PROTO_F_REPLY_ACK    3
#define VU_F_LOG_ALL            26      /* VHOST_F_LOG_ALL */
#define VU_VRING_F_LOG          0       /* SET_VRING_ADDR: log_guest_addr is valid */

#define VU_MAX_REGIONS      8
#define VU_MAX_FDS          8
#define VU_MAX_PAYLOAD      4096

struct vu_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;        /* in the front-end's address space */
	uint64_t mmap_offset;
};

struct vu_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vu_region regions[VU_MAX_REGIONS];
};

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

struct vu_log_base {                    /* SET_LOG_BASE, with the bitmap's fd */
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vu_msg {
	struct vu_hdr hdr;
	union {
		uint64_t u64;
		struct vu_vring_state state;
		struct vu_vring_addr addr;
		struct vu_memory memory;
		struct vu_log_base log;
		unsigned char raw[VU_MAX_PAYLOAD];
	} p;
	int fds[VU_MAX_FDS];
	int nfds;
};

#endif
