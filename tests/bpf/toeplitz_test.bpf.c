// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only XDP program: runs bpf/toeplitz.h inside the verifier-checked
 * BPF world so tests can compare it with the user-space build of the same
 * header.  Driven by BPF_PROG_TEST_RUN.
 *
 * Packet layout: byte 0 = input length (8, 12, 32 or 36), then the input.
 * The packet may be longer (test_run wants at least an Ethernet header).
 * The key comes from the global `key`, or with `use_table` set the tables
 * in `table` (xvnet_toeplitz_tab); the hash goes to `result`.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps/xvnet_maps.h"
#include "bpf/toeplitz.h"

__u8 key[XVNET_RSS_KEY_SIZE];
struct xvnet_rss_table table;
__u32 use_table;
__u32 result;
__u32 runs;     /* bumped per valid run: proves result is fresh */

/*
 * Out of line, as in bpf/steer.h, and through a pointer clang cannot see
 * into: as nic_rx's map value, which the 72 row addresses are offsets
 * from (the global's 72 addresses, each kept live, go past the 512-byte
 * stack).
 */
static __noinline __u32 by_table(const __u8 *in, __u32 len)
{
	const struct xvnet_rss_table *t = &table;

	asm volatile("" : "+r"(t));
	switch (len) {
	case XVNET_TOEPLITZ_LEN_V4:
		return xvnet_toeplitz_tab(t, in, XVNET_TOEPLITZ_LEN_V4);
	case XVNET_TOEPLITZ_LEN_V4_L4:
		return xvnet_toeplitz_tab(t, in, XVNET_TOEPLITZ_LEN_V4_L4);
	case XVNET_TOEPLITZ_LEN_V6:
		return xvnet_toeplitz_tab(t, in, XVNET_TOEPLITZ_LEN_V6);
	default:
		return xvnet_toeplitz_tab(t, in, XVNET_TOEPLITZ_LEN_V6_L4);
	}
}

/*
 * One call per length with a constant len, as nic_rx does, so the tested
 * code is the unrolled code the datapath runs.
 */
#define HASH_CASE(n)                                                    \
	case n:                                                         \
		if (bpf_xdp_load_bytes(ctx, 1, buf, n))                 \
			return XDP_ABORTED;                             \
		h = use_table ? by_table(buf, n) :                      \
				xvnet_toeplitz(key, buf, n);            \
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
