// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm move: a running VM switched between ports (tap, veth, xsk) with no
 * frame lost in xvnet, none duplicated, order kept within a flow: dynamic
 * network interface switching (DNIS, docs/dnis.md).  A state machine:
 *
 *   prepare  the new port made (or adopted), its programs attached, the VM
 *            known on it (xvnet_port_vm), xsk sockets in xvnet_xsks, and
 *            the new device in the VM's free DEVMAP bank; nic_rx does not
 *            look at any of it yet.
 *   switch   one write of the VM slot: port_sel names the new bank and kind
 *            in one word that deliver() reads once per frame (maps/
 *            xvnet_maps.h), so a frame goes wholly to one port.
 *   commit   an RCU grace period (every nic_rx run that read the old slot
 *            has finished, its redirects flushed), the old port's queue
 *            drained, the slot written back in its plain form (bank 0 =
 *            the new device, port_sel 0), the old port released.
 *   abort    (any failure before the switch) the new port's pieces undone;
 *            the VM never left the old port.
 *
 * The record (<state dir>/move.state) is written before the prepare starts
 * and at each phase; the pinned slot says whether the switch happened.  A
 * daemon that stops mid-way finishes the move at start (switched) or undoes
 * it (not switched) before the reconcile: one side, never half of both.
 *
 * The kernel side only, in plain C: the vm.move request (its options, the
 * new port's settings) and its JSON reply are loader/api/vm_move.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lib/err.h"
#include "loader/kern/coalesce.h"
#include "loader/kern/commit.h"
#include "loader/kern/datapath.h"
#include "loader/kern/log.h"
#include "loader/kern/move.h"
#include "loader/kern/netdev.h"
#include "loader/kern/rescue.h"
#include "loader/kern/vhostsup.h"
#include "loader/kern/tables.h"
#include "loader/kern/xsk.h"


#define MOVE_FILE           "move.state"
#define DRAIN_STEP_US       2000    /* old port's counter sampled this often */
#define DRAIN_QUIET_STEPS   3       /* ... unchanged this many times: drained */
#define DRAIN_MAX_US        500000  /* a reader that never reads: give up */

static const char *const phase_names[] = {
	[MV_PREPARING] = "preparing", [MV_PREPARED] = "prepared",
	[MV_SWITCHED] = "switched",
};

const char *move_phase_name(enum move_phase p)
{
	return p >= MV_PREPARING && p <= MV_SWITCHED ? phase_names[p] : "?";
}

static void rec_path(const struct xvd *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" MOVE_FILE, d->state_dir);
}

uint64_t move_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* Written whole (temp file, fsync, rename): a crash leaves the old record
 * or the new one. */
static int rec_write(struct xvd *d, const struct move_rec *r, char *err,
		     size_t errlen)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
	FILE *f;

	rec_path(d, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return ERR("%.200s: %s", tmp, strerror(errno));
	fprintf(f, "# xvnetd: a vm move in progress (loader/kern/move.c)\n"
		"phase %s\nbank %d\nold-ifindex %d\nnew-ifindex %d\nold ",
		phase_names[r->phase], r->bank_b, r->old_ifindex, r->new_ifindex);
	vm_conf_format(&r->old, f);
	fputs("new ", f);
	vm_conf_format(&r->new, f);
	if (fflush(f) || fsync(fileno(f)) || fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return ERR("%.200s: %s", path, strerror(errno));
	}
	return 0;
}

static void rec_remove(struct xvd *d)
{
	char path[PATH_MAX + 32];

	rec_path(d, path, sizeof(path));
	unlink(path);
}

/* One "vm ..." line through the config parser (what the state file uses). */
static int parse_vm_line(const char *nic, const char *line, struct vm_conf *out,
			 char *err, size_t errlen)
{
	struct xvd_config c;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r = -1;

	if (!f)
		return ERR("out of memory");
	fprintf(f, "nic %s\n%s", nic, line);
	fclose(f);
	f = fmemopen(text, len, "r");
	config_init(&c);
	if (f && config_parse_stream(f, MOVE_FILE, &c, err, errlen) == 0) {
		if (c.n_vms == 1) {
			*out = c.vms[0];
			r = 0;
		} else {
			snprintf(err, errlen, "no vm line");
		}
		config_free(&c);
	}
	if (f)
		fclose(f);
	free(text);
	return r;
}

/* 1: a record read, 0: none, -1: unreadable (err says why). */
static int rec_read(struct xvd *d, struct move_rec *r, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], line[4096];
	bool have_old = false, have_new = false;
	FILE *f;

	rec_path(d, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : ERR("%.200s: %s", path, strerror(errno));
	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		char word[32];
		int n;

		if (sscanf(line, "phase %31s", word) == 1) {
			for (int p = MV_PREPARING; p <= MV_SWITCHED; p++)
				if (!strcmp(word, phase_names[p]))
					r->phase = (enum move_phase)p;
		} else if (sscanf(line, "bank %d", &n) == 1) {
			r->bank_b = n;
		} else if (sscanf(line, "old-ifindex %d", &n) == 1) {
			r->old_ifindex = n;
		} else if (sscanf(line, "new-ifindex %d", &n) == 1) {
			r->new_ifindex = n;
		} else if (!strncmp(line, "old ", 4)) {
			if (parse_vm_line(d->cfg.nic, line + 4, &r->old, err, errlen))
				break;
			have_old = true;
		} else if (!strncmp(line, "new ", 4)) {
			if (parse_vm_line(d->cfg.nic, line + 4, &r->new, err, errlen))
				break;
			have_new = true;
		}
	}
	fclose(f);
	if (!r->phase || !have_old || !have_new)
		return err[0] ? -1 : ERR("%.200s: incomplete", path);
	return 1;
}

