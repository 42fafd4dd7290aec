// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf/toeplitz.h against Microsoft's "Verifying the RSS Hash Calculation"
 * suite (also Intel 82599 datasheet 7.1.2.8.3), both as built for user
 * space and as built for BPF, run through BPF_PROG_TEST_RUN on the test
 * program tests/bpf/toeplitz_test.bpf.c.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/unit.h"
#include "maps/xvnet_maps.h"
#include "bpf/toeplitz.h"
#include "toeplitz_test.skel.h"

static const __u8 ms_key[XVNET_RSS_KEY_SIZE] = XVNET_RSS_MS_KEY;

/*
 * The published tables: source and destination (address, port), hash over
 * the addresses only and over addresses + ports.  Values as published by
 * Microsoft (learn.microsoft.com .../network/verifying-the-rss-hash-calculation).
 */
struct ms_vector {
	const char *src;
	__u16 sport;
	const char *dst;
	__u16 dport;
	__u32 hash_ip;
	__u32 hash_ip_l4;
};

static const struct ms_vector ms_v4[] = {
	{ "66.9.149.187",   2794,  "161.142.100.80", 1766,  0x323e8fc2, 0x51ccc178 },
	{ "199.92.111.2",   14230, "65.69.140.83",   4739,  0xd718262a, 0xc626b0ea },
	{ "24.19.198.95",   12898, "12.22.207.184",  38024, 0xd2d0a5de, 0x5c2b394a },
	{ "38.27.205.30",   48228, "209.142.163.6",  2217,  0x82989176, 0xafc7327f },
	{ "153.39.163.191", 44251, "202.188.127.2",  1303,  0x5d1809c5, 0x10e828a2 },
};

static const struct ms_vector ms_v6[] = {
	{ "3ffe:2501:200:1fff::7", 2794, "3ffe:2501:200:3::1", 1766,
	  0x2cc18cd5, 0x40207d3d },
	{ "3ffe:501:8::260:97ff:fe40:efab", 14230, "ff02::1", 4739,
	  0x0f0c461c, 0xdde51bbf },
	{ "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251,
	  "fe80::200:f8ff:fe21:67cf", 38024, 0x4b61e985, 0x02d1feef },
};

#define N_V4 (sizeof(ms_v4) / sizeof(ms_v4[0]))
#define N_V6 (sizeof(ms_v6) / sizeof(ms_v6[0]))

static struct toeplitz_test *skel;

/*
 * Hash input in Microsoft order: source address, destination address,
 * then (with_ports) source port, destination port; network byte order.
 * Returns the length, which is always one of the four RSS input sizes.
 */
static __u32 ms_input(int af, const struct ms_vector *v, bool with_ports,
		      __u8 out[XVNET_TOEPLITZ_MAX_IN])
{
	__u32 alen = af == AF_INET ? 4 : 16;
	__be16 sport = htons(v->sport), dport = htons(v->dport);

	assert_int_equal(inet_pton(af, v->src, out), 1);
	assert_int_equal(inet_pton(af, v->dst, out + alen), 1);
	if (!with_ports)
		return 2 * alen;
	memcpy(out + 2 * alen, &sport, 2);
	memcpy(out + 2 * alen + 2, &dport, 2);
	return 2 * alen + 4;
}

/* Swap source and destination in an input built by ms_input(). */
static void swap_input(__u8 *in, __u32 len)
{
	__u32 alen = (len == 8 || len == 12) ? 4 : 16;
	__u8 t[16];

	memcpy(t, in, alen);
	memmove(in, in + alen, alen);
	memcpy(in + alen, t, alen);
	if (len == 2 * alen + 4) {
		memcpy(t, in + 2 * alen, 2);
		memmove(in + 2 * alen, in + 2 * alen + 2, 2);
		memcpy(in + 2 * alen + 2, t, 2);
	}
}

/*
 * The hash as the BPF build of the header computes it: packet = length
 * byte + input, padded (test_run wants at least an Ethernet header).
 * `runs` must move by one, so a stale `result` can never pass.
 */
