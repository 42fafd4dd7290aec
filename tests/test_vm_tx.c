// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm_tx's anti-spoofing (bpf/vm_tx.h, bpf/spoof.h) through BPF_PROG_TEST_RUN:
 * each frame enters vm_tx "on" a real veth of the test namespace
 * (xdp_md.ingress_ifindex), so the port -> VM lookup is the real one.  Each
 * case asserts the verdict, the global counter that must move (tx_uplink,
 * tx_local, tx_flood or tx_spoof) and the VM's own egress counters (tx and
 * exactly the one spoof reason, or none).  Then the daemon side: the
 * addresses loader/kern/addrs.c writes (and rewrites, and removes) change what
 * vm_tx lets through, and the "ip" key of the config and of vm.add.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "tests/unit.h"
#include "tests/config_text.h"
#include "tests/pktbuild.h"
#include "tests/nicrx_fixture.h"
#include "maps/xvnet_maps.h"
#include "lib/parse.h"
#include "lib/spoof.h"
#include "loader/conf/config.h"
#include "loader/api/flow.h"
#include "loader/api/request.h"
#include "loader/api/vm.h"
#include "loader/kern/addrs.h"
#include "loader/kern/datapath.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/tables.h"
#include "nic_rx.skel.h"

#define N_VMS 3

static struct nrx F;
static int fd_prog, fd_port_vm, fd_addrs, fd_vmstats, fd_uplink, fd_ll_owner, fd_ll_vm;
static __u32 port_if[N_VMS], uplink_if;

static const __u8 MACV[N_VMS][6] = {
	{ 0x02, 0, 0, 0, 0x00, 0x10 },  /* vm0: VLAN 10, 10.0.0.1 fd00::1 fe80::1 */
	{ 0x02, 0, 0, 0, 0x00, 0x11 },  /* vm1: VLAN 10, 10.0.0.2 */
	{ 0x02, 0, 0, 0, 0x00, 0x12 },  /* vm2: untagged, no address */
};
static const __u16 VLANV[N_VMS] = { 10, 10, 0 };
static const __u8 MAC_WIRE[6] = { 0x02, 0, 0, 0, 0x00, 0x01 };
static const __u8 MAC_EVIL[6] = { 0x02, 0, 0, 0, 0x00, 0x66 };
static const __u8 BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- maps ---------------------------------------------------------------- */

static void clear_hash(int fd, size_t keylen)
{
	__u8 k[64];

	assert_true(keylen <= sizeof(k));
	while (!bpf_map_get_next_key(fd, NULL, k))
		assert_int_equal(bpf_map_delete_elem(fd, k), 0);
}

static void addr_set(__u32 vm, const char *text, bool on)
{
	struct xvnet_vm_addr_key k = { .vm_id = vm };
	char err[XV_ERR_LEN];
	__u32 fl = XVNET_ADDR_F_SOURCE, mark = XVNET_ADDR_F_HAS_ADDRS;
	bool v4;

	assert_int_equal(xv_parse_ip("ip", text, k.addr, &v4, err, sizeof(err)), 0);
	if (!on) {
		assert_int_equal(bpf_map_delete_elem(fd_addrs, &k), 0);
		return;
	}
	assert_int_equal(bpf_map_update_elem(fd_addrs, &k, &fl, BPF_ANY), 0);
	memset(k.addr, 0, 16);
	assert_int_equal(bpf_map_update_elem(fd_addrs, &k, &mark, BPF_ANY), 0);
}

static void vm_tx_stats(__u32 vm, struct xvnet_vm_tx_stats *out)
{
	struct xvnet_vm_tx_stats *pc = calloc((size_t)F.ncpus, sizeof(*pc));

	memset(out, 0, sizeof(*out));
	assert_non_null(pc);
	assert_int_equal(bpf_map_lookup_elem(fd_vmstats, &vm, pc), 0);
	for (int c = 0; c < F.ncpus; c++)
		for (int i = 0; i < XVNET_VM_CNT_MAX; i++)
			out->c[i] += pc[c].c[i];
	free(pc);
}

static int group_setup(void **state)
{
	__u32 zero = 0;

	(void)state;
	if (nrx_open(&F, false))
		return -1;
	fd_prog = bpf_program__fd(F.skel->progs.vm_tx);
	fd_port_vm = bpf_map__fd(F.skel->maps.xvnet_port_vm);
	fd_addrs = bpf_map__fd(F.skel->maps.xvnet_vm_addrs);
	fd_vmstats = bpf_map__fd(F.skel->maps.xvnet_vm_tx_stats);
	fd_uplink = bpf_map__fd(F.skel->maps.xvnet_uplink);
	fd_ll_owner = bpf_map__fd(F.skel->maps.xvnet_ll_owner);
	fd_ll_vm = bpf_map__fd(F.skel->maps.xvnet_ll_vm);
	port_if[0] = nrx_veth("vtx0");
	port_if[1] = nrx_veth("vtx1");
	port_if[2] = nrx_veth("vtx2");
	uplink_if = nrx_veth("vtxu");
	if (!port_if[0] || !port_if[1] || !port_if[2] || !uplink_if)
		return -1;
	return bpf_map_update_elem(fd_uplink, &zero, &uplink_if, BPF_ANY) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nrx_close(&F);          /* the veths go with the test namespace */
	return 0;
}

static int test_setup(void **state)
{
	struct xvnet_vm_tx_stats *zero = calloc((size_t)F.ncpus, sizeof(*zero));

	(void)state;
	assert_non_null(zero);
	assert_int_equal(nrx_reset(&F, N_VMS), 0);
	clear_hash(fd_port_vm, sizeof(__u32));
	clear_hash(fd_addrs, sizeof(struct xvnet_vm_addr_key));
	clear_hash(fd_ll_owner, sizeof(struct xvnet_ll_key));
	for (__u32 i = 0; i < N_VMS; i++) {
		struct xvnet_ll_slot none = { 0 };
		struct xvnet_vm vm;

		assert_int_equal(bpf_map_update_elem(fd_ll_vm, &i, &none, BPF_ANY), 0);

		memset(&vm, 0, sizeof(vm));
		vm.flags = XVNET_VM_F_ACTIVE;
		vm.ifindex = port_if[i];
		memcpy(vm.mac, MACV[i], 6);
		vm.vlan = VLANV[i];
		vm.port_kind = XVNET_PORT_VETH;
		vm.n_queues = 1;
		assert_int_equal(nrx_add_vm(&F, i, &vm, port_if[i]), 0);
		assert_int_equal(nrx_map_mac(&F, vm.mac, vm.vlan, i), 0);
		assert_int_equal(bpf_map_update_elem(fd_port_vm, &port_if[i], &i,
						     BPF_ANY), 0);
		assert_int_equal(bpf_map_update_elem(fd_vmstats, &i, zero, BPF_ANY), 0);
	}
	free(zero);
	addr_set(0, "10.0.0.1", true);
	addr_set(0, "fd00::1", true);
	addr_set(0, "fe80::1", true);
	addr_set(1, "10.0.0.2", true);
	return 0;
}

/* ---- frames --------------------------------------------------------------- */

struct frame {
	__u8 b[PB_MAX_FRAME];
	size_t len;
	struct pb_layout lay;
};

static struct pb_spec spec(__u32 vm, const __u8 dst[6], int n_tags, __u16 vid)
{
	struct pb_spec s;

	memset(&s, 0, sizeof(s));
	memcpy(s.src, MACV[vm], 6);
	memcpy(s.dst, dst, 6);
	s.n_tags = n_tags;
	for (int i = 0; i < n_tags; i++)
		s.tci[i] = vid;
	return s;
}

static void v4_udp(struct pb_spec *s, const char *src, const char *dst)
{
	s->l3 = PB_L3_IPV4;
	s->l4 = PB_L4_UDP;
	pb_v4(s->v4_src, src);
	pb_v4(s->v4_dst, dst);
	s->sport = 1000;
	s->dport = 2000;
	s->payload_len = 18;
}

static void v6(struct pb_spec *s, enum pb_l4 l4, const char *src, const char *dst,
	       size_t payload)
{
	s->l3 = PB_L3_IPV6;
	s->l4 = l4;
	pb_v6(s->v6_src, src);
	pb_v6(s->v6_dst, dst);
	s->sport = 1000;
	s->dport = 2000;
	s->payload_len = payload;
}

static void build(const struct pb_spec *s, struct frame *f)
{
	f->len = pb_build(s, f->b, sizeof(f->b), &f->lay);
	assert_true(f->len > 0);
}

/* ARP from vm: op, sender MAC (NULL: the VM's), sender IP, target IP. */
static void arp(struct frame *f, __u32 vm, __u16 op, const __u8 *sha,
		const char *spa, const char *tpa)
{
	struct pb_spec s = spec(vm, BCAST, VLANV[vm] ? 1 : 0, VLANV[vm]);

	s.l3 = PB_L3_ARP;
	pb_v4(s.v4_src, spa);
	pb_v4(s.v4_dst, tpa);
	build(&s, f);
	f->b[f->lay.l3_off + 6] = 0;
	f->b[f->lay.l3_off + 7] = (__u8)op;
	if (sha)
		memcpy(f->b + f->lay.l3_off + 8, sha, 6);
}

/*
 * ICMPv6 ND from vm0 (untagged, so vm2 can send it too): type, source,
 * target, and an optional link-layer option (opt 1 SLLA / 2 TLLA, with MAC).
 */
static void nd(struct frame *f, __u32 vm, __u8 type, const char *src,
	       const char *dst, const char *target, __u8 opt, const __u8 *opt_mac)
{
	struct pb_spec s = spec(vm, BCAST, 0, 0);
	size_t body = type == 133 ? 0 : 16;
	__u8 *icmp;

	s.dst[0] = 0x33;        /* IPv6 multicast MAC */
	s.dst[1] = 0x33;
	v6(&s, PB_L4_ICMP, src, dst, body + (opt ? 8 : 0));
	build(&s, f);
	icmp = f->b + f->lay.l4_off;
	icmp[0] = type;
	memset(icmp + 4, 0, 4);
	if (body) {
		__u8 t[16];

		pb_v6(t, target);
		memcpy(icmp + 8, t, 16);
	}
	if (opt) {
		icmp[8 + body] = opt;
		icmp[9 + body] = 1;
		memcpy(icmp + 10 + body, opt_mac, 6);
	}
}

