// SPDX-License-Identifier: GPL-2.0-only
/* xvnetd.conf: parse, validate, format, save atomically. */
#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/cpus.h"
#include "lib/err.h"
#include "loader/conf/config.h"
#include "loader/conf/coalesce.h"
#include "loader/conf/flowidx.h"
#include "loader/conf/rules.h"
#include "loader/conf/rss.h"
#include "loader/conf/xsk.h"


const char *port_kind_name(uint8_t kind)
{
	switch (kind) {
	case XVNET_PORT_TAP: return "tap";
	case XVNET_PORT_VETH: return "veth";
	case XVNET_PORT_XSK: return "xsk";
	default: return "fallback";     /* XVNET_PORT_NONE: the host stack */
	}
}

const char *vm_port_name(const struct vm_conf *vm)
{
	return vm->vhost ? "vhost-user" : port_kind_name(vm->port_kind);
}

const char *verdict_name(uint8_t v)
{
	switch (v) {
	case XVNET_FLOW_DELIVER: return "deliver";
	case XVNET_FLOW_DROP: return "drop";
	case XVNET_FLOW_PASS: return "pass";
	default: return "?";
	}
}

int vm_default_ifname(const char *name, char *out, size_t outlen)
{
	if (strlen(name) + 3 > XV_IFNAME_MAX || outlen < XV_IFNAME_MAX + 1)
		return -1;
	snprintf(out, outlen, "xv-%s", name);
	return 0;
}

/* xv-NAME -> xk-NAME; any other IFNAME -> IFNAMEk (if it fits). */
int xsk_default_peer(const char *ifname, char *out, size_t outlen)
{
	if (!strncmp(ifname, "xv-", 3) && strlen(ifname) < outlen) {
		snprintf(out, outlen, "xk-%s", ifname + 3);
		return 0;
	}
	if (strlen(ifname) + 1 > XV_IFNAME_MAX || outlen < XV_IFNAME_MAX + 1)
		return -1;
	snprintf(out, outlen, "%sk", ifname);
	return 0;
}

void config_init(struct xvd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->flow_max = XVNET_FLOW_MAX_DEFAULT;
	cfg->flow_idle_timeout = XV_FLOW_IDLE_DEFAULT;
	cfg->sp_rate = XVNET_SP_RATE_DEFAULT;
}

void config_free(struct xvd_config *cfg)
{
	free(cfg->vms);
	free(cfg->flows);
	free(cfg->rules);
	config_init(cfg);
}

int config_copy(struct xvd_config *dst, const struct xvd_config *src)
{
	*dst = *src;
	dst->vms = NULL;
	dst->flows = NULL;
	dst->cap_vms = dst->n_vms;
	dst->cap_flows = dst->n_flows;
	dst->rules = NULL;
	dst->cap_rules = dst->n_rules;
	if (src->n_rules &&
	    !(dst->rules = malloc(src->n_rules * sizeof(*src->rules))))
		goto nomem;
	if (src->n_rules)
		memcpy(dst->rules, src->rules, src->n_rules * sizeof(*src->rules));
	if (src->n_vms && !(dst->vms = malloc(src->n_vms * sizeof(*src->vms))))
		goto nomem;
	if (src->n_flows &&
	    !(dst->flows = malloc(src->n_flows * sizeof(*src->flows))))
		goto nomem;
	if (src->n_vms)
		memcpy(dst->vms, src->vms, src->n_vms * sizeof(*src->vms));
	if (src->n_flows)
		memcpy(dst->flows, src->flows, src->n_flows * sizeof(*src->flows));
	return 0;
nomem:
	free(dst->vms);
	free(dst->flows);
	free(dst->rules);
	config_init(dst);
	return -1;
}

/* ---- VMs --------------------------------------------------------------- */

void vm_conf_init(struct vm_conf *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->id = -1;
	vm->allow = XVNET_VM_ALLOW_ALL;
}

/*
 * owner USER|UID, group GROUP|GID of a tap: a name must exist on this host
 * (resolved now, so a typo is refused before anything changes); a number
 * is taken as is (an ID without a name is legitimate), except -1 (the
 * kernel's "none").
 */
static int parse_id(const char *key, const char *val, char *text, uint32_t *id,
		    char *err, size_t errlen)
{
	bool user = key[0] == 'o';
	unsigned long v;

	if (strlen(val) > XV_USER_MAX || !val[0] || !xv_config_token_ok(val))
		return ERR("%s: '%.64s' is not a %s name or number", key, val,
			   user ? "user" : "group");
	if (val[strspn(val, "0123456789")] == '\0') {
		if (xv_parse_uint(key, val, 0, UINT32_MAX - 1, &v, err, errlen))
			return -1;
		*id = (uint32_t)v;
	} else if (user) {
		struct passwd *pw = getpwnam(val);

		if (!pw)
			return ERR("owner: no user '%.64s' on this host", val);
		*id = (uint32_t)pw->pw_uid;
	} else {
		struct group *gr = getgrnam(val);

		if (!gr)
			return ERR("group: no group '%.64s' on this host", val);
		*id = (uint32_t)gr->gr_gid;
	}
	strcpy(text, val);
	return 0;
}

static int parse_netns(const char *s, char *out, char *err, size_t errlen)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > XV_NETNS_MAX || strchr(s, '/') || !xv_config_token_ok(s) ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return ERR("netns: '%.64s' is not a network namespace name",
			   s ? s : "");
	memcpy(out, s, n + 1);
	return 0;
}

/* An absolute path a unix socket can be bound to. */
static int parse_sock_path(const char *key, const char *val, char *out,
			   char *err, size_t errlen)
{
	size_t n = strlen(val);

	if (val[0] != '/' || !xv_config_token_ok(val))
		return ERR("%s: '%.64s' is not an absolute path", key, val);
	if (n > XV_SOCK_PATH_MAX)
		return ERR("%s: %zu characters, a unix socket path has at most %d",
			   key, n, XV_SOCK_PATH_MAX);
	memcpy(out, val, n + 1);
	return 0;
}

