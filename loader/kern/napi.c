// SPDX-License-Identifier: GPL-2.0-only
/*
 * NAPI knobs of the NIC queues serving a VM: per NAPI over the "netdev"
 * generic-netlink family (libmnl), per device through sysfs otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sockios.h>

#include "lib/err.h"
#include "loader/kern/log.h"
#include "loader/kern/napi.h"

/*
 * The netdev family's numbers, from the kernel's include/uapi/linux/netdev.h
 * (generated from Documentation/netlink/specs/netdev.yaml): Debian's
 * linux-libc-dev 6.1 predates that header.  Checked against the 6.18
 * kernel's BTF; at run time netdev_family() checks that the kernel lists
 * the commands, and napi_set_policy_ok() that NAPI_SET's policy gives the
 * attribute numbers the types they must have.
 */
enum {
	NETDEV_CMD_QUEUE_GET = 10,      /* since 6.8 */
	NETDEV_CMD_NAPI_GET = 11,       /* since 6.8 */
	NETDEV_CMD_NAPI_SET = 14,       /* since 6.13 */
};

enum {
	NETDEV_A_NAPI_IFINDEX = 1,
	NETDEV_A_NAPI_ID = 2,
	NETDEV_A_NAPI_IRQ = 3,
	NETDEV_A_NAPI_PID = 4,
	NETDEV_A_NAPI_DEFER_HARD_IRQS = 5,      /* u32 */
	NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT = 6,    /* uint: 4 or 8 bytes */
	NETDEV_A_NAPI_MAX_USED = NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT,
};

enum {
	NETDEV_A_QUEUE_ID = 1,
	NETDEV_A_QUEUE_IFINDEX = 2,
	NETDEV_A_QUEUE_TYPE = 3,
	NETDEV_A_QUEUE_NAPI_ID = 4,
	NETDEV_A_QUEUE_MAX_USED = NETDEV_A_QUEUE_NAPI_ID,
};

enum { NETDEV_QUEUE_TYPE_RX = 0 };

/* include/uapi/linux/netlink.h, 6.7: missing from the 6.1 headers. */
#define XV_NL_ATTR_TYPE_UINT 17

#define NETDEV_FAMILY_NAME "netdev"
#define MAX_CMD 32

/* ---- generic netlink ---------------------------------------------------- */

struct genl {
	struct mnl_socket *nl;
	uint16_t family;
	uint32_t op_flags[MAX_CMD];     /* GENL_CMD_CAP_* by command */
	unsigned int seq;
	bool set_checked;               /* napi_set_policy_ok() passed */
};

static struct nlmsghdr *genl_msg(char *buf, uint16_t type, uint8_t cmd,
				 uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = 1;
	return nlh;
}

/* With a control-message array libmnl runs none of its own handlers for
 * the types below its length: the ack is read here. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	(void)data;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error < 0) {
		errno = -e->error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

/* libmnl ignores the error a dump may end with (ENODEV for a filter on a
 * device that does not exist): it would read as an empty answer. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	int e;

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(e)) {
		memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
		if (e < 0) {
			errno = -e;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

/* Send, run cb on each reply; 0 or -errno (the kernel's, from its ack). */
static int genl_talk(struct genl *g, struct nlmsghdr *nlh, mnl_cb_t cb,
		     void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(g->nl);
	mnl_cb_t ctl_cb[NLMSG_DONE + 1] = {
		[NLMSG_ERROR] = error_cb, [NLMSG_DONE] = done_cb,
	};
	ssize_t n;

	/* a dump ends with NLMSG_DONE; a doit only with its ack, which also
	 * carries the error of a request that has no reply */
	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++g->seq;
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((n = mnl_socket_recvfrom(g->nl, buf, sizeof(buf))) > 0) {
		int r;

		errno = 0;
		r = mnl_cb_run2(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data,
				ctl_cb, MNL_ARRAY_SIZE(ctl_cb));

		if (r < 0)
			return errno ? -errno : -EPROTO;
		if (r == MNL_CB_STOP)
			return 0;
	}
	return n < 0 ? -errno : -EPROTO;
}

