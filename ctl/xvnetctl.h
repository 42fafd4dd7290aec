/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xvnetctl's shared pieces: talking to xvnetd, option tables and their
 * parsing, printing helpers, and one cmd_* per object (ctl/OBJECT.c),
 * dispatched from the table in ctl/main.c, as bpftool and ip(8) do.
 * Exit codes: 0 ok, 1 refused by the daemon (or daemon unreachable),
 * 2 usage error caught locally, 3 (status only) the service is degraded.
 */
#ifndef XVNET_CTL_XVNETCTL_H
#define XVNET_CTL_XVNETCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define EX_OK 0
#define EX_REFUSED 1
#define EX_USAGE 2
#define EX_DEGRADED 3

extern const char *sock_path;   /* -s */
extern bool json_out;           /* -j */
/* xvnetctl batch: while set, call() adds each request here instead of
 * sending it (ctl/batch.c sends them as one batch) */
extern struct json_object *batch_requests;

/* "xvnetctl: ..." on stderr; returns EX_USAGE. */
int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Send {cmd, args} (args is taken); on success *data is the reply's data,
 * owned by *reply.  Refusals are printed; returns an exit code. */
int call(const char *cmd, struct json_object *args,
	 struct json_object **reply, struct json_object **data);
/* For commands that only print "ok" in -j mode. */
int call_simple(const char *cmd, struct json_object *args);

enum optkind { O_NAME, O_MAC, O_VLAN, O_PORTKIND, O_IFNAME, O_NETNS,
	       O_QUEUES, O_FLAG, O_PROTO, O_IP, O_L4PORT, O_ACTION, O_QUEUE,
	       O_ADDR /* repeatable address: a JSON list */,
	       O_TEXT /* passed as is, checked by xvnetd */ };

struct optdef {
	const char *flag;       /* without "--" */
	const char *key;        /* JSON argument */
	enum optkind kind;
};

/*
 * An object's verbs and the options each takes, from the tables its
 * parsing uses: `xvnetctl __complete` prints them for the bash completion
 * (ctl/main.c), so that the two never name different options (the knobs'
 * names come from lib/knobs.h into both).  Each object's table ends with
 * { NULL }; verb "" stands for an object whose options follow it without
 * a verb (stats, shutdown).
 */
struct verbdef {
	const char *verb;
	const struct optdef *opts;
	size_t n_opts;
};
#define VERBDEF(v, t) { v, t, sizeof(t) / sizeof(t[0]) }
extern const struct verbdef vm_verbs[], port_verbs[], flow_verbs[],
	rule_verbs[], rss_verbs[], coalesce_verbs[], stats_verbs[],
	shutdown_verbs[];

/* Parse --flag [value] pairs of argv into args (--help prints help). */
int parse_opts(int argc, char **argv, const struct optdef *defs,
	       size_t ndefs, struct json_object *args, const char *help);
bool is_help(const char *a);
bool all_digits(const char *s);
/* argv[0] as the request's "name"; --help prints help. */
int name_arg(int argc, char **argv, const char *help, const char *what,
	     struct json_object **args);
/* A read request whose reply is an array: JSON as is, or one line each. */
/* cmd (args may be NULL) whose reply is an array: JSON, or print_one each. */
int list_request(const char *cmd, struct json_object *args,
		 void (*print_one)(struct json_object *));

/* Members of a reply ("" / 0 / false when absent). */
const char *js(struct json_object *o, const char *k);
int64_t ji(struct json_object *o, const char *k);
bool jb(struct json_object *o, const char *k);
void print_json(struct json_object *data);
/* ctl/stats.c: the counters (all with counters, else per VM), with rates
 * since prev (dt seconds) under --watch. */
void print_stats(struct json_object *data, bool counters,
		 struct json_object *prev, double dt);

/* "NOUN show VM" / "NOUN set VM --opt ..." commands (rss, coalesce). */
struct show_set {
	const char *noun, *help, *get, *set, *nothing;
	const struct optdef *opts;
	size_t n_opts;
	void (*print)(struct json_object *d);
};
int cmd_show_set(int argc, char **argv, const struct show_set *c);

/* One per object: argv after the object's name. */
int cmd_status(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_port(int argc, char **argv);
int cmd_flow(int argc, char **argv);
int cmd_rule(int argc, char **argv);
int cmd_rss(int argc, char **argv);
int cmd_coalesce(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_batch(int argc, char **argv);

#endif
