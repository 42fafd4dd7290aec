/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * VM egress anti-spoofing, the L3 half (vm_tx checks MAC and VLAN first):
 * what a VM sends must carry one of its own addresses (xvnet_vm_addrs).
 *
 *  - IPv4: the source is one of the VM's addresses; 0.0.0.0 only for a
 *    DHCP client message (allowance dhcp).
 *  - ARP: hardware type Ethernet, protocol IPv4, lengths 6/4; the sender
 *    MAC is the VM's; the sender IP is one of the VM's, or 0.0.0.0 in a
 *    request (an RFC 5227 probe), whose target must then be one of the
 *    VM's addresses -- unless the VM has none (discovery).
 *  - IPv6: the source is one of the VM's addresses, or :: for neighbour
 *    solicitations (DAD), router solicitations and MLD reports only.
 *    ICMPv6 ND: a neighbour advertisement's target is the VM's; a DAD
 *    solicitation's target is the VM's unless it has no address; source /
 *    target link-layer options carry the VM's MAC, and none may come with
 *    the :: source.  An extension-header chain too long to walk is refused.
 *  - Allowances (flags in struct xvnet_vm, XVNET_VM_ALLOWS): dhcp, ipv6-ll
 *    (the MAC-derived link-local is one of the VM's addresses for all of
 *    the above), ipv6-ll-any (any other fe80::/64 source, to link-local
 *    destinations only, never another VM's MAC-derived address).
 * Every refusal names its reason: an enum xvnet_vm_counter (SPOOF_*).
 * docs/security.md lists exactly what passes and what does not.
 *
 * The same source is compiled in user space (lib/spoof.c, with
 * XVNET_SPOOF_USER defined) for transmit paths no XDP program sees (AF_XDP
 * TX): there the address lookup is a plain table instead of the map.
 */
#ifndef XVNET_BPF_SPOOF_H
#define XVNET_BPF_SPOOF_H

#ifdef XVNET_SPOOF_USER
#include <linux/if_ether.h>
__u32 xv_spoof_user_flags(__u32 vm_id, const __u8 *addr16);
/* 1 when mac is another VM's on vlan (as far as the caller told) */
int xv_spoof_user_other_mac(__u32 vm_id, __u16 vlan, const __u8 *mac);
#else
#include "bpf/maps.h"
#endif
#include "bpf/parse.h"

#define XVNET_ETH_P_ARP     0x0806
#define XVNET_ND_MLD1_REPORT 131
#define XVNET_ND_RS          133
#define XVNET_ND_NS          135
#define XVNET_ND_NA          136
#define XVNET_ND_MLD2_REPORT 143
#define XVNET_ND_OPT_SLLA    1
#define XVNET_ND_OPT_TLLA    2
#define XVNET_ND_MAX_OPTS    8
#define XVNET_DHCP_SERVER_PORT 67
#define XVNET_DHCP_CLIENT_PORT 68
#define XVNET_BOOTREQUEST      1

struct xvnet_arp {
	__be16 htype;
	__be16 ptype;
	__u8   hlen;
	__u8   plen;
	__be16 oper;
	__u8   sha[6];
	__u8   spa[4];
	__u8   tha[6];
	__u8   tpa[4];
} __attribute__((packed));

static __always_inline __u32 vm_addr_flags(__u32 vm_id, const __u8 *addr16)
{
	struct xvnet_vm_addr_key k = { .vm_id = vm_id };
	__u32 *f;

	__builtin_memcpy(k.addr, addr16, 16);
#ifdef XVNET_SPOOF_USER
	(void)f;
	return xv_spoof_user_flags(k.vm_id, k.addr);
#else
	f = bpf_map_lookup_elem(&xvnet_vm_addrs, &k);
	return f ? *f : 0;
#endif
}

static __always_inline int vm_owns(__u32 vm_id, const __u8 *addr16)
{
	return vm_addr_flags(vm_id, addr16) & XVNET_ADDR_F_SOURCE;
}

static __always_inline int vm_has_addrs(__u32 vm_id)
{
	__u8 zero[16] __attribute__((aligned(8))) = {};

	return vm_addr_flags(vm_id, zero) & XVNET_ADDR_F_HAS_ADDRS;
}

static __always_inline int zero16(const __u8 *a)
{
	__u64 w[2];

	__builtin_memcpy(w, a, 16);
	return !(w[0] | w[1]);
}

static __always_inline int eq16(const __u8 *a, const __u8 *b)
{
	__u64 x[2], y[2];

	__builtin_memcpy(x, a, 16);
	__builtin_memcpy(y, b, 16);
	return !((x[0] ^ y[0]) | (x[1] ^ y[1]));
}

static __always_inline int mac_is(const __u8 *pkt_mac, const __u8 *mac)
{
	__u8 m[8] __attribute__((aligned(8)));

	__builtin_memcpy(m, pkt_mac, 6);
	return *(__u32 *)m == *(const __u32 *)mac &&
	       *(__u16 *)(m + 4) == *(const __u16 *)(mac + 4);
}

/* ---- allowances ------------------------------------------------------ */

/*
 * The address tests below are written to branch as little as possible
 * (compare whole words, or-ing the differences): every branch the verifier
 * has to follow multiplies with the paths of the ND checks after it.
 */

/* fe80::/64 as the first 8 bytes, in network order */
#define XVNET_LL_PREFIX bpf_cpu_to_be64(0xfe80000000000000ULL)

/* fe80::/64: the only link-local prefix addresses are made in (RFC 4291) */
static __always_inline int ip6_is_ll(const __u8 *a)
{
	__u64 w;

	__builtin_memcpy(&w, a, 8);
	return w == XVNET_LL_PREFIX;
}

/* a is fe80::/64 with the modified EUI-64 interface ID of mac (RFC 4291
 * appendix A: the universal/local bit flipped, ff:fe in the middle) */
static __always_inline int ip6_is_mac_ll(const __u8 *a, const __u8 *mac)
{
	__u8 e[16] __attribute__((aligned(8)));
	__u64 w = XVNET_LL_PREFIX;

	__builtin_memcpy(e, &w, 8);
	e[8] = mac[0] ^ 2;
	e[9] = mac[1];
	e[10] = mac[2];
	e[11] = 0xff;
	e[12] = 0xfe;
	e[13] = mac[3];
	e[14] = mac[4];
	e[15] = mac[5];
	return eq16(a, e);
}

/* An IPv6 address the VM owns: configured, or (ipv6-ll) its MAC-derived
 * link-local.  What the VM may claim in ND as well as send from. */
static __always_inline int vm_owns6(__u32 vm_id, const struct xvnet_vm *vm,
				    const __u8 *a)
{
	if ((vm->flags & XVNET_VM_F_ALLOW_IPV6_LL) && ip6_is_mac_ll(a, vm->mac))
		return 1;
	return vm_owns(vm_id, a);
}

/* Link-local scope: fe80::/10 unicast, or multicast of scope 2 (ffX2::).
 * Routers never forward such a packet, so it stays on the VM's VLAN. */
static __always_inline int ip6_link_scope(const __u8 *a)
{
	__u32 h = (__u32)a[0] << 8 | a[1];

	return ((h & 0xffc0) == 0xfe80) | ((h & 0xff0f) == 0xff02);
}

/* a's interface ID is the modified EUI-64 of the MAC of another VM of this
 * VLAN: its MAC-derived link-local, which ipv6-ll-any never hands out */
static __always_inline int ip6_other_vms_ll(__u32 vm_id, const struct xvnet_vm *vm,
					    const __u8 *a)
{
	struct xvnet_vm_key k = { .vlan = vm->vlan };
#ifndef XVNET_SPOOF_USER
	__u32 *id;
#endif

	if (((__u32)a[11] << 8 | a[12]) != 0xfffe)
		return 0;
	k.mac[0] = a[8] ^ 2;
	k.mac[1] = a[9];
	k.mac[2] = a[10];
	k.mac[3] = a[13];
	k.mac[4] = a[14];
	k.mac[5] = a[15];
#ifdef XVNET_SPOOF_USER
	return xv_spoof_user_other_mac(vm_id, k.vlan, k.mac);
#else
	id = bpf_map_lookup_elem(&xvnet_vm_by_mac, &k);
	return id && *id != vm_id;
#endif
}

/*
 * ipv6-ll-any: may the VM use addr, a link-local of its own choosing?  Yes
 * if it holds it, or if no VM of its VLAN does: then it holds it from now
 * on (first come, first served, xvnet_ll_owner), releasing the one it held.
 * The first user of a random address is its maker (its DAD probe comes
 * first), and a neighbour can have cached only an address someone used:
 * so no VM can take over a link-local another VM's neighbours know.
 * The user-space copy cannot hold anything: it refuses what the caller
 * lists as another VM's (other_addrs) and lets the rest through.
 */
static __always_inline int ll_claim(__u32 vm_id, const struct xvnet_vm *vm,
				    const __u8 *addr)
{
#ifdef XVNET_SPOOF_USER
	(void)vm_id;
	return !(vm_addr_flags(XVNET_ADDR_VLAN_ID(vm->vlan), addr) &
		 XVNET_ADDR_F_LISTED);
#else
	struct xvnet_ll_key k = { .vlan = vm->vlan }, old = {};
	struct xvnet_ll_slot *slot;
	__u32 *owner;

	__builtin_memcpy(k.addr, addr, 16);
	owner = bpf_map_lookup_elem(&xvnet_ll_owner, &k);
	if (owner)
		return *owner == vm_id;
	slot = bpf_map_lookup_elem(&xvnet_ll_vm, &vm_id);
	if (!slot)
		return 0;
	if (bpf_map_update_elem(&xvnet_ll_owner, &k, &vm_id, BPF_NOEXIST)) {
		/* another CPU was first, or the map is full (refused) */
		owner = bpf_map_lookup_elem(&xvnet_ll_owner, &k);
		return owner && *owner == vm_id;
	}
	if (slot->held) {
		__builtin_memcpy(old.addr, slot->addr, 16);
		old.vlan = slot->vlan;
		owner = bpf_map_lookup_elem(&xvnet_ll_owner, &old);
		if (owner && *owner == vm_id)
			bpf_map_delete_elem(&xvnet_ll_owner, &old);
	}
	__builtin_memcpy(slot->addr, addr, 16);
	slot->vlan = vm->vlan;
	slot->held = 1;
	return 1;
#endif
}

/*
 * ipv6-ll-any: a link-local source the VM picked itself (RFC 7217 stable
 * privacy, random), which no configuration can list; allowed only to
 * link-local destinations, so it never leaves the VLAN; never another
 * VM's MAC-derived link-local, nor one another VM of the VLAN lists or
 * holds (ll_claim, last of these checks: what they refuse is not claimed).
 */
static __always_inline int ll_any_ok(__u32 vm_id, const struct xvnet_vm *vm,
				     const __u8 *src, const __u8 *dst)
{
	return (vm->flags & XVNET_VM_F_ALLOW_IPV6_LL_ANY) && ip6_is_ll(src) &&
	       ip6_link_scope(dst) && !ip6_other_vms_ll(vm_id, vm, src) &&
	       !(vm_addr_flags(XVNET_ADDR_VLAN_ID(vm->vlan), src) &
		 XVNET_ADDR_F_LISTED) && ll_claim(vm_id, vm, src);
}

/*
 * dhcp: a DHCPv4 client message from 0.0.0.0 (the VM has no lease yet, or
 * asks again after a reboot): UDP 68 -> 67, not a fragment, a BOOTREQUEST
 * for Ethernet whose client hardware address is the VM's own MAC (so a VM
 * cannot ask leases for others), to any destination (broadcast, or the
 * server it knows).  l3: the IPv4 header.
 */
static __always_inline int dhcp_client_ok(void *l3, void *data_end,
					  const struct xvnet_pkt *p,
					  const struct xvnet_vm *vm)
{
	__u32 off = p->l4_rel, src4;
	__u8 *b;

	__builtin_memcpy(&src4, p->key.src + 12, 4);
	if (!(vm->flags & XVNET_VM_F_ALLOW_DHCP) || src4 || !p->has_ports || p->fragment ||
	    (p->key.proto ^ IPPROTO_UDP) |
	    (p->key.sport ^ bpf_htons(XVNET_DHCP_CLIENT_PORT)) |
	    (p->key.dport ^ bpf_htons(XVNET_DHCP_SERVER_PORT)))
		return 0;
	if (off > 60)           /* an IPv4 header is at most 60 bytes */
		return 0;
	b = (__u8 *)l3 + off + 8;       /* after the UDP header */
	/* op htype hlen hops xid(4) secs(2) flags(2) ciaddr yiaddr siaddr
	 * giaddr (4 each), then chaddr at 28 */
	if ((void *)(b + 34) > data_end)
		return 0;
	/* a BOOTREQUEST, for Ethernet (type 1, length 6) */
	if ((b[0] ^ XVNET_BOOTREQUEST) | (b[1] ^ 1) | (b[2] ^ 6))
		return 0;
	return mac_is(b + 28, vm->mac);
}

static __always_inline int arp_check(void *l3, void *data_end, __u32 vm_id,
				     const struct xvnet_vm *vm)
{
	struct xvnet_arp *a = l3;
	__u8 spa[16] __attribute__((aligned(8))), tpa[16] __attribute__((aligned(8)));

	if ((void *)(a + 1) > data_end)
		return XVNET_VM_CNT_SPOOF_ARP;
	if (a->htype != bpf_htons(1) || a->ptype != bpf_htons(ETH_P_IP) ||
	    a->hlen != 6 || a->plen != 4)
		return XVNET_VM_CNT_SPOOF_ARP;
	if (!mac_is(a->sha, vm->mac))
		return XVNET_VM_CNT_SPOOF_ARP;
	__builtin_memset(spa, 0, 10);
	spa[10] = spa[11] = 0xff;
	__builtin_memcpy(spa + 12, a->spa, 4);
	if (*(__u32 *)(spa + 12) == 0) {
		/* RFC 5227 probe: a request, for one of the VM's addresses */
		if (a->oper != bpf_htons(1))
			return XVNET_VM_CNT_SPOOF_ARP;
		__builtin_memcpy(tpa, spa, 12);
		__builtin_memcpy(tpa + 12, a->tpa, 4);
		if (vm_has_addrs(vm_id) && !vm_owns(vm_id, tpa))
			return XVNET_VM_CNT_SPOOF_ARP;
		return 0;
	}
	return vm_owns(vm_id, spa) ? 0 : XVNET_VM_CNT_SPOOF_ARP;
}

/* ND options from opt on: link-layer options must carry the VM's MAC
 * (none at all when ll_ok is 0); more than we walk is refused. */
static __always_inline int nd_opts_check(void *opt, void *data_end,
					 const struct xvnet_vm *vm, int ll_ok)
{
	int i;

	for (i = 0; i < XVNET_ND_MAX_OPTS; i++) {
		__u8 *o = opt;
		__u32 len;

		if ((void *)(o + 2) > data_end)
			return 0;
		len = o[1];
		if (!len)
			return XVNET_VM_CNT_SPOOF_ND;
		if (o[0] == XVNET_ND_OPT_SLLA || o[0] == XVNET_ND_OPT_TLLA) {
			if (!ll_ok || len != 1 || (void *)(o + 8) > data_end ||
			    !mac_is(o + 2, vm->mac))
				return XVNET_VM_CNT_SPOOF_ND;
		}
		opt += len * 8;
	}
	return (opt + 2 > data_end) ? 0 : XVNET_VM_CNT_SPOOF_ND;
}

static __always_inline int ipv6_check(void *l3, void *data_end,
				      const struct xvnet_pkt *p, __u32 vm_id,
				      const struct xvnet_vm *vm)
{
	int unspec = zero16(p->key.src), any_ll = 0;
	__u32 off = p->l4_rel;
	__u8 *l4, type, target[16] __attribute__((aligned(8)));

	if (!unspec && !vm_owns6(vm_id, vm, p->key.src)) {
		if (!ll_any_ok(vm_id, vm, p->key.src, p->key.dst))
			return XVNET_VM_CNT_SPOOF_IP;
		any_ll = 1;
	}
	if (p->ext_limit)       /* an ND message could hide behind it */
		return XVNET_VM_CNT_SPOOF_ND;
	if (p->key.proto != XVNET_IPPROTO_ICMPV6 || p->fragment)
		return unspec ? XVNET_VM_CNT_SPOOF_IP : 0;
	if (off > 2048)
		return XVNET_VM_CNT_SPOOF_ND;
	l4 = l3 + off;
	if ((void *)(l4 + 8) > data_end)
		return unspec ? XVNET_VM_CNT_SPOOF_IP : 0;
	type = l4[0];
	if (unspec && type != XVNET_ND_NS && type != XVNET_ND_RS &&
	    type != XVNET_ND_MLD1_REPORT && type != XVNET_ND_MLD2_REPORT)
		return XVNET_VM_CNT_SPOOF_IP;

	if (type == XVNET_ND_RS)
		return nd_opts_check(l4 + 8, data_end, vm, !unspec);
	if (type != XVNET_ND_NS && type != XVNET_ND_NA)
		return 0;
	if ((void *)(l4 + 24) > data_end)
		return XVNET_VM_CNT_SPOOF_ND;
	__builtin_memcpy(target, l4 + 8, 16);
	if (type == XVNET_ND_NA || unspec) {
		/* claiming an address (NA) or probing for it (DAD); under
		 * ipv6-ll-any the VM may also claim the link-local it sends
		 * from (target == source), so that neighbours can reach it */
		if (!vm_owns6(vm_id, vm, target) &&
		    !(any_ll && type == XVNET_ND_NA && eq16(target, p->key.src)) &&
		    !(unspec && ll_any_ok(vm_id, vm, target, p->key.dst)) &&
		    (type == XVNET_ND_NA || vm_has_addrs(vm_id)))
			return XVNET_VM_CNT_SPOOF_ND;
	}
	return nd_opts_check(l4 + 24, data_end, vm, !unspec);
}

/*
 * Ethertypes that carry IP where the address checks do not look: the pre-
 * standard QinQ tags (0x9100, 0x9200, 0x9300) that some switches still
 * take for VLAN tags, and 802.2 LLC/SNAP encapsulation (an 802.3 length
 * in the ethertype field) of IPv4, IPv6 or ARP.  A VM sends neither;
 * refused, so that a forged source cannot leave behind them.  Other
 * ethertypes carry no IP address this program can check (MPLS and PPPoE
 * are documented as not looked into: docs/security.md).
 */
#define XVNET_SNAP_HLEN 8       /* DSAP SSAP ctrl, OUI, protocol id */
static __always_inline int encap_check(__be16 proto, void *l3, void *data_end)
{
	__u8 *llc = l3;
	__be16 pid;

	if (proto == bpf_htons(0x9100) || proto == bpf_htons(0x9200) ||
	    proto == bpf_htons(0x9300))
		return XVNET_VM_CNT_SPOOF_VLAN;
	/* below 0x0600 (big endian): a length, an 802.3 frame with LLC */
	if (((__u8 *)&proto)[0] >= 0x06 || (void *)(llc + XVNET_SNAP_HLEN) > data_end)
		return 0;
	if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 ||
	    llc[3] || llc[4] || llc[5])
		return 0;       /* plain LLC (STP, ...) or a vendor's SNAP */
	pid = *(__be16 *)(llc + 6);
	if (pid == bpf_htons(ETH_P_IP) || pid == bpf_htons(ETH_P_IPV6) ||
	    pid == bpf_htons(XVNET_ETH_P_ARP))
		return XVNET_VM_CNT_SPOOF_IP;
	return 0;
}

