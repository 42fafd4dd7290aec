/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xvnet map layout: the single source of truth for every map key and value,
 * every enum and constant shared by the BPF programs and user space, and the
 * map names and pin paths.  Included by bpf/ (clang -target bpf) and by
 * user space; it must only use <linux/types.h> types.
 */
#ifndef XVNET_MAPS_H
#define XVNET_MAPS_H

#include <linux/types.h>

/* ---- sizes and limits ------------------------------------------------- */
#define XVNET_MAX_VMS           4096  /* VM slots (vm_id is 0..MAX_VMS-1) */
#define XVNET_MAX_QUEUES        16    /* virtual queues per VM */
#define XVNET_MAX_CPUS          64    /* host CPUs a VM's queues can be spread on */
#define XVNET_MAX_NIC_QUEUES    16    /* NIC RX queues an xsk VM can bind */
#define XVNET_RSS_KEY_SIZE      40    /* Toeplitz key, as ethtool -X hkey */
#define XVNET_RSS_INDIR_SIZE    128   /* indirection table, as ethtool -X */
#define XVNET_FLOW_MAX_DEFAULT  262144 /* flow cache size unless configured */
#define XVNET_FLOWS_CFG_MAX     65536 /* the operator's flows (flow add) */
#define XVNET_SP_RATE_DEFAULT   20000 /* slow-path records/s per VM */
#define XVNET_MAX_FLOOD_PORTS   1024  /* VMs reached by one VLAN's flood */
#define XVNET_IPV6_MAX_EXT_HDRS 8     /* extension headers walked, no more */
#define XVNET_VLAN_NONE         0     /* untagged */
#define XVNET_VLAN_MAX          4094
#define XVNET_MAX_VM_ADDRS      16    /* source addresses per VM (vm add --ip) */
#define XVNET_VM_ADDRS_MAX      65536 /* xvnet_vm_addrs entries, all VMs */

/* Flow action queue meaning "pick the queue with the VM's RSS". */
#define XVNET_QUEUE_RSS         0xffff

/* ---- map names (BPF object symbol == pinned file name) ---------------- */
#define XVNET_PIN_DIR           "/sys/fs/bpf/xvnet"
#define XVNET_MAP_VM_BY_MAC     "xvnet_vm_by_mac"
#define XVNET_MAP_VMS           "xvnet_vms"
#define XVNET_MAP_VM_CACHE      "xvnet_vm_cache"
#define XVNET_MAP_RSS_TABLES    "xvnet_rss_tables"
#define XVNET_MAP_FLOWS         "xvnet_flows"
#define XVNET_MAP_FLOWS_CFG     "xvnet_flows_cfg"
#define XVNET_MAP_FLOWS4        "xvnet_flows4"
#define XVNET_MAP_FLOWS4_CFG    "xvnet_flows4_cfg"
#define XVNET_MAP_SP_BUDGET     "xvnet_sp_budget"
#define XVNET_MAP_REDIRECT_ERR  "xvnet_redirect_err"
#define XVNET_REDIRECT_ERR_MAX  4096  /* (VM, way, errno) triples counted */
#define XVNET_MAP_PORTS         "xvnet_ports"
#define XVNET_MAP_PORTS_B       "xvnet_ports_b"
#define XVNET_MAP_PORT_STATS    "xvnet_port_stats"
#define XVNET_MAP_XSKS          "xvnet_xsks"
#define XVNET_MAP_XSK_SIDE      "xvnet_xsk_side"
#define XVNET_MAP_CPUS          "xvnet_cpus"
#define XVNET_MAP_FLOOD         "xvnet_flood"
#define XVNET_MAP_FLOOD_COUNT   "xvnet_flood_count"
#define XVNET_MAP_FLOOD_HOST    "xvnet_flood_host"
#define XVNET_MAP_STATS         "xvnet_stats"
#define XVNET_MAP_QUEUE_STATS   "xvnet_queue_stats"
#define XVNET_MAP_PORT_VM       "xvnet_port_vm"
#define XVNET_MAP_UPLINK        "xvnet_uplink"
#define XVNET_MAP_CONFIG        "xvnet_config"
#define XVNET_MAP_VM_ADDRS      "xvnet_vm_addrs"
#define XVNET_MAP_VM_TX_STATS   "xvnet_vm_tx_stats"
#define XVNET_MAP_SLOW_RB       "xvnet_slow_rb"
#define XVNET_MAP_LL_OWNER      "xvnet_ll_owner"
#define XVNET_MAP_LL_VM         "xvnet_ll_vm"
#define XVNET_MAP_FRAGS         "xvnet_frags"
#define XVNET_PROG_NIC_RX       "nic_rx"
#define XVNET_PROG_NIC_FLOOD    "nic_flood"
#define XVNET_PROG_VM_TX        "vm_tx"
#define XVNET_PROG_VM_FLOOD     "vm_flood"
#define XVNET_PROG_XSK_SIDE     "xsk_side"
#define XVNET_PROG_TAP_STEER    "tap_steer"

