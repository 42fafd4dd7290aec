// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnetd's user-space logic: value parsers, the config file (good file,
 * every kind of error with its line number), whole validation of vm.add /
 * flow.add requests, the atomic rewrite, and the VM slot a VM gets.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "tests/unit.h"
#include "tests/config_text.h"
#include "lib/parse.h"
#include "bpf/toeplitz.h"
#include "loader/conf/config.h"
#include "loader/conf/rss.h"
#include "loader/api/rss.h"
#include "loader/conf/rules.h"
#include "loader/api/flow.h"
#include "loader/api/request.h"
#include "loader/api/vm.h"
#include "loader/kern/commit.h"
#include "loader/kern/addrs.h"
#include "loader/kern/datapath.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/tables.h"

static const char good_conf[] =
	"# xvnetd.conf\n"
	"nic veth-wire0\n"
	"socket-group xvnet   # trailing comment\n"
	"flow-max 1024\n"
	"\n"
	"vm vm1 mac 02:00:00:00:00:01 vlan 10 port veth netns vmns1 queues 1\n"
	"vm vm2 mac 02:00:00:00:00:02 port tap ifname tapvm2 queues 2 keep-vlan\n"
	"vm vm0 id 7 mac 02:00:00:00:00:03 port tap\n"
	"vm vx id 9 mac 02:00:00:00:00:04 port xsk queues 4 xsk-rx-size 2048"
	" xsk-need-wakeup off xsk-busy-poll 50 xsk-frame-size 2048\n"
	"flow vlan 10 proto udp src 10.0.0.1 sport 1000 dst 10.0.0.2 dport 2000"
	" action deliver vm vm1 queue 0\n"
	"flow proto tcp src 2001:db8::1 dst 2001:db8::2 dport 80 action drop\n"
	"flow proto icmp src 10.0.0.1 dst 10.0.0.2 action deliver vm vm2\n";

static void test_parse_values(void **state)
{
	char err[XV_ERR_LEN], name[32];
	uint8_t mac[6], a[16], proto;
	uint16_t v;
	bool v4;

	(void)state;
	assert_int_equal(xv_parse_mac("mac", "02:00:00:aB:cd:01", mac, err,
				      sizeof(err)), 0);
	assert_int_equal(mac[3], 0xab);
	assert_int_equal(xv_parse_mac("mac", "02:zz", mac, err, sizeof(err)), -1);
	assert_string_equal(err, "mac: '02:zz' is not a MAC address");
	assert_int_equal(xv_parse_mac("mac", "01:00:5e:00:00:01", mac, err,
				      sizeof(err)), -1);
	assert_int_equal(xv_parse_mac("mac", "02:00:00:00:00:01:", mac, err,
				      sizeof(err)), -1);
	assert_int_equal(xv_parse_vlan("vlan", "4094", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 4094);
	assert_int_equal(xv_parse_vlan("vlan", "4095", &v, err, sizeof(err)), -1);
	assert_string_equal(err, "vlan: '4095' out of range 0-4094");
	assert_int_equal(xv_parse_vlan("vlan", "-1", &v, err, sizeof(err)), -1);
	assert_int_equal(xv_parse_vlan("vlan", "10x", &v, err, sizeof(err)), -1);
	assert_int_equal(xv_parse_ip("src", "10.1.2.3", a, &v4, err, sizeof(err)), 0);
	assert_true(v4);
	assert_int_equal(a[10], 0xff);
	assert_int_equal(a[11], 0xff);
	assert_int_equal(a[12], 10);
	assert_int_equal(a[15], 3);
	assert_int_equal(xv_parse_ip("src", "2001:db8::1", a, &v4, err,
				     sizeof(err)), 0);
	assert_false(v4);
	assert_int_equal(xv_parse_ip("src", "10.1.2", a, &v4, err, sizeof(err)), -1);
	assert_int_equal(xv_parse_proto("proto", "icmpv6", &proto, err,
					sizeof(err)), 0);
	assert_int_equal(proto, 58);
	assert_int_equal(xv_parse_proto("proto", "47", &proto, err, sizeof(err)), 0);
	assert_int_equal(proto, 47);
	assert_int_equal(xv_parse_proto("proto", "sctpx", &proto, err,
					sizeof(err)), -1);
	assert_int_equal(xv_parse_queue("queue", "rss", &v, err, sizeof(err)), 0);
	assert_int_equal(v, XVNET_QUEUE_RSS);
	assert_int_equal(xv_parse_queue("queue", "16", &v, err, sizeof(err)), -1);
	assert_int_equal(xv_parse_name("name", "vm-1.a_b", name, sizeof(name),
				       err, sizeof(err)), 0);
	assert_int_equal(xv_parse_name("name", "a/b", name, sizeof(name), err,
				       sizeof(err)), -1);
	assert_int_equal(xv_parse_name("name", "", name, sizeof(name), err,
				       sizeof(err)), -1);
	assert_int_equal(xv_parse_ifname("ifname", "0123456789abcdef", name, err,
					 sizeof(err)), -1);
}

static void test_parse_good(void **state)
{
	struct xvd_config cfg;
	char err[XV_ERR_LEN] = "";
	const struct vm_conf *vm;
	const struct flow_conf *fc;

	(void)state;
	assert_int_equal(parse_config_text(good_conf, &cfg, err), 0);
	assert_string_equal(cfg.nic, "veth-wire0");
	assert_string_equal(cfg.socket_group, "xvnet");
	assert_int_equal(cfg.flow_max, 1024);
	assert_int_equal(cfg.n_vms, 4);
	assert_int_equal(cfg.n_flows, 3);

	vm = config_find_vm(&cfg, "vm1");
	assert_non_null(vm);
	assert_int_equal(vm->id, 0);
	assert_int_equal(vm->vlan, 10);
	assert_int_equal(vm->port_kind, XVNET_PORT_VETH);
	assert_string_equal(vm->ifname, "xv-vm1");
	assert_string_equal(vm->peer_ifname, "eth0");
	assert_string_equal(vm->netns, "vmns1");
	vm = config_find_vm(&cfg, "vm2");
	assert_int_equal(vm->id, 1);
	assert_int_equal(vm->queues, 2);
	assert_true(vm->keep_vlan);
	assert_string_equal(vm->ifname, "tapvm2");
	vm = config_find_vm(&cfg, "vm0");
	assert_int_equal(vm->id, 7);            /* explicit ids are kept */
	vm = config_find_vm(&cfg, "vx");
	assert_int_equal(vm->port_kind, XVNET_PORT_XSK);
	assert_int_equal(vm->queues, 4);
	assert_int_equal(vm->xsk.rx_size, 2048);
	assert_int_equal(vm->xsk.frame_size, 2048);
	assert_int_equal(vm->xsk.busy_poll_us, 50);
	assert_int_equal(vm->xsk.need_wakeup, 2);     /* off */
	assert_int_equal(vm->xsk.tx_size, 0);         /* default */

	fc = &cfg.flows[0];
	assert_int_equal(fc->key.vlan, 10);
	assert_int_equal(fc->key.proto, 17);
	assert_int_equal(fc->key.sport, htons(1000));
	assert_int_equal(fc->key.dport, htons(2000));
	assert_int_equal(fc->key.src[10], 0xff);
	assert_int_equal(fc->verdict, XVNET_FLOW_DELIVER);
	assert_int_equal(fc->queue, 0);
	assert_int_equal(cfg.flows[1].verdict, XVNET_FLOW_DROP);
	assert_int_equal(cfg.flows[2].queue, XVNET_QUEUE_RSS);
	config_free(&cfg);
}

static void test_parse_errors(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "nic a\nvm v mac 02:zz port tap\n",
		  "t.conf:2: mac: '02:zz' is not a MAC address" },
		{ "nic a\n\nvm v mac 02:00:00:00:00:01 vlan 4095 port tap\n",
		  "t.conf:3: vlan: '4095' out of range 0-4094" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port tap queues 17\n",
		  "t.conf:2: queues: '17' out of range 1-16" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port tap\n"
		  "vm v mac 02:00:00:00:00:02 port tap ifname t2\n",
		  "t.conf:3: name: 'v' already exists" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port tap\n"
		  "vm w mac 02:00:00:00:00:01 port tap\n",
		  "t.conf:3: mac: '02:00:00:00:00:01' already used on vlan 0 by vm 'v'" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port xsk xsk-rx-size 100\n",
		  "t.conf:2: xsk-rx-size: '100' is not a power of two" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port xsk xsk-nic-queues 0-1\n"
		  "vm w mac 02:00:00:00:00:02 port xsk xsk-nic-queues 1,3\n",
		  "t.conf:3: xsk-nic-queues: NIC queues shared with xsk vm 'v' (one UMEM"
		  " per NIC queue: give each xsk VM its own xsk-nic-queues)" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port xsk xsk-nic-queues 1-0\n",
		  "t.conf:2: xsk-nic-queues: '1-0': queues are 0-15" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port tap xsk-frames 64\n",
		  "t.conf:2: xsk-*: only for xsk ports" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port xsk xsk-need-wakeup maybe\n",
		  "t.conf:2: xsk-need-wakeup: 'maybe' is not on or off" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port veth\n",
		  "t.conf:2: netns: missing (a veth port's peer goes into a network namespace)" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port tap colour red\n",
		  "t.conf:2: colour: unknown key" },
		/* the NIC named after the VM that uses it: refused all the same */
		{ "vm v mac 02:00:00:00:00:01 port tap ifname a\nnic a\n",
		  "t.conf:1: ifname: 'a' is the NIC" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port tap ifname a\n",
		  "t.conf:2: ifname: 'a' is the NIC" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port\n",
		  "t.conf:2: port: needs a value" },
		{ "nic a\nfrobnicate 1\n",
		  "t.conf:2: 'frobnicate': unknown statement (nic, socket-group,"
		  " flow-max, malformed, vm, flow, flows-file, flow-idle-timeout, slow-path-rate,"
		  " rule)" },
		{ "nic a\nflows-file a/b\n",
		  "t.conf:2: flows-file: 'a/b' is not a file name beside this file" },
		{ "nic a\nflows-file\n", "t.conf:2: flows-file: takes exactly one file name" },
		{ "nic a\nflow-max 0\n", "t.conf:2: flow-max: '0' out of range 1-67108864" },
		{ "vm v mac 02:00:00:00:00:01 port tap\n",
		  "t.conf:1: nic: missing (add a 'nic IFNAME' line)" },
		{ "nic a\nflow proto udp src 10.0.0.1 dst 10.0.0.2 action deliver vm nope\n",
		  "t.conf:2: vm: 'nope' unknown" },
		{ "nic a\nvm v mac 02:00:00:00:00:01 port tap\n"
		  "flow proto udp src 10.0.0.1 dst 10.0.0.2 action deliver vm v queue 1\n",
		  "t.conf:3: queue: '1' not below the 1 queues of vm 'v'" },
		{ "nic a\nflow proto icmp src 10.0.0.1 sport 5 dst 10.0.0.2 action drop\n",
		  "t.conf:2: sport: only tcp and udp flows have ports" },
		{ "nic a\nflow proto udp src 10.0.0.1 dst 2001:db8::1 action drop\n",
		  "t.conf:2: dst: address family differs from src" },
		{ "nic a\nflow proto udp src 10.0.0.1 dst 10.0.0.2 action drop\n"
		  "flow proto udp src 10.0.0.1 dst 10.0.0.2 action pass\n",
		  "t.conf:3: flow: the same match is configured twice" },
		{ "nic a\nflow proto udp src 10.0.0.1 dst 10.0.0.2\n",
		  "t.conf:2: action: missing (deliver, drop or pass)" },
		{ "nic a\nvm averyveryverylongname mac 02:00:00:00:00:01 port tap\n",
		  "t.conf:2: ifname: default 'xv-averyveryverylongname' is longer"
		  " than 15 characters, give one" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xvd_config cfg;
		char err[XV_ERR_LEN] = "";

		assert_int_equal(parse_config_text(cases[i].text, &cfg, err), -1);
		assert_string_equal(err, cases[i].want);
		assert_int_equal(cfg.n_vms, 0);     /* freed on error */
	}
}

