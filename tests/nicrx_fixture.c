// SPDX-License-Identifier: GPL-2.0-only
/* The nic_rx test fixture of tests/nicrx_fixture.h. */
#include <stddef.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/features.h"
#include "lib/xsk_rx.h"
#include "bpf/toeplitz.h"
#include "tests/nicrx_fixture.h"
#include "tests/unit.h"
#include "nic_rx.skel.h"

const char *const nrx_counter_names[XVNET_CNT_MAX] = {
#define NRX_X_NAME(e, name, desc) [XVNET_CNT_##e] = name,
	XVNET_COUNTERS(NRX_X_NAME)
#undef NRX_X_NAME
};

int nrx_meta_at = -1;

static int need(enum xv_feature feat, char *why, size_t len)
{
	struct xv_features fs = { 0 };
	char err[256];

	if (xv_features_probe(&fs, err, sizeof(err))) {
		snprintf(why, len, "%s", err);
		return 1;
	}
	if (xv_feature_usable(&fs, feat))
		return 0;
	snprintf(why, len, "kernel feature %s %s: %s", xv_feature_name(feat),
		 fs.disabled[feat] ? "disabled" : "absent",
		 fs.disabled[feat] ? "XVNET_WITHOUT" : fs.why[feat]);
	return 1;
}

int nrx_need_head(char *why, size_t len) { return need(XV_FEAT_XDP_META, why, len); }
int nrx_need_inline(char *why, size_t len) { return need(XV_FEAT_XDP_HEAD, why, len); }

int nrx_open(struct nrx *f, bool malformed_pass)
{
	char why[160];
	struct bpf_map *m;
	int err;

	memset(f, 0, sizeof(*f));
	f->skel = nic_rx__open();
	if (!f->skel)
		return -errno;
	/*
	 * The maps are LIBBPF_PIN_BY_NAME: unpin them so that this instance
	 * neither reuses nor clobbers the maps of a running xvnetd (or of
	 * another instance in this binary).
	 */
	bpf_object__for_each_map(m, f->skel->obj)
		bpf_map__set_pin_path(m, NULL);
	/* a small flow cache is plenty and loads faster */
	bpf_map__set_max_entries(f->skel->maps.xvnet_flows, 1024);
	bpf_map__set_max_entries(f->skel->maps.xvnet_flows4, 1024);
	f->skel->rodata->cfg_malformed_pass = malformed_pass ? 1 : 0;
	/* which frames took the fast path (bpf/fastpath.h): nrx_fast_frames() */
	f->skel->rodata->cfg_count_fast = 1;
	f->meta_at = nrx_meta_at >= 0 ? (__u32)nrx_meta_at :
		     nrx_need_head(why, sizeof(why)) ? XVNET_META_INLINE : XVNET_META_HEAD;
	f->skel->rodata->cfg_meta_at = f->meta_at;
	/* as xvnetd: bpf_check_mtu where it verifies (XVNET_WITHOUT honoured) */
	f->skel->rodata->cfg_check_mtu = !need(XV_FEAT_CHECK_MTU, why, sizeof(why));
	/* device-bound only (rx-hash hw): BPF_PROG_TEST_RUN cannot run it */
	bpf_program__set_autoload(f->skel->progs.nic_rx_hw, false);
	err = nic_rx__load(f->skel);
	if (err) {
		nic_rx__destroy(f->skel);
		f->skel = NULL;
		return err;
	}
	{
		struct xvnet_config c = { .inline_tag = NRX_INLINE_TAG };
		__u32 zero = 0;

		if (bpf_map_update_elem(bpf_map__fd(f->skel->maps.xvnet_config),
					&zero, &c, BPF_ANY)) {
			err = -errno;
			nic_rx__destroy(f->skel);
			f->skel = NULL;
			return err;
		}
	}
	f->prog_fd = bpf_program__fd(f->skel->progs.nic_rx);
	f->fd_vm_by_mac = bpf_map__fd(f->skel->maps.xvnet_vm_by_mac);
	f->fd_vm_cache = bpf_map__fd(f->skel->maps.xvnet_vm_cache);
	f->fd_vms = bpf_map__fd(f->skel->maps.xvnet_vms);
	f->fd_rss_tables = bpf_map__fd(f->skel->maps.xvnet_rss_tables);
	f->fd_flows = bpf_map__fd(f->skel->maps.xvnet_flows);
	f->fd_flows4 = bpf_map__fd(f->skel->maps.xvnet_flows4);
	f->fd_ports = bpf_map__fd(f->skel->maps.xvnet_ports);
	f->fd_xsks = bpf_map__fd(f->skel->maps.xvnet_xsks);
	f->fd_stats = bpf_map__fd(f->skel->maps.xvnet_stats);
	f->fd_qstats = bpf_map__fd(f->skel->maps.xvnet_queue_stats);
	f->ncpus = libbpf_num_possible_cpus();
	return f->ncpus > 0 ? 0 : f->ncpus;
}

void nrx_close(struct nrx *f)
{
	if (f->skel)
		nic_rx__destroy(f->skel);
	f->skel = NULL;
}

