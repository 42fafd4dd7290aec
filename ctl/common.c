// SPDX-License-Identifier: GPL-2.0-only
/* xvnetctl: talking to xvnetd, options, printing helpers (ctl/xvnetctl.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <unistd.h>

#include "ctl/xvnetctl.h"
#include "lib/parse.h"
#include "lib/proto.h"
#include "maps/xvnet_maps.h"

const char *sock_path = XV_DEFAULT_SOCKET;
bool json_out;
struct json_object *batch_requests;

int usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xvnetctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return EX_USAGE;
}

/* ---- talking to the daemon -------------------------------------------- */

/* Send {cmd, args}; on success *data is the reply's data (owned by *reply). */
int call(const char *cmd, struct json_object *args,
		struct json_object **reply, struct json_object **data)
{
	struct json_object *req = json_object_new_object(), *ok, *e;
	struct xv_linebuf lb = { 0 };
	int fd;

	*reply = NULL;
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "args", args);
	if (batch_requests) {   /* xvnetctl batch: collected, sent later */
		json_object_array_add(batch_requests, req);
		*data = NULL;
		return EX_OK;
	}
	fd = xv_connect(sock_path);
	if (fd < 0) {
		fprintf(stderr, "xvnetctl: cannot reach xvnetd at %s: %s\n",
			sock_path, strerror(errno));
		json_object_put(req);
		return EX_REFUSED;
	}
	if (xv_send_json(fd, req) || !(*reply = xv_recv_json(fd, &lb))) {
		fprintf(stderr, "xvnetctl: %s: %s\n", sock_path, strerror(errno));
		close(fd);
		json_object_put(req);
		xv_linebuf_free(&lb);
		return EX_REFUSED;
	}
	close(fd);
	json_object_put(req);
	xv_linebuf_free(&lb);
	if (!json_object_object_get_ex(*reply, "ok", &ok) ||
	    !json_object_get_boolean(ok)) {
		if (json_out)
			printf("%s\n", json_object_to_json_string_ext(
				       *reply, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		fprintf(stderr, "xvnetctl: %s\n",
			json_object_object_get_ex(*reply, "error", &e) ?
			json_object_get_string(e) : "malformed reply");
		json_object_put(*reply);
		*reply = NULL;
		return EX_REFUSED;
	}
	json_object_object_get_ex(*reply, "data", data);
	return EX_OK;
}

/* For commands that only print "ok" in -j mode. */
int call_simple(const char *cmd, struct json_object *args)
{
	struct json_object *rep, *data;
	int r = call(cmd, args, &rep, &data);

	if (r == EX_OK && json_out)
		printf("%s\n", json_object_to_json_string_ext(data,
				JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(rep);
	return r;
}

/* ---- option parsing ----------------------------------------------------- */

static int fmt_err(char *err, size_t len, const char *fmt, const char *v)
	__attribute__((format(printf, 3, 0)));
static int fmt_err(char *err, size_t len, const char *fmt, const char *v)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(err, len, fmt, v);
#pragma GCC diagnostic pop
	return -1;
}

static int check_value(const struct optdef *o, const char *v)
{
	char err[XV_ERR_LEN], buf[64];
	uint8_t mac[6], addr[16], proto;
	uint16_t u16;
	unsigned long ul;
	bool v4;
	int r = 0;

	switch (o->kind) {
	case O_NAME:
		r = xv_parse_name(o->key, v, buf, sizeof(buf), err, sizeof(err));
		break;
	case O_MAC:
		r = xv_parse_mac(o->key, v, mac, err, sizeof(err));
		break;
	case O_VLAN:
		r = xv_parse_vlan(o->key, v, &u16, err, sizeof(err));
		break;
	case O_PORTKIND:
		if (strcmp(v, "tap") && strcmp(v, "veth") && strcmp(v, "xsk") &&
		    strcmp(v, "vhost-user") && strcmp(v, "fallback"))
			r = fmt_err(err, sizeof(err), "port: '%s' is not tap, veth,"
				    " xsk, vhost-user or fallback", v);
		break;
	case O_IFNAME:
		r = xv_parse_ifname(o->key, v, buf, err, sizeof(err));
		break;
	case O_NETNS:
		if (!*v || strchr(v, '/'))
			r = fmt_err(err, sizeof(err), "netns: '%s' is not a"
				    " namespace name", v);
		break;
	case O_QUEUES:
		r = xv_parse_uint(o->key, v, 1, XVNET_MAX_QUEUES, &ul, err,
				  sizeof(err));
		break;
	case O_PROTO:
		r = xv_parse_proto(o->key, v, &proto, err, sizeof(err));
		break;
	case O_IP:
	case O_ADDR:
		r = xv_parse_ip(o->key, v, addr, &v4, err, sizeof(err));
		break;
	case O_L4PORT:
		r = xv_parse_uint(o->key, v, 0, 65535, &ul, err, sizeof(err));
		break;
	case O_ACTION:
		if (strcmp(v, "deliver") && strcmp(v, "drop") && strcmp(v, "pass"))
			r = fmt_err(err, sizeof(err), "action: '%s' is not"
				    " deliver, drop or pass", v);
		break;
	case O_QUEUE:
		r = xv_parse_queue(o->key, v, &u16, err, sizeof(err));
		break;
	case O_FLAG:
	case O_TEXT:
		break;
	}
	if (r)
		usage_err("%s", err);
	return r;
}

bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Parse --flag [value] pairs of argv into args. */
int parse_opts(int argc, char **argv, const struct optdef *defs,
		      size_t ndefs, struct json_object *args, const char *help)
{
	for (int i = 0; i < argc; i++) {
		const struct optdef *o = NULL;
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(help, stdout);
			exit(EX_OK);
		}
		if (strncmp(a, "--", 2) == 0)
			for (size_t k = 0; k < ndefs; k++)
				if (strcmp(a + 2, defs[k].flag) == 0)
					o = &defs[k];
		if (!o)
			return usage_err("unknown option '%s' (see --help)", a);
		if (o->kind != O_ADDR &&
		    json_object_object_get_ex(args, o->key, NULL))
			return usage_err("--%s given twice", o->flag);
		if (o->kind == O_FLAG) {
			json_object_object_add(args, o->key,
					       json_object_new_boolean(1));
			continue;
		}
		if (i + 1 >= argc)
			return usage_err("--%s needs a value", o->flag);
		a = argv[++i];
		if (check_value(o, a))
			return EX_USAGE;
		if (o->kind == O_ADDR) {
			struct json_object *list;

			if (!json_object_object_get_ex(args, o->key, &list)) {
				list = json_object_new_array();
				json_object_object_add(args, o->key, list);
			}
			json_object_array_add(list, json_object_new_string(a));
			continue;
		}
		json_object_object_add(args, o->key, all_digits(a) ?
				       json_object_new_int64(atoll(a)) :
				       json_object_new_string(a));
	}
	return EX_OK;
}

bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
	       strcmp(a, "help") == 0;
}