static __u32 run_on(__u32 ifindex, const struct frame *f)
{
	static __u8 out[4096];
	struct xdp_md ctx = { .data_end = (__u32)f->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->b,
		.data_size_in = (__u32)f->len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);

	assert_int_equal(bpf_prog_test_run_opts(fd_prog, &opts), 0);
	return opts.retval;
}

#define NONE (-1)

/* lib/spoof.c's verdict for f from vm, with vm's addresses as in the map. */
static int user_check(__u32 vm, const __u8 *frame, size_t len)
{
	__u8 addrs[XVNET_MAX_VM_ADDRS][16];
	struct xv_spoof_vm uv = { .vlan = VLANV[vm], .addrs = addrs };
	struct xvnet_vm_addr_key k, n;
	static const __u8 zero[16];
	int more = !bpf_map_get_next_key(fd_addrs, NULL, &n);

	__u8 others[N_VMS][6], listed[XVNET_MAX_VM_ADDRS][16];
	struct xvnet_vm slot;

	memcpy(uv.mac, MACV[vm], 6);
	/* the allowances of the slot vm_tx reads, the MACs it can look up */
	assert_int_equal(bpf_map_lookup_elem(F.fd_vms, &vm, &slot), 0);
	uv.allow = slot.flags;
	uv.other_macs = (const __u8 (*)[6])others;
	for (__u32 i = 0; i < N_VMS; i++)
		if (i != vm && VLANV[i] == VLANV[vm])
			memcpy(others[uv.n_other_macs++], MACV[i], 6);
	uv.other_addrs = (const __u8 (*)[16])listed;
	/* link-locals other VMs of its VLAN hold (ipv6-ll-any), as vm_tx left them */
	{
		struct xvnet_ll_key lk, ln;
		int lmore = !bpf_map_get_next_key(fd_ll_owner, NULL, &ln);

		while (lmore) {
			__u32 owner;

			lk = ln;
			lmore = !bpf_map_get_next_key(fd_ll_owner, &lk, &ln);
			if (lk.vlan == VLANV[vm] &&
			    !bpf_map_lookup_elem(fd_ll_owner, &lk, &owner) && owner != vm &&
			    uv.n_other_addrs < XVNET_MAX_VM_ADDRS)
				memcpy(listed[uv.n_other_addrs++], lk.addr, 16);
		}
	}
	while (more) {
		__u32 fl;

		k = n;
		more = !bpf_map_get_next_key(fd_addrs, &k, &n);
		if (k.vm_id == XVNET_ADDR_VLAN_ID(VLANV[vm]) &&
		    uv.n_other_addrs < XVNET_MAX_VM_ADDRS)
			memcpy(listed[uv.n_other_addrs++], k.addr, 16);
		if (k.vm_id == vm && memcmp(k.addr, zero, 16) &&
		    !bpf_map_lookup_elem(fd_addrs, &k, &fl) &&
		    (fl & XVNET_ADDR_F_SOURCE) && uv.n_addrs < XVNET_MAX_VM_ADDRS)
			memcpy(addrs[uv.n_addrs++], k.addr, 16);
	}
	return xv_spoof_check(&uv, frame, len);
}

/*
 * Send f from vm's port: verdict, the one global outcome counter that moves
 * (tx_spoof for a refusal) and the VM's spoof reason (NONE: no spoof counter
 * moves).  The VM's tx counter always moves by one.
 */
static void expect(__u32 vm, const struct frame *f, __u32 verdict, int global,
		   int reason, const char *what)
{
	static const int outcomes[] = { XVNET_CNT_TX_UPLINK, XVNET_CNT_TX_LOCAL,
					XVNET_CNT_TX_FLOOD, XVNET_CNT_TX_SPOOF };
	struct nrx_counts b, a;
	struct xvnet_vm_tx_stats vb, va;
	__u32 got;

	nrx_counts(&F, &b);
	vm_tx_stats(vm, &vb);
	got = run_on(port_if[vm], f);
	nrx_counts(&F, &a);
	vm_tx_stats(vm, &va);
	if (got != verdict)
		fail_msg("%s: verdict %u, expected %u", what, got, verdict);
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		__u64 d = a.c[outcomes[i]] - b.c[outcomes[i]];
		__u64 w = outcomes[i] == global;

		if (d != w)
			fail_msg("%s: %s moved by %llu, expected %llu", what,
				 nrx_counter_names[outcomes[i]],
				 (unsigned long long)d, (unsigned long long)w);
	}
	if (a.c[XVNET_CNT_TX] - b.c[XVNET_CNT_TX] != 1)
		fail_msg("%s: tx did not move by 1", what);
	if (va.c[XVNET_VM_CNT_TX] - vb.c[XVNET_VM_CNT_TX] != 1 ||
	    va.c[XVNET_VM_CNT_TX_BYTES] - vb.c[XVNET_VM_CNT_TX_BYTES] != f->len)
		fail_msg("%s: the VM's tx/tx_bytes did not count the frame", what);
	for (int i = XVNET_VM_CNT_SPOOF_MAC; i < XVNET_VM_CNT_MAX; i++) {
		__u64 d = va.c[i] - vb.c[i];

		if (d != (__u64)(i == reason))
			fail_msg("%s: the VM's spoof counter %d moved by %llu"
				 " (expected reason %d)", what, i,
				 (unsigned long long)d, reason);
	}
	/* the user-space copy of the checks (AF_XDP TX) says the same */
	if (user_check(vm, f->b, f->len) != (reason == NONE ? 0 : reason))
		fail_msg("%s: lib/spoof.c says %d, vm_tx %d", what,
			 user_check(vm, f->b, f->len), reason);
}

#define PASS_UPLINK(vm, f, what) expect(vm, f, XDP_REDIRECT, XVNET_CNT_TX_UPLINK, NONE, what)
#define PASS_FLOOD(vm, f, what)  expect(vm, f, XDP_PASS, XVNET_CNT_TX_FLOOD, NONE, what)
#define SPOOF(vm, f, r, what)    expect(vm, f, XDP_DROP, XVNET_CNT_TX_SPOOF, XVNET_VM_CNT_##r, what)

/* ---- cases ----------------------------------------------------------------- */