/* vm.add arguments as xvnetctl sends them */
static int vm_req(const struct xvd_config *cfg, const char *json,
		  struct vm_conf *vm, char *err)
{
	struct json_object *args = json_tokener_parse(json);
	int r;

	assert_non_null(args);
	r = vm_request_parse(cfg, args, vm, err, XV_ERR_LEN);
	json_object_put(args);
	return r;
}

static void test_request_validation(void **state)
{
	struct xvd_config cfg;
	struct vm_conf vm;
	struct flow_conf fc;
	struct json_object *args;
	char err[XV_ERR_LEN] = "";

	(void)state;
	assert_int_equal(parse_config_text(good_conf, &cfg, err), 0);

	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:00:00:00:00:09\","
				"\"vlan\":20,\"port\":\"tap\",\"queues\":4,"
				"\"keep-vlan\":true}", &vm, err), 0);
	assert_int_equal(vm.id, 2);             /* lowest free slot */
	assert_int_equal(vm.queues, 4);
	assert_true(vm.keep_vlan);
	assert_string_equal(vm.ifname, "xv-vm3");

	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:zz\","
				"\"port\":\"tap\"}", &vm, err), -1);
	assert_string_equal(err, "mac: '02:zz' is not a MAC address");
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:00:00:00:00:09\","
				"\"vlan\":4095,\"port\":\"tap\"}", &vm, err), -1);
	assert_string_equal(err, "vlan: '4095' out of range 0-4094");
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:00:00:00:00:09\","
				"\"queues\":17,\"port\":\"tap\"}", &vm, err), -1);
	assert_string_equal(err, "queues: '17' out of range 1-16");
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm1\",\"mac\":\"02:00:00:00:00:09\","
				"\"port\":\"tap\",\"ifname\":\"t9\"}", &vm, err), -1);
	assert_string_equal(err, "name: 'vm1' already exists");
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:00:00:00:00:01\","
				"\"vlan\":10,\"port\":\"tap\"}", &vm, err), -1);
	assert_string_equal(err, "mac: '02:00:00:00:00:01' already used on vlan 10"
			    " by vm 'vm1'");
	/* same MAC on another VLAN is another (MAC, VLAN): allowed */
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:00:00:00:00:01\","
				"\"vlan\":11,\"port\":\"tap\"}", &vm, err), 0);
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:00:00:00:00:09\","
				"\"port\":\"tap\",\"ifname\":\"tapvm2\"}", &vm, err), -1);
	assert_string_equal(err, "ifname: 'tapvm2' already used by vm 'vm2'");
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:00:00:00:00:09\","
				"\"port\":\"tap\",\"owned\":true}", &vm, err), -1);
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":[1],"
				"\"port\":\"tap\"}", &vm, err), -1);
	assert_string_equal(err, "mac: must be a string, number or boolean");
	assert_int_equal(vm_req(&cfg, "{\"name\":\"vm3\",\"mac\":\"02:00:00:00:00:09\","
				"\"port\":\"tap\",\"ifname\":\"veth-wire0\"}", &vm, err), -1);
	assert_string_equal(err, "ifname: 'veth-wire0' is the NIC");

	args = json_tokener_parse("{\"proto\":\"udp\",\"src\":\"10.0.0.1\","
				  "\"sport\":1000,\"dst\":\"10.0.0.2\",\"dport\":2000,"
				  "\"vlan\":10,\"action\":\"pass\"}");
	assert_int_equal(flow_request_parse(&cfg, args, true, &fc, err,
					    sizeof(err)), -1);
	assert_string_equal(err, "flow: already configured (flow del first)");
	/* flow del: the same match, action ignored */
	assert_int_equal(flow_request_parse(&cfg, args, false, &fc, err,
					    sizeof(err)), 0);
	assert_non_null(config_find_flow(&cfg, &fc.key));
	json_object_put(args);
	args = json_tokener_parse("{\"proto\":\"udp\",\"src\":\"10.0.0.1\","
				  "\"dst\":\"10.0.0.3\",\"action\":\"deliver\","
				  "\"vm\":\"vm2\",\"queue\":2}");
	assert_int_equal(flow_request_parse(&cfg, args, true, &fc, err,
					    sizeof(err)), -1);
	assert_string_equal(err, "queue: '2' not below the 2 queues of vm 'vm2'");
	json_object_put(args);
	config_free(&cfg);
}

/*
 * Issue 16 items 6/7: what the config file cannot carry is refused at the
 * request ('#' starts a comment, whitespace splits tokens, control
 * characters end lines), and every accepted request round-trips: format the
 * config, parse it back, format again: the same text, the same VM.
 */
static void roundtrip_vm(const struct xvd_config *base, const char *json)
{
	char err[XV_ERR_LEN] = "", *t1 = NULL, *t2 = NULL;
	struct xvd_config a, b;
	struct vm_conf vm;
	size_t l1 = 0, l2 = 0;
	FILE *f;

	if (vm_req(base, json, &vm, err))
		fail_msg("refused: %s: %s", json, err);
	assert_int_equal(config_copy(&a, base), 0);
	assert_int_equal(config_add_vm(&a, &vm), 0);
	f = open_memstream(&t1, &l1);
	config_format(&a, f);
	fclose(f);
	f = fmemopen(t1, l1, "r");
	if (config_parse_stream(f, "rt", &b, err, sizeof(err)))
		fail_msg("%s: the saved config does not load: %s\n%s", json, err, t1);
	fclose(f);
	f = open_memstream(&t2, &l2);
	config_format(&b, f);
	fclose(f);
	if (strcmp(t1, t2))
		fail_msg("%s: not the same after a round trip:\n%s---\n%s", json, t1, t2);
	{
		struct vm_conf *got = config_find_vm(&b, vm.name);

		assert_non_null(got);
		got->line = vm.line;
		if (memcmp(got, &vm, sizeof(vm)))
			fail_msg("%s: the VM read back differs", json);
	}
	free(t1);
	free(t2);
	config_free(&a);
	config_free(&b);
}