/* A test hook: XVNETD_MOVE_CRASH=PHASE kills the daemon right after that
 * phase is recorded, as a crash or a kill -9 would (test_xvnet_dnis). */
static void crash_point(enum move_phase p)
{
	const char *at = getenv("XVNETD_MOVE_CRASH");

	if (at && !strcmp(at, phase_names[p])) {
		log_warn("XVNETD_MOVE_CRASH=%s: stopping here", at);
		raise(SIGKILL);
	}
}

/*
 * Every CPU has left the RCU read-side sections it was in: XDP programs run
 * in one (NAPI, bh disabled), and a redirect is flushed before it ends, so
 * afterwards no frame that read the old slot is still on its way.
 * MEMBARRIER_CMD_GLOBAL is synchronize_rcu() on a kernel without nohz_full;
 * where it is refused, a sleep far longer than a NAPI poll stands in.
 */
static void rcu_wait(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
		usleep(20000);
}

static uint64_t port_counter(const char *ifname)
{
	char path[128], buf[32] = "";
	uint64_t v = 0;
	int fd;

	/* tap: tun counts tx when the reader (the VMM) takes the frame;
	 * veth: the host end's tx is what its peer received */
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_packets",
		 ifname);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtoull(buf, NULL, 10);
		close(fd);
	}
	return v;
}

/* Until the old port's consumer side stops moving: what was queued to it
 * before the switch has been taken.  Returns how many it took meanwhile. */
static uint64_t drain(const struct vm_conf *old, bool *timed_out)
{
	uint64_t start = port_counter(old->ifname), last = start, t0 = move_now_us();
	int quiet = 0;

	*timed_out = false;
	if (old->port_kind == XVNET_PORT_XSK)
		return 0;   /* its consumer's rings are its own; the grace covers xvnet */
	if (old->fallback)
		return 0;   /* the host stack took each frame within its nic_rx run */
	while (quiet < DRAIN_QUIET_STEPS) {
		uint64_t v;

		usleep(DRAIN_STEP_US);
		v = port_counter(old->ifname);
		quiet = v == last ? quiet + 1 : 0;
		last = v;
		if (move_now_us() - t0 > DRAIN_MAX_US) {
			*timed_out = true;
			break;
		}
	}
	return last - start;
}

static int dev_bank(const struct xvd *d, int bank_b)
{
	return bank_b ? d->m.ports_b : d->m.ports;
}

/* Detach xvnet from a port it no longer delivers to; delete the device
 * when xvnetd made it and no VMM holds it. */