/* tb[type] for types 1..max; types beyond max are newer than us: ignored. */
struct attrs {
	const struct nlattr **tb;
	int max;
};

static int attr_collect(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	int t = mnl_attr_get_type(a);

	if (t > 0 && t <= at->max)
		at->tb[t] = a;
	return MNL_CB_OK;
}

static void genl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb,
		       int max)
{
	struct attrs at = { tb, max };

	memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), attr_collect, &at);
}

static bool attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return false;
	*v = mnl_attr_get_u32(a);
	return true;
}

/* The kernel's "uint" (nla_put_uint) is 4 bytes when the value fits. */
static bool attr_uint(const struct nlattr *a, uint64_t *v)
{
	if (!a)
		return false;
	if (mnl_attr_get_payload_len(a) == sizeof(uint32_t))
		*v = mnl_attr_get_u32(a);
	else if (mnl_attr_get_payload_len(a) == sizeof(uint64_t))
		*v = mnl_attr_get_u64(a);
	else
		return false;
	return true;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct genl *g = data;
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *op;

	genl_parse(nlh, tb, CTRL_ATTR_MAX);
	if (!tb[CTRL_ATTR_FAMILY_ID] ||
	    mnl_attr_validate(tb[CTRL_ATTR_FAMILY_ID], MNL_TYPE_U16) < 0)
		return MNL_CB_ERROR;
	g->family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (!tb[CTRL_ATTR_OPS])
		return MNL_CB_OK;
	mnl_attr_for_each_nested(op, tb[CTRL_ATTR_OPS]) {
		const struct nlattr *o, *otb[CTRL_ATTR_OP_MAX + 1] = { 0 };
		uint32_t id, flags;

		mnl_attr_for_each_nested(o, op)
			if (mnl_attr_get_type(o) <= CTRL_ATTR_OP_MAX)
				otb[mnl_attr_get_type(o)] = o;
		if (attr_u32(otb[CTRL_ATTR_OP_ID], &id) &&
		    attr_u32(otb[CTRL_ATTR_OP_FLAGS], &flags) && id < MAX_CMD)
			g->op_flags[id] = flags;
	}
	return MNL_CB_OK;
}

static void genl_close(struct genl *g)
{
	if (g->nl)
		mnl_socket_close(g->nl);
	g->nl = NULL;
}

/* Open a socket and learn the family's id and commands: ids are allocated
 * at registration, so only the name is stable. */
static int genl_open(struct genl *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int r;

	memset(g, 0, sizeof(*g));
	g->seq = (unsigned int)time(NULL);
	g->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!g->nl)
		return -errno;
	if (mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		genl_close(g);
		return r;
	}
	nlh = genl_msg(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NETDEV_FAMILY_NAME);
	r = genl_talk(g, nlh, family_cb, g);
	if (r == 0 && !g->family)
		r = -EPROTO;
	if (r) {
		/* no such family (before 6.5): the same as no such command */
		if (r == -ENOENT)
			r = -EOPNOTSUPP;
		genl_close(g);
	}
	return r;
}

static int genl_need(const struct genl *g, uint8_t cmd, uint32_t cap)
{
	return cmd < MAX_CMD && (g->op_flags[cmd] & cap) ? 0 : -EOPNOTSUPP;
}

/* NAPI_SET's policy, from CTRL_CMD_GETPOLICY: types[policy][attr]. */
#define POL_MAX 4
struct policy {
	int do_idx;
	uint32_t types[POL_MAX][NETDEV_A_NAPI_MAX_USED + 1];
};

