/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fixture for the nic_rx unit tests: a private (unpinned) instance of the
 * nic_rx skeleton, VMs written into its maps the way xvnetd does it, one
 * BPF_PROG_TEST_RUN per frame, and the per-CPU counters summed.
 */
#ifndef XVNET_TESTS_NICRX_FIXTURE_H
#define XVNET_TESTS_NICRX_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "maps/xvnet_maps.h"
#include "lib/xsk_rx.h"

struct nic_rx;

struct nrx {
	struct nic_rx *skel;
	__u32 meta_at;           /* enum xvnet_meta_at this instance was built with */
	int prog_fd;
	int fd_rss_tables;
	int fd_vm_by_mac, fd_vms, fd_flows, fd_flows4, fd_ports, fd_xsks, fd_stats, fd_qstats;
	int fd_vm_cache;
	int ncpus;
};

struct nrx_result {
	int err;                 /* bpf_prog_test_run_opts() return */
	__u32 verdict;           /* XDP_* */
	__u8 out[4096];
	__u32 out_len;
};

/* Counter snapshot, summed over the CPUs. */
struct nrx_counts {
	__u64 c[XVNET_CNT_MAX];
};

extern const char *const nrx_counter_names[XVNET_CNT_MAX];

/*
 * How the next nrx_open() builds the data path: XVNET_META_HEAD or
 * XVNET_META_INLINE (bpf/meta.h), or -1 for what xvnetd would choose on
 * this kernel.  Instances carry NRX_INLINE_TAG in xvnet_config.
 */
extern int nrx_meta_at;
#define NRX_INLINE_TAG 0x5456584e54414721ull
/* Unit groups that need a mode: 0 if this kernel has it, else 1 with why. */
int nrx_need_head(char *why, size_t len);
int nrx_need_inline(char *why, size_t len);

/* Open + load with maps unpinned (the tests never touch the live maps). */
int nrx_open(struct nrx *f, bool malformed_pass);
void nrx_close(struct nrx *f);

/* Empty every map the tests write and zero the counters of VMs 0..max_vm. */
int nrx_reset(struct nrx *f, __u32 max_vm);

/*
 * Add a VM: xvnet_vms[vm_id] first (a slot with XVNET_VM_F_RSS_TABLE
 * after the tables of its rss_key, as xvnetd writes them), then its port
 * (DEVMAP ifindex when port_ifindex != 0; xsk VMs get no socket), then each
 * (mac, vlan) given.
 */
int nrx_add_vm(struct nrx *f, __u32 vm_id, const struct xvnet_vm *vm, __u32 port_ifindex);
int nrx_map_mac(struct nrx *f, const __u8 mac[6], __u16 vlan, __u32 vm_id);
/* (mac, vlan)'s slot of xvnet_vm_cache = value (vm_id + 1, 0 empty): what
 * nrx_map_mac() writes after the hash, as xvnetd does; the tests of the
 * cache plant others. */
int nrx_vm_cache_set(struct nrx *f, const __u8 mac[6], __u16 vlan, __u32 value);

/* Slow-path records read from xvnet_slow_rb: how many, and the last one. */
struct nrx_rb_got {
	int n;
	struct xvnet_slow_rec last;
};
int nrx_rb_collect(void *ctx, void *data, size_t size);

int nrx_set_flows_active(struct nrx *f, bool on);
int nrx_add_flow(struct nrx *f, const struct xvnet_flow_key *k, const struct xvnet_flow *v);
int nrx_get_flow(struct nrx *f, const struct xvnet_flow_key *k, struct xvnet_flow *v);

/*
 * nic_rx's fast path (bpf/fastpath.h) on or off (xvnet_config.fast_path_off),
 * and how many frames it has decided in this instance.
 */
int nrx_set_fast_path(struct nrx *f, bool on);
__u64 nrx_fast_frames(struct nrx *f);
/* Of those, the frames it redirected plainly (bpf/fastpath.h, fast_deliver). */
__u64 nrx_fast_plain_frames(struct nrx *f);
/* The fd of one of the instance's maps, by name (-1 if none). */
int nrx_map_fd(struct nrx *f, const char *name);

/* The xvnet_slow_rb ring buffer (slow-path records). */
int nrx_slow_rb_fd(struct nrx *f);

void nrx_counts(struct nrx *f, struct nrx_counts *out);
void nrx_queue_stats(struct nrx *f, __u32 vm_id, __u32 queue, __u64 *packets, __u64 *bytes);

/* One frame through nic_rx (rx_queue_index 0). */
int nrx_run(struct nrx *f, const void *frame, __u32 len, struct nrx_result *res);

/* A veth pair "<name>a"/"<name>b" in the test namespace; returns the "a" ifindex. */
__u32 nrx_veth(const char *name);

/*
 * An AF_XDP socket (copy mode, UMEM + rings, not mmapped) bound to queue
 * `queue` of ifindex, so that it can be put in xvnet_xsks; -errno on error.
 * *umem_out must be munmap()ed (XV_XSK_RX_UMEM_SIZE bytes) after close().
 */
int nrx_xsk_open(__u32 ifindex, __u32 queue, void **umem_out);
int nrx_add_xsk(struct nrx *f, __u32 vm_id, __u32 rxq, int xsk_fd);

#endif
