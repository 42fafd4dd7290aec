// SPDX-License-Identifier: GPL-2.0-only
/* VM port devices: persistent taps and veth pairs, via libmnl. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>

#include "lib/err.h"
#include "loader/kern/log.h"
#include "loader/kern/netdev.h"


bool netns_exists(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), XV_NETNS_DIR "/%s", name);
	return stat(path, &st) == 0;
}

/*
 * An ethtool ioctl on a name no device has makes the kernel try to load a
 * module by that name (dev_load: request_module("netdev-NAME"), then
 * "NAME" with CAP_SYS_MODULE), a modprobe run of 5-7 ms each: every vm add
 * asked for the driver of a port not made yet.  Ask only what exists.
 */
static bool exists(const char *ifname)
{
	if (if_nametoindex(ifname))
		return true;
	errno = ENODEV;
	return false;
}

int netdev_driver(const char *ifname, char *drv, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd, r;

	if (!exists(ifname))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	r = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	if (r < 0)
		return -1;
	snprintf(drv, len, "%s", info.driver);
	return 0;
}

bool netdev_tap_in_use(const struct vm_conf *vm)
{
	char path[96], c = '0';
	FILE *f;

	if (vm->port_kind != XVNET_PORT_TAP)
		return false;
	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", vm->ifname);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fread(&c, 1, 1, f) != 1)
		c = '0';
	fclose(f);
	return c == '1';
}

void netdev_state(const char *ifname, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	f = fopen(path, "re");
	if (!f) {
		snprintf(buf, len, "missing");
		return;
	}
	if (!fgets(buf, (int)len, f))
		snprintf(buf, len, "unknown");
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* ---- rtnetlink --------------------------------------------------------- */

static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = (unsigned int)time(NULL), portid;
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);

		if (r <= MNL_CB_STOP)
			return r < 0 ? -1 : 0;
	}
	return -1;
}

static struct mnl_socket *nl_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

static struct nlmsghdr *link_msg(char *buf, int type, int flags, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)flags;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

static int nl_link_up(struct mnl_socket *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	return nl_talk(nl, nlh);
}

static int link_up(const char *ifname, char *err, size_t errlen)
{
	struct mnl_socket *nl = nl_open();
	int idx = (int)if_nametoindex(ifname), r;

	if (!nl)
		return ERR("netlink: %s", strerror(errno));
	if (!idx) {
		mnl_socket_close(nl);
		return ERR("ifname: '%s' does not exist", ifname);
	}
	r = nl_link_up(nl, idx);
	mnl_socket_close(nl);
	if (r)
		return ERR("ifname: '%s' cannot be set up: %s", ifname,
			   strerror(errno));
	return 0;
}

int netdev_delete(const char *ifname, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = nl_open();
	struct nlmsghdr *nlh;
	int r;

	if (!ifname[0]) {       /* a VM on the fallback has no device */
		if (nl)
			mnl_socket_close(nl);
		return 0;
	}
	if (!nl)
		return ERR("netlink: %s", strerror(errno));
	nlh = link_msg(buf, RTM_DELLINK, 0, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	r = nl_talk(nl, nlh);
	mnl_socket_close(nl);
	if (r && errno != ENODEV)
		return ERR("ifname: '%s' cannot be deleted: %s", ifname,
			   strerror(errno));
	return 0;
}

/* ---- network namespaces ------------------------------------------------ */

/* Run fn inside netns NAME, then come back to ours. */
static int in_netns(const char *name, int (*fn)(const struct vm_conf *,
						char *, size_t),
		    const struct vm_conf *vm, char *err, size_t errlen)
{
	char path[128];
	int self, target, r;

	snprintf(path, sizeof(path), XV_NETNS_DIR "/%s", name);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return ERR("netns: '%s' does not exist (%s)", name, strerror(errno));
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(target, CLONE_NEWNET)) {
		r = ERR("netns: '%s' cannot be entered: %s", name, strerror(errno));
		close(target);
		if (self >= 0)
			close(self);
		return r;
	}
	r = fn(vm, err, errlen);
	if (setns(self, CLONE_NEWNET)) {
		/* Staying in the VM's namespace would corrupt everything. */
		log_err("cannot return to our network namespace: %s",
			strerror(errno));
		abort();
	}
	close(self);
	close(target);
	return r;
}

