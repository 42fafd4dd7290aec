// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnet-xdpsink: the benchmarks' stand-in consumer.  Attaches bench_drop
 * (count + XDP_DROP, native mode) to the given devices of one network
 * namespace, and rewrites the packet total every 100 ms into --stats FILE
 * until SIGINT/SIGTERM, then detaches.  One process holds the program, so
 * a thousand VM ports need no pinning (pins are invisible in `ip netns exec`).
 * --flows FILE attaches queue_flows instead, which also notes per flow the
 * RX queue it arrived on, and writes them to FILE at exit
 * ("queue proto src sport dst dport packets" per line).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_drop.skel.h"
#include "bpf/sinkflow.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long long total(int map_fd, int ncpu)
{
	unsigned long long vals[ncpu], sum = 0;
	__u32 zero = 0;
	int i;

	if (bpf_map_lookup_elem(map_fd, &zero, vals))
		return 0;
	for (i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static void write_stats(const char *path, unsigned long long n)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%llu\n", n);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static void write_flows(const char *path, int fd)
{
	struct sink_flow_key k, next, *prev = NULL;
	__u64 n;
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "xvnet-xdpsink: %s: %s\n", path, strerror(errno));
		return;
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, &n))
			sink_flow_print(f, &k, n);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "netns", required_argument, 0, 'n' }, { "stats", required_argument, 0, 's' },
		{ "flows", required_argument, 0, 'f' },
		{ "help", no_argument, 0, 'h' }, { 0 }
	};
	const char *netns = NULL, *stats = NULL, *flows = NULL;
	struct bench_drop *skel;
	int c, i, ncpu, prog_fd, map_fd, n_dev, *ifindex;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'n': netns = optarg; break;
		case 's': stats = optarg; break;
		case 'f': flows = optarg; break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: xvnet-xdpsink [--netns NS] [--stats FILE] [--flows FILE] DEV...\n");
			return c == 'h' ? 0 : 2;
		}
	}
	n_dev = argc - optind;
	if (n_dev < 1) {
		fprintf(stderr, "xvnet-xdpsink: name at least one device\n");
		return 2;
	}
	skel = bench_drop__open_and_load();
	if (!skel) {
		fprintf(stderr, "xvnet-xdpsink: cannot load bench_drop: %s\n", strerror(errno));
		return 1;
	}
	if (netns) {
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			fprintf(stderr, "xvnet-xdpsink: netns %s: %s\n", netns, strerror(errno));
			return 1;
		}
		close(fd);
	}
	prog_fd = bpf_program__fd(flows ? skel->progs.queue_flows : skel->progs.bench_drop);
	map_fd = bpf_map__fd(skel->maps.sink_packets);
	ncpu = libbpf_num_possible_cpus();
	ifindex = calloc(n_dev, sizeof(*ifindex));
	for (i = 0; i < n_dev; i++) {
		ifindex[i] = if_nametoindex(argv[optind + i]);
		if (!ifindex[i] || bpf_xdp_attach(ifindex[i], prog_fd, XDP_FLAGS_DRV_MODE, NULL)) {
			fprintf(stderr, "xvnet-xdpsink: cannot attach to %s: %s\n",
				argv[optind + i], strerror(errno));
			n_dev = i;
			stop = 2;
			break;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		if (stats)
			write_stats(stats, total(map_fd, ncpu));
		usleep(100 * 1000);
	}
	for (i = 0; i < n_dev; i++)
		bpf_xdp_detach(ifindex[i], XDP_FLAGS_DRV_MODE, NULL);
	if (flows)
		write_flows(flows, bpf_map__fd(skel->maps.sink_flows));
	printf("%llu\n", total(map_fd, ncpu));
	bench_drop__destroy(skel);
	free(ifindex);
	return stop == 2;
}