/* The BPF build: by key, or with table set by those tables. */
static __u32 bpf_toeplitz_run(const __u8 *key, const struct xvnet_rss_table *table,
			      const __u8 *in, __u32 len)
{
	__u8 pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = pkt,
		    .data_size_in = sizeof(pkt),
		    .repeat = 1);
	__u32 runs;

	assert_non_null(skel);
	assert_true(len <= XVNET_TOEPLITZ_MAX_IN);
	pkt[0] = (__u8)len;
	memcpy(pkt + 1, in, len);
	memcpy(skel->bss->key, key, XVNET_RSS_KEY_SIZE);
	skel->bss->use_table = table != NULL;
	if (table)
		skel->bss->table = *table;
	skel->bss->result = 0xdeadbeef;
	runs = skel->bss->runs;

	assert_int_equal(bpf_prog_test_run_opts(
		bpf_program__fd(skel->progs.toeplitz_run), &opts), 0);
	assert_int_equal(opts.retval, XDP_PASS);
	assert_int_equal(skel->bss->runs, runs + 1);
	return skel->bss->result;
}

static __u32 bpf_toeplitz(const __u8 *key, const __u8 *in, __u32 len)
{
	return bpf_toeplitz_run(key, NULL, in, len);
}

/*
 * Independent oracle: Microsoft's pseudocode word for word, the 320-bit
 * key shifted as a byte string, no 64-bit window.  Only the first 32 + 8 *
 * len bits of the key ever reach the result.
 */
static __u32 ref_toeplitz(const __u8 *key, const __u8 *in, __u32 len)
{
	__u8 k[XVNET_RSS_KEY_SIZE];
	__u32 result = 0;

	memcpy(k, key, sizeof(k));
	for (__u32 bit = 0; bit < 8 * len; bit++) {
		if (in[bit / 8] & (0x80 >> (bit % 8)))
			result ^= (__u32)k[0] << 24 | (__u32)k[1] << 16 |
				  (__u32)k[2] << 8 | k[3];
		for (__u32 i = 0; i < sizeof(k); i++)
			k[i] = (__u8)(k[i] << 1 |
				      (i + 1 < sizeof(k) ? k[i + 1] >> 7 : 0));
	}
	return result;
}

/* Deterministic xorshift32 so a failure reproduces. */
static __u32 rng_state;

static __u32 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void check_table(int af, const struct ms_vector *tbl, size_t n,
			bool through_bpf)
{
	__u8 in[XVNET_TOEPLITZ_MAX_IN];

	for (size_t i = 0; i < n; i++) {
		for (int ports = 0; ports < 2; ports++) {
			__u32 len = ms_input(af, &tbl[i], ports, in);
			__u32 want = ports ? tbl[i].hash_ip_l4 : tbl[i].hash_ip;
			__u32 got = through_bpf ? bpf_toeplitz(ms_key, in, len)
						: xvnet_toeplitz(ms_key, in, len);

			if (got != want)
				print_error("%s %s:%u -> %s:%u len %u: got 0x%08x want 0x%08x\n",
					    through_bpf ? "bpf" : "user",
					    tbl[i].src, tbl[i].sport, tbl[i].dst,
					    tbl[i].dport, len, got, want);
			assert_int_equal(got, want);
		}
	}
}

static void test_ms_key_macro(void **state)
{
	static const char hex[] =
		"6d5a56da255b0ec24167253d43a38fb0d0ca2bcb"
		"ae7b30b477cb2da38030f20c6a42b73bbeac01fa";
	__u8 k[XVNET_RSS_KEY_SIZE];

	(void)state;
	assert_int_equal(sizeof(ms_key), XVNET_RSS_KEY_SIZE);
	for (size_t i = 0; i < sizeof(k); i++) {
		unsigned int byte;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		k[i] = (__u8)byte;
	}
	assert_memory_equal(k, ms_key, sizeof(k));
}

static void test_user_ipv4(void **state)
{
	(void)state;
	check_table(AF_INET, ms_v4, N_V4, false);
}

static void test_user_ipv6(void **state)
{
	(void)state;
	check_table(AF_INET6, ms_v6, N_V6, false);
}

static void test_bpf_ipv4(void **state)
{
	(void)state;
	check_table(AF_INET, ms_v4, N_V4, true);
}

static void test_bpf_ipv6(void **state)
{
	(void)state;
	check_table(AF_INET6, ms_v6, N_V6, true);
}

