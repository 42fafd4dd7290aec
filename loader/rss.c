// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtual RSS settings of a VM, in the manner of ethtool -x / -X: the
 * 40-byte Toeplitz key, the 128-entry indirection table, the hash fields.
 * Parsing and formatting (config file and requests share them), the table
 * builders of ethtool (--equal, --weight), and the rss.get / rss.set
 * requests.
 *
 * Under traffic: xvnet_vms[vm_id] is written whole by one
 * bpf_map_update_elem; the ARRAY map copies the value in place without a
 * lock, so a concurrent nic_rx may read some bytes old and some new, but
 * each table entry is one byte, hence read whole (old or new queue, both
 * below n_queues; rss set never changes n_queues).  See docs/datapath.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "lib/err.h"
#include "lib/parse.h"
#include "lib/proto.h"
#include "lib/knobs.h"
#include "loader/commit.h"
#include "loader/log.h"
#include "loader/rss.h"
#include "loader/service.h"
#include "loader/xvnetd.h"


/* "6d:5a:..." (40 colon-separated bytes, as ethtool) or 80 hex digits. */
int rss_parse_key(const char *field, const char *s, uint8_t key[XVNET_RSS_KEY_SIZE],
		  char *err, size_t errlen)
{
	uint8_t k[XVNET_RSS_KEY_SIZE];
	size_t n = 0;
	const char *p = s;
	bool colons = strchr(s, ':') != NULL;

	while (*p) {
		int hi = xv_hexval((unsigned char)p[0]), lo;

		if (hi < 0 || !p[1] || (lo = xv_hexval((unsigned char)p[1])) < 0)
			return ERR("%s: '%.128s' is not hex bytes (40 bytes as"
				   " 6d:5a:... or 80 hex digits)", field, s);
		if (n == XVNET_RSS_KEY_SIZE)
			return ERR("%s: '%.128s' is longer than %d bytes", field, s,
				   XVNET_RSS_KEY_SIZE);
		k[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (colons) {
			if (*p == ':' && p[1])
				p++;
			else if (*p)
				return ERR("%s: '%.128s' is not hex bytes (40 bytes"
					   " as 6d:5a:... or 80 hex digits)", field, s);
		}
	}
	if (n != XVNET_RSS_KEY_SIZE)
		return ERR("%s: '%.128s' is %zu bytes, must be %d", field, s, n,
			   XVNET_RSS_KEY_SIZE);
	memcpy(key, k, sizeof(k));
	return 0;
}

void rss_format_key(const uint8_t key[XVNET_RSS_KEY_SIZE], char *buf)
{
	for (int i = 0; i < XVNET_RSS_KEY_SIZE; i++)
		sprintf(buf + i * 3, "%02x%s", key[i],
			i + 1 < XVNET_RSS_KEY_SIZE ? ":" : "");
}

/* Comma list of queues; "Q*N" is N entries of queue Q.  128 entries. */
int rss_parse_indir(const char *field, const char *s,
		    uint8_t indir[XVNET_RSS_INDIR_SIZE], char *err, size_t errlen)
{
	uint8_t t[XVNET_RSS_INDIR_SIZE];
	unsigned n = 0;
	const char *p = s;

	if (!*s)
		return ERR("%s: empty (%d comma-separated queues, Q*N repeats Q)",
			   field, XVNET_RSS_INDIR_SIZE);
	for (;;) {
		char *end;
		unsigned long q, rep = 1;

		if (!isdigit((unsigned char)*p))
			return ERR("%s: '%.128s' is not a list of queues (entry %u)",
				   field, s, n);
		q = strtoul(p, &end, 10);
		p = end;
		if (*p == '*') {
			p++;
			if (!isdigit((unsigned char)*p))
				return ERR("%s: '%.128s': bad repeat count (entry %u)",
					   field, s, n);
			rep = strtoul(p, &end, 10);
			p = end;
			if (!rep)
				return ERR("%s: '%.128s': repeat count 0 (entry %u)",
					   field, s, n);
		}
		if (q >= XVNET_MAX_QUEUES)
			return ERR("%s: entry %u is queue %lu, not below %d", field,
				   n, q, XVNET_MAX_QUEUES);
		if (rep > XVNET_RSS_INDIR_SIZE - n)
			return ERR("%s: more than %d entries", field,
				   XVNET_RSS_INDIR_SIZE);
		while (rep--)
			t[n++] = (uint8_t)q;
		if (!*p)
			break;
		if (*p != ',')
			return ERR("%s: '%.128s' is not a list of queues (entry %u)",
				   field, s, n);
		p++;
	}
	if (n != XVNET_RSS_INDIR_SIZE)
		return ERR("%s: %u entries, must be %d", field, n,
			   XVNET_RSS_INDIR_SIZE);
	memcpy(indir, t, sizeof(t));
	return 0;
}

void rss_format_indir(const uint8_t indir[XVNET_RSS_INDIR_SIZE], char *buf)
{
	char *o = buf;

	for (int i = 0; i < XVNET_RSS_INDIR_SIZE;) {
		int j = i;

		while (j < XVNET_RSS_INDIR_SIZE && indir[j] == indir[i])
			j++;
		o += sprintf(o, "%s%u", i ? "," : "", indir[i]);
		if (j - i > 1)
			o += sprintf(o, "*%d", j - i);
		i = j;
	}
	*o = '\0';
}

/*
 * l3 (addresses only), l4 (= tcp,udp), or a comma list of tcp, udp and
 * ethtool's tcp4, tcp6, udp4, udp6.  The hash fields are per protocol, not
 * per family: tcp4 needs tcp6 with it (and the same for udp).
 */
int rss_parse_fields(const char *field, const char *s, uint16_t *out,
		     char *err, size_t errlen)
{
	char buf[128], *tok, *save = NULL;
	unsigned fam[2] = { 0, 0 };   /* [tcp, udp]: bit 0 v4, bit 1 v6 */
	uint16_t f = 0;

	if (strcmp(s, "l3") == 0) {
		*out = 0;
		return 0;
	}
	if (strcmp(s, "l4") == 0) {
		*out = XVNET_RSS_L4_TCP | XVNET_RSS_L4_UDP;
		return 0;
	}
	if (!*s || strlen(s) >= sizeof(buf))
		return ERR("%s: '%.64s' is not l3, l4 or a list of tcp, udp", field, s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int proto = strncmp(tok, "tcp", 3) == 0 ? 0 :
			    strncmp(tok, "udp", 3) == 0 ? 1 : -1;
		const char *v = tok + 3;

		if (proto < 0 || (*v && strcmp(v, "4") && strcmp(v, "6")))
			return ERR("%s: '%.64s' is not l3, l4 or a list of tcp, udp,"
				   " tcp4, tcp6, udp4, udp6", field, tok);
		fam[proto] |= !*v ? 3u : *v == '4' ? 1u : 2u;
	}
	for (int p = 0; p < 2; p++) {
		if (fam[p] == 1 || fam[p] == 2)
			return ERR("%s: '%s%c' without '%s%c': ports are hashed per"
				   " protocol for IPv4 and IPv6 alike", field,
				   p ? "udp" : "tcp", fam[p] == 1 ? '4' : '6',
				   p ? "udp" : "tcp", fam[p] == 1 ? '6' : '4');
		if (fam[p])
			f |= p ? XVNET_RSS_L4_UDP : XVNET_RSS_L4_TCP;
	}
	*out = f;
	return 0;
}

const char *rss_fields_name(uint16_t f)
{
	f &= XVNET_RSS_L4_TCP | XVNET_RSS_L4_UDP;
	return f == (XVNET_RSS_L4_TCP | XVNET_RSS_L4_UDP) ? "l4" :
	       f == XVNET_RSS_L4_TCP ? "tcp" : f == XVNET_RSS_L4_UDP ? "udp" : "l3";
}

int rss_indir_equal(uint8_t indir[XVNET_RSS_INDIR_SIZE], unsigned long n,
		    unsigned queues, char *err, size_t errlen)
{
	if (n < 1 || n > queues)
		return ERR("equal: '%lu' out of range 1-%u (the VM's queues)", n,
			   queues);
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		indir[i] = (uint8_t)(i % n);
	return 0;
}

/* ethtool -X weight W0 W1 ...: entries in proportion, ethtool's algorithm. */
int rss_indir_weight(uint8_t indir[XVNET_RSS_INDIR_SIZE], const char *s,
		     unsigned queues, char *err, size_t errlen)
{
	unsigned long w[XVNET_MAX_QUEUES], sum = 0, partial = 0;
	unsigned nw = 0;
	const char *p = s;
	long j = -1;

	for (;;) {
		char *end;

		if (!isdigit((unsigned char)*p))
			return ERR("weight: '%.128s': weight %u is not a number >= 0",
				   s, nw);
		if (nw == queues)
			return ERR("weight: %u weights or more for the %u queues of"
				   " the VM", nw + 1, queues);
		errno = 0;
		w[nw] = strtoul(p, &end, 10);
		if (errno || w[nw] > XVNET_RSS_INDIR_SIZE)
			return ERR("weight: weight %u above %d", nw,
				   XVNET_RSS_INDIR_SIZE);
		sum += w[nw++];
		p = end;
		if (!*p)
			break;
		if (*p != ',')
			return ERR("weight: '%.128s' is not a comma list of weights", s);
		p++;
	}
	if (!sum)
		return ERR("weight: all weights are 0");
	if (sum > XVNET_RSS_INDIR_SIZE)
		return ERR("weight: total %lu exceeds the %d table entries", sum,
			   XVNET_RSS_INDIR_SIZE);
	for (unsigned long i = 0; i < XVNET_RSS_INDIR_SIZE; i++) {
		while (i >= XVNET_RSS_INDIR_SIZE * partial / sum)
			partial += w[++j];
		indir[i] = (uint8_t)j;
	}
	return 0;
}

int rss_check_indir(const uint8_t indir[XVNET_RSS_INDIR_SIZE], unsigned queues,
		    const char *field, char *err, size_t errlen)
{
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		if (indir[i] >= queues)
			return ERR("%s: entry %d is queue %u, not below the %u queues"
				   " of the VM", field, i, indir[i], queues);
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

static int arg_str(struct json_object *args, const char *key, char *buf,
		   size_t len, bool *have, char *err, size_t errlen)
{
	struct json_object *v;

	*have = false;
	if (!json_object_object_get_ex(args, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int))
		return ERR("%s: must be a string or number", key);
	snprintf(buf, len, "%s", json_object_get_string(v));
	*have = true;
	return 0;
}

int rss_request_parse(const struct xvd_config *cfg, struct json_object *args,
		      const struct xvnet_vm *live, struct vm_conf *out,
		      char *err, size_t errlen)
{
	static const char *const known[] = {
		"name",
#define XV_X_RSS(f, opt, arg, help) #f,
		XV_RSS_KNOBS(XV_X_RSS)
#undef XV_X_RSS
	};
	static const char fields[] =
#define XV_X_RSS(f, opt, arg, help) ", " #f
		XV_RSS_KNOBS(XV_X_RSS);
#undef XV_X_RSS
	struct json_object *jn;
	const struct vm_conf *vm;
	char val[1024];
	bool have;
	int tables = 0;
	unsigned long n;

	if (!args || !json_object_object_get_ex(args, "name", &jn) ||
	    !json_object_is_type(jn, json_type_string))
		return ERR("name: missing");
	vm = config_find_vm(cfg, json_object_get_string(jn));
	if (!vm)
		return ERR("name: '%.64s' unknown VM", json_object_get_string(jn));
	json_object_object_foreach(args, k, v) {
		size_t i;

		(void)v;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return ERR("%.64s: unknown argument (%s)", k, fields + 2);
		if (strcmp(k, "equal") == 0 || strcmp(k, "weight") == 0 ||
		    strcmp(k, "indir") == 0)
			tables++;
	}
	if (tables > 1)
		return ERR("equal: only one of equal, weight, indir");
	*out = *vm;
	/* what is live now becomes configured (config wins from now on) */
	if (live && !out->has_rss_key) {
		memcpy(out->rss_key, live->rss_key, sizeof(out->rss_key));
		out->has_rss_key = true;
	}
	if (live && !out->has_rss_indir && live->n_queues == vm->queues &&
	    !rss_check_indir(live->rss_indir, vm->queues, "indir", err, errlen)) {
		memcpy(out->rss_indir, live->rss_indir, sizeof(out->rss_indir));
		out->has_rss_indir = true;
	}
	if (live && !out->has_rss_fields) {
		out->rss_fields = live->hash_fields;
		out->has_rss_fields = true;
	}
	if (arg_str(args, "key", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (rss_parse_key("key", val, out->rss_key, err, errlen))
			return -1;
		out->has_rss_key = true;
	}
	if (arg_str(args, "hash_fields", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (rss_parse_fields("hash_fields", val, &out->rss_fields, err, errlen))
			return -1;
		out->has_rss_fields = true;
	}
	if (arg_str(args, "equal", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (xv_parse_uint("equal", val, 0, 255, &n, err, errlen) ||
		    rss_indir_equal(out->rss_indir, n, vm->queues, err, errlen))
			return -1;
		out->has_rss_indir = true;
	}
	if (arg_str(args, "weight", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (rss_indir_weight(out->rss_indir, val, vm->queues, err, errlen))
			return -1;
		out->has_rss_indir = true;
	}
	if (arg_str(args, "indir", val, sizeof(val), &have, err, errlen))
		return -1;
	if (have) {
		if (rss_parse_indir("indir", val, out->rss_indir, err, errlen) ||
		    rss_check_indir(out->rss_indir, vm->queues, "indir", err, errlen))
			return -1;
		out->has_rss_indir = true;
	}
	return 0;
}

static struct json_object *rss_json(const struct vm_conf *vm,
				    const struct xvnet_vm *s, bool live)
{
	struct json_object *o = json_object_new_object(), *ind, *cf;
	char key[XVNET_RSS_KEY_SIZE * 3];

	rss_format_key(s->rss_key, key);
	json_object_object_add(o, "name", json_object_new_string(vm->name));
	json_object_object_add(o, "port", json_object_new_string(
				       port_kind_name(vm->port_kind)));
	json_object_object_add(o, "queues", json_object_new_int(vm->queues));
	json_object_object_add(o, "live", json_object_new_boolean(live));
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "hash_fields", json_object_new_string(
				       rss_fields_name(s->hash_fields)));
	json_object_object_add(o, "hash_fields_mask",
			       json_object_new_int(s->hash_fields));
	ind = json_object_new_array();
	for (int i = 0; i < XVNET_RSS_INDIR_SIZE; i++)
		json_object_array_add(ind, json_object_new_int(s->rss_indir[i]));
	json_object_object_add(o, "indir", ind);
	cf = json_object_new_object();
	json_object_object_add(cf, "key", json_object_new_boolean(vm->has_rss_key));
	json_object_object_add(cf, "indir", json_object_new_boolean(vm->has_rss_indir));
	json_object_object_add(cf, "hash_fields",
			       json_object_new_boolean(vm->has_rss_fields));
	json_object_object_add(o, "configured", cf);
	/* where the queue the table picks is honoured (docs/xvnetctl.md) */
	json_object_object_add(o, "delivery", json_object_new_string(
		vm->port_kind == XVNET_PORT_XSK ? "queue carried in the AF_XDP metadata" :
		vm->queues <= 1 ? "XDP redirect (one queue)" :
		vm->port_kind == XVNET_PORT_TAP ?
		"skb path: on the tap queue of that number (tc redirect, tun"
		" steering program tap_steer)" :
		"skb path: on the VM end's RX queue of that number (tc redirect)"));
	return o;
}

struct json_object *rss_get(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN];
	const struct vm_conf *vm = req_vm(d, args, "name", err, sizeof(err));
	struct xvnet_vm slot;
	__u32 id;
	bool live;

	if (!vm)
		return xv_reply_err("%s", err);
	id = (__u32)vm->id;
	live = !bpf_map_lookup_elem(d->m.vms, &id, &slot) &&
	       (slot.flags & XVNET_VM_F_ACTIVE);
	if (!live) {    /* not in the maps (port missing): what it will get */
		vm_slot_build(vm, 0, NULL, &slot);
		if (!vm->has_rss_key)   /* random at creation: not known yet */
			memset(slot.rss_key, 0, sizeof(slot.rss_key));
	}
	return xv_reply_ok(rss_json(vm, &slot, live));
}

struct json_object *rss_set(struct xvd *d, struct json_object *args)
{
	char err[XV_ERR_LEN], why[XV_ERR_LEN];
	const struct vm_conf *vm = req_vm(d, args, "name", why, sizeof(why));
	struct xvnet_vm old, new;
	struct vm_conf nv;
	struct xvd_config next;
	bool live = false;
	__u32 id = 0;

	if (vm) {
		id = (__u32)vm->id;
		live = !bpf_map_lookup_elem(d->m.vms, &id, &old) &&
		       (old.flags & XVNET_VM_F_ACTIVE);
	}
	/* validated whole before anything is touched */
	if (rss_request_parse(&d->cfg, args, live ? &old : NULL, &nv, err,
			      sizeof(err)))
		return xv_reply_err("%s", err);
	if (config_copy(&next, &d->cfg))
		return xv_reply_err("out of memory");
	*config_find_vm(&next, nv.name) = nv;
	/* a live slot: one update, every table entry changes atomically */
	if (xvd_commit(d, &next, NULL, err, sizeof(err)))
		return xv_reply_err("%s", err);
	vm = config_find_vm(&d->cfg, nv.name);
	log_info("vm %s: rss set (hash fields %s)", vm->name,
		 rss_fields_name(vm->rss_fields));
	if (live && !bpf_map_lookup_elem(d->m.vms, &id, &new))
		return xv_reply_ok(rss_json(vm, &new, true));
	vm_slot_build(vm, 0, NULL, &new);   /* key: configured above */
	return xv_reply_ok(rss_json(vm, &new, false));
}