/* ---- enums ------------------------------------------------------------ */
enum xvnet_port_kind {
	/* no port of xvnet's, the fallback (`--port fallback`): nic_rx passes
	 * the VM's frames to the host stack, whose bridge or routing reaches
	 * the VM by a port xvnet does not own (docs/dnis.md) */
	XVNET_PORT_NONE = 0,
	XVNET_PORT_TAP  = 1,   /* DEVMAP -> tap device read by the VMM */
	XVNET_PORT_VETH = 2,   /* DEVMAP -> host end of a veth pair */
	XVNET_PORT_XSK  = 3,   /* XSKMAP -> AF_XDP socket per NIC RX queue */
};

/* What an exact-match flow entry tells nic_rx to do. */
enum xvnet_flow_verdict {
	XVNET_FLOW_DELIVER = 0, /* to vm_id, queue (or RSS when XVNET_QUEUE_RSS) */
	XVNET_FLOW_DROP    = 1,
	XVNET_FLOW_PASS    = 2, /* to the host stack */
};

/* struct xvnet_vm.flags */
enum xvnet_vm_flags {
	XVNET_VM_F_ACTIVE    = 1 << 0, /* slot in use; port entries are valid */
	XVNET_VM_F_KEEP_VLAN = 1 << 1, /* deliver tagged (trunk) instead of popping */
	XVNET_VM_F_HAS_RULES = 1 << 2, /* flow-cache misses go to the slow path */
	/* deliver as an skb through tc (struct xvnet_skb_meta), so that the
	 * port's queue is the chosen one: set by xvnetd for multi-queue tap
	 * and veth VMs, whose XDP transmit picks the queue by CPU */
	XVNET_VM_F_SKB_PATH  = 1 << 3,
	/* queue q's delivery runs on CPU queue_cpu[q] (CPUMAP xvnet_cpus) */
	XVNET_VM_F_CPU_SPREAD = 1 << 4,
	/* anti-spoofing allowances (vm add --allow/--no-allow, below) */
	XVNET_VM_F_ALLOW_DHCP        = 1 << 5,
	XVNET_VM_F_ALLOW_IPV6_LL     = 1 << 6,
	XVNET_VM_F_ALLOW_IPV6_LL_ANY = 1 << 7,
	/* nobody reads the xsk metadata's rss_hash (a vhost-user VM: its
	 * back-end takes only the queue; virtio-net is offered no hash
	 * report): nic_rx runs Toeplitz only where RSS picks the queue */
	XVNET_VM_F_NO_RX_HASH        = 1 << 8,
	/* xvnet_rss_tables[vm_id] holds the tables of this slot's rss_key:
	 * nic_rx hashes with table lookups instead of bit by bit (xvnetd
	 * writes the table before it sets the flag, and clears the flag
	 * before it rewrites the table for a new key) */
	XVNET_VM_F_RSS_TABLE         = 1 << 9,
};

/*
 * What vm_tx's anti-spoofing (bpf/spoof.h) lets a VM send beyond its
 * configured addresses, so that a stock guest configures itself as on a
 * cloud's port security: each one a flag in struct xvnet_vm.flags, named
 * once here for the config file, xvnetctl and the docs (docs/security.md).
 * All are on unless the VM's config turns them off (no-allow).
 * X(enum suffix, name, description)
 */
#define XVNET_VM_ALLOWS(X)                                                    \
	X(DHCP,        "dhcp",        "DHCPv4 client messages from 0.0.0.0")  \
	X(IPV6_LL,     "ipv6-ll",     "its MAC-derived (EUI-64) fe80:: address") \
	X(IPV6_LL_ANY, "ipv6-ll-any", "other fe80::/64 sources, to link-local only")

#define XVNET_X_ALLOW_BIT(e, name, desc) | XVNET_VM_F_ALLOW_##e
#define XVNET_VM_ALLOW_ALL (0 XVNET_VM_ALLOWS(XVNET_X_ALLOW_BIT))

/* struct xvnet_flow_key.dir: which way the packet travels. */
enum xvnet_dir {
	XVNET_DIR_IN  = 0,  /* from the NIC toward a VM (nic_rx) */
	XVNET_DIR_OUT = 1,  /* from a VM (vm_tx) */
};

/* struct xvnet_flow.flags */
enum xvnet_flow_flags {
	XVNET_FLOW_F_RULE = 1 << 0, /* installed by the slow path from rules */
};

/* struct xvnet_vm.hash_fields: which L4 protocols hash on ports as well. */
enum xvnet_rss_fields {
	XVNET_RSS_L4_TCP = 1 << 0,
	XVNET_RSS_L4_UDP = 1 << 1,
};
#define XVNET_RSS_FIELDS_DEFAULT (XVNET_RSS_L4_TCP | XVNET_RSS_L4_UDP)

/* The input a hash covered, as carried to AF_XDP consumers (xvnet_xsk_meta). */
enum xvnet_rss_type {
	XVNET_RSS_TYPE_NONE = 0, /* not IP: hash is 0 */
	XVNET_RSS_TYPE_IPV4 = 1, /* 2-tuple */
	XVNET_RSS_TYPE_TCP4 = 2,
	XVNET_RSS_TYPE_UDP4 = 3,
	XVNET_RSS_TYPE_IPV6 = 4,
	XVNET_RSS_TYPE_TCP6 = 5,
	XVNET_RSS_TYPE_UDP6 = 6,
	/* or-ed in: the hash is the NIC's (config `rx-hash hw`), not xvnet's
	 * Toeplitz hash; the low bits say what it covered as far as the NIC
	 * tells (L4 or not) */
	XVNET_RSS_TYPE_F_HW = 0x100,
};