static void test_request_roundtrip(void **state)
{
	static const char *const good[] = {
		"{\"name\":\"r1\",\"mac\":\"02:00:00:00:01:01\",\"port\":\"tap\"}",
		"{\"name\":\"r2\",\"mac\":\"02:00:00:00:01:02\",\"port\":\"tap\",\"vlan\":5,"
		"\"ifname\":\"tap.r2-x_y\",\"queues\":3,\"keep-vlan\":true,\"owner\":\"0\","
		"\"group\":\"0\",\"ip\":[\"10.9.0.2\",\"fd09::2\"]}",
		"{\"name\":\"r3\",\"mac\":\"02:00:00:00:01:03\",\"port\":\"veth\","
		"\"netns\":\"ns-r3.a_b\",\"peer-ifname\":\"eth9\",\"ifname\":\"vr3\"}",
		"{\"name\":\"r5\",\"mac\":\"02:00:00:00:01:05\",\"port\":\"tap\","
		"\"no-allow\":\"all\"}",
	};
	static const struct { const char *json, *err; } bad[] = {
		{ "{\"name\":\"b1\",\"mac\":\"02:00:00:00:02:01\",\"port\":\"tap\","
		  "\"ifname\":\"tap#1\"}", "ifname: 'tap#1' is not an interface name" },
		{ "{\"name\":\"b2\",\"mac\":\"02:00:00:00:02:02\",\"port\":\"veth\","
		  "\"netns\":\"n1\",\"peer-ifname\":\"e#0\"}",
		  "peer-ifname: 'e#0' is not an interface name" },
		{ "{\"name\":\"b3\",\"mac\":\"02:00:00:00:02:03\",\"port\":\"veth\","
		  "\"netns\":\"n#1\"}", "netns: 'n#1' is not a network namespace name" },
		{ "{\"name\":\"b4\",\"mac\":\"02:00:00:00:02:04\",\"port\":\"veth\","
		  "\"netns\":\"n 1\"}", "netns: 'n 1' is not a network namespace name" },
		{ "{\"name\":\"b5\",\"mac\":\"02:00:00:00:02:05\",\"port\":\"veth\","
		  "\"netns\":\"n\\u0001\"}", "netns: 'n\x01' is not a network namespace name" },
		{ "{\"name\":\"b6\",\"mac\":\"02:00:00:00:02:06\",\"port\":\"tap\","
		  "\"ifname\":\"t 1\"}", "ifname: 't 1' is not an interface name" },
		{ "{\"name\":\"b7\",\"mac\":\"02:00:00:00:02:07\",\"port\":\"tap\","
		  "\"owner\":\"a#b\"}", "owner: 'a#b' is not a user name or number" },
		{ "{\"name\":\"b#8\",\"mac\":\"02:00:00:00:02:08\",\"port\":\"tap\"}",
		  "name: 'b#8' may only hold letters, digits, '-', '_', '.'" },
		{ "{\"name\":\"b9\",\"mac\":\"02:00:00:00:02:09\",\"port\":\"tap\","
		  "\"ifname\":\"lo\"}", "ifname: 'lo' is the host's loopback" },
	};
	struct xvd_config cfg;
	struct vm_conf vm;
	char err[XV_ERR_LEN] = "";

	(void)state;
	assert_int_equal(parse_config_text(good_conf, &cfg, err), 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		roundtrip_vm(&cfg, good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (vm_req(&cfg, bad[i].json, &vm, err) == 0)
			fail_msg("accepted: %s", bad[i].json);
		if (strcmp(err, bad[i].err))
			fail_msg("%s: got '%s', want '%s'", bad[i].json, err, bad[i].err);
	}
	/* flows and rules: every accepted kind round-trips too */
	{
		static const char *const flows[] = {
			"{\"proto\":\"udp\",\"src\":\"10.1.0.1\",\"dst\":\"10.1.0.2\","
			"\"dport\":53,\"action\":\"drop\"}",
			"{\"proto\":\"tcp\",\"src\":\"fd01::1\",\"dst\":\"fd01::2\",\"sport\":7,"
			"\"vlan\":10,\"action\":\"deliver\",\"vm\":\"vm1\",\"queue\":0}",
			"{\"proto\":\"icmp\",\"src\":\"10.1.0.1\",\"dst\":\"10.1.0.3\","
			"\"action\":\"pass\"}",
		};
		struct xvd_config a, b;
		char *t1 = NULL, *t2 = NULL;
		size_t l1 = 0, l2 = 0;
		FILE *f;

		assert_int_equal(config_copy(&a, &cfg), 0);
		for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
			struct json_object *args = json_tokener_parse(flows[i]);
			struct flow_conf fc;

			if (flow_request_parse(&a, args, true, &fc, err, sizeof(err)))
				fail_msg("flow refused: %s: %s", flows[i], err);
			assert_int_equal(config_add_flow(&a, &fc), 0);
			json_object_put(args);
		}
		{
			char *r1[] = { "vm1", "dir", "in", "proto", "tcp", "dport", "22",
				       "action", "deny" };
			char *r2[] = { "vm1", "dir", "out", "src", "fd00::/8", "action",
				       "allow" };
			struct rule_conf rc;

			assert_int_equal(rule_parse_tokens(&rc, r1, 9, err, sizeof(err)), 0);
			assert_int_equal(config_insert_rule(&a, &rc, 0, err, sizeof(err)), 0);
			assert_int_equal(rule_parse_tokens(&rc, r2, 7, err, sizeof(err)), 0);
			assert_int_equal(config_insert_rule(&a, &rc, 0, err, sizeof(err)), 0);
		}
		f = open_memstream(&t1, &l1);
		config_format(&a, f);
		fclose(f);
		f = fmemopen(t1, l1, "r");
		if (config_parse_stream(f, "rt", &b, err, sizeof(err)))
			fail_msg("flows/rules: the saved config does not load: %s", err);
		fclose(f);
		f = open_memstream(&t2, &l2);
		config_format(&b, f);
		fclose(f);
		assert_string_equal(t1, t2);
		assert_int_equal(b.n_flows, a.n_flows);
		assert_int_equal(b.n_rules, a.n_rules);
		free(t1);
		free(t2);
		config_free(&a);
		config_free(&b);
	}
	config_free(&cfg);
}

/* port vhost-user: an xsk VM with a back-end socket; what it may carry,
 * what is refused, and the round trip through the state file. */
static void test_vhost_port(void **state)
{
	static const char *const good[] = {
		"{\"name\":\"h1\",\"mac\":\"02:00:00:00:03:01\",\"port\":\"vhost-user\"}",
		"{\"name\":\"h2\",\"mac\":\"02:00:00:00:03:02\",\"port\":\"vhost-user\","
		"\"vhost-socket\":\"/run/vm/h2.sock\",\"owner\":\"0\",\"group\":\"0\","
		"\"queues\":4,\"xsk-frames\":8192}",
	};
	static const struct { const char *json, *err; } bad[] = {
		{ "{\"name\":\"b1\",\"mac\":\"02:00:00:00:04:01\",\"port\":\"xsk\","
		  "\"vhost-socket\":\"/run/b1\"}", "vhost-socket: only for vhost-user ports" },
		{ "{\"name\":\"b2\",\"mac\":\"02:00:00:00:04:02\",\"port\":\"vhost-user\","
		  "\"vhost-socket\":\"run/b2\"}", "vhost-socket: 'run/b2' is not an absolute path" },
		{ "{\"name\":\"b3\",\"mac\":\"02:00:00:00:04:03\",\"port\":\"vhost-user\","
		  "\"vhost-socket\":\"/r/a b\"}", "vhost-socket: '/r/a b' is not an absolute path" },
		{ "{\"name\":\"b4\",\"mac\":\"02:00:00:00:04:04\",\"port\":\"vhost-user\","
		  "\"vhost-socket\":\"/" "0123456789012345678901234567890123456789"
		  "0123456789012345678901234567890123456789" "0123456789012345678901234567\"}",
		  "vhost-socket: 109 characters, a unix socket path has at most 107" },
		{ "{\"name\":\"b5\",\"mac\":\"02:00:00:00:04:05\",\"port\":\"xsk\","
		  "\"owner\":\"0\"}", "owner: only for tap and vhost-user ports (a VMM attaches"
		  " to a tap or connects to a vhost-user socket; veth and xsk ports are handed"
		  " over otherwise)" },
		{ "{\"name\":\"b6\",\"mac\":\"02:00:00:00:04:06\",\"port\":\"vhost\"}",
		  "port: 'vhost' is not a port kind (tap, veth, xsk, vhost-user, fallback)" },
	};
	struct xvd_config cfg, two;
	struct vm_conf vm;
	char err[XV_ERR_LEN] = "";

	(void)state;
	assert_int_equal(parse_config_text("nic veth-wire0\n", &cfg, err), 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		roundtrip_vm(&cfg, good[i]);
	assert_int_equal(vm_req(&cfg, good[1], &vm, err), 0);
	assert_true(vm.vhost && vm.port_kind == XVNET_PORT_XSK);
	assert_string_equal(vm_port_name(&vm), "vhost-user");
	assert_string_equal(vm.vhost_socket, "/run/vm/h2.sock");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (vm_req(&cfg, bad[i].json, &vm, err) == 0)
			fail_msg("accepted: %s", bad[i].json);
		if (strcmp(err, bad[i].err))
			fail_msg("%s: got '%s', want '%s'", bad[i].json, err, bad[i].err);
	}
	/* two VMs cannot share a socket (nor NIC queues: each its own) */
	assert_int_equal(parse_config_text(
		"nic veth-wire0\n"
		"vm a mac 02:00:00:00:05:01 port vhost-user vhost-socket /s xsk-nic-queues 0\n"
		"vm b mac 02:00:00:00:05:02 port vhost-user vhost-socket /s xsk-nic-queues 1\n",
		&two, err), -1);
	assert_non_null(strstr(err, "vhost-socket: '/s' already used by vm 'a'"));
	config_free(&cfg);
}

