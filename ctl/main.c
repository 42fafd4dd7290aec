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
"  vm add NAME --mac MAC [--vlan 0-4094] --port tap|veth|xsk|vhost-user|fallback [--ifname IF]\n"
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
"  batch [FILE|-]   vm add|del and flow add|del lines, applied in one commit\n"
"COMMAND --help shows the command's options.  Exit codes: 0 ok, 1 refused\n"
"by the daemon, 2 usage error, 3 status: degraded.\n";

/* The objects, as the first word of the command line, with their verbs
 * and options (NULL: none). */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const struct verbdef *verbs;
} cmds[] = {
	{ "status", cmd_status, NULL }, { "vm", cmd_vm, vm_verbs },
	{ "port", cmd_port, port_verbs }, { "flow", cmd_flow, flow_verbs },
	{ "rule", cmd_rule, rule_verbs }, { "stats", cmd_stats, stats_verbs },
	{ "rss", cmd_rss, rss_verbs }, { "coalesce", cmd_coalesce, coalesce_verbs },
	{ "shutdown", cmd_shutdown, shutdown_verbs }, { "reload", cmd_reload, NULL },
	{ "batch", cmd_batch, NULL },
};

/*
 * xvnetctl __complete [OBJECT [VERB]]: the words that may come next, one a
 * line: the objects; an object's verbs (or, without verbs, its options);
 * a verb's options.  For the bash completion, which so names what the
 * parsing takes (hidden: not in the usage).
 */
static int complete(int argc, char **argv)
{
	const struct verbdef *v = NULL;
	size_t c;

	if (argc == 0) {
		for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
			puts(cmds[c].name);
		return EX_OK;
	}
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (strcmp(argv[0], cmds[c].name) == 0)
			v = cmds[c].verbs;
	if (!v)
		return EX_OK;   /* no verbs, no options; or no such object */
	if (argc == 1 && v->verb[0]) {
		for (; v->verb; v++)
			puts(v->verb);
		return EX_OK;
	}
	for (; v->verb; v++)
		if (!v->verb[0] || (argc > 1 && strcmp(v->verb, argv[1]) == 0))
			break;
	for (size_t o = 0; v->verb && o < v->n_opts; o++)
		printf("--%s\n", v->opts[o].flag);
	return EX_OK;
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
	if (strcmp(argv[-1], "__complete") == 0)
		return complete(argc, argv);
	if (strcmp(argv[-1], "help") == 0) {
		fputs(main_usage, stdout);
		return EX_OK;
	}
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (strcmp(argv[-1], cmds[c].name) == 0)
			return cmds[c].run(argc, argv);
	return usage_err("unknown command '%s' (see --help)", argv[-1]);
}
