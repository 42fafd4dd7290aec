/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-VM knobs, each named once (X-macros, as the counters in
 * maps/xvnet_maps.h): xvnetd's config file and requests, xvnetctl's
 * options and its help all expand these lists, so a name cannot drift
 * between them.  Bounds a list names (XSKP_*, NAPI_*) are defined where
 * they are enforced (loader/); a user that does not expand them (xvnetctl)
 * never needs them, since an unused macro argument is not expanded.
 *
 * XV_XSK_KNOBS(X): X(key, field, kind, min, max, def, arg, help)
 *   AF_XDP socket knobs of an xsk VM (struct xsk_conf): key is the config
 *   key, the request key and xvnetctl's option (--key).
 * XV_COAL_KNOBS(X): X(field, name, kind, max, arg, help)
 *   notification coalescing (struct coal_conf): config key
 *   "coalesce-NAME", xvnetctl's option --NAME, request and JSON key FIELD.
 * XV_RSS_KNOBS(X): X(field, option, arg, help)
 *   rss.set requests (FIELD) and xvnetctl rss set's options (--OPTION),
 *   as ethtool -X takes them.
 * Help texts continue on lines that start with XV_KNOB_HELP_INDENT.
 */
#ifndef XVNET_LIB_KNOBS_H
#define XVNET_LIB_KNOBS_H

enum xv_knob_kind {
	XV_KNOB_UINT,           /* 0..max (xsk: min..max) */
	XV_KNOB_POW2,           /* a power of two in min..max */
	XV_KNOB_ONOFF,          /* on|off */
	XV_KNOB_QUEUES,         /* a list of NIC queues: 0,2-3 */
};

#define XV_KNOB_HELP_INDENT "                    "

#define XV_XSK_KNOBS(X)                                                        \
	X("xsk-frame-size", frame_size, XV_KNOB_POW2, 2048, 4096,              \
	  XSKP_FRAME_SIZE_DEFAULT, "2048|4096", "UMEM frame size")              \
	X("xsk-frames", frames, XV_KNOB_UINT, 64, XSKP_FRAMES_MAX,             \
	  XSKP_FRAMES_DEFAULT, "N", "UMEM frames per socket")                   \
	X("xsk-rx-size", rx_size, XV_KNOB_POW2, XSKP_RING_MIN, XSKP_RING_MAX,  \
	  XSKP_RING_DEFAULT, "N", "RX ring entries")                            \
	X("xsk-tx-size", tx_size, XV_KNOB_POW2, XSKP_RING_MIN, XSKP_RING_MAX,  \
	  XSKP_RING_DEFAULT, "N", "TX ring entries")                            \
	X("xsk-fill-size", fill_size, XV_KNOB_POW2, XSKP_RING_MIN,             \
	  XSKP_RING_MAX, XSKP_RING_DEFAULT, "N", "fill ring entries")          \
	X("xsk-comp-size", comp_size, XV_KNOB_POW2, XSKP_RING_MIN,             \
	  XSKP_RING_MAX, XSKP_RING_DEFAULT, "N", "completion ring entries")    \
	X("xsk-need-wakeup", need_wakeup, XV_KNOB_ONOFF, 0, 0, 0, "on|off",    \
	  "XDP_USE_NEED_WAKEUP (default on)")                                   \
	X("xsk-busy-poll", busy_poll_us, XV_KNOB_UINT, 0, 1000000, 0, "USEC",  \
	  "SO_BUSY_POLL")                                                       \
	X("xsk-busy-poll-budget", busy_poll_budget, XV_KNOB_UINT, 0, 65535, 0, \
	  "N", "SO_BUSY_POLL_BUDGET")                                           \
	X("xsk-prefer-busy-poll", prefer_busy_poll, XV_KNOB_ONOFF, 0, 0, 0,    \
	  "on|off", "SO_PREFER_BUSY_POLL")                                      \
	X("xsk-nic-queues", nic_queues, XV_KNOB_QUEUES, 0, 0, 0, "0,2-3",      \
	  "NIC RX queues (default all; one xsk VM per NIC queue)")

#define XV_COAL_KNOBS(X)                                                       \
	X(rx_frames, "rx-frames", XV_KNOB_UINT, XVNET_COAL_FRAMES_MAX, "N",    \
	  "notify the guest when N frames of a queue wait (0-4096;\n"          \
	  XV_KNOB_HELP_INDENT "needs --rx-usecs)")                              \
	X(rx_usecs, "rx-usecs", XV_KNOB_UINT, XVNET_COAL_USECS_MAX, "U",       \
	  "... or when the oldest has waited U us (0-100000);\n"               \
	  XV_KNOB_HELP_INDENT "both 0: one notification per batch taken (off)") \
	X(adaptive, "adaptive", XV_KNOB_ONOFF, 1, "on|off",                    \
	  "on: the batch follows the packet rate, up to N and U: at a\n"       \
	  XV_KNOB_HELP_INDENT "low rate every frame is notified at once")       \
	X(napi_defer_irqs, "napi-defer-irqs", XV_KNOB_UINT, NAPI_DEFER_MAX,    \
	  "N", "napi_defer_hard_irqs of the NAPI of the VM's NIC queues")       \
	X(napi_flush_usecs, "napi-flush-usecs", XV_KNOB_UINT, NAPI_FLUSH_MAX,  \
	  "U", "gro_flush_timeout of the same NAPI (both napi knobs 0:\n"      \
	  XV_KNOB_HELP_INDENT "left as found); the old values come back when\n" \
	  XV_KNOB_HELP_INDENT "the VM goes or xvnetd stops")

#define XV_RSS_KNOBS(X)                                                        \
	X(key, "key", "HEX40", "Toeplitz key: 40 bytes, 6d:5a:56:... or 80 hex digits") \
	X(equal, "equal", "N",                                                 \
	  "spread the table over queues 0..N-1 (N <= the VM's queues)")        \
	X(weight, "weight", "W0,W1,...",                                       \
	  "table entries in proportion to the weights (one per queue\n"       \
	  XV_KNOB_HELP_INDENT "from 0, at most the VM's queues, sum 1-128)")  \
	X(indir, "indir", "Q,...", "the whole table: 128 queues, Q*N repeats Q") \
	X(hash_fields, "hash-fields", "l3|l4|tcp4,tcp6,udp4,udp6",             \
	  "l4 (ports of TCP and UDP, default), l3 (addresses only),\n"        \
	  XV_KNOB_HELP_INDENT "or tcp, udp (tcp4,tcp6 / udp4,udp6: per protocol only)")

#endif