/* port fallback: no port of xvnet's, so no port options; the VM's own RSS
 * settings stay; two such VMs share no name; the state file round trip. */
static void test_fallback_port(void **state)
{
	static const char *const good[] = {
		"{\"name\":\"f1\",\"mac\":\"02:00:00:00:06:01\",\"port\":\"fallback\"}",
		"{\"name\":\"f2\",\"mac\":\"02:00:00:00:06:02\",\"port\":\"fallback\","
		"\"queues\":4,\"vlan\":7}",
	};
	static const struct { const char *json, *err; } bad[] = {
		{ "{\"name\":\"b1\",\"mac\":\"02:00:00:00:07:01\",\"port\":\"fallback\","
		  "\"ifname\":\"x1\"}", "ifname: a VM on the fallback has no port of xvnet's"
		  " (the host stack reaches it)" },
		{ "{\"name\":\"b2\",\"mac\":\"02:00:00:00:07:02\",\"port\":\"fallback\","
		  "\"netns\":\"n\"}", "netns: a VM on the fallback has no port of xvnet's"
		  " (the host stack reaches it)" },
		{ "{\"name\":\"b3\",\"mac\":\"02:00:00:00:07:03\",\"port\":\"fallback\","
		  "\"owner\":\"0\"}", "owner: a VM on the fallback has no port of xvnet's"
		  " (the host stack reaches it)" },
	};
	struct xvd_config cfg, two;
	struct vm_conf vm;
	char err[XV_ERR_LEN] = "";

	(void)state;
	assert_int_equal(parse_config_text("nic veth-wire0\n", &cfg, err), 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		roundtrip_vm(&cfg, good[i]);
	assert_int_equal(vm_req(&cfg, good[1], &vm, err), 0);
	assert_true(vm.fallback && vm.port_kind == XVNET_PORT_NONE);
	assert_string_equal(vm_port_name(&vm), "fallback");
	assert_string_equal(vm.ifname, "");
	assert_int_equal(vm.queues, 4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (vm_req(&cfg, bad[i].json, &vm, err) == 0)
			fail_msg("accepted: %s", bad[i].json);
		if (strcmp(err, bad[i].err))
			fail_msg("%s: got '%s', want '%s'", bad[i].json, err, bad[i].err);
	}
	/* no ifname: two VMs on the fallback do not collide on an empty one */
	assert_int_equal(parse_config_text(
		"nic veth-wire0\n"
		"vm a mac 02:00:00:00:08:01 port fallback\n"
		"vm b mac 02:00:00:00:08:02 port fallback\n", &two, err), 0);
	assert_int_equal((int)two.n_vms, 2);
	config_free(&two);
	config_free(&cfg);
}

static void test_atomic_roundtrip(void **state)
{
	char dir[] = "/tmp/xvnet-unit-XXXXXX", path[64], err[XV_ERR_LEN] = "";
	struct xvd_config a, b;
	struct dirent *de;
	DIR *dh;
	int files = 0;
	FILE *f1, *f2;
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xvnetd.conf", dir);
	assert_int_equal(parse_config_text(good_conf, &a, err), 0);
	a.vms[0].owned = true;
	assert_int_equal(config_save(&a, path, err, sizeof(err)), 0);
	/* overwrite: rename replaces the old file */
	assert_int_equal(config_save(&a, path, err, sizeof(err)), 0);
	assert_int_equal(config_load(path, &b, err, sizeof(err)), 0);

	assert_string_equal(b.nic, a.nic);
	assert_string_equal(b.socket_group, a.socket_group);
	assert_int_equal(b.flow_max, a.flow_max);
	assert_int_equal(b.n_vms, a.n_vms);
	assert_int_equal(b.n_flows, a.n_flows);
	for (size_t i = 0; i < a.n_vms; i++) {
		b.vms[i].line = a.vms[i].line;
		assert_memory_equal(&a.vms[i], &b.vms[i], sizeof(a.vms[i]));
	}
	for (size_t i = 0; i < a.n_flows; i++) {
		assert_memory_equal(&a.flows[i].key, &b.flows[i].key,
				    sizeof(a.flows[i].key));
		assert_int_equal(a.flows[i].verdict, b.flows[i].verdict);
		assert_int_equal(a.flows[i].queue, b.flows[i].queue);
		assert_string_equal(a.flows[i].vm, b.flows[i].vm);
	}
	/* format(parse(format(x))) == format(x) */
	f1 = open_memstream(&t1, &l1);
	f2 = open_memstream(&t2, &l2);
	config_format(&a, f1);
	config_format(&b, f2);
	fclose(f1);
	fclose(f2);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);

	dh = opendir(dir);      /* no temp file left behind */
	while ((de = readdir(dh)))
		if (de->d_name[0] != '.')
			files++;
	closedir(dh);
	assert_int_equal(files, 1);

	/* a directory that does not exist: refused, nothing written */
	assert_int_equal(config_save(&a, "/nonexistent-xvnet/x.conf", err,
				     sizeof(err)), -1);
	unlink(path);
	rmdir(dir);
	config_free(&a);
	config_free(&b);
}

/* A flow's line as fprintf wrote it before the state file's lines were
 * built by hand: the file's format must not change with the code. */
static void flow_line_printf(const struct flow_conf *fc, char *out, size_t len)
{
	char src[46], dst[46], pb[8], sp[16] = "", dp[16] = "", tail[64] = "";

	xv_fmt_ip(fc->key.src, src, sizeof(src));
	xv_fmt_ip(fc->key.dst, dst, sizeof(dst));
	if (fc->has_sport)
		snprintf(sp, sizeof(sp), " sport %u", ntohs(fc->key.sport));
	if (fc->has_dport)
		snprintf(dp, sizeof(dp), " dport %u", ntohs(fc->key.dport));
	if (fc->verdict == XVNET_FLOW_DELIVER && fc->queue == XVNET_QUEUE_RSS)
		snprintf(tail, sizeof(tail), " vm %s queue rss", fc->vm);
	else if (fc->verdict == XVNET_FLOW_DELIVER)
		snprintf(tail, sizeof(tail), " vm %s queue %u", fc->vm, fc->queue);
	snprintf(out, len, "flow vlan %u proto %s src %s%s dst %s%s action %s%s\n",
		 fc->key.vlan, xv_proto_name(fc->key.proto, pb), src, sp, dst, dp,
		 fc->verdict == XVNET_FLOW_DELIVER ? "deliver" :
		 fc->verdict == XVNET_FLOW_DROP ? "drop" : "pass", tail);
}

/* Every flow line the state file gets is the line fprintf wrote, and reads
 * back as the same flow: random flows of both families (mapped and other
 * IPv6 addresses, 0 and 255 octets, ports 0 and 65535, a protocol by
 * number, each verdict and queue kind). */
