// SPDX-License-Identifier: GPL-2.0-only
/*
 * The capability probes of lib/features.h.  Each is the smallest program
 * that needs the feature, written as raw instructions so that the probe
 * depends on nothing but the kernel: if it loads (and, for test runs, runs)
 * the data path can use the feature.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "lib/features.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

static const struct {
	const char *name, *what, *instead;
} table[XV_FEAT_MAX] = {
#define XV_FEAT_ROW(e, n, w, i) [XV_FEAT_##e] = { n, w, i },
	XV_FEATURES(XV_FEAT_ROW)
#undef XV_FEAT_ROW
};

const char *xv_feature_name(enum xv_feature f) { return table[f].name; }
const char *xv_feature_what(enum xv_feature f) { return table[f].what; }
const char *xv_feature_instead(enum xv_feature f) { return table[f].instead; }

int xv_feature_by_name(const char *name)
{
	for (int f = 0; f < XV_FEAT_MAX; f++)
		if (strcmp(table[f].name, name) == 0)
			return f;
	return -1;
}

/* ---- instructions ------------------------------------------------------ */
#define MOV_IMM(r, v)  { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = (r), .imm = (v) }
#define CALL(fn)       { .code = BPF_JMP | BPF_CALL, .imm = (fn) }
#define EXIT()         { .code = BPF_JMP | BPF_EXIT }
#define LD_MAP(r, fd)  { .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = (r), \
			 .src_reg = BPF_PSEUDO_MAP_FD, .imm = (fd) }, { 0 }
#define N(a)           (sizeof(a) / sizeof((a)[0]))

/* The verifier's last words, without its statistics: why it refused. */
static void log_reason(const char *log, int e, char *why, size_t whylen)
{
	const char *end = log + strlen(log);

	while (end > log) {
		const char *start;

		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		start = end;
		while (start > log && start[-1] != '\n')
			start--;
		if (end > start && strncmp(start, "processed ", 10) != 0 &&
		    strncmp(start, "verification time", 17) != 0 &&
		    strncmp(start, "stack depth", 11) != 0) {
			snprintf(why, whylen, "%.*s", (int)(end - start), start);
			return;
		}
		end = start;
	}
	snprintf(why, whylen, "%s", strerror(e));
}

static int load(enum bpf_prog_type type, enum bpf_attach_type expected,
		const struct bpf_insn *insns, size_t n, char *why, size_t whylen)
{
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1, .expected_attach_type = expected);
	int fd = bpf_prog_load(type, "xv_probe", "GPL", insns, n, &o);

	if (fd < 0)
		log_reason(log, errno, why, whylen);
	return fd;
}

static int probe_helper(int helper, int arg, char *why, size_t whylen)
{
	const struct bpf_insn p[] = { MOV_IMM(BPF_REG_2, arg), CALL(helper),
				      MOV_IMM(BPF_REG_0, XDP_PASS), EXIT() };
	int fd = load(BPF_PROG_TYPE_XDP, 0, p, N(p), why, whylen);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* A frame dropped in live mode: refused on locked-down builds (EPERM). */
static int probe_live_frames(char *why, size_t whylen)
{
	const struct bpf_insn p[] = { MOV_IMM(BPF_REG_0, XDP_DROP), EXIT() };
	unsigned char frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int fd = load(BPF_PROG_TYPE_XDP, 0, p, N(p), why, whylen), r;
	LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 1);

	if (fd < 0)
		return 0;
	r = bpf_prog_test_run_opts(fd, &ro);
	if (r)
		snprintf(why, whylen, "live-frames test run: %s", strerror(errno));
	close(fd);
	return r == 0;
}

