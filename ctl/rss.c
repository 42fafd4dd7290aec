// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl rss show|set (ethtool -x / -X for a VM). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/knobs.h"
#include "ctl/xvnetctl.h"

static const char rss_help[] =
"usage: xvnetctl rss show VM\n"
"       xvnetctl rss set VM [--key HEX40] [--equal N | --weight W0,W1,...]\n"
"                [--hash-fields l3|l4|tcp4,tcp6,udp4,udp6]\n"
"  the VM's virtual RSS, as ethtool -x / -X: Toeplitz key, 128-entry\n"
"  indirection table, hash fields; saved in xvnetd's state.\n"
#define XV_X_RSS(f, opt, arg, help) "  --" opt " " arg "\n" XV_KNOB_HELP_INDENT help "\n"
XV_RSS_KNOBS(XV_X_RSS)
#undef XV_X_RSS
;

static const struct optdef rss_opts[] = {
#define XV_X_RSS(f, opt, arg, help) { opt, #f, O_TEXT },
	XV_RSS_KNOBS(XV_X_RSS)
#undef XV_X_RSS
};

/* "--key, --equal, ..." for "nothing to set" */
#define XV_X_RSS(f, opt, arg, help) ", --" opt
static const char rss_options[] = XV_RSS_KNOBS(XV_X_RSS);
#undef XV_X_RSS

/* ethtool -x layout: 8 entries per row, the row's first index in front. */
static void print_rss(struct json_object *d)
{
	struct json_object *ind;

	printf("RX flow hash indirection table for %s with %s RX queue(s):\n",
	       js(d, "name"), js(d, "queues"));
	if (json_object_object_get_ex(d, "indir", &ind))
		for (size_t i = 0; i < json_object_array_length(ind); i++) {
			if (i % 8 == 0)
				printf("%5zu: ", i);
			printf("%5" PRId64 "%s", json_object_get_int64(
				       json_object_array_get_idx(ind, i)),
			       i % 8 == 7 ? "\n" : " ");
		}
	printf("RSS hash key:\n%s\n", js(d, "key"));
	printf("RSS hash fields: %s (%s)\n", js(d, "hash_fields"),
	       strcmp(js(d, "hash_fields"), "l4") == 0 ?
	       "addresses and ports of TCP and UDP, IPv4 and IPv6" :
	       strcmp(js(d, "hash_fields"), "l3") == 0 ? "addresses only" :
	       strcmp(js(d, "hash_fields"), "tcp") == 0 ?
	       "ports of TCP only, IPv4 and IPv6" : "ports of UDP only, IPv4 and IPv6");
	printf("Delivery: %s%s\n", js(d, "delivery"),
	       jb(d, "live") ? "" : " (not in the datapath now)");
}

int cmd_rss(int argc, char **argv)
{
	static const struct show_set c = {
		"rss", rss_help, "rss.get", "rss.set", rss_options + 2,
		rss_opts, sizeof(rss_opts) / sizeof(rss_opts[0]), print_rss,
	};

	return cmd_show_set(argc, argv, &c);
}

const struct verbdef rss_verbs[] = {
	{ "show", NULL, 0 }, VERBDEF("set", rss_opts), { NULL, NULL, 0 },
};