static int parse_flag(const char *key, const char *val, bool *out,
		      char *err, size_t errlen)
{
	if (!val || strcmp(val, "true") == 0 || strcmp(val, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0) {
		*out = false;
		return 0;
	}
	return ERR("%s: '%.64s' is not true or false", key, val);
}

static int parse_queue_cpus(const char *val, struct vm_conf *vm, char *err,
			    size_t errlen)
{
	size_t n;

	if (xv_parse_cpu_list("queue-cpus", val, vm->queue_cpus, XVNET_MAX_QUEUES, &n,
			      err, errlen))
		return -1;
	vm->n_queue_cpus = (uint8_t)n;
	return 0;
}

int vm_conf_set(struct vm_conf *vm, const char *key, const char *val,
		char *err, size_t errlen)
{
	unsigned long v;

	if (strncmp(key, "xsk-", 4) == 0)
		return xsk_conf_set(&vm->xsk, key, val, err, errlen);
	if (strncmp(key, "coalesce-", 9) == 0)
		return coal_conf_set(&vm->coal, key, val, err, errlen);
	if (strcmp(key, "keep-vlan") == 0)
		return parse_flag(key, val, &vm->keep_vlan, err, errlen);
	if (strcmp(key, "owned") == 0)
		return parse_flag(key, val, &vm->owned, err, errlen);
	if (!val)
		return ERR("%s: needs a value", key);
	if (strcmp(key, "name") == 0)
		return xv_parse_name("name", val, vm->name, sizeof(vm->name),
				     err, errlen);
	if (strcmp(key, "id") == 0) {
		if (xv_parse_uint("id", val, 0, XVNET_MAX_VMS - 1, &v, err, errlen))
			return -1;
		vm->id = (int)v;
		return 0;
	}
	if (strcmp(key, "mac") == 0) {
		if (xv_parse_mac("mac", val, vm->mac, err, errlen))
			return -1;
		vm->has_mac = true;
		return 0;
	}
	if (strcmp(key, "vlan") == 0)
		return xv_parse_vlan("vlan", val, &vm->vlan, err, errlen);
	if (strcmp(key, "ip") == 0)
		return vm_conf_add_addr(vm, val, err, errlen);
	if (strcmp(key, "allow") == 0 || strcmp(key, "no-allow") == 0)
		return vm_conf_set_allow(vm, key, val, key[0] == 'a', err, errlen);
	if (strcmp(key, "owner") == 0) {
		vm->has_owner = true;
		return parse_id(key, val, vm->owner, &vm->owner_uid, err, errlen);
	}
	if (strcmp(key, "group") == 0) {
		vm->has_group = true;
		return parse_id(key, val, vm->group, &vm->group_gid, err, errlen);
	}
	if (strcmp(key, "port") == 0) {
		if (strcmp(val, "tap") == 0)
			vm->port_kind = XVNET_PORT_TAP;
		else if (strcmp(val, "veth") == 0)
			vm->port_kind = XVNET_PORT_VETH;
		else if (strcmp(val, "xsk") == 0)
			vm->port_kind = XVNET_PORT_XSK;
		else if (strcmp(val, "vhost-user") == 0)
			vm->port_kind = XVNET_PORT_XSK;
		else if (strcmp(val, "fallback") == 0)
			vm->port_kind = XVNET_PORT_NONE;
		else
			return ERR("port: '%.64s' is not a port kind (tap, veth,"
				   " xsk, vhost-user, fallback)", val);
		vm->vhost = strcmp(val, "vhost-user") == 0;
		vm->fallback = strcmp(val, "fallback") == 0;
		return 0;
	}
	if (strcmp(key, "vhost-socket") == 0)
		return parse_sock_path(key, val, vm->vhost_socket, err, errlen);
	if (strcmp(key, "ifname") == 0)
		return xv_parse_ifname("ifname", val, vm->ifname, err, errlen);
	if (strcmp(key, "peer-ifname") == 0)
		return xv_parse_ifname("peer-ifname", val, vm->peer_ifname,
				       err, errlen);
	if (strcmp(key, "netns") == 0)
		return parse_netns(val, vm->netns, err, errlen);
	if (strcmp(key, "queues") == 0) {
		if (xv_parse_uint("queues", val, 1, XVNET_MAX_QUEUES, &v,
				  err, errlen))
			return -1;
		vm->queues = (uint8_t)v;
		return 0;
	}
	if (strcmp(key, "queue-cpus") == 0)
		return parse_queue_cpus(val, vm, err, errlen);
	if (strcmp(key, "rss-key") == 0) {
		vm->has_rss_key = true;
		return rss_parse_key(key, val, vm->rss_key, err, errlen);
	}
	if (strcmp(key, "rss-indir") == 0) {
		vm->has_rss_indir = true;
		return rss_parse_indir(key, val, vm->rss_indir, err, errlen);
	}
	if (strcmp(key, "rss-fields") == 0) {
		vm->has_rss_fields = true;
		return rss_parse_fields(key, val, &vm->rss_fields, err, errlen);
	}
	return ERR("%s: unknown key", key);
}

/* Queues, their CPUs and the RSS table: the VM's own, on any port. */
static int vm_conf_finish_queues(struct vm_conf *vm, char *err, size_t errlen)
{
	if (vm->n_queue_cpus > (vm->queues ? vm->queues : 1))
		return ERR("queue-cpus: %u CPUs for %u queues (one per queue at most)",
			   vm->n_queue_cpus, vm->queues ? vm->queues : 1);
	if (!vm->queues)
		vm->queues = 1;
	if (vm->has_rss_indir &&
	    rss_check_indir(vm->rss_indir, vm->queues, "rss-indir", err, errlen))
		return -1;
	return 0;
}

/* A VM on the fallback has no port to name or hand over: only what stays
 * the VM's own (queues and RSS, for the port it moves back to). */
static int vm_conf_finish_fallback(struct vm_conf *vm, char *err, size_t errlen)
{
	const char *port_opt = vm->ifname[0] ? "ifname" : vm->netns[0] ? "netns" :
			       vm->peer_ifname[0] ? "peer-ifname" :
			       vm->vhost_socket[0] ? "vhost-socket" :
			       vm->has_owner ? "owner" : vm->has_group ? "group" :
			       vm->owned ? "owned" : NULL;

	if (port_opt)
		return ERR("%s: a VM on the fallback has no port of xvnet's (the"
			   " host stack reaches it)", port_opt);
	if (xsk_conf_is_set(&vm->xsk))
		return ERR("xsk-*: only for xsk ports");
	if (coal_conf_check(vm, err, errlen))
		return -1;
	return vm_conf_finish_queues(vm, err, errlen);
}

int vm_conf_finish(struct vm_conf *vm, char *err, size_t errlen)
{
	if (!vm->name[0])
		return ERR("name: missing");
	if (!vm->has_mac)
		return ERR("mac: missing");
	if (vm->port_kind == XVNET_PORT_NONE && !vm->fallback)
		return ERR("port: missing (tap, veth, xsk, vhost-user or fallback)");
	if (vm->fallback)
		return vm_conf_finish_fallback(vm, err, errlen);
	if (vm->vhost_socket[0] && !vm->vhost)
		return ERR("vhost-socket: only for vhost-user ports");
	if (vm->port_kind != XVNET_PORT_XSK && xsk_conf_is_set(&vm->xsk))
		return ERR("xsk-*: only for xsk ports");
	if (coal_conf_check(vm, err, errlen))
		return -1;
	if ((vm->has_owner || vm->has_group) && vm->port_kind != XVNET_PORT_TAP &&
	    !vm->vhost)
		return ERR("%s: only for tap and vhost-user ports (a VMM attaches"
			   " to a tap or connects to a vhost-user socket; veth"
			   " and xsk ports are handed over otherwise)",
			   vm->has_owner ? "owner" : "group");
	if (vm_conf_finish_queues(vm, err, errlen))
		return -1;
	if (!vm->ifname[0] &&
	    vm_default_ifname(vm->name, vm->ifname, sizeof(vm->ifname)))
		return ERR("ifname: default 'xv-%s' is longer than %d characters,"
			   " give one", vm->name, XV_IFNAME_MAX);
	if (vm->port_kind == XVNET_PORT_VETH) {
		if (!vm->netns[0])
			return ERR("netns: missing (a veth port's peer goes into"
				   " a network namespace)");
		if (!vm->peer_ifname[0])
			strcpy(vm->peer_ifname, "eth0");
	} else if (vm->port_kind == XVNET_PORT_XSK) {
		if (vm->netns[0])
			return ERR("netns: only for veth ports (an xsk VM's side"
				   " veth stays in the host's namespace)");
		if (!vm->peer_ifname[0] &&
		    xsk_default_peer(vm->ifname, vm->peer_ifname,
				     sizeof(vm->peer_ifname)))
			return ERR("peer-ifname: no default for ifname '%s' (give"
				   " the VM end of the side veth a name)", vm->ifname);
		if (!strcmp(vm->peer_ifname, vm->ifname))
			return ERR("peer-ifname: '%s' is the ifname too",
				   vm->peer_ifname);
	} else {
		if (vm->netns[0])
			return ERR("netns: only for veth ports");
		if (vm->peer_ifname[0])
			return ERR("peer-ifname: only for veth and xsk ports");
	}
	return 0;
}

/* A VM port that is the NIC itself (whichever line came first). */
static int check_vm_not_nic(const struct xvd_config *cfg,
			    const struct vm_conf *vm, char *err, size_t errlen)
{
	if (cfg->nic[0] && strcmp(vm->ifname, cfg->nic) == 0)
		return ERR("ifname: '%s' is the NIC", vm->ifname);
	if (cfg->nic[0] && vm->port_kind == XVNET_PORT_XSK &&
	    strcmp(vm->peer_ifname, cfg->nic) == 0)
		return ERR("peer-ifname: '%s' is the NIC", vm->peer_ifname);
	return 0;
}

int config_check_vm(const struct xvd_config *cfg, const struct vm_conf *vm,
		    long skip, char *err, size_t errlen)
{
	char mac[18];
	unsigned same_vlan = 0;

	if (check_vm_not_nic(cfg, vm, err, errlen))
		return -1;
	for (size_t i = 0; i < cfg->n_vms; i++) {
		const struct vm_conf *o = &cfg->vms[i];

		if ((long)i == skip)
			continue;
		/* a VLAN's flood list (xvnet_flood) has a fixed size */
		if (o->vlan == vm->vlan && ++same_vlan >= XVNET_MAX_FLOOD_PORTS)
			return ERR("vlan: %d VMs on vlan %u already, the most one"
				   " VLAN's broadcast reaches", XVNET_MAX_FLOOD_PORTS,
				   vm->vlan);
		if (strcmp(o->name, vm->name) == 0)
			return ERR("name: '%s' already exists", vm->name);
		if (o->vlan == vm->vlan && memcmp(o->mac, vm->mac, 6) == 0) {
			xv_fmt_mac(vm->mac, mac);
			return ERR("mac: '%s' already used on vlan %u by vm '%s'",
				   mac, vm->vlan, o->name);
		}
		if (vm->ifname[0] && strcmp(o->ifname, vm->ifname) == 0)
			return ERR("ifname: '%s' already used by vm '%s'",
				   vm->ifname, o->name);
		/* xsk side veths live whole in the host's namespace */
		if (o->port_kind == XVNET_PORT_XSK &&
		    !strcmp(o->peer_ifname, vm->ifname))
			return ERR("ifname: '%s' already used by vm '%s'",
				   vm->ifname, o->name);
		if (vm->port_kind == XVNET_PORT_XSK &&
		    (!strcmp(o->ifname, vm->peer_ifname) ||
		     (o->port_kind == XVNET_PORT_XSK &&
		      !strcmp(o->peer_ifname, vm->peer_ifname))))
			return ERR("peer-ifname: '%s' already used by vm '%s'",
				   vm->peer_ifname, o->name);
		if (vm->vhost_socket[0] && !strcmp(o->vhost_socket, vm->vhost_socket))
			return ERR("vhost-socket: '%s' already used by vm '%s'",
				   vm->vhost_socket, o->name);
		if (vm->id >= 0 && o->id == vm->id)
			return ERR("id: '%d' already used by vm '%s'", vm->id,
				   o->name);
		/* the kernel has one UMEM per NIC queue (0 = all queues) */
		if (vm->port_kind == XVNET_PORT_XSK && o->port_kind == XVNET_PORT_XSK &&
		    ((vm->xsk.nic_queues ? vm->xsk.nic_queues : ~0u) &
		     (o->xsk.nic_queues ? o->xsk.nic_queues : ~0u)))
			return ERR("xsk-nic-queues: NIC queues shared with xsk vm '%s'"
				   " (one UMEM per NIC queue: give each xsk VM its"
				   " own xsk-nic-queues)", o->name);
	}
	return config_check_vm_addrs(cfg, vm, skip, err, errlen);
}

int config_alloc_vm_id(const struct xvd_config *cfg)
{
	/* one pass over the VMs, not one per candidate id */
	static_assert(XVNET_MAX_VMS <= 65536, "ids fit the map below");
	uint8_t used[XVNET_MAX_VMS] = { 0 };

	for (size_t i = 0; i < cfg->n_vms; i++)
		if (cfg->vms[i].id >= 0 && cfg->vms[i].id < XVNET_MAX_VMS)
			used[cfg->vms[i].id] = 1;
	for (int id = 0; id < XVNET_MAX_VMS; id++)
		if (!used[id])
			return id;
	return -1;
}

struct vm_conf *config_find_vm(const struct xvd_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_vms; i++)
		if (strcmp(cfg->vms[i].name, name) == 0)
			return &cfg->vms[i];
	return NULL;
}