/* Delete every key of a hash map (keys up to 64 bytes). */
static int clear_hash(int fd)
{
	__u8 key[64], next[64];

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, sizeof(key));
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return 0;
}

int nrx_reset(struct nrx *f, __u32 max_vm)
{
	struct xvnet_vm zero_vm = {0};
	size_t n = (size_t)f->ncpus;
	__u64 *zc = calloc(n, sizeof(*zc));
	struct xvnet_queue_stats *zq = calloc(n, sizeof(*zq));
	int err = 0;
	__u32 i;

	if (!zc || !zq) {
		err = -ENOMEM;
		goto out;
	}
	{
		/* the whole cache in one call: tests plant slots anywhere */
		static __u32 keys[XVNET_VM_CACHE_SLOTS], zeros[XVNET_VM_CACHE_SLOTS];
		__u32 n = XVNET_VM_CACHE_SLOTS;

		for (i = 0; i < n; i++)
			keys[i] = i;
		if (bpf_map_update_batch(f->fd_vm_cache, keys, zeros, &n, NULL)) {
			err = -errno;
			goto out;
		}
	}
	if (clear_hash(f->fd_vm_by_mac) || clear_hash(f->fd_flows) || clear_hash(f->fd_flows4) ||
	    clear_hash(bpf_map__fd(f->skel->maps.xvnet_frags))) {
		err = -EIO;
		goto out;
	}
	for (i = 0; i <= max_vm; i++) {
		__u32 q, slot;

		bpf_map_delete_elem(f->fd_ports, &i);     /* ENOENT is fine */
		for (q = 0; q < XVNET_MAX_NIC_QUEUES; q++) {
			slot = XVNET_XSK_SLOT(i, q);
			bpf_map_delete_elem(f->fd_xsks, &slot);
		}
		if (bpf_map_update_elem(f->fd_vms, &i, &zero_vm, BPF_ANY))
			err = -errno;
		for (q = 0; q < XVNET_MAX_QUEUES; q++) {
			slot = i * XVNET_MAX_QUEUES + q;
			if (bpf_map_update_elem(f->fd_qstats, &slot, zq, BPF_ANY))
				err = -errno;
		}
	}
	for (i = 0; i < XVNET_CNT_MAX; i++)
		if (bpf_map_update_elem(f->fd_stats, &i, zc, BPF_ANY))
			err = -errno;
out:
	free(zc);
	free(zq);
	return err;
}

int nrx_add_vm(struct nrx *f, __u32 vm_id, const struct xvnet_vm *vm, __u32 port_ifindex)
{
	if (vm->flags & XVNET_VM_F_RSS_TABLE) {
		static struct xvnet_rss_table t;

		xvnet_toeplitz_table_fill(vm->rss_key, &t);
		if (bpf_map_update_elem(f->fd_rss_tables, &vm_id, &t, BPF_ANY))
			return -errno;
	}
	if (bpf_map_update_elem(f->fd_vms, &vm_id, vm, BPF_ANY))
		return -errno;
	if (port_ifindex && bpf_map_update_elem(f->fd_ports, &vm_id, &port_ifindex, BPF_ANY))
		return -errno;
	return 0;
}

int nrx_map_mac(struct nrx *f, const __u8 mac[6], __u16 vlan, __u32 vm_id)
{
	struct xvnet_vm_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.mac, mac, 6);
	k.vlan = vlan;
	if (bpf_map_update_elem(f->fd_vm_by_mac, &k, &vm_id, BPF_ANY))
		return -errno;
	return nrx_vm_cache_set(f, mac, vlan, vm_id + 1);
}

int nrx_vm_cache_set(struct nrx *f, const __u8 mac[6], __u16 vlan, __u32 value)
{
	struct xvnet_vm_key k;
	__u64 w;
	__u32 slot;

	memset(&k, 0, sizeof(k));
	memcpy(k.mac, mac, 6);
	k.vlan = vlan;
	memcpy(&w, &k, sizeof(w));
	slot = xvnet_vm_cache_slot(w);
	return bpf_map_update_elem(f->fd_vm_cache, &slot, &value, BPF_ANY) ? -errno : 0;
}

/* ring_buffer__new() callback: count the records, keep the last. */
int nrx_rb_collect(void *ctx, void *data, size_t size)
{
	struct nrx_rb_got *g = ctx;

	const struct xvnet_slow_rec *r = data;

	/* as long as the frame in it: the header, then cap_len bytes */
	assert_true(size >= offsetof(struct xvnet_slow_rec, pkt));
	assert_int_equal(size, offsetof(struct xvnet_slow_rec, pkt) + r->cap_len);
	g->n++;
	memset(&g->last, 0, sizeof(g->last));
	memcpy(&g->last, data, size);
	return 0;
}

