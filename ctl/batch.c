// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnetctl batch [FILE|-]: many vm add|del and flow add|del in one commit
 * (loader/api/batch.c), as ip -batch takes a file of commands.  Each line
 * is parsed by the same code as on the command line, into the request it
 * would send; then the requests go over one connection, in batch.add lines
 * under the socket's limit, and batch.commit applies them all or none.
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
"  from FILE or standard input.  Every line is checked, then all are applied\n"
"  in one commit and recorded once, or none is (exit 1, the line named)\n";

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

/* One request over the open connection (args taken): its reply when xvnetd
 * accepts it; a refusal or a broken connection is said and gives NULL. */
static struct json_object *ask(struct conn *c, const char *cmd, struct json_object *args)
{
	struct json_object *req = json_object_new_object(), *rep, *ok, *e;

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "args", args);
	rep = xv_send_json(c->fd, req) ? NULL : xv_recv_json(c->fd, &c->lb);
	json_object_put(req);
	if (!rep) {
		fprintf(stderr, "xvnetctl: %s: %s\n", sock_path, strerror(errno));
		return NULL;
	}
	if (json_object_object_get_ex(rep, "ok", &ok) && json_object_get_boolean(ok))
		return rep;
	say_refused(c, json_object_object_get_ex(rep, "error", &e) ?
		    json_object_get_string(e) : "malformed reply");
	json_object_put(rep);
	return NULL;
}

/* Parse every line into reqs (line numbers in lines); an exit code. */
static int read_lines(FILE *f, const char *name, struct json_object *reqs,
		      int **lines)
{
	char buf[4096];
	size_t cap = 0;
	int no = 0;

	while (fgets(buf, sizeof(buf), f)) {
		char *w[MAX_WORDS], *save = NULL, *t, *hash = strchr(buf, '#');
		size_t before = json_object_array_length(reqs);
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
		if (json_object_array_length(reqs) != before + 1)
			return usage_err("%s:%d: not one request", name, no);
		if (before >= cap) {
			int *l = realloc(*lines, (cap = cap ? cap * 2 : 1024) * sizeof(**lines));

			if (!l)
				return usage_err("out of memory");
			*lines = l;
		}
		(*lines)[before] = no;
	}
	if (ferror(f))
		return usage_err("%s: %s", name, strerror(errno));
	return EX_OK;
}

static int send_batch(struct json_object *reqs, const char *name, const int *lines)
{
	struct conn c = { .fd = xv_connect(sock_path), .name = name, .lines = lines,
			  .n = json_object_array_length(reqs) };
	struct json_object *rep = NULL, *data;
	size_t i = 0;

	if (c.fd < 0) {
		fprintf(stderr, "xvnetctl: cannot reach xvnetd at %s: %s\n", sock_path,
			strerror(errno));
		return EX_REFUSED;
	}
	if (!(rep = ask(&c, "batch.begin", NULL)))
		goto out;
	while (i < c.n) {
		struct json_object *chunk = json_object_new_array(), *args;
		size_t bytes = 0;

		/* requests until the line would pass CHUNK_BYTES */
		for (; i < c.n && (bytes < CHUNK_BYTES || !json_object_array_length(chunk)); i++) {
			struct json_object *r = json_object_array_get_idx(reqs, i);

			bytes += strlen(json_object_to_json_string(r)) + 1;
			json_object_array_add(chunk, json_object_get(r));
		}
		args = json_object_new_object();
		json_object_object_add(args, "requests", chunk);
		json_object_put(rep);
		if (!(rep = ask(&c, "batch.add", args)))
			goto out;       /* a refusal: xvnetd discarded the batch */
	}
	json_object_put(rep);
	if (!(rep = ask(&c, "batch.commit", NULL)))
		goto out;
	json_object_object_get_ex(rep, "data", &data);
	if (json_out)
		print_json(data);
	else
		printf("batch: %zu requests: %d VMs added, %d deleted; %d flows added,"
		       " %d deleted\n", c.n, (int)ji(data, "vms_added"),
		       (int)ji(data, "vms_deleted"), (int)ji(data, "flows_added"),
		       (int)ji(data, "flows_deleted"));
out:
	close(c.fd);
	xv_linebuf_free(&c.lb);
	if (!rep)
		return EX_REFUSED;
	json_object_put(rep);
	return EX_OK;
}

int cmd_batch(int argc, char **argv)
{
	const char *name = argc > 0 ? argv[0] : "-";
	bool json = json_out;
	struct json_object *reqs;
	int *lines = NULL, rc;
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
	reqs = json_object_new_array();
	batch_requests = reqs;
	json_out = false;       /* the commands print nothing when collected */
	rc = read_lines(f, strcmp(name, "-") ? name : "stdin", reqs, &lines);
	batch_requests = NULL;
	json_out = json;
	if (f != stdin)
		fclose(f);
	if (!rc && json_object_array_length(reqs) == 0)
		rc = usage_err("batch: %s has no command", name);
	if (!rc)
		rc = send_batch(reqs, strcmp(name, "-") ? name : "stdin", lines);
	json_object_put(reqs);
	free(lines);
	return rc;
}
