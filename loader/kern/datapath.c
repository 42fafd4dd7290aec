// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF side of xvnetd: mount bpffs, open the nic_rx skeleton with every
 * xvnet_* map pinned under XVNET_PIN_DIR (reused when already pinned), load,
 * and attach: nic_rx by a pinned XDP bpf_link (updated in place on restart,
 * so traffic never stops), nic_flood as a tc ingress filter with a fixed
 * handle/priority (replaced on restart).
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/magic.h>

#include "lib/err.h"
#include "loader/kern/log.h"
#include "loader/kern/pinwatch.h"
#include "loader/kern/netdev.h"
#include "loader/kern/datapath.h"
#include "loader/kern/flowtab.h"
#include "loader/kern/tables.h"
#include "nic_rx.skel.h"


/* linux/bpf.h of 6.3+; Debian's uapi headers here are 6.1 */
#define XV_BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)

/* --pin-dir: one data path per directory (tests run side by side) */
const char *xv_pin_dir = XVNET_PIN_DIR;

const char *dp_link_pin(void)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nic_rx_link", xv_pin_dir);
	return path;
}

static int mount_bpffs(char *err, size_t errlen)
{
	struct statfs sf;

	if (statfs("/sys/fs/bpf", &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST)
		return ERR("mkdir /sys/fs/bpf: %s", strerror(errno));
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return ERR("mount bpffs on /sys/fs/bpf: %s", strerror(errno));
	log_info("mounted bpffs on /sys/fs/bpf");
	return 0;
}

static bool pinned(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", xv_pin_dir, name);
	return access(path, F_OK) == 0;
}

static int pinned_max_entries(const char *name, __u32 *max)
{
	char path[256];
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", xv_pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	r = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (r)
		return -1;
	*max = info.max_entries;
	return 0;
}

/*
 * Reuse a pinned map by fd.  libbpf 1.1's own check (pin path) compares
 * map_flags exactly and so refuses every pinned DEVMAP, whose flags the
 * kernel extends with BPF_F_RDONLY_PROG; compare the layout here instead.
 * Returns 1 reused, 0 not pinned, -1 incompatible.
 */
static int reuse_pinned(struct bpf_map *map, char *err, size_t errlen)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	const char *name = bpf_map__name(map);
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", xv_pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.type != bpf_map__type(map) ||
	    info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map)) {
		close(fd);
		return ERR("pinned map %s does not match this build (type %u/%u"
			   " key %u/%u value %u/%u entries %u/%u): run xvnetd"
			   " --teardown to start afresh", path, info.type,
			   bpf_map__type(map), info.key_size,
			   bpf_map__key_size(map), info.value_size,
			   bpf_map__value_size(map), info.max_entries,
			   bpf_map__max_entries(map));
	}
	if (bpf_map__reuse_fd(map, fd)) {
		close(fd);
		return ERR("%s: reuse failed", path);
	}
	close(fd);      /* reuse_fd dup'ed it */
	log_debug("map %s reused from %s", name, path);
	return 1;
}

/*
 * One CPUMAP entry per CPU, each running vm_cpu (spread VMs, bpf/spread.h).
 * The kernel starts a "cpumap" thread per entry, idle until frames come.
 */
static int cpus_fill(struct xvd *d, char *err, size_t errlen)
{
	int fd = bpf_map__fd(d->skel->maps.xvnet_cpus);
	struct bpf_cpumap_val v = {
		.qsize = 2048,
		.bpf_prog.fd = bpf_program__fd(d->skel->progs.vm_cpu),
	};

	for (__u32 c = 0; c < (__u32)d->ncpus && c < XVNET_MAX_CPUS; c++)
		if (bpf_map_update_elem(fd, &c, &v, BPF_ANY))
			return ERR("%s[%u]: %s", XVNET_MAP_CPUS, c, strerror(errno));
	return 0;
}