static void test_legit_traffic(void **state)
{
	struct pb_spec s;
	struct frame f;

	(void)state;
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	PASS_UPLINK(0, &f, "untagged IPv4 from the VM's address");
	/* pushed VLAN tag on the way out */
	s = spec(0, MAC_WIRE, 1, 10);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	PASS_UPLINK(0, &f, "tagged with its own VLAN");
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_TCP, "fd00::1", "fd00::99", 10);
	build(&s, &f);
	PASS_UPLINK(0, &f, "IPv6 TCP from the VM's address");
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_ICMP, "fe80::1", "fe80::99", 10);
	build(&s, &f);
	PASS_UPLINK(0, &f, "ICMPv6 echo from its link-local");
	/* to the other VM of the VLAN: kept in host memory */
	s = spec(0, MACV[1], 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.2");
	build(&s, &f);
	expect(0, &f, XDP_REDIRECT, XVNET_CNT_TX_LOCAL, NONE, "to vm1");
	/* a fragment from its own address */
	s = spec(1, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.2", "10.0.0.99");
	s.ip_frag = 0x2000;
	build(&s, &f);
	PASS_UPLINK(1, &f, "IPv4 first fragment");
	/* no L3 address to forge: MAC and VLAN checks only */
	s = spec(2, MAC_WIRE, 0, 0);
	s.ethertype = 0x88cc;
	s.payload_len = 46;
	build(&s, &f);
	PASS_UPLINK(2, &f, "LLDP-like ethertype");
	/* a priority tag (VID 0) on an untagged VM */
	s = spec(2, BCAST, 1, 0);
	s.l3 = PB_L3_ARP;
	pb_v4(s.v4_dst, "10.0.0.77");
	build(&s, &f);
	PASS_FLOOD(2, &f, "priority-tagged ARP probe");
}

/*
 * Frames XDP cannot transmit (longer than the target's MTU, as a guest's
 * TSO super-frame is) leave vm_tx by XDP_PASS for vm_flood's skb-level
 * redirect (bpf/skbfwd.h), counted tx_skb, not tx_uplink/tx_local (tc
 * counts those); the same frame at the MTU keeps the XDP redirect.
 */
static void test_too_big_for_xdp(void **state)
{
	struct xvnet_config c;
	struct xvnet_vm_tx_stats vb, va;
	struct nrx_counts b, a;
	__u32 zero = 0, fd_cfg = bpf_map__fd(F.skel->maps.xvnet_config);
	struct pb_spec s;
	struct frame f;
	const __u8 *dst[2] = { MAC_WIRE, MACV[1] };

	(void)state;
	assert_int_equal(bpf_map_lookup_elem(fd_cfg, &zero, &c), 0);
	c.uplink_ifindex = uplink_if;           /* veth: MTU 1500 */
	assert_int_equal(bpf_map_update_elem(fd_cfg, &zero, &c, BPF_ANY), 0);
	for (int d = 0; d < 2; d++) {
		s = spec(0, dst[d], 0, 0);
		v4_udp(&s, "10.0.0.1", d ? "10.0.0.2" : "10.0.0.99");
		s.payload_len = 1500 - 28;      /* 1514 bytes: fits */
		build(&s, &f);
		expect(0, &f, XDP_REDIRECT, d ? XVNET_CNT_TX_LOCAL : XVNET_CNT_TX_UPLINK, NONE,
		       d ? "1514 bytes to vm1" : "1514 bytes to the wire");
		s.payload_len = 1800;           /* over the MTU */
		build(&s, &f);
		nrx_counts(&F, &b);
		vm_tx_stats(0, &vb);
		expect(0, &f, XDP_PASS, NONE, NONE, d ? "1842 bytes to vm1" : "1842 bytes to the wire");
		nrx_counts(&F, &a);
		vm_tx_stats(0, &va);
		assert_int_equal(a.c[XVNET_CNT_TX_SKB] - b.c[XVNET_CNT_TX_SKB], 1);
		assert_int_equal(va.c[XVNET_VM_CNT_TX_SKB] - vb.c[XVNET_VM_CNT_TX_SKB], 1);
	}
	c.uplink_ifindex = 0;
	assert_int_equal(bpf_map_update_elem(fd_cfg, &zero, &c, BPF_ANY), 0);
}

/*
 * A local VM's frame for a VM on the fallback (no port of xvnet's) leaves
 * vm_tx by XDP_PASS for vm_flood, which sends it into the host stack at
 * the NIC (bpf/skbfwd.h): counted tx_skb here, never redirected to the
 * port the slot still names.
 */
static void test_to_fallback_vm(void **state)
{
	struct xvnet_vm slot, saved;
	struct nrx_counts b, a;
	__u32 id = 1;
	struct pb_spec s;
	struct frame f;

	(void)state;
	assert_int_equal(bpf_map_lookup_elem(F.fd_vms, &id, &saved), 0);
	slot = saved;
	slot.port_sel = XVNET_PORT_SEL(0, XVNET_PORT_NONE);
	assert_int_equal(bpf_map_update_elem(F.fd_vms, &id, &slot, BPF_ANY), 0);
	s = spec(0, MACV[1], 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.2");
	build(&s, &f);
	nrx_counts(&F, &b);
	expect(0, &f, XDP_PASS, NONE, NONE, "to vm1 on the fallback");
	nrx_counts(&F, &a);
	assert_int_equal(a.c[XVNET_CNT_TX_SKB] - b.c[XVNET_CNT_TX_SKB], 1);
	assert_int_equal(a.c[XVNET_CNT_TX_LOCAL] - b.c[XVNET_CNT_TX_LOCAL], 0);
	assert_int_equal(bpf_map_update_elem(F.fd_vms, &id, &saved, BPF_ANY), 0);
	expect(0, &f, XDP_REDIRECT, XVNET_CNT_TX_LOCAL, NONE, "to vm1 back on its port");
}

static void test_forged_mac(void **state)
{
	struct pb_spec s;
	struct frame f;

	(void)state;
	s = spec(0, MAC_WIRE, 0, 0);
	memcpy(s.src, MAC_EVIL, 6);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	SPOOF(0, &f, SPOOF_MAC, "forged source MAC");
	memcpy(s.src, MACV[1], 6);      /* another VM's MAC */
	build(&s, &f);
	SPOOF(0, &f, SPOOF_MAC, "vm1's MAC from vm0");
	memcpy(s.dst, BCAST, 6);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_MAC, "broadcast with a forged MAC");
}

static void test_wrong_vlan(void **state)
{
	struct pb_spec s;
	struct frame f;

	(void)state;
	s = spec(0, MAC_WIRE, 1, 20);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	SPOOF(0, &f, SPOOF_VLAN, "tagged with another VLAN");
	s = spec(0, MAC_WIRE, 2, 10);
	s.tci[1] = 20;
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	SPOOF(0, &f, SPOOF_VLAN, "QinQ: own VLAN outside, another inside");
	s = spec(0, MAC_WIRE, 1, 10);
	s.tpid[0] = PB_TPID_8021AD;
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	SPOOF(0, &f, SPOOF_VLAN, "802.1ad S-tag");
	s = spec(2, MAC_WIRE, 2, 0);
	s.tci[1] = 10;
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	SPOOF(2, &f, SPOOF_VLAN, "untagged VM: priority tag hiding VLAN 10");
	s = spec(2, MAC_WIRE, 1, 10);
	s.l3 = PB_L3_ARP;
	build(&s, &f);
	SPOOF(2, &f, SPOOF_VLAN, "untagged VM sending into VLAN 10");
}

static void test_forged_ip(void **state)
{
	struct pb_spec s;
	struct frame f;

	(void)state;
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.2", "10.0.0.99");
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "vm1's IPv4 address from vm0");
	v4_udp(&s, "0.0.0.0", "255.255.255.255");
	memcpy(s.dst, BCAST, 6);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "0.0.0.0 (DHCP-like)");
	s = spec(0, MACV[1], 0, 0);
	v4_udp(&s, "10.9.9.9", "10.0.0.2");
	s.ip_frag = 0x0010;
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "forged non-first fragment to a local VM");
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, "fd00::2", "fd00::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "forged IPv6 source");
	v6(&s, PB_L4_UDP, "::", "fd00::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "UDP from ::");
	v6(&s, PB_L4_ICMP, "::", "fd00::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "echo request from ::");
	v6(&s, PB_L4_UDP, "fe80::2", "fe80::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "unlisted link-local");
	/* the address is checked before anything else about the chain */
	v6(&s, PB_L4_UDP, "fd00::1", "fd00::99", 10);
	s.n_ext = 10;
	for (int i = 0; i < 10; i++)
		s.ext[i].type = 60;
	build(&s, &f);
	SPOOF(0, &f, SPOOF_ND, "extension chain too long to check");
}

/* f with 4 bytes (b) inserted at off */
static void frame_insert(struct frame *f, size_t off, const __u8 *b, size_t n)
{
	memmove(f->b + off + n, f->b + off, f->len - off);
	memcpy(f->b + off, b, n);
	f->len += n;
}

/*
 * IP where vm_tx's address checks do not look: behind a pre-standard QinQ
 * tag (0x9100) and in 802.2 LLC/SNAP.  A forged source must not leave that
 * way; plain LLC (spanning tree) still does.
 */
static void test_forged_ip_encapsulated(void **state)
{
	static const __u8 q9100[4] = { 0x91, 0x00, 0x00, 0x0a };
	static const __u8 snap[8] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 };
	static const __u8 stp[3] = { 0x42, 0x42, 0x03 };
	struct pb_spec s;
	struct frame f;

	(void)state;
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.9.9.9", "10.0.0.99");
	build(&s, &f);
	frame_insert(&f, 12, q9100, sizeof(q9100));
	SPOOF(0, &f, SPOOF_VLAN, "forged IPv4 behind a 0x9100 tag");
	build(&s, &f);
	/* the ethertype becomes the 802.3 length, SNAP names IPv4 */
	frame_insert(&f, 14, snap, sizeof(snap));
	f.b[12] = (__u8)((f.len - 14) >> 8);
	f.b[13] = (__u8)(f.len - 14);
	SPOOF(0, &f, SPOOF_IP, "forged IPv4 in LLC/SNAP");
	s = spec(0, MAC_WIRE, 0, 0);
	s.ethertype = 0x0026;   /* an 802.3 length */
	s.payload_len = 46;
	build(&s, &f);
	memcpy(f.b + 14, stp, sizeof(stp));
	PASS_UPLINK(0, &f, "plain LLC (spanning tree)");
}

static void test_no_address_vm(void **state)
{
	struct pb_spec s;
	struct frame f;

	(void)state;
	s = spec(2, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.7", "10.0.0.99");
	build(&s, &f);
	SPOOF(2, &f, SPOOF_IP, "no address: IPv4");
	v6(&s, PB_L4_UDP, "fe80::7", "fe80::99", 10);
	build(&s, &f);
	SPOOF(2, &f, SPOOF_IP, "no address: IPv6 link-local");
	arp(&f, 2, 1, NULL, "0.0.0.0", "10.0.0.7");
	PASS_FLOOD(2, &f, "no address: ARP probe for any address");
	arp(&f, 2, 1, NULL, "10.0.0.7", "10.0.0.1");
	SPOOF(2, &f, SPOOF_ARP, "no address: ARP request with a sender IP");
	nd(&f, 2, 135, "::", "ff02::1:ff00:7", "fe80::7", 0, NULL);
	PASS_FLOOD(2, &f, "no address: DAD NS for any target");
	nd(&f, 2, 133, "::", "ff02::2", NULL, 0, NULL);
	PASS_FLOOD(2, &f, "no address: RS from ::");
	nd(&f, 2, 136, "::", "ff02::1", "fe80::7", 0, NULL);
	SPOOF(2, &f, SPOOF_IP, "no address: NA from ::");
	/* MLDv2 report from :: behind a hop-by-hop header */
	{
		__u8 *icmp;

		s = spec(2, BCAST, 0, 0);
		s.dst[0] = s.dst[1] = 0x33;
		v6(&s, PB_L4_ICMP, "::", "ff02::16", 12);
		s.n_ext = 1;
		s.ext[0].type = 0;
		build(&s, &f);
		icmp = f.b + f.lay.l4_off;
		icmp[0] = 143;
		PASS_FLOOD(2, &f, "no address: MLDv2 report from ::");
	}
}

static void test_arp(void **state)
{
	struct frame f;

	(void)state;
	arp(&f, 0, 1, NULL, "10.0.0.1", "10.0.0.99");
	PASS_FLOOD(0, &f, "ARP request from its address");
	arp(&f, 0, 2, NULL, "10.0.0.1", "10.0.0.99");
	PASS_FLOOD(0, &f, "ARP reply (gratuitous) from its address");
	arp(&f, 0, 1, NULL, "0.0.0.0", "10.0.0.1");
	PASS_FLOOD(0, &f, "ARP probe for its address");
	arp(&f, 0, 1, NULL, "10.0.0.2", "10.0.0.99");
	SPOOF(0, &f, SPOOF_ARP, "ARP sender IP of vm1");
	arp(&f, 0, 2, NULL, "10.0.0.99", "10.0.0.2");
	SPOOF(0, &f, SPOOF_ARP, "ARP reply claiming the gateway");
	arp(&f, 0, 1, MAC_EVIL, "10.0.0.1", "10.0.0.99");
	SPOOF(0, &f, SPOOF_ARP, "ARP sender MAC forged (Ethernet source right)");
	arp(&f, 0, 1, NULL, "0.0.0.0", "10.0.0.2");
	SPOOF(0, &f, SPOOF_ARP, "ARP probe for vm1's address");
	arp(&f, 0, 2, NULL, "0.0.0.0", "10.0.0.1");
	SPOOF(0, &f, SPOOF_ARP, "ARP reply with sender 0.0.0.0");
	arp(&f, 0, 1, NULL, "10.0.0.1", "10.0.0.99");
	f.b[f.lay.l3_off + 5] = 16;     /* protocol length */
	SPOOF(0, &f, SPOOF_ARP, "ARP with a bogus protocol length");
	arp(&f, 0, 1, NULL, "10.0.0.1", "10.0.0.99");
	f.len = f.lay.l3_off + 20;      /* truncated before the target */
	SPOOF(0, &f, SPOOF_ARP, "truncated ARP");
}

static void test_nd(void **state)
{
	struct frame f;

	(void)state;
	nd(&f, 0, 135, "fd00::1", "ff02::1:ff00:99", "fd00::99", 1, MACV[0]);
	PASS_FLOOD(0, &f, "NS from its address, SLLA its MAC");
	nd(&f, 0, 135, "fd00::1", "ff02::1:ff00:99", "fd00::99", 1, MAC_EVIL);
	SPOOF(0, &f, SPOOF_ND, "NS with a forged SLLA");
	nd(&f, 0, 136, "fd00::1", "ff02::1", "fd00::1", 2, MACV[0]);
	PASS_FLOOD(0, &f, "NA for its address, TLLA its MAC");
	nd(&f, 0, 136, "fd00::1", "ff02::1", "fd00::99", 2, MACV[0]);
	SPOOF(0, &f, SPOOF_ND, "NA for another host's address");
	nd(&f, 0, 136, "fd00::1", "ff02::1", "fd00::1", 2, MAC_EVIL);
	SPOOF(0, &f, SPOOF_ND, "NA with a forged TLLA");
	nd(&f, 0, 135, "::", "ff02::1:ff00:1", "fd00::1", 0, NULL);
	PASS_FLOOD(0, &f, "DAD NS for its address");
	nd(&f, 0, 135, "::", "ff02::1:ff00:99", "fd00::99", 0, NULL);
	SPOOF(0, &f, SPOOF_ND, "DAD NS for another's address");
	nd(&f, 0, 135, "::", "ff02::1:ff00:1", "fd00::1", 1, MACV[0]);
	SPOOF(0, &f, SPOOF_ND, "DAD NS with an SLLA (invalid from ::)");
	nd(&f, 0, 133, "fe80::1", "ff02::2", NULL, 1, MACV[0]);
	PASS_FLOOD(0, &f, "RS with its SLLA");
	nd(&f, 0, 133, "fe80::1", "ff02::2", NULL, 1, MAC_EVIL);
	SPOOF(0, &f, SPOOF_ND, "RS with a forged SLLA");
	nd(&f, 0, 136, "fd00::1", "ff02::1", "fd00::1", 2, MACV[0]);
	f.b[f.lay.l4_off + 25] = 0;     /* option length 0 */
	SPOOF(0, &f, SPOOF_ND, "ND option of length 0");
}

/* ---- allowances (XVNET_VM_ALLOWS) ---------------------------------------- */

/* Turn vm's allowance bits on (on) or off in its live slot. */
static void allow(__u32 vm, __u32 bits, bool on)
{
	struct xvnet_vm slot;

	assert_int_equal(bpf_map_lookup_elem(F.fd_vms, &vm, &slot), 0);
	slot.flags = on ? slot.flags | bits : slot.flags & ~bits;
	assert_int_equal(bpf_map_update_elem(F.fd_vms, &vm, &slot, BPF_ANY), 0);
}

/*
 * A DHCP client message from vm, from 0.0.0.0: UDP sport -> dport, to dst
 * (MAC dmac), a BOOTP body with op and chaddr (NULL: the VM's MAC).
 */
static void dhcp(struct frame *f, __u32 vm, const __u8 *dmac, const char *dst,
		 __u16 sport, __u16 dport, __u8 op, const __u8 *chaddr)
{
	struct pb_spec s = spec(vm, dmac, 0, 0);
	__u8 *b;

	v4_udp(&s, "0.0.0.0", dst);
	s.sport = sport;
	s.dport = dport;
	s.payload_len = 240 + 8;        /* BOOTP, magic cookie, a few options */
	build(&s, f);
	b = f->b + f->lay.l4_off + 8;
	memset(b, 0, 240);
	b[0] = op;
	b[1] = 1;                       /* htype Ethernet */
	b[2] = 6;                       /* hlen */
	memcpy(b + 28, chaddr ? chaddr : MACV[vm], 6);
	b[236] = 99; b[237] = 130; b[238] = 83; b[239] = 99;    /* cookie */
}

static void test_allow_dhcp(void **state)
{
	struct pb_spec s;
	struct frame f;

	(void)state;
	/* vm2 has no address (a guest before its first lease) */
	dhcp(&f, 2, BCAST, "255.255.255.255", 68, 67, 1, NULL);
	SPOOF(2, &f, SPOOF_IP, "DISCOVER from 0.0.0.0 without the allowance");
	allow(2, XVNET_VM_F_ALLOW_DHCP, true);
	PASS_FLOOD(2, &f, "DISCOVER from 0.0.0.0 with dhcp");
	/* vm0 has addresses: after a reboot it asks again from 0.0.0.0 */
	allow(0, XVNET_VM_F_ALLOW_DHCP, true);
	dhcp(&f, 0, BCAST, "255.255.255.255", 68, 67, 1, NULL);
	PASS_FLOOD(0, &f, "REQUEST (broadcast) from 0.0.0.0, VM with addresses");
	dhcp(&f, 0, MAC_WIRE, "10.0.0.254", 68, 67, 1, NULL);
	PASS_UPLINK(0, &f, "REQUEST unicast to the server from 0.0.0.0");
	/* DHCP-shaped, but not a client message to a server */
	dhcp(&f, 2, BCAST, "255.255.255.255", 68, 53, 1, NULL);
	SPOOF(2, &f, SPOOF_IP, "from 0.0.0.0:68 to port 53");
	dhcp(&f, 2, BCAST, "255.255.255.255", 1000, 67, 1, NULL);
	SPOOF(2, &f, SPOOF_IP, "from 0.0.0.0:1000 to port 67");
	dhcp(&f, 2, BCAST, "255.255.255.255", 67, 68, 2, NULL);
	SPOOF(2, &f, SPOOF_IP, "a server's OFFER from 0.0.0.0 (67 -> 68)");
	dhcp(&f, 2, BCAST, "255.255.255.255", 68, 67, 2, NULL);
	SPOOF(2, &f, SPOOF_IP, "BOOTREPLY op from 0.0.0.0:68");
	dhcp(&f, 2, BCAST, "255.255.255.255", 68, 67, 1, MAC_EVIL);
	SPOOF(2, &f, SPOOF_IP, "DISCOVER for another MAC (chaddr)");
	dhcp(&f, 2, BCAST, "255.255.255.255", 68, 67, 1, NULL);
	memcpy(f.b + 6, MAC_EVIL, 6);
	SPOOF(2, &f, SPOOF_MAC, "DISCOVER with a forged source MAC");
	dhcp(&f, 2, BCAST, "255.255.255.255", 68, 67, 1, NULL);
	f.len = f.lay.l4_off + 8 + 30;  /* cut inside chaddr */
	/* the IP and UDP lengths still say more: malformed, not spoofed */
	{
		__u32 got = run_on(port_if[2], &f);

		assert_int_equal(got, XDP_DROP);
	}
	s = spec(2, BCAST, 0, 0);
	v4_udp(&s, "0.0.0.0", "255.255.255.255");
	s.sport = 68;
	s.dport = 67;
	s.payload_len = 20;             /* too short to hold chaddr */
	build(&s, &f);
	SPOOF(2, &f, SPOOF_IP, "UDP 68 -> 67 from 0.0.0.0 without a BOOTP body");
	s.payload_len = 300;
	s.ip_frag = 0x2000;             /* first fragment: ports, but a fragment */
	build(&s, &f);
	SPOOF(2, &f, SPOOF_IP, "fragmented DHCP from 0.0.0.0");
	/* other 0.0.0.0 traffic stays refused */
	s = spec(2, MAC_WIRE, 0, 0);
	v4_udp(&s, "0.0.0.0", "10.0.0.99");
	build(&s, &f);
	SPOOF(2, &f, SPOOF_IP, "UDP from 0.0.0.0, dhcp on");
	/* and off again: refused at once */
	allow(2, XVNET_VM_F_ALLOW_DHCP, false);
	dhcp(&f, 2, BCAST, "255.255.255.255", 68, 67, 1, NULL);
	SPOOF(2, &f, SPOOF_IP, "DISCOVER after the allowance is turned off");
}

/* The modified EUI-64 link-local of vm's MAC, as text. */
static const char *mac_ll(__u32 vm)
{
	static char buf[4][64];
	static int n;
	const __u8 *m = MACV[vm];
	char *b = buf[n++ % 4];

	snprintf(b, 64, "fe80::%x:%x:%x:%x", (m[0] ^ 2) << 8 | m[1],
		 m[2] << 8 | 0xff, 0xfe00 | m[3], m[4] << 8 | m[5]);
	return b;
}

static void test_allow_ipv6_ll(void **state)
{
	struct pb_spec s;
	struct frame f;

	(void)state;
	assert_string_equal(mac_ll(2), "fe80::0:ff:fe00:12");  /* 02:00:00:00:00:12 */
	s = spec(2, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, mac_ll(2), "fe80::99", 10);
	build(&s, &f);
	SPOOF(2, &f, SPOOF_IP, "MAC-derived link-local without ipv6-ll");
	allow(2, XVNET_VM_F_ALLOW_IPV6_LL, true);
	PASS_UPLINK(2, &f, "MAC-derived link-local with ipv6-ll (no address listed)");
	nd(&f, 2, 133, mac_ll(2), "ff02::2", NULL, 1, MACV[2]);
	PASS_FLOOD(2, &f, "RS from the MAC-derived link-local, own SLLA");
	nd(&f, 2, 135, "::", "ff02::1:ff00:12", mac_ll(2), 0, NULL);
	PASS_FLOOD(2, &f, "DAD NS from :: for it");
	nd(&f, 2, 136, mac_ll(2), "ff02::1", mac_ll(2), 2, MACV[2]);
	PASS_FLOOD(2, &f, "NA for it, own TLLA");
	nd(&f, 2, 136, mac_ll(2), "ff02::1", mac_ll(2), 2, MAC_EVIL);
	SPOOF(2, &f, SPOOF_ND, "NA for it with a forged TLLA");
	/* vm0 has listed addresses: DAD only for its own, the MAC-derived
	 * one now among them; never for another VM's */
	allow(0, XVNET_VM_F_ALLOW_IPV6_LL, true);
	nd(&f, 0, 135, "::", "ff02::1:ff00:10", mac_ll(0), 0, NULL);
	PASS_FLOOD(0, &f, "DAD NS for its MAC-derived link-local (VM with addresses)");
	nd(&f, 0, 135, "::", "ff02::1:ff00:11", mac_ll(1), 0, NULL);
	SPOOF(0, &f, SPOOF_ND, "DAD NS for vm1's MAC-derived link-local");
	nd(&f, 0, 136, mac_ll(0), "ff02::1", mac_ll(1), 2, MACV[0]);
	SPOOF(0, &f, SPOOF_ND, "NA claiming vm1's MAC-derived link-local");
	nd(&f, 0, 136, mac_ll(0), "ff02::1", "fd00::99", 2, MACV[0]);
	SPOOF(0, &f, SPOOF_ND, "NA from it for a foreign target");
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, mac_ll(1), "fe80::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "vm1's MAC-derived link-local from vm0");
	v6(&s, PB_L4_UDP, "fe80::2", "fd00::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "a foreign fe80:: source to a global destination");
}

static void test_allow_ipv6_ll_any(void **state)
{
	const char *rnd = "fe80::8c3a:51ff:1b2e:90d4";  /* RFC 7217-like */
	struct pb_spec s;
	struct frame f;

	(void)state;
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, rnd, "fe80::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "stable-privacy link-local without ipv6-ll-any");
	allow(0, XVNET_VM_F_ALLOW_IPV6_LL_ANY, true);
	PASS_UPLINK(0, &f, "stable-privacy link-local to a link-local address");
	s = spec(0, BCAST, 0, 0);
	s.dst[0] = s.dst[1] = 0x33;
	v6(&s, PB_L4_UDP, rnd, "ff02::fb", 10);
	build(&s, &f);
	PASS_FLOOD(0, &f, "to ff02::fb (link-scope multicast)");
	v6(&s, PB_L4_UDP, rnd, "ff05::2", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "to ff05::2 (site-scope multicast)");
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, rnd, "fd00::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "from it to a global destination");
	v6(&s, PB_L4_UDP, "fe80:0:0:1::5", "fe80::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "fe80:0:0:1::/64 is not a link-local prefix in use");
	v6(&s, PB_L4_UDP, mac_ll(1), "fe80::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "vm1's MAC-derived link-local under ipv6-ll-any");
	/* neighbour discovery from it: own options only; it may claim the
	 * address it sends from, and no other */
	nd(&f, 0, 133, rnd, "ff02::2", NULL, 1, MACV[0]);
	PASS_FLOOD(0, &f, "RS from it with its SLLA");
	nd(&f, 0, 135, rnd, "ff02::1:ff00:99", "fe80::99", 1, MACV[0]);
	PASS_FLOOD(0, &f, "NS from it with its SLLA");
	nd(&f, 0, 135, rnd, "ff02::1:ff00:99", "fe80::99", 1, MAC_EVIL);
	SPOOF(0, &f, SPOOF_ND, "NS from it with a forged SLLA");
	nd(&f, 0, 136, rnd, "ff02::1", rnd, 2, MACV[0]);
	PASS_FLOOD(0, &f, "NA for the address it sends from");
	nd(&f, 0, 136, rnd, "ff02::1", "fe80::99", 2, MACV[0]);
	SPOOF(0, &f, SPOOF_ND, "NA from it for another link-local (forged target)");
	nd(&f, 0, 136, rnd, "ff02::1", mac_ll(1), 2, MACV[0]);
	SPOOF(0, &f, SPOOF_ND, "NA from it for vm1's MAC-derived link-local");
	nd(&f, 0, 136, rnd, "ff02::1", rnd, 2, MAC_EVIL);
	SPOOF(0, &f, SPOOF_ND, "NA for it with a forged TLLA");
	nd(&f, 0, 135, "::", "ff02::1:ff2e:90d4", rnd, 0, NULL);
	PASS_FLOOD(0, &f, "DAD NS from :: for it (VM with addresses)");
	nd(&f, 0, 135, "::", "ff02::1:ff00:11", mac_ll(1), 0, NULL);
	SPOOF(0, &f, SPOOF_ND, "DAD NS for vm1's MAC-derived link-local");
	nd(&f, 0, 135, "::", "ff02::1:ff00:99", "fd00::99", 0, NULL);
	SPOOF(0, &f, SPOOF_ND, "DAD NS for a global address not its own");
	/* a link-local vm1 lists (as xvnetd records it for the VLAN) */
	addr_set(1, "fe80::77", true);
	{
		struct xvnet_vm_addr_key k = { .vm_id = XVNET_ADDR_VLAN_ID(10) };
		__u32 fl = XVNET_ADDR_F_LISTED;

		pb_v6(k.addr, "fe80::77");
		assert_int_equal(bpf_map_update_elem(fd_addrs, &k, &fl, BPF_ANY), 0);
	}
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, "fe80::77", "fe80::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "a link-local vm1 lists, from vm0");
	nd(&f, 0, 135, "::", "ff02::1:ff00:77", "fe80::77", 0, NULL);
	SPOOF(0, &f, SPOOF_ND, "DAD NS for a link-local vm1 lists");
	s = spec(1, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, "fe80::77", "fe80::99", 10);
	build(&s, &f);
	PASS_UPLINK(1, &f, "vm1 from the link-local it lists");
}

/* ipv6-ll-any: the first VM to use a self-chosen link-local holds it */
static void test_ll_any_first_come(void **state)
{
	const char *r1 = "fe80::8c3a:51ff:1b2e:90d4", *r2 = "fe80::1c:2d3e:4f50:6172";
	struct xvnet_ll_key k = { .vlan = 10 };
	struct xvnet_ll_slot slot;
	struct pb_spec s;
	struct frame f;
	__u32 owner, id = 0;

	(void)state;
	allow(0, XVNET_VM_F_ALLOW_IPV6_LL_ANY | XVNET_VM_F_ALLOW_IPV6_LL, true);
	allow(1, XVNET_VM_F_ALLOW_IPV6_LL_ANY | XVNET_VM_F_ALLOW_IPV6_LL, true);
	allow(2, XVNET_VM_F_ALLOW_IPV6_LL_ANY, true);
	/* vm0's DAD probe for r1 comes first: r1 is vm0's from then on */
	nd(&f, 0, 135, "::", "ff02::1:ff2e:90d4", r1, 0, NULL);
	PASS_FLOOD(0, &f, "vm0: DAD NS for r1");
	pb_v6(k.addr, r1);
	assert_int_equal(bpf_map_lookup_elem(fd_ll_owner, &k, &owner), 0);
	assert_int_equal(owner, 0);
	nd(&f, 1, 135, "::", "ff02::1:ff2e:90d4", r1, 0, NULL);
	f.b[6 + 5] = MACV[1][5];
	SPOOF(1, &f, SPOOF_ND, "vm1: DAD NS for r1, which vm0 holds");
	s = spec(1, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, r1, "fe80::99", 10);
	build(&s, &f);
	SPOOF(1, &f, SPOOF_IP, "vm1 sending from r1");
	nd(&f, 1, 136, mac_ll(1), "ff02::1", r1, 2, MACV[1]);
	SPOOF(1, &f, SPOOF_ND, "vm1: NA claiming r1 from its own link-local");
	nd(&f, 1, 136, r1, "ff02::1", r1, 2, MACV[1]);
	SPOOF(1, &f, SPOOF_IP, "vm1: NA claiming r1 from r1");
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, r1, "fe80::99", 10);
	build(&s, &f);
	PASS_UPLINK(0, &f, "vm0 sending from r1");
	/* another VLAN is another link: vm2 may use r1 there */
	s = spec(2, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, r1, "fe80::99", 10);
	build(&s, &f);
	PASS_UPLINK(2, &f, "vm2 (untagged) sending from r1");
	/* one at a time: vm0 moving to r2 lets r1 go, and vm1 may take it */
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, r2, "fe80::99", 10);
	build(&s, &f);
	PASS_UPLINK(0, &f, "vm0 sending from r2");
	assert_int_equal(bpf_map_lookup_elem(fd_ll_vm, &id, &slot), 0);
	assert_true(slot.held && slot.vlan == 10);
	s = spec(1, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, r1, "fe80::99", 10);
	build(&s, &f);
	PASS_UPLINK(1, &f, "vm1 sending from r1, released by vm0");
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, r1, "fe80::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "vm0 back to r1, now vm1's");
	/* what a refused frame names is not claimed */
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, "fe80::4242", "fd00::99", 10);
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "vm0: fe80::4242 to a global address");
	pb_v6(k.addr, "fe80::4242");
	assert_int_not_equal(bpf_map_lookup_elem(fd_ll_owner, &k, &owner), 0);
	/* vm del (addrs_remove_vm) frees what the VM held */
	{
		struct xvd d;

		memset(&d, 0, sizeof(d));
		config_init(&d.cfg);
		d.m.vm_addrs = fd_addrs;
		d.m.vm_tx_stats = fd_vmstats;
		d.m.ll_owner = fd_ll_owner;
		d.m.ll_vm = fd_ll_vm;
		d.ncpus = F.ncpus;
		addrs_remove_vm(&d, 1);
		pb_v6(k.addr, r1);
		assert_int_not_equal(bpf_map_lookup_elem(fd_ll_owner, &k, &owner), 0);
		id = 1;
		assert_int_equal(bpf_map_lookup_elem(fd_ll_vm, &id, &slot), 0);
		assert_false(slot.held);
		config_free(&d.cfg);
	}
	addr_set(0, "10.0.0.1", true);  /* addrs_remove_vm left vm0 alone */
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, r1, "fe80::99", 10);
	build(&s, &f);
	PASS_UPLINK(0, &f, "vm0 takes r1 again once vm1 is gone");
}