static void port_release(struct xvd *d, const struct vm_conf *pc, int ifindex,
			 bool may_delete)
{
	char why[XV_ERR_LEN];
	__u32 key = (__u32)ifindex;

	if (ifindex > 0) {
		bpf_map_delete_elem(d->m.port_vm, &key);
		dp_port_detach(ifindex);
		dp_tap_unsteer(d, pc->id, ifindex);
	}
	if (!may_delete || !pc->owned)
		return;
	if (netdev_tap_in_use(pc)) {
		if (d->n_release_later < (int)(sizeof(d->release_later) /
					       sizeof(d->release_later[0]))) {
			snprintf(d->release_later[d->n_release_later++], XV_IFNAME_MAX + 1, "%s",
				 pc->ifname);
			log_info("vm %s: tap %s left in place while a VMM holds it"
				 " (deleted once it lets go)", pc->name, pc->ifname);
		} else {
			log_warn("vm %s: tap %s left in place: a VMM holds it",
				 pc->name, pc->ifname);
		}
		return;
	}
	if (netdev_delete(pc->ifname, why, sizeof(why)))
		log_warn("vm %s: %s", pc->name, why);
}

/* Undo a prepare: the VM never left the old port. */
static void abort_prepare(struct xvd *d, const struct move_rec *r, bool may_delete)
{
	__u32 id = (__u32)r->new.id;

	bpf_map_delete_elem(dev_bank(d, r->bank_b), &id);
	if (r->new.port_kind == XVNET_PORT_XSK) {
		xskp_destroy(d, r->new.id);
		coal_vm_stop(d, r->new.id);
	}
	if (r->new_ifindex > 0 && r->new_ifindex != r->old_ifindex)
		port_release(d, &r->new, r->new_ifindex, may_delete);
	else if (may_delete && r->new.owned)
		port_release(d, &r->new, 0, true);
	rec_remove(d);
}

/* The VM's slot in its plain form on the new port (port_sel 0, bank 0):
 * bank 0 takes the new device first, so every intermediate slot delivers
 * to the new port. */
static int normalize(struct xvd *d, const struct vm_conf *nv, int ifindex,
		     char *err, size_t errlen)
{
	__u32 id = (__u32)nv->id, v = (__u32)ifindex;

	/* the fallback has no device: tbl_vm_ensure writes the slot's plain
	 * form (kind none) first, then takes bank 0's entry out */
	if (ifindex && bpf_map_update_elem(d->m.ports, &id, &v, BPF_ANY))
		return ERR("%s[%u]: %s", XVNET_MAP_PORTS, id, strerror(errno));
	if (tbl_vm_ensure(d, nv, ifindex, err, errlen))
		return -1;
	bpf_map_delete_elem(d->m.ports_b, &id);
	return 0;
}

void move_port_stats(const struct xvd *d, int vm_id,
		     struct move_port_count out[XVNET_PORT_KINDS])
{
	struct xvnet_queue_stats *pc = calloc((size_t)d->ncpus, sizeof(*pc));

	memset(out, 0, sizeof(*out) * XVNET_PORT_KINDS);
	for (int k = XVNET_PORT_NONE; pc && k <= XVNET_PORT_XSK; k++) {
		__u32 idx = (__u32)(vm_id * XVNET_PORT_KINDS + k);

		if (!bpf_map_lookup_elem(d->m.port_stats, &idx, pc))
			for (int c = 0; c < d->ncpus; c++) {
				out[k].packets += pc[c].packets;
				out[k].bytes += pc[c].bytes;
			}
	}
	free(pc);
}

static void log_aborted(const struct move_rec *r, const char *err)
{
	log_warn("vm %s: move to %s %s aborted: %s (stays on %s %s)", r->old.name,
		 port_kind_name(r->new.port_kind), r->new.ifname, err,
		 port_kind_name(r->old.port_kind), r->old.ifname);
}

int move_switch(struct xvd *d, struct move_rec *r, uint64_t t0, uint64_t t_prep,
		struct move_report *rep, char *err, size_t errlen)
{
	char why[XV_ERR_LEN];
	struct xvnet_vm slot;
	uint64_t t_sw, t_drain;
	__u32 id = (__u32)r->old.id;
	struct rescue stranded = { 0 };
	bool slow;

