// SPDX-License-Identifier: GPL-2.0-only
/* xvnetd as a host service: see loader/api/service.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <systemd/sd-daemon.h>

#include "lib/err.h"
#include "loader/kern/log.h"
#include "loader/api/service.h"
#include "loader/kern/xvd.h"


/* ---- systemd ------------------------------------------------------------- */

void svc_notify_ready(const struct xvd *d)
{
	/* READY=1 only now that the socket listens: `systemctl start` returns
	 * when xvnetctl can talk to us.  Libsystemd's sd_notify rather than
	 * our own datagram: it handles abstract sockets and the protocol's
	 * details, and Debian ships it on every systemd host. */
	int r = sd_notifyf(0, "READY=1\nSTATUS=%s%s, %zu VMs",
			   d->empty ? "no config: " : "nic ",
			   d->empty ? d->config_path : d->cfg.nic, d->cfg.n_vms);

	if (r < 0)
		log_warn("sd_notify: %s", strerror(-r));
}

void svc_notify(const char *what)
{
	sd_notify(0, what);
}

/* ---- files ------------------------------------------------------------- */

/* The whole file, NUL-terminated; NULL with errno (ENOENT: absent). */
static char *read_text(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = (cap ? cap * 2 : 8192));

			if (!p) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = p;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

/* Parse text as the file fname (errors name fname and the line). */
static int parse_text(const char *text, const char *fname,
		      struct xvd_config *cfg, char *err, size_t errlen)
{
	size_t len = strlen(text);
	FILE *f = fmemopen((void *)(len ? text : "\n"), len ? len : 1, "r");
	int r;

	if (!f) {
		config_init(cfg);
		return ERR("%s: %s", fname, strerror(errno));
	}
	r = config_parse_stream(f, fname, cfg, err, errlen);
	fclose(f);
	return r;
}

/*
 * The admin's configuration: FILE, then FILE.d/ *.conf in name order (glob
 * sorts), as one text, so that a drop-in (from a package, a config
 * management tool) is a statement like any other and the merge of a reload
 * sees it.  Parse errors are given back with the file and line they come
 * from (the text's line numbers are mapped back).
 */
struct admin_src {
	glob_t g;
	size_t n;                       /* files: main + drop-ins */
	int first[64];                  /* text line of each file's line 1 */
	const char *name[64];
};

static char *read_admin_text(const char *path, struct admin_src *src)
{
	char pattern[PATH_MAX + 16], *text, *all;
	size_t len, total, lines = 0;

	memset(src, 0, sizeof(*src));
	text = read_text(path, &len);
	if (!text)
		return NULL;
	src->name[0] = path;
	src->first[0] = 1;
	src->n = 1;
	snprintf(pattern, sizeof(pattern), "%s.d/*.conf", path);
	if (glob(pattern, 0, NULL, &src->g) != 0)
		return text;
	all = text;
	total = len;
	for (size_t i = 0; i < src->g.gl_pathc && src->n < 64; i++) {
		size_t dlen;
		char *drop = read_text(src->g.gl_pathv[i], &dlen), *p;

		if (!drop)
			continue;
		if (total && all[total - 1] != '\n')
			dlen++;                 /* the previous file's last line */
		p = realloc(all, total + dlen + 1);
		if (!p) {
			free(drop);
			break;
		}
		all = p;
		if (total && all[total - 1] != '\n')
			all[total++] = '\n';
		for (size_t k = 0; k < total; k++)
			lines += all[k] == '\n';
		strcpy(all + total, drop);
		total += strlen(drop);
		free(drop);
		src->name[src->n] = src->g.gl_pathv[i];
		src->first[src->n++] = (int)lines + 1;
		lines = 0;
	}
	return all;
}

static void admin_src_free(struct admin_src *src)
{
	if (src->n)
		globfree(&src->g);
	memset(src, 0, sizeof(*src));
}

