// SPDX-License-Identifier: GPL-2.0-only
/*
 * nic_rx's fast path (bpf/fastpath.h) decides exactly what the general path
 * decides.  Every frame of a corpus (the common shapes, their near misses,
 * malformed ones) to every kind of destination (plain VMs, VMs it takes
 * through deliver(), VMs it must leave alone, unknown and group MACs), without flows and past a flow
 * table that misses it, and the ported frames hitting flows of every
 * verdict and kind of VM, runs twice through one instance: fast path off,
 * then on.
 * The two runs must give the same verdict, the same frame, the same delta
 * of every counter, queue and port statistic and flow entry; and the fast
 * path must have taken exactly the frames it is meant for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/unit.h"
#include "tests/pktbuild.h"
#include "tests/nicrx_fixture.h"
#include "maps/xvnet_maps.h"
#include "bpf/toeplitz.h"

static struct nrx F;
static __u32 veth_if[3];
static int fd_ports_b, fd_port_stats;
/* the slow path's ring, drained after every run so that it never fills
 * between the two runs of a frame */
static struct ring_buffer *slow_rb;

static int rb_discard(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* ---- the VMs -------------------------------------------------------------- */

enum vm_case {
	VM_PLAIN,        /* veth, 1 queue: the fast path's own */
	VM_TAP,          /* tap kind (its DEVMAP entry a veth: only the kind matters) */
	VM_RULES,        /* rules: a frame no flow lets through goes to the slow path */
	VM_MQ,           /* 4 queues through the skb path */
	VM_XSK,          /* AF_XDP port without a socket */
	VM_VLAN,         /* VLAN 10 */
	VM_MOVED,        /* a vm move in force: port_sel to bank B */
	VM_FALLBACK,     /* --port fallback */
	VM_INACTIVE,     /* mapped, slot not active */
	VM_NO_PORT,      /* plain, DEVMAP entry missing */
	VM_IGNORED_FLAGS,/* plain with every flag the fast path ignores (RSS tables
			    included: every slot xvnetd writes has them) */
	VM_HASH_ONLY,    /* plain, not in xvnet_vm_cache */
	VM_COLLIDED,     /* plain, its cache slot naming another VM */
	VM_SPREAD,       /* queue-cpus */
	N_VMS,
};

/* Whether the fast path redirects to the VM plainly (fast_deliver), not
 * through deliver(): what keeps the common VM's frame cheap. */
static const bool vm_plain[N_VMS] = {
	[VM_PLAIN] = true, [VM_TAP] = true, [VM_MOVED] = true, [VM_NO_PORT] = true,
	[VM_IGNORED_FLAGS] = true, [VM_HASH_ONLY] = true, [VM_COLLIDED] = true,
};

static const char *const vm_name[N_VMS] = {
	"plain", "tap", "rules", "multi-queue", "xsk", "vlan-10", "moved-bank-b",
	"fallback", "inactive", "no-port", "ignored-flags", "hash-only", "collided",
	"spread",
};

static void vm_mac(int v, __u8 mac[6])
{
	const __u8 m[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, (__u8)(0x20 + v) };

	memcpy(mac, m, 6);
}

static void add_vms(void)
{
	const __u8 ms_key[XVNET_RSS_KEY_SIZE] = XVNET_RSS_MS_KEY;
	int v, i;

	for (v = 0; v < N_VMS; v++) {
		struct xvnet_vm vm;
		__u32 port = veth_if[0];

		memset(&vm, 0, sizeof(vm));
		vm.flags = XVNET_VM_F_ACTIVE;
		vm_mac(v, vm.mac);
		vm.port_kind = XVNET_PORT_VETH;
		vm.n_queues = 1;
		vm.hash_fields = XVNET_RSS_FIELDS_DEFAULT;
		memcpy(vm.rss_key, ms_key, sizeof(ms_key));
		switch (v) {
		case VM_TAP:
			vm.port_kind = XVNET_PORT_TAP;
			port = veth_if[1];
			break;
		case VM_RULES:
			vm.flags |= XVNET_VM_F_HAS_RULES;
			break;
		case VM_MQ:
			vm.n_queues = 4;
			vm.flags |= XVNET_VM_F_SKB_PATH;
			break;
		case VM_XSK:
			vm.port_kind = XVNET_PORT_XSK;
			port = 0;
			break;
		case VM_VLAN:
			vm.vlan = 10;
			break;
		case VM_MOVED:
			/* bank A empty: a frame sent by the wrong bank fails */
			vm.port_sel = XVNET_PORT_SEL(1, XVNET_PORT_VETH);
			port = 0;
			assert_int_equal(bpf_map_update_elem(fd_ports_b, &(__u32){ v },
							     &veth_if[2], BPF_ANY), 0);
			break;
		case VM_FALLBACK:
			vm.port_kind = XVNET_PORT_NONE;
			port = 0;
			break;
		case VM_INACTIVE:
			vm.flags = 0;
			break;
		case VM_NO_PORT:
			port = 0;
			break;
		case VM_IGNORED_FLAGS:
			vm.flags |= XVNET_VM_F_KEEP_VLAN | XVNET_VM_F_ALLOW_DHCP |
				    XVNET_VM_F_ALLOW_IPV6_LL | XVNET_VM_F_ALLOW_IPV6_LL_ANY |
				    XVNET_VM_F_NO_RX_HASH | XVNET_VM_F_RSS_TABLE;
			break;
		case VM_SPREAD:
			vm.flags |= XVNET_VM_F_CPU_SPREAD;
			break;
		}
		for (i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
			vm.rss_indir[i] = (__u8)(i % vm.n_queues);
		assert_int_equal(nrx_add_vm(&F, (__u32)v, &vm, port), 0);
		assert_int_equal(nrx_map_mac(&F, vm.mac, vm.vlan, (__u32)v), 0);
		if (v == VM_HASH_ONLY)
			assert_int_equal(nrx_vm_cache_set(&F, vm.mac, 0, 0), 0);
		if (v == VM_COLLIDED)
			assert_int_equal(nrx_vm_cache_set(&F, vm.mac, 0, VM_PLAIN + 1), 0);
	}
}

/* ---- the destinations and frames ------------------------------------------ */

enum dst_case { DST_UNKNOWN = N_VMS, DST_BROADCAST, DST_MULTICAST, N_DSTS };

static void dst_mac(int d, __u8 mac[6])
{
	static const __u8 unknown[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x99 };
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 mcast[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

	if (d < N_VMS)
		vm_mac(d, mac);
	else
		memcpy(mac, d == DST_UNKNOWN ? unknown : d == DST_BROADCAST ? bcast : mcast, 6);
}

struct frame {
	__u8 b[PB_MAX_FRAME];
	__u32 len;
	struct pb_layout lay;
};

typedef void (*frame_edit)(struct frame *fr);

static void set_be16(__u8 *p, __u16 v)
{
	v = htons(v);
	memcpy(p, &v, 2);
}

static void ed_v4_totlen_big(struct frame *fr)
{
	set_be16(fr->b + fr->lay.l3_off + 2, (__u16)(fr->len - fr->lay.l3_off + 1));
	pb_ipv4_fix_csum(fr->b, fr->lay.l3_off);
}

static void ed_v4_totlen_small(struct frame *fr)
{
	set_be16(fr->b + fr->lay.l3_off + 2, 19);
	pb_ipv4_fix_csum(fr->b, fr->lay.l3_off);
}

/* UDP: 4 bytes of datagram after the IP header (the frame holds more) */
static void ed_v4_totlen_l4_short(struct frame *fr)
{
	set_be16(fr->b + fr->lay.l3_off + 2, 24);
	pb_ipv4_fix_csum(fr->b, fr->lay.l3_off);
}

static void ed_v4_ihl4(struct frame *fr)
{
	fr->b[fr->lay.l3_off] = 0x44;
}

static void ed_v4_version6(struct frame *fr)
{
	fr->b[fr->lay.l3_off] = 0x65;
}

static void ed_tcp_doff4(struct frame *fr)
{
	fr->b[fr->lay.l4_off + 12] = 4 << 4;
}

static void ed_tcp_doff15(struct frame *fr)
{
	fr->b[fr->lay.l4_off + 12] = 15 << 4;
}

static void ed_v6_plen_big(struct frame *fr)
{
	set_be16(fr->b + fr->lay.l3_off + 4, (__u16)(fr->len - fr->lay.l3_off - 40 + 1));
}

static void ed_v6_plen_l4_short(struct frame *fr)
{
	set_be16(fr->b + fr->lay.l3_off + 4, 6);
}

static void ed_v6_version4(struct frame *fr)
{
	fr->b[fr->lay.l3_off] = 0x40 | (fr->b[fr->lay.l3_off] & 0x0f);
}

/* Ethernet padding after the datagram: well formed, still common */
static void ed_padded(struct frame *fr)
{
	memset(fr->b + fr->len, 0, 18);
	fr->len += 18;
}

struct frame_case {
	const char *name;
	enum pb_l3 l3;
	enum pb_l4 l4;
	bool common;             /* the fast path's shape, well formed */
	frame_edit edit;         /* applied after building */
	__u8 tcp_doff, ip_opt_len, proto_raw;
	__u16 ip_frag;
	int n_ext;               /* IPv6: one extension header of this type ... */
	__u8 ext_type;
	__u16 ext_frag;
	int n_tags;              /* VLAN tags (tci: VLAN 10, then 20) */
	__u16 tpid0;
	__u16 vid0;
	size_t trunc;            /* cut to this many bytes */
	bool v4mapped;           /* IPv6 between ::ffff:10.1.0.7 and ::ffff:10.2.0.9 */
};

#define V4 .l3 = PB_L3_IPV4
#define V6 .l3 = PB_L3_IPV6
#define UDP .l4 = PB_L4_UDP
#define TCP .l4 = PB_L4_TCP
static const struct frame_case frames[] = {
	{ "v4/udp", V4, UDP, .common = true },
	{ "v4/tcp", V4, TCP, .common = true },
	{ "v6/udp", V6, UDP, .common = true },
	{ "v6/tcp", V6, TCP, .common = true },
	/* its flow is the IPv4 frame's (one key): the fast path leaves it
	 * to the general path when flows are in use */
	{ "v6 ::ffff:/udp", V6, UDP, .common = true, .v4mapped = true },
	{ "v4/tcp+options", V4, TCP, .common = true, .tcp_doff = 8 },
	{ "v4/udp+padding", V4, UDP, .common = true, .edit = ed_padded },
	{ "v6/tcp+padding", V6, TCP, .common = true, .edit = ed_padded },
	{ "v4/icmp", V4, .l4 = PB_L4_ICMP },
	{ "v6/icmp", V6, .l4 = PB_L4_ICMP },
	{ "arp", .l3 = PB_L3_ARP },
	{ "v4/gre", V4, .proto_raw = 47 },
	{ "v4+options/udp", V4, UDP, .ip_opt_len = 8 },
	{ "v4/udp first fragment", V4, UDP, .ip_frag = 0x2000 },
	{ "v4/udp middle fragment", V4, UDP, .ip_frag = 0x2010 },
	{ "v4/udp last fragment", V4, UDP, .ip_frag = 0x0011 },
	{ "v6+hop/udp", V6, UDP, .n_ext = 1, .ext_type = 0 },
	{ "v6+frag/udp atomic", V6, UDP, .n_ext = 1, .ext_type = 44 },
	{ "q10/v4/udp", V4, UDP, .n_tags = 1, .vid0 = 10 },
	{ "q0/v4/udp (priority tag)", V4, UDP, .n_tags = 1, .vid0 = 0 },
	{ "qinq/v4/udp", V4, UDP, .n_tags = 2, .vid0 = 10 },
	{ "ad/v4/udp", V4, UDP, .n_tags = 1, .tpid0 = PB_TPID_8021AD, .vid0 = 10 },
	/* malformed near misses of the common shapes */
	{ "v4/udp tot_len beyond frame", V4, UDP, .edit = ed_v4_totlen_big },
	{ "v4/udp tot_len 19", V4, UDP, .edit = ed_v4_totlen_small },
	{ "v4/udp datagram ends in udp header", V4, UDP, .edit = ed_v4_totlen_l4_short },
	{ "v4 ihl 4/udp", V4, UDP, .edit = ed_v4_ihl4 },
	{ "v4 version 6/udp", V4, UDP, .edit = ed_v4_version6 },
	{ "v4/tcp doff 4", V4, TCP, .edit = ed_tcp_doff4 },
	{ "v4/tcp doff beyond datagram", V4, TCP, .edit = ed_tcp_doff15 },
	{ "v6/tcp doff beyond datagram", V6, TCP, .edit = ed_tcp_doff15 },
	{ "v6/udp payload beyond frame", V6, UDP, .edit = ed_v6_plen_big },
	{ "v6/udp payload ends in udp header", V6, UDP, .edit = ed_v6_plen_l4_short },
	{ "v6 version 4/udp", V6, UDP, .edit = ed_v6_version4 },
	{ "v4/udp cut after ethernet", V4, UDP, .trunc = 14 },
	{ "v4/udp cut in ip", V4, UDP, .trunc = 33 },
	{ "v4/udp cut in udp", V4, UDP, .trunc = 41 },
	{ "v4/tcp cut in tcp", V4, TCP, .trunc = 50 },
	{ "v6/tcp cut in ip", V6, TCP, .trunc = 40 },
	{ "v6/udp cut in udp", V6, UDP, .trunc = 60 },
};
#undef V4
#undef V6
#undef UDP
#undef TCP
#define N_FRAMES (sizeof(frames) / sizeof(frames[0]))

/* The source address and ports a flow case keys on (see flow_cases). */
#define FLOW_SPORT 40000
#define FLOW_DPORT_BASE 5000

static void build_frame(const struct frame_case *fc, int dst, __u16 dport, struct frame *fr)
{
	struct pb_spec s;

	memset(&s, 0, sizeof(s));
	dst_mac(dst, s.dst);
	pb_mac(s.src, "02:00:00:00:00:01");
	s.n_tags = fc->n_tags;
	if (fc->n_tags) {
		s.tpid[0] = fc->tpid0 ? fc->tpid0 : PB_TPID_8021Q;
		s.tci[0] = fc->vid0;
		s.tpid[1] = PB_TPID_8021Q;
		s.tci[1] = 20;
	}
	s.l3 = fc->l3;
	s.l4 = fc->l4;
	pb_v4(s.v4_src, "10.1.0.7");
	pb_v4(s.v4_dst, "10.2.0.9");
	pb_v6(s.v6_src, fc->v4mapped ? "::ffff:10.1.0.7" : "fd00:1::7");
	pb_v6(s.v6_dst, fc->v4mapped ? "::ffff:10.2.0.9" : "fd00:2::9");
	s.ip_opt_len = fc->ip_opt_len;
	s.ip_frag = fc->ip_frag;
	s.proto_raw = fc->proto_raw;
	s.tcp_doff = fc->tcp_doff;
	s.n_ext = fc->n_ext;
	s.ext[0].type = fc->ext_type;
	s.ext[0].frag = fc->ext_frag;
	s.sport = FLOW_SPORT;
	s.dport = dport;
	s.payload_len = fc->l3 == PB_L3_ARP ? 0 : 37;
	fr->len = (__u32)pb_build(&s, fr->b, sizeof(fr->b) - 32, &fr->lay);
	assert_true(fr->len > 0);
	if (fc->edit)
		fc->edit(fr);
	if (fc->trunc) {
		assert_true(fc->trunc < fr->len);
		fr->len = (__u32)fc->trunc;
	}
}

/* ---- flows ---------------------------------------------------------------- */

struct flow_case {
	const char *name;
	bool installed;          /* false: the frame misses the flow table */
	__u8 verdict;
	int vm;                  /* DELIVER: its VM (an enum vm_case, or beyond) */
	__u16 queue;
};

static const struct flow_case flow_cases[] = {
	{ "miss", false, 0, -1, 0 },
	{ "deliver to plain", true, XVNET_FLOW_DELIVER, VM_PLAIN, XVNET_QUEUE_RSS },
	{ "deliver to plain, queue 3", true, XVNET_FLOW_DELIVER, VM_PLAIN, 3 },
	{ "deliver to tap", true, XVNET_FLOW_DELIVER, VM_TAP, XVNET_QUEUE_RSS },
	{ "deliver to rules", true, XVNET_FLOW_DELIVER, VM_RULES, XVNET_QUEUE_RSS },
	{ "deliver to multi-queue", true, XVNET_FLOW_DELIVER, VM_MQ, XVNET_QUEUE_RSS },
	{ "deliver to multi-queue, queue 2", true, XVNET_FLOW_DELIVER, VM_MQ, 2 },
	{ "deliver to xsk", true, XVNET_FLOW_DELIVER, VM_XSK, XVNET_QUEUE_RSS },
	{ "deliver to vlan-10", true, XVNET_FLOW_DELIVER, VM_VLAN, XVNET_QUEUE_RSS },
	{ "deliver to moved", true, XVNET_FLOW_DELIVER, VM_MOVED, XVNET_QUEUE_RSS },
	{ "deliver to fallback", true, XVNET_FLOW_DELIVER, VM_FALLBACK, XVNET_QUEUE_RSS },
	{ "deliver to inactive", true, XVNET_FLOW_DELIVER, VM_INACTIVE, XVNET_QUEUE_RSS },
	{ "deliver to an empty slot", true, XVNET_FLOW_DELIVER, 200, XVNET_QUEUE_RSS },
	{ "deliver to no-port", true, XVNET_FLOW_DELIVER, VM_NO_PORT, XVNET_QUEUE_RSS },
	{ "deliver to spread", true, XVNET_FLOW_DELIVER, VM_SPREAD, XVNET_QUEUE_RSS },
	{ "pass", true, XVNET_FLOW_PASS, -1, 0 },
	{ "drop", true, XVNET_FLOW_DROP, -1, 0 },
};
#define N_FLOW_CASES (sizeof(flow_cases) / sizeof(flow_cases[0]))

/* The flow key nic_rx makes of the common frames built with dport (an
 * IPv6 frame between IPv4-mapped addresses has the IPv4 frame's). */
static struct xvnet_flow_key flow_key(enum pb_l3 l3, enum pb_l4 l4, __u16 dport, bool v4mapped)
{
	struct xvnet_flow_key k;

	memset(&k, 0, sizeof(k));
	if (l3 == PB_L3_IPV4 || v4mapped) {
		k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
		pb_v4(k.src + 12, "10.1.0.7");
		pb_v4(k.dst + 12, "10.2.0.9");
	} else {
		pb_v6(k.src, "fd00:1::7");
		pb_v6(k.dst, "fd00:2::9");
	}
	k.sport = htons(FLOW_SPORT);
	k.dport = htons(dport);
	k.proto = l4 == PB_L4_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	k.dir = XVNET_DIR_IN;
	return k;
}

/* Every flow case, for each of the four common L3/L4 pairs, at its own dport. */
static void add_flows(void)
{
	static const enum pb_l3 l3s[] = { PB_L3_IPV4, PB_L3_IPV6 };
	static const enum pb_l4 l4s[] = { PB_L4_UDP, PB_L4_TCP };
	size_t c;
	int a, b;

	for (c = 1; c < N_FLOW_CASES; c++) {
		struct xvnet_flow v;

		memset(&v, 0, sizeof(v));
		v.verdict = flow_cases[c].verdict;
		v.vm_id = flow_cases[c].vm >= 0 ? (__u32)flow_cases[c].vm : 0;
		v.queue = flow_cases[c].queue;
		for (a = 0; a < 2; a++)
			for (b = 0; b < 2; b++) {
				struct xvnet_flow_key k =
					flow_key(l3s[a], l4s[b], (__u16)(FLOW_DPORT_BASE + c), false);

				assert_int_equal(nrx_add_flow(&F, &k, &v), 0);
			}
	}
	assert_int_equal(nrx_set_flows_active(&F, true), 0);
}

/* ---- one frame, both ways --------------------------------------------------- */

#define STAT_QUEUES 4
struct snapshot {
	struct nrx_counts c;
	__u64 q[N_VMS][STAT_QUEUES][2];
	__u64 port[N_VMS][XVNET_PORT_KINDS][2];
	__u64 flow[2];
	__u64 fast, plain;
};

/*
 * The first n entries of a per-CPU map, each summed over the CPUs into
 * out[i] (width 64-bit words per entry), in one BPF_MAP_LOOKUP_BATCH: the
 * test reads ~20k snapshots, and entry by entry they cost minutes in the
 * kernel matrix's TCG guests.
 */
static void percpu_sum(int fd, __u32 n, __u32 width, __u64 *out)
{
	static __u32 keys[N_VMS * XVNET_MAX_QUEUES];
	static __u64 vals[N_VMS * XVNET_MAX_QUEUES * 2 * 64];
	__u32 count = n, out_batch, i, w;
	int c;

	assert_true(n <= sizeof(keys) / sizeof(keys[0]) && F.ncpus <= 64 && width <= 2);
	if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &count, NULL) &&
	    errno != ENOENT)
		fail_msg("lookup batch: %s", strerror(errno));
	assert_int_equal(count, n);
	for (i = 0; i < n; i++)
		for (w = 0; w < width; w++) {
			out[i * width + w] = 0;
			for (c = 0; c < F.ncpus; c++)
				out[i * width + w] += vals[((size_t)i * F.ncpus + c) * width + w];
		}
}

static void snap(struct snapshot *s, const struct xvnet_flow_key *fk)
{
	static __u64 q[N_VMS * XVNET_MAX_QUEUES][2];
	int v;
	__u32 i;

	memset(s, 0, sizeof(*s));
	percpu_sum(F.fd_stats, XVNET_CNT_MAX, 1, s->c.c);
	percpu_sum(F.fd_qstats, N_VMS * XVNET_MAX_QUEUES, 2, &q[0][0]);
	for (v = 0; v < N_VMS; v++)
		for (i = 0; i < STAT_QUEUES; i++)
			memcpy(s->q[v][i], q[v * XVNET_MAX_QUEUES + i], sizeof(s->q[v][i]));
	percpu_sum(fd_port_stats, N_VMS * XVNET_PORT_KINDS, 2, &s->port[0][0][0]);
	if (fk) {
		struct xvnet_flow f;

		if (nrx_get_flow(&F, fk, &f) == 0) {
			s->flow[0] = f.packets;
			s->flow[1] = f.bytes;
		}
	}
	s->fast = nrx_fast_frames(&F);
	s->plain = nrx_fast_plain_frames(&F);
}

struct outcome {
	__u32 verdict;
	__u32 out_len;
	__u8 out[PB_MAX_FRAME];
	struct snapshot delta;
};

static void run_way(const struct frame *fr, bool fast, const struct xvnet_flow_key *fk,
		    struct outcome *o)
{
	static struct snapshot before, after;
	static struct nrx_result res_s;
	struct nrx_result *res = &res_s;
	__u64 *b = (__u64 *)&before, *a = (__u64 *)&after, *d = (__u64 *)&o->delta;
	size_t i;

	assert_int_equal(nrx_set_fast_path(&F, fast), 0);
	snap(&before, fk);
	assert_int_equal(nrx_run(&F, fr->b, fr->len, res), 0);
	snap(&after, fk);
	assert_true(ring_buffer__consume(slow_rb) >= 0);
	_Static_assert(sizeof(struct snapshot) % sizeof(__u64) == 0, "snapshot is words");
	for (i = 0; i < sizeof(struct snapshot) / sizeof(__u64); i++)
		d[i] = a[i] - b[i];
	o->verdict = res->verdict;
	o->out_len = res->out_len;
	memset(o->out, 0, sizeof(o->out));
	memcpy(o->out, res->out, res->out_len < sizeof(o->out) ? res->out_len : sizeof(o->out));
}

/* What the fast path is meant to take (docs/datapath.md, "the fast path"). */
static bool fast_expected(const struct frame_case *fc, int dst, const struct flow_case *flc)
{
	if (!fc->common || (flc && fc->v4mapped))
		return false;
	if (flc && flc->installed) {
		int v = flc->vm;

		if (flc->verdict != XVNET_FLOW_DELIVER)
			return true;
		/* an active, untagged VM: deliver() goes on from the fast path */
		return v >= 0 && v < N_VMS && v != VM_INACTIVE && v != VM_VLAN;
	}
	/* unknown, broadcast, multicast; and VLAN 10's VM to an untagged
	 * frame: no VM has its MAC on VLAN 0 */
	if (dst >= N_VMS || dst == VM_VLAN)
		return true;
	/* every other active VM: a plain redirect, or deliver() from there;
	 * a VM with rules takes it on the slow path */
	return dst != VM_RULES && dst != VM_INACTIVE;
}

/* Of those, what it redirects plainly, without deliver(). */
static bool plain_expected(const struct frame_case *fc, int dst, const struct flow_case *flc)
{
	int v = flc && flc->installed ? flc->vm : dst;

	if (!fast_expected(fc, dst, flc) ||
	    (flc && flc->installed && flc->verdict != XVNET_FLOW_DELIVER))
		return false;
	/* a flow hit to a VM with rules needs no more than a plain redirect */
	return v >= 0 && v < N_VMS && (vm_plain[v] || (flc && flc->installed && v == VM_RULES));
}

static int n_pairs, n_fast;

static void both_ways(const struct frame_case *fc, int dst, const struct flow_case *flc,
		      __u16 dport)
{
	/* static: a failure leaves through longjmp */
	static struct outcome off_s, on_s;
	struct outcome *off = &off_s, *on = &on_s;
	struct xvnet_flow_key fk = flow_key(fc->l3, fc->l4, dport, fc->v4mapped);
	const struct xvnet_flow_key *fkp = flc && flc->installed ? &fk : NULL;
	struct frame fr;
	char what[200];
	bool want_fast = fast_expected(fc, dst, flc);
	bool want_plain = plain_expected(fc, dst, flc);
	__u64 fast_on, fast_off, plain_on;

	build_frame(fc, dst, dport, &fr);
	snprintf(what, sizeof(what), "%s to %s%s%s", fc->name,
		 dst < N_VMS ? vm_name[dst] : dst == DST_UNKNOWN ? "unknown MAC" :
		 dst == DST_BROADCAST ? "broadcast" : "multicast",
		 flc ? ", flow " : "", flc ? flc->name : "");
	run_way(&fr, false, fkp, off);
	run_way(&fr, true, fkp, on);

	fast_on = on->delta.fast;
	fast_off = off->delta.fast;
	plain_on = on->delta.plain;
	on->delta.fast = off->delta.fast = 0;
	on->delta.plain = off->delta.plain = 0;
	if (on->verdict != off->verdict)
		fail_msg("%s: verdict %u with the fast path, %u without", what,
			 on->verdict, off->verdict);
	if (on->out_len != off->out_len || memcmp(on->out, off->out, on->out_len))
		fail_msg("%s: the frame handed on differs", what);
	for (int i = 0; i < XVNET_CNT_MAX; i++)
		if (on->delta.c.c[i] != off->delta.c.c[i])
			fail_msg("%s: counter %s moved by %llu with the fast path, %llu without",
				 what, nrx_counter_names[i],
				 (unsigned long long)on->delta.c.c[i],
				 (unsigned long long)off->delta.c.c[i]);
	if (memcmp(&on->delta, &off->delta, sizeof(on->delta)))
		fail_msg("%s: queue, port or flow statistics differ", what);
	/* the same outcome both ways, and the fast path took exactly the frames meant for it */
	if (fast_off != 0)
		fail_msg("%s: fast path ran while off", what);
	if (fast_on != (want_fast ? 1u : 0u))
		fail_msg("%s: fast path %s, expected %s", what,
			 fast_on ? "took it" : "left it", want_fast ? "to take it" : "to leave it");
	if (plain_on != (want_plain ? 1u : 0u))
		fail_msg("%s: fast path %s, expected %s", what,
			 plain_on ? "redirected it plainly" : "did not redirect it plainly",
			 want_plain ? "a plain redirect" : "none");
	n_pairs++;
	n_fast += want_fast;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_fast_path_equals_general_no_flows(void **state)
{
	size_t f;
	int d;

	(void)state;
	n_pairs = n_fast = 0;
	for (f = 0; f < N_FRAMES; f++)
		for (d = 0; d < N_DSTS; d++)
			both_ways(&frames[f], d, NULL, 443);
	printf("[ fastpath ] no flows: %d frames both ways, %d of them fast\n", n_pairs, n_fast);
	/* the corpus is not vacuous: it holds both kinds */
	assert_true(n_fast > 50 && n_pairs - n_fast > 400);
}

static void test_fast_path_equals_general_flows(void **state)
{
	size_t f, c;
	int d;

	(void)state;
	add_flows();
	n_pairs = n_fast = 0;
	for (f = 0; f < N_FRAMES; f++)
		for (d = 0; d < N_DSTS; d++) {
			/* every frame past a flow table that misses it ... */
			both_ways(&frames[f], d, &flow_cases[0], 443);
			/* ... and the ported frames hitting each kind of flow;
			 * the flow decides, not the MAC, so a few MACs do
			 * (unicast to a VM with and without rules, unknown,
			 * broadcast: the lookup comes before the group check) */
			if (frames[f].l4 != PB_L4_UDP && frames[f].l4 != PB_L4_TCP)
				continue;
			if (d != VM_PLAIN && d != VM_RULES && d != DST_UNKNOWN &&
			    d != DST_BROADCAST)
				continue;
			for (c = 1; c < N_FLOW_CASES; c++)
				both_ways(&frames[f], d, &flow_cases[c],
					  (__u16)(FLOW_DPORT_BASE + c));
		}
	printf("[ fastpath ] flows: %d frames both ways, %d of them fast\n", n_pairs, n_fast);
	assert_true(n_fast > 300 && n_pairs - n_fast > 1000);
}

/* Off switch: with fast_path_off, not one frame takes the fast path. */
static void test_fast_path_off_switch(void **state)
{
	struct nrx_result res;
	struct frame fr;
	__u64 before;

	(void)state;
	build_frame(&frames[0], VM_PLAIN, 443, &fr);
	assert_int_equal(nrx_set_fast_path(&F, false), 0);
	before = nrx_fast_frames(&F);
	assert_int_equal(nrx_run(&F, fr.b, fr.len, &res), 0);
	assert_int_equal(res.verdict, XDP_REDIRECT);
	assert_int_equal(nrx_fast_frames(&F), before);
	assert_int_equal(nrx_set_fast_path(&F, true), 0);
	assert_int_equal(nrx_run(&F, fr.b, fr.len, &res), 0);
	assert_int_equal(res.verdict, XDP_REDIRECT);
	assert_int_equal(nrx_fast_frames(&F), before + 1);
}

static int group_setup(void **state)
{
	char name[16];
	int i, err;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "tf%d", i);
		veth_if[i] = nrx_veth(name);
		if (!veth_if[i]) {
			fprintf(stderr, "fastpath: could not create veth %s\n", name);
			return -1;
		}
	}
	err = nrx_open(&F, false);
	if (err) {
		fprintf(stderr, "fastpath: load failed: %d\n", err);
		return -1;
	}
	fd_ports_b = nrx_map_fd(&F, "xvnet_ports_b");
	fd_port_stats = nrx_map_fd(&F, "xvnet_port_stats");
	slow_rb = ring_buffer__new(nrx_slow_rb_fd(&F), rb_discard, NULL, NULL);
	return fd_ports_b >= 0 && fd_port_stats >= 0 && slow_rb ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	ring_buffer__free(slow_rb);
	slow_rb = NULL;
	nrx_close(&F);
	return 0;
}

static int test_setup(void **state)
{
	(void)state;
	if (nrx_reset(&F, N_VMS + 1))
		return -1;
	if (nrx_set_flows_active(&F, false))
		return -1;
	add_vms();
	return 0;
}

static const struct CMUnitTest fastpath_tests[] = {
	cmocka_unit_test_setup(test_fast_path_off_switch, test_setup),
	cmocka_unit_test_setup(test_fast_path_equals_general_no_flows, test_setup),
	cmocka_unit_test_setup(test_fast_path_equals_general_flows, test_setup),
};

UNIT_GROUP(group_fastpath, "fastpath", fastpath_tests, group_setup, group_teardown);