static int open_and_load(struct xvd *d, char *err, size_t errlen)
{
	struct bpf_map *map;
	char path[256];
	__u32 max;
	int r;

	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = xv_pin_dir);

	d->skel = nic_rx__open_opts(&oo);
	if (!d->skel)
		return ERR("open nic_rx skeleton: %s", strerror(errno));
	d->flow_max = d->cfg.flow_max;
	d->flows4_new = !pinned(XVNET_MAP_FLOWS4);
	d->rss_tables_new = !pinned(XVNET_MAP_RSS_TABLES);
	if (pinned_max_entries(XVNET_MAP_FLOWS, &max) == 0 &&
	    max != d->flow_max) {
		log_warn("flow-max %u not applied: the pinned %s holds %u entries"
			 " (xvnetd --teardown, then start, to resize)",
			 d->flow_max, XVNET_MAP_FLOWS, max);
		d->flow_max = max;
	}
	bpf_map__set_max_entries(d->skel->maps.xvnet_flows, d->flow_max);
	/* a pinned xvnet_flows4 of another size is kept as it is (reuse_pinned) */
	if (pinned_max_entries(XVNET_MAP_FLOWS4, &max) == 0)
		bpf_map__set_max_entries(d->skel->maps.xvnet_flows4, max);
	else
		bpf_map__set_max_entries(d->skel->maps.xvnet_flows4, d->flow_max);
	bpf_object__for_each_map(map, d->skel->obj) {
		const char *name = bpf_map__name(map);

		if (strncmp(name, "xvnet_", 6) != 0)
			continue;
		if (reuse_pinned(map, err, errlen) < 0)
			return -1;
		if (bpf_map__fd(map) >= 0) {    /* reused: no pin path check */
			bpf_map__set_pin_path(map, NULL);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", xv_pin_dir, name);
		if (bpf_map__set_pin_path(map, path))
			return ERR("%s: set pin path failed", name);
	}
	d->maps_adopted = pinned(XVNET_MAP_VM_BY_MAC);
	d->skel->rodata->cfg_malformed_pass = d->cfg.malformed_pass;
	d->skel->rodata->cfg_meta_at = d->meta_at;
	d->skel->rodata->cfg_check_mtu = xv_feature_usable(&d->feat, XV_FEAT_CHECK_MTU);
	bpf_program__set_autoload(d->skel->progs.redirect_err,
				  xv_feature_usable(&d->feat, XV_FEAT_REDIRECT_TRACE));
	bpf_program__set_autoload(d->skel->progs.devmap_xmit_err,
				  xv_feature_usable(&d->feat, XV_FEAT_REDIRECT_TRACE));
	/* the metadata kfunc only verifies in a program bound to the NIC */
	bpf_program__set_autoload(d->skel->progs.nic_rx_hw, d->cfg.rx_hash_hw);
	if (d->cfg.rx_hash_hw) {
		bpf_program__set_ifindex(d->skel->progs.nic_rx_hw, (__u32)d->nic_ifindex);
		bpf_program__set_flags(d->skel->progs.nic_rx_hw, XV_BPF_F_XDP_DEV_BOUND_ONLY);
	}

	r = nic_rx__load(d->skel);
	if (r)
		return ERR("load nic_rx: %s%s", strerror(-r),
			   d->maps_adopted ? " (pinned maps incompatible with"
			   " this build? xvnetd --teardown removes them)" : "");
	d->m.vm_by_mac = bpf_map__fd(d->skel->maps.xvnet_vm_by_mac);
	d->m.vms = bpf_map__fd(d->skel->maps.xvnet_vms);
	d->m.vm_cache = bpf_map__fd(d->skel->maps.xvnet_vm_cache);
	d->m.rss_tables = bpf_map__fd(d->skel->maps.xvnet_rss_tables);
	d->m.flows = bpf_map__fd(d->skel->maps.xvnet_flows);
	d->m.flows_cfg = bpf_map__fd(d->skel->maps.xvnet_flows_cfg);
	d->m.flows4 = bpf_map__fd(d->skel->maps.xvnet_flows4);
	d->m.flows4_cfg = bpf_map__fd(d->skel->maps.xvnet_flows4_cfg);
	d->m.sp_budget = bpf_map__fd(d->skel->maps.xvnet_sp_budget);
	d->m.redirect_err = bpf_map__fd(d->skel->maps.xvnet_redirect_err);
	d->m.ports = bpf_map__fd(d->skel->maps.xvnet_ports);
	d->m.ports_b = bpf_map__fd(d->skel->maps.xvnet_ports_b);
	d->m.port_stats = bpf_map__fd(d->skel->maps.xvnet_port_stats);
	d->m.flood = bpf_map__fd(d->skel->maps.xvnet_flood);
	d->m.flood_count = bpf_map__fd(d->skel->maps.xvnet_flood_count);
	d->m.flood_host = bpf_map__fd(d->skel->maps.xvnet_flood_host);
	d->m.stats = bpf_map__fd(d->skel->maps.xvnet_stats);
	d->m.queue_stats = bpf_map__fd(d->skel->maps.xvnet_queue_stats);
	d->m.port_vm = bpf_map__fd(d->skel->maps.xvnet_port_vm);
	d->m.uplink = bpf_map__fd(d->skel->maps.xvnet_uplink);
	d->m.config = bpf_map__fd(d->skel->maps.xvnet_config);
	d->m.vm_addrs = bpf_map__fd(d->skel->maps.xvnet_vm_addrs);
	d->m.vm_tx_stats = bpf_map__fd(d->skel->maps.xvnet_vm_tx_stats);
	d->m.ll_owner = bpf_map__fd(d->skel->maps.xvnet_ll_owner);
	d->m.ll_vm = bpf_map__fd(d->skel->maps.xvnet_ll_vm);
	d->m.slow_rb = bpf_map__fd(d->skel->maps.xvnet_slow_rb);
	if (cpus_fill(d, err, errlen))
		return -1;
	log_info("nic_rx loaded, maps %s under %s",
		 d->maps_adopted ? "reused" : "created and pinned", xv_pin_dir);
	return 0;
}

