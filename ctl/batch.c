// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnetctl batch [FILE|-]: many vm add|del and flow add|del in one commit
 * (loader/api/batch.c), as ip -batch takes a file of commands.  Each line
 * is parsed by the same code as on the command line, into the request it
 * would send; the requests go over one connection as they come, in
 * batch.add lines under the socket's limit, and batch.commit applies them
 * all or none.
 * A refusal names the line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "ctl/xvnetctl.h"
#include "lib/proto.h"

#define CHUNK_BYTES (48 * 1024)         /* a batch.add line, under 64 KiB */
#define MAX_WORDS 64

static const char batch_help[] =
"usage: xvnetctl batch [FILE|-]\n"
"  one command a line, as after `xvnetctl`: vm add ..., vm del ...,\n"
"  flow add ..., flow del ... ('#' starts a comment; words split on blanks)\n"
"  from FILE or standard input.  Every line is checked (xvnetd checks the\n"
"  first ones while the rest are read), then all are applied in one commit\n"
"  and recorded once, or none is (exit 1, the line named)\n";

/* The open connection, and where each request came from. */
struct conn {
	int fd;
	struct xv_linebuf lb;
	const char *name;           /* the file, for messages */
	const int *lines;           /* the line of each request */
	size_t n;
};

/* A refusal "request K of the batch (...)": the file's line K came from. */
static void say_refused(const struct conn *c, const char *why)
{
	size_t k;

	if (sscanf(why, "request %zu of the batch", &k) == 1 && k >= 1 && k <= c->n)
		fprintf(stderr, "xvnetctl: %s:%d: %s\n", c->name, c->lines[k - 1], why);
	else
		fprintf(stderr, "xvnetctl: %s\n", why);
}

/* A reply: true when xvnetd took the request; else the refusal (or the
 * broken connection) is said. */
static bool judge(const struct conn *c, struct json_object *rep)
{
	struct json_object *ok, *e;

	if (!rep) {
		fprintf(stderr, "xvnetctl: %s: %s\n", sock_path, strerror(errno));
		return false;
	}
	if (json_object_object_get_ex(rep, "ok", &ok) && json_object_get_boolean(ok))
		return true;
	say_refused(c, json_object_object_get_ex(rep, "error", &e) ?
		    json_object_get_string(e) : "malformed reply");
	return false;
}

/* One request over the open connection (args taken): its reply when xvnetd
 * accepts it; a refusal or a broken connection is said and gives NULL. */
static struct json_object *ask(struct conn *c, const char *cmd, struct json_object *args)
{
	struct json_object *req = json_object_new_object(), *rep;

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "args", args);
	rep = xv_send_json(c->fd, req) ? NULL : xv_recv_json(c->fd, &c->lb);
	json_object_put(req);
	if (judge(c, rep))
		return rep;
	json_object_put(rep);
	return NULL;
}

/*
 * The batch on its way out: each request goes into the batch.add line being
 * filled as soon as its line is parsed, and a full line is sent while the
 * next is parsed, so that xvnetd checks one while this process parses the
 * other (one batch.add in flight; its reply is read before the next goes).
 * xvnetd is reached at the first full line: a short file is checked whole
 * before.  A line that fails later closes the connection, which discards
 * the batch: nothing is applied before batch.commit.
 */
struct batch_out {
	struct conn c;              /* c.fd -1: not connected yet */
	char *buf;                  /* the batch.add line being filled */
	size_t len, cap;
	size_t queued;              /* requests in it */
	bool in_flight;             /* a batch.add sent, its reply unread */
	int *lines;                 /* c.lines */
	size_t lines_cap;
};

static const char add_head[] = "{\"cmd\":\"batch.add\",\"args\":{\"requests\":[";