/*
 * 0 when the frame's L3 source is the VM's, else the SPOOF_* reason.
 * p is the parse of the frame (parse_frame() returned PARSE_OK).
 */
static __always_inline int vm_src_check(void *data, void *data_end,
					const struct xvnet_pkt *p, __u32 vm_id,
					const struct xvnet_vm *vm)
{
	__u32 n_tags = p->n_tags;
	__be16 *ep, proto;
	void *l3;

	if (n_tags > 2)
		return XVNET_VM_CNT_SPOOF_VLAN;
	/* the innermost ethertype, right before L3 */
	ep = data + 2 * ETH_ALEN + n_tags * sizeof(struct vlan_tag);
	if ((void *)(ep + 1) > data_end)
		return XVNET_VM_CNT_SPOOF_IP;
	proto = *ep;
	l3 = ep + 1;
	if (p->ip_version == 4)
		return vm_owns(vm_id, p->key.src) ||
		       dhcp_client_ok(l3, data_end, p, vm) ? 0 : XVNET_VM_CNT_SPOOF_IP;
	if (p->ip_version == 6)
		return ipv6_check(l3, data_end, p, vm_id, vm);
	if (proto == bpf_htons(XVNET_ETH_P_ARP))
		return arp_check(l3, data_end, vm_id, vm);
	return encap_check(proto, l3, data_end);
}

