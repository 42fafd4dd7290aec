/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xvnetd as a host service: systemd readiness, the admin's config apart from
 * the daemon's state, --check-config, --version.
 *
 * Files: the admin's config (--config, default /etc/xvnet/xvnetd.conf) is
 * read, never written.  The state directory (--state-dir, default
 * /var/lib/xvnet) holds
 *   xvnetd.state          the last committed state, config syntax: what
 *                         the daemon runs (VMs added at run time, ids,
 *                         owned ports, flows, rules, rss and coalescing)
 *   xvnetd.conf.applied   a copy of the admin's file as last applied, the
 *                         base of the three-way merge of a reload
 * Start: the state file if present, plus the admin's edits since it was
 * last applied (config_merge); else the admin's file; else (no file at
 * all) an empty daemon without a datapath that waits for a reload.
 */
#ifndef XVNET_LOADER_SERVICE_H
#define XVNET_LOADER_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#define XV_DEFAULT_STATE_DIR "/var/lib/xvnet"
#define XV_STATE_FILE        "xvnetd.state"
#define XV_APPLIED_FILE      "xvnetd.conf.applied"

struct xvd;
struct xvd_config;

/* sd_notify(3) wrappers: nothing happens without $NOTIFY_SOCKET. */
void svc_notify_ready(const struct xvd *d);
void svc_notify(const char *what);      /* "RELOADING=1", "STOPPING=1" */


/* xvnetd --check-config FILE: "FILE: OK" or "FILE:LINE: reason";
 * returns the exit code (0 or 1); reads FILE only. */
int svc_check_config(const char *path);

/* Paths under d->state_dir. */
int svc_set_state_dir(struct xvd *d, const char *dir);
/* The configuration to start from (see above); d->empty if none. */
int svc_load(struct xvd *d, char *err, size_t errlen);
/* Record d->admin_text as the last applied admin file. */
int svc_save_applied(struct xvd *d, char *err, size_t errlen);
/* Reload: re-read the admin's file and merge it into *next (no kernel
 * change yet).  The caller applies next, then calls svc_reload_done. */
int svc_reload_config(struct xvd *d, struct xvd_config *next, char *err,
		      size_t errlen);
void svc_reload_done(struct xvd *d);
/* --teardown: the ports to delete, from the state (else the config). */
int svc_load_any(const struct xvd *d, struct xvd_config *cfg, char *err,
		 size_t errlen);

#endif