/*
 * Every counted outcome of nic_rx / nic_flood.  One X-macro list so that the
 * enum, the names printed by xvnetctl and the docs never drift apart.
 * X(enum suffix, name, description)
 */
#define XVNET_COUNTERS(X)                                                     \
	X(RX,              "rx",              "frames seen by nic_rx")           \
	X(DELIVERED,       "delivered",       "redirected to a VM port")         \
	X(FLOW_HIT,        "flow_hit",        "matched an exact-match flow")     \
	X(FLOW_DROP,       "flow_drop",       "dropped by a flow entry")         \
	X(FLOW_PASS,       "flow_pass",       "passed to host by a flow entry")  \
	X(NO_VM,           "no_vm",           "unknown (MAC, VLAN): to host")    \
	X(FLOOD,           "flood",           "broadcast/multicast: host+VLAN")  \
	X(FLOOD_COPIES,    "flood_copies",    "copies cloned to VM ports")       \
	X(FLOOD_ERR,       "flood_err",       "clone to a VM port failed")       \
	X(MALFORMED,       "malformed",       "truncated or invalid headers")    \
	X(IPV6_EXT_LIMIT,  "ipv6_ext_limit",  "IPv6 ext. header chain too long") \
	X(FRAGMENT,        "fragment",        "IP fragments (2-tuple hash)")     \
	X(NON_IP,          "non_ip",          "not IPv4/IPv6 (ARP, ...)")        \
	X(VLAN_TOO_DEEP,   "vlan_too_deep",   "more than two VLAN tags")         \
	X(QUEUE_NOT_READY, "queue_not_ready", "VM or its port/socket missing")   \
	X(META_FAIL,       "meta_fail",       "no room for AF_XDP metadata")     \
	X(VLAN_POP_FAIL,   "vlan_pop_fail",   "could not pop the VLAN tag")     \
	X(TX,              "tx",              "frames sent by VMs (vm_tx)")      \
	X(TX_UPLINK,       "tx_uplink",       "VM frames out of the NIC")        \
	X(TX_LOCAL,        "tx_local",        "VM to VM, kept in host memory")   \
	X(TX_FLOOD,        "tx_flood",        "VM broadcast/multicast")          \
	X(TX_SPOOF,        "tx_spoof",        "VM frame with a forged source")   \
	X(TX_NO_PORT,      "tx_no_port",      "frame on a port xvnet does not own") \
	X(TX_UPLINK_DOWN,  "tx_uplink_down",  "no NIC to send to")               \
	X(VLAN_PUSH_FAIL,  "vlan_push_fail",  "could not push the VLAN tag")    \
	X(SLOW_PATH,       "slow_path",       "flow miss of a VM with rules: to xvnetd, dropped") \
	X(SLOW_PATH_FULL,  "slow_path_full",  "slow-path ring buffer full: dropped") \
	X(SLOW_PATH_BUDGET, "slow_path_budget", "VM over its slow-path rate (slow-path-rate): dropped") \
	X(RX_HASH_HW,      "rx_hash_hw",      "rx-hash hw: the NIC's hash used")  \
	X(RX_HASH_HW_NONE, "rx_hash_hw_none", "rx-hash hw: NIC gave none, Toeplitz used") \
	X(SKB_PATH,        "skb_path",        "delivered via tc, to the chosen queue") \
	X(SKB_PATH_DROP,   "skb_path_drop",   "tc: VM or port gone, or bad metadata") \
	X(CPU_SPREAD,      "cpu_spread",      "frames delivered from a VM queue's CPU (per CPU)") \
	X(CPU_SPREAD_DROP, "cpu_spread_drop", "on the queue's CPU: VM or port gone, bad metadata") \
	X(TX_SKB,          "tx_skb",          "VM frames XDP cannot send (GSO, over the MTU): sent by tc") \
	X(TX_SKB_DROP,     "tx_skb_drop",     "tc: such a frame with no way on (target gone, bad tag)") \
	X(FRAG_NO_FIRST,   "frag_no_first",   "later fragment, VM with rules, its first fragment not let through: dropped") \
	X(RULES_EXT_LIMIT, "rules_ext_limit", "IPv6 ext. chain beyond the walk, VM with rules: dropped") \
	X(VLAN_QINQ,       "vlan_qinq",       "two or more VLAN tags for a VM: dropped") \
	X(VLAN_STAG,       "vlan_stag",       "an 802.1ad (S-)tag for a VM: dropped") \
	X(VLAN_OTHER,      "vlan_other",      "a flow's VM on another VLAN than the frame's: dropped") \
	X(FALLBACK,        "fallback",        "for a VM on the fallback (no port of xvnet's): to the host stack")

enum xvnet_counter {
#define XVNET_X_ENUM(e, name, desc) XVNET_CNT_##e,
	XVNET_COUNTERS(XVNET_X_ENUM)
#undef XVNET_X_ENUM
	XVNET_CNT_MAX,
};

/* ---- map keys and values ---------------------------------------------- */

