// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the frame parser (bpf/parse.h) and the anti-spoofing
 * check (bpf/spoof.h through lib/spoof.c), compiled for user space, on any
 * bytes.  Oracle: no memory error or UB (they must never read past the
 * end); a parsed frame's facts agree with each other (a later fragment has
 * no ports, an L4 offset lies inside the frame).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/spoof.h"
#include "bpf/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t addrs[3][16] = {
		{ 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff, 10,0,0,2 },
		{ 0xfd,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,2 },
		{ 0xfe,0x80,0,0, 0,0,0,0, 0,0,0,0xff, 0xfe,0,0,2 },
	};
	static const uint8_t others[1][6] = { { 2, 0, 0, 0, 0, 3 } };
	struct xv_spoof_vm vm = {
		.mac = { 2, 0, 0, 0, 0, 2 },
		.addrs = addrs, .n_addrs = 3,
		.other_macs = others, .n_other_macs = 1,
	};
	/* the parser reads headers as structs: 2 mod 4 like the kernel's */
	static uint8_t buf[16384 + 2] __attribute__((aligned(8)));
	struct xvnet_pkt p;
	int r;

	if (size < 2 || size > 16384)
		return 0;
	vm.vlan = data[0] & 1 ? 10 : 0;
	vm.allow = data[0] >> 1;
	memcpy(buf + 2, data + 1, size - 1);
	memset(&p, 0, sizeof(p));
	if (parse_frame(buf + 2, buf + 2 + size - 1, &p) == PARSE_OK) {
		if (p.frag_later && p.has_ports)
			abort();
		if (p.has_ports && p.l4_rel >= size - 1)
			abort();
	}
	r = xv_spoof_check(&vm, data + 1, size - 1);
	if (r != 0 && r != XV_SPOOF_MALFORMED && (r < XVNET_VM_CNT_SPOOF_MAC || r >= XVNET_VM_CNT_MAX))
		abort();
	return 0;
}
