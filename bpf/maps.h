/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The BPF-side declarations of the maps whose layout maps/xvnet_maps.h
 * defines.  Symbol names equal the XVNET_MAP_* names (they are the pin names).
 * Maps are pinned by name so a restarted xvnetd reuses the live ones.
 */
#ifndef XVNET_BPF_MAPS_H
#define XVNET_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps/xvnet_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, struct xvnet_vm_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_vm_by_mac SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);
	__type(value, struct xvnet_vm);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVNET_VM_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, __u32);         /* vm_id + 1, 0 = empty */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_vm_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);
	__type(value, struct xvnet_rss_table);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_rss_tables SEC(".maps");

/* Size is set by xvnetd (flow-max) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XVNET_FLOW_MAX_DEFAULT);
	__type(key, struct xvnet_flow_key);
	__type(value, struct xvnet_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVNET_FLOWS_CFG_MAX);
	__type(key, struct xvnet_flow_key);
	__type(value, struct xvnet_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_flows_cfg SEC(".maps");

/* The same two for IPv4 packets' flows, under the 16-byte key
 * (maps/xvnet_maps.h); sized as the two above. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XVNET_FLOW_MAX_DEFAULT);
	__type(key, struct xvnet_flow4_key);
	__type(value, struct xvnet_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVNET_FLOWS_CFG_MAX);
	__type(key, struct xvnet_flow4_key);
	__type(value, struct xvnet_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_flows4_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);
	__type(value, struct xvnet_sp_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_sp_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, XVNET_REDIRECT_ERR_MAX);
	__type(key, struct xvnet_redirect_err_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_redirect_err SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XVNET_FRAGS_MAX);
	__type(key, struct xvnet_frag_key);
	__type(value, struct xvnet_frag);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_ports SEC(".maps");

/* the other bank of a VM moving between ports (xvnet_vm.port_sel) */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_ports_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVNET_PORT_STATS_MAX);
	__type(key, __u32);
	__type(value, struct xvnet_queue_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_port_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XVNET_XSKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_xsk_side SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, XVNET_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, struct xvnet_flood_key);
	__type(value, struct xvnet_flood_member);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_flood SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVNET_VLAN_MAX + 1);
	__type(key, __u32);           /* VLAN ID */
	__type(value, __u32);         /* members in xvnet_flood */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_flood_count SEC(".maps");

/* VLAN ID -> VMs on the fallback, which are no members of xvnet_flood: a
 * VM's broadcast gets one copy into the host stack where there are some
 * (vm_flood).  Kept apart from the member loop, whose verifier states a
 * test more there multiplies (6.1 refused vm_flood). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVNET_VLAN_MAX + 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_flood_host SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVNET_CNT_MAX);
	__type(key, __u32);           /* enum xvnet_counter (array keys must be int) */
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVNET_QUEUE_STATS_MAX);
	__type(key, __u32);
	__type(value, struct xvnet_queue_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_queue_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);           /* port ifindex */
	__type(value, __u32);         /* vm_id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_port_vm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_uplink SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xvnet_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVNET_VM_ADDRS_MAX);
	__type(key, struct xvnet_vm_addr_key);
	__type(value, __u32);         /* enum xvnet_vm_addr_flags */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_vm_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);           /* vm_id */
	__type(value, struct xvnet_vm_tx_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_vm_tx_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XVNET_LL_OWNER_MAX);
	__type(key, struct xvnet_ll_key);
	__type(value, __u32);         /* vm_id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_ll_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XVNET_MAX_VMS);
	__type(key, __u32);           /* vm_id */
	__type(value, struct xvnet_ll_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_ll_vm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XVNET_SLOW_RB_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xvnet_slow_rb SEC(".maps");

/* bpf/slowpath.h builds a record here, then copies as much of it as the
 * frame fills into xvnet_slow_rb: a 64-byte frame takes a small record, so
 * the ring holds as many new flows as before the frames were in it.  No
 * state: not pinned (no xvnet_ prefix, loader/kern/datapath.c). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xvnet_slow_rec);
} slow_buf SEC(".maps");

#endif