static int probe_ringbuf(char *why, size_t whylen)
{
	int map = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "xv_probe", 0, 0, 4096, NULL);
	int fd;

	if (map < 0) {
		snprintf(why, whylen, "ring buffer map: %s", strerror(errno));
		return 0;
	}
	{
		const struct bpf_insn p[] = { LD_MAP(BPF_REG_1, map), MOV_IMM(BPF_REG_2, 0),
					      CALL(BPF_FUNC_ringbuf_query),
					      MOV_IMM(BPF_REG_0, XDP_PASS), EXIT() };

		fd = load(BPF_PROG_TYPE_XDP, 0, p, N(p), why, whylen);
	}
	close(map);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* A program on a CPUMAP entry (the kernel starts the entry's thread). */
static int probe_cpumap_prog(char *why, size_t whylen)
{
	const struct bpf_insn p[] = { MOV_IMM(BPF_REG_0, XDP_PASS), EXIT() };
	int fd = load(BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP, p, N(p), why, whylen);
	struct bpf_cpumap_val v = { .qsize = 16 };
	__u32 key = 0;
	int map, ok;

	if (fd < 0)
		return 0;
	map = bpf_map_create(BPF_MAP_TYPE_CPUMAP, "xv_probe", sizeof(key), sizeof(v), 1, NULL);
	if (map < 0) {
		snprintf(why, whylen, "CPUMAP: %s", strerror(errno));
		close(fd);
		return 0;
	}
	v.bpf_prog.fd = fd;
	ok = bpf_map_update_elem(map, &key, &v, BPF_ANY) == 0;
	if (!ok)
		snprintf(why, whylen, "CPUMAP entry with a program: %s", strerror(errno));
	close(map);
	close(fd);
	return ok;
}

static int probe_socket_filter(char *why, size_t whylen)
{
	const struct bpf_insn p[] = { MOV_IMM(BPF_REG_0, 0), EXIT() };
	int fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, p, N(p), why, whylen);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int probe_af_xdp(char *why, size_t whylen)
{
	int fd = socket(AF_XDP, SOCK_RAW, 0);

	if (fd < 0) {
		snprintf(why, whylen, "socket(AF_XDP): %s", strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}

/* bpf_check_mtu(ctx, 1 (lo), &len on the stack, 0, 0) */
static int probe_check_mtu(char *why, size_t whylen)
{
	const struct bpf_insn p[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -8, .imm = 0 },
		MOV_IMM(BPF_REG_2, 1),
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_3, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_3, .imm = -8 },
		MOV_IMM(BPF_REG_4, 0), MOV_IMM(BPF_REG_5, 0),
		CALL(BPF_FUNC_check_mtu), MOV_IMM(BPF_REG_0, XDP_PASS), EXIT() };
	int fd = load(BPF_PROG_TYPE_XDP, 0, p, N(p), why, whylen);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* What tp_btf/xdp_redirect_err and tp_btf/xdp_devmap_xmit attach by: the
 * tracepoints' BTF types.  (Loading the real programs is the data path's
 * own try: xvnetd loads them with nic_rx, and without them if the kernel
 * refuses.) */
static int probe_redirect_trace(char *why, size_t whylen)
{
	static const char *const tps[] = { "xdp_redirect_err", "xdp_devmap_xmit" };
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char type[64];

	if (!vmlinux) {
		snprintf(why, whylen, "no kernel BTF: %s", strerror(errno));
		return 0;
	}
	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		snprintf(type, sizeof(type), "btf_trace_%s", tps[i]);
		if (btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) < 0) {
			snprintf(why, whylen, "no %s tracepoint in the kernel's BTF", tps[i]);
			btf__free(vmlinux);
			return 0;
		}
	}
	btf__free(vmlinux);
	return 1;
}

static xv_prober probers[XV_FEAT_MAX];

void xv_feature_set_prober(enum xv_feature f, xv_prober fn)
{
	if (f >= 0 && f < XV_FEAT_MAX)
		probers[f] = fn;
}

int xv_probe_one(enum xv_feature f, char *why, size_t whylen)
{
	why[0] = '\0';
	if (f >= 0 && f < XV_FEAT_MAX && probers[f])
		return probers[f](why, whylen);
	switch (f) {
	case XV_FEAT_XDP_META:
		return probe_helper(BPF_FUNC_xdp_adjust_meta, -8, why, whylen);
	case XV_FEAT_XDP_HEAD:
		return probe_helper(BPF_FUNC_xdp_adjust_head, -8, why, whylen);
	case XV_FEAT_LIVE_FRAMES:
		return probe_live_frames(why, whylen);
	case XV_FEAT_RINGBUF:
		return probe_ringbuf(why, whylen);
	case XV_FEAT_CPUMAP_PROG:
		return probe_cpumap_prog(why, whylen);
	case XV_FEAT_SOCKET_FILTER:
		return probe_socket_filter(why, whylen);
	case XV_FEAT_AF_XDP:
		return probe_af_xdp(why, whylen);
	case XV_FEAT_CHECK_MTU:
		return probe_check_mtu(why, whylen);
	case XV_FEAT_REDIRECT_TRACE:
		return probe_redirect_trace(why, whylen);
	case XV_FEAT_NAPI_NETLINK:
		snprintf(why, whylen, "not probed by this program");
		return 0;
	case XV_FEAT_MAX:
		break;
	}
	return 0;
}

int xv_features_disable(struct xv_features *fs, const char *list, char *err,
			size_t errlen)
{
	char buf[256], *save = NULL, *tok;

	if (!list)
		return 0;
	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "feature list too long");
		return -1;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		int f = xv_feature_by_name(tok);

		if (f < 0) {
			size_t n = (size_t)snprintf(err, errlen, "unknown feature '%s' (known:", tok);

			for (int k = 0; k < XV_FEAT_MAX && n < errlen; k++)
				n += (size_t)snprintf(err + n, errlen - n, " %s", table[k].name);
			if (n < errlen)
				snprintf(err + n, errlen - n, ")");
			return -1;
		}
		fs->disabled[f] = true;
	}
	return 0;
}

int xv_features_probe(struct xv_features *fs, char *err, size_t errlen)
{
	bool keep[XV_FEAT_MAX];

	memcpy(keep, fs->disabled, sizeof(keep));
	memset(fs, 0, sizeof(*fs));
	memcpy(fs->disabled, keep, sizeof(keep));
	for (int f = 0; f < XV_FEAT_MAX; f++)
		fs->present[f] = xv_probe_one(f, fs->why[f], sizeof(fs->why[f])) == 1;
	return xv_features_disable(fs, getenv("XVNET_WITHOUT"), err, errlen);
}

bool xv_feature_usable(const struct xv_features *fs, enum xv_feature f)
{
	return fs->present[f] && !fs->disabled[f];
}