struct vm_conf *config_find_vm_id(const struct xvd_config *cfg, int id)
{
	for (size_t i = 0; i < cfg->n_vms; i++)
		if (cfg->vms[i].id == id)
			return &cfg->vms[i];
	return NULL;
}

int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	p = realloc(*arr, c * elem);
	if (!p)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

int config_add_vm(struct xvd_config *cfg, const struct vm_conf *vm)
{
	if (grow((void **)&cfg->vms, &cfg->cap_vms, cfg->n_vms, sizeof(*vm)))
		return -1;
	cfg->vms[cfg->n_vms++] = *vm;
	return 0;
}

void config_del_vm_flows(struct xvd_config *cfg, int vm_id)
{
	const struct vm_conf *vm = config_find_vm_id(cfg, vm_id);
	size_t kept = 0;

	if (!vm)
		return;
	/* one pass: a VM with 100k flows goes in linear time */
	for (size_t i = 0; i < cfg->n_flows; i++) {
		if (cfg->flows[i].verdict == XVNET_FLOW_DELIVER &&
		    strcmp(cfg->flows[i].vm, vm->name) == 0)
			continue;
		cfg->flows[kept++] = cfg->flows[i];
	}
	cfg->n_flows = kept;
}

void config_del_vm(struct xvd_config *cfg, const char *name)
{
	struct vm_conf *vm = config_find_vm(cfg, name);
	size_t i;

	if (!vm)
		return;
	i = (size_t)(vm - cfg->vms);
	config_del_vm_rules(cfg, vm->name);
	memmove(vm, vm + 1, (cfg->n_vms - i - 1) * sizeof(*vm));
	cfg->n_vms--;
}