static int xdp_attached_mode(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return XDP_ATTACHED_NONE;
	return q.attach_mode;
}

/* Reuse the pinned link when it is ours, on this NIC, in this mode. */
static int adopt_link(struct xvd *d, int prog_fd)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int want = d->xdp_generic ? XDP_ATTACHED_SKB : XDP_ATTACHED_DRV;
	int fd = bpf_obj_get(dp_link_pin());

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.type != BPF_LINK_TYPE_XDP) {
		log_warn("%s is not an XDP link: replacing it", dp_link_pin());
		goto drop;
	}
	if ((int)info.xdp.ifindex != d->nic_ifindex) {
		log_warn("pinned XDP link is on ifindex %u, not on %s (%d):"
			 " re-attaching", info.xdp.ifindex, d->cfg.nic,
			 d->nic_ifindex);
		goto drop;
	}
	if (xdp_attached_mode(d->nic_ifindex) != want) {
		log_warn("pinned XDP link is not in %s mode: re-attaching",
			 d->xdp_generic ? "generic" : "native");
		goto drop;
	}
	if (bpf_link_update(fd, prog_fd, NULL)) {
		log_warn("bpf_link_update: %s: re-attaching", strerror(errno));
		goto drop;
	}
	d->link_fd = fd;
	d->link_adopted = true;
	log_info("nic_rx: pinned XDP link on %s updated in place", d->cfg.nic);
	return 0;
drop:
	bpf_link_detach(fd);
	unlink(dp_link_pin());
	close(fd);
	return -1;
}

static int attach_xdp(struct xvd *d, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int prog_fd = bpf_program__fd(d->cfg.rx_hash_hw ? d->skel->progs.nic_rx_hw :
				      d->skel->progs.nic_rx);
	int fd;

	if (adopt_link(d, prog_fd) == 0)
		return 0;
	opts.flags = d->xdp_generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog_fd, d->nic_ifindex, BPF_XDP, &opts);
	if (fd < 0)
		return ERR("nic: attach nic_rx to '%s' in %s mode: %s%s", d->cfg.nic,
			   d->xdp_generic ? "generic" : "native", strerror(errno),
			   errno == EBUSY ? " (another XDP program is attached)" :
			   !d->xdp_generic ? " (try --xdp-mode generic)" : "");
	if (bpf_obj_pin(fd, dp_link_pin())) {
		int e = errno;

		close(fd);
		return ERR("pin %s: %s", dp_link_pin(), strerror(e));
	}
	d->link_fd = fd;
	log_info("%s attached to %s (%s mode), link pinned at %s",
		 d->cfg.rx_hash_hw ? "nic_rx_hw" : "nic_rx", d->cfg.nic,
		 d->xdp_generic ? "generic" : "native", dp_link_pin());
	return 0;
}

