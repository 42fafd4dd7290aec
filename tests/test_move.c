// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm move's switch in the data path (loader/kern/move.c, docs/dnis.md): the VM
 * slot's port_sel picks the DEVMAP bank and the port kind in one word, and
 * each delivered frame is counted under the kind it went to
 * (xvnet_port_stats).  Run through nic_rx with BPF_PROG_TEST_RUN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "tests/unit.h"
#include "tests/nicrx_fixture.h"
#include "tests/pktbuild.h"
#include "nic_rx.skel.h"

#define VM_ID 3

static struct nrx F;
static bool opened;
static __u32 port_a, port_b;

static int group_setup(void **state)
{
	(void)state;
	if (nrx_open(&F, false))
		return -1;
	opened = true;
	port_a = nrx_veth("mva");
	port_b = nrx_veth("mvb");
	return port_a && port_b ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	if (opened)
		nrx_close(&F);
	return 0;
}

static int fd_ports_b(void) { return bpf_map__fd(F.skel->maps.xvnet_ports_b); }

static __u64 kind_packets(__u8 kind)
{
	__u32 idx = VM_ID * XVNET_PORT_KINDS + kind;
	struct xvnet_queue_stats *pc = calloc((size_t)F.ncpus, sizeof(*pc));
	__u64 n = 0;

	assert_non_null(pc);
	if (!bpf_map_lookup_elem(bpf_map__fd(F.skel->maps.xvnet_port_stats), &idx, pc))
		for (int c = 0; c < F.ncpus; c++)
			n += pc[c].packets;
	free(pc);
	return n;
}

static const __u8 MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x33 };

static __u32 send_one(void)
{
	struct pb_spec s;
	struct pb_layout lay;
	struct nrx_result r;
	uint8_t buf[PB_MAX_FRAME];
	size_t len;

	memset(&s, 0, sizeof(s));
	memcpy(s.dst, MAC, 6);
	pb_mac(s.src, "02:00:00:00:00:01");
	s.l3 = PB_L3_IPV4;
	pb_v4(s.v4_src, "10.0.0.1");
	pb_v4(s.v4_dst, "10.0.0.33");
	s.l4 = PB_L4_UDP;
	s.sport = 1000;
	s.dport = 2000;
	s.payload_len = 18;
	len = pb_build(&s, buf, sizeof(buf), &lay);
	assert_true(len > 0);
	assert_int_equal(nrx_run(&F, buf, (__u32)len, &r), 0);
	return r.verdict;
}

static void put_slot(__u8 kind, __u32 port_sel)
{
	struct xvnet_vm vm;

	memset(&vm, 0, sizeof(vm));
	vm.flags = XVNET_VM_F_ACTIVE;
	vm.ifindex = port_a;
	memcpy(vm.mac, MAC, 6);
	vm.port_kind = kind;
	vm.n_queues = 1;
	vm.hash_fields = XVNET_RSS_FIELDS_DEFAULT;
	vm.port_sel = port_sel;
	assert_int_equal(nrx_add_vm(&F, VM_ID, &vm, 0), 0);
}

/*
 * The states of a move from tap (bank A) to veth (bank B) and back to its
 * plain form: each frame goes where port_sel says, counted under that kind;
 * an empty bank named by port_sel drops (so the bank really is read).
 */
static void test_port_sel_banks(void **state)
{
	__u32 id = VM_ID;
	__u64 tap0, veth0;

	(void)state;
	assert_int_equal(nrx_reset(&F, VM_ID), 0);
	bpf_map_delete_elem(fd_ports_b(), &id);
	put_slot(XVNET_PORT_TAP, 0);
	assert_int_equal(bpf_map_update_elem(F.fd_ports, &id, &port_a, BPF_ANY), 0);
	assert_int_equal(nrx_map_mac(&F, MAC, 0, VM_ID), 0);
	tap0 = kind_packets(XVNET_PORT_TAP);
	veth0 = kind_packets(XVNET_PORT_VETH);

	/* plain slot: port_kind, bank A */
	assert_int_equal(send_one(), XDP_REDIRECT);
	assert_int_equal(kind_packets(XVNET_PORT_TAP), tap0 + 1);

	/* switched to bank B before it holds a device: dropped, not sent to A */
	put_slot(XVNET_PORT_TAP, XVNET_PORT_SEL(1, XVNET_PORT_VETH));
	assert_int_equal(send_one(), XDP_DROP);
	assert_int_equal(kind_packets(XVNET_PORT_VETH), veth0);

	/* prepared bank B, switched: to B, counted as veth */
	assert_int_equal(bpf_map_update_elem(fd_ports_b(), &id, &port_b, BPF_ANY), 0);
	assert_int_equal(send_one(), XDP_REDIRECT);
	assert_int_equal(kind_packets(XVNET_PORT_VETH), veth0 + 1);
	assert_int_equal(kind_packets(XVNET_PORT_TAP), tap0 + 1);

	/* back to bank A explicitly (port_sel names bank A, kind tap) */
	put_slot(XVNET_PORT_VETH, XVNET_PORT_SEL(0, XVNET_PORT_TAP));
	assert_int_equal(send_one(), XDP_REDIRECT);
	assert_int_equal(kind_packets(XVNET_PORT_TAP), tap0 + 2);

	/* normalized: port_sel 0, port_kind veth, bank A holds the veth */
	assert_int_equal(bpf_map_update_elem(F.fd_ports, &id, &port_b, BPF_ANY), 0);
	put_slot(XVNET_PORT_VETH, 0);
	bpf_map_delete_elem(fd_ports_b(), &id);
	assert_int_equal(send_one(), XDP_REDIRECT);
	assert_int_equal(kind_packets(XVNET_PORT_VETH), veth0 + 2);
}

