// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl stats: counters, --watch rates, the Prometheus text format. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/parse.h"
#include "maps/xvnet_maps.h"
#include "ctl/xvnetctl.h"

/* --watch: the rate of o[k] since prev (same path), "" without prev. */
static const char *rate(struct json_object *prev, struct json_object *o,
			const char *k, double dt)
{
	static char buf[4][40];
	static int n;
	char *b = buf[n++ % 4];
	int64_t d;

	if (!prev || dt <= 0 || !json_object_object_get_ex(prev, k, NULL))
		return "";
	d = ji(o, k) - ji(prev, k);
	snprintf(b, sizeof(buf[0]), " (%.0f/s)", (double)(d < 0 ? 0 : d) / dt);
	return b;
}

/* The element of prev's array arr whose "name" (or "queue") is that of o. */
static struct json_object *same_in(struct json_object *prev, const char *arr,
				   const char *key, struct json_object *o)
{
	struct json_object *a;

	if (!prev || !json_object_object_get_ex(prev, arr, &a))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		if (strcmp(js(e, key), js(o, key)) == 0)
			return e;
	}
	return NULL;
}

/* Counters and per-VM lines; with prev (--watch) each total is followed by
 * its rate over the dt seconds since prev. */
void print_stats(struct json_object *data, bool counters,
			struct json_object *prev, double dt)
{
	struct json_object *cnt, *vms, *pcnt = NULL;

	if (prev)
		json_object_object_get_ex(prev, "counters", &pcnt);
	if (counters && json_object_object_get_ex(data, "counters", &cnt)) {
		json_object_object_foreach(cnt, name, v)
			printf("%-16s %" PRId64 "%s\n", name, json_object_get_int64(v),
			       rate(pcnt, cnt, name, dt));
	}
	if (!json_object_object_get_ex(data, "vms", &vms))
		return;
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i), *qs, *eg;
		struct json_object *pvm = same_in(prev, "vms", "name", vm), *peg = NULL;

		printf("vm %s packets %s%s bytes %s%s\n", js(vm, "name"),
		       js(vm, "packets"), rate(pvm, vm, "packets", dt),
		       js(vm, "bytes"), rate(pvm, vm, "bytes", dt));
		if (json_object_object_get_ex(vm, "xsk", &eg) && eg)
			printf("    xsk %s sockets %s rx_dropped %s rx_ring_full %s"
			       " fill_ring_empty %s invalid rx %s tx %s\n",
			       js(eg, "mode"), js(eg, "sockets"), js(eg, "rx_dropped"),
			       js(eg, "rx_ring_full"), js(eg, "rx_fill_ring_empty_descs"),
			       js(eg, "rx_invalid_descs"), js(eg, "tx_invalid_descs"));
		if (json_object_object_get_ex(vm, "xsk", &eg) && eg &&
		    json_object_object_get_ex(eg, "notify", &eg))
			printf("    notify notifications %s packets %s per_notification %.1f"
			       " wakeups %s\n", js(eg, "notifications"), js(eg, "packets"),
			       json_object_get_double(json_object_object_get(
				       eg, "per_notification")), js(eg, "wakeups"));
		if (pvm)
			json_object_object_get_ex(pvm, "egress", &peg);
		if (json_object_object_get_ex(vm, "egress", &eg))
			printf("    egress tx %s%s bytes %s by-tc %s spoofed %s (mac %s vlan %s"
			       " ip %s arp %s nd %s)\n", js(eg, "tx"),
			       rate(peg, eg, "tx", dt), js(eg, "tx_bytes"), js(eg, "tx_skb"),
			       js(eg, "spoof"),
			       js(eg, "spoof_mac"), js(eg, "spoof_vlan"),
			       js(eg, "spoof_ip"), js(eg, "spoof_arp"),
			       js(eg, "spoof_nd"));
		{
			struct json_object *re;

			if (json_object_object_get_ex(vm, "redirect_errors", &re) &&
			    json_object_array_length(re)) {
				printf("    redirect errors");
				for (size_t k = 0; k < json_object_array_length(re); k++) {
					struct json_object *e = json_object_array_get_idx(re, k);

					printf(" %s %s (%s) %s", js(e, "dir"), js(e, "err"),
					       js(e, "reason"), js(e, "frames"));
				}
				printf("\n");
			}
			if (json_object_object_get_ex(vm, "port_dev", &re) && re)
				printf("    port %s tx_packets %s tx_dropped %s\n", js(re, "ifname"),
				       js(re, "tx_packets"), js(re, "tx_dropped"));
		}
		if (!json_object_object_get_ex(vm, "queues", &qs) ||
		    json_object_array_length(qs) < 2)
			continue;
		for (size_t q = 0; q < json_object_array_length(qs); q++) {
			struct json_object *qo = json_object_array_get_idx(qs, q);
			struct json_object *pq = same_in(pvm, "queues", "queue", qo);

			printf("    queue %s packets %s%s bytes %s\n", js(qo, "queue"),
			       js(qo, "packets"), rate(pq, qo, "packets", dt),
			       js(qo, "bytes"));
		}
	}
}

