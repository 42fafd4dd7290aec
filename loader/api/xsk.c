// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AF_XDP VMs seen from the requests: vm show / stats's "xsk", status's
 * totals, and xsk.get, whose reply hands the UMEM, the sockets and the
 * coalescing page over (the fds go with the reply: loader/api/server.c).
 * Values are read through loader/kern/xsk.h xskp_info().
 */
#include <string.h>
#include <json-c/json.h>

#include "lib/err.h"
#include "lib/proto.h"
#include "loader/api/coalesce.h"
#include "loader/api/xsk.h"
#include "loader/kern/coalesce.h"
#include "loader/kern/log.h"
#include "loader/kern/move.h"
#include "loader/kern/xsk.h"
#include "loader/api/request.h"

static const char *const stat_names[6] = {
	"rx_dropped", "rx_invalid_descs", "tx_invalid_descs",
	"rx_ring_full", "rx_fill_ring_empty_descs", "tx_ring_empty_descs",
};

/* One socket's XDP_STATISTICS as a JSON object, added to tot[]. */
static struct json_object *sock_stats(const struct xdp_statistics *st,
				      __u64 tot[6])
{
	struct json_object *so = json_object_new_object();
	const __u64 v[6] = {
		st->rx_dropped, st->rx_invalid_descs, st->tx_invalid_descs,
		st->rx_ring_full, st->rx_fill_ring_empty_descs,
		st->tx_ring_empty_descs,
	};

	for (int k = 0; k < 6; k++) {
		json_object_object_add(so, stat_names[k], json_object_new_uint64(v[k]));
		tot[k] += v[k];
	}
	return so;
}

struct json_object *view_xsk(const struct xvd *d, int vm_id)
{
	struct json_object *o, *arr, *side, *n;
	struct xskp_info x;
	__u64 tot[6] = { 0 };

	if (!xskp_info(d, vm_id, &x))
		return NULL;
	o = json_object_new_object();
	arr = json_object_new_array();
	for (int i = 0; i < x.n; i++) {
		struct json_object *so = sock_stats(&x.s[i].st, tot);

		json_object_object_add(so, "queue", json_object_new_int((int)x.s[i].rxq));
		json_object_array_add(arr, so);
	}
	side = sock_stats(&x.side.st, tot);
	json_object_object_add(side, "ifname", json_object_new_string(x.side_ifname));
	json_object_object_add(o, "nic", json_object_new_string(x.nic));
	json_object_object_add(o, "mode", json_object_new_string(
				       x.zerocopy ? "zero-copy" : "copy"));
	json_object_object_add(o, "sockets", json_object_new_int(x.n));
	json_object_object_add(o, "umem_bytes", json_object_new_uint64(x.size));
	json_object_object_add(o, "frame_size", json_object_new_int((int)x.eff.frame_size));
	json_object_object_add(o, "need_wakeup",
			       json_object_new_boolean(x.eff.need_wakeup == 1));
	json_object_object_add(o, "busy_poll_us", json_object_new_int((int)x.eff.busy_poll_us));
	json_object_object_add(o, "busy_poll_budget",
			       json_object_new_int((int)x.eff.busy_poll_budget));
	json_object_object_add(o, "prefer_busy_poll",
			       json_object_new_boolean(x.eff.prefer_busy_poll == 1));
	for (int k = 0; k < 6; k++)
		json_object_object_add(o, stat_names[k], json_object_new_uint64(tot[k]));
	json_object_object_add(o, "per_queue", arr);
	json_object_object_add(o, "side", side);
	if ((n = view_coal_counters(d, vm_id)))
		json_object_object_add(o, "notify", n);
	return o;
}

struct json_object *view_xsk_status(const struct xvd *d)
{
	struct json_object *o = json_object_new_object();
	int vms, socks;
	uint64_t bytes;

	xskp_totals(d, &vms, &socks, &bytes);
	json_object_object_add(o, "vms", json_object_new_int(vms));
	json_object_object_add(o, "sockets", json_object_new_int(socks));
	json_object_object_add(o, "umems", json_object_new_int(vms));
	json_object_object_add(o, "umem_bytes", json_object_new_uint64(bytes));
	return o;
}

/* Fill/completion sizes and socket i's suggested share of the UMEM. */
static void sock_layout(struct json_object *so, const struct xskp_info *x, int i)
{
	json_object_object_add(so, "fill_size", json_object_new_int((int)x->eff.fill_size));
	json_object_object_add(so, "comp_size", json_object_new_int((int)x->eff.comp_size));
	json_object_object_add(so, "frame_first", json_object_new_int(
				       (int)((__u32)i * x->eff.frames)));
	json_object_object_add(so, "frame_count", json_object_new_int(
				       (int)x->eff.frames));
}

/* fd into the reply's list; its index goes into the JSON (fd_index) */
static int hand_over(struct xvd_fds *fds, int fd)
{
	fds->fd[fds->n] = fd;
	return fds->n++;
}

