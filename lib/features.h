/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel capabilities xvnet can use, each probed by loading (and where it
 * matters, running) the smallest real program or object that needs it:
 * builds of one kernel version differ (a locked-down build refuses
 * bpf_xdp_adjust_meta and live-frames test runs), and bpftool's and
 * libbpf's helper probes answer yes for a helper the verifier then
 * refuses.  One table names each feature, what it is for and what xvnet
 * does without it; xvnetd, xvnetctl status, the tests and xvnet-trafgen all
 * read it.
 *
 * XVNET_WITHOUT="xdp_meta,live_frames" (or xvnetd --without) makes a
 * present feature count as absent, so every fallback is tested on every
 * machine.
 */
#ifndef XVNET_LIB_FEATURES_H
#define XVNET_LIB_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

/* X(enum suffix, name, what it gives, what xvnet does without it) */
#define XV_FEATURES(X)                                                        \
	X(XDP_META, "xdp_meta", "bpf_xdp_adjust_meta: per-frame metadata in front of the frame", \
	  "the metadata travels inline, in a tagged prefix (bpf_xdp_adjust_head)") \
	X(XDP_HEAD, "xdp_head", "bpf_xdp_adjust_head: pushing bytes in front of a frame", \
	  "none: VLAN push/pop and inline metadata need it; xvnetd cannot run") \
	X(LIVE_FRAMES, "live_frames", "BPF_PROG_TEST_RUN live frames (the test and bench traffic source)", \
	  "xvnet-trafgen sends with AF_PACKET (PACKET_QDISC_BYPASS)")         \
	X(RINGBUF, "ringbuf", "BPF ring buffer (the rules' slow path)",       \
	  "none: rules are refused")                                          \
	X(CPUMAP_PROG, "cpumap_prog", "programs on CPUMAP entries (queue-cpus)", \
	  "none: queue-cpus is refused")                                      \
	X(SOCKET_FILTER, "socket_filter", "socket filter programs (tun's steering program, multi-queue taps)", \
	  "multi-queue taps take the queue tun picks by flow hash")           \
	X(AF_XDP, "af_xdp", "AF_XDP sockets (port xsk)",                     \
	  "none: port xsk is refused")                                        \
	X(CHECK_MTU, "check_mtu", "bpf_check_mtu: whether an XDP redirect fits the target's MTU", \
	  "VM frames over 1514 bytes are sent by tc whatever the MTU")         \
	X(REDIRECT_TRACE, "redirect_trace", "tp_btf on xdp:xdp_redirect_err and xdp_devmap_xmit: failed redirects counted per VM", \
	  "failed redirects are not counted (the port's own drop counters only)") \
	X(NAPI_NETLINK, "napi_netlink", "netdev generic netlink napi-set: NIC NAPI knobs per queue (xsk VMs)", \
	  "the NIC's device-wide sysfs NAPI files (coalesce show: scope device)")

enum xv_feature {
#define XV_FEAT_ENUM(e, name, what, instead) XV_FEAT_##e,
	XV_FEATURES(XV_FEAT_ENUM)
#undef XV_FEAT_ENUM
	XV_FEAT_MAX,
};

struct xv_features {
	bool present[XV_FEAT_MAX];    /* the kernel has it */
	bool disabled[XV_FEAT_MAX];   /* present, but XVNET_WITHOUT/--without */
	char why[XV_FEAT_MAX][96];    /* for absent ones: what the probe saw */
};

const char *xv_feature_name(enum xv_feature f);
const char *xv_feature_what(enum xv_feature f);
const char *xv_feature_instead(enum xv_feature f);
/* -1 if no feature has this name */
int xv_feature_by_name(const char *name);

/*
 * Mark the comma-separated names in list as disabled (before or after
 * probing).  Returns 0, or -1 with err naming the unknown feature.
 */
int xv_features_disable(struct xv_features *fs, const char *list, char *err,
			size_t errlen);
/* Probe everything, then apply XVNET_WITHOUT from the environment. */
int xv_features_probe(struct xv_features *fs, char *err, size_t errlen);
/* Present and not disabled: what the data path may use. */
bool xv_feature_usable(const struct xv_features *fs, enum xv_feature f);

/* One probe alone (no environment): 1 present, 0 absent (why filled). */
int xv_probe_one(enum xv_feature f, char *why, size_t whylen);

/*
 * A probe lib/ cannot do itself (it needs what a layer above owns: the
 * daemon's generic netlink code for napi_netlink), set by that program
 * before probing.  Same contract as xv_probe_one; without one the feature
 * reads absent, "not probed by this program".
 */
typedef int (*xv_prober)(char *why, size_t whylen);
void xv_feature_set_prober(enum xv_feature f, xv_prober fn);

#endif