static int ethtool_set(int fd, const char *ifname, __u32 cmd, __u32 value)
{
	struct ethtool_value ev = { .cmd = cmd, .data = value };
	struct ifreq ifr = { 0 };

	if (!exists(ifname))
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

/* An ethtool_value getter: the value, or -1. */
static int ethtool_get(int fd, const char *ifname, __u32 cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr = { 0 };

	if (!exists(ifname))
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -1 : (int)ev.data;
}

/*
 * Inside the VM's netns: peer up, with GRO so redirected frames are seen,
 * and with checksums computed in the VM: vm_tx redirects what the VM sends
 * as XDP frames, which carry no "checksum still to do" mark (and no TSO).
 */
static int peer_setup(const struct vm_conf *vm, char *err, size_t errlen)
{
	int fd, r;

	if (!if_nametoindex(vm->peer_ifname))
		return ERR("peer-ifname: '%s' does not exist in netns '%s'",
			   vm->peer_ifname, vm->netns);
	if (link_up(vm->peer_ifname, err, errlen))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ERR("socket: %s", strerror(errno));
	r = ethtool_set(fd, vm->peer_ifname, ETHTOOL_SGRO, 1);
	if (r) {
		close(fd);
		return ERR("peer-ifname: cannot enable GRO on '%s': %s",
			   vm->peer_ifname, strerror(errno));
	}
	r = ethtool_set(fd, vm->peer_ifname, ETHTOOL_STXCSUM, 0);
	close(fd);
	if (r)
		return ERR("peer-ifname: cannot turn tx checksum offload off on '%s': %s",
			   vm->peer_ifname, strerror(errno));
	return 0;
}

static int veth_create(const struct vm_conf *vm, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], path[128];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nlattr *info, *data, *peer;
	struct ifinfomsg *pifm;
	/* an xsk VM's queues are its NIC sockets'; the side veth needs one
	 * (veth_xdp_xmit picks the peer's queue by CPU: one socket sees all) */
	__u32 nq = vm->port_kind == XVNET_PORT_XSK ? 1 : vm->queues;
	int nsfd, r, e;

	/* an xsk VM's side veth stays whole in our namespace */
	nsfd = -1;
	if (vm->netns[0]) {
		snprintf(path, sizeof(path), XV_NETNS_DIR "/%s", vm->netns);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			return ERR("netns: '%s' does not exist", vm->netns);
	}
	nl = nl_open();
	if (!nl) {
		if (nsfd >= 0)
			close(nsfd);
		return ERR("netlink: %s", strerror(errno));
	}
	nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, vm->ifname);
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, nq);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, nq);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifm = mnl_nlmsg_get_payload_tail(nlh);
	memset(pifm, 0, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, vm->peer_ifname);
	if (nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, vm->mac);
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, nq);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, nq);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	r = nl_talk(nl, nlh);
	e = errno;
	mnl_socket_close(nl);
	if (nsfd >= 0)
		close(nsfd);
	if (r)
		return ERR("port: cannot create veth '%s' (peer '%s' in netns"
			   " '%s'): %s", vm->ifname, vm->peer_ifname,
			   vm->netns[0] ? vm->netns : "(host)", strerror(e));
	return 0;
}

static int tap_create(const struct vm_conf *vm, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return ERR("port: /dev/net/tun: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", vm->ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (vm->queues > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int e = errno;

		close(fd);
		return ERR("port: cannot create tap '%s': %s", vm->ifname,
			   strerror(e));
	}
	/*
	 * Who may attach (tun_not_capable): the owner and/or the group, and
	 * root.  A tap with neither is open to every user who can open
	 * /dev/net/tun (mode 0666 on Debian), so with no --owner or --group
	 * the owner is root.  Until TUNSETPERSIST the tap goes with our fd,
	 * so a failure here leaves nothing behind.
	 */
	if ((vm->has_owner || !vm->has_group) &&
	    ioctl(fd, TUNSETOWNER, (unsigned long)(vm->has_owner ? vm->owner_uid : 0))) {
		int e = errno;

		close(fd);
		return ERR("owner: cannot make uid %u the owner of tap '%s': %s",
			   vm->has_owner ? vm->owner_uid : 0, vm->ifname, strerror(e));
	}
	if (vm->has_group &&
	    ioctl(fd, TUNSETGROUP, (unsigned long)vm->group_gid)) {
		int e = errno;

		close(fd);
		return ERR("group: cannot make gid %u the group of tap '%s': %s",
			   vm->group_gid, vm->ifname, strerror(e));
	}
	if (ioctl(fd, TUNSETPERSIST, 1)) {
		int e = errno;

		close(fd);
		return ERR("port: cannot make tap '%s' persistent: %s", vm->ifname,
			   strerror(e));
	}
	close(fd);
	return 0;
}

/* A tap's owner or group from sysfs: -1 = none (or unreadable). */
static long tap_id(const char *ifname, const char *which)
{
	char path[128], buf[32];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, which);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

static int tap_flags(const char *ifname, unsigned long *flags)
{
	char path[128], buf[32];
	FILE *f;
	int r = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", ifname);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		*flags = strtoul(buf, NULL, 16);
		r = 0;
	}
	fclose(f);
	return r;
}

