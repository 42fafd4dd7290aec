/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * NIC NAPI knobs (napi_defer_hard_irqs, gro_flush_timeout) for the queues
 * that serve a VM: per NAPI instance over the "netdev" generic-netlink
 * family (libmnl), or per device through sysfs where the kernel cannot do
 * it per NAPI.  Interrupt coalescing for virtual NICs (Dong et al., CLUSTER
 * 2011) needs them set per VM and put back when the VM goes.
 *
 * Every call acts in the caller's network namespace: NAPI ids and ifindexes
 * are looked up there, and the device files are only used when the mounted
 * sysfs shows that same namespace (otherwise a same-named device of another
 * namespace would be changed).  All functions return 0 or -errno.
 */
#ifndef XVNET_LOADER_NAPI_H
#define XVNET_LOADER_NAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct napi_knobs {
	uint32_t defer_hard_irqs;       /* the kernel caps it at INT32_MAX */
	uint64_t gro_flush_timeout_ns;
};

/* NAPI instance serving RX queue `queue` of `ifindex`; -ENOENT if the queue
 * has no NAPI (driver without NAPI, or NAPI not running: veth without XDP
 * nor GRO), -EOPNOTSUPP if the kernel has no NETDEV_CMD_QUEUE_GET, -EINVAL
 * if the queue does not exist, -ENODEV if the device does not. */
int napi_id_of_rx_queue(int ifindex, unsigned queue, uint32_t *napi_id);
/* The NAPI instances of ifindex (NETDEV_CMD_NAPI_GET dump), also those no
 * queue is linked to (veth's): how many there are (only the first max are
 * stored in ids), or -errno.  For showing them; queue order is unknown. */
int napi_ids_of_dev(int ifindex, uint32_t *ids, size_t max);
int napi_get(uint32_t napi_id, struct napi_knobs *out);
/* 0 if the kernel offers all of the per-NAPI interface, else -EOPNOTSUPP
 * and why (xvnetd then falls back to the device-wide files). */
int napi_genl_support(char *why, size_t len);
/* The same as a feature probe (lib/features.h): 1 present, 0 absent. */
int napi_probe(char *why, size_t len);
/* -EOPNOTSUPP where the kernel has no NETDEV_CMD_NAPI_SET (before 6.13). */
int napi_set(uint32_t napi_id, const struct napi_knobs *k);

/* The device-wide sysfs files.  Since 6.13 a write also resets every NAPI
 * of the device to the value, so per-NAPI settings on it are lost. */
int napi_dev_get(const char *ifname, struct napi_knobs *out);
int napi_dev_set(const char *ifname, const struct napi_knobs *k);

/* What napi_apply_rx_queues changed and the values it found before. */
struct napi_saved;

/*
 * Set k on the NAPI of each RX queue in queue_mask (bit n = queue n) of
 * ifname, after saving the old values in *saved.  Queues sharing one NAPI
 * are counted once.  If a queue has no NAPI id or the kernel cannot set one,
 * or per_napi is false (napi_netlink absent or disabled: --without), the
 * device files are used instead, for the whole device (scope "device").
 * On error nothing stays changed, *saved is NULL and err says why.
 */
int napi_apply_rx_queues(const char *ifname, uint32_t queue_mask, bool per_napi,
			 const struct napi_knobs *k, struct napi_saved **saved,
			 char *err, size_t errlen);
/* Put the saved values back (best effort, failures are logged) and free;
 * NULL is a no-op.  Call it in the namespace napi_apply_rx_queues ran in. */
void napi_restore(struct napi_saved *saved);
/* "napi" or "device" ("none" for NULL), for `coalesce show`. */
const char *napi_saved_scope(const struct napi_saved *s);

#endif