static int policy_cb(const struct nlmsghdr *nlh, void *data)
{
	struct policy *p = data;
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *a, *b, *c;
	uint32_t v;

	genl_parse(nlh, tb, CTRL_ATTR_MAX);
	if (tb[CTRL_ATTR_OP_POLICY])
		mnl_attr_for_each_nested(a, tb[CTRL_ATTR_OP_POLICY]) {
			if (mnl_attr_get_type(a) != NETDEV_CMD_NAPI_SET)
				continue;
			mnl_attr_for_each_nested(b, a)
				if (mnl_attr_get_type(b) == CTRL_ATTR_POLICY_DO &&
				    attr_u32(b, &v) && v < POL_MAX)
					p->do_idx = (int)v;
		}
	if (tb[CTRL_ATTR_POLICY])
		mnl_attr_for_each_nested(a, tb[CTRL_ATTR_POLICY]) {
			uint16_t idx = mnl_attr_get_type(a);

			if (idx >= POL_MAX)
				continue;
			mnl_attr_for_each_nested(b, a) {
				uint16_t at = mnl_attr_get_type(b);

				if (at > NETDEV_A_NAPI_MAX_USED)
					continue;
				mnl_attr_for_each_nested(c, b)
					if (mnl_attr_get_type(c) ==
						    NL_POLICY_TYPE_ATTR_TYPE &&
					    attr_u32(c, &v))
						p->types[idx][at] = v;
			}
		}
	return MNL_CB_OK;
}

/*
 * A wrong attribute number in a set would change another knob, or nothing,
 * without an error: ask the kernel what NAPI_SET takes under each number.
 */
static int napi_set_policy_ok(struct genl *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct policy p = { .do_idx = -1 };
	struct nlmsghdr *nlh;
	int r;

	nlh = genl_msg(buf, GENL_ID_CTRL, CTRL_CMD_GETPOLICY, NLM_F_DUMP);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, g->family);
	mnl_attr_put_u32(nlh, CTRL_ATTR_OP, NETDEV_CMD_NAPI_SET);
	r = genl_talk(g, nlh, policy_cb, &p);
	if (r)
		return r;
	if (p.do_idx < 0 ||
	    p.types[p.do_idx][NETDEV_A_NAPI_ID] != NL_ATTR_TYPE_U32 ||
	    p.types[p.do_idx][NETDEV_A_NAPI_DEFER_HARD_IRQS] != NL_ATTR_TYPE_U32 ||
	    p.types[p.do_idx][NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT] !=
		    XV_NL_ATTR_TYPE_UINT) {
		log_err("napi: the kernel's netdev NAPI_SET policy does not match"
			" include/uapi/linux/netdev.h as compiled in");
		return -EPROTO;
	}
	return 0;
}

/* The per-NAPI interface this file uses: 0, or -EOPNOTSUPP with why. */
int napi_genl_support(char *why, size_t len)
{
	struct genl g;
	int r = genl_open(&g);

	if (r) {
		snprintf(why, len, "no netdev generic netlink family (kernel before 6.5): %s",
			 strerror(-r));
		return -EOPNOTSUPP;
	}
	if (genl_need(&g, NETDEV_CMD_NAPI_GET, GENL_CMD_CAP_DUMP) ||
	    genl_need(&g, NETDEV_CMD_QUEUE_GET, GENL_CMD_CAP_DO) ||
	    genl_need(&g, NETDEV_CMD_NAPI_SET, GENL_CMD_CAP_DO)) {
		snprintf(why, len, "netdev netlink has no NAPI_GET/QUEUE_GET/NAPI_SET"
			 " (per-NAPI settings came in 6.13)");
		r = -EOPNOTSUPP;
	}
	genl_close(&g);
	return r;
}

int napi_probe(char *why, size_t len)
{
	return napi_genl_support(why, len) == 0;
}

/* ---- per NAPI ----------------------------------------------------------- */

struct queue_reply {
	bool seen;
	bool has_napi;
	uint32_t napi_id;
};

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct queue_reply *q = data;
	const struct nlattr *tb[NETDEV_A_QUEUE_MAX_USED + 1];

	genl_parse(nlh, tb, NETDEV_A_QUEUE_MAX_USED);
	q->seen = true;
	q->has_napi = attr_u32(tb[NETDEV_A_QUEUE_NAPI_ID], &q->napi_id);
	return MNL_CB_OK;
}

