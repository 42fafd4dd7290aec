// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the value parsers of lib/parse.c (MAC, VLAN, numbers,
 * lists, IP, protocol, queue, names).  The first byte picks the parser, the
 * rest is the text.  Oracle: no memory error or UB; an accepted MAC or IP
 * formats to text that parses back to the same value; an accepted name or
 * interface name is a token the config file can carry.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512], err[XV_ERR_LEN], out[64], buf[64];
	uint8_t mac[6], mac2[6], ip[16], ip2[16], list[64], proto;
	uint16_t u16;
	unsigned long ul;
	size_t n;
	bool v4, v4b;

	if (size < 1 || size > sizeof(s))
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 9) {
	case 0:
		if (!xv_parse_mac("mac", s, mac, err, sizeof(err))) {
			xv_fmt_mac(mac, buf);
			if (xv_parse_mac("mac", buf, mac2, err, sizeof(err)) ||
			    memcmp(mac, mac2, 6))
				abort();
		}
		break;
	case 1:
		xv_parse_vlan("vlan", s, &u16, err, sizeof(err));
		break;
	case 2:
		xv_parse_uint("n", s, 3, 70000, &ul, err, sizeof(err));
		break;
	case 3:
		if (!xv_parse_num_list("queues", s, 15, "queue", list, sizeof(list), &n,
				       err, sizeof(err)) && n > sizeof(list))
			abort();
		break;
	case 4:
		if (!xv_parse_ip("ip", s, ip, &v4, err, sizeof(err))) {
			xv_fmt_ip(ip, buf, sizeof(buf));
			if (xv_parse_ip("ip", buf, ip2, &v4b, err, sizeof(err)) ||
			    memcmp(ip, ip2, 16) || v4 != v4b)
				abort();
		}
		break;
	case 5:
		if (!xv_parse_proto("proto", s, &proto, err, sizeof(err))) {
			uint8_t again;
			const char *nm = xv_proto_name(proto, buf);

			if (xv_parse_proto("proto", nm, &again, err, sizeof(err)) ||
			    again != proto)
				abort();
		}
		break;
	case 6:
		xv_parse_queue("queue", s, &u16, err, sizeof(err));
		break;
	case 7:
		if (!xv_parse_name("name", s, out, sizeof(out), err, sizeof(err)) &&
		    !xv_config_token_ok(out))
			abort();
		break;
	default:
		if (!xv_parse_ifname("ifname", s, out, err, sizeof(err)) &&
		    (!xv_config_token_ok(out) || strlen(out) > XV_IFNAME_MAX))
			abort();
		break;
	}
	return 0;
}
