// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnetctl: the command-line client of xvnetd.  Object-verb commands in the
 * style of ip(8); options as --flag value; -j prints the daemon's JSON.
 * Exit codes: 0 ok, 1 refused by the daemon (or daemon unreachable),
 * 2 usage error caught locally, 3 (status only) the service is degraded.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "lib/knobs.h"
#include "lib/parse.h"
#include "lib/proto.h"
#include "maps/xvnet_maps.h"
#include "xv_version.h"

#define EX_OK 0
#define EX_REFUSED 1
#define EX_USAGE 2
#define EX_DEGRADED 3

static const char *sock_path = XV_DEFAULT_SOCKET;
static bool json_out;

static const char main_usage[] =
"usage: xvnetctl [-s|--socket PATH] [-j|--json] COMMAND\n"
"       xvnetctl --version\n"
"  status\n"
"  vm add NAME --mac MAC [--vlan 0-4094] --port tap|veth [--ifname IF]\n"
"         [--netns NS] [--peer-ifname IF] [--queues 1-16] [--keep-vlan]\n"
"         [--ip ADDR]... [--allow LIST] [--no-allow LIST]\n"
"         [--owner USER|UID] [--group GROUP|GID]\n"
"  vm del NAME\n"
"  vm list\n"
"  vm show NAME\n"
"  port list\n"
"  flow add [--vlan N] --proto tcp|udp|icmp|icmpv6|NUM --src IP [--sport P]\n"
"           --dst IP [--dport P] --action deliver|drop|pass [--vm NAME]\n"
"           [--queue Q|rss]\n"
"  flow del [--vlan N] --proto P --src IP [--sport P] --dst IP [--dport P]\n"
"  flow list\n"
"  rule add VM [--pos N] --dir in|out [--proto P] [--src PFX] [--dst PFX]\n"
"           [--sport A[-B]] [--dport A[-B]] --action allow|deny|queue Q\n"
"  rule del VM POS\n"
"  rule list VM\n"
"  rss show VM\n"
"  rss set VM [--key HEX40] [--equal N | --weight W0,W1,...]\n"
"             [--hash-fields l3|l4|tcp4,udp4,...]\n"
"  coalesce show VM\n"
"  coalesce set VM [--rx-frames N] [--rx-usecs U] [--adaptive on|off]\n"
"             [--napi-defer-irqs N] [--napi-flush-usecs U]\n"
"  stats [VM] [--watch [SECONDS]]\n"
"  stats --prometheus [--output FILE]\n"
"  reload\n"
"  shutdown [--teardown]\n"
"COMMAND --help shows the command's options.  Exit codes: 0 ok, 1 refused\n"
"by the daemon, 2 usage error, 3 status: degraded.\n";

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xvnetctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return EX_USAGE;
}

/* ---- talking to the daemon -------------------------------------------- */

/* Send {cmd, args}; on success *data is the reply's data (owned by *reply). */
static int call(const char *cmd, struct json_object *args,
		struct json_object **reply, struct json_object **data)
{
	struct json_object *req = json_object_new_object(), *ok, *e;
	struct xv_linebuf lb = { 0 };
	int fd = xv_connect(sock_path);