/* Removing an address (as xvnetd does on reload) stops it at once. */
static void test_address_removed(void **state)
{
	struct pb_spec s;
	struct frame f;

	(void)state;
	s = spec(1, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.2", "10.0.0.99");
	build(&s, &f);
	PASS_UPLINK(1, &f, "before removal");
	addr_set(1, "10.0.0.2", false);
	SPOOF(1, &f, SPOOF_IP, "after removal");
}

/*
 * vm_tx and lib/spoof.c agree on mutated frames: random byte changes in
 * the headers and random truncations of every kind of frame above, from
 * random VMs.  The class compared: passed, malformed, or the spoof reason.
 */
static void test_fuzz_agree(void **state)
{
	struct frame base[16], f;
	struct pb_spec s;
	int nb = 0, classes[2 + XVNET_VM_CNT_MAX] = { 0 };
	const int iters = 4000;

	(void)state;
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &base[nb++]);
	s = spec(0, MAC_WIRE, 1, 10);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &base[nb++]);
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_TCP, "fd00::1", "fd00::99", 10);
	build(&s, &base[nb++]);
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, "fd00::1", "fd00::99", 10);
	s.n_ext = 2;
	s.ext[0].type = 0;
	s.ext[1].type = 60;
	build(&s, &base[nb++]);
	arp(&base[nb++], 0, 1, NULL, "10.0.0.1", "10.0.0.99");
	arp(&base[nb++], 0, 1, NULL, "0.0.0.0", "10.0.0.1");
	nd(&base[nb++], 0, 135, "fd00::1", "ff02::1:ff00:99", "fd00::99", 1, MACV[0]);
	nd(&base[nb++], 0, 136, "fd00::1", "ff02::1", "fd00::1", 2, MACV[0]);
	nd(&base[nb++], 0, 135, "::", "ff02::1:ff00:1", "fd00::1", 0, NULL);
	nd(&base[nb++], 0, 133, "fe80::1", "ff02::2", NULL, 1, MACV[0]);
	s = spec(1, MACV[0], 0, 0);
	v4_udp(&s, "10.0.0.2", "10.0.0.1");
	build(&s, &base[nb++]);
	/* the allowances' frames, with every allowance on for vm1 and vm2 */
	allow(1, XVNET_VM_ALLOW_ALL, true);
	allow(2, XVNET_VM_ALLOW_ALL, true);
	dhcp(&base[nb++], 1, BCAST, "255.255.255.255", 68, 67, 1, NULL);
	s = spec(1, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, "fe80::8c3a:51ff:1b2e:90d4", "fe80::99", 10);
	build(&s, &base[nb++]);
	nd(&base[nb++], 2, 136, mac_ll(2), "ff02::1", mac_ll(2), 2, MACV[2]);
	nd(&base[nb++], 2, 135, "::", "ff02::1:ff2e:90d4", "fe80::8c3a:51ff:1b2e:90d4",
	   0, NULL);

	srand(7);
	for (int it = 0; it < iters; it++) {
		const struct frame *b = &base[rand() % nb];
		__u32 vm = (__u32)(rand() % N_VMS);
		struct nrx_counts cb, ca;
		struct xvnet_vm_tx_stats vb, va;
		int nmut = rand() % 4, bpf_class = 0, u;

		f = *b;
		if (rand() % 10 < 7)            /* mostly past the MAC check */
			memcpy(f.b + 6, MACV[vm], 6);
		for (int m = 0; m < nmut; m++) {
			size_t at = (size_t)rand() % (f.len < 100 ? f.len : 100);

			f.b[at] = rand() % 3 ? (__u8)rand() : (__u8)(f.b[at] ^ 1);
		}
		if (rand() % 4 == 0)
			f.len = 14 + (size_t)rand() % (f.len - 13);
		nrx_counts(&F, &cb);
		vm_tx_stats(vm, &vb);
		run_on(port_if[vm], &f);
		nrx_counts(&F, &ca);
		vm_tx_stats(vm, &va);
		if (ca.c[XVNET_CNT_MALFORMED] != cb.c[XVNET_CNT_MALFORMED])
			bpf_class = XV_SPOOF_MALFORMED;
		for (int i = XVNET_VM_CNT_SPOOF_MAC; i < XVNET_VM_CNT_MAX; i++)
			if (va.c[i] != vb.c[i])
				bpf_class = i;
		u = user_check(vm, f.b, f.len);
		if (u != bpf_class) {
			char hex[3 * 100 + 1] = "";

			for (size_t i = 0; i < f.len && i < 100; i++)
				sprintf(hex + 3 * i, "%02x ", f.b[i]);
			fail_msg("iteration %d, vm%u, %zu bytes: vm_tx %d, lib/spoof.c %d: %s",
				 it, vm, f.len, bpf_class, u, hex);
		}
		classes[bpf_class + 1]++;
	}
	print_message("    vm_tx == lib/spoof.c on %d mutated frames: pass %d, malformed %d,"
		      " mac %d, vlan %d, ip %d, arp %d, nd %d\n", iters, classes[1],
		      classes[0], classes[1 + XVNET_VM_CNT_SPOOF_MAC],
		      classes[1 + XVNET_VM_CNT_SPOOF_VLAN], classes[1 + XVNET_VM_CNT_SPOOF_IP],
		      classes[1 + XVNET_VM_CNT_SPOOF_ARP], classes[1 + XVNET_VM_CNT_SPOOF_ND]);
	/* the mutations must reach every outcome, or the comparison says little */
	assert_true(classes[1] > 100);
	assert_true(classes[0] > 50);
	for (int i = XVNET_VM_CNT_SPOOF_MAC; i < XVNET_VM_CNT_MAX; i++)
		assert_true(classes[1 + i] > 20);
}

