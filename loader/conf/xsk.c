// SPDX-License-Identifier: GPL-2.0-only
/* The "xsk-*" knobs of a VM: see loader/conf/xsk.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/knobs.h"
#include "lib/parse.h"
#include "loader/conf/xsk.h"

/* lib/knobs.h names them; the fields they set: */
static const struct {
	const char *key;
	enum xv_knob_kind kind;
	size_t off;
	unsigned long min, max, def;
} knobs[] = {
#define XV_X_XSK(k, f, kd, mn, mx, d, arg, help) \
	{ k, kd, offsetof(struct xsk_conf, f), mn, mx, d },
	XV_XSK_KNOBS(XV_X_XSK)
#undef XV_X_XSK
};
#define N_KNOBS (sizeof(knobs) / sizeof(knobs[0]))

static bool numeric(enum xv_knob_kind kind)
{
	return kind == XV_KNOB_UINT || kind == XV_KNOB_POW2;
}

static uint32_t *knob_u32(struct xsk_conf *c, size_t i)
{
	return (uint32_t *)((char *)c + knobs[i].off);
}

static uint8_t *knob_u8(struct xsk_conf *c, size_t i)
{
	return (uint8_t *)((char *)c + knobs[i].off);
}

/* on = 1, off = 2 (0: not given, the default) */
static int onoff(const char *key, const char *val, uint8_t *out, char *err,
		 size_t errlen)
{
	if (val && (!strcmp(val, "on") || !strcmp(val, "true") || !strcmp(val, "1")))
		*out = 1;
	else if (val && (!strcmp(val, "off") || !strcmp(val, "false") ||
			 !strcmp(val, "0")))
		*out = 2;
	else
		return ERR("%s: '%.64s' is not on or off", key, val ? val : "");
	return 0;
}

/* "0,2-3" -> bit mask of NIC RX queues */
static int parse_queues(const char *key, const char *val, uint32_t *out,
			char *err, size_t errlen)
{
	uint8_t q[64];
	size_t n;

	if (!val || !*val)
		return ERR("%s: needs a value (e.g. 0,2-3)", key);
	if (xv_parse_num_list(key, val, XVNET_MAX_NIC_QUEUES - 1, "queue", q,
			      sizeof(q), &n, err, errlen))
		return -1;
	*out = 0;
	for (size_t i = 0; i < n; i++)
		*out |= 1u << q[i];
	return 0;
}

int xsk_conf_set(struct xsk_conf *c, const char *key, const char *val,
		 char *err, size_t errlen)
{
	static const char known[] =
#define XV_X_XSK(k, f, kd, mn, mx, d, arg, help) ", " k
		XV_XSK_KNOBS(XV_X_XSK);
#undef XV_X_XSK
	unsigned long v;
	size_t i;

	for (i = 0; i < N_KNOBS && strcmp(key, knobs[i].key); i++)
		;
	if (i == N_KNOBS)
		return ERR("%s: unknown key (%s)", key, known + 2);
	if (knobs[i].kind == XV_KNOB_ONOFF)
		return onoff(key, val, knob_u8(c, i), err, errlen);
	if (knobs[i].kind == XV_KNOB_QUEUES)
		return parse_queues(key, val, knob_u32(c, i), err, errlen);
	if (!val)
		return ERR("%s: needs a value", key);
	if (xv_parse_uint(key, val, knobs[i].min, knobs[i].max, &v, err, errlen))
		return -1;
	if (knobs[i].kind == XV_KNOB_POW2 && (v & (v - 1)))
		return ERR("%s: '%lu' is not a power of two", key, v);
	*knob_u32(c, i) = (uint32_t)v;
	return 0;
}

bool xsk_conf_is_set(const struct xsk_conf *c)
{
	static const struct xsk_conf zero;

	return memcmp(c, &zero, sizeof(zero)) != 0;
}

/* Numbers, then the queue list, then the switches (the file's order). */
void xsk_conf_format(const struct xsk_conf *conf, FILE *f)
{
	struct xsk_conf c = *conf;

	for (size_t i = 0; i < N_KNOBS; i++)
		if (numeric(knobs[i].kind) && *knob_u32(&c, i))
			fprintf(f, " %s %u", knobs[i].key, *knob_u32(&c, i));
	for (size_t i = 0; i < N_KNOBS; i++) {
		const char *sep = "";

		if (knobs[i].kind != XV_KNOB_QUEUES || !*knob_u32(&c, i))
			continue;
		fprintf(f, " %s ", knobs[i].key);
		for (int q = 0; q < XVNET_MAX_NIC_QUEUES; q++)
			if (*knob_u32(&c, i) & (1u << q)) {
				fprintf(f, "%s%d", sep, q);
				sep = ",";
			}
	}
	for (size_t i = 0; i < N_KNOBS; i++)
		if (knobs[i].kind == XV_KNOB_ONOFF && *knob_u8(&c, i))
			fprintf(f, " %s %s", knobs[i].key,
				*knob_u8(&c, i) == 1 ? "on" : "off");
}

void xsk_conf_resolve(const struct xsk_conf *c, struct xsk_conf *out)
{
	*out = *c;
	for (size_t i = 0; i < N_KNOBS; i++)
		if (numeric(knobs[i].kind) && !*knob_u32(out, i))
			*knob_u32(out, i) = (uint32_t)knobs[i].def;
	if (!out->need_wakeup)
		out->need_wakeup = 1;
	if (!out->prefer_busy_poll)
		out->prefer_busy_poll = 2;
}