/* ---- Prometheus text format (node_exporter's textfile collector) ------- */

static const struct { const char *name, *desc; } counter_desc[] = {
#define XVNET_X_DESC(e, name, desc) { name, desc },
	XVNET_COUNTERS(XVNET_X_DESC)
#undef XVNET_X_DESC
};

/* A label value: VM names are [A-Za-z0-9_.-], but never trust it. */
static void prom_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void prom_head(FILE *f, const char *metric, const char *type,
		      const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

/* One sample of VM vm: labels vm and the pairs of lab (key, value, ...). */
static void prom_vm_labels(FILE *f, const char *metric, struct json_object *vm,
			   const char *const *lab, size_t nlab, int64_t v)
{
	fprintf(f, "%s{vm=\"", metric);
	prom_label(f, js(vm, "name"));
	for (size_t i = 0; i + 1 < nlab; i += 2) {
		fprintf(f, "\",%s=\"", lab[i]);
		prom_label(f, lab[i + 1]);
	}
	fprintf(f, "\"} %" PRId64 "\n", v);
}

static void prom_vm(FILE *f, const char *metric, struct json_object *vm,
		    const char *extra_k, const char *extra_v, int64_t v)
{
	const char *lab[] = { extra_k, extra_v };

	prom_vm_labels(f, metric, vm, lab, extra_k ? 2 : 0, v);
}

/* Every counter, per reason and per VM, as Prometheus reads them. */
static void print_prometheus(FILE *f, struct json_object *st,
			     struct json_object *status)
{
	static const char *const spoof[] = { "mac", "vlan", "ip", "arp", "nd" };
	static const char *const xskc[] = { "rx_dropped", "rx_ring_full",
		"rx_fill_ring_empty_descs", "rx_invalid_descs", "tx_invalid_descs" };
	struct json_object *cnt, *vms, *vm, *o, *qs;
	size_t n;

	prom_head(f, "xvnet_up", "gauge", "1: xvnetd answered");
	fprintf(f, "xvnet_up 1\n");
	prom_head(f, "xvnet_degraded", "gauge",
		  "1: xvnetctl status reports a problem (NIC, ports, capabilities)");
	fprintf(f, "xvnet_degraded %d\n", status && jb(status, "degraded"));
	prom_head(f, "xvnet_datapath_frames_total", "counter",
		  "datapath outcomes, summed over CPUs, by counter (the XVNET_COUNTERS"
		  " list of maps/xvnet_maps.h; see the # counter lines)");
	for (size_t i = 0; i < sizeof(counter_desc) / sizeof(counter_desc[0]); i++)
		fprintf(f, "# counter %s: %s\n", counter_desc[i].name,
			counter_desc[i].desc);
	if (json_object_object_get_ex(st, "counters", &cnt)) {
		json_object_object_foreach(cnt, name, v)
			fprintf(f, "xvnet_datapath_frames_total{counter=\"%s\"} %" PRId64
				"\n", name, json_object_get_int64(v));
	}
	if (!json_object_object_get_ex(st, "vms", &vms))
		return;
	n = json_object_array_length(vms);
	prom_head(f, "xvnet_vm_rx_packets_total", "counter", "frames delivered to the VM");
	for (size_t i = 0; i < n; i++)
		prom_vm(f, "xvnet_vm_rx_packets_total", json_object_array_get_idx(vms, i),
			NULL, NULL, ji(json_object_array_get_idx(vms, i), "packets"));
	prom_head(f, "xvnet_vm_rx_bytes_total", "counter", "bytes delivered to the VM");
	for (size_t i = 0; i < n; i++)
		prom_vm(f, "xvnet_vm_rx_bytes_total", json_object_array_get_idx(vms, i),
			NULL, NULL, ji(json_object_array_get_idx(vms, i), "bytes"));
	prom_head(f, "xvnet_vm_queue_rx_packets_total", "counter",
		  "frames delivered to the VM, per virtual queue");
	for (size_t i = 0; i < n; i++) {
		vm = json_object_array_get_idx(vms, i);
		if (!json_object_object_get_ex(vm, "queues", &qs))
			continue;
		for (size_t q = 0; q < json_object_array_length(qs); q++) {
			o = json_object_array_get_idx(qs, q);
			prom_vm(f, "xvnet_vm_queue_rx_packets_total", vm, "queue",
				js(o, "queue"), ji(o, "packets"));
		}
	}
	prom_head(f, "xvnet_vm_tx_packets_total", "counter", "frames the VM sent (vm_tx)");
	for (size_t i = 0; i < n; i++) {
		vm = json_object_array_get_idx(vms, i);
		if (json_object_object_get_ex(vm, "egress", &o))
			prom_vm(f, "xvnet_vm_tx_packets_total", vm, NULL, NULL, ji(o, "tx"));
	}
	prom_head(f, "xvnet_vm_tx_spoofed_total", "counter",
		  "frames the VM sent with a forged source, dropped, by reason");
	for (size_t i = 0; i < n; i++) {
		char k[16];

		vm = json_object_array_get_idx(vms, i);
		if (!json_object_object_get_ex(vm, "egress", &o))
			continue;
		for (size_t r = 0; r < sizeof(spoof) / sizeof(spoof[0]); r++) {
			snprintf(k, sizeof(k), "spoof_%s", spoof[r]);
			prom_vm(f, "xvnet_vm_tx_spoofed_total", vm, "reason", spoof[r],
				ji(o, k));
		}
	}
	prom_head(f, "xvnet_vm_port_tx_dropped_total", "counter",
		  "frames the VM's port device dropped after xvnet handed them over"
		  " (its tx_dropped: e.g. a tap no VMM holds)");
	for (size_t i = 0; i < n; i++) {
		vm = json_object_array_get_idx(vms, i);
		if (json_object_object_get_ex(vm, "port_dev", &o) && o)
			prom_vm(f, "xvnet_vm_port_tx_dropped_total", vm, NULL, NULL,
				ji(o, "tx_dropped"));
	}
	prom_head(f, "xvnet_vm_xsk_drops_total", "counter",
		  "AF_XDP socket drops of an xsk VM (XDP_STATISTICS), by reason");
	for (size_t i = 0; i < n; i++) {
		vm = json_object_array_get_idx(vms, i);
		if (!json_object_object_get_ex(vm, "xsk", &o) || !o)
			continue;
		for (size_t r = 0; r < sizeof(xskc) / sizeof(xskc[0]); r++)
			prom_vm(f, "xvnet_vm_xsk_drops_total", vm, "reason", xskc[r],
				ji(o, xskc[r]));
	}
	/* only the (direction, errno) pairs seen: the kernel's errnos are many */
	prom_head(f, "xvnet_vm_redirect_errors_total", "counter",
		  "XDP redirects to (dir in) or from (dir out) the VM that failed"
		  " (xdp:xdp_redirect_err), by errno");
	for (size_t i = 0; i < n; i++) {
		vm = json_object_array_get_idx(vms, i);
		if (!json_object_object_get_ex(vm, "redirect_errors", &o))
			continue;
		for (size_t k = 0; k < json_object_array_length(o); k++) {
			struct json_object *e = json_object_array_get_idx(o, k);
			const char *lab[] = { "dir", js(e, "dir"), "errno", js(e, "err"),
					      "reason", js(e, "reason") };

			prom_vm_labels(f, "xvnet_vm_redirect_errors_total", vm, lab,
				       sizeof(lab) / sizeof(lab[0]), ji(e, "frames"));
		}
	}
}

/* --prometheus --output FILE: written whole, then renamed over FILE, so the
 * textfile collector never reads half a file. */
static int write_prometheus(const char *path, struct json_object *st,
			    struct json_object *status)
{
	char tmp[4096];
	FILE *f;

	if (!path) {
		print_prometheus(stdout, st, status);
		return fflush(stdout) ? EX_REFUSED : EX_OK;
	}
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "xvnetctl: %s: %s\n", tmp, strerror(errno));
		return EX_REFUSED;
	}
	print_prometheus(f, st, status);
	if (fchmod(fileno(f), 0644) || fclose(f) || rename(tmp, path)) {
		fprintf(stderr, "xvnetctl: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return EX_REFUSED;
	}
	return EX_OK;
}