/*
 * Set (prog_fd >= 0) or clear (-1) tun's steering program of tap IFNAME
 * (TUNSETSTEERINGEBPF).  It belongs to the device (tun->steering_prog: it
 * stays after the fd that set it is closed, until changed or the device
 * goes), but the ioctl needs an fd attached to the device, so a queue is
 * attached for the call and detached at close.  Least intrusive:
 *  - the device's own flags (tun_flags, all of tun's TUN_FEATURES): a
 *    TUNSETIFF with other ones would change the tap's flags when no VMM
 *    has a queue attached (IFF_NOFILTER is not added: it is the same bit
 *    as IFF_NO_PI);
 *  - it is attached last, so detaching it moves no queue of the VMM
 *    (__tun_detach fills a hole with the last queue) and the VMM's queue
 *    numbers stay; while it exists a program already set keeps the
 *    steered frames on queues below the VMM's count.
 */
int netdev_tap_steering(const char *ifname, int prog_fd, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	unsigned long tf;
	int fd, e;

	if (tap_flags(ifname, &tf))
		return ERR("ifname: '%s' is not a tap (no tun_flags)", ifname);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ERR("/dev/net/tun: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = (short)(tf & (IFF_TAP | IFF_NO_PI | IFF_ONE_QUEUE | IFF_VNET_HDR |
				      IFF_MULTI_QUEUE | IFF_NAPI | IFF_NAPI_FRAGS));
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		e = errno;
		close(fd);
		return ERR("tap '%s': cannot attach a queue to set its steering"
			   " program: %s", ifname, strerror(e));
	}
	if (ioctl(fd, TUNSETSTEERINGEBPF, &prog_fd)) {
		e = errno;
		close(fd);
		return ERR("tap '%s': TUNSETSTEERINGEBPF: %s", ifname, strerror(e));
	}
	close(fd);
	return 0;
}

int netdev_check_port(const struct vm_conf *vm, char *err, size_t errlen)
{
	char drv[32];
	unsigned long tf;

	if (vm->fallback)
		return 0;       /* no device: the host stack reaches the VM */
	if (vm->port_kind == XVNET_PORT_VETH && !netns_exists(vm->netns))
		return ERR("netns: '%s' does not exist (create it first: ip netns"
			   " add %s)", vm->netns, vm->netns);
	/* a device without a driver name (lo, some virtual devices) is no
	 * port either: refused here, before anything touches it */
	if (netdev_driver(vm->ifname, drv, sizeof(drv)))
		return if_nametoindex(vm->ifname) ?
			ERR("ifname: '%s' exists and is not a %s", vm->ifname,
			    vm->port_kind == XVNET_PORT_TAP ? "tap" : "veth") :
			0;      /* will be created */
	if (vm->port_kind != XVNET_PORT_TAP && strcmp(drv, "veth") != 0)
		return ERR("ifname: '%s' exists and is not a veth", vm->ifname);
	if (vm->port_kind == XVNET_PORT_TAP) {
		if (strcmp(drv, "tun") != 0 || tap_flags(vm->ifname, &tf) ||
		    !(tf & IFF_TAP))
			return ERR("ifname: '%s' exists and is not a tap",
				   vm->ifname);
		if (vm->queues > 1 && !(tf & IFF_MULTI_QUEUE))
			return ERR("queues: tap '%s' exists without multi-queue",
				   vm->ifname);
		/* a tap someone else made keeps its owner: xvnetd would have
		 * to attach to change it, and must not take it from its user */
		if (vm->has_owner && tap_id(vm->ifname, "owner") != (long)vm->owner_uid)
			return ERR("owner: tap '%s' exists with owner %ld, not %u"
				   " (xvnetd sets the owner of the taps it creates)",
				   vm->ifname, tap_id(vm->ifname, "owner"), vm->owner_uid);
		if (vm->has_group && tap_id(vm->ifname, "group") != (long)vm->group_gid)
			return ERR("group: tap '%s' exists with group %ld, not %u"
				   " (xvnetd sets the group of the taps it creates)",
				   vm->ifname, tap_id(vm->ifname, "group"), vm->group_gid);
	}
	return 0;
}

