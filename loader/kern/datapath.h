/* SPDX-License-Identifier: GPL-2.0-only */
/* The data path's BPF side: bpffs, skeleton, pins, XDP link, tc filter,
 * the programs on VM ports (loader/kern/datapath.c). */
#ifndef XVNET_LOADER_KERN_DATAPATH_H
#define XVNET_LOADER_KERN_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/kern/xvd.h"

/* datapath.c: bpffs, skeleton, pins, XDP link, tc filter. */
extern const char *xv_pin_dir;      /* default XVNET_PIN_DIR, --pin-dir */
int dp_start(struct xvd *d, char *err, size_t errlen);
void dp_close(struct xvd *d);
/* Remove link, tc filter, pins and pin directory. nic may be "" */
int dp_teardown(const char *nic);
/* The ports of cfg's VMs: deleted if xvnetd made them, else left without
 * xvnet's programs (xvnetd --teardown). */
int dp_teardown_ports(const struct xvd_config *cfg);
const char *dp_xdp_mode(const struct xvd *d);
const char *dp_link_pin(void);      /* the XDP link's pin path */
/* VM egress on a port: vm_tx (XDP) and vm_flood (tc ingress); replaces. */
int dp_port_attach(struct xvd *d, int ifindex, bool tap, char *err, size_t errlen);
int dp_xsk_side_attach(struct xvd *d, int ifindex, char *err, size_t errlen);
void dp_port_detach(int ifindex);
/* Multi-queue tap VMs: tun's steering program (bpf/skbpath.h). */
int dp_tap_steer(struct xvd *d, const struct vm_conf *vm, int ifindex,
		 char *err, size_t errlen);
void dp_tap_unsteer(struct xvd *d, int vm_id, int ifindex);
/* Set the steering program of multi-queue taps again (QEMU clears it). */
void dp_tap_resteer(struct xvd *d);

/* What status shows of the attached programs (api/views.c builds it). */
struct dp_info {
	bool has_link;              /* d->link_fd's info read */
	__u32 link_id, prog_id;
	bool has_flood_prog;
	__u32 flood_prog_id;
	bool tc_ingress;            /* our tc filter on the NIC's ingress */
};
void dp_info(const struct xvd *d, struct dp_info *out);

/* A VM's failed redirects (bpf/redirect_err.h), one call per (direction,
 * errno) with the frames summed over CPUs. */
typedef void (*dp_redirect_err_fn)(void *ctx, bool out, int err,
				   uint64_t frames);
void dp_redirect_errors(struct xvd *d, int vm_id, dp_redirect_err_fn fn,
			void *ctx);

#endif