/*
 * What the checks cost: vm_tx's average time per frame (BPF_PROG_TEST_RUN
 * repeat, so no redirect is done) for frames refused at the MAC check
 * (before any address lookup), for frames that pass every check to the
 * uplink, and for one delivered to a local VM's port.
 * Printed, not asserted: numbers drift on a shared machine.
 */
static void test_cost(void **state)
{
	static __u8 out[4096];
	struct frame fr[5];
	const char *what[5] = { "forged MAC (MAC check only)", "IPv4 UDP, passes",
				"IPv6 NS with SLLA, passes", "ARP request, passes",
				"IPv4 UDP to vm1 (local)" };
	struct pb_spec s;

	(void)state;
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	memcpy(s.src, MAC_EVIL, 6);
	build(&s, &fr[0]);
	memcpy(s.src, MACV[0], 6);
	build(&s, &fr[1]);
	nd(&fr[2], 0, 135, "fd00::1", "ff02::1:ff00:99", "fd00::99", 1, MACV[0]);
	arp(&fr[3], 0, 1, NULL, "10.0.0.1", "10.0.0.99");
	s = spec(0, MACV[1], 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.2");
	build(&s, &fr[4]);
	for (int i = 0; i < 5; i++) {
		struct xdp_md ctx = { .data_end = (__u32)fr[i].len,
				      .ingress_ifindex = port_if[0] };
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = fr[i].b,
			.data_size_in = (__u32)fr[i].len,
			.data_out = out,
			.data_size_out = sizeof(out),
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
			.repeat = 200000,
		);

		assert_int_equal(bpf_prog_test_run_opts(fd_prog, &opts), 0);
		if (i == 4)     /* timed what it is named for */
			assert_int_equal(opts.retval, XDP_REDIRECT);
		print_message("    vm_tx %-30s %4u ns/frame\n", what[i], opts.duration);
	}
}