/* port_sel naming xsk on a VM without sockets: the xsk path (dropped as
 * not ready), never the DEVMAP of the old kind. */
static void test_port_sel_kind_xsk(void **state)
{
	__u32 id = VM_ID;
	__u64 tap0 = kind_packets(XVNET_PORT_TAP);

	(void)state;
	assert_int_equal(nrx_reset(&F, VM_ID), 0);
	put_slot(XVNET_PORT_TAP, XVNET_PORT_SEL(0, XVNET_PORT_XSK));
	assert_int_equal(bpf_map_update_elem(F.fd_ports, &id, &port_a, BPF_ANY), 0);
	assert_int_equal(nrx_map_mac(&F, MAC, 0, VM_ID), 0);
	assert_int_equal(send_one(), XDP_DROP);
	assert_int_equal(kind_packets(XVNET_PORT_TAP), tap0);
	assert_int_equal(kind_packets(XVNET_PORT_XSK), 0);
}

/*
 * The fallback (port kind none): the frame is passed to the host stack
 * unchanged, counted under kind none and as `fallback`, not delivered, and
 * the skb-path and spread flags of the port a move left behind do not
 * apply; a move from it to a veth in bank B redirects again.
 */
static void test_port_sel_fallback(void **state)
{
	struct nrx_counts c0, c1;
	__u32 id = VM_ID;
	__u64 none0 = kind_packets(XVNET_PORT_NONE), veth0 = kind_packets(XVNET_PORT_VETH);
	struct xvnet_vm vm;

	(void)state;
	assert_int_equal(nrx_reset(&F, VM_ID), 0);
	bpf_map_delete_elem(fd_ports_b(), &id);
	assert_int_equal(bpf_map_update_elem(F.fd_ports, &id, &port_a, BPF_ANY), 0);
	/* a multi-queue veth with queue-cpus switched to the fallback */
	put_slot(XVNET_PORT_VETH, XVNET_PORT_SEL(1, XVNET_PORT_NONE));
	assert_int_equal(bpf_map_lookup_elem(F.fd_vms, &id, &vm), 0);
	vm.flags |= XVNET_VM_F_SKB_PATH | XVNET_VM_F_CPU_SPREAD;
	vm.n_queues = 2;
	assert_int_equal(bpf_map_update_elem(F.fd_vms, &id, &vm, BPF_ANY), 0);
	assert_int_equal(nrx_map_mac(&F, MAC, 0, VM_ID), 0);
	nrx_counts(&F, &c0);
	assert_int_equal(send_one(), XDP_PASS);
	nrx_counts(&F, &c1);
	assert_int_equal(kind_packets(XVNET_PORT_NONE), none0 + 1);
	assert_int_equal(kind_packets(XVNET_PORT_VETH), veth0);
	assert_int_equal(c1.c[XVNET_CNT_FALLBACK] - c0.c[XVNET_CNT_FALLBACK], 1);
	assert_int_equal(c1.c[XVNET_CNT_DELIVERED] - c0.c[XVNET_CNT_DELIVERED], 0);
	assert_int_equal(c1.c[XVNET_CNT_SKB_PATH] - c0.c[XVNET_CNT_SKB_PATH], 0);
	assert_int_equal(c1.c[XVNET_CNT_CPU_SPREAD] - c0.c[XVNET_CNT_CPU_SPREAD], 0);

	/* normalized on the fallback: port_sel 0, port_kind none, no device */
	bpf_map_delete_elem(F.fd_ports, &id);
	put_slot(XVNET_PORT_NONE, 0);
	assert_int_equal(send_one(), XDP_PASS);
	assert_int_equal(kind_packets(XVNET_PORT_NONE), none0 + 2);

	/* moving back: bank B holds the veth, port_sel names it */
	assert_int_equal(bpf_map_update_elem(fd_ports_b(), &id, &port_b, BPF_ANY), 0);
	put_slot(XVNET_PORT_NONE, XVNET_PORT_SEL(1, XVNET_PORT_VETH));
	assert_int_equal(send_one(), XDP_REDIRECT);
	assert_int_equal(kind_packets(XVNET_PORT_VETH), veth0 + 1);
	assert_int_equal(kind_packets(XVNET_PORT_NONE), none0 + 2);
}

static const struct CMUnitTest move_tests[] = {
	cmocka_unit_test(test_port_sel_banks),
	cmocka_unit_test(test_port_sel_kind_xsk),
	cmocka_unit_test(test_port_sel_fallback),
};

UNIT_GROUP(group_move, "move", move_tests, group_setup, group_teardown);
