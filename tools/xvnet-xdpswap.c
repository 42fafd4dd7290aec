// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-xdpswap: the benchmark's switch between xvnet and its reference.
 * `make bench` alternates, seconds apart, xvnet's nic_rx and a trivial
 * redirect program (bpf/bench_redirect.bpf.c) on the same NIC, to the same
 * VM ports and consumers, by replacing the program of xvnetd's own pinned
 * XDP link in place (bpf_link_update): no detach, nothing else changes.
 *
 *   xvnet-xdpswap load --pin-dir XVPIN --out DIR [--mem-entries N]
 *       load bench_redirect; fill its DEVMAP from xvnetd's pinned maps (each
 *       VM with a DEVMAP port, keyed by the low 16 bits of its MAC); reuse
 *       xvnetd's xvnet_xsks with the slots of the first xsk VM (or the VM
 *       of --xsk-mac); pin the programs as DIR/triv_devmap, DIR/triv_xsk,
 *       DIR/triv_pass, DIR/triv_memread (its table of N 128-byte entries,
 *       a power of two, default 2), and pin the link's current program
 *       (nic_rx) as DIR/xvnet.  Prints how many ports it took.
 *   xvnet-xdpswap use --pin-dir XVPIN PROGPIN
 *       make the pinned link XVPIN/nic_rx_link run the pinned program.
 *
 * Remove DIR (rm -r) when done; xvnetd --teardown removes its own pins.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "maps/xvnet_maps.h"
#include "bench_redirect.skel.h"

static int pinned(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "xvnet-xdpswap: %s: %s\n", path, strerror(errno));
	return fd;
}

static int pin_prog(int fd, const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if (bpf_obj_pin(fd, path)) {
		fprintf(stderr, "xvnet-xdpswap: pin %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int cmd_load(const char *xvpin, const char *out, const struct ether_addr *xsk_mac,
		    unsigned int mem_log2)
{
	struct bench_redirect *skel;
	struct bpf_link_info li = { 0 };
	__u32 li_len = sizeof(li);
	int vms, ports, xsks, link, cur, n = 0, err, i;
	__u32 xsk_vm = (__u32)-1;

	vms = pinned(xvpin, XVNET_MAP_VMS);
	ports = pinned(xvpin, XVNET_MAP_PORTS);
	xsks = pinned(xvpin, XVNET_MAP_XSKS);
	link = pinned(xvpin, "nic_rx_link");
	if (vms < 0 || ports < 0 || xsks < 0 || link < 0)
		return 1;
	if (bpf_obj_get_info_by_fd(link, &li, &li_len)) {
		fprintf(stderr, "xvnet-xdpswap: link info: %s\n", strerror(errno));
		return 1;
	}
	/* the VM whose sockets triv_xsk uses */
	for (i = 0; i < XVNET_MAX_VMS && xsk_vm == (__u32)-1; i++) {
		struct xvnet_vm vm;
		__u32 id = i;

		if (bpf_map_lookup_elem(vms, &id, &vm) || !(vm.flags & XVNET_VM_F_ACTIVE))
			continue;
		if (vm.port_kind == XVNET_PORT_XSK &&
		    (!xsk_mac || !memcmp(vm.mac, xsk_mac, 6)))
			xsk_vm = id;
	}
	skel = bench_redirect__open();
	if (!skel)
		return 1;
	skel->rodata->xsk_base = xsk_vm == (__u32)-1 ? 0 : XVNET_XSK_SLOT(xsk_vm, 0);
	bpf_map__set_max_entries(skel->maps.triv_table, 1u << mem_log2);
	skel->rodata->table_shift = 32 - mem_log2;
	if (bpf_map__reuse_fd(skel->maps.triv_xsks, xsks)) {
		fprintf(stderr, "xvnet-xdpswap: reuse xvnet_xsks: %s\n", strerror(errno));
		return 1;
	}
	err = bench_redirect__load(skel);
	if (err) {
		fprintf(stderr, "xvnet-xdpswap: load bench_redirect: %s\n", strerror(-err));
		return 1;
	}
	for (i = 0; i < XVNET_MAX_VMS; i++) {
		struct xvnet_vm vm;
		__u32 id = i, ifindex, key;

		if (bpf_map_lookup_elem(vms, &id, &vm) || !(vm.flags & XVNET_VM_F_ACTIVE))
			continue;
		if (bpf_map_lookup_elem(ports, &id, &ifindex) || !ifindex)
			continue;
		key = ((__u32)vm.mac[4] << 8) | vm.mac[5];
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.triv_ports), &key, &ifindex, BPF_ANY)) {
			fprintf(stderr, "xvnet-xdpswap: triv_ports[%u]: %s\n", key, strerror(errno));
			return 1;
		}
		n++;
	}
	mkdir(out, 0700);
	cur = bpf_prog_get_fd_by_id(li.prog_id);
	if (cur < 0) {
		fprintf(stderr, "xvnet-xdpswap: program %u of the link: %s\n", li.prog_id, strerror(errno));
		return 1;
	}
	if (pin_prog(bpf_program__fd(skel->progs.triv_devmap), out, "triv_devmap") ||
	    pin_prog(bpf_program__fd(skel->progs.triv_xsk), out, "triv_xsk") ||
	    pin_prog(bpf_program__fd(skel->progs.triv_pass), out, "triv_pass") ||
	    pin_prog(bpf_program__fd(skel->progs.triv_memread), out, "triv_memread") ||
	    pin_prog(cur, out, "xvnet"))
		return 1;
	printf("{\"ports\":%d,\"xsk_vm\":%d,\"xvnet_prog_id\":%u}\n", n,
	       xsk_vm == (__u32)-1 ? -1 : (int)xsk_vm, li.prog_id);
	bench_redirect__destroy(skel);    /* the pins keep the programs */
	return 0;
}

