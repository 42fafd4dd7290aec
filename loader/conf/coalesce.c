// SPDX-License-Identifier: GPL-2.0-only
/* A VM's coalescing as configured: see loader/conf/coalesce.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/coalesce.h"
#include "lib/err.h"
#include "lib/knobs.h"
#include "lib/parse.h"
#include "loader/conf/coalesce.h"

/* lib/knobs.h names them; the fields they set: */
static const struct {
	const char *field, *name;       /* request key; config "coalesce-" name */
	enum xv_knob_kind kind;
	unsigned long max;
	size_t off;
} knobs[] = {
#define XV_X_COAL(f, n, kd, mx, arg, help) \
	{ #f, n, kd, mx, offsetof(struct coal_conf, f) },
	XV_COAL_KNOBS(XV_X_COAL)
#undef XV_X_COAL
};
#define N_KNOBS (sizeof(knobs) / sizeof(knobs[0]))

static uint32_t *knob_u32(struct coal_conf *c, size_t i)
{
	return (uint32_t *)((char *)c + knobs[i].off);
}

static uint8_t *knob_u8(struct coal_conf *c, size_t i)
{
	return (uint8_t *)((char *)c + knobs[i].off);
}

static int knob_set(struct coal_conf *c, size_t i, const char *val, char *err,
		    size_t errlen)
{
	const char *name = knobs[i].name;
	unsigned long v;

	if (knobs[i].kind == XV_KNOB_ONOFF) {
		if (val && (!strcmp(val, "on") || !strcmp(val, "1")))
			*knob_u8(c, i) = 1;
		else if (val && (!strcmp(val, "off") || !strcmp(val, "0")))
			*knob_u8(c, i) = 0;
		else
			return ERR("%s: '%.64s' is not on or off", name, val ? val : "");
		return 0;
	}
	if (!val)
		return ERR("%s: needs a value", name);
	if (xv_parse_uint(name, val, 0, knobs[i].max, &v, err, errlen))
		return -1;
	*knob_u32(c, i) = (uint32_t)v;
	return 0;
}

int coal_conf_set(struct coal_conf *c, const char *key, const char *val,
		  char *err, size_t errlen)
{
	static const char known[] =
#define XV_X_COAL(f, n, kd, mx, arg, help) ", coalesce-" n
		XV_COAL_KNOBS(XV_X_COAL);
#undef XV_X_COAL
	const char *name = key + strlen("coalesce-");

	for (size_t i = 0; i < N_KNOBS; i++)
		if (!strcmp(name, knobs[i].name))
			return knob_set(c, i, val, err, errlen);
	return ERR("%s: unknown key (%s)", key, known + 2);
}

int coal_conf_set_field(struct coal_conf *c, const char *field, const char *val,
			char *err, size_t errlen)
{
	static const char fields[] =
#define XV_X_COAL(f, n, kd, mx, arg, help) ", " #f
		XV_COAL_KNOBS(XV_X_COAL);
#undef XV_X_COAL

	for (size_t i = 0; i < N_KNOBS; i++)
		if (!strcmp(field, knobs[i].field))
			return knob_set(c, i, val, err, errlen);
	return ERR("%s: unknown (%s)", field, fields + 2);
}

/* The numbers, then the switch (the file's order). */
void coal_conf_format(const struct coal_conf *conf, FILE *f)
{
	struct coal_conf c = *conf;

	for (size_t i = 0; i < N_KNOBS; i++)
		if (knobs[i].kind != XV_KNOB_ONOFF && *knob_u32(&c, i))
			fprintf(f, " coalesce-%s %u", knobs[i].name, *knob_u32(&c, i));
	for (size_t i = 0; i < N_KNOBS; i++)
		if (knobs[i].kind == XV_KNOB_ONOFF && *knob_u8(&c, i))
			fprintf(f, " coalesce-%s on", knobs[i].name);
}

bool coal_conf_is_set(const struct coal_conf *c)
{
	static const struct coal_conf zero;

	return memcmp(c, &zero, sizeof(zero)) != 0;
}

const char *coal_not_applicable(const struct vm_conf *vm)
{
	if (vm->port_kind == XVNET_PORT_TAP)
		return "the guest's notifications on a tap port are the VMM's"
		       " (QEMU/vhost-net): coalesce in the guest with ethtool -C";
	if (vm->port_kind == XVNET_PORT_VETH)
		return "a veth VM's kernel polls its own end (NAPI) and is notified"
		       " by no xvnet consumer: set napi_defer_hard_irqs and"
		       " gro_flush_timeout on it in the VM's namespace";
	if (vm->port_kind == XVNET_PORT_NONE)
		return "on the fallback the host stack delivers, xvnet has no"
		       " consumer to coalesce";
	return NULL;
}

int coal_conf_check(const struct vm_conf *vm, char *err, size_t errlen)
{
	struct xv_coal_policy p = { .rx_frames = vm->coal.rx_frames,
				    .rx_usecs = vm->coal.rx_usecs,
				    .adaptive = vm->coal.adaptive };
	const char *why = coal_not_applicable(vm);

	if (why && coal_conf_is_set(&vm->coal))
		return ERR("coalesce: does not apply to %s ports: %s",
			   port_kind_name(vm->port_kind), why);
	return xv_coal_check(&p, err, errlen);
}