static int g_queue_napi(struct genl *g, int ifindex, unsigned queue,
			uint32_t *napi_id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct queue_reply q = { 0 };
	struct nlmsghdr *nlh;
	int r = genl_need(g, NETDEV_CMD_QUEUE_GET, GENL_CMD_CAP_DO);

	if (r)
		return r;
	nlh = genl_msg(buf, g->family, NETDEV_CMD_QUEUE_GET, 0);
	mnl_attr_put_u32(nlh, NETDEV_A_QUEUE_IFINDEX, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, NETDEV_A_QUEUE_TYPE, NETDEV_QUEUE_TYPE_RX);
	mnl_attr_put_u32(nlh, NETDEV_A_QUEUE_ID, queue);
	r = genl_talk(g, nlh, queue_cb, &q);
	if (r)
		return r;
	if (!q.seen)
		return -EPROTO;
	/* the kernel leaves the id out when no NAPI serves the queue */
	if (!q.has_napi || q.napi_id == 0)
		return -ENOENT;
	*napi_id = q.napi_id;
	return 0;
}

struct napi_reply {
	bool defer, gro;
	struct napi_knobs k;
};

static int napi_cb(const struct nlmsghdr *nlh, void *data)
{
	struct napi_reply *n = data;
	const struct nlattr *tb[NETDEV_A_NAPI_MAX_USED + 1];

	genl_parse(nlh, tb, NETDEV_A_NAPI_MAX_USED);
	n->defer = attr_u32(tb[NETDEV_A_NAPI_DEFER_HARD_IRQS],
			    &n->k.defer_hard_irqs);
	n->gro = attr_uint(tb[NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT],
			   &n->k.gro_flush_timeout_ns);
	return MNL_CB_OK;
}

static int g_napi_get(struct genl *g, uint32_t napi_id, struct napi_knobs *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct napi_reply n = { 0 };
	struct nlmsghdr *nlh;
	int r = genl_need(g, NETDEV_CMD_NAPI_GET, GENL_CMD_CAP_DO);

	if (r)
		return r;
	nlh = genl_msg(buf, g->family, NETDEV_CMD_NAPI_GET, 0);
	mnl_attr_put_u32(nlh, NETDEV_A_NAPI_ID, napi_id);
	r = genl_talk(g, nlh, napi_cb, &n);
	if (r)
		return r;
	/* before 6.13 the knobs were per device only: not in the reply */
	if (!n.defer || !n.gro)
		return -EOPNOTSUPP;
	*out = n.k;
	return 0;
}

static int knobs_valid(const struct napi_knobs *k)
{
	/* both the genl policy and the sysfs store reject more */
	return k->defer_hard_irqs > INT32_MAX ? -ERANGE : 0;
}

static int g_napi_set(struct genl *g, uint32_t napi_id,
		      const struct napi_knobs *k)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int r = knobs_valid(k);

	if (!r)
		r = genl_need(g, NETDEV_CMD_NAPI_SET, GENL_CMD_CAP_DO);
	if (!r && !g->set_checked)
		r = napi_set_policy_ok(g);
	if (r)
		return r;
	g->set_checked = true;
	nlh = genl_msg(buf, g->family, NETDEV_CMD_NAPI_SET, 0);
	mnl_attr_put_u32(nlh, NETDEV_A_NAPI_ID, napi_id);
	mnl_attr_put_u32(nlh, NETDEV_A_NAPI_DEFER_HARD_IRQS, k->defer_hard_irqs);
	mnl_attr_put_u64(nlh, NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT,
			 k->gro_flush_timeout_ns);
	return genl_talk(g, nlh, NULL, NULL);
}

struct napi_list {
	uint32_t ifindex;
	uint32_t *ids;
	size_t max, n;
};

static int napi_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct napi_list *l = data;
	const struct nlattr *tb[NETDEV_A_NAPI_MAX_USED + 1];
	uint32_t ifindex, id;

	genl_parse(nlh, tb, NETDEV_A_NAPI_MAX_USED);
	/* the kernel filters by ifindex; a kernel that ignored it must not
	 * hand out another device's NAPIs */
	if (!attr_u32(tb[NETDEV_A_NAPI_IFINDEX], &ifindex) ||
	    ifindex != l->ifindex || !attr_u32(tb[NETDEV_A_NAPI_ID], &id))
		return MNL_CB_OK;
	if (l->n < l->max)
		l->ids[l->n] = id;
	l->n++;
	return MNL_CB_OK;
}