	memset(rep, 0, sizeof(*rep));
	/* ---- switch: one slot write ---- */
	if (bpf_map_lookup_elem(d->m.vms, &id, &slot) ||
	    !(slot.flags & XVNET_VM_F_ACTIVE)) {
		snprintf(err, errlen, "%s[%u]: not live", XVNET_MAP_VMS, id);
		goto abort;
	}
	slot.port_sel = XVNET_PORT_SEL(r->bank_b, r->new.port_kind);
	slot.ifindex = (__u32)r->new_ifindex;
	if (bpf_map_update_elem(d->m.vms, &id, &slot, BPF_ANY)) {
		snprintf(err, errlen, "%s[%u]: %s", XVNET_MAP_VMS, id,
			 strerror(errno));
		goto abort;
	}
	t_sw = move_now_us();
	log_info("vm %s: switched from %s %s to %s %s", r->old.name,
		 port_kind_name(r->old.port_kind), r->old.ifname,
		 port_kind_name(r->new.port_kind), r->new.ifname);
	/*
	 * From here on the move completes, and the state says the new port.
	 * It is recorded after the kernel changed, not before as a commit
	 * does (loader/kern/commit.h): the switch cannot be taken back once
	 * a frame went to the new port (one flow on two ports, out of
	 * order).  If this save fails, the record written next (switched)
	 * finishes the move at the next start.
	 */
	if (xvd_commit_record_vm(d, &r->new, why, sizeof(why)))
		log_err("vm %s: state not saved: %s (a restart finishes the"
			" move from %s)", r->old.name, why, MOVE_FILE);
	r->phase = MV_SWITCHED;
	if (rec_write(d, r, why, sizeof(why)))
		log_err("vm %s: %s", r->old.name, why);
	crash_point(MV_SWITCHED);

	/* ---- commit ----  (the move's: kernel only, nothing left to record:
	 * the configuration says the new port, the move's record goes last) */
	rcu_wait();
	/* a reader that stopped (a migration's source) leaves its queue full:
	 * hold its queue files before it can exit with them */
	/* (not onto the fallback: no device to send them out of, and the host
	 * stack cannot be entered from here; a VMM still reading keeps its
	 * tap, detached, and reads them) */
	if (r->old.port_kind == XVNET_PORT_TAP && !r->new.fallback &&
	    !rescue_grab(&stranded, r->old.ifname))
		log_info("vm %s: frames left in %s cannot be moved on: %s",
			 r->old.name, r->old.ifname, stranded.why);
	rep->drained = drain(&r->old, &slow);
	if (slow)
		log_warn("vm %s: old port %s still taking frames after %d ms:"
			 " released anyway", r->old.name, r->old.ifname,
			 DRAIN_MAX_US / 1000);
	rep->rescued = rescue_move(&stranded, r->new_ifindex, r->old.mac);
	rep->rescued_own = stranded.own;
	rescue_release(&stranded);
	/* a vhost-user source leaves what came after QEMU stopped its rings on
	 * the AF_XDP rings (vhost/backend.c): its back-end lets go of them
	 * first, then those frames go on as a tap's stranded ones do */
	if (r->old.port_kind == XVNET_PORT_XSK && r->old.vhost) {
		vhost_release_vm(d, r->old.id);
		if (!r->new.fallback)
			rep->rescued += rescue_xsk(d, r->old.id, r->new_ifindex,
						   r->old.mac, &rep->rescued_own);
	}
	t_drain = move_now_us();
	if (normalize(d, &r->new, r->new_ifindex, why, sizeof(why)))
		log_err("vm %s: %s (the slot still names the new port)", r->old.name, why);
	if (r->old.port_kind == XVNET_PORT_XSK)
		coal_vm_stop(d, r->old.id);
	port_release(d, &r->old, r->old_ifindex, true);
	rec_remove(d);
	log_info("vm %s: moved to %s %s (prepare %llu us, switch %llu us, drain"
		 " %llu us, %llu frames drained, %llu stranded frames moved on)",
		 r->new.name, port_kind_name(r->new.port_kind), r->new.ifname,
		 (unsigned long long)(t_prep - t0), (unsigned long long)(t_sw - t_prep),
		 (unsigned long long)(t_drain - t_sw), (unsigned long long)rep->drained,
		 (unsigned long long)rep->rescued);
	rep->prepare_us = t_prep - t0;
	rep->switch_us = t_sw - t_prep;
	rep->drain_us = t_drain - t_sw;
	rep->commit_us = move_now_us() - t_sw;
	return 0;
abort:
	log_aborted(r, err);
	abort_prepare(d, r, true);
	return MOVE_ABORTED;
}