/* ---- flows ------------------------------------------------------------- */

void flow_conf_init(struct flow_conf *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->queue = XVNET_QUEUE_RSS;
}

static int parse_port(const char *field, const char *val, __be16 *out,
		      char *err, size_t errlen)
{
	unsigned long v;

	if (xv_parse_uint(field, val, 0, 65535, &v, err, errlen))
		return -1;
	*out = htons((uint16_t)v);
	return 0;
}

int flow_conf_set(struct flow_conf *fc, const char *key, const char *val,
		  char *err, size_t errlen)
{
	if (!val)
		return ERR("%s: needs a value", key);
	if (strcmp(key, "vlan") == 0)
		return xv_parse_vlan("vlan", val, &fc->key.vlan, err, errlen);
	if (strcmp(key, "proto") == 0) {
		fc->has_proto = true;
		return xv_parse_proto("proto", val, &fc->key.proto, err, errlen);
	}
	if (strcmp(key, "src") == 0) {
		fc->has_src = true;
		return xv_parse_ip("src", val, fc->key.src, &fc->src_v4, err,
				   errlen);
	}
	if (strcmp(key, "dst") == 0) {
		fc->has_dst = true;
		return xv_parse_ip("dst", val, fc->key.dst, &fc->dst_v4, err,
				   errlen);
	}
	if (strcmp(key, "sport") == 0) {
		fc->has_sport = true;
		return parse_port("sport", val, &fc->key.sport, err, errlen);
	}
	if (strcmp(key, "dport") == 0) {
		fc->has_dport = true;
		return parse_port("dport", val, &fc->key.dport, err, errlen);
	}
	if (strcmp(key, "action") == 0) {
		fc->has_action = true;
		if (strcmp(val, "deliver") == 0)
			fc->verdict = XVNET_FLOW_DELIVER;
		else if (strcmp(val, "drop") == 0)
			fc->verdict = XVNET_FLOW_DROP;
		else if (strcmp(val, "pass") == 0)
			fc->verdict = XVNET_FLOW_PASS;
		else
			return ERR("action: '%.64s' is not deliver, drop or pass",
				   val);
		return 0;
	}
	if (strcmp(key, "vm") == 0)
		return xv_parse_name("vm", val, fc->vm, sizeof(fc->vm), err,
				     errlen);
	if (strcmp(key, "queue") == 0) {
		fc->has_queue = true;
		return xv_parse_queue("queue", val, &fc->queue, err, errlen);
	}
	return ERR("%s: unknown key", key);
}

int flow_conf_finish(struct flow_conf *fc, bool need_action, char *err,
		     size_t errlen)
{
	uint8_t p = fc->key.proto;

	if (!fc->has_proto)
		return ERR("proto: missing");
	if (!fc->has_src)
		return ERR("src: missing");
	if (!fc->has_dst)
		return ERR("dst: missing");
	if (fc->src_v4 != fc->dst_v4)
		return ERR("dst: address family differs from src");
	if ((fc->has_sport || fc->has_dport) && p != 6 && p != 17)
		return ERR("%s: only tcp and udp flows have ports",
			   fc->has_sport ? "sport" : "dport");
	if (fc->src_v4 && p == 58)
		return ERR("proto: 'icmpv6' with IPv4 addresses");
	if (!fc->src_v4 && p == 1)
		return ERR("proto: 'icmp' with IPv6 addresses (use icmpv6)");
	if (!need_action)
		return 0;
	if (!fc->has_action)
		return ERR("action: missing (deliver, drop or pass)");
	if (fc->verdict == XVNET_FLOW_DELIVER && !fc->vm[0])
		return ERR("vm: missing (action deliver needs a VM)");
	if (fc->verdict != XVNET_FLOW_DELIVER && fc->vm[0])
		return ERR("vm: only with action deliver");
	if (fc->verdict != XVNET_FLOW_DELIVER && fc->has_queue)
		return ERR("queue: only with action deliver");
	return 0;
}