int napi_ids_of_dev(int ifindex, uint32_t *ids, size_t max)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct napi_list l = { (uint32_t)ifindex, ids, max, 0 };
	struct nlmsghdr *nlh;
	struct genl g;
	int r;

	if (ifindex <= 0 || (max && !ids))
		return -EINVAL;
	r = genl_open(&g);
	if (r)
		return r;
	r = genl_need(&g, NETDEV_CMD_NAPI_GET, GENL_CMD_CAP_DUMP);
	if (!r) {
		nlh = genl_msg(buf, g.family, NETDEV_CMD_NAPI_GET, NLM_F_DUMP);
		mnl_attr_put_u32(nlh, NETDEV_A_NAPI_IFINDEX, (uint32_t)ifindex);
		r = genl_talk(&g, nlh, napi_list_cb, &l);
	}
	genl_close(&g);
	if (r)
		return r;
	return l.n > INT32_MAX ? INT32_MAX : (int)l.n;
}

int napi_id_of_rx_queue(int ifindex, unsigned queue, uint32_t *napi_id)
{
	struct genl g;
	int r;

	if (ifindex <= 0 || !napi_id)
		return -EINVAL;
	r = genl_open(&g);
	if (r)
		return r;
	r = g_queue_napi(&g, ifindex, queue, napi_id);
	genl_close(&g);
	return r;
}

int napi_get(uint32_t napi_id, struct napi_knobs *out)
{
	struct genl g;
	int r;

	if (!out)
		return -EINVAL;
	r = genl_open(&g);
	if (r)
		return r;
	r = g_napi_get(&g, napi_id, out);
	genl_close(&g);
	return r;
}

int napi_set(uint32_t napi_id, const struct napi_knobs *k)
{
	struct genl g;
	int r;

	if (!k)
		return -EINVAL;
	r = genl_open(&g);
	if (r)
		return r;
	r = g_napi_set(&g, napi_id, k);
	genl_close(&g);
	return r;
}

/* ---- per device (sysfs) ------------------------------------------------- */

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int r = 0;

	if (!f)
		return -errno;
	buf[0] = '\0';
	if (!fgets(buf, (int)len, f))
		r = ferror(f) ? -EIO : -ENODATA;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return r;
}

static int read_u64(const char *path, uint64_t *v)
{
	char buf[32], *end;
	int r = read_line(path, buf, sizeof(buf));

	if (r)
		return r;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return errno || end == buf || *end ? -EPROTO : 0;
}

static int write_u64(const char *path, uint64_t v)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), n, r = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	if (write(fd, buf, (size_t)n) != n)
		r = -errno;
	close(fd);
	return r;
}

static int hwaddr_of(const char *ifname, char *buf, size_t len)
{
	struct ifreq ifr = { 0 };
	const unsigned char *m = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	r = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	close(fd);
	if (!r)
		snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
	return r;
}

/*
 * sysfs lists the devices of the namespace that mounted it, not of the
 * caller's: after a setns or unshare the same name can be another device.
 * Same ifindex and MAC as the caller's device is taken as the same device.
 */
static int dev_dir(const char *ifname, char *dir, size_t len)
{
	char path[128], line[64], mac[32];
	uint64_t idx;
	unsigned int want;
	int r;

	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ ||
	    strchr(ifname, '/'))
		return -EINVAL;
	want = if_nametoindex(ifname);
	if (!want)
		return -ENODEV;
	snprintf(dir, len, "/sys/class/net/%s", ifname);
	snprintf(path, sizeof(path), "%s/ifindex", dir);
	r = read_u64(path, &idx);
	if (r == -ENOENT || (!r && idx != want))
		return -EXDEV;
	if (r)
		return r;
	r = hwaddr_of(ifname, mac, sizeof(mac));
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/address", dir);
	r = read_line(path, line, sizeof(line));
	if (r == -ENOENT || (!r && strcasecmp(line, mac) != 0))
		return -EXDEV;
	return r;
}

