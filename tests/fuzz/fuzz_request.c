// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the control protocol's request layer, without a
 * kernel: one line as the socket delivers it (lib/proto.c's line buffer),
 * JSON, then the whole validation of vm.add / flow.add / rule.add requests
 * against a running config (loader/api/ops.c, loader/conf/rules.c).  Oracle: a
 * refused request changes nothing (the config formats the same before and
 * after); an accepted one, added to a copy, round-trips through the config
 * file (format, parse, format: the same text).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "lib/parse.h"
#include "lib/proto.h"
#include "loader/conf/config.h"
#include "loader/conf/rules.h"
#include "loader/api/flow.h"
#include "loader/api/request.h"
#include "loader/api/vm.h"
#include "loader/kern/addrs.h"
#include "loader/kern/datapath.h"
#include "loader/kern/slowpath.h"
#include "loader/kern/tables.h"

static const char base_conf[] =
	"nic fz-nic0\n"
	"vm vm1 mac 02:00:00:00:00:01 vlan 10 port veth netns ns1 queues 2\n"
	"vm vm2 mac 02:00:00:00:00:02 port tap ifname tapvm2 queues 4 keep-vlan\n"
	"flow proto udp src 10.0.0.1 dst 10.0.0.2 dport 53 action drop\n"
	"rule vm1 dir in proto tcp dport 22 action deny\n";

static struct xvd_config base;
static char *base_text;

static char *format(const struct xvd_config *cfg)
{
	char *t = NULL;
	size_t len;
	FILE *f = open_memstream(&t, &len);

	config_format(cfg, f);
	fclose(f);
	return t;
}

static void roundtrip(const struct xvd_config *c)
{
	char err[XV_ERR_LEN], *t1 = format(c), *t2;
	struct xvd_config b;
	FILE *f = fmemopen(t1, strlen(t1) ? strlen(t1) : 1, "r");

	if (config_parse_stream(f, "fuzz-rt", &b, err, sizeof(err))) {
		fprintf(stderr, "accepted request does not load back: %s\n%s", err, t1);
		abort();
	}
	fclose(f);
	t2 = format(&b);
	if (strcmp(t1, t2)) {
		fprintf(stderr, "request round trip differs:\n%s---\n%s", t1, t2);
		abort();
	}
	free(t1);
	free(t2);
	config_free(&b);
}

static void handle(struct json_object *req)
{
	char err[XV_ERR_LEN];
	struct json_object *jc, *args = NULL;
	struct xvd_config next;
	const char *cmd;
	int ok = -1;

	if (!json_object_object_get_ex(req, "cmd", &jc) ||
	    !json_object_is_type(jc, json_type_string))
		return;
	cmd = json_object_get_string(jc);
	json_object_object_get_ex(req, "args", &args);
	if (!args || !json_object_is_type(args, json_type_object))
		return;
	if (config_copy(&next, &base))
		abort();
	if (!strcmp(cmd, "vm.add")) {
		struct vm_conf vm;

		if (!vm_request_parse(&base, args, &vm, err, sizeof(err)))
			ok = config_add_vm(&next, &vm);
	} else if (!strcmp(cmd, "flow.add")) {
		struct flow_conf fc;

		if (!flow_request_parse(&base, args, true, &fc, err, sizeof(err)))
			ok = config_add_flow(&next, &fc);
	} else if (!strcmp(cmd, "rule.add")) {
		struct rule_conf rc;
		char val[256];
		int bad = 0;

		rule_conf_init(&rc);
		json_object_object_foreach(args, key, v) {
			if (!json_object_is_type(v, json_type_string)) {
				bad = 1;
				break;
			}
			snprintf(val, sizeof(val), "%s", json_object_get_string(v));
			if (rule_conf_set(&rc, key, val, err, sizeof(err))) {
				bad = 1;
				break;
			}
		}
		if (!bad && !rule_conf_finish(&rc, err, sizeof(err)) &&
		    !config_check_rule(&base, &rc, err, sizeof(err)))
			ok = config_insert_rule(&next, &rc, 0, err, sizeof(err));
	}
	{
		char *now = format(&base);

		if (strcmp(now, base_text)) {
			fprintf(stderr, "a request changed the running config\n");
			abort();
		}
		free(now);
	}
	if (!ok)
		roundtrip(&next);
	config_free(&next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xv_linebuf lb = { 0 };
	int fds[2];
	char *line;

	if (!base_text) {
		char err[XV_ERR_LEN];
		FILE *f = fmemopen((void *)base_conf, sizeof(base_conf) - 1, "r");

		if (config_parse_stream(f, "base", &base, err, sizeof(err))) {
			fprintf(stderr, "base config: %s\n", err);
			abort();
		}
		fclose(f);
		base_text = format(&base);
	}
	if (size > 65536 || pipe(fds))
		return 0;
	/* through the protocol's line buffer, as the server reads it */
	if (write(fds[1], data, size) != (ssize_t)size) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	close(fds[1]);
	while (xv_linebuf_fill(&lb, fds[0]) > 0)
		;
	close(fds[0]);
	while ((line = xv_linebuf_next(&lb))) {
		struct json_object *req = json_tokener_parse(line);

		free(line);
		if (req)
			handle(req);
		json_object_put(req);
	}
	xv_linebuf_free(&lb);
	return 0;
}