/* The oracle itself must reproduce the published table. */
static void test_reference_matches_table(void **state)
{
	__u8 in[XVNET_TOEPLITZ_MAX_IN];

	(void)state;
	for (size_t i = 0; i < N_V4; i++) {
		assert_int_equal(ref_toeplitz(ms_key, in, ms_input(AF_INET, &ms_v4[i], false, in)),
				 ms_v4[i].hash_ip);
		assert_int_equal(ref_toeplitz(ms_key, in, ms_input(AF_INET, &ms_v4[i], true, in)),
				 ms_v4[i].hash_ip_l4);
	}
	for (size_t i = 0; i < N_V6; i++) {
		assert_int_equal(ref_toeplitz(ms_key, in, ms_input(AF_INET6, &ms_v6[i], false, in)),
				 ms_v6[i].hash_ip);
		assert_int_equal(ref_toeplitz(ms_key, in, ms_input(AF_INET6, &ms_v6[i], true, in)),
				 ms_v6[i].hash_ip_l4);
	}
}

/*
 * Another key must give other hashes.  The key used is 0x6d5a repeated,
 * the well-known symmetric RSS key: with a 16-bit periodic key, swapping
 * source and destination (32-bit aligned fields) and the ports (16-bit)
 * moves every input bit by a multiple of 16 and keeps the hash, which
 * checks that the key, not just the input, drives the result.
 */
static void test_other_key(void **state)
{
	__u8 sym_key[XVNET_RSS_KEY_SIZE], zero_key[XVNET_RSS_KEY_SIZE] = { 0 };
	__u8 in[XVNET_TOEPLITZ_MAX_IN];

	(void)state;
	for (size_t i = 0; i < sizeof(sym_key); i++)
		sym_key[i] = i % 2 ? 0x5a : 0x6d;

	for (size_t i = 0; i < N_V4 + N_V6; i++) {
		int af = i < N_V4 ? AF_INET : AF_INET6;
		const struct ms_vector *v = i < N_V4 ? &ms_v4[i] : &ms_v6[i - N_V4];

		for (int ports = 0; ports < 2; ports++) {
			__u32 len = ms_input(af, v, ports, in);
			__u32 want = ports ? v->hash_ip_l4 : v->hash_ip;
			__u32 h = xvnet_toeplitz(sym_key, in, len);
			__u32 hb = bpf_toeplitz(sym_key, in, len);

			assert_int_not_equal(h, want);
			assert_int_equal(h, ref_toeplitz(sym_key, in, len));
			assert_int_equal(hb, h);
			assert_int_equal(xvnet_toeplitz(zero_key, in, len), 0);
			assert_int_equal(bpf_toeplitz(zero_key, in, len), 0);

			swap_input(in, len);
			assert_int_equal(xvnet_toeplitz(sym_key, in, len), h);
			assert_int_equal(bpf_toeplitz(sym_key, in, len), h);
			/* The Microsoft key is not symmetric. */
			assert_int_not_equal(xvnet_toeplitz(ms_key, in, len), want);
		}
	}
}

/*
 * A few hundred random keys and inputs of the four sizes (fixed seed):
 * BPF, user space and the pseudocode oracle agree.
 */
static void test_random_bpf_vs_user(void **state)
{
	static const __u32 lens[] = {
		XVNET_TOEPLITZ_LEN_V4, XVNET_TOEPLITZ_LEN_V4_L4,
		XVNET_TOEPLITZ_LEN_V6, XVNET_TOEPLITZ_LEN_V6_L4,
	};
	__u8 key[XVNET_RSS_KEY_SIZE], in[XVNET_TOEPLITZ_MAX_IN];
	__u32 distinct = 0, prev = 0;

	(void)state;
	rng_state = 0x2545f491;
	for (int iter = 0; iter < 400; iter++) {
		__u32 len = lens[iter % 4], u, b;

		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (__u8)rng();
		for (size_t i = 0; i < sizeof(in); i++)
			in[i] = (__u8)rng();

		u = xvnet_toeplitz(key, in, len);
		b = bpf_toeplitz(key, in, len);
		if (u != b || u != ref_toeplitz(key, in, len))
			print_error("iter %d len %u: user 0x%08x bpf 0x%08x ref 0x%08x\n",
				    iter, len, u, b, ref_toeplitz(key, in, len));
		assert_int_equal(u, b);
		assert_int_equal(u, ref_toeplitz(key, in, len));
		distinct += u != prev;
		prev = u;
	}
	/* Guard against a degenerate hash that is trivially equal. */
	assert_true(distinct > 390);
}

/*
 * The table-driven hash (xvnet_toeplitz_tab, what nic_rx runs for a slot
 * with XVNET_VM_F_RSS_TABLE) equals the bitwise one: random keys, every
 * input length in user space, the four hash lengths through BPF, and
 * Microsoft's published vectors.
 */