int napi_dev_get(const char *ifname, struct napi_knobs *out)
{
	char dir[64], path[128];
	uint64_t defer, gro;
	int r;

	if (!out)
		return -EINVAL;
	r = dev_dir(ifname, dir, sizeof(dir));
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/napi_defer_hard_irqs", dir);
	r = read_u64(path, &defer);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/gro_flush_timeout", dir);
	r = read_u64(path, &gro);
	if (r)
		return r;
	if (defer > UINT32_MAX)
		return -EPROTO;
	out->defer_hard_irqs = (uint32_t)defer;
	out->gro_flush_timeout_ns = gro;
	return 0;
}

int napi_dev_set(const char *ifname, const struct napi_knobs *k)
{
	char dir[64], path[128];
	int r;

	if (!k)
		return -EINVAL;
	r = knobs_valid(k);
	if (!r)
		r = dev_dir(ifname, dir, sizeof(dir));
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/napi_defer_hard_irqs", dir);
	r = write_u64(path, k->defer_hard_irqs);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/gro_flush_timeout", dir);
	return write_u64(path, k->gro_flush_timeout_ns);
}

/* ---- save, apply, restore ----------------------------------------------- */

enum napi_scope { SCOPE_NAPI, SCOPE_DEVICE };

struct napi_saved {
	enum napi_scope scope;
	char ifname[IFNAMSIZ];
	struct napi_knobs dev_old;      /* SCOPE_DEVICE */
	unsigned int n;                 /* SCOPE_NAPI: NAPIs changed, in order */
	uint32_t napi_id[32];           /* at most one per queue of the mask */
	struct napi_knobs old[32];
};

const char *napi_saved_scope(const struct napi_saved *s)
{
	if (!s)
		return "none";
	return s->scope == SCOPE_NAPI ? "napi" : "device";
}

static void restore_napis(struct genl *g, struct napi_saved *s, unsigned n)
{
	while (n-- > 0) {
		int r = g_napi_set(g, s->napi_id[n], &s->old[n]);

		/* a NAPI that went with its device or XDP program has
		 * nothing left to restore */
		if (r && r != -ENOENT)
			log_warn("napi: %s: cannot restore NAPI %u: %s",
				 s->ifname, s->napi_id[n], strerror(-r));
	}
}

static void restore_device(struct napi_saved *s)
{
	int r = napi_dev_set(s->ifname, &s->dev_old);

	if (r && r != -ENODEV)
		log_warn("napi: %s: cannot restore the device's NAPI knobs: %s",
			 s->ifname, strerror(-r));
}

void napi_restore(struct napi_saved *s)
{
	struct genl g;
	int r;

	if (!s)
		return;
	if (s->scope == SCOPE_DEVICE) {
		restore_device(s);
	} else if (s->n) {
		r = genl_open(&g);
		if (r) {
			log_warn("napi: %s: cannot restore %u NAPI(s): %s",
				 s->ifname, s->n, strerror(-r));
		} else {
			restore_napis(&g, s, s->n);
			genl_close(&g);
		}
	}
	free(s);
}

static int apply_device(struct napi_saved *s, uint32_t mask,
			const struct napi_knobs *k, char *err, size_t errlen)
{
	char path[128];
	struct stat st;
	int r;

	r = napi_dev_get(s->ifname, &s->dev_old);
	if (r == -EXDEV)
		return ERR_RC(r, "ifname: '%s': /sys shows another network namespace,"
			   " cannot set its device NAPI knobs", s->ifname);
	if (r)
		return ERR_RC(r, "ifname: '%s': cannot read the device NAPI knobs: %s",
			   s->ifname, strerror(-r));
	/* the genl path checks the queues; here the kernel lists them */
	for (unsigned q = 0; q < 32; q++) {
		if (!(mask & (1u << q)))
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-%u",
			 s->ifname, q);
		if (stat(path, &st))
			return ERR_RC(-EINVAL, "queues: '%s' has no RX queue %u",
				   s->ifname, q);
	}
	r = napi_dev_set(s->ifname, k);
	if (r) {
		/* defer may have been written before gro failed */
		napi_dev_set(s->ifname, &s->dev_old);
		return ERR_RC(r, "ifname: '%s': cannot set the device NAPI knobs: %s",
			   s->ifname, strerror(-r));
	}
	return 0;
}