/* xvnet_vm_by_mac: HASH (dst MAC, outer VLAN ID) -> __u32 vm_id */
struct xvnet_vm_key {
	__u8  mac[6];
	__u16 vlan;         /* outer VLAN ID, host order; 0 = untagged */
};

/*
 * xvnet_vm_cache: ARRAY[XVNET_VM_CACHE_SLOTS] -> __u32, a direct-mapped
 * index in front of xvnet_vm_by_mac, so that a frame to a known VM costs
 * an array read instead of a hash lookup (and one cache line instead of
 * a bucket and an element).  Slot xvnet_vm_cache_slot(key) holds vm_id + 1
 * of the VM xvnet_vm_by_mac maps that key to, or 0.  xvnetd is its only
 * writer and keeps it a subset of xvnet_vm_by_mac: a slot is cleared
 * before the entry it names is written or deleted and set only after the
 * entry is in place; two keys of one slot leave one of them to the hash.
 * nic_rx takes a slot's VM only if that VM's xvnet_vms slot is active
 * with the frame's own MAC and VLAN (the full key: a slot is one word, so
 * no read of it is torn, and a stale or colliding one never matches), and
 * looks into xvnet_vm_by_mac otherwise.
 */
#define XVNET_VM_CACHE_BITS     14
#define XVNET_VM_CACHE_SLOTS    (1u << XVNET_VM_CACHE_BITS)

/* The slot of a struct xvnet_vm_key, given as its 8 bytes read as one
 * __u64 in host order (BPF and user space alike): multiplicative hashing,
 * whose top bits spread the bench's and a cloud's sequential MACs. */
static inline __u32 xvnet_vm_cache_slot(__u64 key_word)
{
	return (__u32)((key_word * 0x9e3779b97f4a7c15ull) >> (64 - XVNET_VM_CACHE_BITS));
}

/*
 * xvnet_vms: ARRAY[vm_id] -> struct xvnet_vm.  Written whole by user space
 * before the (MAC, VLAN) entry that points at it exists, so a packet never
 * sees a half-added VM.  The indirection table is bytes so that each entry
 * changes atomically when the table is rewritten under traffic.
 */
struct xvnet_vm {
	__u32 flags;                /* enum xvnet_vm_flags */
	__u32 ifindex;              /* port device: tap, veth host end, xsk side veth host end */
	__u8  mac[6];
	__u16 vlan;
	__u8  port_kind;            /* enum xvnet_port_kind */
	__u8  n_queues;             /* 1..XVNET_MAX_QUEUES */
	__u16 hash_fields;          /* enum xvnet_rss_fields */
	__u32 port_sel;             /* 0, or a vm move's switch (below) */
	__u8  rss_key[XVNET_RSS_KEY_SIZE];
	__u8  rss_indir[XVNET_RSS_INDIR_SIZE]; /* entries < n_queues */
	__u8  queue_cpu[XVNET_MAX_QUEUES];     /* XVNET_VM_F_CPU_SPREAD */
};

/*
 * xvnet_rss_tables: ARRAY[vm_id] -> the Toeplitz hash of a VM's rss_key
 * as a table per input nibble: nib[n][v] is what nibble n of the hash
 * input (MSB first) adds to the hash when it holds v, so a hash is one
 * lookup and XOR per nibble (24 for an IPv4 4-tuple) where the bitwise
 * hash costs ~7 instructions per input bit (docs/PERFORMANCE.md).  Valid
 * for a slot with XVNET_VM_F_RSS_TABLE only.  4,608 bytes per VM slot,
 * 18 MiB for XVNET_MAX_VMS, allocated when the map is created: a cache
 * line per nibble, 24 lines for IPv4, 72 for the IPv6 4-tuple.
 */
#define XVNET_RSS_TABLE_NIBBLES 72    /* 36 input bytes: the IPv6 4-tuple */
struct xvnet_rss_table {
	__u32 nib[XVNET_RSS_TABLE_NIBBLES][16];
};

/*
 * The flow key: IPv4 addresses IPv4-mapped (::ffff:a.b.c.d) so one key
 * shape covers both families.  Ports are 0 for fragments and for protocols
 * without ports.  Everything outside the maps speaks this key.
 */
struct xvnet_flow_key {
	__u8  src[16];
	__u8  dst[16];
	__be16 sport;
	__be16 dport;
	__u16 vlan;                 /* outer VLAN ID, host order */
	__u8  proto;                /* IPPROTO_* */
	__u8  dir;                  /* enum xvnet_dir (0 for nic_rx) */
};

/*
 * The flow maps, by family: an IPv4 packet's flow (both addresses
 * IPv4-mapped) lives under this 16-byte key in xvnet_flows4 (LRU_HASH,
 * learnt, `flow-max`) and xvnet_flows4_cfg (HASH, the operator's), any
 * other flow under struct xvnet_flow_key in xvnet_flows and xvnet_flows_cfg.
 * The kernel's hash of a 40-byte key costs twice that of a 16-byte one, about
 * 10 ns of a flow-cache hit here (docs/PERFORMANCE.md, floor-flow40/16).
 * Its fields are the 40-byte key's bytes 12-15, 28-31 and 32-39: the
 * conversion below loses nothing, either way.
 */
struct xvnet_flow4_key {
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u16 vlan;
	__u8  proto;
	__u8  dir;
};