static void test_table_vs_bitwise(void **state)
{
	static const __u32 lens[] = {
		XVNET_TOEPLITZ_LEN_V4, XVNET_TOEPLITZ_LEN_V4_L4,
		XVNET_TOEPLITZ_LEN_V6, XVNET_TOEPLITZ_LEN_V6_L4,
	};
	static struct xvnet_rss_table t;
	__u8 key[XVNET_RSS_KEY_SIZE], in[XVNET_TOEPLITZ_MAX_IN];
	__u32 distinct = 0, prev = 0;

	(void)state;
	rng_state = 0x9e3779b9;
	for (int iter = 0; iter < 200; iter++) {
		__u32 want, len = lens[iter % 4];

		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (__u8)rng();
		for (size_t i = 0; i < sizeof(in); i++)
			in[i] = (__u8)rng();
		xvnet_toeplitz_table_fill(key, &t);
		for (__u32 l = 0; l <= XVNET_TOEPLITZ_MAX_IN; l++)
			if (xvnet_toeplitz_tab(&t, in, l) != xvnet_toeplitz(key, in, l))
				fail_msg("iter %d len %u: table 0x%08x bitwise 0x%08x", iter, l,
					 xvnet_toeplitz_tab(&t, in, l), xvnet_toeplitz(key, in, l));
		want = ref_toeplitz(key, in, len);
		assert_int_equal(bpf_toeplitz_run(key, &t, in, len), want);
		distinct += want != prev;
		prev = want;
	}
	assert_true(distinct > 190);

	xvnet_toeplitz_table_fill(ms_key, &t);
	for (size_t i = 0; i < sizeof(ms_v4) / sizeof(ms_v4[0]); i++) {
		__u32 len = ms_input(AF_INET, &ms_v4[i], true, in);

		assert_int_equal(bpf_toeplitz_run(ms_key, &t, in, len), ms_v4[i].hash_ip_l4);
		assert_int_equal(bpf_toeplitz_run(ms_key, &t, in, 8), ms_v4[i].hash_ip);
	}
	for (size_t i = 0; i < sizeof(ms_v6) / sizeof(ms_v6[0]); i++) {
		__u32 len = ms_input(AF_INET6, &ms_v6[i], true, in);

		assert_int_equal(bpf_toeplitz_run(ms_key, &t, in, len), ms_v6[i].hash_ip_l4);
		assert_int_equal(bpf_toeplitz_run(ms_key, &t, in, 32), ms_v6[i].hash_ip);
	}
}

/* Bytes past len must not leak into the hash (both builds). */
static void test_len_bounds(void **state)
{
	__u8 in[XVNET_TOEPLITZ_MAX_IN];
	__u32 len = ms_input(AF_INET, &ms_v4[0], true, in);

	(void)state;
	memset(in + len, 0xff, sizeof(in) - len);
	assert_int_equal(xvnet_toeplitz(ms_key, in, len), ms_v4[0].hash_ip_l4);
	assert_int_equal(xvnet_toeplitz(ms_key, in, 8), ms_v4[0].hash_ip);
	assert_int_equal(bpf_toeplitz(ms_key, in, len), ms_v4[0].hash_ip_l4);
	assert_int_equal(bpf_toeplitz(ms_key, in, 8), ms_v4[0].hash_ip);
}

static int group_setup(void **state)
{
	(void)state;
	skel = toeplitz_test__open_and_load();
	if (!skel) {
		fprintf(stderr, "toeplitz: cannot load toeplitz_test.bpf.o\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	toeplitz_test__destroy(skel);
	skel = NULL;
	return 0;
}

static const struct CMUnitTest toeplitz_tests[] = {
	cmocka_unit_test(test_ms_key_macro),
	cmocka_unit_test(test_reference_matches_table),
	cmocka_unit_test(test_user_ipv4),
	cmocka_unit_test(test_user_ipv6),
	cmocka_unit_test(test_bpf_ipv4),
	cmocka_unit_test(test_bpf_ipv6),
	cmocka_unit_test(test_other_key),
	cmocka_unit_test(test_random_bpf_vs_user),
	cmocka_unit_test(test_len_bounds),
	cmocka_unit_test(test_table_vs_bitwise),
};

UNIT_GROUP(group_toeplitz, "toeplitz", toeplitz_tests, group_setup,
	   group_teardown);