static int attach_tc(struct xvd *d, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = d->nic_ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XV_TC_HANDLE,
		    .priority = XV_TC_PRIO, .flags = BPF_TC_F_REPLACE);
	int r;

	r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST)
		return ERR("nic: clsact on '%s': %s", d->cfg.nic, strerror(-r));
	opts.prog_fd = bpf_program__fd(d->skel->progs.nic_flood);
	r = bpf_tc_attach(&hook, &opts);
	if (r)
		return ERR("nic: attach nic_flood to tc ingress of '%s': %s",
			   d->cfg.nic, strerror(-r));
	log_info("nic_flood on tc ingress of %s (handle 0x%x prio 0x%x)",
		 d->cfg.nic, XV_TC_HANDLE, XV_TC_PRIO);
	/* the host stack's frames from VMs on the fallback to VMs here */
	hook.attach_point = BPF_TC_EGRESS;
	opts.prog_fd = bpf_program__fd(d->skel->progs.nic_egress);
	opts.prog_id = 0;
	r = bpf_tc_attach(&hook, &opts);
	if (r)
		return ERR("nic: attach nic_egress to tc egress of '%s': %s",
			   d->cfg.nic, strerror(-r));
	return 0;
}

/* VM egress goes to the NIC: vm_tx redirects through the DEVMAP, vm_flood
 * clones to the ifindex it finds in xvnet_config (tc cannot read DEVMAPs). */
static int set_uplink(struct xvd *d, char *err, size_t errlen)
{
	struct xvnet_config c = { 0 };
	__u32 zero = 0, ifindex = (__u32)d->nic_ifindex;

	bpf_map_lookup_elem(d->m.config, &zero, &c);   /* keep flows_active */
	c.uplink_ifindex = ifindex;
	c.sp_rate = d->cfg.sp_rate;
	{
		struct bpf_map_info mi = { 0 };
		__u32 len = sizeof(mi);

		if (!bpf_obj_get_info_by_fd(d->m.ports, &mi, &len))
			c.ports_map_id = mi.id;
	}
	/* once, then kept in the pinned map: frames in flight across a
	 * restart keep a prefix the new programs honour */
	while (!c.inline_tag)
		if (getrandom(&c.inline_tag, sizeof(c.inline_tag), 0) !=
		    sizeof(c.inline_tag))
			return ERR("getrandom: %s", strerror(errno));
	if (bpf_map_update_elem(d->m.uplink, &zero, &ifindex, BPF_ANY))
		return ERR("%s[0] = %s: %s", XVNET_MAP_UPLINK, d->cfg.nic, strerror(errno));
	if (bpf_map_update_elem(d->m.config, &zero, &c, BPF_ANY))
		return ERR("%s: %s", XVNET_MAP_CONFIG, strerror(errno));
	return 0;
}

static int tc_ingress_attach(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XV_TC_HANDLE,
		    .priority = XV_TC_PRIO, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = prog_fd);
	int r = bpf_tc_hook_create(&hook);

	if (r && r != -EEXIST)
		return r;
	return bpf_tc_attach(&hook, &opts);
}

static void tc_ingress_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XV_TC_HANDLE,
		    .priority = XV_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
}

/*
 * Netlink attachments (no bpf_link): they outlive the daemon like the pinned
 * NIC link does, and a restarted daemon replaces them atomically.
 *
 * Taps get vm_tx in generic (skb) mode: a guest hands its frames over with
 * checksums still to do and as TSO super-frames (virtio-net offloads, which
 * QEMU negotiates itself).  Native XDP on a tap would redirect them as bare
 * XDP frames, losing both marks; as skbs they keep them and the NIC side
 * completes the work.
 */
int dp_port_attach(struct xvd *d, int ifindex, bool tap, char *err, size_t errlen)
{
	__u32 mode = d->xdp_generic || tap ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	int r;

	r = bpf_xdp_attach(ifindex, bpf_program__fd(d->skel->progs.vm_tx), mode, NULL);
	if (r)
		return ERR("port ifindex %d: attach vm_tx (%s): %s", ifindex,
			   mode == XDP_FLAGS_SKB_MODE ? "generic" : "native", strerror(-r));
	r = tc_ingress_attach(ifindex, bpf_program__fd(d->skel->progs.vm_flood));
	if (r) {
		bpf_xdp_detach(ifindex, mode, NULL);
		return ERR("port ifindex %d: attach vm_flood: %s", ifindex, strerror(-r));
	}
	return 0;
}

