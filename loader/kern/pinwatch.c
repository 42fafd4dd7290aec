// SPDX-License-Identifier: GPL-2.0-only
/* Pins put back while xvnetd runs (loader/kern/pinwatch.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader/kern/log.h"
#include "loader/kern/datapath.h"
#include "loader/kern/pinwatch.h"
#include "nic_rx.skel.h"

/* The object's id: maps and links both report it second in their info. */
static __u32 obj_id(int fd, bool link)
{
	struct bpf_map_info mi = { 0 };
	struct bpf_link_info li = { 0 };
	__u32 len = link ? sizeof(li) : sizeof(mi);

	if (bpf_obj_get_info_by_fd(fd, link ? (void *)&li : (void *)&mi, &len))
		return 0;
	return link ? li.id : mi.id;
}

static void check_one(struct xvd *d, const char *path, int fd, bool link)
{
	__u32 ours = obj_id(fd, link), there = 0;
	int pfd = bpf_obj_get(path);
	const char *what;

	if (pfd >= 0) {
		there = obj_id(pfd, link);
		close(pfd);
		if (there == ours)
			return;
		what = "replaced by another object";
		if (unlink(path)) {
			log_err("pin %s %s (id %u, ours %u) and not removable: %s",
				path, what, there, ours, strerror(errno));
			return;
		}
	} else if (errno == ENOENT) {
		what = "removed";
	} else {
		return;     /* unreadable now (EACCES, ...): not ours to judge */
	}
	if (bpf_obj_pin(fd, path)) {
		log_err("pin %s %s; restoring it failed: %s", path, what, strerror(errno));
		return;
	}
	d->pins.restored++;
	snprintf(d->pins.last, sizeof(d->pins.last), "%s (%s)", path, what);
	log_warn("pin %s was %s under the running daemon: ours (id %u) pinned"
		 " again, so that a restart adopts the running data path", path,
		 what, ours);
}

void pins_check(struct xvd *d, uint64_t now_ms)
{
	struct bpf_map *map;
	char path[PATH_MAX];

	if (!d->skel || now_ms < d->pins.next_ms)
		return;
	d->pins.next_ms = now_ms + PINWATCH_EVERY_MS;
	d->pins.checks++;
	bpf_object__for_each_map(map, d->skel->obj) {
		const char *name = bpf_map__name(map);

		if (strncmp(name, "xvnet_", 6) != 0 || bpf_map__fd(map) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", xv_pin_dir, name);
		check_one(d, path, bpf_map__fd(map), false);
	}
	if (d->link_fd >= 0)
		check_one(d, dp_link_pin(), d->link_fd, true);
}
