/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xvnetd's configuration: the desired state (NIC, VMs with their ports,
 * configured flows), as read from and written to the config file, and the
 * validation shared by the file parser and control-socket requests.
 *
 * Grammar (one statement per line, '#' starts a comment, tokens split on
 * blanks; keys may come in any order after the statement word):
 *   nic IFNAME
 *   socket-group GROUP
 *   flow-max N
 *   malformed pass|drop
 *   vm NAME [id N] mac MAC [vlan V] port tap|veth|xsk|vhost-user|fallback [ifname IF]
 *      [netns NS] [peer-ifname IF] [queues Q] [keep-vlan] [owned]
 *      [xsk-KNOB VALUE...] [vhost-socket PATH]
 *      [ip ADDR]... [allow LIST] [no-allow LIST] [owner USER|UID]
 *      [group GROUP|GID]
 *      [rss-key HEX40] [rss-indir Q,Q*N,...] [rss-fields l3|l4|tcp,udp]
 *   flow [vlan V] proto P src IP [sport N] dst IP [dport N]
 *      action deliver|drop|pass [vm NAME] [queue Q|rss]
 *   flow-idle-timeout S
 *   rule VM dir in|out [proto P] [src PFX] [dst PFX] [sport A[-B]]
 *      [dport A[-B]] action allow|deny|queue [queue Q]
 *      (a VM's rules in file order, first match wins: loader/conf/rules.h)
 */
#ifndef XVNET_LOADER_CONF_CONFIG_H
#define XVNET_LOADER_CONF_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/parse.h"
#include "maps/xvnet_maps.h"

#define XV_NETNS_MAX 63
#define XV_USER_MAX 32          /* user and group names (useradd's limit) */
#define XV_SOCK_PATH_MAX 107    /* sun_path less its NUL */

/* AF_XDP socket knobs of an xsk VM (0 = default; see loader/kern/xsk.h). */
struct xsk_conf {
	uint32_t frame_size;            /* xsk-frame-size 2048|4096 */
	uint32_t frames;                /* xsk-frames: UMEM frames per socket */
	uint32_t rx_size, tx_size;      /* xsk-rx-size, xsk-tx-size */
	uint32_t fill_size, comp_size;  /* xsk-fill-size, xsk-comp-size */
	uint32_t busy_poll_us;          /* xsk-busy-poll (SO_BUSY_POLL) */
	uint32_t busy_poll_budget;      /* xsk-busy-poll-budget */
	uint32_t nic_queues;            /* xsk-nic-queues 0,2-3: mask, 0 = all */
	uint8_t need_wakeup;            /* xsk-need-wakeup on|off (0: on) */
	uint8_t prefer_busy_poll;       /* xsk-prefer-busy-poll on|off */
	uint8_t pad[2];
};

/* Notification coalescing of a VM (loader/kern/coalesce.c); 0 = off/unset. */
struct coal_conf {
	uint32_t rx_frames;             /* coalesce-rx-frames */
	uint32_t rx_usecs;              /* coalesce-rx-usecs */
	uint8_t adaptive;               /* coalesce-adaptive on|off (1 on) */
	uint8_t pad[3];
	/* the NIC's NAPI knobs for the VM's queues; both 0: left alone */
	uint32_t napi_defer_irqs;       /* coalesce-napi-defer-irqs */
	uint32_t napi_flush_usecs;      /* coalesce-napi-flush-usecs */
};

struct vm_conf {
	char name[XV_NAME_MAX + 1];
	int id;                         /* vm_id, -1 until assigned */
	uint8_t mac[6];
	bool has_mac;
	uint16_t vlan;
	uint8_t port_kind;              /* enum xvnet_port_kind */
	char ifname[XV_IFNAME_MAX + 1]; /* tap / veth host end */
	char netns[XV_NETNS_MAX + 1];   /* veth: peer's namespace */
	char peer_ifname[XV_IFNAME_MAX + 1]; /* veth: in netns; xsk: side veth VM end */
	uint8_t queues;
	bool keep_vlan;
	bool owned;                     /* xvnetd created the port device */
	struct xsk_conf xsk;            /* port xsk only */
	/* port vhost-user: an xsk VM whose sockets xvnetd hands to an
	 * xvnet-vhost back-end it runs (loader/kern/vhostsup.c), serving
	 * vhost-socket (empty: RUNDIR/NAME.vhost, RUNDIR the control
	 * socket's directory).  port_kind stays XVNET_PORT_XSK: the data
	 * path is the xsk VM's. */
	bool vhost;
	/* port fallback: no port of xvnet's (port_kind XVNET_PORT_NONE, no
	 * ifname); the host stack reaches the VM (docs/dnis.md) */
	bool fallback;
	char vhost_socket[XV_SOCK_PATH_MAX + 1];
	struct coal_conf coal;          /* port xsk only */
	int line;                       /* config line (0: from a request) */
	/* source addresses ("ip ADDR", repeatable; vm_tx anti-spoofing), IPv4
	 * stored IPv4-mapped; loader/kern/addrs.c writes them to xvnet_vm_addrs */
	uint8_t addrs[XVNET_MAX_VM_ADDRS][16];
	uint8_t n_addrs;
	/* anti-spoofing allowances (XVNET_VM_ALLOWS), XVNET_VM_F_ALLOW_*
	 * bits; all on unless "no-allow LIST" (loader/kern/addrs.c) */
	uint32_t allow;
	/* tap: who besides root may attach a queue (TUNSETOWNER,
	 * TUNSETGROUP).  Neither given: owner root, since the kernel lets
	 * anyone attach to a tap that has neither.  Both: the user must be
	 * the owner and in the group.  As given (name or number) and resolved. */
	bool has_owner, has_group;
	char owner[XV_USER_MAX + 1], group[XV_USER_MAX + 1];
	uint32_t owner_uid, group_gid;
	/* virtual RSS (loader/api/rss.c), each used instead of the pinned or
	 * default value when set: rss-key, rss-indir, rss-fields */
	bool has_rss_key, has_rss_indir, has_rss_fields;
	uint16_t rss_fields;            /* enum xvnet_rss_fields */
	uint8_t rss_key[XVNET_RSS_KEY_SIZE];
	uint8_t rss_indir[XVNET_RSS_INDIR_SIZE];
	bool has_rules;                 /* derived: cfg has rules for this VM */
	/* queue-cpus: host CPU of each queue's delivery (bpf/spread.h), queue
	 * q on queue_cpus[q % n_queue_cpus]; 0 entries: the NIC's NAPI CPU */
	uint8_t queue_cpus[XVNET_MAX_QUEUES];
	uint8_t n_queue_cpus;
};

enum rule_action {
	RULE_ALLOW = 0,
	RULE_DENY  = 1,
	RULE_QUEUE = 2,                 /* allow, steered to queue */
};

/* One rule of a VM (loader/conf/rules.c).  Addresses IPv4-mapped; plen counts
 * bits of the 128-bit form (an IPv4 /n is 96 + n). */
struct rule_conf {
	char vm[XV_NAME_MAX + 1];
	uint8_t dir;                    /* enum xvnet_dir */
	bool has_dir, has_proto, has_src, has_dst, has_sport, has_dport;
	bool has_action, src_v4, dst_v4;
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint8_t src_plen, dst_plen;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t action;                 /* enum rule_action */
	uint16_t queue;
	int line;
};

struct flow_conf {
	struct xvnet_flow_key key;
	bool has_src, has_dst, src_v4, dst_v4, has_proto, has_action;
	bool has_sport, has_dport, has_queue;
	uint8_t verdict;                /* enum xvnet_flow_verdict */
	char vm[XV_NAME_MAX + 1];       /* DELIVER target */
	uint16_t queue;                 /* queue or XVNET_QUEUE_RSS */
	int line;
};

struct xvd_config {
	char nic[XV_IFNAME_MAX + 1];
	char socket_group[64];
	uint32_t flow_max;
	bool malformed_pass;
	bool rx_hash_hw;                /* rx-hash hw: the NIC's hash (nic_rx_hw) */
	struct vm_conf *vms;
	size_t n_vms, cap_vms;
	struct flow_conf *flows;
	size_t n_flows, cap_flows;
	struct rule_conf *rules;        /* all VMs; a VM's rules in order */
	size_t n_rules, cap_rules;
	uint32_t flow_idle_timeout;     /* s; slow-path flows idle longer go */
	uint32_t sp_rate;               /* slow-path-rate: records/s per VM, 0 none */
};
#define XV_FLOW_IDLE_DEFAULT 60

void config_init(struct xvd_config *cfg);
void config_free(struct xvd_config *cfg);
int config_copy(struct xvd_config *dst, const struct xvd_config *src);

/* Whole-file parse; on error err = "FILE:LINE: reason" and cfg is freed. */
int config_parse_stream(FILE *f, const char *fname, struct xvd_config *cfg,
			char *err, size_t errlen);
int config_load(const char *path, struct xvd_config *cfg, char *err,
		size_t errlen);
int config_format(const struct xvd_config *cfg, FILE *f);
/* One 'vm' / 'flow' line (with its newline), as config_format writes it. */
void vm_conf_format(const struct vm_conf *vm, FILE *f);
/* Equal vm lines, the id and the owned flag aside. */
bool vm_conf_same(const struct vm_conf *a, const struct vm_conf *b);
void flow_conf_format(const struct flow_conf *fc, FILE *f);
/* Equal flow lines (loader/conf/merge.c). */
bool flow_conf_same(const struct flow_conf *a, const struct flow_conf *b);
/* VM vm's rules in order as rule lines, one text ("" none; NULL: no
 * memory; the caller frees it; loader/conf/merge.c). */
char *config_rules_text(const struct xvd_config *cfg, const char *vm);
/*
 * Reload (loader/conf/merge.c): the admin's file changed from old_admin to
 * new_admin while the daemon ran from `running` (the admin file plus what
 * requests changed).  out = running with the admin's edits applied: the
 * global settings of new_admin; a VM, flow or VM's rule list that the edit
 * added, changed or removed is added, replaced or removed; everything the
 * edit did not touch stays as it runs (VMs added at run time, rss set...).
 * A replaced VM keeps its id and, on the same device, its owned flag; a
 * new one gets the file's id if that slot is free (else a free slot).
 * On a conflict (e.g. a MAC used by a VM added at run time) err names it.
 */
/* nic, socket-group, flow-max, malformed, rx-hash, flow-idle-timeout */
void config_take_globals(struct xvd_config *out, const struct xvd_config *admin);
int config_merge(const struct xvd_config *running,
		 const struct xvd_config *old_admin,
		 const struct xvd_config *new_admin, struct xvd_config *out,
		 char *err, size_t errlen);
/* Atomic: temp file, fsync, rename, fsync directory. */
int config_save(const struct xvd_config *cfg, const char *path, char *err,
		size_t errlen);
/*
 * The daemon's state file, its flows apart: they go to a file of their own
 * beside it (PATH's name + ".flows." + a name no earlier save used), which
 * the state names in a `flows-file` line, so that a commit that changed no
 * flow writes and fsyncs the state's few lines, not every flow again
 * (60,000 flows: ~25 ms a commit).  sf: the flows file the last successful
 * save left (name "" none: written anew).  flows_unchanged: cfg's flows are
 * those of the configuration that save wrote (the commit's diff says so).
 * The new flows file is renamed in before the state that names it, the
 * one the old state named removed after: a crash leaves the old state
 * whole or the new one.  No flows: no flows file.
 */
struct state_flows {
	char name[256];
};
int config_save_state(const struct xvd_config *cfg, const char *path,
		      struct state_flows *sf, bool flows_unchanged, char *err,
		      size_t errlen);

/* VM statements and vm.add requests, one key at a time. val NULL = flag. */
void vm_conf_init(struct vm_conf *vm);
int vm_conf_set(struct vm_conf *vm, const char *key, const char *val,
		char *err, size_t errlen);
/* Required keys, defaults, per-port-kind rules. */
int vm_conf_finish(struct vm_conf *vm, char *err, size_t errlen);
/* Conflicts with the other VMs of cfg (skip: index to ignore or -1). */
int config_check_vm(const struct xvd_config *cfg, const struct vm_conf *vm,
		    long skip, char *err, size_t errlen);
/* addrs.c: "ip ADDR" of a VM (repeatable: vm NAME ... ip A ip B) and the
 * conflict check: an address belongs to one VM per VLAN. */
int vm_conf_add_addr(struct vm_conf *vm, const char *val, char *err,
		     size_t errlen);
int config_check_vm_addrs(const struct xvd_config *cfg,
			  const struct vm_conf *vm, long skip, char *err,
			  size_t errlen);
/* addrs.c: "allow LIST" / "no-allow LIST" (on = true / false): names of
 * XVNET_VM_ALLOWS, comma-separated, or "all"; the names of bits in out. */
int vm_conf_set_allow(struct vm_conf *vm, const char *key, const char *val,
		      bool on, char *err, size_t errlen);
void vm_allow_format(uint32_t bits, char *out, size_t len);
int config_alloc_vm_id(const struct xvd_config *cfg);
struct vm_conf *config_find_vm(const struct xvd_config *cfg, const char *name);
struct vm_conf *config_find_vm_id(const struct xvd_config *cfg, int id);
int config_add_vm(struct xvd_config *cfg, const struct vm_conf *vm);
void config_del_vm(struct xvd_config *cfg, const char *name);
/* The configured flows that deliver to VM vm_id (the VM still in cfg). */
void config_del_vm_flows(struct xvd_config *cfg, int vm_id);

void flow_conf_init(struct flow_conf *fc);
int flow_conf_set(struct flow_conf *fc, const char *key, const char *val,
		  char *err, size_t errlen);
/* need_action: false for "flow del" (match fields only). */
int flow_conf_finish(struct flow_conf *fc, bool need_action, char *err,
		     size_t errlen);
/* The flow's VM exists and has the queue. */
int config_check_flow(const struct xvd_config *cfg, const struct flow_conf *fc,
		      char *err, size_t errlen);
struct flow_conf *config_find_flow(const struct xvd_config *cfg,
				   const struct xvnet_flow_key *key);
int config_add_flow(struct xvd_config *cfg, const struct flow_conf *fc);
void config_del_flow(struct xvd_config *cfg, const struct xvnet_flow_key *key);

const char *port_kind_name(uint8_t kind);
/* The port kind as configured: port_kind_name, or "vhost-user". */
const char *vm_port_name(const struct vm_conf *vm);
const char *verdict_name(uint8_t verdict);
/* Default host-side device name of a VM ("xv-NAME"). */
int vm_default_ifname(const char *name, char *out, size_t outlen);
/* The VM end of an xsk VM's side veth, from the host end's name. */
int xsk_default_peer(const char *ifname, char *out, size_t outlen);

#endif
