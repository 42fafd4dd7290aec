// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_floor: floor_classify, not a switch but the least a switch that
 * looks at the frame and counts it does: bounds-checked Ethernet, IPv4 and
 * UDP headers, one inlined ARRAY read of the VM (its MAC compared with the
 * destination in two loads), one per-CPU counter, the redirect.  No VLANs,
 * no IPv6, no flow key, no errors counted: cheaper than any real
 * classifier.  xvnet-costbench times it against the trivial redirect
 * exactly as it times nic_rx, so issue 18's target for nic_rx can be read
 * against what the machine allows (docs/PERFORMANCE.md).  The memory floor
 * of a flow lookup is bench_redirect's triv_memread.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct floor_vm {
	__u32 mac_hi;               /* destination MAC bytes 0-3, as loaded */
	__u16 mac_lo;               /* bytes 4-5 */
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct floor_vm);
} floor_vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} floor_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} floor_ports SEC(".maps");

SEC("xdp")
int floor_classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct floor_vm *vm;
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	vm = bpf_map_lookup_elem(&floor_vms, &zero);
	if (!vm || vm->mac_hi != *(__u32 *)eth->h_dest || vm->mac_lo != *(__u16 *)&eth->h_dest[4])
		return XDP_PASS;
	n = bpf_map_lookup_elem(&floor_count, &zero);
	if (n)
		(*n)++;
	return bpf_redirect_map(&floor_ports, 0, XDP_DROP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