static void test_state_flow_lines(void **state)
{
	enum { N = 3000 };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47 };
	const char *vms = "nic eth0\nvm a mac 02:00:00:00:00:01 port tap queues 4\n";
	struct flow_conf *fl = calloc(N, sizeof(*fl));
	size_t cap = strlen(vms) + (size_t)N * 256, len = 0;
	char *text = malloc(cap), line[512], want[512], err[XV_ERR_LEN] = "";
	uint64_t r = 0x9e3779b97f4a7c15ull;
	struct xvd_config cfg;

	(void)state;
	assert_non_null(fl);
	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "%s", vms);
	for (int i = 0; i < N; i++) {
		struct flow_conf *f = &fl[i];
		uint8_t *src = f->key.src, *dst = f->key.dst;
		char *t = NULL;
		size_t tl = 0;
		FILE *m;

		r = r * 6364136223846793005ull + 1442695040888963407ull;
		flow_conf_init(f);
		f->key.proto = protos[(r >> 33) % 4];
		f->key.vlan = (uint16_t)(i % 7 == 0 ? 4094 : (r >> 20) % 3 * 10);
		if (i % 3) {            /* IPv4, mapped */
			src[10] = src[11] = dst[10] = dst[11] = 0xff;
			src[12] = (uint8_t)(i % 5 == 0 ? 0 : 255 - i % 250);
			src[13] = (uint8_t)(i >> 8);
			src[14] = (uint8_t)i;
			src[15] = (uint8_t)(r >> 40);
			memcpy(dst + 12, (uint8_t[]){ 10, 0, (uint8_t)(r >> 48), 1 }, 4);
		} else {                /* IPv6: zero runs of every length */
			src[0] = 0x20;
			src[1] = 0x01;
			src[(r >> 24) % 16] = (uint8_t)(r >> 8);
			memcpy(src + 12, &i, sizeof(i));
			if (i % 2)
				dst[15] = 1;        /* ::1 */
			else
				dst[0] = 0xfe, dst[1] = 0x80, dst[9] = (uint8_t)(r >> 56);
			if (f->key.proto == IPPROTO_ICMP)
				f->key.proto = IPPROTO_ICMPV6;
		}
		if (f->key.proto == IPPROTO_TCP || f->key.proto == IPPROTO_UDP) {
			f->has_sport = (r >> 3) & 1;
			f->has_dport = (r >> 4) & 1;
			if (f->has_sport)
				f->key.sport = htons(i % 11 == 0 ? 65535 : (uint16_t)(r >> 17));
			if (f->has_dport)
				f->key.dport = htons(i % 13 == 0 ? 0 : (uint16_t)(r >> 29));
		}
		f->verdict = (uint8_t)(r >> 60) % 3 == 0 ? XVNET_FLOW_DROP :
			     (uint8_t)(r >> 60) % 3 == 1 ? XVNET_FLOW_PASS : XVNET_FLOW_DELIVER;
		if (f->verdict == XVNET_FLOW_DELIVER) {
			snprintf(f->vm, sizeof(f->vm), "a");
			f->queue = (r >> 9) % 5 == 4 ? XVNET_QUEUE_RSS : (uint16_t)((r >> 9) % 5);
		}
		m = open_memstream(&t, &tl);
		assert_non_null(m);
		flow_conf_format(f, m);
		fclose(m);
		flow_line_printf(f, want, sizeof(want));
		assert_string_equal(t, want);
		snprintf(line, sizeof(line), "%s", t);
		free(t);
		assert_true(len + strlen(line) < cap);
		len += (size_t)snprintf(text + len, cap - len, "%s", line);
	}
	if (parse_config_text(text, &cfg, err))
		fail_msg("%s", err);
	assert_int_equal(cfg.n_flows, N);
	for (int i = 0; i < N; i++)
		if (!flow_conf_same(&fl[i], &cfg.flows[i])) {
			flow_line_printf(&cfg.flows[i], line, sizeof(line));
			flow_line_printf(&fl[i], want, sizeof(want));
			fail_msg("flow %d read back as %s, not %s", i, line, want);
		}
	config_free(&cfg);
	free(text);
	free(fl);
}

/* The files of dir, as "name name ..." sorted (the test's own scratch). */
static void dir_files(const char *dir, char *out, size_t len)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
						 used ? " " : "", ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* The state with its flows apart (config_save_state): the flows file is
 * named by the state and loads back; a save with flows unchanged keeps
 * that file (same inode) and writes only the state; a change writes a new
 * one under a new name and removes the old; no flows, no file; a flows
 * file that is missing, or holds more than flow lines, is refused. */