/* A VM with rules: unicast IP goes out only on an installed out-flow; a
 * miss is one slow-path record (dir out, the VM's VLAN) and a drop. */

static void test_rules_slow_path(void **state)
{
	struct nrx_rb_got g = { 0 };
	struct ring_buffer *rb = ring_buffer__new(nrx_slow_rb_fd(&F), nrx_rb_collect, &g, NULL);
	struct xvnet_flow v = { .verdict = XVNET_FLOW_DELIVER, .queue = XVNET_QUEUE_RSS,
				.flags = XVNET_FLOW_F_RULE };
	struct xvnet_flow_key k;
	struct nrx_counts b, a;
	struct xvnet_vm slot;
	struct pb_spec s;
	struct frame f;
	__u32 id = 0;
	bool v4;
	char err[64];

	(void)state;
	assert_non_null(rb);
	ring_buffer__consume(rb);
	assert_int_equal(bpf_map_lookup_elem(F.fd_vms, &id, &slot), 0);
	slot.flags |= XVNET_VM_F_HAS_RULES;
	assert_int_equal(bpf_map_update_elem(F.fd_vms, &id, &slot, BPF_ANY), 0);
	/* miss: dropped, one record, no tx_* outcome */
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	nrx_counts(&F, &b);
	expect(0, &f, XDP_DROP, NONE, NONE, "miss of a VM with rules");
	nrx_counts(&F, &a);
	assert_int_equal(a.c[XVNET_CNT_SLOW_PATH] - b.c[XVNET_CNT_SLOW_PATH], 1);
	ring_buffer__consume(rb);
	assert_int_equal(g.n, 1);
	memset(&k, 0, sizeof(k));
	xv_parse_ip("src", "10.0.0.1", k.src, &v4, err, sizeof(err));
	xv_parse_ip("dst", "10.0.0.99", k.dst, &v4, err, sizeof(err));
	k.proto = 17;
	k.sport = htons(1000);
	k.dport = htons(2000);
	k.vlan = 10;                    /* the VM's VLAN, frame untagged */
	k.dir = XVNET_DIR_OUT;
	assert_memory_equal(&g.last.key, &k, sizeof(k));
	assert_int_equal(g.last.vm_id, 0);
	assert_int_equal(g.last.pkt_len, f.len);
	assert_memory_equal(g.last.pkt, f.b, f.len < 128 ? f.len : 128);
	/* the same frame tagged with its VLAN: the same key */
	s = spec(0, MAC_WIRE, 1, 10);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	expect(0, &f, XDP_DROP, NONE, NONE, "tagged miss");
	ring_buffer__consume(rb);
	assert_int_equal(g.n, 2);
	assert_memory_equal(&g.last.key, &k, sizeof(k));
	/* installed out-flow: out of the NIC, no record */
	assert_int_equal(nrx_set_flows_active(&F, true), 0);
	assert_int_equal(nrx_add_flow(&F, &k, &v), 0);
	PASS_UPLINK(0, &f, "on an installed out-flow");
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	build(&s, &f);
	PASS_UPLINK(0, &f, "untagged, on an installed out-flow");
	ring_buffer__consume(rb);
	assert_int_equal(g.n, 2);
	/* a DROP out-flow */
	v.verdict = XVNET_FLOW_DROP;
	assert_int_equal(nrx_add_flow(&F, &k, &v), 0);
	nrx_counts(&F, &b);
	expect(0, &f, XDP_DROP, NONE, NONE, "DROP out-flow");
	nrx_counts(&F, &a);
	assert_int_equal(a.c[XVNET_CNT_FLOW_DROP] - b.c[XVNET_CNT_FLOW_DROP], 1);
	/* to the local VM: also subject to the rules (a miss) */
	s = spec(0, MACV[1], 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.2");
	build(&s, &f);
	expect(0, &f, XDP_DROP, NONE, NONE, "to vm1, miss");
	/* ARP: not the rules' business */
	arp(&f, 0, 1, NULL, "10.0.0.1", "10.0.0.99");
	PASS_FLOOD(0, &f, "ARP from a VM with rules");
	/* spoofing is checked first */
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.2", "10.0.0.99");
	build(&s, &f);
	SPOOF(0, &f, SPOOF_IP, "forged source of a VM with rules");
	/* vm1 has no rules: unaffected */
	s = spec(1, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.2", "10.0.0.99");
	build(&s, &f);
	PASS_UPLINK(1, &f, "VM without rules");
	ring_buffer__consume(rb);
	assert_int_equal(g.n, 3);
	ring_buffer__free(rb);
}

/*
 * Issue 16 item 1, egress: a VM with rules sends a datagram's later
 * fragments only after its first fragment went out on an allowed flow, and
 * nothing behind an IPv6 chain longer than the walk (bpf/frag.h).
 */
static void test_rules_fragments_out(void **state)
{
	struct xvnet_flow v = { .verdict = XVNET_FLOW_DELIVER, .queue = XVNET_QUEUE_RSS,
				.flags = XVNET_FLOW_F_RULE };
	struct xvnet_flow_key k;
	struct nrx_counts b, a;
	struct xvnet_vm slot;
	struct pb_spec s;
	struct frame f;
	__u32 id = 0;
	bool v4;
	char err[64];

	(void)state;
	assert_int_equal(bpf_map_lookup_elem(F.fd_vms, &id, &slot), 0);
	slot.flags |= XVNET_VM_F_HAS_RULES;
	assert_int_equal(bpf_map_update_elem(F.fd_vms, &id, &slot, BPF_ANY), 0);
	assert_int_equal(nrx_set_flows_active(&F, true), 0);
	memset(&k, 0, sizeof(k));
	xv_parse_ip("src", "10.0.0.1", k.src, &v4, err, sizeof(err));
	xv_parse_ip("dst", "10.0.0.99", k.dst, &v4, err, sizeof(err));
	k.proto = 17;
	k.sport = htons(1000);
	k.dport = htons(2000);
	k.vlan = 10;
	k.dir = XVNET_DIR_OUT;
	assert_int_equal(nrx_add_flow(&F, &k, &v), 0);

	/* a later fragment before its first: dropped */
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	s.l4 = PB_L4_NONE;
	s.proto_raw = 17;
	s.ip_frag = 0x0003;
	build(&s, &f);
	nrx_counts(&F, &b);
	expect(0, &f, XDP_DROP, NONE, NONE, "later fragment, no first yet");
	nrx_counts(&F, &a);
	assert_int_equal(a.c[XVNET_CNT_FRAG_NO_FIRST] - b.c[XVNET_CNT_FRAG_NO_FIRST], 1);
	/* the first fragment, judged by its ports: on the allowed flow */
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	s.ip_frag = 0x2000;
	build(&s, &f);
	PASS_UPLINK(0, &f, "first fragment on an allowed out-flow");
	/* now its later fragments follow */
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.99");
	s.l4 = PB_L4_NONE;
	s.proto_raw = 17;
	s.ip_frag = 0x0003;
	build(&s, &f);
	PASS_UPLINK(0, &f, "later fragment after its first");
	/* a first fragment to a port without a flow: slow path, and its later
	 * fragments stay behind */
	s = spec(0, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.1", "10.0.0.98");
	s.ip_frag = 0x2000;
	build(&s, &f);
	nrx_counts(&F, &b);
	expect(0, &f, XDP_DROP, NONE, NONE, "first fragment, no flow");
	s.l4 = PB_L4_NONE;
	s.proto_raw = 17;
	s.ip_frag = 0x0003;
	build(&s, &f);
	expect(0, &f, XDP_DROP, NONE, NONE, "its later fragment");
	nrx_counts(&F, &a);
	assert_int_equal(a.c[XVNET_CNT_SLOW_PATH] - b.c[XVNET_CNT_SLOW_PATH], 1);
	assert_int_equal(a.c[XVNET_CNT_FRAG_NO_FIRST] - b.c[XVNET_CNT_FRAG_NO_FIRST], 1);
	/* IPv6 behind 9 extension headers: anti-spoofing refuses it first
	 * (an ND message could hide there), before the rules' own drop */
	s = spec(0, MAC_WIRE, 0, 0);
	v6(&s, PB_L4_UDP, "fd00::1", "fd00::99", 10);
	s.n_ext = 9;
	for (int i = 0; i < 9; i++)
		s.ext[i].type = 60;
	build(&s, &f);
	SPOOF(0, &f, SPOOF_ND, "9 ext headers from a VM with rules");
}

/* ---- the daemon side ---------------------------------------------------- */

static size_t count_entries(void)
{
	struct xvnet_vm_addr_key k, n;
	size_t c = 0;
	int more = !bpf_map_get_next_key(fd_addrs, NULL, &n);

	while (more) {
		k = n;
		more = !bpf_map_get_next_key(fd_addrs, &k, &n);
		c++;
	}
	return c;
}

static void test_addrs_sync(void **state)
{
	struct xvd d;
	struct vm_conf vm;
	char err[XV_ERR_LEN];
	struct pb_spec s;
	struct frame fa, fb, fc;

	(void)state;
	clear_hash(fd_addrs, sizeof(struct xvnet_vm_addr_key));
	memset(&d, 0, sizeof(d));
	config_init(&d.cfg);
	d.m.vm_addrs = fd_addrs;
	d.m.vm_tx_stats = fd_vmstats;
	d.ncpus = F.ncpus;
	vm_conf_init(&vm);
	assert_int_equal(vm_conf_set(&vm, "name", "vm1", err, sizeof(err)), 0);
	vm.id = 1;
	assert_int_equal(vm_conf_set(&vm, "ip", "10.0.0.2", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&vm, "ip", "10.0.0.3", err, sizeof(err)), 0);
	/* an orphan of a VM that no longer exists goes away */
	addr_set(3, "10.0.0.33", true);
	assert_int_equal(config_add_vm(&d.cfg, &vm), 0);

	s = spec(1, MAC_WIRE, 0, 0);
	v4_udp(&s, "10.0.0.2", "10.0.0.99");
	build(&s, &fa);
	v4_udp(&s, "10.0.0.3", "10.0.0.99");
	build(&s, &fb);
	v4_udp(&s, "10.0.0.4", "10.0.0.99");
	build(&s, &fc);

	assert_int_equal(addrs_sync(&d, &vm, err, sizeof(err)), 0);
	assert_int_equal(count_entries(), 3);   /* two addresses + marker */
	PASS_UPLINK(1, &fa, "synced address A");
	PASS_UPLINK(1, &fb, "synced address B");
	SPOOF(1, &fc, SPOOF_IP, "address C not configured yet");

	/* {A, B} -> {B, C} */
	memcpy(vm.addrs[0], vm.addrs[1], 16);
	vm.n_addrs = 1;
	assert_int_equal(vm_conf_set(&vm, "ip", "10.0.0.4", err, sizeof(err)), 0);
	d.cfg.vms[0] = vm;
	assert_int_equal(addrs_sync(&d, &vm, err, sizeof(err)), 0);
	assert_int_equal(count_entries(), 3);
	SPOOF(1, &fa, SPOOF_IP, "address A removed");
	PASS_UPLINK(1, &fb, "address B kept");
	PASS_UPLINK(1, &fc, "address C added");

	/* a listed link-local is also recorded for its VLAN (ipv6-ll-any
	 * hands it to no other VM), and goes when no VM lists it */
	assert_int_equal(vm_conf_set(&vm, "ip", "fe80::5", err, sizeof(err)), 0);
	d.cfg.vms[0] = vm;
	assert_int_equal(addrs_sync(&d, &vm, err, sizeof(err)), 0);
	assert_int_equal(count_entries(), 5);
	{
		struct xvnet_vm_addr_key k = { .vm_id = XVNET_ADDR_VLAN_ID(0) };
		__u32 fl = 0;

		pb_v6(k.addr, "fe80::5");
		assert_int_equal(bpf_map_lookup_elem(fd_addrs, &k, &fl), 0);
		assert_int_equal(fl, XVNET_ADDR_F_LISTED);
	}
	vm.n_addrs--;
	assert_int_equal(addrs_sync(&d, &vm, err, sizeof(err)), 0);
	assert_int_equal(count_entries(), 3);
	d.cfg.vms[0] = vm;
	assert_int_equal(vm_conf_set(&vm, "ip", "fe80::5", err, sizeof(err)), 0);
	assert_int_equal(addrs_sync(&d, &vm, err, sizeof(err)), 0);
	d.cfg.vms[0] = vm;
	assert_int_equal(count_entries(), 5);

	addrs_remove_vm(&d, 1);
	assert_int_equal(count_entries(), 0);
	{
		struct xvnet_vm_tx_stats st;

		vm_tx_stats(1, &st);
		for (int i = 0; i < XVNET_VM_CNT_MAX; i++)
			assert_int_equal(st.c[i], 0);   /* zeroed for the next VM */
	}
	config_free(&d.cfg);
}

static void test_config_ip(void **state)
{
	static const struct { const char *line, *err; } bad[] = {
		{ "vm a mac 02:00:00:00:00:01 port tap ip 0.0.0.0",
		  "t.conf:2: ip: '0.0.0.0' is the unspecified address" },
		{ "vm a mac 02:00:00:00:00:01 port tap ip ::",
		  "t.conf:2: ip: '::' is the unspecified address" },
		{ "vm a mac 02:00:00:00:00:01 port tap ip 224.0.0.5",
		  "t.conf:2: ip: '224.0.0.5' is a multicast address" },
		{ "vm a mac 02:00:00:00:00:01 port tap ip ff02::1",
		  "t.conf:2: ip: 'ff02::1' is a multicast address" },
		{ "vm a mac 02:00:00:00:00:01 port tap ip 255.255.255.255",
		  "t.conf:2: ip: '255.255.255.255' is the broadcast address" },
		{ "vm a mac 02:00:00:00:00:01 port tap ip 10.0.0.1 ip 10.0.0.1",
		  "t.conf:2: ip: '10.0.0.1' given twice" },
		{ "vm a mac 02:00:00:00:00:01 port tap ip 10.0.0.300",
		  "t.conf:2: ip: '10.0.0.300' is not an IPv4 or IPv6 address" },
		{ "vm a mac 02:00:00:00:00:01 port tap ip",
		  "t.conf:2: ip: needs a value" },
	};
	struct xvd_config cfg;
	char err[XV_ERR_LEN], text[512], *out = NULL;
	size_t outlen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse_config_text("nic eth9\n"
				    "vm a mac 02:00:00:00:00:01 port tap ip 10.0.0.1"
				    " ip fd00::1 ip fe80::1\n"
				    "vm b mac 02:00:00:00:00:02 port tap vlan 5 ip 10.0.0.1\n",
				    &cfg, err), 0);
	assert_int_equal(cfg.vms[0].n_addrs, 3);
	assert_int_equal(cfg.vms[1].n_addrs, 1);
	f = open_memstream(&out, &outlen);
	assert_int_equal(config_format(&cfg, f), 0);
	fclose(f);
	assert_non_null(strstr(out, " ip 10.0.0.1 ip fd00::1 ip fe80::1\n"));
	config_free(&cfg);
	/* the formatted file parses back to the same addresses */
	assert_int_equal(parse_config_text(out, &cfg, err), 0);
	assert_int_equal(cfg.vms[0].n_addrs, 3);
	config_free(&cfg);
	free(out);

	/* 16 addresses fit on a line, the 17th does not */
	{
		int n = snprintf(text, sizeof(text), "nic eth9\nvm a mac 02:00:00:00:00:01"
				 " port tap");
		for (int i = 1; i <= 17; i++)
			n += snprintf(text + n, sizeof(text) - (size_t)n, " ip 10.0.1.%d", i);
		assert_int_equal(parse_config_text(text, &cfg, err), -1);
		assert_string_equal(err, "t.conf:2: ip: more than 16 addresses");
		*strrchr(text, ' ') = '\0';
		*strrchr(text, ' ') = '\0';
		assert_int_equal(parse_config_text(text, &cfg, err), 0);
		assert_int_equal(cfg.vms[0].n_addrs, 16);
		config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "nic eth9\n%s\n", bad[i].line);
		assert_int_equal(parse_config_text(text, &cfg, err), -1);
		assert_string_equal(err, bad[i].err);
	}
	/* one address, one VM per VLAN */
	assert_int_equal(parse_config_text("nic eth9\n"
				    "vm a mac 02:00:00:00:00:01 port tap ip 10.0.0.1\n"
				    "vm b mac 02:00:00:00:00:02 port tap ip 10.0.0.1\n",
				    &cfg, err), -1);
	assert_string_equal(err, "t.conf:3: ip: '10.0.0.1' already used on vlan 0"
			    " by vm 'a'");
}

static void test_request_ip(void **state)
{
	struct xvd_config cfg;
	struct vm_conf vm;
	struct json_object *args;
	char err[XV_ERR_LEN];

	(void)state;
	config_init(&cfg);
	args = json_tokener_parse("{\"name\":\"a\",\"mac\":\"02:00:00:00:00:01\","
				  "\"port\":\"tap\",\"ip\":[\"10.0.0.5\",\"fd00::5\"]}");
	assert_non_null(args);
	assert_int_equal(vm_request_parse(&cfg, args, &vm, err, sizeof(err)), 0);
	assert_int_equal(vm.n_addrs, 2);
	json_object_put(args);
	args = json_tokener_parse("{\"name\":\"a\",\"mac\":\"02:00:00:00:00:01\","
				  "\"port\":\"tap\",\"ip\":\"10.0.0.5\"}");
	assert_int_equal(vm_request_parse(&cfg, args, &vm, err, sizeof(err)), 0);
	assert_int_equal(vm.n_addrs, 1);
	json_object_put(args);
	args = json_tokener_parse("{\"name\":\"a\",\"mac\":\"02:00:00:00:00:01\","
				  "\"port\":\"tap\",\"ip\":[\"10.0.0.5\", 7]}");
	assert_int_equal(vm_request_parse(&cfg, args, &vm, err, sizeof(err)), -1);
	assert_string_equal(err, "ip: must be a list of addresses");
	json_object_put(args);
	args = json_tokener_parse("{\"name\":\"a\",\"mac\":\"02:00:00:00:00:01\","
				  "\"port\":\"tap\",\"ip\":[\"ff02::1\"]}");
	assert_int_equal(vm_request_parse(&cfg, args, &vm, err, sizeof(err)), -1);
	assert_string_equal(err, "ip: 'ff02::1' is a multicast address");
	json_object_put(args);
}

/* allow / no-allow, owner / group: parsed, checked, formatted, and the
 * allowances reach the VM slot vm_tx reads */
static void test_config_allow_owner(void **state)
{
	static const struct { const char *line, *err; } bad[] = {
		{ "vm a mac 02:00:00:00:00:01 port tap no-allow dhcpv6",
		  "t.conf:2: no-allow: 'dhcpv6' is not an allowance (dhcp,ipv6-ll,"
		  "ipv6-ll-any, all)" },
		{ "vm a mac 02:00:00:00:00:01 port tap allow ,",
		  "t.conf:2: allow: needs a list of allowances" },
		{ "vm a mac 02:00:00:00:00:01 port tap owner no-such-user-xgi",
		  "t.conf:2: owner: no user 'no-such-user-xgi' on this host" },
		{ "vm a mac 02:00:00:00:00:01 port tap group no-such-group-xgi",
		  "t.conf:2: group: no group 'no-such-group-xgi' on this host" },
		{ "vm a mac 02:00:00:00:00:01 port tap owner 4294967295",
		  "t.conf:2: owner: '4294967295' out of range 0-4294967294" },
		{ "vm a mac 02:00:00:00:00:01 port tap owner -1",
		  "t.conf:2: owner: no user '-1' on this host" },
		{ "vm a mac 02:00:00:00:00:01 port veth netns n owner root",
		  "t.conf:2: owner: only for tap and vhost-user ports (a VMM attaches"
		  " to a tap or connects to a vhost-user socket; veth and xsk ports"
		  " are handed over otherwise)" },
		{ "vm a mac 02:00:00:00:00:01 port xsk group 0",
		  "t.conf:2: group: only for tap and vhost-user ports (a VMM attaches"
		  " to a tap or connects to a vhost-user socket; veth and xsk ports"
		  " are handed over otherwise)" },
	};
	struct xvd_config cfg;
	struct xvnet_vm slot;
	char err[XV_ERR_LEN], text[512], *out = NULL;
	size_t outlen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse_config_text("nic eth9\n"
				    "vm a mac 02:00:00:00:00:01 port tap\n"
				    "vm b mac 02:00:00:00:00:02 port tap no-allow dhcp,ipv6-ll-any"
				    " owner root group 0\n"
				    "vm c mac 02:00:00:00:00:03 port tap no-allow all allow ipv6-ll"
				    " owner 4242\n",
				    &cfg, err), 0);
	/* on by default */
	assert_int_equal(cfg.vms[0].allow, XVNET_VM_ALLOW_ALL);
	assert_false(cfg.vms[0].has_owner || cfg.vms[0].has_group);
	assert_int_equal(cfg.vms[1].allow, XVNET_VM_F_ALLOW_IPV6_LL);
	assert_true(cfg.vms[1].has_owner && cfg.vms[1].has_group);
	assert_int_equal(cfg.vms[1].owner_uid, 0);
	assert_int_equal(cfg.vms[1].group_gid, 0);
	assert_int_equal(cfg.vms[2].allow, XVNET_VM_F_ALLOW_IPV6_LL);
	assert_int_equal(cfg.vms[2].owner_uid, 4242);  /* a UID with no name */
	vm_slot_build(&cfg.vms[0], 7, NULL, &slot);
	assert_int_equal(slot.flags & XVNET_VM_ALLOW_ALL, XVNET_VM_ALLOW_ALL);
	vm_slot_build(&cfg.vms[1], 7, NULL, &slot);
	assert_int_equal(slot.flags & XVNET_VM_ALLOW_ALL, XVNET_VM_F_ALLOW_IPV6_LL);
	assert_true(slot.flags & XVNET_VM_F_ACTIVE);
	f = open_memstream(&out, &outlen);
	assert_int_equal(config_format(&cfg, f), 0);
	fclose(f);
	/* only what is off is written: an allowance added later is on */
	assert_null(strstr(out, "vm a id 0 mac 02:00:00:00:00:01 vlan 0 port tap ifname"
			   " xv-a queues 1 no-allow"));
	assert_non_null(strstr(out, " owner root group 0 no-allow dhcp,ipv6-ll-any\n"));
	assert_non_null(strstr(out, " owner 4242 no-allow dhcp,ipv6-ll-any\n"));
	config_free(&cfg);
	assert_int_equal(parse_config_text(out, &cfg, err), 0);
	assert_int_equal(cfg.vms[0].allow, XVNET_VM_ALLOW_ALL);
	assert_int_equal(cfg.vms[1].allow, XVNET_VM_F_ALLOW_IPV6_LL);
	assert_int_equal(cfg.vms[2].owner_uid, 4242);
	config_free(&cfg);
	free(out);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "nic eth9\n%s\n", bad[i].line);
		assert_int_equal(parse_config_text(text, &cfg, err), -1);
		assert_string_equal(err, bad[i].err);
	}
	/* vm.add: the same keys */
	{
		struct json_object *args = json_tokener_parse(
			"{\"name\":\"a\",\"mac\":\"02:00:00:00:00:01\",\"port\":\"tap\","
			"\"no-allow\":\"ipv6-ll-any\",\"owner\":0,\"group\":\"root\"}");
		struct vm_conf vm;

		config_init(&cfg);
		assert_int_equal(vm_request_parse(&cfg, args, &vm, err, sizeof(err)), 0);
		assert_int_equal(vm.allow, XVNET_VM_F_ALLOW_DHCP | XVNET_VM_F_ALLOW_IPV6_LL);
		assert_true(vm.has_owner && vm.owner_uid == 0);
		assert_true(vm.has_group && vm.group_gid == 0);
		json_object_put(args);
	}
}