/* The VM end of an xsk VM's side veth: xsk_side, native (it also gives
 * the veth the NAPI that frames redirected to it need). */
int dp_xsk_side_attach(struct xvd *d, int ifindex, char *err, size_t errlen)
{
	__u32 mode = d->xdp_generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	int r;

	r = bpf_xdp_attach(ifindex, bpf_program__fd(d->skel->progs.xsk_side), mode, NULL);
	if (r)
		return ERR("side veth ifindex %d: attach xsk_side: %s", ifindex,
			   strerror(-r));
	return 0;
}

/*
 * Multi-queue taps get tap_steer as tun's steering program, so that the
 * skb path's queue is the one they deliver on (bpf/skbpath.h).  Set once
 * per VM and tap per run of xvnetd: the program stays with the device, but
 * a restarted xvnetd cannot ask the tap which one it has (no ioctl reads
 * it back), and setting it costs a queue attached and detached.
 * d->steer_ifindex[vm_id]: the tap this process set it on, 0 if none.
 */

int dp_tap_steer(struct xvd *d, const struct vm_conf *vm, int ifindex,
		 char *err, size_t errlen)
{
	if (vm->port_kind != XVNET_PORT_TAP || vm->queues <= 1 ||
	    vm->id < 0 || vm->id >= XVNET_MAX_VMS)
		return 0;
	if (d->steer_ifindex[vm->id] == ifindex)
		return 0;
	if (netdev_tap_steering(vm->ifname,
				bpf_program__fd(d->skel->progs.tap_steer), err, errlen))
		return -1;
	d->steer_ifindex[vm->id] = ifindex;
	log_info("vm %s: %s set as steering program of tap %s (%u queues)",
		 vm->name, XVNET_PROG_TAP_STEER, vm->ifname, vm->queues);
	return 0;
}

/*
 * QEMU clears a tap's steering program whenever the guest negotiates its
 * features (driver load) or sets its queue pairs (virtio_net_disable_rss:
 * TUNSETSTEERINGEBPF -1), and nothing signals it: tun would then pick the
 * queues by its own hash, against the VM's RSS.  So the program is set
 * again every XV_RESTEER_S seconds.  Attaching the queue this takes is
 * brief; a frame tun steered to it meanwhile would be lost, which the
 * program's choice (below the VM's queue count) never does.
 */
#define XV_RESTEER_S 2

void dp_tap_resteer(struct xvd *d)
{
	static time_t last;
	char err[XV_ERR_LEN];
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!d->skel || ts.tv_sec - last < XV_RESTEER_S)
		return;
	last = ts.tv_sec;
	for (size_t i = 0; i < d->cfg.n_vms; i++) {
		const struct vm_conf *vm = &d->cfg.vms[i];

		if (vm->port_kind != XVNET_PORT_TAP || vm->queues <= 1 ||
		    vm->id < 0 || vm->id >= XVNET_MAX_VMS || !d->steer_ifindex[vm->id] ||
		    (int)if_nametoindex(vm->ifname) != d->steer_ifindex[vm->id])
			continue;
		if (netdev_tap_steering(vm->ifname,
					bpf_program__fd(d->skel->progs.tap_steer), err,
					sizeof(err)))
			log_debug("vm %s: %s", vm->name, err);
	}
}

/* The VM goes: its tap (if it stays) gets tun's own queue choice back. */
void dp_tap_unsteer(struct xvd *d, int vm_id, int ifindex)
{
	char name[IF_NAMESIZE], err[XV_ERR_LEN];

	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !d->steer_ifindex[vm_id])
		return;
	if (d->steer_ifindex[vm_id] == ifindex && if_indextoname((unsigned)ifindex, name)) {
		if (netdev_tap_steering(name, -1, err, sizeof(err)))
			log_warn("%s", err);
		else
			log_debug("tap %s: steering program removed", name);
	}
	d->steer_ifindex[vm_id] = 0;
}

void dp_port_detach(int ifindex)
{
	bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	tc_ingress_detach(ifindex);
}

