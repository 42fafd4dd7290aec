// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl vm add|set|move|del|list|show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl/xvnetctl.h"
#include "lib/knobs.h"
#include "lib/parse.h"
#include "maps/xvnet_maps.h"

static void print_vm_line(struct json_object *vm)
{
	struct json_object *ips;

	printf("%s id %s mac %s vlan %s port %s%s%s", js(vm, "name"), js(vm, "id"),
	       js(vm, "mac"), js(vm, "vlan"), js(vm, "port"),
	       *js(vm, "ifname") ? " " : "", js(vm, "ifname"));
	if (strcmp(js(vm, "port"), "veth") == 0)
		printf(" peer %s@%s", js(vm, "peer_ifname"), js(vm, "netns"));
	else if (strcmp(js(vm, "port"), "xsk") == 0 ||
		 strcmp(js(vm, "port"), "vhost-user") == 0)
		printf(" side %s", js(vm, "peer_ifname"));
	if (json_object_object_get_ex(vm, "vhost", &ips)) {
		printf(" socket %s", js(ips, "socket"));
		struct json_object *c;

		if (jb(ips, "running"))
			printf(" back-end pid %s", js(ips, "pid"));
		if (json_object_object_get_ex(ips, "counters", &c))
			printf(" (%s, rx %s tx %s)", jb(c, "connected") ? "VMM connected" :
			       "no VMM", js(c, "rx"), js(c, "tx"));
		else
			printf(" back-end down (retry in %.1f s)", json_object_get_double(
				       json_object_object_get(ips, "retry_in_s")));
	}
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
	if (json_object_object_get_ex(vm, "move", &ips)) {
		struct json_object *to = json_object_object_get(ips, "to");

		printf(" moving to %s%s%s (%s)", js(to, "port"), *js(to, "ifname") ? " " : "",
		       js(to, "ifname"), js(ips, "phase"));
	}
	printf("\n");
}

static const char vm_add_help[] =
"usage: xvnetctl vm add NAME --mac MAC [--vlan 0-4094]\n"
"                --port tap|veth|xsk|vhost-user|fallback [--vhost-socket PATH]\n"
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
"  --port vhost-user\n"
"                an xsk port served to a VMM as a vhost-user-net device:\n"
"                xvnetd runs an xvnet-vhost back-end for it (restarted if\n"
"                it dies) listening on --vhost-socket (default\n"
"                /run/xvnet/NAME.vhost); --owner/--group own the socket\n"
"                and the back-end runs as --owner (else nobody)\n"
"                (docs/vhost-user.md)\n"
"  --port fallback\n"
"                no port of xvnet's: nic_rx passes the VM's frames to the\n"
"                host stack (a bridge or route there reaches the VM), frames\n"
"                from local VMs go in at the NIC; no --ifname (docs/dnis.md)\n"
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
"                TUNSETGROUP; with both: that user, in that group);\n"
"                vhost-user: who may connect to the socket.\n"
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

static const struct optdef vm_del_opts[] = {
	{ "if-exists", "if-exists", O_FLAG }, { "keep-port", "keep-port", O_FLAG },
	{ "force", "force", O_FLAG },
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
	{ "vhost-socket", "vhost-socket", O_TEXT },
	{ "queues", "queues", O_QUEUES }, { "keep-vlan", "keep-vlan", O_FLAG },
	{ "ip", "ip", O_ADDR }, { "queue-cpus", "queue-cpus", O_TEXT },
	{ "allow", "allow", O_TEXT }, { "no-allow", "no-allow", O_TEXT },
	{ "owner", "owner", O_TEXT }, { "group", "group", O_TEXT },
	{ "may-exist", "may-exist", O_FLAG },
	XSK_KNOB_OPTS
};

static const char vm_move_help[] =
"usage: xvnetctl vm move NAME --port tap|veth|xsk|vhost-user|fallback [--ifname IF]\n"
"                [--netns NS] [--peer-ifname IF] [--vhost-socket PATH]\n"
"                [--owner USER] [--group GROUP] [--xsk-KNOB V]...\n"
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
"  device than the VM's port now.  --port fallback hands the VM to the host\n"
"  stack (DNIS's PV path through the host's bridge) and a move to a port\n"
"  brings it back to the fast path.\n"
"  --prepare     only make and attach the new port; the VM stays where it\n"
"                is until `vm move NAME --switch` (a live migration: prepare\n"
"                when it starts, switch when the source stops) or --abort.\n"
"                One prepared move at a time; a daemon restart undoes it\n";

static const struct optdef vm_move_opts[] = {
	{ "port", "port", O_PORTKIND }, { "ifname", "ifname", O_IFNAME },
	{ "netns", "netns", O_NETNS }, { "peer-ifname", "peer-ifname", O_IFNAME },
	{ "vhost-socket", "vhost-socket", O_TEXT },
	{ "owner", "owner", O_TEXT }, { "group", "group", O_TEXT },
	{ "prepare", "prepare", O_FLAG }, { "switch", "switch", O_FLAG },
	{ "abort", "abort", O_FLAG },
	XSK_KNOB_OPTS
};

static const char vm_help[] =
"usage: xvnetctl vm add NAME --mac MAC --port tap|veth|xsk|vhost-user|fallback [...]  (vm add --help)\n"
"       xvnetctl vm move NAME --port tap|veth|xsk|vhost-user|fallback [...]  (vm move --help)\n"
"       xvnetctl vm set NAME [--ip ADDR]... [--vlan N] [...]  (vm set --help)\n"
"       xvnetctl vm del NAME [--if-exists] [--keep-port] [--force]\n"
"       xvnetctl vm list\n"
"       xvnetctl vm show NAME\n";

int cmd_vm(int argc, char **argv)
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
			size_t k;

			for (k = 0; k < sizeof(vm_del_opts) / sizeof(vm_del_opts[0]); k++)
				if (!strncmp(argv[i], "--", 2) &&
				    !strcmp(argv[i] + 2, vm_del_opts[k].flag))
					break;
			if (k == sizeof(vm_del_opts) / sizeof(vm_del_opts[0])) {
				json_object_put(args);
				return usage_err("vm del: unexpected '%s' (see vm del --help)",
						 argv[i]);
			}
			json_object_object_add(args, vm_del_opts[k].key,
					       json_object_new_boolean(1));
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
		return list_request("vm.list", NULL, print_vm_line);
	}
	return usage_err("vm: unknown verb '%s' (add, del, list, show)", verb);
}

const struct verbdef vm_verbs[] = {
	VERBDEF("add", vm_opts), VERBDEF("del", vm_del_opts),
	VERBDEF("set", vm_set_opts), VERBDEF("move", vm_move_opts),
	{ "list", NULL, 0 }, { "show", NULL, 0 }, { NULL, NULL, 0 },
};