/* Is ifname a port again: a VM's, or a pending move's new one? */
static bool port_named(struct xvd *d, const char *ifname)
{
	char err[XV_ERR_LEN];
	struct move_rec r;

	for (size_t i = 0; i < d->cfg.n_vms; i++)
		if (!strcmp(d->cfg.vms[i].ifname, ifname))
			return true;
	return move_pending(d, &r, err, sizeof(err)) == 1 && !strcmp(r.new.ifname, ifname);
}

void move_release_tick(struct xvd *d)
{
	char why[XV_ERR_LEN];

	for (int i = 0; i < d->n_release_later; i++) {
		struct vm_conf t = { .port_kind = XVNET_PORT_TAP };
		bool drop = !if_nametoindex(d->release_later[i]);

		snprintf(t.ifname, sizeof(t.ifname), "%s", d->release_later[i]);
		if (!drop && port_named(d, t.ifname)) {
			drop = true;    /* a port again: not ours to delete */
		} else if (!drop && !netdev_tap_in_use(&t)) {
			if (netdev_delete(t.ifname, why, sizeof(why)))
				log_warn("%s", why);
			else
				log_info("tap %s deleted: its VMM let go", t.ifname);
			drop = true;
		}
		if (drop) {
			memmove(d->release_later[i], d->release_later[i + 1],
				(size_t)(d->n_release_later - i - 1) * sizeof(d->release_later[0]));
			d->n_release_later--;
			i--;
		}
	}
}

void move_abort(struct xvd *d, const struct move_rec *r)
{
	abort_prepare(d, r, true);
	log_info("vm %s: prepared move to %s %s aborted on request: stays on %s %s",
		 r->old.name, port_kind_name(r->new.port_kind), r->new.ifname,
		 port_kind_name(r->old.port_kind), r->old.ifname);
}

int move_pending(struct xvd *d, struct move_rec *r, char *err, size_t errlen)
{
	return rec_read(d, r, err, errlen);
}

bool move_prepared_xsk(struct xvd *d, int vm_id, struct vm_conf *out)
{
	char err[XV_ERR_LEN];
	struct move_rec r;

	if (rec_read(d, &r, err, sizeof(err)) != 1 || r.phase != MV_PREPARED ||
	    r.old.id != vm_id || r.new.port_kind != XVNET_PORT_XSK)
		return false;
	*out = r.new;
	return true;
}

/*
 * The prepare changes no recorded configuration, so it is no commit
 * (loader/kern/commit.h): the new port stands beside the VM's, outside
 * d->cfg, until the switch.  Its record is move.state, written before
 * anything is made (a crash leaves what to undo), and its undo is
 * abort_prepare.
 */
