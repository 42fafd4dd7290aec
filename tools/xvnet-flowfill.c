// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-flowfill: fill a pinned xvnet_flows4 map (IPv4 flows) with the flows
 * xvnet-trafgen generates (tools/trafgen_flow.h), all delivering to one VM,
 * with batched map updates; report how fast the map took them.  The
 * benchmark uses it to grow the flow cache to a million entries and to
 * measure the raw insertion rate of the map.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "maps/xvnet_maps.h"
#include "tools/trafgen_flow.h"

static void mapped(__u8 *dst16, __u32 addr_host)
{
	__be32 be = htonl(addr_host);

	memset(dst16, 0, 10);
	dst16[10] = dst16[11] = 0xff;
	memcpy(dst16 + 12, &be, 4);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pin-dir", required_argument, 0, 'p' }, { "count", required_argument, 0, 'n' },
		{ "vm-id", required_argument, 0, 'v' }, { "src-ip", required_argument, 0, 'S' },
		{ "dst-ip", required_argument, 0, 'D' }, { "sport", required_argument, 0, 's' },
		{ "dport", required_argument, 0, 'd' }, { "batch", required_argument, 0, 'b' },
		{ "help", no_argument, 0, 'h' }, { 0 }
	};
	const char *pin_dir = XVNET_PIN_DIR;
	unsigned long count = 1, batch = 8192, vm_id = 0, sport = 1024, dport = 7777;
	struct in_addr src, dst;
	struct xvnet_flow4_key *keys;
	struct xvnet_flow *vals;
	char path[512];
	double t0, t;
	int fd, c;

	inet_aton("10.99.0.1", &src);
	inet_aton("10.99.0.2", &dst);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': pin_dir = optarg; break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'v': vm_id = strtoul(optarg, NULL, 0); break;
		case 'S': if (!inet_aton(optarg, &src)) goto usage; break;
		case 'D': if (!inet_aton(optarg, &dst)) goto usage; break;
		case 's': sport = strtoul(optarg, NULL, 0); break;
		case 'd': dport = strtoul(optarg, NULL, 0); break;
		case 'b': batch = strtoul(optarg, NULL, 0); break;
		default:
usage:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: xvnet-flowfill [--pin-dir DIR] [--count N] [--vm-id ID]\n"
				"         [--src-ip A] [--dst-ip B] [--sport P] [--dport P] [--batch B]\n"
				"Installs trafgen's flows 0..N-1 (UDP A:P+f%%32768 (A+f/32768) -> B:dport)\n"
				"as DELIVER to VM ID, queue by RSS; prints flows/s as JSON.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!count || !batch || vm_id >= XVNET_MAX_VMS) {
		fprintf(stderr, "xvnet-flowfill: --count and --batch must be > 0, --vm-id < %d\n",
			XVNET_MAX_VMS);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XVNET_MAP_FLOWS4);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "xvnet-flowfill: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* nic_rx looks into the flow cache only once flows_active is set */
	{
		struct xvnet_config cfg = { 0 };
		__u32 zero = 0;
		int cfd;

		snprintf(path, sizeof(path), "%s/%s", pin_dir, XVNET_MAP_CONFIG);
		cfd = bpf_obj_get(path);
		if (cfd < 0 || bpf_map_lookup_elem(cfd, &zero, &cfg)) {
			fprintf(stderr, "xvnet-flowfill: %s: %s\n", path, strerror(errno));
			return 1;
		}
		cfg.flows_active = 1;
		if (bpf_map_update_elem(cfd, &zero, &cfg, BPF_ANY)) {
			fprintf(stderr, "xvnet-flowfill: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	keys = calloc(batch, sizeof(*keys));
	vals = calloc(batch, sizeof(*vals));
	if (!keys || !vals)
		return 1;

	t0 = now();
	for (unsigned long f = 0; f < count;) {
		__u32 n = 0;
		LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);

		for (; n < batch && f < count; n++, f++) {
			struct xvnet_flow_key k = { 0 };

			mapped(k.src, ntohl(src.s_addr) + TRAFGEN_FLOW_SADDR_ADD(f));
			mapped(k.dst, ntohl(dst.s_addr));
			k.sport = htons(TRAFGEN_FLOW_SPORT(sport, f));
			k.dport = htons(dport);
			k.proto = IPPROTO_UDP;
			xvnet_flow_key_to4(&k, &keys[n]);
			vals[n] = (struct xvnet_flow){ .verdict = XVNET_FLOW_DELIVER,
						       .queue = XVNET_QUEUE_RSS, .vm_id = vm_id };
		}
		if (bpf_map_update_batch(fd, keys, vals, &n, &opts)) {
			fprintf(stderr, "xvnet-flowfill: batch update: %s\n", strerror(errno));
			return 1;
		}
	}
	t = now() - t0;
	printf("{\"flows\":%lu,\"seconds\":%.3f,\"flows_per_s\":%.0f}\n", count, t, count / t);
	return 0;
}
