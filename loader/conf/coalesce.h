/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM's notification coalescing as configured (struct coal_conf): the
 * "coalesce-*" keys of vm statements and the fields of coalesce.set
 * requests (named in lib/knobs.h), their bounds and checks.  Applying
 * them: loader/kern/coalesce.h.
 */
#ifndef XVNET_LOADER_CONF_COALESCE_H
#define XVNET_LOADER_CONF_COALESCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "loader/conf/config.h"

#define NAPI_DEFER_MAX   10000          /* consecutive empty polls */
#define NAPI_FLUSH_MAX   100000         /* us; the kernel takes ns */

/* Config keys "coalesce-*" (vm statements). */
int coal_conf_set(struct coal_conf *c, const char *key, const char *val,
		  char *err, size_t errlen);
void coal_conf_format(const struct coal_conf *c, FILE *f);
/* Values in range and the VM's port kind takes them. */
int coal_conf_check(const struct vm_conf *vm, char *err, size_t errlen);
/* One coalesce.set field (rx_frames, ...: lib/knobs.h) onto c. */
int coal_conf_set_field(struct coal_conf *c, const char *field, const char *val,
			char *err, size_t errlen);
bool coal_conf_is_set(const struct coal_conf *c);
/* Why the VM's port kind takes no coalescing, or NULL (xsk). */
const char *coal_not_applicable(const struct vm_conf *vm);

#endif
