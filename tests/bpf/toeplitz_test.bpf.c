// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only XDP program: runs bpf/toeplitz.h inside the verifier-checked
 * BPF world so tests can compare it with the user-space build of the same
 * header.  Driven by BPF_PROG_TEST_RUN.
 *
 * Packet layout: byte 0 = input length (8, 12, 32 or 36), then the input.
 * The packet may be longer (test_run wants at least an Ethernet header).
 * The key comes from the global `key`, the hash goes to `result`.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps/xvnet_maps.h"
#include "bpf/toeplitz.h"

__u8 key[XVNET_RSS_KEY_SIZE];
__u32 result;
__u32 runs;     /* bumped per valid run: proves result is fresh */

/*
 * One call per length with a constant len, as nic_rx does, so the tested
 * code is the unrolled code the datapath runs.
 */
#define HASH_CASE(n)                                                    \
	case n:                                                         \
		if (bpf_xdp_load_bytes(ctx, 1, buf, n))                 \
			return XDP_ABORTED;                             \
		h = xvnet_toeplitz(key, buf, n);                        \
		break

SEC("xdp")
int toeplitz_run(struct xdp_md *ctx)
{
	__u8 buf[XVNET_TOEPLITZ_MAX_IN] = {};
	__u8 len;
	__u32 h;

	if (bpf_xdp_load_bytes(ctx, 0, &len, 1))
		return XDP_ABORTED;

	switch (len) {
	HASH_CASE(XVNET_TOEPLITZ_LEN_V4);
	HASH_CASE(XVNET_TOEPLITZ_LEN_V4_L4);
	HASH_CASE(XVNET_TOEPLITZ_LEN_V6);
	HASH_CASE(XVNET_TOEPLITZ_LEN_V6_L4);
	default:
		return XDP_ABORTED;
	}

	result = h;
	__sync_fetch_and_add(&runs, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