static void test_state_flows_file(void **state)
{
	char dir[] = "/tmp/xvnet-unit-XXXXXX", path[64], fpath[512], files[1024];
	char err[XV_ERR_LEN] = "", first[256];
	struct state_flows sf = { .name = "" };
	struct xvd_config a, b;
	ino_t ino;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xvnetd.state", dir);
	assert_int_equal(parse_config_text(good_conf, &a, err), 0);
	assert_int_equal(a.n_flows, 3);
	/* a stale flows file of an earlier daemon goes with the first save */
	snprintf(fpath, sizeof(fpath), "%s/xvnetd.state.flows.old", dir);
	assert_non_null(f = fopen(fpath, "w"));
	fclose(f);

	assert_int_equal(config_save_state(&a, path, &sf, false, err, sizeof(err)), 0);
	assert_non_null(strstr(sf.name, "xvnetd.state.flows."));
	snprintf(first, sizeof(first), "%s", sf.name);
	dir_files(dir, files, sizeof(files));
	snprintf(fpath, sizeof(fpath), "xvnetd.state %s", sf.name);
	assert_string_equal(files, fpath);
	assert_int_equal(config_load(path, &b, err, sizeof(err)), 0);
	assert_int_equal(b.n_flows, a.n_flows);
	assert_int_equal(b.n_vms, a.n_vms);
	for (size_t i = 0; i < a.n_flows; i++)
		assert_true(flow_conf_same(&a.flows[i], &b.flows[i]));
	config_free(&b);
	/* the state names the file and holds no flow line */
	assert_non_null(f = fopen(path, "r"));
	{
		char line[4096];
		int named = 0;

		while (fgets(line, sizeof(line), f)) {
			assert_false(strncmp(line, "flow ", 5) == 0);
			named += strncmp(line, "flows-file ", 11) == 0;
		}
		assert_int_equal(named, 1);
	}
	fclose(f);

	/* flows unchanged: the same file, untouched */
	snprintf(fpath, sizeof(fpath), "%s/%s", dir, first);
	ino = inode_of(fpath);
	a.vms[0].owned = true;
	assert_int_equal(config_save_state(&a, path, &sf, true, err, sizeof(err)), 0);
	assert_string_equal(sf.name, first);
	assert_int_equal(inode_of(fpath), ino);
	/* a flow changed: a new file, the old one gone */
	a.flows[0].verdict = XVNET_FLOW_PASS;
	assert_int_equal(config_save_state(&a, path, &sf, false, err, sizeof(err)), 0);
	assert_string_not_equal(sf.name, first);
	assert_int_equal(inode_of(fpath), 0);
	dir_files(dir, files, sizeof(files));
	snprintf(fpath, sizeof(fpath), "xvnetd.state %s", sf.name);
	assert_string_equal(files, fpath);
	assert_int_equal(config_load(path, &b, err, sizeof(err)), 0);
	assert_int_equal(b.flows[0].verdict, XVNET_FLOW_PASS);
	config_free(&b);

	/* a flows file with another statement, then one missing: refused,
	 * naming the file and line */
	snprintf(fpath, sizeof(fpath), "%s/%s", dir, sf.name);
	assert_non_null(f = fopen(fpath, "a"));
	fprintf(f, "nic eth9\n");
	fclose(f);
	assert_int_equal(config_load(path, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'nic': only flow lines belong in a flows file"));
	assert_non_null(strstr(err, sf.name));
	unlink(fpath);
	assert_int_equal(config_load(path, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "flows-file: "));
	assert_non_null(strstr(err, "No such file or directory"));

	/* no flows: no flows file, none left behind */
	a.n_flows = 0;
	assert_int_equal(config_save_state(&a, path, &sf, false, err, sizeof(err)), 0);
	assert_string_equal(sf.name, "");
	dir_files(dir, files, sizeof(files));
	assert_string_equal(files, "xvnetd.state");

	unlink(path);
	rmdir(dir);
	config_free(&a);
}

static void test_vm_slot(void **state)
{
	struct vm_conf vm;
	struct xvnet_vm s1, s2;
	char err[XV_ERR_LEN];

	(void)state;
	vm_conf_init(&vm);
	assert_int_equal(vm_conf_set(&vm, "name", "v", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&vm, "mac", "02:00:00:00:00:05", err,
				     sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&vm, "port", "tap", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&vm, "queues", "3", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&vm, "vlan", "7", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_finish(&vm, err, sizeof(err)), 0);
	vm_slot_build(&vm, 42, NULL, &s1);
	/* a multi-queue tap: delivered through tc, to the chosen queue */
	/* ... with the anti-spoofing allowances, on by default */
	assert_int_equal(s1.flags, XVNET_VM_F_ACTIVE | XVNET_VM_F_SKB_PATH |
			 XVNET_VM_ALLOW_ALL);
	assert_int_equal(s1.ifindex, 42);
	assert_int_equal(s1.vlan, 7);
	assert_int_equal(s1.n_queues, 3);
	assert_int_equal(s1.port_kind, XVNET_PORT_TAP);
	assert_int_equal(s1.hash_fields, XVNET_RSS_FIELDS_DEFAULT);
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		assert_int_equal(s1.rss_indir[i], i % 3);
	/* rebuilt over a live slot: the RSS key is kept (restart) */
	vm_slot_build(&vm, 42, &s1, &s2);
	assert_memory_equal(&s1, &s2, sizeof(s1));
	/* queue count changed: key kept, table re-spread */
	vm.queues = 2;
	vm_slot_build(&vm, 42, &s1, &s2);
	assert_memory_equal(s1.rss_key, s2.rss_key, sizeof(s1.rss_key));
	assert_int_equal(s2.rss_indir[3], 1);
	/* the skb path only where the XDP transmit cannot pick the queue */
	vm.queues = 1;
	vm_slot_build(&vm, 42, &s1, &s2);
	assert_int_equal(s2.flags, XVNET_VM_F_ACTIVE | XVNET_VM_ALLOW_ALL);
	vm.queues = 4;
	vm.port_kind = XVNET_PORT_VETH;
	vm_slot_build(&vm, 42, &s1, &s2);
	assert_int_equal(s2.flags, XVNET_VM_F_ACTIVE | XVNET_VM_F_SKB_PATH |
			 XVNET_VM_ALLOW_ALL);
	vm.port_kind = XVNET_PORT_XSK;
	vm_slot_build(&vm, 42, &s1, &s2);
	assert_int_equal(s2.flags, XVNET_VM_F_ACTIVE | XVNET_VM_ALLOW_ALL);
	/* queue-cpus: queue q on entry q mod n, flagged */
	vm.port_kind = XVNET_PORT_TAP;
	assert_int_equal(vm_conf_set(&vm, "queue-cpus", "1,0", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_finish(&vm, err, sizeof(err)), 0);
	vm_slot_build(&vm, 42, &s1, &s2);
	assert_int_equal(s2.flags, XVNET_VM_F_ACTIVE | XVNET_VM_F_SKB_PATH |
				   XVNET_VM_F_CPU_SPREAD | XVNET_VM_ALLOW_ALL);
	for (int q = 0; q < XVNET_MAX_QUEUES; q++)
		assert_int_equal(s2.queue_cpu[q], q % 2 ? 0 : 1);
	assert_int_equal(vm_conf_set(&vm, "queue-cpus", "0-1", err, sizeof(err)), 0);
	assert_int_equal(vm.n_queue_cpus, 2);
	assert_int_equal(vm.queue_cpus[1], 1);
	assert_int_equal(vm_conf_set(&vm, "queue-cpus", "0,,1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a CPU list"));
	assert_int_equal(vm_conf_set(&vm, "queue-cpus", "1-0", err, sizeof(err)), -1);
	assert_int_equal(vm_conf_set(&vm, "queue-cpus", "64", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not exist"));
	vm.queues = 1;
	assert_int_equal(vm_conf_finish(&vm, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2 CPUs for 1 queues"));
	/* an xsk VM's queue-cpus are its consumer's (xsk.get): taken, and the
	 * NIC program does not spread it (a socket takes frames only from
	 * its own NIC queue) */
	vm.port_kind = XVNET_PORT_XSK;
	vm.queues = 4;
	assert_int_equal(vm_conf_finish(&vm, err, sizeof(err)), 0);
	vm_slot_build(&vm, 42, &s1, &s2);
	assert_int_equal(s2.flags, XVNET_VM_F_ACTIVE | XVNET_VM_ALLOW_ALL);
	assert_int_equal(vm.n_queue_cpus, 2);
	/* a vhost-user VM: xvnet-vhost reads no hash from the xsk metadata */
	assert_int_equal(vm_conf_set(&vm, "port", "vhost-user", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_finish(&vm, err, sizeof(err)), 0);
	vm_slot_build(&vm, 42, &s1, &s2);
	assert_int_equal(s2.port_kind, XVNET_PORT_XSK);
	assert_int_equal(s2.flags, XVNET_VM_F_ACTIVE | XVNET_VM_F_NO_RX_HASH | XVNET_VM_ALLOW_ALL);
}

/* ---- virtual RSS: values, config keys, requests, the slot ---------------- */

#define MS_KEY_HEX "6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:" \
		   "ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa"

static void test_rss_values(void **state)
{
	static const uint8_t ms[XVNET_RSS_KEY_SIZE] = XVNET_RSS_MS_KEY;
	uint8_t key[XVNET_RSS_KEY_SIZE], ind[XVNET_RSS_INDIR_SIZE];
	char err[XV_ERR_LEN], buf[XV_RSS_INDIR_STR], plain[81];
	uint16_t f;
	int n[4] = { 0 };

	(void)state;
	assert_int_equal(rss_parse_key("key", MS_KEY_HEX, key, err, sizeof(err)), 0);
	assert_memory_equal(key, ms, sizeof(ms));
	rss_format_key(key, buf);
	assert_string_equal(buf, MS_KEY_HEX);
	for (int i = 0; i < XVNET_RSS_KEY_SIZE; i++)
		sprintf(plain + 2 * i, "%02X", ms[i]);
	memset(key, 0, sizeof(key));
	assert_int_equal(rss_parse_key("key", plain, key, err, sizeof(err)), 0);
	assert_memory_equal(key, ms, sizeof(ms));
	/* refusals name the field; key untouched */
	assert_int_equal(rss_parse_key("key", "6d:5a", key, err, sizeof(err)), -1);
	assert_string_equal(err, "key: '6d:5a' is 2 bytes, must be 40");
	assert_int_equal(rss_parse_key("key", MS_KEY_HEX ":00", key, err, sizeof(err)), -1);
	assert_string_equal(err, "key: '" MS_KEY_HEX ":00' is longer than 40 bytes");
	assert_int_equal(rss_parse_key("key", "6d:5g:56", key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "key: '6d:5g:56' is not hex bytes"));
	assert_int_equal(rss_parse_key("key", "6d:5a:", key, err, sizeof(err)), -1);
	assert_int_equal(rss_parse_key("key", "6d5", key, err, sizeof(err)), -1);
	assert_int_equal(rss_parse_key("key", "", key, err, sizeof(err)), -1);
	assert_memory_equal(key, ms, sizeof(ms));

	/* tables: equal, weight (ethtool's algorithm), explicit, refusals */
	assert_int_equal(rss_indir_equal(ind, 2, 4, err, sizeof(err)), 0);
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		assert_int_equal(ind[i], i % 2);
	assert_int_equal(rss_indir_equal(ind, 0, 4, err, sizeof(err)), -1);
	assert_string_equal(err, "equal: '0' out of range 1-4 (the VM's queues)");
	assert_int_equal(rss_indir_equal(ind, 5, 4, err, sizeof(err)), -1);
	assert_string_equal(err, "equal: '5' out of range 1-4 (the VM's queues)");
	assert_int_equal(rss_indir_weight(ind, "1,2,0,1", 4, err, sizeof(err)), 0);
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		n[ind[i]]++;
	assert_int_equal(n[0], 32);
	assert_int_equal(n[1], 64);
	assert_int_equal(n[2], 0);
	assert_int_equal(n[3], 32);
	assert_int_equal(ind[0], 0);
	assert_int_equal(ind[127], 3);
	/* 3 equal weights over 128: ethtool gives 42, 43, 43 */
	assert_int_equal(rss_indir_weight(ind, "5,5,5", 4, err, sizeof(err)), 0);
	memset(n, 0, sizeof(n));
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		n[ind[i]]++;
	assert_int_equal(n[0], 42);
	assert_int_equal(n[1], 43);
	assert_int_equal(n[2], 43);
	assert_int_equal(rss_indir_weight(ind, "0,0", 4, err, sizeof(err)), -1);
	assert_string_equal(err, "weight: all weights are 0");
	assert_int_equal(rss_indir_weight(ind, "1,1,1,1,1", 4, err, sizeof(err)), -1);
	assert_string_equal(err, "weight: 5 weights or more for the 4 queues of the VM");
	assert_int_equal(rss_indir_weight(ind, "1,-1", 4, err, sizeof(err)), -1);
	assert_string_equal(err, "weight: '1,-1': weight 1 is not a number >= 0");
	assert_int_equal(rss_indir_weight(ind, "100,100", 4, err, sizeof(err)), -1);
	assert_string_equal(err, "weight: total 200 exceeds the 128 table entries");
	assert_int_equal(rss_indir_weight(ind, "1,,1", 4, err, sizeof(err)), -1);

	assert_int_equal(rss_parse_indir("rss-indir", "0*64,1,2*63", ind, err,
					 sizeof(err)), 0);
	assert_int_equal(ind[63], 0);
	assert_int_equal(ind[64], 1);
	assert_int_equal(ind[65], 2);
	rss_format_indir(ind, buf);
	assert_string_equal(buf, "0*64,1,2*63");
	assert_int_equal(rss_check_indir(ind, 3, "indir", err, sizeof(err)), 0);
	assert_int_equal(rss_check_indir(ind, 2, "indir", err, sizeof(err)), -1);
	assert_string_equal(err, "indir: entry 65 is queue 2, not below the 2 queues"
			    " of the VM");
	assert_int_equal(rss_parse_indir("rss-indir", "0*127", ind, err, sizeof(err)), -1);
	assert_string_equal(err, "rss-indir: 127 entries, must be 128");
	assert_int_equal(rss_parse_indir("rss-indir", "0*129", ind, err, sizeof(err)), -1);
	assert_string_equal(err, "rss-indir: more than 128 entries");
	assert_int_equal(rss_parse_indir("rss-indir", "16*128", ind, err, sizeof(err)), -1);
	assert_string_equal(err, "rss-indir: entry 0 is queue 16, not below 16");
	assert_int_equal(rss_parse_indir("rss-indir", "0*64,x", ind, err, sizeof(err)), -1);
	assert_int_equal(rss_parse_indir("rss-indir", "0*0,0*128", ind, err, sizeof(err)), -1);

	/* hash fields */
	assert_int_equal(rss_parse_fields("f", "l3", &f, err, sizeof(err)), 0);
	assert_int_equal(f, 0);
	assert_int_equal(rss_parse_fields("f", "l4", &f, err, sizeof(err)), 0);
	assert_int_equal(f, XVNET_RSS_L4_TCP | XVNET_RSS_L4_UDP);
	assert_int_equal(rss_parse_fields("f", "tcp4,tcp6", &f, err, sizeof(err)), 0);
	assert_int_equal(f, XVNET_RSS_L4_TCP);
	assert_string_equal(rss_fields_name(f), "tcp");
	assert_int_equal(rss_parse_fields("f", "udp,tcp", &f, err, sizeof(err)), 0);
	assert_string_equal(rss_fields_name(f), "l4");
	assert_int_equal(rss_parse_fields("f", "tcp4,udp4", &f, err, sizeof(err)), -1);
	assert_string_equal(err, "f: 'tcp4' without 'tcp6': ports are hashed per"
			    " protocol for IPv4 and IPv6 alike");
	assert_int_equal(rss_parse_fields("f", "sctp", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "f: 'sctp' is not"));
}

static void test_rss_config(void **state)
{
	static const char conf[] =
		"nic eth9\n"
		"vm r1 mac 02:00:00:00:00:21 port tap rss-indir 0*64,1*32,2*32 queues 3"
		" rss-key " MS_KEY_HEX " rss-fields tcp\n"
		"vm r2 mac 02:00:00:00:00:22 port tap queues 2\n";
	static const uint8_t ms[XVNET_RSS_KEY_SIZE] = XVNET_RSS_MS_KEY;
	struct xvd_config a, b;
	char err[XV_ERR_LEN], *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;
	FILE *f1, *f2;
	struct xvnet_vm s1, s2;

	(void)state;
	assert_int_equal(parse_config_text(conf, &a, err), 0);
	assert_true(a.vms[0].has_rss_key && a.vms[0].has_rss_indir &&
		    a.vms[0].has_rss_fields);
	assert_memory_equal(a.vms[0].rss_key, ms, sizeof(ms));
	assert_int_equal(a.vms[0].rss_fields, XVNET_RSS_L4_TCP);
	assert_false(a.vms[1].has_rss_key || a.vms[1].has_rss_indir ||
		     a.vms[1].has_rss_fields);
	/* format -> parse -> format is stable, and keeps every RSS setting */
	f1 = open_memstream(&t1, &l1);
	config_format(&a, f1);
	fclose(f1);
	assert_non_null(strstr(t1, " rss-key " MS_KEY_HEX " rss-indir 0*64,1*32,2*32"
			       " rss-fields tcp\n"));
	assert_int_equal(parse_config_text(t1, &b, err), 0);
	for (size_t i = 0; i < a.n_vms; i++) {
		b.vms[i].line = a.vms[i].line;
		assert_memory_equal(&a.vms[i], &b.vms[i], sizeof(a.vms[i]));
	}
	f2 = open_memstream(&t2, &l2);
	config_format(&b, f2);
	fclose(f2);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	config_free(&b);

	/* errors: FILE:LINE, the field named */
	assert_int_equal(parse_config_text("nic e\nvm r mac 02:00:00:00:00:21 port tap"
				   " queues 2 rss-indir 0*64,2*64\n", &b, err), -1);
	assert_string_equal(err, "t.conf:2: rss-indir: entry 64 is queue 2, not below"
			    " the 2 queues of the VM");
	assert_int_equal(parse_config_text("nic e\n\nvm r mac 02:00:00:00:00:21 port tap"
				   " rss-key 00:11\n", &b, err), -1);
	assert_string_equal(err, "t.conf:3: rss-key: '00:11' is 2 bytes, must be 40");
	assert_int_equal(parse_config_text("nic e\nvm r mac 02:00:00:00:00:21 port tap"
				   " rss-fields l5\n", &b, err), -1);
	assert_non_null(strstr(err, "t.conf:2: rss-fields: 'l5' is not"));
	assert_int_equal(parse_config_text("nic e\nvm r mac 02:00:00:00:00:21 port tap"
				   " rss-indir 0*100\n", &b, err), -1);
	assert_string_equal(err, "t.conf:2: rss-indir: 100 entries, must be 128");

	/* the slot: config wins over a live (pinned) slot */
	memset(&s1, 0, sizeof(s1));
	s1.flags = XVNET_VM_F_ACTIVE;
	s1.n_queues = 3;
	s1.hash_fields = XVNET_RSS_FIELDS_DEFAULT;
	memset(s1.rss_key, 0xab, sizeof(s1.rss_key));
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		s1.rss_indir[i] = (uint8_t)(i % 3);
	vm_slot_build(&a.vms[0], 5, &s1, &s2);
	assert_memory_equal(s2.rss_key, ms, sizeof(ms));
	assert_memory_equal(s2.rss_indir, a.vms[0].rss_indir, sizeof(s2.rss_indir));
	assert_int_equal(s2.hash_fields, XVNET_RSS_L4_TCP);
	assert_int_equal(s2.n_queues, 3);
	/* fresh: configured values too */
	vm_slot_build(&a.vms[0], 5, NULL, &s2);
	assert_memory_equal(s2.rss_key, ms, sizeof(ms));
	assert_int_equal(s2.rss_indir[64], 1);
	assert_int_equal(s2.hash_fields, XVNET_RSS_L4_TCP);
	/* not configured: the live slot is kept (restart) */
	s1.n_queues = 2;
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		s1.rss_indir[i] = (uint8_t)(i < 100);
	vm_slot_build(&a.vms[1], 6, &s1, &s2);
	assert_memory_equal(s2.rss_key, s1.rss_key, sizeof(s1.rss_key));
	assert_memory_equal(s2.rss_indir, s1.rss_indir, sizeof(s1.rss_indir));
	config_free(&a);
}

static struct json_object *rss_args(const char *json)
{
	struct json_object *o = json_tokener_parse(json);

	assert_non_null(o);
	return o;
}

static void test_rss_request(void **state)
{
	static const uint8_t ms[XVNET_RSS_KEY_SIZE] = XVNET_RSS_MS_KEY;
	struct xvd_config cfg;
	struct vm_conf out, before;
	struct xvnet_vm live;
	struct json_object *a;
	char err[XV_ERR_LEN];
	static const struct { const char *args, *err; } bad[] = {
		{ "{\"name\":\"vx\",\"key\":\"00:11:22\"}", "key: '00:11:22' is 3 bytes, must be 40" },
		{ "{\"name\":\"vx\",\"key\":\"zz\"}", NULL },
		{ "{\"name\":\"vx\",\"equal\":0}", "equal: '0' out of range 1-4 (the VM's queues)" },
		{ "{\"name\":\"vx\",\"equal\":5}", "equal: '5' out of range 1-4 (the VM's queues)" },
		{ "{\"name\":\"vx\",\"equal\":\"-1\"}", NULL },
		{ "{\"name\":\"vx\",\"weight\":\"0,0,0\"}", "weight: all weights are 0" },
		{ "{\"name\":\"vx\",\"weight\":\"1,1,1,1,1\"}", NULL },
		{ "{\"name\":\"vx\",\"weight\":\"1,-2\"}", NULL },
		{ "{\"name\":\"vx\",\"indir\":\"0*127,4\"}", "indir: entry 127 is queue 4, not"
		  " below the 4 queues of the VM" },
		{ "{\"name\":\"vx\",\"equal\":2,\"weight\":\"1,1\"}", "equal: only one of equal,"
		  " weight, indir" },
		{ "{\"name\":\"vx\",\"hash_fields\":\"tcp6\"}", NULL },
		{ "{\"name\":\"vx\",\"queues\":2}", NULL },
		{ "{\"name\":\"nope\",\"equal\":1}", "name: 'nope' unknown VM" },
		{ "{\"equal\":1}", "name: missing" },
	};

	(void)state;
	assert_int_equal(parse_config_text(good_conf, &cfg, err), 0);
	before = *config_find_vm(&cfg, "vx");
	memset(&live, 0, sizeof(live));
	live.flags = XVNET_VM_F_ACTIVE;
	live.n_queues = 4;
	live.hash_fields = XVNET_RSS_L4_UDP;
	memset(live.rss_key, 0x5c, sizeof(live.rss_key));
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		live.rss_indir[i] = (uint8_t)(3 - i % 4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = rss_args(bad[i].args);
		err[0] = '\0';
		assert_int_equal(rss_request_parse(&cfg, a, &live, &out, err,
						   sizeof(err)), -1);
		if (bad[i].err)
			assert_string_equal(err, bad[i].err);
		else
			assert_true(err[0] != '\0');
		json_object_put(a);
	}
	/* a refusal changes nothing recorded */
	assert_memory_equal(config_find_vm(&cfg, "vx"), &before, sizeof(before));

	/* --key only: the live table and fields become configured as they are */
	a = rss_args("{\"name\":\"vx\",\"key\":\"" MS_KEY_HEX "\"}");
	assert_int_equal(rss_request_parse(&cfg, a, &live, &out, err, sizeof(err)), 0);
	json_object_put(a);
	assert_true(out.has_rss_key && out.has_rss_indir && out.has_rss_fields);
	assert_memory_equal(out.rss_key, ms, sizeof(ms));
	assert_memory_equal(out.rss_indir, live.rss_indir, sizeof(live.rss_indir));
	assert_int_equal(out.rss_fields, XVNET_RSS_L4_UDP);
	/* --equal 2 --hash-fields l3: the live key kept */
	a = rss_args("{\"name\":\"vx\",\"equal\":2,\"hash_fields\":\"l3\"}");
	assert_int_equal(rss_request_parse(&cfg, a, &live, &out, err, sizeof(err)), 0);
	json_object_put(a);
	assert_memory_equal(out.rss_key, live.rss_key, sizeof(live.rss_key));
	assert_int_equal(out.rss_fields, 0);
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		assert_int_equal(out.rss_indir[i], i % 2);
	config_free(&cfg);
}

/* Reload as a three-way merge (loader/conf/merge.c): the admin's edits apply,
 * what runs and the edit did not touch stays. */
static void test_merge(void **state)
{
	struct xvd_config old, new, run, out;
	char err[XV_ERR_LEN];
	const struct vm_conf *v;
	struct vm_conf rt;

	(void)state;
	assert_int_equal(parse_config_text(
		"nic n0\n"
		"vm a mac 02:00:00:00:00:0a port tap\n"
		"vm b mac 02:00:00:00:00:0b port tap\n"
		"vm c mac 02:00:00:00:00:0c port tap\n"
		"flow proto udp src 10.0.0.1 dst 10.0.0.2 action deliver vm c\n"
		"rule a dir in proto tcp dport 22 action allow\n", &old, err), 0);
	/* what runs: the file, c owned, a VM r added at run time with a rule,
	 * b deleted at run time */
	assert_int_equal(config_copy(&run, &old), 0);
	config_find_vm(&run, "c")->owned = true;
	vm_conf_init(&rt);
	assert_int_equal(vm_conf_set(&rt, "name", "r", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&rt, "mac", "02:00:00:00:00:0f", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_set(&rt, "port", "tap", err, sizeof(err)), 0);
	assert_int_equal(vm_conf_finish(&rt, err, sizeof(err)), 0);
	rt.id = config_alloc_vm_id(&run);
	assert_int_equal(config_add_vm(&run, &rt), 0);
	config_del_vm(&run, "b");

	/* the edit: a's rules change, c gets 2 queues, d is new, nothing
	 * about b or r */
	assert_int_equal(parse_config_text(
		"# a comment\n"
		"nic n0\n"
		"flow-max 2048\n"
		"vm a mac 02:00:00:00:00:0a port tap\n"
		"vm b mac 02:00:00:00:00:0b port tap\n"
		"vm c mac 02:00:00:00:00:0c port tap queues 2\n"
		"vm d mac 02:00:00:00:00:0d port tap\n"
		"flow proto udp src 10.0.0.1 dst 10.0.0.2 action deliver vm c\n"
		"rule a dir in proto tcp dport 80 action allow\n", &new, err), 0);
	assert_int_equal(config_merge(&run, &old, &new, &out, err, sizeof(err)), 0);
	assert_int_equal(out.flow_max, 2048);
	assert_non_null(config_find_vm(&out, "r"));         /* run time: kept */
	assert_null(config_find_vm(&out, "b"));             /* deleted: stays so */
	v = config_find_vm(&out, "c");
	assert_non_null(v);
	assert_int_equal(v->queues, 2);                     /* changed: the file's */
	assert_int_equal(v->id, config_find_vm(&run, "c")->id);
	assert_true(v->owned);                              /* same device */
	assert_non_null(config_find_vm(&out, "d"));         /* new in the file */
	assert_int_not_equal(config_find_vm(&out, "d")->id, config_find_vm(&out, "r")->id);
	assert_int_equal(out.n_rules, 1);
	assert_int_equal(out.rules[0].dport_lo, 80);
	assert_int_equal(out.n_flows, 1);
	config_free(&out);

	/* c removed from the file: it goes, with the flow delivering to it */
	config_free(&old);
	assert_int_equal(config_copy(&old, &new), 0);
	config_free(&new);
	assert_int_equal(parse_config_text(
		"nic n0\n"
		"vm a mac 02:00:00:00:00:0a port tap\n"
		"vm b mac 02:00:00:00:00:0b port tap\n"
		"vm d mac 02:00:00:00:00:0d port tap\n"
		"rule a dir in proto tcp dport 80 action allow\n", &new, err), 0);
	assert_int_equal(config_merge(&run, &old, &new, &out, err, sizeof(err)), 0);
	assert_null(config_find_vm(&out, "c"));
	assert_int_equal(out.n_flows, 0);
	assert_non_null(config_find_vm(&out, "r"));
	config_free(&out);

	/* an edit that clashes with a VM added at run time is refused */
	config_free(&new);
	assert_int_equal(parse_config_text(
		"nic n0\n"
		"vm a mac 02:00:00:00:00:0a port tap\n"
		"vm b mac 02:00:00:00:00:0b port tap\n"
		"vm c mac 02:00:00:00:00:0c port tap queues 2\n"
		"vm d mac 02:00:00:00:00:0d port tap\n"
		"vm e mac 02:00:00:00:00:0f port tap\n"
		"flow proto udp src 10.0.0.1 dst 10.0.0.2 action deliver vm c\n"
		"rule a dir in proto tcp dport 80 action allow\n", &new, err), 0);
	assert_int_equal(config_merge(&run, &old, &new, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "vm 'r'"));
	config_free(&new);
	config_free(&old);
	config_free(&run);
}

/* A change the kernel made already (a port gone, a move switched) goes
 * through the commit's record (loader/kern/commit.h): d->cfg takes it, and
 * the one save is called with it; a failed save is reported, d->cfg still
 * says what runs. */
static int saves, save_rc;
static bool saved_owned;
static bool saved_flows_unchanged;

static int fake_save(struct xvd *d, const struct xvd_config *cfg,
		     bool flows_unchanged, char *err, size_t errlen)
{
	(void)d;
	saves++;
	saved_flows_unchanged = flows_unchanged;
	saved_owned = cfg->n_vms == 1 && cfg->vms[0].owned;
	if (save_rc)
		snprintf(err, errlen, "disk full");
	return save_rc;
}

static void test_commit_record(void **state)
{
	static struct xvd d;
	char err[XV_ERR_LEN];
	struct vm_conf nv;

	(void)state;
	memset(&d, 0, sizeof(d));
	config_init(&d.cfg);
	assert_int_equal(parse_config_text("nic e\nvm r mac 02:00:00:00:00:21 port tap\n",
					   &d.cfg, err), 0);
	nv = d.cfg.vms[0];
	nv.owned = true;
	assert_int_equal(xvd_commit_record_vm(&d, &nv, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no state directory"));
	d.save = fake_save;
	saves = save_rc = 0;
	assert_int_equal(xvd_commit_record_vm(&d, &nv, err, sizeof(err)), 0);
	assert_int_equal(saves, 1);
	assert_true(saved_owned && d.cfg.vms[0].owned);
	assert_true(saved_flows_unchanged);     /* a VM recorded: no flow changed */
	nv.owned = false;
	save_rc = -1;
	assert_int_equal(xvd_commit_record_vm(&d, &nv, err, sizeof(err)), -1);
	assert_string_equal(err, "disk full");
	assert_false(d.cfg.vms[0].owned);
	strcpy(nv.name, "other");
	assert_int_equal(xvd_commit_record_vm(&d, &nv, err, sizeof(err)), -1);
	assert_int_equal(saves, 2);
	config_free(&d.cfg);
}

/* The command tables, one per object (loader/api/): every request of the
 * protocol once, each in the table of the object it names. */
static void test_command_tables(void **state)
{
	static const struct api_cmd *const tables[] = {
		daemon_cmds, vm_cmds, port_cmds, flow_cmds, rule_cmds, stats_cmds,
		xsk_cmds, rss_cmds, coalesce_cmds, batch_cmds,
	};
	static const char *const want[] = {
		"status", "shutdown", "reload", "vm.add", "vm.del", "vm.set",
		"vm.move", "vm.list", "vm.show", "port.list", "flow.add", "flow.del",
		"flow.list", "rule.add", "rule.del", "rule.list", "stats", "xsk.get",
		"rss.get", "rss.set", "coalesce.get", "coalesce.set",
		"batch.begin", "batch.add", "batch.commit", "batch.abort",
	};
	size_t n = 0;

	(void)state;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		const char *obj = tables[t][0].name;
		size_t objlen = strcspn(obj, ".");

		for (const struct api_cmd *c = tables[t]; c->name; c++, n++) {
			size_t k;

			assert_non_null(c->fn);
			assert_true(strncmp(c->name, obj, objlen) == 0 ||
				    tables[t] == daemon_cmds);
			for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
				if (strcmp(want[k], c->name) == 0)
					break;
			assert_true(k < sizeof(want) / sizeof(want[0]));
			for (const struct api_cmd *e = c + 1; e->name; e++)
				assert_string_not_equal(e->name, c->name);
		}
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_merge),
	cmocka_unit_test(test_commit_record),
	cmocka_unit_test(test_command_tables),
	cmocka_unit_test(test_parse_values),
	cmocka_unit_test(test_parse_good),
	cmocka_unit_test(test_parse_errors),
	cmocka_unit_test(test_request_validation),
	cmocka_unit_test(test_request_roundtrip),
	cmocka_unit_test(test_vhost_port),
	cmocka_unit_test(test_fallback_port),
	cmocka_unit_test(test_atomic_roundtrip),
	cmocka_unit_test(test_state_flow_lines),
	cmocka_unit_test(test_state_flows_file),
	cmocka_unit_test(test_vm_slot),
	cmocka_unit_test(test_rss_values),
	cmocka_unit_test(test_rss_config),
	cmocka_unit_test(test_rss_request),
};

UNIT_GROUP(group_config, "config", tests, NULL, NULL);
