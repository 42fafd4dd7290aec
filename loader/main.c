// SPDX-License-Identifier: GPL-2.0-only
/*
 * xvnetd: loads nic_rx, attaches it to the NIC, owns the VM ports and the
 * maps, and serves xvnetctl.  Exiting leaves the datapath running (pinned
 * maps and link, tc filter, ports); --teardown removes all of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/proto.h"
#include "loader/kern/coalesce.h"
#include "loader/kern/commit.h"
#include "loader/kern/log.h"
#include "loader/kern/datapath.h"
#include "loader/kern/move.h"
#include "loader/kern/napi.h"
#include "loader/kern/netdev.h"
#include "loader/kern/orphans.h"
#include "loader/kern/vhostsup.h"
#include "loader/api/service.h"
#include "loader/api/server.h"
#include "xv_version.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: xvnetd [--config FILE] [--state-dir DIR] [--socket PATH] [--foreground]\n"
"              [--xdp-mode native|generic] [--log-level err|warn|info|debug]\n"
"              [--pin-dir DIR] [--without FEATURES] [--health-window S]\n"
"              [--teardown]\n"
"       xvnetd --check-config FILE | --probe | --version\n"
"  --config FILE     the admin's configuration, read only (default\n"
"                    " XV_DEFAULT_CONFIG "; may be absent)\n"
"  --state-dir DIR   xvnetd's own state (default " XV_DEFAULT_STATE_DIR ")\n"
"  --check-config FILE  parse and validate FILE, print OK or the error\n"
"                    with its line; exit 0 or 1; nothing else is touched\n"
"  --version         print the version\n"
"  --socket PATH     control socket (default " XV_DEFAULT_SOCKET ")\n"
"  --foreground      stay in the foreground, log to stderr (else syslog)\n"
"  --xdp-mode MODE   native (default) or generic (slow fallback)\n"
"  --log-level L     err, warn, info (default) or debug\n"
"  --pin-dir DIR     where maps and the link are pinned (default\n"
"                    " XVNET_PIN_DIR "; under /sys/fs/bpf)\n"
"  --without LIST    treat these kernel features as absent (comma list,\n"
"                    see --probe): tests every fallback on any kernel;\n"
"                    also read from XVNET_WITHOUT\n"
"  --health-window S status calls a datapath error counter a problem when\n"
"                    it grew within the last S to 2*S seconds (1-3600,\n"
"                    default 10)\n"
"  --probe           probe the kernel's features, print what the data path\n"
"                    would use and what it does instead, then exit\n"
"  --teardown        remove the datapath, the pins and the ports xvnetd\n"
"                    created, then exit\n");
}

/* One daemon per socket path; the lock lives next to the socket. */
static int take_lock(const char *socket_path, bool quiet)
{
	char path[PATH_MAX + 8], dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", socket_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST && !quiet)
			log_warn("mkdir %s: %s", dir, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s.lock", socket_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (!quiet)
			log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (!quiet)
			log_err("another xvnetd holds %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* --probe: one line a feature; exit 0 when xvnet can run here. */
static int probe(struct xvd *d)
{
	char err[XV_ERR_LEN];
	bool head, inl;

	if (xv_features_probe(&d->feat, err, sizeof(err))) {
		fprintf(stderr, "xvnetd: %s\n", err);
		return 2;
	}
	for (int f = 0; f < XV_FEAT_MAX; f++) {
		bool use = xv_feature_usable(&d->feat, f);

		printf("%-14s %-8s %s\n", xv_feature_name(f),
		       use ? "yes" : d->feat.present[f] ? "disabled" : "no",
		       xv_feature_what(f));
		if (!use)
			printf("%-14s %-8s %s; instead: %s\n", "", "",
			       d->feat.disabled[f] ? "--without" : d->feat.why[f],
			       xv_feature_instead(f));
	}
	head = xv_feature_usable(&d->feat, XV_FEAT_XDP_META);
	inl = xv_feature_usable(&d->feat, XV_FEAT_XDP_HEAD);
	printf("metadata: %s\n", head ? "head (bpf_xdp_adjust_meta)" :
	       inl ? "inline (tagged prefix, bpf_xdp_adjust_head)" : "none: xvnet cannot run");
	return head || inl ? 0 : 1;
}

static int teardown(struct xvd *d)
{
	char err[XV_ERR_LEN];
	struct xvd_config cfg;
	int rc;

	if (svc_load_any(d, &cfg, err, sizeof(err))) {
		log_warn("%s: ports cannot be identified, only the datapath is"
			 " removed", err);
		config_init(&cfg);
	}
	rc = dp_teardown(cfg.nic);      /* traffic back to the host first */
	if (dp_teardown_ports(&cfg))
		rc = -1;
	config_free(&cfg);
	log_info("teardown %s", rc ? "incomplete" : "complete");
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "teardown", no_argument, NULL, 'T' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "without", required_argument, NULL, 'W' },
		{ "health-window", required_argument, NULL, 'H' },
		{ "probe", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	static struct xvd d;
	bool fg = false, do_teardown = false, do_probe = false;
	int level = XV_LOG_INFO, c, lock, rc = 0;
	char err[XV_ERR_LEN];

	snprintf(d.config_path, sizeof(d.config_path), XV_DEFAULT_CONFIG);
	snprintf(d.socket_path, sizeof(d.socket_path), XV_DEFAULT_SOCKET);
	svc_set_state_dir(&d, XV_DEFAULT_STATE_DIR);
	/* lib/features.c cannot speak generic netlink: kern/napi.c probes */
	xv_feature_set_prober(XV_FEAT_NAPI_NETLINK, napi_probe);
	d.link_fd = -1;
	d.health_every_s = XV_HEALTH_EVERY_S;
	while ((c = getopt_long(argc, argv, "c:s:fm:l:TP:W:phV", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (svc_set_state_dir(&d, optarg)) {
				fprintf(stderr, "xvnetd: --state-dir: too long\n");
				return 2;
			}
			break;
		case 'C':
			return svc_check_config(optarg);
		case 'V':
			printf("xvnetd %s\n", XV_VERSION);
			return 0;
		case 'c':
			snprintf(d.config_path, sizeof(d.config_path), "%s", optarg);
			break;
		case 's':
			snprintf(d.socket_path, sizeof(d.socket_path), "%s", optarg);
			break;
		case 'f':
			fg = true;
			break;
		case 'P':
			if (strncmp(optarg, "/sys/fs/bpf/", 12) != 0 || strstr(optarg, "..")) {
				fprintf(stderr, "xvnetd: --pin-dir: '%s' is not a"
					" directory under /sys/fs/bpf/\n", optarg);
				return 2;
			}
			xv_pin_dir = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "generic") == 0) {
				d.xdp_generic = true;
			} else if (strcmp(optarg, "native") != 0) {
				fprintf(stderr, "xvnetd: --xdp-mode: '%s' is not"
					" native or generic\n", optarg);
				return 2;
			}
			break;
		case 'l':
			level = xv_log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "xvnetd: --log-level: '%s' is not"
					" err, warn, info or debug\n", optarg);
				return 2;
			}
			break;
		case 'T':
			do_teardown = true;
			break;
		case 'W':
			if (xv_features_disable(&d.feat, optarg, err, sizeof(err))) {
				fprintf(stderr, "xvnetd: --without: %s\n", err);
				return 2;
			}
			break;
		case 'H': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > XV_HEALTH_WINDOW_MAX) {
				fprintf(stderr, "xvnetd: --health-window: '%s' is not"
					" a number of seconds from 1 to %d\n", optarg,
					XV_HEALTH_WINDOW_MAX);
				return 2;
			}
			d.health_every_s = (int)v;
			break;
		}
		case 'p':
			do_probe = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (do_probe)
		return probe(&d);
	xv_log_init(fg || do_teardown, level);

	lock = take_lock(d.socket_path, false);
	if (lock < 0) {
		if (do_teardown)
			fprintf(stderr, "xvnetd: a daemon is running: use"
				" 'xvnetctl shutdown --teardown'\n");
		return 1;
	}
	if (do_teardown)
		return teardown(&d) ? 1 : 0;

	{
		char alias[300];

		orphans_tag(&d, alias, sizeof(alias));
		netdev_set_owner_alias(alias);
	}
	if (svc_load(&d, err, sizeof(err))) {
		log_err("%s", err);
		if (!fg)
			fprintf(stderr, "xvnetd: %s\n", err);
		return 1;
	}
	d.started = time(NULL);
	if (!d.empty && dp_start(&d, err, sizeof(err))) {
		log_err("%s", err);
		if (!fg)
			fprintf(stderr, "xvnetd: %s\n", err);
		if (d.skel)
			dp_close(&d);
		return 1;
	}
	if (!d.empty) {
		/* a vm move a previous run left: one side, before the reconcile */
		move_recover(&d);
		/* the state records what runs now (owned ports, ids) */
		if (xvd_commit_reconcile(&d, err, sizeof(err)) ||
		    svc_save_applied(&d, err, sizeof(err)))
			log_warn("state not saved: %s", err);
		else
			orphans_clean(&d);  /* only against a state on disk */
	}
	log_info("ready: nic %s, %zu VMs, %zu flows, xdp %s%s", d.cfg.nic,
		 d.cfg.n_vms, d.cfg.n_flows, dp_xdp_mode(&d),
		 d.link_adopted ? " (adopted running datapath)" : "");
	if (!fg && daemon(0, 0)) {
		log_err("daemon: %s", strerror(errno));
		return 1;
	}
	if (server_run(&d))
		rc = 1;
	vhost_stop_all(&d);       /* they hold sockets no xvnetd serves */
	coal_stop_all(&d);        /* the NIC's NAPI knobs as they were */
	dp_close(&d);
	if (d.teardown && teardown(&d))
		rc = 1;
	config_free(&d.cfg);
	close(lock);
	return rc;
}