static const struct CMUnitTest vm_tx_tests[] = {
	cmocka_unit_test_setup(test_legit_traffic, test_setup),
	cmocka_unit_test_setup(test_too_big_for_xdp, test_setup),
	cmocka_unit_test_setup(test_to_fallback_vm, test_setup),
	cmocka_unit_test_setup(test_forged_mac, test_setup),
	cmocka_unit_test_setup(test_wrong_vlan, test_setup),
	cmocka_unit_test_setup(test_forged_ip, test_setup),
	cmocka_unit_test_setup(test_forged_ip_encapsulated, test_setup),
	cmocka_unit_test_setup(test_no_address_vm, test_setup),
	cmocka_unit_test_setup(test_arp, test_setup),
	cmocka_unit_test_setup(test_nd, test_setup),
	cmocka_unit_test_setup(test_allow_dhcp, test_setup),
	cmocka_unit_test_setup(test_allow_ipv6_ll, test_setup),
	cmocka_unit_test_setup(test_allow_ipv6_ll_any, test_setup),
	cmocka_unit_test_setup(test_ll_any_first_come, test_setup),
	cmocka_unit_test_setup(test_address_removed, test_setup),
	cmocka_unit_test_setup(test_fuzz_agree, test_setup),
	cmocka_unit_test_setup(test_cost, test_setup),
	cmocka_unit_test_setup(test_rules_slow_path, test_setup),
	cmocka_unit_test_setup(test_rules_fragments_out, test_setup),
	cmocka_unit_test_setup(test_addrs_sync, test_setup),
	cmocka_unit_test(test_config_ip),
	cmocka_unit_test(test_request_ip),
	cmocka_unit_test(test_config_allow_owner),
};

UNIT_GROUP(group_vm_tx, "vm_tx", vm_tx_tests, group_setup, group_teardown);