int config_check_flow(const struct xvd_config *cfg, const struct flow_conf *fc,
		      char *err, size_t errlen)
{
	const struct vm_conf *vm;

	if (fc->verdict != XVNET_FLOW_DELIVER)
		return 0;
	vm = config_find_vm(cfg, fc->vm);
	if (!vm)
		return ERR("vm: '%s' unknown", fc->vm);
	if (fc->queue != XVNET_QUEUE_RSS && fc->queue >= vm->queues)
		return ERR("queue: '%u' not below the %u queues of vm '%s'",
			   fc->queue, vm->queues, vm->name);
	return 0;
}

struct flow_conf *config_find_flow(const struct xvd_config *cfg,
				   const struct xvnet_flow_key *key)
{
	for (size_t i = 0; i < cfg->n_flows; i++)
		if (memcmp(&cfg->flows[i].key, key, sizeof(*key)) == 0)
			return &cfg->flows[i];
	return NULL;
}

int config_add_flow(struct xvd_config *cfg, const struct flow_conf *fc)
{
	if (grow((void **)&cfg->flows, &cfg->cap_flows, cfg->n_flows,
		 sizeof(*fc)))
		return -1;
	cfg->flows[cfg->n_flows++] = *fc;
	return 0;
}

void config_del_flow(struct xvd_config *cfg, const struct xvnet_flow_key *key)
{
	struct flow_conf *fc = config_find_flow(cfg, key);
	size_t i;

	if (!fc)
		return;
	i = (size_t)(fc - cfg->flows);
	memmove(fc, fc + 1, (cfg->n_flows - i - 1) * sizeof(*fc));
	cfg->n_flows--;
}

/* ---- the file ---------------------------------------------------------- */

#define MAX_TOKENS 96     /* vm lines: up to 16 "ip ADDR" pairs */

