/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef XVNET_LOADER_API_RULES_H
#define XVNET_LOADER_API_RULES_H

struct json_object;
struct xvd;

/* rule.add / rule.del / rule.list (loader/api/rules.c). */
struct json_object *rule_add(struct xvd *d, struct json_object *args);
struct json_object *rule_del(struct xvd *d, struct json_object *args);
struct json_object *rule_list(struct xvd *d, struct json_object *args);

#endif
