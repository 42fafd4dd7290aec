// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl coalesce show|set (ethtool -c / -C for a VM). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/knobs.h"
#include "ctl/xvnetctl.h"

static const char coalesce_help[] =
"usage: xvnetctl coalesce show VM\n"
"       xvnetctl coalesce set VM [--rx-frames N] [--rx-usecs U]\n"
"                [--adaptive on|off] [--napi-defer-irqs N] [--napi-flush-usecs U]\n"
"  the VM's interrupt coalescing, as ethtool -c / -C; saved in xvnetd's state.\n"
"  xsk VMs only (tap, veth: the guest's kernel or the VMM notifies).\n"
#define XV_X_COAL(f, n, kd, mx, arg, help) "  --" n " " arg "\n" XV_KNOB_HELP_INDENT help "\n"
XV_COAL_KNOBS(XV_X_COAL)
#undef XV_X_COAL
;

static const struct optdef coalesce_opts[] = {
#define XV_X_COAL(f, n, kd, mx, arg, help) { n, #f, O_TEXT },
	XV_COAL_KNOBS(XV_X_COAL)
#undef XV_X_COAL
};

#define XV_X_COAL(f, n, kd, mx, arg, help) ", --" n
static const char coalesce_options[] = XV_COAL_KNOBS(XV_X_COAL);
#undef XV_X_COAL

/* ethtool -c layout. */
static void print_coalesce(struct json_object *d)
{
	struct json_object *n, *c, *qs;

	printf("Coalesce parameters for %s (%s port):\n", js(d, "vm"), js(d, "port"));
	if (!jb(d, "applicable")) {
		json_object_object_get_ex(d, "applies", &n);
		printf("n/a: %s\n", js(n, "rx"));
		return;
	}
	printf("Adaptive RX: %s\n", jb(d, "adaptive") ? "on" : "off");
	printf("rx-usecs: %s\nrx-frames: %s\n", js(d, "rx_usecs"), js(d, "rx_frames"));
	if (json_object_object_get_ex(d, "napi", &n))
		printf("napi-defer-irqs: %s\nnapi-flush-usecs: %s (%s %s, queues %#x)\n",
		       js(n, "defer_irqs"), js(n, "flush_usecs"), js(n, "nic"),
		       js(n, "scope"), (unsigned)json_object_get_int(
			       json_object_object_get(n, "queue_mask")));
	if (!json_object_object_get_ex(d, "counters", &c))
		return;
	printf("consumer pid %s: packets %s notifications %s (%.1f per notification)"
	       " wakeups %s rate %s pps batch %s/%s us\n", js(c, "consumer_pid"),
	       js(c, "packets"), js(c, "notifications"),
	       json_object_get_double(json_object_object_get(c, "per_notification")),
	       js(c, "wakeups"), js(c, "rate_pps"), js(c, "effective_frames"),
	       js(c, "effective_usecs"));
	if (json_object_object_get_ex(c, "queues", &qs))
		for (size_t i = 0; i < json_object_array_length(qs); i++) {
			struct json_object *q = json_object_array_get_idx(qs, i);

			printf("    queue %s packets %s notifications %s (%.1f)\n",
			       js(q, "queue"), js(q, "packets"), js(q, "notifications"),
			       json_object_get_double(json_object_object_get(
				       q, "per_notification")));
		}
}

int cmd_coalesce(int argc, char **argv)
{
	static const struct show_set c = {
		"coalesce", coalesce_help, "coalesce.get", "coalesce.set",
		coalesce_options + 2,
		coalesce_opts, sizeof(coalesce_opts) / sizeof(coalesce_opts[0]),
		print_coalesce,
	};

	return cmd_show_set(argc, argv, &c);
}

const struct verbdef coalesce_verbs[] = {
	{ "show", NULL, 0 }, VERBDEF("set", coalesce_opts), { NULL, NULL, 0 },
};
