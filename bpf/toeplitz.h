/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Toeplitz hash as specified by Microsoft RSS ("RSS Hashing Functions") and
 * implemented by NICs (Intel 82599 7.1.2.8).  Header-only and shared by the
 * BPF programs (clang -target bpf) and user space (gcc), so that xvnetd and
 * the tests compute exactly what nic_rx computes.
 *
 * Definition: for every input bit b, left to right (MSB of in[0] first),
 * if b is set, XOR the left-most 32 bits of the key into the result, then
 * shift the key left by one bit.
 *
 * Implementation: a 64-bit window holds key bytes i..i+7 while input byte i
 * is consumed; its top 32 bits are "the left-most 32 bits of K" for the bit
 * at hand.  After the 8 bits of a byte the window has shifted by 8 and the
 * next key byte is ORed into the freed low byte.  Input bit 7 of byte i
 * needs key bits 8i+7 .. 8i+38, i.e. bytes up to i+4, so the window never
 * runs dry; 36 input bytes consume exactly the 40-byte key.
 */
#ifndef XVNET_TOEPLITZ_H
#define XVNET_TOEPLITZ_H

#include <linux/types.h>
#include "maps/xvnet_maps.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

/*
 * Longest hash input: IPv6 source + destination + two ports.  Also the
 * loop bound the verifier sees, whatever len is.
 */
#define XVNET_TOEPLITZ_MAX_IN 36

/* Input lengths of the four Microsoft RSS hash types. */
#define XVNET_TOEPLITZ_LEN_V4     8   /* saddr, daddr */
#define XVNET_TOEPLITZ_LEN_V4_L4  12  /* saddr, daddr, sport, dport */
#define XVNET_TOEPLITZ_LEN_V6     32
#define XVNET_TOEPLITZ_LEN_V6_L4  36

/* The key of Microsoft's "Verifying the RSS Hash Calculation" suite. */
#define XVNET_RSS_MS_KEY {                                              \
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,                 \
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,                 \
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,                 \
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,                 \
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,                 \
}

/*
 * The BPF call sites pass a constant len; full unrolling then leaves
 * straight-line code with constant key/input offsets (no loop for the
 * verifier to walk, no variable-offset map access).  A variable len also
 * works: 36 guarded byte steps.  gcc rejects an
 * unknown "#pragma unroll" under -Wall -Werror and does not need it.
 */
#ifdef __clang__
#define XVNET_UNROLL _Pragma("unroll")
#else
#define XVNET_UNROLL
#endif

/*
 * Fully unrolled, clang merges the per-bit shifts of the window across
 * bytes, keeps dozens of shifted copies live and spills past the 512-byte
 * BPF stack.  An empty asm that "changes" each bit's key word stops that
 * (it costs no instruction).  User space needs no such help.
 */
#if defined(__bpf__) || defined(__BPF__)
#define XVNET_TOEPLITZ_BARRIER(v) asm volatile("" : "+r"(v))
#else
#define XVNET_TOEPLITZ_BARRIER(v) do { } while (0)
#endif

/*
 * key: XVNET_RSS_KEY_SIZE bytes; in: len bytes, network byte order, in the
 * Microsoft order (source address, destination address, source port,
 * destination port).  len is at most XVNET_TOEPLITZ_MAX_IN; more is ignored.
 *
 * Cost with a constant len, BPF: about 7 instructions per input bit and no
 * branch, so the verifier walks it once (no state per bit) whatever it
 * knows about the key, e.g. even a constant key from .rodata.
 */
static __always_inline __u32 xvnet_toeplitz(const __u8 *key, const __u8 *in,
					    const __u32 len)
{
	__u64 win = 0;
	__u32 hash = 0;
	__u32 i, j;

	XVNET_UNROLL
	for (i = 0; i < 8; i++)
		win = (win << 8) | key[i];

	/*
	 * A guard, not a break: clang cannot fully unroll a loop with a
	 * second exit, and "#pragma unroll" that fails is an error under
	 * -Werror.  With a constant len the guards fold away.
	 */
	XVNET_UNROLL
	for (i = 0; i < XVNET_TOEPLITZ_MAX_IN; i++) {
		__u32 b;

		if (i >= len)
			continue;
		b = in[i];
		XVNET_UNROLL
		for (j = 0; j < 8; j++) {
			__u32 k = win >> 32;    /* left-most 32 key bits */

			XVNET_TOEPLITZ_BARRIER(k);
			/*
			 * Bit j of b (MSB first) moved to bit 31, then smeared
			 * over the word by an arithmetic shift: all ones iff
			 * set.  A mask, not an if, so no verifier branch.
			 */
			hash ^= k & (__u32)((__s32)(b << (24 + j)) >> 31);
			win <<= 1;
		}
		/* Low byte is free now; the constant test keeps key[] in range. */
		if (i + 8 < XVNET_RSS_KEY_SIZE)
			win |= key[i + 8];
	}
	return hash;
}

/*
 * The same hash by tables (struct xvnet_rss_table, filled from the key by
 * xvnet_toeplitz_table_fill): a Toeplitz hash is linear in its input, so
 * each input nibble adds, by XOR, a word that depends only on its position
 * and value.  Two loads and two XORs per input byte where the bitwise hash
 * takes ~56 instructions; the index is a nibble, so the verifier sees
 * every load in bounds.
 */
static __always_inline __u32 xvnet_toeplitz_tab(const struct xvnet_rss_table *t,
						const __u8 *in, const __u32 len)
{
	__u32 hash = 0, i;

	XVNET_UNROLL
	for (i = 0; i < XVNET_TOEPLITZ_MAX_IN; i++) {
		__u32 b;

		if (i >= len)
			continue;
		b = in[i];
		/* one byte after the other: scheduled freely, clang loads the
		 * bytes ahead and spills their indexes past the BPF stack */
		XVNET_TOEPLITZ_BARRIER(b);
		hash ^= t->nib[2 * i][b >> 4] ^ t->nib[2 * i + 1][b & 15];
	}
	return hash;
}

_Static_assert(XVNET_RSS_TABLE_NIBBLES == 2 * XVNET_TOEPLITZ_MAX_IN,
	       "a table row for every input nibble");

#if !defined(__bpf__) && !defined(__BPF__)
/* The 32 key bits from bit `bit` on (MSB of key[0] is bit 0). */
static inline __u32 xvnet_toeplitz_key_word(const __u8 *key, __u32 bit)
{
	__u32 i = bit / 8, k;
	__u64 w = 0;

	for (k = 0; k < 5; k++)         /* 40 bits hold any 32 from bit % 8 on */
		w = w << 8 | (i + k < XVNET_RSS_KEY_SIZE ? key[i + k] : 0);
	return (__u32)(w >> (8 - bit % 8));
}

/* User space (xvnetd, the tests): key's tables, by the definition above. */
static inline void xvnet_toeplitz_table_fill(const __u8 *key, struct xvnet_rss_table *t)
{
	for (__u32 n = 0; n < XVNET_RSS_TABLE_NIBBLES; n++)
		for (__u32 v = 0; v < 16; v++) {
			__u32 h = 0;

			for (__u32 j = 0; j < 4; j++)   /* bit j of the nibble, MSB first */
				if (v & (8u >> j))
					h ^= xvnet_toeplitz_key_word(key, 4 * n + j);
			t->nib[n][v] = h;
		}
}
#endif

#endif /* XVNET_TOEPLITZ_H */