/* k is an IPv4 packet's key (both addresses ::ffff:a.b.c.d) */
static inline int xvnet_flow_key_is4(const struct xvnet_flow_key *k)
{
	/* word loads, no memcmp: BPF programs call this too */
	const __u8 ffff[4] = { 0, 0, 0xff, 0xff };
	__u64 s0, d0;
	__u32 s1, d1, m;

	__builtin_memcpy(&s0, k->src, 8);
	__builtin_memcpy(&s1, k->src + 8, 4);
	__builtin_memcpy(&d0, k->dst, 8);
	__builtin_memcpy(&d1, k->dst + 8, 4);
	__builtin_memcpy(&m, ffff, 4);
	return !(s0 | d0) && s1 == m && d1 == m;
}

static inline void xvnet_flow_key_to4(const struct xvnet_flow_key *k, struct xvnet_flow4_key *k4)
{
	__builtin_memcpy(&k4->src, k->src + 12, 4);
	__builtin_memcpy(&k4->dst, k->dst + 12, 4);
	__builtin_memcpy(&k4->sport, &k->sport, 8);   /* sport, dport, vlan, proto, dir */
}

static inline void xvnet_flow_key_from4(const struct xvnet_flow4_key *k4, struct xvnet_flow_key *k)
{
	__builtin_memset(k, 0, 10);
	__builtin_memset(k->src + 10, 0xff, 2);
	__builtin_memcpy(k->src + 12, &k4->src, 4);
	__builtin_memset(k->dst, 0, 10);
	__builtin_memset(k->dst + 10, 0xff, 2);
	__builtin_memcpy(k->dst + 12, &k4->dst, 4);
	__builtin_memcpy(&k->sport, &k4->sport, 8);
}

/*
 * xvnet_frags: LRU_HASH, the fragment state of VMs with rules
 * (docs/security.md).  A first fragment carries the L4 header and is judged
 * by the VM's rules like a whole packet; when its flow lets it through, the
 * datagram (addresses, protocol, IP identification) is recorded here, and
 * the datagram's later fragments (no L4 header) get through only while
 * such an entry, younger than XVNET_FRAG_TIMEOUT_NS, exists.
 */
#define XVNET_FRAGS_MAX         16384
#define XVNET_FRAG_TIMEOUT_NS   (60ull * 1000000000ull) /* = ip6frag_time */
struct xvnet_frag_key {
	__u8  src[16];              /* IPv4-mapped as in xvnet_flow_key */
	__u8  dst[16];
	__be32 id;                  /* IPv4: the 16-bit identification; IPv6: the fragment header's */
	__u16 vlan;                 /* outer VLAN ID (dir in), the VM's VLAN (dir out) */
	__u8  proto;
	__u8  dir;                  /* enum xvnet_dir */
};

struct xvnet_frag {
	__u32 vm_id;
	__u16 queue;                /* the first fragment's queue, or XVNET_QUEUE_RSS */
	__u16 pad;
	__u64 first_ns;             /* bpf_ktime_get_ns() of the first fragment */
};

struct xvnet_flow {
	__u8  verdict;              /* enum xvnet_flow_verdict */
	__u8  flags;                /* enum xvnet_flow_flags */
	__u16 queue;                /* virtual queue, or XVNET_QUEUE_RSS */
	__u32 vm_id;
	__u64 packets;              /* plain increments by the data path (bpf/flowcache.h) */
	__u64 bytes;
	__u64 last_seen_ns;         /* bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC) of the last hit */
};

/* xvnet_ports: DEVMAP[vm_id] -> ifindex of the VM's tap or veth host end. */
/*
 * A VM moving between ports (`vm move`, loader/kern/move.c, docs/dnis.md):
 * xvnet_ports_b: DEVMAP[vm_id], the second bank, holds the new port while
 * the old one is still in xvnet_ports (or the reverse), and the VM slot's
 * port_sel says which bank and which port kind deliver() uses.  port_sel
 * is one naturally aligned word, read once per frame, so one slot write
 * switches kind and device together: each frame goes to the old port or to
 * the new one, never half.  0 = no move in force: port_kind, bank 0.
 */
#define XVNET_PORT_SEL_VALID    (1u << 31)
#define XVNET_PORT_SEL_BANK_B   (1u << 0)
#define XVNET_PORT_SEL(bank_b, kind) \
	(XVNET_PORT_SEL_VALID | ((bank_b) ? XVNET_PORT_SEL_BANK_B : 0) | \
	 ((__u32)(kind) << 8))
#define XVNET_PORT_SEL_KIND(sel) (((sel) >> 8) & 0xff)
/*
 * xvnet_port_stats: PERCPU_ARRAY[vm_id * XVNET_PORT_KINDS + port kind] ->
 * struct xvnet_queue_stats: frames deliver() sent to the VM's port of that
 * kind (XVNET_PORT_NONE: passed to the host stack, the fallback), counted
 * with the same port_sel read as the redirect, so that a VM's moves show
 * exactly where each frame went.
 */
#define XVNET_PORT_KINDS        4
#define XVNET_PORT_STATS_MAX    (XVNET_MAX_VMS * XVNET_PORT_KINDS)
/*
 * xvnet_cpus: CPUMAP[cpu] (struct bpf_cpumap_val: queue size, program
 * vm_cpu).  nic_rx sends a spread VM's frame, with struct xvnet_skb_meta in
 * front, to the CPU of its queue; vm_cpu finishes the delivery there.
 */