/* "PATH:N: why" about the joined text -> "FILE:LINE: why". */
static void admin_err(const struct admin_src *src, const char *path, char *err,
		      size_t errlen)
{
	size_t pl = strlen(path), k;
	char why[XV_ERR_LEN];
	long line;
	char *end;

	if (src->n < 2 || strncmp(err, path, pl) || err[pl] != ':')
		return;
	line = strtol(err + pl + 1, &end, 10);
	if (end == err + pl + 1 || *end != ':')
		return;
	for (k = src->n - 1; k > 0 && line < src->first[k]; k--)
		;
	snprintf(why, sizeof(why), "%s", end + 1);
	snprintf(err, errlen, "%s:%ld:%s", src->name[k],
		 line - src->first[k] + 1, why);
}

/* Read and parse the admin's configuration: 1 absent, 0 ok, -1 error. */
static int load_admin(const char *path, char **text, struct xvd_config *cfg,
		      char *err, size_t errlen)
{
	struct admin_src src;
	int r = 0;

	config_init(cfg);
	*text = read_admin_text(path, &src);
	if (!*text && errno == ENOENT)
		r = 1;
	else if (!*text)
		r = ERR("%s: %s", path, strerror(errno));
	else if (parse_text(*text, path, cfg, err, errlen)) {
		admin_err(&src, path, err, errlen);
		free(*text);
		*text = NULL;
		r = -1;
	} else if (src.n > 1) {
		log_debug("%s: with %zu drop-ins from %s.d", path, src.n - 1, path);
	}
	admin_src_free(&src);
	return r;
}

int svc_check_config(const char *path)
{
	struct xvd_config cfg;
	char err[XV_ERR_LEN], *text;
	int r = load_admin(path, &text, &cfg, err, sizeof(err));

	if (r) {
		if (r == 1)
			fprintf(stderr, "%s: no such file\n", path);
		else
			fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: OK (nic %s, %zu VMs, %zu flows, %zu rules)\n", path,
	       cfg.nic, cfg.n_vms, cfg.n_flows, cfg.n_rules);
	config_free(&cfg);
	free(text);
	return 0;
}

static int mkdir_state(const struct xvd *d, char *err, size_t errlen)
{
	/* 0700: the state names every VM's addresses and ports */
	if (mkdir(d->state_dir, 0700) && errno != EEXIST)
		return ERR("mkdir %s: %s", d->state_dir, strerror(errno));
	return 0;
}

/* cfg as the daemon's state (atomic renames), its flows apart: d->save,
 * which only the commit calls (loader/kern/commit.h). */
static int svc_save(struct xvd *d, const struct xvd_config *cfg,
		    bool flows_unchanged, char *err, size_t errlen)
{
	if (mkdir_state(d, err, errlen))
		return -1;
	return config_save_state(cfg, d->state_path, &d->state_flows,
				 flows_unchanged, err, errlen);
}

int svc_set_state_dir(struct xvd *d, const char *dir)
{
	if (snprintf(d->state_dir, sizeof(d->state_dir), "%s", dir) >=
	    (int)sizeof(d->state_dir))
		return -1;
	snprintf(d->state_path, sizeof(d->state_path), "%s/" XV_STATE_FILE, dir);
	snprintf(d->applied_path, sizeof(d->applied_path), "%s/" XV_APPLIED_FILE,
		 dir);
	d->save = svc_save;     /* the one state file kern/ records to */
	return 0;
}

int svc_save_applied(struct xvd *d, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 64];
	FILE *f;

	if (!d->admin_text) {           /* nothing applied: no base */
		unlink(d->applied_path);
		return 0;
	}
	if (mkdir_state(d, err, errlen))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", d->applied_path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return ERR("%s: %s", tmp, strerror(errno));
	if (fputs(d->admin_text, f) == EOF || fflush(f) || fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		return ERR("%s: write: %s", tmp, strerror(errno));
	}
	fclose(f);
	if (rename(tmp, d->applied_path)) {
		unlink(tmp);
		return ERR("%s: rename: %s", d->applied_path, strerror(errno));
	}
	return 0;
}

/* The admin's file: 1 absent, 0 read and parsed, -1 error. */
static int read_admin(const struct xvd *d, char **text, struct xvd_config *cfg,
		      char *err, size_t errlen)
{
	return load_admin(d->config_path, text, cfg, err, errlen);
}