static int tokenize(char *line, char **tok)
{
	int n = 0;
	char *p = strchr(line, '#');

	if (p)
		*p = '\0';
	for (p = strtok(line, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
		if (n == MAX_TOKENS)
			return -1;
		tok[n++] = p;
	}
	return n;
}

static bool is_vm_flag(const char *k)
{
	return strcmp(k, "keep-vlan") == 0 || strcmp(k, "owned") == 0;
}

static int parse_statement(struct xvd_config *cfg, char **tok, int n, int line,
			   char *err, size_t errlen)
{
	const char *w = tok[0];
	unsigned long v;

	if (strcmp(w, "nic") == 0 || strcmp(w, "socket-group") == 0 ||
	    strcmp(w, "flow-max") == 0 || strcmp(w, "malformed") == 0 ||
	    strcmp(w, "rx-hash") == 0) {
		if (n != 2)
			return ERR("%s: takes exactly one value", w);
		if (w[0] == 'r') {
			if (strcmp(tok[1], "hw") && strcmp(tok[1], "sw"))
				return ERR("rx-hash: '%.64s' is not hw or sw", tok[1]);
			cfg->rx_hash_hw = tok[1][0] == 'h';
			return 0;
		}
		if (w[0] == 'n')
			return xv_parse_ifname("nic", tok[1], cfg->nic, err, errlen);
		if (w[0] == 's') {
			if (strlen(tok[1]) >= sizeof(cfg->socket_group))
				return ERR("socket-group: '%.64s' too long", tok[1]);
			strcpy(cfg->socket_group, tok[1]);
			return 0;
		}
		if (w[0] == 'f') {
			if (xv_parse_uint("flow-max", tok[1], 1, 1ul << 26, &v,
					  err, errlen))
				return -1;
			cfg->flow_max = (uint32_t)v;
			return 0;
		}
		if (strcmp(tok[1], "pass") == 0)
			cfg->malformed_pass = true;
		else if (strcmp(tok[1], "drop") == 0)
			cfg->malformed_pass = false;
		else
			return ERR("malformed: '%.64s' is not pass or drop", tok[1]);
		return 0;
	}
	if (strcmp(w, "vm") == 0) {
		struct vm_conf vm;

		vm_conf_init(&vm);
		vm.line = line;
		if (n < 2)
			return ERR("vm: needs a name");
		if (vm_conf_set(&vm, "name", tok[1], err, errlen))
			return -1;
		for (int i = 2; i < n; i++) {
			const char *val = NULL;

			if (!is_vm_flag(tok[i])) {
				if (i + 1 >= n)
					return ERR("%s: needs a value", tok[i]);
				val = tok[i + 1];
			}
			if (strcmp(tok[i], "name") == 0)
				return ERR("name: unknown key");
			if (vm_conf_set(&vm, tok[i], val, err, errlen))
				return -1;
			if (val)
				i++;
		}
		if (vm_conf_finish(&vm, err, errlen) ||
		    config_check_vm(cfg, &vm, -1, err, errlen))
			return -1;
		return config_add_vm(cfg, &vm) ? ERR("out of memory") : 0;
	}
	if (strcmp(w, "flow-idle-timeout") == 0) {
		if (n != 2)
			return ERR("%s: takes exactly one value", w);
		if (xv_parse_uint(w, tok[1], 1, 86400, &v, err, errlen))
			return -1;
		cfg->flow_idle_timeout = (uint32_t)v;
		return 0;
	}
	if (strcmp(w, "slow-path-rate") == 0) {
		if (n != 2)
			return ERR("%s: takes exactly one value", w);
		if (xv_parse_uint(w, tok[1], 0, 10000000, &v, err, errlen))
			return -1;
		cfg->sp_rate = (uint32_t)v;
		return 0;
	}
	if (strcmp(w, "rule") == 0) {
		struct rule_conf rc;

		if (rule_parse_tokens(&rc, tok + 1, n - 1, err, errlen))
			return -1;
		rc.line = line;
		return config_insert_rule(cfg, &rc, 0, err, errlen);
	}
	if (strcmp(w, "flow") == 0) {
		struct flow_conf fc;

		flow_conf_init(&fc);
		fc.line = line;
		for (int i = 1; i < n; i += 2) {
			if (i + 1 >= n)
				return ERR("%s: needs a value", tok[i]);
			if (flow_conf_set(&fc, tok[i], tok[i + 1], err, errlen))
				return -1;
		}
		if (flow_conf_finish(&fc, true, err, errlen))
			return -1;
		/* the same match twice: found once all are read (flow_dups) */
		return config_add_flow(cfg, &fc) ? ERR("out of memory") : 0;
	}
	return ERR("'%.64s': unknown statement (nic, socket-group, flow-max,"
		   " malformed, vm, flow, flows-file, flow-idle-timeout, slow-path-rate,"
		   " rule)", w);
}

/* A flow match configured twice: the index of the second one, -1 none, -2
 * out of memory.  By index, so that a state of 100k flows loads in linear
 * time. */
static long flow_dup(const struct xvd_config *cfg)
{
	struct flow_idx x = { 0 };
	long rc = -1;

	if (cfg->n_flows && flow_idx_build(&x, &(struct xvd_config){ .flows = cfg->flows }))
		return -2;
	for (size_t i = 0; i < cfg->n_flows && rc == -1; i++) {
		const struct xvd_config part = { .flows = cfg->flows, .n_flows = i + 1 };

		if (flow_idx_find(&x, &part, &cfg->flows[i].key))
			rc = (long)i;
		else if (flow_idx_add(&x, &part, i))
			rc = -2;
	}
	flow_idx_free(&x);
	return rc;
}

/* Where the flows came from: the file parsed, and the flows file its
 * `flows-file` line named (flows [first, end) of cfg). */
struct flow_origin {
	const char *fname;
	char flows_path[4096];
	size_t first, end;
};

static const char *flow_file(const struct flow_origin *o, size_t i)
{
	return i >= o->first && i < o->end ? o->flows_path : o->fname;
}

/* dir/name into out; -1 when it does not fit */
static int join(char *out, size_t len, const char *dir, const char *name)
{
	return snprintf(out, len, "%s/%s", dir, name) >= (int)len ? -1 : 0;
}

/*
 * `flows-file NAME`: the flows of the state file (config_save_state) in a
 * file of their own, NAME beside the file parsed.  Only flow lines, and
 * only one such file.
 */
static int read_flows_file(struct xvd_config *cfg, char **tok, int n, int at,
			   struct flow_origin *o, char *err, size_t errlen)
{
	char dirbuf[4096], buf[4096], why[XV_ERR_LEN], *t[MAX_TOKENS];
	int line = 0, k, rc = 0;
	FILE *f;

	if (n != 2)
		return ERR("%s:%d: flows-file: takes exactly one file name", o->fname, at);
	if (o->flows_path[0])
		return ERR("%s:%d: flows-file: a second one", o->fname, at);
	if (strchr(tok[1], '/') || strcmp(tok[1], ".") == 0 || strcmp(tok[1], "..") == 0)
		return ERR("%s:%d: flows-file: '%.64s' is not a file name beside this file",
			   o->fname, at, tok[1]);
	snprintf(dirbuf, sizeof(dirbuf), "%s", o->fname);
	if (join(o->flows_path, sizeof(o->flows_path), dirname(dirbuf), tok[1]))
		return ERR("%s:%d: flows-file: path too long", o->fname, at);
	if (!(f = fopen(o->flows_path, "re")))
		return ERR("%s:%d: flows-file: %s: %s", o->fname, at, o->flows_path,
			   strerror(errno));
	o->first = cfg->n_flows;
	while (!rc && fgets(buf, sizeof(buf), f)) {
		line++;
		if (!strchr(buf, '\n') && !feof(f))
			rc = ERR("%s:%d: line too long", o->flows_path, line);
		else if ((k = tokenize(buf, t)) < 0)
			rc = ERR("%s:%d: too many words", o->flows_path, line);
		else if (k > 0 && strcmp(t[0], "flow"))
			rc = ERR("%s:%d: '%.64s': only flow lines belong in a flows file",
				 o->flows_path, line, t[0]);
		else if (k > 0 && parse_statement(cfg, t, k, line, why, sizeof(why)))
			rc = ERR("%s:%d: %s", o->flows_path, line, why);
	}
	if (!rc && ferror(f))
		rc = ERR("%s: read error: %s", o->flows_path, strerror(errno));
	fclose(f);
	o->end = cfg->n_flows;
	return rc;
}

int config_parse_stream(FILE *f, const char *fname, struct xvd_config *cfg,
			char *err, size_t errlen)
{
	char buf[4096], why[XV_ERR_LEN], *tok[MAX_TOKENS];
	struct flow_origin *o = calloc(1, sizeof(*o));
	int line = 0, n;
	long dup;

	config_init(cfg);
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->fname = fname;
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", fname, line);
			goto fail;
		}
		n = tokenize(buf, tok);
		if (n < 0) {
			snprintf(err, errlen, "%s:%d: too many words", fname, line);
			goto fail;
		}
		if (n == 0)
			continue;
		if (strcmp(tok[0], "flows-file") == 0) {
			if (read_flows_file(cfg, tok, n, line, o, err, errlen))
				goto fail;
			continue;
		}
		if (parse_statement(cfg, tok, n, line, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%d: %s", fname, line, why);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", fname, strerror(errno));
		goto fail;
	}
	/* Cross references: the NIC (its line may follow the VMs), ids, then
	 * flow targets (VMs may come later). */
	for (size_t i = 0; i < cfg->n_vms; i++) {
		if (check_vm_not_nic(cfg, &cfg->vms[i], why, sizeof(why))) {
			snprintf(err, errlen, "%s:%d: %s", fname, cfg->vms[i].line, why);
			goto fail;
		}
		if (cfg->vms[i].id < 0)
			cfg->vms[i].id = config_alloc_vm_id(cfg);
		if (cfg->vms[i].id < 0) {
			snprintf(err, errlen, "%s:%d: more than %d VMs", fname,
				 cfg->vms[i].line, XVNET_MAX_VMS);
			goto fail;
		}
	}
	if ((dup = flow_dup(cfg)) != -1) {
		if (dup == -2)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "%s:%d: flow: the same match is configured twice",
				 flow_file(o, (size_t)dup), cfg->flows[dup].line);
		goto fail;
	}
	for (size_t i = 0; i < cfg->n_flows; i++) {
		if (config_check_flow(cfg, &cfg->flows[i], why, sizeof(why))) {
			snprintf(err, errlen, "%s:%d: %s", flow_file(o, i),
				 cfg->flows[i].line, why);
			goto fail;
		}
	}
	for (size_t i = 0; i < cfg->n_rules; i++) {
		if (config_check_rule(cfg, &cfg->rules[i], why, sizeof(why))) {
			snprintf(err, errlen, "%s:%d: %s", fname,
				 cfg->rules[i].line, why);
			goto fail;
		}
	}
	config_rules_sync(cfg);
	if (!cfg->nic[0]) {
		snprintf(err, errlen, "%s:%d: nic: missing (add a 'nic IFNAME' line)",
			 fname, line);
		goto fail;
	}
	free(o);
	return 0;
