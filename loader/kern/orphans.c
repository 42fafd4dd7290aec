// SPDX-License-Identifier: GPL-2.0-only
/* Leftovers of a killed daemon removed at start (loader/kern/orphans.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loader/kern/log.h"
#include "loader/kern/netdev.h"
#include "loader/kern/orphans.h"

#define ALIAS_MAX 256   /* IFALIASZ */

void orphans_tag(const struct xvd *d, char *buf, size_t len)
{
	snprintf(buf, len, "xvnetd:%.240s", d->state_dir);
}

static bool sysfs_line(const char *ifname, const char *file, char *buf, size_t len)
{
	char path[300];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, file);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool named_by_vm(const struct xvd_config *cfg, const char *ifname)
{
	for (size_t i = 0; i < cfg->n_vms; i++)
		if (!strcmp(cfg->vms[i].ifname, ifname))
			return true;
	return false;
}

static int clean_devices(struct xvd *d)
{
	char tag[ALIAS_MAX], alias[ALIAS_MAX], carrier[8], why[XV_ERR_LEN];
	DIR *dir = opendir("/sys/class/net");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return 0;
	orphans_tag(d, tag, sizeof(tag));
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || named_by_vm(&d->cfg, e->d_name) ||
		    !sysfs_line(e->d_name, "ifalias", alias, sizeof(alias)) ||
		    strcmp(alias, tag))
			continue;
		/* a tap a VMM holds has carrier: not ours to pull away */
		if (sysfs_line(e->d_name, "tun_flags", carrier, sizeof(carrier)) &&
		    sysfs_line(e->d_name, "carrier", carrier, sizeof(carrier)) &&
		    carrier[0] == '1') {
			log_warn("%s: made by this xvnetd for no VM it has, but held by"
				 " a process: left in place", e->d_name);
			continue;
		}
		if (netdev_delete(e->d_name, why, sizeof(why))) {
			log_warn("%s: orphan port not removed: %s", e->d_name, why);
			continue;
		}
		log_info("%s: port made by this xvnetd for no VM it has (a change"
			 " cut short) removed", e->d_name);
		n++;
	}
	closedir(dir);
	return n;
}

/* "NAME.tmp.PID" and "NAME.tmp" left by a save that never renamed. */
static int clean_temp_files(struct xvd *d)
{
	DIR *dir = opendir(d->state_dir);
	struct dirent *e;
	char path[PATH_MAX + 300];
	int n = 0;

	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		const char *t = strstr(e->d_name, ".tmp");

		if (!t || (t[4] != '\0' && t[4] != '.'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->state_dir, e->d_name);
		if (unlink(path) == 0) {
			log_info("%s: temp file of a save cut short removed", path);
			n++;
		}
	}
	closedir(dir);
	return n;
}

int orphans_clean(struct xvd *d)
{
	return clean_devices(d) + clean_temp_files(d);
}
