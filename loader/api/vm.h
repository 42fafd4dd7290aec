/* SPDX-License-Identifier: GPL-2.0-only */
/* The vm requests (loader/api/vm.c, loader/api/vm_move.c). */
#ifndef XVNET_LOADER_API_VM_H
#define XVNET_LOADER_API_VM_H

#include <stddef.h>

#include "loader/conf/config.h"

struct json_object;
struct xvd;

/* Whole validation of vm.add's arguments against cfg; nothing applied. */
int vm_request_parse(const struct xvd_config *cfg, struct json_object *args,
		     struct vm_conf *vm, char *err, size_t errlen);
/* vm.move (loader/api/vm_move.c): prepare, switch, commit; abort on any
 * failure before the switch. */
struct json_object *vm_move(struct xvd *d, struct json_object *args);

#endif