/* One __u32 of xvnet_config's one entry, the rest kept. */
static int config_set_u32(struct nrx *f, size_t off, __u32 v)
{
	struct xvnet_config c = { 0 };
	__u32 zero = 0;
	int fd = bpf_map__fd(f->skel->maps.xvnet_config);

	if (bpf_map_lookup_elem(fd, &zero, &c))
		return -errno;
	memcpy((char *)&c + off, &v, sizeof(v));
	return bpf_map_update_elem(fd, &zero, &c, BPF_ANY) ? -errno : 0;
}

/* nic_rx reads the flow cache only once flows_active is set, as xvnetd does. */
int nrx_set_flows_active(struct nrx *f, bool on)
{
	return config_set_u32(f, offsetof(struct xvnet_config, flows_active), on);
}

int nrx_set_fast_path(struct nrx *f, bool on)
{
	return config_set_u32(f, offsetof(struct xvnet_config, fast_path_off), !on);
}

__u64 nrx_fast_frames(struct nrx *f)
{
	return f->skel->bss->fast_path_frames;
}

__u64 nrx_fast_plain_frames(struct nrx *f)
{
	return f->skel->bss->fast_plain_frames;
}

int nrx_map_fd(struct nrx *f, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(f->skel->obj, name);

	return m ? bpf_map__fd(m) : -1;
}

int nrx_add_flow(struct nrx *f, const struct xvnet_flow_key *k, const struct xvnet_flow *v)
{
	int err = nrx_set_flows_active(f, true);

	if (err)
		return err;
	if (xvnet_flow_key_is4(k)) {
		struct xvnet_flow4_key k4;

		xvnet_flow_key_to4(k, &k4);
		return bpf_map_update_elem(f->fd_flows4, &k4, v, BPF_ANY) ? -errno : 0;
	}
	return bpf_map_update_elem(f->fd_flows, k, v, BPF_ANY) ? -errno : 0;
}

int nrx_get_flow(struct nrx *f, const struct xvnet_flow_key *k, struct xvnet_flow *v)
{
	if (xvnet_flow_key_is4(k)) {
		struct xvnet_flow4_key k4;

		xvnet_flow_key_to4(k, &k4);
		return bpf_map_lookup_elem(f->fd_flows4, &k4, v) ? -errno : 0;
	}
	return bpf_map_lookup_elem(f->fd_flows, k, v) ? -errno : 0;
}

void nrx_counts(struct nrx *f, struct nrx_counts *out)
{
	__u64 *v = calloc((size_t)f->ncpus, sizeof(*v));
	__u32 i;
	int c;

	memset(out, 0, sizeof(*out));
	if (!v)
		return;
	for (i = 0; i < XVNET_CNT_MAX; i++) {
		if (bpf_map_lookup_elem(f->fd_stats, &i, v))
			continue;
		for (c = 0; c < f->ncpus; c++)
			out->c[i] += v[c];
	}
	free(v);
}

void nrx_queue_stats(struct nrx *f, __u32 vm_id, __u32 queue, __u64 *packets, __u64 *bytes)
{
	struct xvnet_queue_stats *v = calloc((size_t)f->ncpus, sizeof(*v));
	__u32 idx = vm_id * XVNET_MAX_QUEUES + queue;
	int c;

	*packets = *bytes = 0;
	if (!v)
		return;
	if (bpf_map_lookup_elem(f->fd_qstats, &idx, v) == 0) {
		for (c = 0; c < f->ncpus; c++) {
			*packets += v[c].packets;
			*bytes += v[c].bytes;
		}
	}
	free(v);
}

int nrx_run(struct nrx *f, const void *frame, __u32 len, struct nrx_result *res)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = len,
		.data_out = res->out,
		.data_size_out = sizeof(res->out),
		.repeat = 1,
	);

	memset(res->out, 0, sizeof(res->out));
	res->err = bpf_prog_test_run_opts(f->prog_fd, &opts);
	if (res->err)
		res->err = -errno;
	res->verdict = opts.retval;
	res->out_len = opts.data_size_out;
	return res->err;
}

__u32 nrx_veth(const char *name)
{
	char cmd[160], a[IF_NAMESIZE];
	__u32 idx;

	snprintf(a, sizeof(a), "%sa", name);
	idx = if_nametoindex(a);
	if (idx)
		return idx;
	snprintf(cmd, sizeof(cmd),
		 "ip link add %sa type veth peer name %sb && ip link set %sa up && ip link set %sb up",
		 name, name, name, name);
	if (system(cmd) != 0)
		return 0;
	return if_nametoindex(a);
}


int nrx_xsk_open(__u32 ifindex, __u32 queue, void **umem_out)
{
	return xv_xsk_rx_open(ifindex, queue, umem_out);
}

int nrx_add_xsk(struct nrx *f, __u32 vm_id, __u32 rxq, int xsk_fd)
{
	__u32 slot = XVNET_XSK_SLOT(vm_id, rxq);

	return bpf_map_update_elem(f->fd_xsks, &slot, &xsk_fd, BPF_ANY) ? -errno : 0;
}

int nrx_slow_rb_fd(struct nrx *f)
{
	return bpf_map__fd(f->skel->maps.xvnet_slow_rb);
}
