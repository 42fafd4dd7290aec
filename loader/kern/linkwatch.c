// SPDX-License-Identifier: GPL-2.0-only
/*
 * Following the VM ports over rtnetlink (RTMGRP_LINK): a VMM restart, a
 * tap made by libvirt, an admin's `ip link del` all change a port under
 * xvnetd.  A port that disappears is logged and unmapped (status and port
 * list show it missing); one that reappears under the VM's ifname is
 * adopted again at once, without a reload.  A device that comes back was
 * made by someone else: it is never "owned", so vm del never deletes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "loader/kern/commit.h"
#include "loader/kern/linkwatch.h"
#include "loader/kern/log.h"
#include "loader/kern/netdev.h"
#include "loader/kern/tables.h"

int lw_open(struct xvd *d)
{
	struct mnl_socket *nl;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl || mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("link watch: %s: ports that vanish or come back are only"
			 " seen by a reload", strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		return -1;
	}
	d->linkwatch = nl;
	return mnl_socket_get_fd(nl);
}

void lw_close(struct xvd *d)
{
	if (d->linkwatch)
		mnl_socket_close(d->linkwatch);
	d->linkwatch = NULL;
}

/*
 * Whose the device is, recorded (loader/kern/commit.h): the kernel changed
 * first (a device gone, or adopted), so there is nothing to apply or undo.
 */
static void record(struct xvd *d, const struct vm_conf *nv)
{
	char err[XV_ERR_LEN];

	if (xvd_commit_record_vm(d, nv, err, sizeof(err)))
		log_err("state not saved: %s", err);
}

static void port_gone(struct xvd *d, const struct vm_conf *vm, int ifindex)
{
	__u32 port = (__u32)ifindex;

	bpf_map_delete_elem(d->m.port_vm, &port);
	log_warn("vm %s: port %s (ifindex %d) is gone: frames for the VM are"
		 " dropped until a device of that name is back", vm->name,
		 vm->ifname, ifindex);
	if (vm->owned) {
		/* whatever comes back under that name is not xvnetd's */
		struct vm_conf nv = *vm;

		nv.owned = false;
		record(d, &nv);
	}
}

static void port_back(struct xvd *d, const struct vm_conf *vm)
{
	char err[XV_ERR_LEN];
	struct vm_conf nv = *vm;
	int ifindex;

	if (vm->port_kind == XVNET_PORT_XSK) {
		log_warn("vm %s: side veth %s came back: `xvnetctl reload` or vm"
			 " del/add sets its sockets up again", vm->name, vm->ifname);
		return;
	}
	nv.owned = false;       /* made by someone else */
	if (netdev_ensure_port(&nv, &ifindex, err, sizeof(err)) ||
	    tbl_vm_ensure(d, &nv, ifindex, err, sizeof(err))) {
		log_warn("vm %s: port %s is back but cannot be adopted: %s", vm->name,
			 vm->ifname, err);
		if (vm->owned) {
			nv = *vm;
			nv.owned = false;
			record(d, &nv);
		}
		return;
	}
	record(d, &nv);
	log_info("vm %s: port %s is back (ifindex %d): adopted again", nv.name,
		 nv.ifname, ifindex);
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xvd *d = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	const char *name = NULL;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifm))
		if (mnl_attr_get_type(a) == IFLA_IFNAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(a);
	if (!name)
		return MNL_CB_OK;
	for (size_t i = 0; i < d->cfg.n_vms; i++) {
		struct vm_conf *vm = &d->cfg.vms[i];
		__u32 port = (__u32)ifm->ifi_index, owner = (__u32)-1;
		bool ours;

		if (strcmp(vm->ifname, name) != 0)
			continue;
		/* xvnet_port_vm, not the DEVMAP: the kernel empties a DEVMAP
		 * slot as its device goes, before this event is read */
		ours = !bpf_map_lookup_elem(d->m.port_vm, &port, &owner) &&
		       owner == (__u32)vm->id;
		if (nlh->nlmsg_type == RTM_DELLINK && ours)
			port_gone(d, vm, ifm->ifi_index);
		else if (nlh->nlmsg_type == RTM_NEWLINK && !ours &&
			 (int)if_nametoindex(name) == ifm->ifi_index)
			port_back(d, vm);
	}
	return MNL_CB_OK;
}

void lw_poll(struct xvd *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	if (!d->linkwatch || !d->skel)
		return;
	while ((n = mnl_socket_recvfrom(d->linkwatch, buf, sizeof(buf))) > 0)
		mnl_cb_run(buf, (size_t)n, 0, 0, link_cb, d);
	if (n < 0 && errno == ENOBUFS)
		log_warn("link watch: events lost (ENOBUFS): `xvnetctl reload`"
			 " brings the ports in line");
}