/*
 * libbpf's messages go to the log; a verifier log (thousands of lines when
 * a program is refused) goes to a file beside the control socket instead,
 * at debug level only, and one warning names that file.
 */
static char verifier_log_path[PATH_MAX];

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	static FILE *vlog;
	char buf[8192], *line, *save = NULL;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "-- BEGIN PROG LOAD LOG --") && verifier_log_path[0]) {
			if (vlog)
				fclose(vlog);
			vlog = fopen(verifier_log_path, "w");
			if (vlog)
				xv_log(XV_LOG_WARN, "a program was refused: verifier"
				       " log in %s", verifier_log_path);
		}
		if (vlog) {
			fprintf(vlog, "%s\n", line);
			xv_log(XV_LOG_DEBUG, "%s", line);
			if (strstr(line, "-- END PROG LOAD LOG --")) {
				fclose(vlog);
				vlog = NULL;
			}
			continue;
		}
		xv_log(level == LIBBPF_WARN ? XV_LOG_WARN : XV_LOG_DEBUG, "%s",
		       line);
	}
	return 0;
}

/*
 * What the kernel offers decides how the data path is built: the metadata
 * as XDP metadata or inline in the frame (bpf/meta.h).  Only a loss nothing
 * replaces stops the start, in one line that names it.
 */
static int choose_features(struct xvd *d, char *err, size_t errlen)
{
	char absent[512] = "";
	size_t n = 0;

	for (int f = 0; f < XV_FEAT_MAX; f++)
		if (!xv_feature_usable(&d->feat, f) && n < sizeof(absent))
			n += (size_t)snprintf(absent + n, sizeof(absent) - n, " %s%s",
					      xv_feature_name(f),
					      d->feat.present[f] ? " (disabled)" : "");
	if (absent[0])
		log_info("kernel features absent:%s (xvnetctl status says what is"
			 " used instead)", absent);
	if (xv_feature_usable(&d->feat, XV_FEAT_XDP_META)) {
		d->meta_at = XVNET_META_HEAD;
	} else if (xv_feature_usable(&d->feat, XV_FEAT_XDP_HEAD)) {
		d->meta_at = XVNET_META_INLINE;
		log_info("xdp_meta absent: per-frame metadata travels inline, in"
			 " a tagged prefix");
	} else {
		return ERR("kernel: XDP programs can use neither"
			   " bpf_xdp_adjust_meta (%s) nor bpf_xdp_adjust_head (%s):"
			   " xvnet needs one of them; use a kernel that allows it",
			   d->feat.why[XV_FEAT_XDP_META][0] ? d->feat.why[XV_FEAT_XDP_META] : "disabled",
			   d->feat.why[XV_FEAT_XDP_HEAD][0] ? d->feat.why[XV_FEAT_XDP_HEAD] : "disabled");
	}
	return 0;
}

/* Counting failed redirects is worth having, not worth failing a start.
 * Both tracepoints or neither: half the failures counted would read as
 * all of them. */
static void attach_redirect_err(struct xvd *d)
{
	const char *tp = "xdp:xdp_redirect_err";

	if (!bpf_program__autoload(d->skel->progs.redirect_err))
		return;
	d->redirect_link = bpf_program__attach(d->skel->progs.redirect_err);
	if (d->redirect_link) {
		tp = "xdp:xdp_devmap_xmit";
		d->devmap_link = bpf_program__attach(d->skel->progs.devmap_xmit_err);
	}
	if (!d->redirect_link || !d->devmap_link) {
		snprintf(d->feat.why[XV_FEAT_REDIRECT_TRACE],
			 sizeof(d->feat.why[XV_FEAT_REDIRECT_TRACE]),
			 "attach to %s: %s", tp, strerror(errno));
		d->feat.present[XV_FEAT_REDIRECT_TRACE] = false;
		bpf_link__destroy(d->redirect_link);
		d->redirect_link = NULL;
		log_warn("failed redirects not counted: %s",
			 d->feat.why[XV_FEAT_REDIRECT_TRACE]);
	}
}