/*
 * The whole check of a frame from VM vm_id: the VM's MAC, its VLAN
 * (untagged, or one 802.1Q tag with its VLAN ID), then vm_src_check().
 * 0 or the SPOOF_* reason.  p: parse_frame() of the frame, PARSE_OK.
 */
static __always_inline int vm_frame_check(void *data, void *data_end,
					  const struct xvnet_pkt *p, __u32 vm_id,
					  const struct xvnet_vm *vm)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || !mac_is(eth->h_source, vm->mac))
		return XVNET_VM_CNT_SPOOF_MAC;
	if (p->n_tags > 1 || (p->n_tags && (p->key.vlan != vm->vlan ||
					    p->outer_tpid != bpf_htons(ETH_P_8021Q))))
		return XVNET_VM_CNT_SPOOF_VLAN;
	return vm_src_check(data, data_end, p, vm_id, vm);
}

#ifndef XVNET_SPOOF_USER
/*
 * vm_frame_check() for vm_tx as a global function, so the verifier checks
 * it once, on its own: vm_tx after it is then walked once per outcome
 * instead of once per path through the address checks (the allowances
 * multiplied those paths past what a program may cost to verify).  Global
 * functions get no packet pointers: data and data_end come from ctx.
 */
__attribute__((noinline)) int vm_tx_check(struct xdp_md *ctx,
					  const struct xvnet_pkt *p, __u32 vm_id,
					  const struct xvnet_vm *vm)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (!p || !vm)
		return XVNET_VM_CNT_SPOOF_MAC;
	return vm_frame_check(data, data_end, p, vm_id, vm);
}
#endif

#endif