/* 1: fall back to the device files, 0: the NAPIs are in s, <0: error. */
static int collect_napis(struct genl *g, struct napi_saved *s, int ifindex,
			 uint32_t mask, char *err, size_t errlen)
{
	bool fallback = false;
	uint32_t id;
	int r;

	for (unsigned q = 0; q < 32; q++) {
		unsigned i;

		if (!(mask & (1u << q)))
			continue;
		r = g_queue_napi(g, ifindex, q, &id);
		if (r == -ENOENT || r == -EOPNOTSUPP) {
			/* go on: an out-of-range queue is still an error */
			fallback = true;
			continue;
		}
		if (r == -EINVAL)
			return ERR_RC(r, "queues: '%s' has no RX queue %u",
				   s->ifname, q);
		if (r == -ENODEV)
			return ERR_RC(r, "ifname: '%s' does not exist", s->ifname);
		if (r)
			return ERR_RC(r, "queues: '%s' RX queue %u: cannot find its"
				   " NAPI: %s", s->ifname, q, strerror(-r));
		for (i = 0; i < s->n && s->napi_id[i] != id; i++)
			;
		if (i == s->n)
			s->napi_id[s->n++] = id;
	}
	if (fallback || genl_need(g, NETDEV_CMD_NAPI_SET, GENL_CMD_CAP_DO) ||
	    genl_need(g, NETDEV_CMD_NAPI_GET, GENL_CMD_CAP_DO)) {
		s->n = 0;
		return 1;
	}
	return 0;
}

static int apply_napis(struct genl *g, struct napi_saved *s,
		       const struct napi_knobs *k, char *err, size_t errlen)
{
	unsigned i;
	int r;

	/* every old value first: a failed get must not leave a change */
	for (i = 0; i < s->n; i++) {
		r = g_napi_get(g, s->napi_id[i], &s->old[i]);
		if (r)
			return ERR_RC(r, "ifname: '%s': cannot read NAPI %u: %s",
				   s->ifname, s->napi_id[i], strerror(-r));
	}
	for (i = 0; i < s->n; i++) {
		r = g_napi_set(g, s->napi_id[i], k);
		if (r) {
			restore_napis(g, s, i);
			return ERR_RC(r, "ifname: '%s': cannot set NAPI %u: %s",
				   s->ifname, s->napi_id[i], strerror(-r));
		}
	}
	return 0;
}

int napi_apply_rx_queues(const char *ifname, uint32_t queue_mask, bool per_napi,
			 const struct napi_knobs *k, struct napi_saved **saved,
			 char *err, size_t errlen)
{
	struct napi_saved *s;
	struct genl g = { 0 };
	int ifindex, r;

	if (saved)
		*saved = NULL;
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return ERR_RC(-EINVAL, "ifname: '%s' is not a device name",
			   ifname ? ifname : "");
	if (!k || !saved)
		return ERR_RC(-EINVAL, "napi: %s: no knobs or no place to save",
			   ifname);
	if (!queue_mask)
		return ERR_RC(-EINVAL, "queues: no RX queue of '%s' selected", ifname);
	if (knobs_valid(k))
		return ERR_RC(-ERANGE, "napi_defer_hard_irqs: %u is more than %d",
			   k->defer_hard_irqs, INT32_MAX);
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return ERR_RC(-ENODEV, "ifname: '%s' does not exist", ifname);
	s = calloc(1, sizeof(*s));
	if (!s)
		return ERR_RC(-ENOMEM, "napi: out of memory");
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);

	r = per_napi ? genl_open(&g) : -EOPNOTSUPP;
	if (r == -EOPNOTSUPP)
		r = 1;
	else if (r)
		r = ERR_RC(r, "napi: netlink: %s", strerror(-r));
	else
		r = collect_napis(&g, s, ifindex, queue_mask, err, errlen);
	if (r == 1) {
		s->scope = SCOPE_DEVICE;
		r = apply_device(s, queue_mask, k, err, errlen);
	} else if (r == 0) {
		s->scope = SCOPE_NAPI;
		r = apply_napis(&g, s, k, err, errlen);
	}
	genl_close(&g);
	if (r) {
		free(s);
		return r;
	}
	*saved = s;
	return 0;
}