static int out_put(struct batch_out *o, const char *s, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : CHUNK_BYTES + 4096;
		char *b;

		while (cap < o->len + n)
			cap *= 2;
		if (!(b = realloc(o->buf, cap))) {
			fputs("xvnetctl: batch: out of memory\n", stderr);
			return -1;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

/* The reply to the batch.add in flight: 0 when xvnetd took it. */
static int out_settle(struct batch_out *o)
{
	struct json_object *rep;
	int rc;

	if (!o->in_flight)
		return 0;
	o->in_flight = false;
	rep = xv_recv_json(o->c.fd, &o->c.lb);
	rc = judge(&o->c, rep) ? 0 : -1;
	json_object_put(rep);
	return rc;
}

/* Send the line being filled (after the reply to the one before). */
static int out_flush(struct batch_out *o)
{
	struct json_object *rep;

	if (!o->queued)
		return 0;
	if (o->c.fd < 0) {
		if ((o->c.fd = xv_connect(sock_path)) < 0) {
			fprintf(stderr, "xvnetctl: cannot reach xvnetd at %s: %s\n", sock_path,
				strerror(errno));
			return -1;
		}
		if (!(rep = ask(&o->c, "batch.begin", NULL)))
			return -1;
		json_object_put(rep);
	}
	if (out_settle(o) || out_put(o, "]}}\n", 4))
		return -1;
	if (xv_send_all(o->c.fd, o->buf, o->len)) {
		fprintf(stderr, "xvnetctl: %s: %s\n", sock_path, strerror(errno));
		return -1;
	}
	o->in_flight = true;
	o->len = 0;
	o->queued = 0;
	return out_put(o, add_head, sizeof(add_head) - 1);
}

/* Take the request one line made (line no) into the line being filled. */
static int out_add(struct batch_out *o, struct json_object *req, int no)
{
	const char *t = xv_json_line_text(req);

	if (o->c.n >= o->lines_cap) {
		size_t cap = o->lines_cap ? o->lines_cap * 2 : 1024;
		int *l = realloc(o->lines, cap * sizeof(*l));

		if (!l) {
			fputs("xvnetctl: batch: out of memory\n", stderr);
			return -1;
		}
		o->lines = l;
		o->lines_cap = cap;
		o->c.lines = l;
	}
	o->lines[o->c.n++] = no;
	if ((o->queued && out_put(o, ",", 1)) || out_put(o, t, strlen(t)))
		return -1;
	o->queued++;
	return o->len >= CHUNK_BYTES ? out_flush(o) : 0;
}

/* Parse every line, sending the requests as they come (reqs: where the
 * commands put each one); an exit code. */
static int read_lines(FILE *f, const char *name, struct json_object *reqs,
		      struct batch_out *o)
{
	char buf[4096];
	int no = 0;

	while (fgets(buf, sizeof(buf), f)) {
		char *w[MAX_WORDS], *save = NULL, *t, *hash = strchr(buf, '#');
		int n = 0, r;

		no++;
		if (!strchr(buf, '\n') && !feof(f))
			return usage_err("%s:%d: line too long", name, no);
		if (hash)
			*hash = '\0';
		for (t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
			if (n == MAX_WORDS)
				return usage_err("%s:%d: more than %d words", name, no, MAX_WORDS);
			w[n++] = t;
		}
		if (n == 0)
			continue;
		if (n < 2 || (strcmp(w[0], "vm") && strcmp(w[0], "flow")) ||
		    (strcmp(w[1], "add") && strcmp(w[1], "del")))
			return usage_err("%s:%d: only vm add|del and flow add|del can be"
					 " batched", name, no);
		for (int i = 2; i < n; i++)
			if (is_help(w[i]))
				return usage_err("%s:%d: --help in a batch", name, no);
		r = w[0][0] == 'v' ? cmd_vm(n - 1, w + 1) : cmd_flow(n - 1, w + 1);
		if (r)
			return usage_err("%s:%d: not batched (above)", name, no);
		if (json_object_array_length(reqs) != 1)
			return usage_err("%s:%d: not one request", name, no);
		if (out_add(o, json_object_array_get_idx(reqs, 0), no))
			return EX_REFUSED;
		json_object_array_del_idx(reqs, 0, 1);
	}
	if (ferror(f))
		return usage_err("%s: %s", name, strerror(errno));
	return EX_OK;
}

/* The last line, then the commit. */
static int finish_batch(struct batch_out *o)
{
	struct json_object *rep, *data;

	if (out_flush(o) || out_settle(o) || !(rep = ask(&o->c, "batch.commit", NULL)))
		return EX_REFUSED;
	json_object_object_get_ex(rep, "data", &data);
	if (json_out)
		print_json(data);
	else
		printf("batch: %zu requests: %d VMs added, %d deleted; %d flows added,"
		       " %d deleted\n", o->c.n, (int)ji(data, "vms_added"),
		       (int)ji(data, "vms_deleted"), (int)ji(data, "flows_added"),
		       (int)ji(data, "flows_deleted"));
	json_object_put(rep);
	return EX_OK;
}

int cmd_batch(int argc, char **argv)
{
	const char *name = argc > 0 ? argv[0] : "-";
	struct batch_out o = { .c = { .fd = -1 } };
	bool json = json_out;
	struct json_object *reqs;
	int rc;
	FILE *f;

	if (argc > 0 && is_help(argv[0])) {
		fputs(batch_help, stdout);
		return EX_OK;
	}
	if (argc > 1)
		return usage_err("batch: one FILE at most (see batch --help)");
	f = strcmp(name, "-") ? fopen(name, "re") : stdin;
	if (!f)
		return usage_err("batch: %s: %s", name, strerror(errno));
	o.c.name = strcmp(name, "-") ? name : "stdin";
	reqs = json_object_new_array();
	batch_requests = reqs;
	json_out = false;       /* the commands print nothing when collected */
	rc = out_put(&o, add_head, sizeof(add_head) - 1) ? EX_REFUSED :
		read_lines(f, o.c.name, reqs, &o);
	batch_requests = NULL;
	json_out = json;
	if (f != stdin)
		fclose(f);
	if (!rc && o.c.n == 0)
		rc = usage_err("batch: %s has no command", name);
	if (!rc)
		rc = finish_batch(&o);
	/* a batch not committed goes with the connection */
	if (o.c.fd >= 0)
		close(o.c.fd);
	xv_linebuf_free(&o.c.lb);
	json_object_put(reqs);
	free(o.lines);
	free(o.buf);
	return rc;
}