/*
 * A VM port is not a host interface: without this the host would talk on it
 * (IPv6 link-local, MLD, router solicitations) to the VM.  Best effort: a
 * kernel without IPv6 has nothing to silence.
 */
static void host_ipv6_off(const char *ifname)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	f = fopen(path, "w");
	if (!f)
		return;
	fputs("1\n", f);
	fclose(f);
}

/*
 * The VM end of an xsk VM's side veth: up, and no host talk on it.  The
 * host end takes no GSO: a guest's super-frame sent there by tc
 * (bpf/skbfwd.h) is segmented on the way in, since xsk_side's XDP on the
 * VM end takes no frame larger than a page.
 */
static int xsk_peer_setup(const struct vm_conf *vm, char *err, size_t errlen)
{
	int fd;

	if (!if_nametoindex(vm->peer_ifname))
		return ERR("peer-ifname: '%s' does not exist", vm->peer_ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		static const __u32 get[2] = { ETHTOOL_GTSO, ETHTOOL_GGSO };
		static const __u32 set[2] = { ETHTOOL_STSO, ETHTOOL_SGSO };

		/* only what is on: a device adopted at restart has them off,
		 * and the kernel may refuse the change once XDP is attached */
		for (int i = 0; i < 2; i++)
			if (ethtool_get(fd, vm->ifname, get[i]) > 0 &&
			    ethtool_set(fd, vm->ifname, set[i], 0))
				log_warn("vm %s: %s: cannot turn %s off (%s): guest"
					 " super-frames to this VM will be dropped",
					 vm->name, vm->ifname, i ? "GSO" : "TSO",
					 strerror(errno));
		close(fd);
	}
	host_ipv6_off(vm->peer_ifname);
	return link_up(vm->peer_ifname, err, errlen);
}

/* The alias of the devices xvnetd creates (loader/kern/orphans.h); set once at
 * start, before any port is made. */
static char owner_alias[256];

void netdev_set_owner_alias(const char *alias)
{
	snprintf(owner_alias, sizeof(owner_alias), "%s", alias);
}

static void set_alias(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int idx = (int)if_nametoindex(ifname);

	if (!owner_alias[0] || !idx || !(nl = nl_open()))
		return;
	nlh = link_msg(buf, RTM_NEWLINK, 0, idx);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, owner_alias);
	if (nl_talk(nl, nlh))
		log_warn("%s: alias not set (a crash now would leave it behind"
			 " unnoticed): %s", ifname, strerror(errno));
	mnl_socket_close(nl);
}

int netdev_ensure_port(struct vm_conf *vm, int *ifindex, char *err,
		       size_t errlen)
{
	bool created = false;
	char why[XV_ERR_LEN];

	if (netdev_check_port(vm, err, errlen))
		return -1;
	*ifindex = 0;
	if (vm->fallback)
		return 0;
	if (!if_nametoindex(vm->ifname)) {
		if (vm->port_kind == XVNET_PORT_TAP ? tap_create(vm, err, errlen)
						    : veth_create(vm, err, errlen))
			return -1;
		created = true;
		set_alias(vm->ifname);
		log_info("vm %s: created %s port %s", vm->name,
			 port_kind_name(vm->port_kind), vm->ifname);
	}
	if (!created && vm->port_kind == XVNET_PORT_TAP &&
	    tap_id(vm->ifname, "owner") < 0 && tap_id(vm->ifname, "group") < 0)
		log_warn("vm %s: tap %s has no owner and no group: every local user"
			 " can attach to it (create it with `ip tuntap add ... user"
			 " U`, or let xvnetd create it)", vm->name, vm->ifname);
	host_ipv6_off(vm->ifname);
	if (link_up(vm->ifname, err, errlen))
		goto undo;
	if (vm->port_kind == XVNET_PORT_VETH &&
	    in_netns(vm->netns, peer_setup, vm, err, errlen))
		goto undo;
	if (vm->port_kind == XVNET_PORT_XSK && xsk_peer_setup(vm, err, errlen))
		goto undo;
	*ifindex = (int)if_nametoindex(vm->ifname);
	if (!*ifindex) {
		snprintf(err, errlen, "ifname: '%s' vanished", vm->ifname);
		goto undo;
	}
	if (created)
		vm->owned = true;
	return 0;
undo:
	if (created)
		netdev_delete(vm->ifname, why, sizeof(why));
	return -1;
}