	*reply = NULL;
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "args", args);
	if (fd < 0) {
		fprintf(stderr, "xvnetctl: cannot reach xvnetd at %s: %s\n",
			sock_path, strerror(errno));
		json_object_put(req);
		return EX_REFUSED;
	}
	if (xv_send_json(fd, req) || !(*reply = xv_recv_json(fd, &lb))) {
		fprintf(stderr, "xvnetctl: %s: %s\n", sock_path, strerror(errno));
		close(fd);
		json_object_put(req);
		xv_linebuf_free(&lb);
		return EX_REFUSED;
	}
	close(fd);
	json_object_put(req);
	xv_linebuf_free(&lb);
	if (!json_object_object_get_ex(*reply, "ok", &ok) ||
	    !json_object_get_boolean(ok)) {
		if (json_out)
			printf("%s\n", json_object_to_json_string_ext(
				       *reply, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		fprintf(stderr, "xvnetctl: %s\n",
			json_object_object_get_ex(*reply, "error", &e) ?
			json_object_get_string(e) : "malformed reply");
		json_object_put(*reply);
		*reply = NULL;
		return EX_REFUSED;
	}
	json_object_object_get_ex(*reply, "data", data);
	return EX_OK;
}

/* For commands that only print "ok" in -j mode. */
static int call_simple(const char *cmd, struct json_object *args)
{
	struct json_object *rep, *data;
	int r = call(cmd, args, &rep, &data);

	if (r == EX_OK && json_out)
		printf("%s\n", json_object_to_json_string_ext(data,
				JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(rep);
	return r;
}

/* ---- option parsing ----------------------------------------------------- */

enum optkind { O_NAME, O_MAC, O_VLAN, O_PORTKIND, O_IFNAME, O_NETNS,
	       O_QUEUES, O_FLAG, O_PROTO, O_IP, O_L4PORT, O_ACTION, O_QUEUE,
	       O_ADDR /* repeatable address: a JSON list */,
	       O_TEXT /* passed as is, checked by xvnetd */ };

struct optdef {
	const char *flag;       /* without "--" */
	const char *key;        /* JSON argument */
	enum optkind kind;
};

static int fmt_err(char *err, size_t len, const char *fmt, const char *v)
	__attribute__((format(printf, 3, 0)));
static int fmt_err(char *err, size_t len, const char *fmt, const char *v)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(err, len, fmt, v);
#pragma GCC diagnostic pop
	return -1;
}

static int check_value(const struct optdef *o, const char *v)
{
	char err[XV_ERR_LEN], buf[64];
	uint8_t mac[6], addr[16], proto;
	uint16_t u16;
	unsigned long ul;
	bool v4;
	int r = 0;

	switch (o->kind) {
	case O_NAME:
		r = xv_parse_name(o->key, v, buf, sizeof(buf), err, sizeof(err));
		break;
	case O_MAC:
		r = xv_parse_mac(o->key, v, mac, err, sizeof(err));
		break;
	case O_VLAN:
		r = xv_parse_vlan(o->key, v, &u16, err, sizeof(err));
		break;
	case O_PORTKIND:
		if (strcmp(v, "tap") && strcmp(v, "veth") && strcmp(v, "xsk"))
			r = fmt_err(err, sizeof(err), "port: '%s' is not tap or"
				    " veth", v);
		break;
	case O_IFNAME:
		r = xv_parse_ifname(o->key, v, buf, err, sizeof(err));
		break;
	case O_NETNS:
		if (!*v || strchr(v, '/'))
			r = fmt_err(err, sizeof(err), "netns: '%s' is not a"
				    " namespace name", v);
		break;
	case O_QUEUES:
		r = xv_parse_uint(o->key, v, 1, XVNET_MAX_QUEUES, &ul, err,
				  sizeof(err));
		break;
	case O_PROTO:
		r = xv_parse_proto(o->key, v, &proto, err, sizeof(err));
		break;
	case O_IP:
	case O_ADDR:
		r = xv_parse_ip(o->key, v, addr, &v4, err, sizeof(err));
		break;
	case O_L4PORT:
		r = xv_parse_uint(o->key, v, 0, 65535, &ul, err, sizeof(err));
		break;
	case O_ACTION:
		if (strcmp(v, "deliver") && strcmp(v, "drop") && strcmp(v, "pass"))
			r = fmt_err(err, sizeof(err), "action: '%s' is not"
				    " deliver, drop or pass", v);
		break;
	case O_QUEUE:
		r = xv_parse_queue(o->key, v, &u16, err, sizeof(err));
		break;
	case O_FLAG:
	case O_TEXT:
		break;
	}
	if (r)
		usage_err("%s", err);
	return r;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Parse --flag [value] pairs of argv into args. */
static int parse_opts(int argc, char **argv, const struct optdef *defs,
		      size_t ndefs, struct json_object *args, const char *help)
{
	for (int i = 0; i < argc; i++) {
		const struct optdef *o = NULL;
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(help, stdout);
			exit(EX_OK);
		}
		if (strncmp(a, "--", 2) == 0)
			for (size_t k = 0; k < ndefs; k++)
				if (strcmp(a + 2, defs[k].flag) == 0)
					o = &defs[k];
		if (!o)
			return usage_err("unknown option '%s' (see --help)", a);
		if (o->kind != O_ADDR &&
		    json_object_object_get_ex(args, o->key, NULL))
			return usage_err("--%s given twice", o->flag);
		if (o->kind == O_FLAG) {
			json_object_object_add(args, o->key,
					       json_object_new_boolean(1));
			continue;
		}
		if (i + 1 >= argc)
			return usage_err("--%s needs a value", o->flag);
		a = argv[++i];
		if (check_value(o, a))
			return EX_USAGE;
		if (o->kind == O_ADDR) {
			struct json_object *list;

			if (!json_object_object_get_ex(args, o->key, &list)) {
				list = json_object_new_array();
				json_object_object_add(args, o->key, list);
			}
			json_object_array_add(list, json_object_new_string(a));
			continue;
		}
		json_object_object_add(args, o->key, all_digits(a) ?
				       json_object_new_int64(atoll(a)) :
				       json_object_new_string(a));
	}
	return EX_OK;
}

/* ---- printing ----------------------------------------------------------- */

static const char *js(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return "";
	return json_object_get_string(v);
}

static int64_t ji(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static bool jb(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static void print_json(struct json_object *data)
{
	printf("%s\n", json_object_to_json_string_ext(data,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void print_vm_line(struct json_object *vm)
{
	struct json_object *ips;

	printf("%s id %s mac %s vlan %s port %s %s", js(vm, "name"), js(vm, "id"),
	       js(vm, "mac"), js(vm, "vlan"), js(vm, "port"), js(vm, "ifname"));
	if (strcmp(js(vm, "port"), "veth") == 0)
		printf(" peer %s@%s", js(vm, "peer_ifname"), js(vm, "netns"));
	else if (strcmp(js(vm, "port"), "xsk") == 0)
		printf(" side %s", js(vm, "peer_ifname"));
	printf(" queues %s", js(vm, "queues"));
	if (json_object_object_get_ex(vm, "queue_cpus", &ips))
		for (size_t i = 0; i < json_object_array_length(ips); i++)
			printf("%s%d", i ? "," : " queue-cpus ", json_object_get_int(
				       json_object_array_get_idx(ips, i)));
	printf("%s state %s", jb(vm, "keep_vlan") ? " keep-vlan" : "", js(vm, "state"));
	if (json_object_object_get_ex(vm, "owner", &ips))
		printf(" owner %s", json_object_get_string(ips));
	if (json_object_object_get_ex(vm, "group", &ips))
		printf(" group %s", json_object_get_string(ips));
	if (json_object_object_get_ex(vm, "allow", &ips)) {
		/* the default (all on) is not worth a word */
		static const char *const all[] = {
#define XVNET_X_NAME(e, name, desc) name,
			XVNET_VM_ALLOWS(XVNET_X_NAME)
#undef XVNET_X_NAME
		};
		const size_t n_all = sizeof(all) / sizeof(all[0]);
		size_t n = json_object_array_length(ips);

		if (n != n_all) {
			printf(" allow ");
			for (size_t i = 0; i < n; i++)
				printf("%s%s", i ? "," : "", json_object_get_string(
					       json_object_array_get_idx(ips, i)));
			if (!n)
				printf("none");
		}
	}
	if (json_object_object_get_ex(vm, "ips", &ips))
		for (size_t i = 0; i < json_object_array_length(ips); i++)
			printf(" ip %s", json_object_get_string(
				       json_object_array_get_idx(ips, i)));
	printf("\n");
}

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
static void print_stats(struct json_object *data, bool counters,
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

static void prom_vm(FILE *f, const char *metric, struct json_object *vm,
		    const char *extra_k, const char *extra_v, int64_t v)
{
	fprintf(f, "%s{vm=\"", metric);
	prom_label(f, js(vm, "name"));
	if (extra_k) {
		fprintf(f, "\",%s=\"", extra_k);
		prom_label(f, extra_v);
	}
	fprintf(f, "\"} %" PRId64 "\n", v);
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

/* ---- commands ----------------------------------------------------------- */

/* Kernel capabilities: one line each; absent ones say what is done instead. */
static void print_features(struct json_object *d)
{
	struct json_object *arr;

	printf("metadata %s\n", js(d, "meta_at"));
	if (!json_object_object_get_ex(d, "features", &arr))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *f = json_object_array_get_idx(arr, i);

		if (jb(f, "used")) {
			printf("  %-14s yes\n", js(f, "name"));
			continue;
		}
		printf("  %-14s %s: %s\n  %-14s instead: %s\n", js(f, "name"),
		       jb(f, "present") ? "disabled" : "no", js(f, "reason"), "",
		       js(f, "instead"));
	}
}

static int cmd_status(int argc, char **argv)
{
	struct json_object *rep, *d;
	int r;

	if (argc > 0 && (strcmp(argv[0], "--help") == 0 || !strcmp(argv[0], "-h"))) {
		puts("usage: xvnetctl status\n  the datapath, its attachment, counts"
		     " of VMs and flows, the kernel features it uses, and\n"
		     "  health: the NIC's state and carrier, missing or stale ports,\n"
		     "  capability gaps, error counters.  Exit 3 when degraded (each\n"
		     "  problem on a 'problem' line).");
		return EX_OK;
	}
	if (argc > 0)
		return usage_err("status: unexpected '%s'", argv[0]);
	r = call("status", NULL, &rep, &d);
	if (r)
		return r;
	if (json_out) {
		print_json(d);
	} else if (!*js(d, "nic")) {
		printf("no datapath: config %s missing\n", js(d, "config"));
	} else {
		struct json_object *e;

		printf("nic %s ifindex %s state %s carrier %s xdp %s link %s prog %s"
		       " tc-ingress %s\n", js(d, "nic"), js(d, "ifindex"),
		       js(d, "nic_oper_state"), jb(d, "nic_carrier") ? "yes" : "no",
		       js(d, "xdp_mode"), js(d, "link_id"), js(d, "prog_id"),
		       jb(d, "tc_ingress") ? "yes" : "no");
		printf("maps %s%s flow-max %s malformed %s\n", js(d, "pin_dir"),
		       jb(d, "maps_adopted") ? " (adopted)" : "",
		       js(d, "flow_max"), js(d, "malformed"));
		printf("vms %s flows %s (configured %s) uptime %ss pid %s\n",
		       js(d, "vms"), js(d, "flows"), js(d, "configured_flows"),
		       js(d, "uptime_s"), js(d, "pid"));
		if (json_object_object_get_ex(d, "errors", &e)) {
			printf("errors");
			json_object_object_foreach(e, k, v)
				printf(" %s %s", k, json_object_get_string(v));
			printf("\n");
		}
		print_features(d);
	}
	{
		struct json_object *probs;
		bool degraded = jb(d, "degraded");

		if (!json_out && json_object_object_get_ex(d, "problems", &probs))
			for (size_t i = 0; i < json_object_array_length(probs); i++)
				printf("problem: %s\n", json_object_get_string(
					       json_object_array_get_idx(probs, i)));
		if (!json_out)
			printf("health %s\n", degraded ? "degraded" : "ok");
		json_object_put(rep);
		return degraded ? EX_DEGRADED : EX_OK;
	}
}

static const char vm_add_help[] =
"usage: xvnetctl vm add NAME --mac MAC [--vlan 0-4094] --port tap|veth|xsk\n"
"                [--ifname IF] [--netns NS] [--peer-ifname IF]\n"
"                [--queues 1-16] [--queue-cpus LIST] [--keep-vlan] [--ip ADDR]...\n"
"                [--allow LIST] [--no-allow LIST] [--owner USER|UID]\n"
"                [--group GROUP|GID] [--may-exist]\n"
"  --mac         the VM's unicast MAC (frames to it, on --vlan, go to it)\n"
"  --vlan        outer VLAN ID, 0 = untagged (default 0)\n"
"  --port        tap: a persistent tap for QEMU; veth: a veth pair whose\n"
"                peer (with MAC) goes into --netns\n"
"  --ifname      host-side device (default xv-NAME)\n"
"  --netns       veth: existing namespace in /run/netns\n"
"  --peer-ifname veth: peer's name in the namespace (default eth0);\n"
"                xsk: VM end of the side veth (default xk-NAME)\n"
"  --queues      virtual queues for RSS (default 1)\n"
"  --queue-cpus  tap/veth: host CPU that delivers each queue (0,1 or 0-3;\n"
"                queue q on entry q mod n), through a CPUMAP hop; default:\n"
"                the CPU of the NIC's receive\n"
"  --keep-vlan   deliver frames tagged instead of popping the tag\n"
"  --port xsk    AF_XDP sockets on the NIC, one per NIC RX queue, handed to\n"
"                the VMM by `xsk.get` (docs/xsk.md); knobs:\n"
#define XV_X_XSK(k, f, kd, mn, mx, d, arg, help) "                --" k " " arg ": " help "\n"
XV_XSK_KNOBS(XV_X_XSK)
#undef XV_X_XSK
"  --ip ADDR     an IPv4 or IPv6 address the VM may send from; repeat for\n"
"                more (up to 16).  Without any, the VM may only send ARP\n"
"                probes and IPv6 DAD/RS/MLD from :: (docs/security.md)\n"
"  --allow LIST, --no-allow LIST\n"
"                turn anti-spoofing allowances on or off (comma-separated,\n"
"                or all; all are on by default; docs/security.md):\n"
#define XVNET_X_HELP(e, name, desc) "                  " name ": " desc "\n"
XVNET_VM_ALLOWS(XVNET_X_HELP)
#undef XVNET_X_HELP
"  --owner USER|UID, --group GROUP|GID\n"
"                tap: who may attach to the tap besides root (TUNSETOWNER,\n"
"                TUNSETGROUP; with both: that user, in that group).\n"
"                Neither: root only.  Set when xvnetd creates the tap; an\n"
"                existing tap must already have them\n"
"  --may-exist   a VM of that name with these settings is success, not an\n"
"                error (hooks, automation); with other settings, refused\n";

static const char vm_set_help[] =
"usage: xvnetctl vm set NAME [--mac MAC] [--vlan 0-4094] [--ip ADDR]...\n"
"                [--keep-vlan on|off] [--allow LIST] [--no-allow LIST]\n"
"                [--queue-cpus LIST]\n"
"  changes a running VM in place: same id, port, flows and rules.  --ip\n"
"  replaces the VM's address list (give each address it keeps); the rest\n"
"  as in `vm add --help`.  The port kind, device, namespace, queues, xsk\n"
"  knobs and owner need the port made anew: vm del, then vm add.\n";

static const struct optdef vm_set_opts[] = {
	{ "mac", "mac", O_MAC }, { "vlan", "vlan", O_VLAN },
	{ "ip", "ip", O_ADDR }, { "keep-vlan", "keep-vlan", O_TEXT },
	{ "allow", "allow", O_TEXT }, { "no-allow", "no-allow", O_TEXT },
	{ "queue-cpus", "queue-cpus", O_TEXT },
};

static const char vm_del_help[] =
"usage: xvnetctl vm del NAME [--if-exists] [--keep-port] [--force]\n"
"  --if-exists   an unknown NAME is success (hooks, automation)\n"
"  --keep-port   leave the tap or veth xvnetd made for the VM in place\n"
"  --force       delete the VM's tap even while a VMM holds it open\n"
"                (refused otherwise: the VMM would spin on a dead tap)\n";

/* The xsk port knobs (lib/knobs.h), as vm add and vm move take them. */
#define XV_X_XSK_OPT(k, f, kd, mn, mx, d, arg, help) { k, k, O_TEXT },
#define XSK_KNOB_OPTS XV_XSK_KNOBS(XV_X_XSK_OPT)

static const struct optdef vm_opts[] = {
	{ "mac", "mac", O_MAC }, { "vlan", "vlan", O_VLAN },
	{ "port", "port", O_PORTKIND }, { "ifname", "ifname", O_IFNAME },
	{ "netns", "netns", O_NETNS }, { "peer-ifname", "peer-ifname", O_IFNAME },
	{ "queues", "queues", O_QUEUES }, { "keep-vlan", "keep-vlan", O_FLAG },
	{ "ip", "ip", O_ADDR }, { "queue-cpus", "queue-cpus", O_TEXT },
	{ "allow", "allow", O_TEXT }, { "no-allow", "no-allow", O_TEXT },
	{ "owner", "owner", O_TEXT }, { "group", "group", O_TEXT },
	{ "may-exist", "may-exist", O_FLAG },
	XSK_KNOB_OPTS
};

static const char vm_move_help[] =
"usage: xvnetctl vm move NAME --port tap|veth|xsk [--ifname IF] [--netns NS]\n"
"                [--peer-ifname IF] [--owner USER] [--group GROUP] [--xsk-KNOB V]...\n"
"                [--prepare]\n"
"       xvnetctl vm move NAME --switch|--abort\n"
"  switches a running VM to a new port (DNIS, docs/dnis.md): the new port is\n"
"  made (or an existing device adopted) and attached, then one map write\n"
"  sends the VM's frames there; the old port is drained, then released\n"
"  (deleted if xvnetd made it and no VMM holds it).  Each frame goes to the\n"
"  old port or to the new one, none lost or duplicated in xvnet.  The VM\n"
"  keeps its id, MAC, VLAN, addresses, flows, rules and RSS.  Any failure\n"
"  before the switch (e.g. a --netns that does not exist) leaves the VM on\n"
"  its old port.  Options as in `vm add --help`; --ifname must name another\n"
"  device than the VM's port now.\n"
"  --prepare     only make and attach the new port; the VM stays where it\n"
"                is until `vm move NAME --switch` (a live migration: prepare\n"
"                when it starts, switch when the source stops) or --abort.\n"
"                One prepared move at a time; a daemon restart undoes it\n";

static const struct optdef vm_move_opts[] = {
	{ "port", "port", O_PORTKIND }, { "ifname", "ifname", O_IFNAME },
	{ "netns", "netns", O_NETNS }, { "peer-ifname", "peer-ifname", O_IFNAME },
	{ "owner", "owner", O_TEXT }, { "group", "group", O_TEXT },
	{ "prepare", "prepare", O_FLAG }, { "switch", "switch", O_FLAG },
	{ "abort", "abort", O_FLAG },
	XSK_KNOB_OPTS
};

static const char vm_help[] =
"usage: xvnetctl vm add NAME --mac MAC --port tap|veth|xsk [...]  (vm add --help)\n"
"       xvnetctl vm move NAME --port tap|veth|xsk [...]  (vm move --help)\n"
"       xvnetctl vm set NAME [--ip ADDR]... [--vlan N] [...]  (vm set --help)\n"
"       xvnetctl vm del NAME [--if-exists] [--keep-port] [--force]\n"
"       xvnetctl vm list\n"
"       xvnetctl vm show NAME\n";

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
	       strcmp(a, "help") == 0;
}

static int name_arg(int argc, char **argv, const char *help, const char *what,
		    struct json_object **args)
{
	char err[XV_ERR_LEN], buf[64];

	if (argc > 0 && is_help(argv[0])) {
		fputs(help, stdout);
		exit(EX_OK);
	}
	if (argc < 1)
		return usage_err("%s: missing NAME", what);
	if (xv_parse_name("name", argv[0], buf, sizeof(buf), err, sizeof(err)))
		return usage_err("%s", err);
	*args = json_object_new_object();
	json_object_object_add(*args, "name", json_object_new_string(argv[0]));
	return EX_OK;
}

/* A read request whose reply is an array: JSON as is, or one line each. */
static int list_request(const char *cmd, void (*print_one)(struct json_object *))
{
	struct json_object *rep, *d;
	int r = call(cmd, NULL, &rep, &d);

	if (r)
		return r;
	if (json_out)
		print_json(d);
	else
		for (size_t i = 0; i < json_object_array_length(d); i++)
			print_one(json_object_array_get_idx(d, i));
	json_object_put(rep);
	return EX_OK;
}

static void print_port(struct json_object *p)
{
	printf("%s ifindex %s %s %s vm %s queues %s%s%s\n", js(p, "ifname"),
	       js(p, "ifindex"), js(p, "kind"), js(p, "state"),
	       js(p, "vm"), js(p, "queues"),
	       jb(p, "owned") ? " owned" : "",
	       jb(p, "in_map") ? "" : " stale");
}

static int cmd_vm(int argc, char **argv)
{
	struct json_object *args = NULL, *rep, *d;
	const char *verb = argc ? argv[0] : "list";
	int r;

	if (argc && is_help(verb)) {
		fputs(vm_help, stdout);
		return EX_OK;
	}
	if (strcmp(verb, "add") == 0) {
		if ((r = name_arg(argc - 1, argv + 1, vm_add_help, "vm add", &args)))
			return r;
		r = parse_opts(argc - 2, argv + 2, vm_opts,
			       sizeof(vm_opts) / sizeof(vm_opts[0]), args,
			       vm_add_help);
		if (!r && !json_object_object_get_ex(args, "mac", NULL))
			r = usage_err("vm add: --mac is required");
		if (!r && !json_object_object_get_ex(args, "port", NULL))
			r = usage_err("vm add: --port is required");
		if (r) {
			json_object_put(args);
			return r;
		}
		r = call("vm.add", args, &rep, &d);
		if (!r && json_out)
			print_json(d);
		json_object_put(rep);
		return r;
	}
	if (strcmp(verb, "set") == 0) {
		if ((r = name_arg(argc - 1, argv + 1, vm_set_help, "vm set", &args)))
			return r;
		r = parse_opts(argc - 2, argv + 2, vm_set_opts,
			       sizeof(vm_set_opts) / sizeof(vm_set_opts[0]), args,
			       vm_set_help);
		if (!r && json_object_object_length(args) < 2)
			r = usage_err("vm set: nothing to change (see vm set --help)");
		if (r) {
			json_object_put(args);
			return r;
		}
		r = call("vm.set", args, &rep, &d);
		if (!r && json_out)
			print_json(d);
		json_object_put(rep);
		return r;
	}
	if (strcmp(verb, "move") == 0) {
		if ((r = name_arg(argc - 1, argv + 1, vm_move_help, "vm move", &args)))
			return r;
		r = parse_opts(argc - 2, argv + 2, vm_move_opts,
			       sizeof(vm_move_opts) / sizeof(vm_move_opts[0]), args,
			       vm_move_help);
		if (!r && !json_object_object_get_ex(args, "port", NULL) &&
		    !json_object_object_get_ex(args, "switch", NULL) &&
		    !json_object_object_get_ex(args, "abort", NULL))
			r = usage_err("vm move: --port is required");
		if (r) {
			json_object_put(args);
			return r;
		}
		r = call("vm.move", args, &rep, &d);
		if (!r && json_out)
			print_json(d);
		else if (!r && strcmp(js(d, "phase"), "committed"))
			printf("%s: %s\n", js(d, "name"), js(d, "phase"));
		else if (!r)
			printf("%s: %s %s -> %s %s (switch %s us, drain %s us)\n",
			       js(d, "name"), js(json_object_object_get(d, "from"), "port"),
			       js(json_object_object_get(d, "from"), "ifname"),
			       js(json_object_object_get(d, "to"), "port"),
			       js(json_object_object_get(d, "to"), "ifname"),
			       js(d, "switch_us"), js(d, "drain_us"));
		json_object_put(rep);
		return r;
	}
	if (strcmp(verb, "del") == 0) {
		if ((r = name_arg(argc - 1, argv + 1, vm_del_help, "vm del", &args)))
			return r;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--if-exists") && strcmp(argv[i], "--force") &&
			    strcmp(argv[i], "--keep-port")) {
				json_object_put(args);
				return usage_err("vm del: unexpected '%s' (see vm del --help)",
						 argv[i]);
			}
			json_object_object_add(args, argv[i] + 2, json_object_new_boolean(1));
		}
		return call_simple("vm.del", args);
	}
	if (strcmp(verb, "show") == 0) {
		if ((r = name_arg(argc - 1, argv + 1, vm_help, "vm show", &args)))
			return r;
		if (argc > 2) {
			json_object_put(args);
			return usage_err("vm %s: unexpected '%s'", verb, argv[2]);
		}
		r = call("vm.show", args, &rep, &d);
		if (r)
			return r;
		if (json_out) {
			print_json(d);
		} else {
			struct json_object *ind, *st;

			print_vm_line(d);
			printf("    ifindex %s port-map %s owned %s active %s\n",
			       js(d, "ifindex"), js(d, "port_map_ifindex"),
			       jb(d, "owned") ? "yes" : "no",
			       jb(d, "active") ? "yes" : "no");
			printf("    rss hash-fields %s key %s\n",
			       js(d, "hash_fields"), js(d, "rss_key"));
			if (json_object_object_get_ex(d, "rss_indir", &ind)) {
				printf("    rss indir");
				for (size_t i = 0; i < json_object_array_length(ind); i++)
					printf("%s%s", i % 32 ? " " : "\n       ",
					       json_object_get_string(
						       json_object_array_get_idx(ind, i)));
				printf("\n");
			}
			if (json_object_object_get_ex(d, "stats", &st))
				print_stats(st, false, NULL, 0);
		}
		json_object_put(rep);
		return EX_OK;
	}
	if (strcmp(verb, "list") == 0) {
		if (argc > 1)
			return usage_err("vm list: unexpected '%s'", argv[1]);
		return list_request("vm.list", print_vm_line);
	}
	return usage_err("vm: unknown verb '%s' (add, del, list, show)", verb);
}

static int cmd_port(int argc, char **argv)
{
	if (argc && is_help(argv[0])) {
		puts("usage: xvnetctl port list\n  VM port devices: ifindex, kind,"
		     " state, VM; 'stale' when the port map disagrees");
		return EX_OK;
	}
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "list")))
		return usage_err("port: unknown verb '%s' (list)", argv[0]);
	return list_request("port.list", print_port);
}

static const struct optdef flow_opts[] = {
	{ "vlan", "vlan", O_VLAN }, { "proto", "proto", O_PROTO },
	{ "src", "src", O_IP }, { "sport", "sport", O_L4PORT },
	{ "dst", "dst", O_IP }, { "dport", "dport", O_L4PORT },
	{ "action", "action", O_ACTION }, { "vm", "vm", O_NAME },
	{ "queue", "queue", O_QUEUE },
};

static const char flow_help[] =
"usage: xvnetctl flow add [--vlan N] --proto tcp|udp|icmp|icmpv6|NUM --src IP\n"
"                [--sport P] --dst IP [--dport P] --action deliver|drop|pass\n"
"                [--vm NAME] [--queue Q|rss]\n"
"       xvnetctl flow del [--vlan N] --proto P --src IP [--sport P] --dst IP\n"
"                [--dport P]\n"
"       xvnetctl flow list\n"
"  exact-match entries of the flow cache, checked before the (MAC, VLAN)\n"
"  table; --vlan defaults to 0 (untagged), ports to 0; deliver needs --vm,\n"
"  --queue defaults to rss.\n";

static void print_flow(struct json_object *f)
{
	bool ports = ji(f, "sport") || ji(f, "dport");

	printf("vlan %s %s %s", js(f, "vlan"), js(f, "proto"), js(f, "src"));
	if (ports)
		printf(" sport %s", js(f, "sport"));
	printf(" > %s", js(f, "dst"));
	if (ports)
		printf(" dport %s", js(f, "dport"));
	printf(" %s", js(f, "action"));
	if (strcmp(js(f, "action"), "deliver") == 0)
		printf(" vm %s queue %s", js(f, "vm")[0] ? js(f, "vm") : js(f, "vm_id"),
		       js(f, "queue"));
	printf(" packets %s bytes %s", js(f, "packets"), js(f, "bytes"));
	if (js(f, "age_ms")[0])
		printf(" age %.1fs", (double)ji(f, "age_ms") / 1000.0);
	if (jb(f, "rule"))
		printf(" dir %s rule", js(f, "dir"));
	printf("%s\n", jb(f, "configured") || jb(f, "rule") ? "" : " learnt");
}

static int cmd_flow(int argc, char **argv)
{
	struct json_object *args;
	const char *verb = argc ? argv[0] : "list";
	int r;

	if (argc && is_help(verb)) {
		fputs(flow_help, stdout);
		return EX_OK;
	}
	if (strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0) {
		bool add = verb[0] == 'a';

		args = json_object_new_object();
		r = parse_opts(argc - 1, argv + 1, flow_opts, add ? 9 : 6, args,
			       flow_help);
		for (size_t i = 0; !r && i < 3; i++) {
			static const char *const need[] = { "proto", "src", "dst" };

			if (!json_object_object_get_ex(args, need[i], NULL))
				r = usage_err("flow %s: --%s is required", verb,
					      need[i]);
		}
		if (!r && add && !json_object_object_get_ex(args, "action", NULL))
			r = usage_err("flow add: --action is required");
		if (r) {
			json_object_put(args);
			return r;
		}
		return call_simple(add ? "flow.add" : "flow.del", args);
	}
	if (strcmp(verb, "list") == 0) {
		if (argc > 1)
			return usage_err("flow list: unexpected '%s'", argv[1]);
		return list_request("flow.list", print_flow);
	}
	return usage_err("flow: unknown verb '%s' (add, del, list)", verb);
}

/* ---- rule --------------------------------------------------------------- */

static const char rule_help[] =
"usage: xvnetctl rule add VM [--pos N] --dir in|out [--proto P] [--src PFX]\n"
"                [--dst PFX] [--sport A[-B]] [--dport A[-B]]\n"
"                --action allow|deny|queue Q\n"
"       xvnetctl rule del VM POS\n"
"       xvnetctl rule list VM\n"
"  a VM's ordered rules, first match wins (positions from 1; --pos inserts\n"
"  before that rule, default: at the end).  dir in: toward the VM from the\n"
"  NIC, out: sent by the VM.  A VM with no rules allows everything; with\n"
"  rules, what no rule allows is denied.  A change flushes the VM's flows.\n";

static void print_rule(struct json_object *r)
{
	printf("%s %s\n", js(r, "pos"), js(r, "rule"));
}

static int cmd_rule(int argc, char **argv)
{
	static const char *const keys[] = { "pos", "dir", "proto", "src", "dst",
					    "sport", "dport", "action" };
	struct json_object *args, *rep, *d;
	const char *verb = argc ? argv[0] : "";
	int r;

	if (!argc || is_help(verb)) {
		fputs(rule_help, argc ? stdout : stderr);
		return argc ? EX_OK : EX_USAGE;
	}
	if (argc < 2)
		return usage_err("rule %s: VM missing", verb);
	args = json_object_new_object();
	json_object_object_add(args, "vm", json_object_new_string(argv[1]));
	if (strcmp(verb, "add") == 0) {
		for (int i = 2; i < argc; i++) {
			const char *a = argv[i];
			size_t k;

			if (is_help(a)) {
				fputs(rule_help, stdout);
				json_object_put(args);
				return EX_OK;
			}
			for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if (strncmp(a, "--", 2) == 0 &&
				    strcmp(a + 2, keys[k]) == 0)
					break;
			if (k == sizeof(keys) / sizeof(keys[0])) {
				json_object_put(args);
				return usage_err("rule add: unknown option '%s'", a);
			}
			if (i + 1 >= argc) {
				json_object_put(args);
				return usage_err("rule add: %s needs a value", a);
			}
			json_object_object_add(args, keys[k],
					       json_object_new_string(argv[++i]));
			if (strcmp(keys[k], "action") == 0 &&
			    strcmp(argv[i], "queue") == 0) {
				if (i + 1 >= argc) {
					json_object_put(args);
					return usage_err("rule add: --action queue"
							 " needs a queue number");
				}
				json_object_object_add(args, "queue",
					json_object_new_string(argv[++i]));
			}
		}
		return call_simple("rule.add", args);
	}
	if (strcmp(verb, "del") == 0) {
		if (argc != 3) {
			json_object_put(args);
			return usage_err("rule del: usage: rule del VM POS");
		}
		json_object_object_add(args, "pos", json_object_new_string(argv[2]));
		return call_simple("rule.del", args);
	}
	if (strcmp(verb, "list") == 0) {
		if (argc != 2) {
			json_object_put(args);
			return usage_err("rule list: unexpected '%s'", argv[2]);
		}
		r = call("rule.list", args, &rep, &d);
		if (r)
			return r;
		if (json_out)
			print_json(d);
		else
			for (size_t i = 0; i < json_object_array_length(d); i++)
				print_rule(json_object_array_get_idx(d, i));
		json_object_put(rep);
		return EX_OK;
	}
	json_object_put(args);
	return usage_err("rule: unknown verb '%s' (add, del, list)", verb);
}

/* ---- rss ---------------------------------------------------------------- */

static const char rss_help[] =
"usage: xvnetctl rss show VM\n"
"       xvnetctl rss set VM [--key HEX40] [--equal N | --weight W0,W1,...]\n"
"                [--hash-fields l3|l4|tcp4,tcp6,udp4,udp6]\n"
"  the VM's virtual RSS, as ethtool -x / -X: Toeplitz key, 128-entry\n"
"  indirection table, hash fields; saved in xvnetd's state.\n"
#define XV_X_RSS(f, opt, arg, help) "  --" opt " " arg "\n" XV_KNOB_HELP_INDENT help "\n"
XV_RSS_KNOBS(XV_X_RSS)
#undef XV_X_RSS
;

static const struct optdef rss_opts[] = {
#define XV_X_RSS(f, opt, arg, help) { opt, #f, O_TEXT },
	XV_RSS_KNOBS(XV_X_RSS)
#undef XV_X_RSS
};

/* "--key, --equal, ..." for "nothing to set" */
#define XV_X_RSS(f, opt, arg, help) ", --" opt
static const char rss_options[] = XV_RSS_KNOBS(XV_X_RSS);
#undef XV_X_RSS

/* ethtool -x layout: 8 entries per row, the row's first index in front. */
static void print_rss(struct json_object *d)
{
	struct json_object *ind;

	printf("RX flow hash indirection table for %s with %s RX queue(s):\n",
	       js(d, "name"), js(d, "queues"));
	if (json_object_object_get_ex(d, "indir", &ind))
		for (size_t i = 0; i < json_object_array_length(ind); i++) {
			if (i % 8 == 0)
				printf("%5zu: ", i);
			printf("%5" PRId64 "%s", json_object_get_int64(
				       json_object_array_get_idx(ind, i)),
			       i % 8 == 7 ? "\n" : " ");
		}
	printf("RSS hash key:\n%s\n", js(d, "key"));
	printf("RSS hash fields: %s (%s)\n", js(d, "hash_fields"),
	       strcmp(js(d, "hash_fields"), "l4") == 0 ?
	       "addresses and ports of TCP and UDP, IPv4 and IPv6" :
	       strcmp(js(d, "hash_fields"), "l3") == 0 ? "addresses only" :
	       strcmp(js(d, "hash_fields"), "tcp") == 0 ?
	       "ports of TCP only, IPv4 and IPv6" : "ports of UDP only, IPv4 and IPv6");
	printf("Delivery: %s%s\n", js(d, "delivery"),
	       jb(d, "live") ? "" : " (not in the datapath now)");
}

/* "NOUN show VM" / "NOUN set VM --opt ..." commands (rss, coalesce). */
struct show_set {
	const char *noun, *help, *get, *set, *nothing;
	const struct optdef *opts;
	size_t n_opts;
	void (*print)(struct json_object *d);
};

static int cmd_show_set(int argc, char **argv, const struct show_set *c)
{
	struct json_object *args = NULL, *rep, *d;
	const char *verb = argc ? argv[0] : "";
	char what[32];
	int r;

	if (!argc || is_help(verb)) {
		fputs(c->help, argc ? stdout : stderr);
		return argc ? EX_OK : EX_USAGE;
	}
	if (strcmp(verb, "show") && strcmp(verb, "set"))
		return usage_err("%s: unknown verb '%s' (show, set)", c->noun, verb);
	snprintf(what, sizeof(what), "%s %s", c->noun, verb);
	if ((r = name_arg(argc - 1, argv + 1, c->help, what, &args)))
		return r;
	if (verb[1] == 'h' && argc > 2) {
		json_object_put(args);
		return usage_err("%s: unexpected '%s'", what, argv[2]);
	}
	if (verb[1] == 'e') {
		r = parse_opts(argc - 2, argv + 2, c->opts, c->n_opts, args, c->help);
		if (!r && argc == 2)
			r = usage_err("%s: nothing to set (%s)", what, c->nothing);
		if (r) {
			json_object_put(args);
			return r;
		}
	}
	r = call(verb[1] == 'h' ? c->get : c->set, args, &rep, &d);
	if (r)
		return r;
	if (json_out)
		print_json(d);
	else
		c->print(d);
	json_object_put(rep);
	return EX_OK;
}

static int cmd_rss(int argc, char **argv)
{
	static const struct show_set c = {
		"rss", rss_help, "rss.get", "rss.set", rss_options + 2,
		rss_opts, sizeof(rss_opts) / sizeof(rss_opts[0]), print_rss,
	};

	return cmd_show_set(argc, argv, &c);
}

/* ---- coalesce ----------------------------------------------------------- */

static const char coalesce_help[] =
"usage: xvnetctl coalesce show VM\n"
"       xvnetctl coalesce set VM [--rx-frames N] [--rx-usecs U]\n"
"                [--adaptive on|off] [--napi-defer-irqs N] [--napi-flush-usecs U]\n"
"  the VM's interrupt coalescing, as ethtool -c / -C; saved in xvnetd's state.\n"
"  xsk VMs only (tap, veth: the guest's kernel or the VMM notifies).\n"
#define XV_X_COAL(f, n, kd, mx, arg, help) "  --" n " " arg "\n" XV_KNOB_HELP_INDENT help "\n"
XV_COAL_KNOBS(XV_X_COAL)
#undef XV_X_COAL
;

static const struct optdef coalesce_opts[] = {
#define XV_X_COAL(f, n, kd, mx, arg, help) { n, #f, O_TEXT },
	XV_COAL_KNOBS(XV_X_COAL)
#undef XV_X_COAL
};

#define XV_X_COAL(f, n, kd, mx, arg, help) ", --" n
static const char coalesce_options[] = XV_COAL_KNOBS(XV_X_COAL);
#undef XV_X_COAL

/* ethtool -c layout. */
static void print_coalesce(struct json_object *d)
{
	struct json_object *n, *c, *qs;

	printf("Coalesce parameters for %s (%s port):\n", js(d, "vm"), js(d, "port"));
	if (!jb(d, "applicable")) {
		json_object_object_get_ex(d, "applies", &n);
		printf("n/a: %s\n", js(n, "rx"));
		return;
	}
	printf("Adaptive RX: %s\n", jb(d, "adaptive") ? "on" : "off");
	printf("rx-usecs: %s\nrx-frames: %s\n", js(d, "rx_usecs"), js(d, "rx_frames"));
	if (json_object_object_get_ex(d, "napi", &n))
		printf("napi-defer-irqs: %s\nnapi-flush-usecs: %s (%s %s, queues %#x)\n",
		       js(n, "defer_irqs"), js(n, "flush_usecs"), js(n, "nic"),
		       js(n, "scope"), (unsigned)json_object_get_int(
			       json_object_object_get(n, "queue_mask")));
	if (!json_object_object_get_ex(d, "counters", &c))
		return;
	printf("consumer pid %s: packets %s notifications %s (%.1f per notification)"
	       " wakeups %s rate %s pps batch %s/%s us\n", js(c, "consumer_pid"),
	       js(c, "packets"), js(c, "notifications"),
	       json_object_get_double(json_object_object_get(c, "per_notification")),
	       js(c, "wakeups"), js(c, "rate_pps"), js(c, "effective_frames"),
	       js(c, "effective_usecs"));
	if (json_object_object_get_ex(c, "queues", &qs))
		for (size_t i = 0; i < json_object_array_length(qs); i++) {
			struct json_object *q = json_object_array_get_idx(qs, i);

			printf("    queue %s packets %s notifications %s (%.1f)\n",
			       js(q, "queue"), js(q, "packets"), js(q, "notifications"),
			       json_object_get_double(json_object_object_get(
				       q, "per_notification")));
		}
}

static int cmd_coalesce(int argc, char **argv)
{
	static const struct show_set c = {
		"coalesce", coalesce_help, "coalesce.get", "coalesce.set",
		coalesce_options + 2,
		coalesce_opts, sizeof(coalesce_opts) / sizeof(coalesce_opts[0]),
		print_coalesce,
	};

	return cmd_show_set(argc, argv, &c);
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

static int cmd_stats(int argc, char **argv)
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

static int cmd_shutdown(int argc, char **argv)
{
	struct json_object *args = json_object_new_object();

	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			puts("usage: xvnetctl shutdown [--teardown]\n"
			     "  stop xvnetd; the datapath keeps running unless"
			     " --teardown, which\n  detaches it, removes the pins"
			     " and the ports xvnetd created");
			json_object_put(args);
			return EX_OK;
		}
		if (strcmp(argv[i], "--teardown")) {
			json_object_put(args);
			return usage_err("shutdown: unknown option '%s'", argv[i]);
		}
		json_object_object_add(args, "teardown", json_object_new_boolean(1));
	}
	return call_simple("shutdown", args);
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
			json_out = true;
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (++i >= argc)
				return usage_err("%s needs a path", a);
			sock_path = argv[i];
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(main_usage, stdout);
			return EX_OK;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("xvnetctl %s\n", XV_VERSION);
			return EX_OK;
		} else {
			usage_err("unknown option '%s'", a);
			fputs(main_usage, stderr);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		fputs(main_usage, stderr);
		return EX_USAGE;
	}
	argv += i + 1;
	argc -= i + 1;
	if (strcmp(argv[-1], "status") == 0)
		return cmd_status(argc, argv);
	if (strcmp(argv[-1], "vm") == 0)
		return cmd_vm(argc, argv);
	if (strcmp(argv[-1], "port") == 0)
		return cmd_port(argc, argv);
	if (strcmp(argv[-1], "flow") == 0)
		return cmd_flow(argc, argv);
	if (strcmp(argv[-1], "rule") == 0)
		return cmd_rule(argc, argv);
	if (strcmp(argv[-1], "stats") == 0)
		return cmd_stats(argc, argv);
	if (strcmp(argv[-1], "rss") == 0)
		return cmd_rss(argc, argv);
	if (strcmp(argv[-1], "coalesce") == 0)
		return cmd_coalesce(argc, argv);
	if (strcmp(argv[-1], "shutdown") == 0)
		return cmd_shutdown(argc, argv);
	if (strcmp(argv[-1], "reload") == 0)
		return argc ? usage_err("reload: takes no arguments") :
			call_simple("reload", NULL);
	if (strcmp(argv[-1], "help") == 0) {
		fputs(main_usage, stdout);
		return EX_OK;
	}
	return usage_err("unknown command '%s' (see --help)", argv[-1]);
}
