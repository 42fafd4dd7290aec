/* SPDX-License-Identifier: GPL-2.0-only */
/* The flow requests (loader/api/flow.c). */
#ifndef XVNET_LOADER_API_FLOW_H
#define XVNET_LOADER_API_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "loader/conf/config.h"

struct json_object;

/* Whole validation of flow.add (add) or flow.del arguments against cfg. */
int flow_request_parse(const struct xvd_config *cfg, struct json_object *args,
		       bool add, struct flow_conf *fc, char *err, size_t errlen);

#endif