/* The xsk.get request: reply data, and in fds the descriptors it hands
 * over (the JSON names each by its index). */
static struct json_object *xsk_get(struct xvd *d, struct json_object *args,
				   struct xvd_fds *fds)
{
	struct json_object *o, *um, *arr, *so;
	char err[XV_ERR_LEN];
	const struct vm_conf *vm;
	struct xskp_info info, *x = &info;

	static struct vm_conf next;     /* big: not on the stack */

	fds->n = 0;
	vm = req_vm(d, args, "name", err, sizeof(err));
	if (!vm)
		return xv_reply_err("%s", err);
	/* a move prepared onto an xsk port: its sockets, for the consumer a
	 * migration's incoming VMM needs before the switch */
	if (vm->port_kind != XVNET_PORT_XSK && move_prepared_xsk(d, vm->id, &next))
		vm = &next;
	if (vm->port_kind != XVNET_PORT_XSK)
		return xv_reply_err("name: vm '%s' has a %s port, not xsk", vm->name,
				    port_kind_name(vm->port_kind));
	if (!xskp_info(d, vm->id, x))
		return xv_reply_err("name: vm '%s' has no sockets (see the log)",
				    vm->name);
	o = json_object_new_object();
	json_object_object_add(o, "vm", json_object_new_string(vm->name));
	json_object_object_add(o, "vm_id", json_object_new_int(vm->id));
	json_object_object_add(o, "nic", json_object_new_string(x->nic));
	json_object_object_add(o, "ifindex", json_object_new_int(x->ifindex));
	json_object_object_add(o, "mode", json_object_new_string(
				       x->zerocopy ? "zero-copy" : "copy"));
	json_object_object_add(o, "need_wakeup",
			       json_object_new_boolean(x->eff.need_wakeup == 1));
	json_object_object_add(o, "queues", json_object_new_int(vm->queues));
	/* the consumer's threads per queue (xvnet-vhost follows it) */
	if (vm->n_queue_cpus) {
		struct json_object *qc = json_object_new_array();

		for (int c = 0; c < vm->n_queue_cpus; c++)
			json_object_array_add(qc, json_object_new_int(vm->queue_cpus[c]));
		json_object_object_add(o, "queue_cpus", qc);
	}
	json_object_object_add(o, "meta_size",
			       json_object_new_int((int)sizeof(struct xvnet_xsk_meta)));
	/* head: right before the frame; inline: its first meta_size bytes */
	json_object_object_add(o, "meta_at", json_object_new_string(
				       d->meta_at == XVNET_META_INLINE ? "inline" : "head"));
	um = json_object_new_object();
	json_object_object_add(um, "fd_index",
			       json_object_new_int(hand_over(fds, x->memfd)));
	json_object_object_add(um, "size", json_object_new_uint64(x->size));
	json_object_object_add(um, "frame_size", json_object_new_int((int)x->eff.frame_size));
	json_object_object_add(um, "frame_headroom", json_object_new_int(0));
	json_object_object_add(um, "frames", json_object_new_int(
				       (int)(x->size / x->eff.frame_size)));
	json_object_object_add(o, "umem", um);
	arr = json_object_new_array();
	for (int i = 0; i < x->n; i++) {
		so = json_object_new_object();
		json_object_object_add(so, "fd_index",
				       json_object_new_int(hand_over(fds, x->s[i].fd)));
		json_object_object_add(so, "queue", json_object_new_int((int)x->s[i].rxq));
		json_object_object_add(so, "rx_size", json_object_new_int((int)x->eff.rx_size));
		json_object_object_add(so, "tx_size", json_object_new_int(0));
		sock_layout(so, x, i);
		json_object_array_add(arr, so);
	}
	json_object_object_add(o, "sockets", arr);
	so = json_object_new_object();
	json_object_object_add(so, "fd_index",
			       json_object_new_int(hand_over(fds, x->side.fd)));
	json_object_object_add(so, "ifname", json_object_new_string(x->side_ifname));
	json_object_object_add(so, "queue", json_object_new_int(0));
	json_object_object_add(so, "rx_size", json_object_new_int((int)x->eff.rx_size));
	json_object_object_add(so, "tx_size", json_object_new_int((int)x->eff.tx_size));
	sock_layout(so, x, x->n);
	json_object_object_add(o, "side", so);
	if (coal_page_fd(d, vm->id) >= 0) {
		so = json_object_new_object();
		json_object_object_add(so, "fd_index",
				       json_object_new_int(hand_over(fds, coal_page_fd(d, vm->id))));
		json_object_object_add(so, "size", json_object_new_int(
					       (int)sizeof(struct xvnet_coal_page)));
		json_object_object_add(o, "coalesce", so);
	}
	log_info("vm %s: %d AF_XDP sockets, the side socket and the UMEM handed over",
		 vm->name, x->n);
	return xv_reply_ok(o);
}

const struct api_cmd xsk_cmds[] = {
	{ "xsk.get", xsk_get, false },
	{ NULL, NULL, false },
};