/* xvnet_xsks: XSKMAP[vm_id * XVNET_MAX_NIC_QUEUES + NIC rx queue] -> socket */
#define XVNET_XSK_SLOT(vm_id, rxq) ((vm_id) * XVNET_MAX_NIC_QUEUES + (rxq))
#define XVNET_XSKS_MAX (XVNET_MAX_VMS * XVNET_MAX_NIC_QUEUES)
/*
 * xvnet_xsk_side: XSKMAP[vm_id] -> the xsk VM's side socket, bound to the
 * VM end of its side veth.  The VM transmits only there (its NIC sockets
 * have no TX ring), so what it sends crosses vm_tx on the host end like any
 * VM's frames; broadcast copies and frames from other local VMs come back
 * the same way (xsk_side redirects them into this socket).
 */

/* xvnet_flood: HASH (VLAN, index) -> member; xvnet_flood_count: VLAN -> n;
 * xvnet_flood_host: ARRAY VLAN -> VMs on the fallback (no members). */
struct xvnet_flood_key {
	__u16 vlan;
	__u16 idx;                  /* 0 .. count-1, kept dense by user space */
};

struct xvnet_flood_member {
	__u32 ifindex;              /* VM port device to clone to */
	__u32 vm_id;
};

/* skb->mark of a VM's broadcast that vm_flood puts into the NIC's ingress
 * for the VMs on the fallback: nic_flood lets it up to the host stack
 * without copying it to the VMs again ("xvn" 1) */
#define XVNET_MARK_HOST_COPY    0x78766e01u

/* xvnet_port_vm: HASH port ifindex (tap / veth host end) -> __u32 vm_id */
/* xvnet_uplink: DEVMAP[0] -> the NIC's ifindex (VM egress goes there) */

/* xvnet_config: ARRAY[0] -> runtime settings the programs read.  tc programs
 * cannot read a DEVMAP, so the NIC's ifindex is kept here too.  nic_rx only
 * looks into xvnet_flows once flows_active is set: whoever writes a flow sets
 * it first (an empty flow cache then costs no hash lookup per packet). */
struct xvnet_config {
	__u32 uplink_ifindex;
	__u32 flows_active;
	/* inline mode (XVNET_META_INLINE): the secret that marks a prefix as
	 * written by nic_rx / vm_tx, so that no frame from outside can carry
	 * one that tc would honour; random, set once by xvnetd */
	__u64 inline_tag;
	__u32 cfg_flows_active;     /* xvnet_flows_cfg has ever held a flow */
	__u32 sp_rate;              /* slow-path records/s per VM (0: no limit) */
	__u32 ports_map_id;         /* xvnet_ports' id (redirect_err: dir in) */
	/* nonzero: nic_rx takes every frame the general way, its fast path
	 * (bpf/fastpath.h) off; for tests and xvnet-costbench, 0 otherwise */
	__u32 fast_path_off;
};

/*
 * xvnet_flows_cfg: HASH with the xvnet_flows layout, for the operator's
 * flows (`flow add`, `flow` lines): a plain hash, so no traffic can evict
 * them (learnt flows live in the LRU xvnet_flows, which a flood of new
 * flows churns).  nic_rx looks here first: the operator's word wins.
 *
 * xvnet_sp_budget: ARRAY[vm_id] -> struct xvnet_sp_bucket, each VM's token
 * bucket of slow-path records (xvnet_config.sp_rate per second, a burst of
 * an eighth of that), so that one VM's flood of new flows cannot starve the
 * flow setup of the others.  Updated without atomics: approximate by design.
 */
struct xvnet_sp_bucket {
	__u64 last_ns;
	__u32 tokens;
	__u32 pad;
};

/*
 * xvnet_redirect_err: PERCPU_HASH {vm_id, dir, err} -> __u64 frames.  An XDP
 * redirect fails after the program returned (the target's MTU, a device
 * down, a tap no VMM holds, a full queue), where no program can count it;
 * the kernel's tracepoints see it, and two tp_btf programs (nic_rx.bpf.c)
 * count it here per VM and reason.  redirect_err (xdp:xdp_redirect_err):
 * dir out for a frame a VM sent (the device that ran XDP is its port), dir
 * in for one nic_rx sent to a VM's port (xvnet_ports[vm_id]).
 * devmap_xmit_err (xdp:xdp_devmap_xmit, frames the bulk transmit dropped):
 * dir in for the VM whose port it was, else dir out for the sending VM.
 * err is the positive errno (ENOBUFS: the driver took fewer, no error).
 */
struct xvnet_redirect_err_key {
	__u32 vm_id;
	__u16 err;
	__u8  dir;                  /* enum xvnet_dir */
	__u8  pad;
};

/* xvnet_queue_stats: PERCPU_ARRAY[vm_id * XVNET_MAX_QUEUES + queue] */
struct xvnet_queue_stats {
	__u64 packets;
	__u64 bytes;
};
#define XVNET_QUEUE_STATS_MAX (XVNET_MAX_VMS * XVNET_MAX_QUEUES)