static const char stats_help[] =
"usage: xvnetctl stats [VM] [--watch [SECONDS]]\n"
"       xvnetctl stats --prometheus [--output FILE]\n"
"  datapath counters (summed over CPUs) and per-VM, per-queue packets and\n"
"  bytes; with VM only that VM; --watch repeats every SECONDS (default 1)\n"
"  with each total's rate per second since the previous round.\n"
"  --prometheus: every counter in the Prometheus text format, per reason\n"
"  and per VM; --output FILE writes it atomically (for node_exporter's\n"
"  textfile collector, e.g. /var/lib/prometheus/node-exporter/xvnet.prom)\n";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* stats's options (parsed by hand below: --watch takes an optional value). */
static const struct optdef stats_opts[] = {
	{ "watch", "watch", O_TEXT }, { "prometheus", "prometheus", O_FLAG },
	{ "output", "output", O_TEXT },
};

int cmd_stats(int argc, char **argv)
{
	struct json_object *rep, *d, *prev_rep = NULL, *prev = NULL;
	const char *vm = NULL, *output = NULL;
	unsigned long every = 0;
	char err[XV_ERR_LEN], buf[64];
	bool prom = false;
	double t_prev = 0;
	int r;

	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			fputs(stats_help, stdout);
			return EX_OK;
		} else if (strcmp(argv[i], "--watch") == 0) {
			every = 1;
			if (i + 1 < argc && all_digits(argv[i + 1]) &&
			    xv_parse_uint("--watch", argv[++i], 1, 3600, &every,
					  err, sizeof(err)))
				return usage_err("%s", err);
		} else if (strcmp(argv[i], "--prometheus") == 0) {
			prom = true;
		} else if (strcmp(argv[i], "--output") == 0) {
			if (++i >= argc)
				return usage_err("--output needs a file");
			output = argv[i];
		} else if (argv[i][0] == '-') {
			return usage_err("stats: unknown option '%s'", argv[i]);
		} else if (!vm) {
			if (xv_parse_name("vm", argv[i], buf, sizeof(buf), err,
					  sizeof(err)))
				return usage_err("%s", err);
			vm = argv[i];
		} else {
			return usage_err("stats: unexpected '%s'", argv[i]);
		}
	}
	if (output && !prom)
		return usage_err("stats: --output goes with --prometheus");
	if (prom && (vm || every || json_out))
		return usage_err("stats --prometheus: all VMs, once, no -j");
	if (prom) {
		struct json_object *srep = NULL, *sd = NULL;

		r = call("stats", NULL, &rep, &d);
		if (r)
			return r;
		if (call("status", NULL, &srep, &sd))
			sd = NULL;
		r = write_prometheus(output, d, sd);
		json_object_put(srep);
		json_object_put(rep);
		return r;
	}
	for (;;) {
		struct json_object *args = NULL;
		double t;

		if (vm) {
			args = json_object_new_object();
			json_object_object_add(args, "vm", json_object_new_string(vm));
		}
		r = call("stats", args, &rep, &d);
		if (r) {
			json_object_put(prev_rep);
			return r;
		}
		t = now_s();
		if (every && isatty(STDOUT_FILENO) && !json_out)
			printf("\033[H\033[2J");
		if (every && !json_out) {
			time_t tt = time(NULL);
			char ts[32];

			strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&tt));
			printf("%s%s\n", ts, prev ? "  (rates per second since the"
			       " last round)" : "");
		}
		if (json_out)
			printf("%s\n", json_object_to_json_string_ext(d,
				every ? JSON_C_TO_STRING_PLAIN :
				JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			print_stats(d, vm == NULL, prev, t - t_prev);
		fflush(stdout);
		if (!every) {
			json_object_put(rep);
			return EX_OK;
		}
		json_object_put(prev_rep);
		prev_rep = rep;
		prev = d;
		t_prev = t;
		sleep((unsigned int)every);
	}
}

const struct verbdef stats_verbs[] = {
	VERBDEF("", stats_opts), { NULL, NULL, 0 },
};