void dp_redirect_errors(struct xvd *d, int vm_id, dp_redirect_err_fn fn,
			void *ctx)
{
	struct xvnet_redirect_err_key k, next;
	int ncpus = libbpf_num_possible_cpus();
	__u64 *pc = calloc(ncpus > 0 ? (size_t)ncpus : 1, sizeof(*pc));
	int more = pc && !bpf_map_get_next_key(d->m.redirect_err, NULL, &next);

	while (more) {
		__u64 sum = 0;

		k = next;
		more = !bpf_map_get_next_key(d->m.redirect_err, &k, &next);
		if (k.vm_id != (__u32)vm_id ||
		    bpf_map_lookup_elem(d->m.redirect_err, &k, pc))
			continue;
		for (int c = 0; c < ncpus; c++)
			sum += pc[c];
		fn(ctx, k.dir == XVNET_DIR_OUT, (int)k.err, sum);
	}
	free(pc);
}

int dp_start(struct xvd *d, char *err, size_t errlen)
{
	char *slash;

	snprintf(verifier_log_path, sizeof(verifier_log_path), "%s", d->socket_path);
	slash = strrchr(verifier_log_path, '/');
	snprintf(slash ? slash + 1 : verifier_log_path,
		 sizeof(verifier_log_path) - (size_t)(slash ? slash + 1 - verifier_log_path : 0),
		 "xvnetd-verifier.log");
	libbpf_set_print(libbpf_log);
	d->link_fd = -1;
	if (xv_features_probe(&d->feat, err, errlen) || choose_features(d, err, errlen))
		return -1;
	d->ncpus = libbpf_num_possible_cpus();
	if (d->ncpus <= 0)
		return ERR("cannot count possible CPUs");
	d->nic_ifindex = (int)if_nametoindex(d->cfg.nic);
	if (!d->nic_ifindex)
		return ERR("nic: '%s' does not exist", d->cfg.nic);
	if (mount_bpffs(err, errlen))
		return -1;
	if (mkdir(xv_pin_dir, 0700) && errno != EEXIST)
		return ERR("mkdir %s: %s", xv_pin_dir, strerror(errno));
	if (open_and_load(d, err, errlen)) {
		if (!xv_feature_usable(&d->feat, XV_FEAT_REDIRECT_TRACE))
			return -1;
		/* the one program the data path can do without */
		log_warn("%s: loading again without redirect_err and devmap_xmit_err", err);
		nic_rx__destroy(d->skel);
		d->skel = NULL;
		d->feat.present[XV_FEAT_REDIRECT_TRACE] = false;
		snprintf(d->feat.why[XV_FEAT_REDIRECT_TRACE],
			 sizeof(d->feat.why[XV_FEAT_REDIRECT_TRACE]),
			 "the kernel refused the tracing program");
		if (open_and_load(d, err, errlen))
			return -1;
	}
	/* adopted slots that hash by tables, without the map that held them
	 * (its pin removed while xvnetd was down): the new map gets them before
	 * the nic_rx that reads it is attached */
	if (d->maps_adopted && d->rss_tables_new) {
		long n = tbl_rss_tables_rebuild(d);

		if (n < 0)
			return ERR("%s: %s", XVNET_MAP_RSS_TABLES, strerror(errno));
		if (n)
			log_info("%s made anew: %ld VM slots' RSS tables written from their keys",
				 XVNET_MAP_RSS_TABLES, n);
	}
	if (set_uplink(d, err, errlen) || attach_xdp(d, err, errlen) ||
	    attach_tc(d, err, errlen))
		return -1;
	attach_redirect_err(d);
	/* pins of an xvnetd before xvnet_flows4: once this nic_rx runs, the
	 * one that looks for IPv4 flows in their own maps (only then: the walk
	 * reads every IPv6 flow) */
	if (d->maps_adopted && d->flows4_new) {
		unsigned long n = ft_move_ipv4(d);

		if (n)
			log_info("%lu IPv4 flows moved from %s and %s to %s and %s", n,
				 XVNET_MAP_FLOWS_CFG, XVNET_MAP_FLOWS, XVNET_MAP_FLOWS4_CFG,
				 XVNET_MAP_FLOWS4);
	}
	return 0;
}