int move_prepare(struct xvd *d, struct move_rec *r, char *err, size_t errlen)
{
	struct xvnet_vm slot;
	__u32 id = (__u32)r->old.id, v;

	r->phase = 0;
	r->new_ifindex = 0;
	if (bpf_map_lookup_elem(d->m.vms, &id, &slot) ||
	    !(slot.flags & XVNET_VM_F_ACTIVE))
		return ERR_RC(MOVE_REFUSED, "name: vm '%s' is not live in %s",
			      r->old.name, XVNET_MAP_VMS);
	r->old_ifindex = (int)if_nametoindex(r->old.ifname);
	/* the bank the old port is not in */
	r->bank_b = !((slot.port_sel & XVNET_PORT_SEL_VALID) &&
		      (slot.port_sel & XVNET_PORT_SEL_BANK_B));

	r->phase = MV_PREPARING;
	if (rec_write(d, r, err, errlen))
		return MOVE_REFUSED;
	if (r->new.fallback)    /* no device, no bank: the switch passes frames */
		goto prepared;
	if (netdev_check_port(&r->new, err, errlen) ||
	    netdev_ensure_port(&r->new, &r->new_ifindex, err, errlen))
		goto abort;
	v = (__u32)r->new_ifindex;
	if (bpf_map_update_elem(d->m.port_vm, &v, &id, BPF_ANY)) {
		snprintf(err, errlen, "%s: %s", XVNET_MAP_PORT_VM, strerror(errno));
		goto abort;
	}
	if (dp_port_attach(d, r->new_ifindex, r->new.port_kind == XVNET_PORT_TAP,
			   err, errlen) ||
	    dp_tap_steer(d, &r->new, r->new_ifindex, err, errlen))
		goto abort;
	crash_point(MV_PREPARING);      /* the new port half made */
	if (r->new.port_kind == XVNET_PORT_XSK &&
	    (xskp_ensure(d, &r->new, err, errlen) ||
	     coal_vm_ensure(d, &r->new, err, errlen)))
		goto abort;
	if (bpf_map_update_elem(dev_bank(d, r->bank_b), &id, &v, BPF_ANY)) {
		snprintf(err, errlen, "%s[%u]: %s", r->bank_b ? XVNET_MAP_PORTS_B :
			 XVNET_MAP_PORTS, id, strerror(errno));
		goto abort;
	}
prepared:
	r->phase = MV_PREPARED;
	if (rec_write(d, r, err, errlen))
		goto abort;
	crash_point(MV_PREPARED);
	return 0;
abort:
	log_aborted(r, err);
	abort_prepare(d, r, true);
	return MOVE_ABORTED;
}

int move_recover(struct xvd *d)
{
	char err[XV_ERR_LEN] = "", path[PATH_MAX + 32];
	struct move_rec r;
	struct xvnet_vm slot;
	struct vm_conf *vm;
	bool switched;
	__u32 id;
	int rc = rec_read(d, &r, err, sizeof(err));

	if (rc == 0)
		return 0;
	rec_path(d, path, sizeof(path));
	if (rc < 0) {
		log_err("%s: %s: ignored", path, err);
		rec_remove(d);
		return -1;
	}
	vm = config_find_vm_id(&d->cfg, r.old.id);
	if (!vm || strcmp(vm->name, r.old.name)) {
		log_warn("%s: vm %s is no longer configured: record dropped", path,
			 r.old.name);
		rec_remove(d);
		return 0;
	}
	id = (__u32)r.old.id;
	/* the pinned slot is the truth: it names the new bank and kind once
	 * the switch happened, whatever the record reached */
	switched = !bpf_map_lookup_elem(d->m.vms, &id, &slot) &&
		   (slot.flags & XVNET_VM_F_ACTIVE) &&
		   (slot.port_sel & XVNET_PORT_SEL_VALID) &&
		   !!(slot.port_sel & XVNET_PORT_SEL_BANK_B) == !!r.bank_b &&
		   XVNET_PORT_SEL_KIND(slot.port_sel) == r.new.port_kind;
	if (switched) {
		int nif = (int)if_nametoindex(r.new.ifname);

		if (xvd_commit_record_vm(d, &r.new, err, sizeof(err)))
			log_err("vm %s: %s", r.new.name, err);
		if ((nif > 0 || r.new.fallback) && normalize(d, vm, nif, err, sizeof(err)))
			log_err("vm %s: %s", r.new.name, err);
		port_release(d, &r.old, (int)if_nametoindex(r.old.ifname), true);
		log_info("vm %s: the move interrupted at '%s' finished: on %s %s",
			 r.new.name, phase_names[r.phase],
			 port_kind_name(r.new.port_kind), r.new.ifname);
	} else {
		int oif = (int)if_nametoindex(r.old.ifname);

		if (xvd_commit_record_vm(d, &r.old, err, sizeof(err)))
			log_err("vm %s: %s", r.old.name, err);
		r.new_ifindex = (int)if_nametoindex(r.new.ifname);
		/* a port still being made when it stopped: owned unknown, kept */
		abort_prepare(d, &r, r.phase >= MV_PREPARED);
		if ((oif > 0 || r.old.fallback) && normalize(d, vm, oif, err, sizeof(err)))
			log_err("vm %s: %s", r.old.name, err);
		log_info("vm %s: the move interrupted at '%s' undone: on %s %s",
			 r.old.name, phase_names[r.phase],
			 port_kind_name(r.old.port_kind), r.old.ifname);
	}
	rec_remove(d);
	return 0;
}
