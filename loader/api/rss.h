/* SPDX-License-Identifier: GPL-2.0-only */
/* The rss.get / rss.set requests (loader/api/rss.c): ethtool -x / -X for a
 * VM. */
#ifndef XVNET_LOADER_RSS_H
#define XVNET_LOADER_RSS_H

#include <stddef.h>

#include "loader/conf/config.h"

struct json_object;
struct xvnet_vm;

/*
 * rss.set arguments {name, key, equal | weight | indir, hash_fields} against
 * cfg: *out is the VM's conf with the new settings, every setting
 * configured (what live holds, when given, for those not in args).
 */
int rss_request_parse(const struct xvd_config *cfg, struct json_object *args,
		      const struct xvnet_vm *live, struct vm_conf *out,
		      char *err, size_t errlen);

#endif