int name_arg(int argc, char **argv, const char *help, const char *what,
		    struct json_object **args)
{
	char err[XV_ERR_LEN], buf[64];

	if (argc > 0 && is_help(argv[0])) {
		fputs(help, stdout);
		exit(EX_OK);
	}
	if (argc < 1)
		return usage_err("%s: missing NAME", what);
	if (xv_parse_name("name", argv[0], buf, sizeof(buf), err, sizeof(err)))
		return usage_err("%s", err);
	*args = json_object_new_object();
	json_object_object_add(*args, "name", json_object_new_string(argv[0]));
	return EX_OK;
}

/* A read request whose reply is an array: JSON as is, or one line each. */
int list_request(const char *cmd, struct json_object *args,
		 void (*print_one)(struct json_object *))
{
	struct json_object *rep, *d;
	int r = call(cmd, args, &rep, &d);

	if (r)
		return r;
	if (json_out)
		print_json(d);
	else
		for (size_t i = 0; i < json_object_array_length(d); i++)
			print_one(json_object_array_get_idx(d, i));
	json_object_put(rep);
	return EX_OK;
}

/* ---- printing ----------------------------------------------------------- */

const char *js(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return "";
	return json_object_get_string(v);
}

int64_t ji(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

bool jb(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

void print_json(struct json_object *data)
{
	printf("%s\n", json_object_to_json_string_ext(data,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}

int cmd_show_set(int argc, char **argv, const struct show_set *c)
{
	struct json_object *args = NULL, *rep, *d;
	const char *verb = argc ? argv[0] : "";
	char what[32];
	int r;

	if (!argc || is_help(verb)) {
		fputs(c->help, argc ? stdout : stderr);
		return argc ? EX_OK : EX_USAGE;
	}
	if (strcmp(verb, "show") && strcmp(verb, "set"))
		return usage_err("%s: unknown verb '%s' (show, set)", c->noun, verb);
	snprintf(what, sizeof(what), "%s %s", c->noun, verb);
	if ((r = name_arg(argc - 1, argv + 1, c->help, what, &args)))
		return r;
	if (verb[1] == 'h' && argc > 2) {
		json_object_put(args);
		return usage_err("%s: unexpected '%s'", what, argv[2]);
	}
	if (verb[1] == 'e') {
		r = parse_opts(argc - 2, argv + 2, c->opts, c->n_opts, args, c->help);
		if (!r && argc == 2)
			r = usage_err("%s: nothing to set (%s)", what, c->nothing);
		if (r) {
			json_object_put(args);
			return r;
		}
	}
	r = call(verb[1] == 'h' ? c->get : c->set, args, &rep, &d);
	if (r)
		return r;
	if (json_out)
		print_json(d);
	else
		c->print(d);
	json_object_put(rep);
	return EX_OK;
}
