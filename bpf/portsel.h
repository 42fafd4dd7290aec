/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which port of a VM a frame goes to, as deliver() (XDP), vm_tx and
 * skb_forward (tc) all decide it: the slot's port_sel while a vm move is in
 * force, else its port_kind (maps/xvnet_maps.h, docs/dnis.md).
 */
#ifndef XVNET_BPF_PORTSEL_H
#define XVNET_BPF_PORTSEL_H

#include "bpf/maps.h"

/*
 * The port kind a frame for vm goes to, from one read of port_sel: a vm
 * move switches kind and bank in this one word, so the frame goes wholly
 * to the old port or wholly to the new one.  *bank_b: the DEVMAP bank.
 */
static __always_inline __u32 vm_port_kind(const struct xvnet_vm *vm, int *bank_b)
{
	__u32 sel = *(volatile const __u32 *)&vm->port_sel;

	*bank_b = (sel & XVNET_PORT_SEL_VALID) && (sel & XVNET_PORT_SEL_BANK_B);
	return (sel & XVNET_PORT_SEL_VALID) ? XVNET_PORT_SEL_KIND(sel) : vm->port_kind;
}

/*
 * Redirect into the VM's tap/veth port in the bank port_sel chose.  One call
 * per DEVMAP: the verifier makes a call whose map it knows a direct call of
 * that map's redirect, and one that two maps share an indirect call through
 * the map's ops (a retpoline here: nic_rx's fast path took 28.7 ns instead
 * of 15.0 by xvnet-costbench, vm_tx to a local VM 68-77 instead of 54-58 by
 * test_vm_tx's test_cost).  The asm keeps the compiler from merging the two
 * calls into one, which it had done in vm_tx.
 */
static __always_inline long redirect_vm_port(__u32 vm_id, int bank_b)
{
	long ret;

	if (bank_b) {
		ret = bpf_redirect_map(&xvnet_ports_b, vm_id, 0);
		asm volatile("" : "+r"(ret));
	} else {
		ret = bpf_redirect_map(&xvnet_ports, vm_id, 0);
	}
	return ret;
}

#endif
