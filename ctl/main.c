// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnetctl: the command-line client of xvnetd.  Object-verb commands in the
 * style of ip(8); options as --flag value; -j prints the daemon's JSON.
 * The global options here, then one cmd_* per object (ctl/OBJECT.c) from
 * the table below.  Exit codes: ctl/xvnetctl.h.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/xvnetctl.h"
#include "xv_version.h"

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

/* The objects, as the first word of the command line. */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} cmds[] = {
	{ "status", cmd_status }, { "vm", cmd_vm }, { "port", cmd_port },
	{ "flow", cmd_flow }, { "rule", cmd_rule }, { "stats", cmd_stats },
	{ "rss", cmd_rss }, { "coalesce", cmd_coalesce },
	{ "shutdown", cmd_shutdown }, { "reload", cmd_reload },
};

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
	if (strcmp(argv[-1], "help") == 0) {
		fputs(main_usage, stdout);
		return EX_OK;
	}
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (strcmp(argv[-1], cmds[c].name) == 0)
			return cmds[c].run(argc, argv);
	return usage_err("unknown command '%s' (see --help)", argv[-1]);
}