/* xvnet_stats: PERCPU_ARRAY[enum xvnet_counter] -> __u64 */

/*
 * xvnet_vm_addrs: HASH {vm_id, address} -> __u32 enum xvnet_vm_addr_flags.
 * The addresses VM vm_id may send from (vm_tx anti-spoofing, bpf/spoof.h);
 * IPv4 stored IPv4-mapped.  One extra entry per VM with the all-zero
 * address and XVNET_ADDR_F_HAS_ADDRS says "this VM has addresses" (:: and
 * 0.0.0.0 are never configurable, so it never matches a source).
 */
struct xvnet_vm_addr_key {
	__u32 vm_id;
	__u8  addr[16];
};

enum xvnet_vm_addr_flags {
	XVNET_ADDR_F_SOURCE    = 1 << 0, /* a configured address */
	XVNET_ADDR_F_HAS_ADDRS = 1 << 1, /* the per-VM marker entry */
	XVNET_ADDR_F_LISTED    = 1 << 2, /* a per-VLAN entry, below */
};

/*
 * Per-VLAN entries: {XVNET_ADDR_VLAN_ID(vlan), address} -> XVNET_ADDR_F_LISTED
 * for each fe80::/64 address a VM of that VLAN lists (--ip), so that
 * ipv6-ll-any never lets another VM send from it (vm_id is never that high).
 */
#define XVNET_ADDR_VLAN_ID(vlan) (0x80000000u | (__u32)(vlan))

/*
 * ipv6-ll-any bindings, first come, first served (as SAVI FCFS, RFC 6620):
 * the first VM of a VLAN to use a link-local address of its own choosing
 * (as source, or in its DAD probe) holds it, and no other VM may use it.
 * Each VM holds one at a time; using another releases it.
 * xvnet_ll_owner: HASH {addr, vlan} -> __u32 vm_id of the holder
 * xvnet_ll_vm:    ARRAY[vm_id] -> struct xvnet_ll_slot, what it holds
 * vm_tx writes both; xvnetd clears a VM's on vm del.
 */
struct xvnet_ll_key {
	__u8  addr[16];
	__u16 vlan;
	__u16 pad;
};

struct xvnet_ll_slot {
	__u8  addr[16];
	__u16 vlan;
	__u8  held;                 /* addr/vlan valid */
	__u8  pad;
};
#define XVNET_LL_OWNER_MAX      (2 * XVNET_MAX_VMS) /* one each, with room for races */

/*
 * Per-VM egress counters: xvnet_vm_tx_stats PERCPU_ARRAY[vm_id] ->
 * struct xvnet_vm_tx_stats.  X(enum suffix, name, description).  The
 * SPOOF_* reasons come last: their sum (from SPOOF_MAC on) is "spoof".
 */
#define XVNET_VM_TX_COUNTERS(X)                                               \
	X(TX,         "tx",         "frames the VM sent (seen by vm_tx)")     \
	X(TX_BYTES,   "tx_bytes",   "bytes of those frames")                  \
	X(TX_SKB,     "tx_skb",     "of those, sent by tc: GSO or over the MTU") \
	X(SPOOF_MAC,  "spoof_mac",  "source MAC not the VM's")                \
	X(SPOOF_VLAN, "spoof_vlan", "tag other than the VM's VLAN, or QinQ")  \
	X(SPOOF_IP,   "spoof_ip",   "IPv4/IPv6 source not the VM's")          \
	X(SPOOF_ARP,  "spoof_arp",  "ARP sender MAC/IP not the VM's")         \
	X(SPOOF_ND,   "spoof_nd",   "ND target or link-layer option forged")

enum xvnet_vm_counter {
#define XVNET_X_ENUM(e, name, desc) XVNET_VM_CNT_##e,
	XVNET_VM_TX_COUNTERS(XVNET_X_ENUM)
#undef XVNET_X_ENUM
	XVNET_VM_CNT_MAX,
};

struct xvnet_vm_tx_stats {
	__u64 c[XVNET_VM_CNT_MAX];
};

/*
 * Metadata nic_rx puts in front of every frame it sends to an AF_XDP socket
 * (bpf_xdp_adjust_meta).  A consumer finds it right before the frame data.
 */
struct xvnet_xsk_meta {
	__u32 rss_hash;             /* Toeplitz hash nic_rx computed */
	__u16 rss_type;             /* enum xvnet_rss_type */
	__u16 queue;                /* virtual queue chosen by RSS or flow */
	__u16 vlan;                 /* outer VLAN ID the frame arrived with */
	__u16 vm_id_lo;             /* low 16 bits of vm_id (consistency check) */
};

/*
 * The skb path (XVNET_VM_F_SKB_PATH): nic_rx or vm_tx puts this block in
 * front of a frame for a multi-queue tap or veth VM and passes it
 * (XDP_PASS); XDP metadata stays with the skb, where the tc ingress program
 * of the same device (nic_flood, vm_flood) finds it at __sk_buff data_meta,
 * records the queue in skb->queue_mapping (queue + 1, the kernel's
 * "recorded RX queue") and bpf_redirect()s the skb into the VM's port.
 * There the port's transmit honours it: a tap through tap_steer (tun's
 * steering program), a veth through skb_tx_hash().  The same block carries
 * a spread VM's frame (XVNET_VM_F_CPU_SPREAD) through the CPUMAP hop to
 * vm_cpu.  docs/datapath.md.
 */