static int cmd_use(const char *xvpin, const char *prog_pin)
{
	int link = pinned(xvpin, "nic_rx_link"), prog = bpf_obj_get(prog_pin);

	if (link < 0)
		return 1;
	if (prog < 0) {
		fprintf(stderr, "xvnet-xdpswap: %s: %s\n", prog_pin, strerror(errno));
		return 1;
	}
	if (bpf_link_update(link, prog, NULL)) {
		fprintf(stderr, "xvnet-xdpswap: bpf_link_update: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pin-dir", required_argument, 0, 'p' }, { "out", required_argument, 0, 'o' },
		{ "xsk-mac", required_argument, 0, 'x' }, { "mem-entries", required_argument, 0, 'm' },
		{ "help", no_argument, 0, 'h' }, { 0 }
	};
	const char *xvpin = XVNET_PIN_DIR, *out = NULL, *cmd;
	struct ether_addr mac, *xsk_mac = NULL;
	unsigned long n;
	unsigned int mem_log2 = 1;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': xvpin = optarg; break;
		case 'o': out = optarg; break;
		case 'x':
			if (!ether_aton_r(optarg, &mac))
				goto usage;
			xsk_mac = &mac;
			break;
		case 'm':
			n = strtoul(optarg, &end, 0);
			if (*end || n < 2 || n > (1ul << 24) || (n & (n - 1))) {
				fprintf(stderr, "xvnet-xdpswap: --mem-entries: '%s' is not a power of"
					" two from 2 to 16777216\n", optarg);
				return 2;
			}
			for (mem_log2 = 1; (1ul << mem_log2) < n; mem_log2++)
				;
			break;
		default:
usage:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: xvnet-xdpswap load [--pin-dir XVPIN] --out DIR [--xsk-mac MAC]"
				" [--mem-entries N]\n"
				"       xvnet-xdpswap use [--pin-dir XVPIN] PROGPIN\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind >= argc)
		goto usage;
	cmd = argv[optind];
	libbpf_set_print(NULL);
	if (!strcmp(cmd, "load") && out)
		return cmd_load(xvpin, out, xsk_mac, mem_log2);
	if (!strcmp(cmd, "use") && optind + 1 < argc)
		return cmd_use(xvpin, argv[optind + 1]);
	c = 0;
	goto usage;
}