void dp_close(struct xvd *d)
{
	bpf_link__destroy(d->redirect_link);   /* counting stops with xvnetd */
	d->redirect_link = NULL;
	bpf_link__destroy(d->devmap_link);
	d->devmap_link = NULL;
	if (d->link_fd >= 0)
		close(d->link_fd);      /* the pin keeps the link alive */
	d->link_fd = -1;
	nic_rx__destroy(d->skel);   /* pins keep maps; tc keeps nic_flood */
	d->skel = NULL;
}

int dp_teardown(const char *nic)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int ifindex = nic && nic[0] ? (int)if_nametoindex(nic) : 0;
	int fd = bpf_obj_get(dp_link_pin()), rc = 0;
	DIR *dir;
	struct dirent *de;

	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_XDP && !ifindex)
			ifindex = (int)info.xdp.ifindex;
		if (bpf_link_detach(fd) && errno != ENOLINK)
			log_warn("detach XDP link: %s", strerror(errno));
		close(fd);
		log_info("nic_rx detached");
	}
	if (ifindex) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XV_TC_HANDLE,
			    .priority = XV_TC_PRIO);
		int r = bpf_tc_detach(&hook, &opts);

		if (r == 0)
			log_info("nic_flood removed from tc ingress");
		else if (r != -ENOENT && r != -EINVAL)
			log_warn("tc detach: %s", strerror(-r));
		hook.attach_point = BPF_TC_EGRESS;
		opts.prog_id = 0;
		r = bpf_tc_detach(&hook, &opts);
		if (r == 0)
			log_info("nic_egress removed from tc egress");
		else if (r != -ENOENT && r != -EINVAL)
			log_warn("tc detach (egress): %s", strerror(-r));
	}
	dir = opendir(xv_pin_dir);
	if (dir) {
		while ((de = readdir(dir))) {
			char path[512];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", xv_pin_dir,
				 de->d_name);
			if (unlink(path)) {
				log_warn("unlink %s: %s", path, strerror(errno));
				rc = -1;
			}
		}
		closedir(dir);
		if (rmdir(xv_pin_dir)) {
			log_warn("rmdir %s: %s", xv_pin_dir, strerror(errno));
			rc = -1;
		} else {
			log_info("removed %s", xv_pin_dir);
		}
	}
	return rc;
}

const char *dp_xdp_mode(const struct xvd *d)
{
	switch (xdp_attached_mode(d->nic_ifindex)) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "none";
	}
}

void dp_info(const struct xvd *d, struct dp_info *out)
{
	struct bpf_link_info li = { 0 };
	struct bpf_prog_info pi = { 0 };
	__u32 len = sizeof(li);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = d->nic_ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tco, .handle = XV_TC_HANDLE,
		    .priority = XV_TC_PRIO);

	*out = (struct dp_info){ 0 };
	if (d->link_fd >= 0 && !bpf_obj_get_info_by_fd(d->link_fd, &li, &len)) {
		out->has_link = true;
		out->link_id = li.id;
		out->prog_id = li.prog_id;
	}
	len = sizeof(pi);
	if (d->skel && !bpf_obj_get_info_by_fd(
		    bpf_program__fd(d->skel->progs.nic_flood), &pi, &len)) {
		out->has_flood_prog = true;
		out->flood_prog_id = pi.id;
	}
	out->tc_ingress = bpf_tc_query(&hook, &tco) == 0;
}

/* --teardown: each VM's port deleted when xvnetd made it, else left
 * without xvnet's programs. */
int dp_teardown_ports(const struct xvd_config *cfg)
{
	char err[XV_ERR_LEN];
	int rc = 0;

	for (size_t i = 0; i < cfg->n_vms; i++) {
		const struct vm_conf *vm = &cfg->vms[i];

		if (!vm->owned) {       /* adopted: keep it, without our programs */
			int ifindex = (int)if_nametoindex(vm->ifname);

			if (ifindex)
				dp_port_detach(ifindex);
			/* and without tun's steering program (dp_tap_steer) */
			if (ifindex && vm->port_kind == XVNET_PORT_TAP && vm->queues > 1 &&
			    netdev_tap_steering(vm->ifname, -1, err, sizeof(err)))
				log_warn("%s", err);
			continue;
		}
		if (netdev_delete(vm->ifname, err, sizeof(err))) {
			log_warn("%s", err);
			rc = -1;
		} else {
			log_info("deleted port %s of vm %s", vm->ifname, vm->name);
		}
	}
	return rc;
}