int svc_load(struct xvd *d, char *err, size_t errlen)
{
	struct xvd_config admin, base, merged;
	char *text, *base_text;
	int r;

	config_init(&d->admin);
	r = read_admin(d, &text, &admin, err, errlen);
	if (r < 0 && access(d->state_path, F_OK) != 0)
		return -1;              /* nothing else to run from */
	if (r < 0) {
		/* a bad edit must not stop a restart: run from the state, as a
		 * refused reload keeps what runs; the last applied copy stays
		 * the base of the next reload */
		log_err("%s; running from the state, the edit is not applied", err);
		text = read_text(d->applied_path, NULL);
		if (text && parse_text(text, d->applied_path, &admin, err, errlen)) {
			free(text);
			text = NULL;
		}
		r = text ? 0 : 2;
	}
	if (access(d->state_path, F_OK) != 0) {
		if (r == 1) {   /* nothing at all: wait for a config */
			d->empty = true;
			config_init(&d->cfg);
			log_warn("%s: no such file: starting without a datapath;"
				 " write it, then 'xvnetctl reload'", d->config_path);
			return 0;
		}
		log_info("no state in %s: starting from %s", d->state_dir,
			 d->config_path);
		if (config_copy(&d->cfg, &admin)) {
			config_free(&admin);
			free(text);
			return ERR("out of memory");
		}
		d->admin = admin;
		d->admin_text = text;
		return 0;
	}
	if (config_load(d->state_path, &d->cfg, err, errlen)) {
		config_free(&admin);
		free(text);
		return -1;      /* never guess: the admin moves it away */
	}
	log_info("state from %s", d->state_path);
	if (r) {
		if (r == 1)
			log_warn("%s: no such file: running from the state alone",
				 d->config_path);
		return 0;
	}
	/* the admin's edits made while xvnetd was not running */
	base_text = read_text(d->applied_path, NULL);
	if (base_text && strcmp(base_text, text) != 0 &&
	    parse_text(base_text, d->applied_path, &base, err, errlen) == 0) {
		r = config_merge(&d->cfg, &base, &admin, &merged, err, errlen);
		config_free(&base);
		if (r) {
			log_err("%s changed since it was last applied, but: %s;"
				" running from the state", d->config_path, err);
			free(text);
			text = base_text;       /* the base stays the base */
			base_text = NULL;
			config_free(&admin);
			parse_text(text, d->applied_path, &admin, err, errlen);
		} else {
			log_info("%s changed since it was last applied: merged",
				 d->config_path);
			config_free(&d->cfg);
			d->cfg = merged;
		}
	}
	free(base_text);
	config_take_globals(&d->cfg, &admin);
	d->admin = admin;
	d->admin_text = text;
	return 0;
}

int svc_reload_config(struct xvd *d, struct xvd_config *next, char *err,
		      size_t errlen)
{
	struct xvd_config admin;
	char *text;
	int r = read_admin(d, &text, &admin, err, errlen);

	if (r == 1)
		return ERR("%s: no such file", d->config_path);
	if (r < 0)
		return -1;
	if (d->empty)   /* first config: the file as it is */
		r = config_copy(next, &admin) ? ERR("out of memory") : 0;
	else
		r = config_merge(&d->cfg, &d->admin, &admin, next, err, errlen);
	if (r) {
		config_free(&admin);
		free(text);
		return -1;
	}
	config_free(&d->pending);
	free(d->pending_text);
	d->pending = admin;
	d->pending_text = text;
	return 0;
}

void svc_reload_done(struct xvd *d)
{
	char err[XV_ERR_LEN];

	config_free(&d->admin);
	free(d->admin_text);
	d->admin = d->pending;
	d->admin_text = d->pending_text;
	config_init(&d->pending);
	d->pending_text = NULL;
	if (svc_save_applied(d, err, sizeof(err)))
		log_warn("%s", err);
}

int svc_load_any(const struct xvd *d, struct xvd_config *cfg, char *err,
		 size_t errlen)
{
	if (access(d->state_path, F_OK) == 0)
		return config_load(d->state_path, cfg, err, errlen);
	return config_load(d->config_path, cfg, err, errlen);
}