fail:
	free(o);
	config_free(cfg);
	return -1;
}

int config_load(const char *path, struct xvd_config *cfg, char *err,
		size_t errlen)
{
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		config_init(cfg);
		return ERR("%s: %s", path, strerror(errno));
	}
	r = config_parse_stream(f, path, cfg, err, errlen);
	fclose(f);
	return r;
}

/* ---- a flow's line, built by hand ------------------------------------------
 * The state file holds every configured flow (up to 131,072) and is written
 * after every change: with fprintf and inet_ntop a line cost ~0.5 us, 32 ms
 * of each `vm add` with 60,000 flows configured.  Built by hand with
 * memcpy, it costs a fraction.  test_state_flow_lines holds it to the
 * parser: every line it writes reads back as the same flow. */

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_uint(char *p, unsigned int v)
{
	char t[10];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = t[--n];
	return p;
}

static char *put_ip(char *p, const uint8_t a[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (!xv_ip_is_v4mapped(a)) {
		xv_fmt_ip(a, buf, sizeof(buf));
		return put_str(p, buf);
	}
	for (int i = 12; i < 16; i++) {
		p = put_uint(p, a[i]);
		if (i < 15)
			*p++ = '.';
	}
	return p;
}

/* The longest line: its words and numbers (under 160 bytes), two IPv6
 * addresses and a VM name. */
#define FLOW_LINE_MAX (160 + 2 * INET6_ADDRSTRLEN + XV_NAME_MAX)

void flow_conf_format(const struct flow_conf *fc, FILE *f)
{
	char line[FLOW_LINE_MAX], pb[8], *p = line;

	p = put_uint(put_str(p, "flow vlan "), fc->key.vlan);
	p = put_str(put_str(p, " proto "), xv_proto_name(fc->key.proto, pb));
	p = put_ip(put_str(p, " src "), fc->key.src);
	if (fc->has_sport)
		p = put_uint(put_str(p, " sport "), ntohs(fc->key.sport));
	p = put_ip(put_str(p, " dst "), fc->key.dst);
	if (fc->has_dport)
		p = put_uint(put_str(p, " dport "), ntohs(fc->key.dport));
	p = put_str(put_str(p, " action "), verdict_name(fc->verdict));
	if (fc->verdict == XVNET_FLOW_DELIVER) {
		p = put_str(put_str(p, " vm "), fc->vm);
		p = fc->queue == XVNET_QUEUE_RSS ? put_str(p, " queue rss") :
		    put_uint(put_str(p, " queue "), fc->queue);
	}
	*p++ = '\n';
	fwrite(line, 1, (size_t)(p - line), f);
}

void vm_conf_format(const struct vm_conf *vm, FILE *f)
{
	char mac[18];

	xv_fmt_mac(vm->mac, mac);
	fprintf(f, "vm %s id %d mac %s vlan %u port %s",
		vm->name, vm->id, mac, vm->vlan, vm_port_name(vm));
	if (vm->ifname[0])      /* none on the fallback */
		fprintf(f, " ifname %s", vm->ifname);
	if (vm->port_kind == XVNET_PORT_VETH)
		fprintf(f, " netns %s peer-ifname %s", vm->netns,
			vm->peer_ifname);
	if (vm->port_kind == XVNET_PORT_XSK) {
		fprintf(f, " peer-ifname %s", vm->peer_ifname);
		if (vm->vhost_socket[0])
			fprintf(f, " vhost-socket %s", vm->vhost_socket);
		xsk_conf_format(&vm->xsk, f);
		coal_conf_format(&vm->coal, f);
	}
	fprintf(f, " queues %u%s%s", vm->queues,
		vm->keep_vlan ? " keep-vlan" : "",
		vm->owned ? " owned" : "");
	if (vm->has_owner)
		fprintf(f, " owner %s", vm->owner);
	if (vm->has_group)
		fprintf(f, " group %s", vm->group);
	/* only what is off: an allowance added later is on */
	if ((vm->allow & XVNET_VM_ALLOW_ALL) != XVNET_VM_ALLOW_ALL) {
		char names[128];

		vm_allow_format(XVNET_VM_ALLOW_ALL & ~vm->allow, names,
				sizeof(names));
		fprintf(f, " no-allow %s", names);
	}
	for (int a = 0; a < vm->n_addrs; a++) {
		char ip[46];

		xv_fmt_ip(vm->addrs[a], ip, sizeof(ip));
		fprintf(f, " ip %s", ip);
	}
	if (vm->has_rss_key) {
		char key[XV_RSS_KEY_STR];

		rss_format_key(vm->rss_key, key);
		fprintf(f, " rss-key %s", key);
	}
	if (vm->has_rss_indir) {
		char ind[XV_RSS_INDIR_STR];

		rss_format_indir(vm->rss_indir, ind);
		fprintf(f, " rss-indir %s", ind);
	}
	if (vm->has_rss_fields)
		fprintf(f, " rss-fields %s", rss_fields_name(vm->rss_fields));
	for (int c = 0; c < vm->n_queue_cpus; c++)
		fprintf(f, "%s%u", c ? "," : " queue-cpus ", vm->queue_cpus[c]);
	fputc('\n', f);
}

static char *vm_text(const struct vm_conf *vm)
{
	struct vm_conf v = *vm;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	v.id = -1;
	v.owned = false;
	vm_conf_format(&v, f);
	fclose(f);
	return buf;
}

/* The same VM line but for the id and who made the port. */
bool vm_conf_same(const struct vm_conf *a, const struct vm_conf *b)
{
	struct vm_conf x = *a, y = *b;
	char *ta, *tb;

	/* equal structs (the usual case: a VM a commit leaves alone) need no
	 * formatting; unequal ones may still print the same (a field the
	 * line does not carry), so the text decides */
	x.id = y.id = -1;
	x.owned = y.owned = false;
	x.line = y.line = 0;
	if (memcmp(&x, &y, sizeof(x)) == 0)
		return true;
	ta = vm_text(a);
	tb = vm_text(b);
	bool same = ta && tb && strcmp(ta, tb) == 0;

	free(ta);
	free(tb);
	return same;
}

/* flows_file: a `flows-file` line in place of the flow lines */
static int format_state(const struct xvd_config *cfg, const char *flows_file, FILE *f)
{
	fprintf(f, "# xvnetd state: written by xvnetd after every change; the"
		" admin's config\n# is the --config file (never written).\n");
	fprintf(f, "nic %s\n", cfg->nic);
	if (cfg->socket_group[0])
		fprintf(f, "socket-group %s\n", cfg->socket_group);
	if (cfg->flow_max != XVNET_FLOW_MAX_DEFAULT)
		fprintf(f, "flow-max %u\n", cfg->flow_max);
	if (cfg->malformed_pass)
		fprintf(f, "malformed pass\n");
	if (cfg->rx_hash_hw)
		fprintf(f, "rx-hash hw\n");
	for (size_t i = 0; i < cfg->n_vms; i++)
		vm_conf_format(&cfg->vms[i], f);
	if (flows_file)
		fprintf(f, "flows-file %s\n", flows_file);
	else
		for (size_t i = 0; i < cfg->n_flows; i++)
			flow_conf_format(&cfg->flows[i], f);
	if (cfg->flow_idle_timeout != XV_FLOW_IDLE_DEFAULT)
		fprintf(f, "flow-idle-timeout %u\n", cfg->flow_idle_timeout);
	if (cfg->sp_rate != XVNET_SP_RATE_DEFAULT)
		fprintf(f, "slow-path-rate %u\n", cfg->sp_rate);
	for (size_t i = 0; i < cfg->n_rules; i++) {
		char buf[512];

		rule_format(&cfg->rules[i], buf, sizeof(buf));
		fprintf(f, "rule %s %s\n", cfg->rules[i].vm, buf);
	}
	return ferror(f) ? -1 : 0;
}

int config_format(const struct xvd_config *cfg, FILE *f)
{
	return format_state(cfg, NULL, f);
}

/* Writes path whole or not at all: temp file, fsync, rename, then (sync_dir)
 * an fsync of the directory, which makes every rename before it durable. */
static int write_atomic(const char *path, int (*body)(const void *arg, FILE *f),
			const void *arg, bool sync_dir, char *err, size_t errlen)
{
	char tmp[4096], dirbuf[4096];
	FILE *f;
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return ERR("%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return ERR("%s: %s", tmp, strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return ERR("%s: %s", tmp, strerror(errno));
	}
	if (body(arg, f) || fflush(f) || fsync(fd)) {
		int e = errno;

		fclose(f);
		unlink(tmp);
		return ERR("%s: write: %s", tmp, strerror(e));
	}
	if (fclose(f)) {
		unlink(tmp);
		return ERR("%s: close: %s", tmp, strerror(errno));
	}
	if (rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return ERR("%s: rename: %s", path, strerror(e));
	}
	if (!sync_dir)
		return 0;
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int body_inline(const void *arg, FILE *f)
{
	return config_format(arg, f);
}

int config_save(const struct xvd_config *cfg, const char *path, char *err,
		size_t errlen)
{
	return write_atomic(path, body_inline, cfg, true, err, errlen);
}

/* ---- the state file with its flows apart (config.h: config_save_state) ---- */

struct state_body {
	const struct xvd_config *cfg;
	const char *flows_file;
};

static int body_state(const void *arg, FILE *f)
{
	const struct state_body *b = arg;

	return format_state(b->cfg, b->flows_file, f);
}

static int body_flows(const void *arg, FILE *f)
{
	const struct xvd_config *cfg = arg;

	fprintf(f, "# xvnetd's configured flows, named by its state file's"
		" flows-file line\n");
	for (size_t i = 0; i < cfg->n_flows; i++)
		flow_conf_format(&cfg->flows[i], f);
	return ferror(f) ? -1 : 0;
}

/* The BASE.flows.* files of dir other than keep: the one the previous
 * state named, and any a crash left between a save's two renames. */
static void flows_files_prune(const char *dir, const char *base, const char *keep)
{
	char prefix[NAME_MAX + 1], path[4096];
	struct dirent *de;
	size_t plen;
	DIR *dh;

	snprintf(prefix, sizeof(prefix), "%s.flows.", base);
	plen = strlen(prefix);
	if (!(dh = opendir(dir)))
		return;
	while ((de = readdir(dh)))
		if (strncmp(de->d_name, prefix, plen) == 0 && strcmp(de->d_name, keep) &&
		    !strstr(de->d_name, ".tmp.") && !join(path, sizeof(path), dir, de->d_name))
			unlink(path);
	closedir(dh);
}

int config_save_state(const struct xvd_config *cfg, const char *path,
		      struct state_flows *sf, bool flows_unchanged, char *err,
		      size_t errlen)
{
	char dirbuf[4096], basebuf[4096], name[sizeof(sf->name)], fpath[4096];
	const char *dir, *base;
	bool fresh;
	struct timespec ts;

	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	snprintf(basebuf, sizeof(basebuf), "%s", path);
	dir = dirname(dirbuf);
	base = basename(basebuf);
	if (!cfg->n_flows) {
		if (write_atomic(path, body_inline, cfg, true, err, errlen)) {
			sf->name[0] = '\0';
			return -1;
		}
		flows_files_prune(dir, base, "");
		sf->name[0] = '\0';
		return 0;
	}
	fresh = !flows_unchanged || !sf->name[0];
	if (fresh) {
		/* a name no earlier state used: the state on disk keeps naming
		 * its own flows file until the new state's rename */
		clock_gettime(CLOCK_REALTIME, &ts);
		if (snprintf(name, sizeof(name), "%s.flows.%llx%09lx", base,
			     (unsigned long long)ts.tv_sec, (long)ts.tv_nsec) >= (int)sizeof(name) ||
		    join(fpath, sizeof(fpath), dir, name))
			return ERR("%s: path too long", path);
		if (write_atomic(fpath, body_flows, cfg, false, err, errlen)) {
			sf->name[0] = '\0';
			return -1;
		}
	} else {
		snprintf(name, sizeof(name), "%s", sf->name);
	}
	if (write_atomic(path, body_state, &(struct state_body){ cfg, name }, true,
			 err, errlen)) {
		if (fresh)
			unlink(fpath);
		sf->name[0] = '\0';     /* written anew next time */
		return -1;
	}
	if (fresh)
		flows_files_prune(dir, base, name);
	snprintf(sf->name, sizeof(sf->name), "%s", name);
	return 0;
}