#define XVNET_SKB_META_MAGIC    0x78767131u   /* "xvq1" */
struct xvnet_skb_meta {
	__u32 magic;                /* XVNET_SKB_META_MAGIC */
	__u32 vm_id;
	__u16 queue;                /* the VM's queue nic_rx / vm_tx chose */
	__u16 pad;
};

/*
 * Where the per-frame metadata above travels, chosen by xvnetd from its
 * probe of bpf_xdp_adjust_meta (lib/features.h, xdp_meta) and set before
 * load (bpf/meta.h cfg_meta_at):
 *  - XVNET_META_HEAD: XDP metadata in front of the frame (data_meta);
 *  - XVNET_META_INLINE: for kernels whose verifier refuses adjust_meta, in
 *    the frame's data itself, pushed in front with bpf_xdp_adjust_head
 *    (every XDP mode guarantees that headroom), and the receiving end takes
 *    it off: tc (skb path) and vm_cpu (CPUMAP) read struct
 *    xvnet_skb_prefix, whose tag must equal xvnet_config.inline_tag; an
 *    AF_XDP consumer finds struct xvnet_xsk_meta in the first bytes of the
 *    descriptor (xsk.get says "meta_at": "inline") and the frame after it.
 */
enum xvnet_meta_at {
	XVNET_META_HEAD   = 0,
	XVNET_META_INLINE = 1,
};

/*
 * Read as an Ethernet header by the stack between XDP and tc: byte 0 keeps
 * it unicast, and proto says IPv4 so that tc may shrink it away
 * (bpf_skb_adjust_room accepts only IP frames); tc then writes the real
 * Ethernet header back in front.
 */
#define XVNET_SKB_PREFIX_MARK   0x02
struct xvnet_skb_prefix {
	__u8  mark;                 /* XVNET_SKB_PREFIX_MARK */
	__u8  pad;
	__u16 queue;
	__u32 tag_lo;               /* xvnet_config.inline_tag, low half */
	__u32 tag_hi;
	__be16 proto;               /* ETH_P_IP, big endian */
	__u16 vm_id;                /* < XVNET_MAX_VMS */
};

/*
 * The coalescing page of an xsk VM: a shared memory page (memfd) xvnetd
 * creates with the VM's sockets and hands over with them (xsk.get).  xvnetd
 * writes the policy (rx_frames .. adaptive) and bumps gen; the consumer
 * reads the policy, decides when to notify the guest of a virtual queue
 * (docs/coalescing.md) and writes its counters, which xvnetd reports in
 * `xvnetctl stats` and `coalesce show`.  Each field has one writer; every
 * field is naturally aligned, so each load or store is whole.
 */
#define XVNET_COAL_MAGIC        0x78636f31u   /* "xco1" */
#define XVNET_COAL_FRAMES_MAX   4096          /* rx-frames bound */
#define XVNET_COAL_USECS_MAX    100000        /* rx-usecs bound (100 ms) */
struct xvnet_coal_queue {
	__u64 packets;              /* frames notified on this virtual queue */
	__u64 notifications;        /* guest notifications (eventfd writes) */
};

struct xvnet_coal_page {
	__u32 magic;                /* XVNET_COAL_MAGIC */
	__u32 gen;                  /* bumped by xvnetd after a policy change */
	__u32 rx_frames;            /* notify when this many are pending (0: per batch) */
	__u32 rx_usecs;             /* ... or when the oldest waited this long */
	__u32 adaptive;             /* 1: batch follows the packet rate */
	__u32 consumer_pid;         /* written by the consumer that attached */
	__u64 wakeups;              /* consumer: returns from poll() with work */
	__u64 rate_pps;             /* consumer: measured rate, all queues */
	__u32 eff_frames;           /* consumer: batch in force now (queue 0) */
	__u32 eff_usecs;            /* consumer: delay bound now (queue 0) */
	struct xvnet_coal_queue q[XVNET_MAX_QUEUES];
};

/*
 * xvnet_slow_rb: RINGBUF of struct xvnet_slow_rec.  On a flow-cache miss for
 * a VM with XVNET_VM_F_HAS_RULES, nic_rx (dir in) and vm_tx (dir out) send
 * the packet's key and the frame (as it arrived: wire tags for dir in, as
 * the VM sent it for dir out) to xvnetd and drop the packet; xvnetd
 * evaluates the VM's rules, installs the flow and sends an allowed frame on
 * (docs/datapath.md).  For dir out the key's vlan is the VM's VLAN.
 */
#define XVNET_SLOW_PKT_MAX      2048    /* an MTU 1500 frame, tags and all (a power of 2: bpf/slowpath.h) */
#define XVNET_SLOW_RB_SIZE      (1 << 22)
struct xvnet_slow_rec {
	struct xvnet_flow_key key;  /* key.dir set */
	__u32 vm_id;
	__u32 pkt_len;              /* length of the whole frame */
	__u16 cap_len;              /* bytes in pkt (<= XVNET_SLOW_PKT_MAX) */
	__u16 pad;
	__u8  pkt[XVNET_SLOW_PKT_MAX];
};

#endif /* XVNET_MAPS_H */
