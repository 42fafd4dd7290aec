// SPDX-License-Identifier: GPL-2.0-only
/* The vhost-user back-ends xvnetd runs: see loader/kern/vhostsup.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "lib/err.h"
#include "lib/vhost_stats.h"
#include "loader/kern/log.h"
#include "loader/kern/move.h"
#include "loader/kern/vhostsup.h"
#include "loader/kern/xsk.h"

#define VHOST_BIN "xvnet-vhost"
#define VHOST_ARGS 28
#define VHOST_STOP_MS 1000      /* SIGTERM, then SIGKILL */
#define VHOST_STEADY_MS 10000   /* ran this long: its exit was not a loop */
#define VHOST_RETRY_MAX_MS 30000

struct vhost_child {
	pid_t pid;
	char sig[1024];             /* what it was started with */
	char socket[XV_SOCK_PATH_MAX + 1];
	unsigned starts, fails;
	int last_exit;
	uint64_t started_ms, next_ms;
	int stats_fd;               /* memfd of the page below, -1: none */
	struct xv_vhost_stats *stats;   /* the back-end's counters */
};

/* The counters page a back-end gets as --stats-fd (lib/vhost_stats.h),
 * zeroed for each new process.  Without it the back-end still runs. */
static void stats_page(struct vhost_child *c)
{
	void *p;

	if (c->stats) {
		memset(c->stats, 0, XV_VHOST_STATS_SIZE);
		return;
	}
	c->stats_fd = memfd_create("xvnet-vhost-stats", MFD_CLOEXEC);
	if (c->stats_fd < 0 || ftruncate(c->stats_fd, XV_VHOST_STATS_SIZE) ||
	    (p = mmap(NULL, XV_VHOST_STATS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->stats_fd, 0)) == MAP_FAILED) {
		log_warn("vhost-user back-end counters: %s", strerror(errno));
		if (c->stats_fd >= 0)
			close(c->stats_fd);
		c->stats_fd = -1;
		return;
	}
	c->stats = p;
}

static void child_free(struct vhost_child *c)
{
	if (c->stats)
		munmap(c->stats, XV_VHOST_STATS_SIZE);
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	free(c);
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int vhost_socket_path(const struct xvd *d, const struct vm_conf *vm,
		      char *out, size_t outlen)
{
	char dir[PATH_MAX];
	int n;

	if (vm->vhost_socket[0])
		n = snprintf(out, outlen, "%s", vm->vhost_socket);
	else {
		/* beside the control socket: the run directory xvnetd made */
		snprintf(dir, sizeof(dir), "%s", d->socket_path);
		n = snprintf(out, outlen, "%s/%s.vhost", dirname(dir), vm->name);
	}
	return n < 0 || (size_t)n >= outlen || (size_t)n > XV_SOCK_PATH_MAX ? -1 : 0;
}

/* xvnet-vhost beside xvnetd (the build tree: both in build/bin), or in
 * ../bin (installed: xvnetd in sbin, xvnet-vhost in bin). */
static int backend_binary(char *out, size_t outlen)
{
	static const char *const rel[] = { "/" VHOST_BIN, "/../bin/" VHOST_BIN };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	dirname(self);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		int n = snprintf(out, outlen, "%s%s", self, rel[i]);

		if (n > 0 && (size_t)n < outlen && access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

/*
 * The back-end's command line.  Its socket is the VM's owner's (mode 0600),
 * or its group's too (0660), else root's alone; it drops to the owner, or
 * to nobody, once it holds the sockets: a process that reads guest-written
 * rings keeps no privilege.
 */
static int backend_argv(const struct xvd *d, const struct vm_conf *vm,
			const char *bin, const char *sock, char store[][64],
			const char *argv[VHOST_ARGS])
{
	int n = 0;

	argv[n++] = bin;
	argv[n++] = "--vm";
	argv[n++] = vm->name;
	argv[n++] = "--vhost-socket";
	argv[n++] = sock;
	argv[n++] = "-s";
	argv[n++] = d->socket_path;
	argv[n++] = "--socket-mode";
	argv[n++] = vm->has_group ? "0660" : "0600";
	if (vm->has_owner) {
		snprintf(store[0], 64, "%u", vm->owner_uid);
		argv[n++] = "--socket-owner";
		argv[n++] = store[0];
	}
	if (vm->has_group) {
		snprintf(store[1], 64, "%u", vm->group_gid);
		argv[n++] = "--socket-group";
		argv[n++] = store[1];
	}
	if (vm->has_owner || getpwnam("nobody")) {
		argv[n++] = "--user";
		argv[n++] = vm->has_owner ? vm->owner : "nobody";
	}
	snprintf(store[2], 64, "%d", (int)getpid());
	argv[n++] = "--parent-pid";
	argv[n++] = store[2];
	/* in argv, not only in xsk.get: a change restarts the back-end */
	if (vm->n_queue_cpus) {
		int k = 0;

		for (int c = 0; c < vm->n_queue_cpus; c++)
			k += snprintf(store[3] + k, (size_t)(64 - k), "%s%u", c ? "," : "",
				      vm->queue_cpus[c]);
		argv[n++] = "--queue-cpus";
		argv[n++] = store[3];
	}
	argv[n] = NULL;
	return n;
}

/* argv with --stats-fd 3 at the end (spawn puts the page there); not in
 * the signature: it is the same for every start. */
static void add_stats_fd(const char *argv[VHOST_ARGS])
{
	int n = 0;

	while (argv[n])
		n++;
	argv[n++] = "--stats-fd";
	argv[n++] = "3";
	argv[n] = NULL;
}

static void signature(const char *const argv[], uint64_t gen, char *out,
		      size_t outlen)
{
	size_t len = (size_t)snprintf(out, outlen, "%llu", (unsigned long long)gen);

	for (int i = 0; argv[i] && len < outlen; i++)
		len += (size_t)snprintf(out + len, outlen - len, " %s", argv[i]);
}

static pid_t spawn(const char *const argv[], int stats_fd)
{
	sigset_t none;
	pid_t pid = fork();
	int nul;

	if (pid)
		return pid;
	/* xvnetd blocks the signals its signalfd reads: the back-end must
	 * get SIGTERM; nothing of xvnetd's but stderr (the log) goes along */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
	}
	if (stats_fd >= 0 && stats_fd != 3)
		dup2(stats_fd, 3);      /* without O_CLOEXEC */
	else if (stats_fd == 3)
		fcntl(3, F_SETFD, 0);
	close_range(stats_fd >= 0 ? 4 : 3, ~0u, 0);
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "xvnetd: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void describe_exit(int st, char *out, size_t outlen)
{
	if (WIFEXITED(st))
		snprintf(out, outlen, "exited with %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, outlen, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(out, outlen, "ended (status %#x)", st);
}

static void reaped(const struct xvd *d, int id, struct vhost_child *c, int st,
		   uint64_t now)
{
	const struct vm_conf *vm = config_find_vm_id(&d->cfg, id);
	uint64_t delay;
	char how[48];

	c->pid = 0;
	c->last_exit = st;
	c->fails = now - c->started_ms >= VHOST_STEADY_MS ? 0 : c->fails + 1;
	/* at once after a steady run, then 0.2 s, doubling to 30 s */
	delay = c->fails ? 200u << (c->fails > 8 ? 8 : c->fails - 1) : 0;
	if (delay > VHOST_RETRY_MAX_MS)
		delay = VHOST_RETRY_MAX_MS;
	c->next_ms = now + delay;
	describe_exit(st, how, sizeof(how));
	log_warn("vm %s: vhost-user back-end %s; restart in %.1f s",
		 vm ? vm->name : "?", how, (double)delay / 1000.0);
}

static void stop_child(struct vhost_child *c)
{
	uint64_t t0 = now_ms();
	int st = -1;            /* -1: not reaped here (already gone) */

	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		while (waitpid(c->pid, &st, WNOHANG) == 0) {
			if (now_ms() - t0 >= VHOST_STOP_MS) {
				kill(c->pid, SIGKILL);
				waitpid(c->pid, &st, 0);
				break;
			}
			usleep(10000);
		}
		c->last_exit = st;
		c->pid = 0;
	}
	/* it unlinks it itself, unless it had dropped to a user who may not */
	if (c->socket[0])
		unlink(c->socket);
}

/* Reap the released back-ends that ended; end those past their time. */
static void linger_tick(struct xvd *d, uint64_t now)
{
	for (size_t i = 0; i < XVD_VHOST_LINGER; i++) {
		pid_t pid = d->vhost_linger[i].pid;

		if (!pid)
			continue;
		if (now >= d->vhost_linger[i].kill_ms)
			kill(pid, SIGKILL);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			d->vhost_linger[i].pid = 0;
	}
}

/* A released back-end on its own now: reaped (or ended) by linger_tick. */
static void linger_add(struct xvd *d, pid_t pid, uint64_t now)
{
	size_t i, oldest = 0;

	for (i = 0; i < XVD_VHOST_LINGER && d->vhost_linger[i].pid; i++)
		if (d->vhost_linger[i].kill_ms < d->vhost_linger[oldest].kill_ms)
			oldest = i;
	if (i == XVD_VHOST_LINGER) {
		/* no room: the oldest holds the VMM of the longest-done move */
		i = oldest;
		kill(d->vhost_linger[i].pid, SIGKILL);
		waitpid(d->vhost_linger[i].pid, NULL, 0);
	}
	d->vhost_linger[i].pid = pid;
	d->vhost_linger[i].kill_ms = now + (XV_VHOST_LINGER_S + 5) * 1000ull;
}

void vhost_release_vm(struct xvd *d, int vm_id)
{
	struct vhost_child *c = vm_id >= 0 && vm_id < XVNET_MAX_VMS ? d->vhost[vm_id] : NULL;
	uint64_t t0 = now_ms();
	int st;

	if (!c || c->pid <= 0)
		return;
	if (!c->stats) {
		stop_child(c);
		return;
	}
	kill(c->pid, SIGUSR1);
	while (!__atomic_load_n(&c->stats->released, __ATOMIC_ACQUIRE)) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
			c->last_exit = st;      /* gone: its sockets with it */
			c->pid = 0;
			return;
		}
		if (now_ms() - t0 >= VHOST_STOP_MS) {
			log_warn("vhost-user back-end %d did not hand its sockets back"
				 " within %d ms: stopped", (int)c->pid, VHOST_STOP_MS);
			stop_child(c);
			return;
		}
		usleep(1000);
	}
	linger_add(d, c->pid, now_ms());
	c->pid = 0;
}

/* prepared: a prepared move's new port (vhost-user) for VM id, or NULL */
static void sync_one(struct xvd *d, int id, const struct vm_conf *prepared, uint64_t now)
{
	const struct vm_conf *vm = prepared ? prepared : config_find_vm_id(&d->cfg, id);
	struct vhost_child *c = d->vhost[id];
	uint64_t gen = vm && vm->vhost ? xskp_generation(d, id) : 0;
	const char *argv[VHOST_ARGS];
	char store[4][64], bin[PATH_MAX], sock[XV_SOCK_PATH_MAX + 1], sig[1024];

	if (!gen) {     /* no such VM, not vhost-user, or no sockets yet */
		if (c) {
			stop_child(c);
			child_free(c);
			d->vhost[id] = NULL;
		}
		return;
	}
	if (vhost_socket_path(d, vm, sock, sizeof(sock))) {
		log_err("vm %s: vhost-user socket path too long", vm->name);
		return;
	}
	if (!c) {
		if (!(c = d->vhost[id] = calloc(1, sizeof(*c))))
			return;
		c->last_exit = -1;
		c->stats_fd = -1;
	}
	if (backend_binary(bin, sizeof(bin))) {
		if (now >= c->next_ms) {        /* said every 30 s, not every tick */
			log_err("vm %s: no %s beside xvnetd (nor in ../bin):"
				" vhost-user back-end not started", vm->name, VHOST_BIN);
			c->next_ms = now + VHOST_RETRY_MAX_MS;
		}
		return;
	}
	backend_argv(d, vm, bin, sock, store, argv);
	signature(argv, gen, sig, sizeof(sig));
	if (c->pid > 0 && strcmp(c->sig, sig)) {
		log_info("vm %s: vhost-user back-end restarted (its socket, owner,"
			 " queue-cpus or the VM's sockets changed)", vm->name);
		stop_child(c);
		c->fails = 0;
		c->next_ms = now;
	}
	if (c->pid > 0 || now < c->next_ms)
		return;
	if (c->socket[0] && strcmp(c->socket, sock))
		unlink(c->socket);
	snprintf(c->sig, sizeof(c->sig), "%s", sig);
	snprintf(c->socket, sizeof(c->socket), "%s", sock);
	stats_page(c);
	if (c->stats)
		add_stats_fd(argv);
	c->pid = spawn(argv, c->stats ? c->stats_fd : -1);
	if (c->pid < 0) {
		log_err("vm %s: vhost-user back-end: fork: %s", vm->name, strerror(errno));
		c->pid = 0;
		c->next_ms = now + 1000;
		return;
	}
	c->started_ms = now;
	c->starts++;
	log_info("vm %s: vhost-user back-end started (pid %d) on %s", vm->name,
		 (int)c->pid, sock);
}

void vhost_sync(struct xvd *d)
{
	uint64_t now = now_ms();
	static struct vm_conf next;     /* big: not on the stack */
	const struct vm_conf *prepared = NULL;
	int st;

	linger_tick(d, now);
	/* before, xvnetd may still fork into the background, and a back-end
	 * could not reach it yet */
	if (!d->serving)
		return;
	/* a move prepared onto a vhost-user port gets its back-end now: a
	 * migration's incoming VMM connects to it before the switch */
	for (int id = 0; !prepared && id < XVNET_MAX_VMS; id++) {
		const struct vm_conf *cv = d->xsk[id] ? config_find_vm_id(&d->cfg, id) : NULL;

		/* sockets for a VM whose port is not xsk: a prepared move's */
		if (cv && cv->port_kind != XVNET_PORT_XSK && move_prepared_xsk(d, id, &next) &&
		    next.vhost)
			prepared = &next;
	}
	for (int id = 0; id < XVNET_MAX_VMS; id++) {
		struct vhost_child *c = d->vhost[id];

		if (c && c->pid > 0 && waitpid(c->pid, &st, WNOHANG) == c->pid)
			reaped(d, id, c, st, now);
		if (c || d->xsk[id])
			sync_one(d, id, prepared && prepared->id == id ? prepared : NULL, now);
	}
}

void vhost_stop_all(struct xvd *d)
{
	for (size_t i = 0; i < XVD_VHOST_LINGER; i++) {
		struct vhost_child gone = { .pid = d->vhost_linger[i].pid };

		stop_child(&gone);
		d->vhost_linger[i].pid = 0;
	}
	for (int id = 0; id < XVNET_MAX_VMS; id++) {
		if (!d->vhost[id])
			continue;
		stop_child(d->vhost[id]);
		child_free(d->vhost[id]);
		d->vhost[id] = NULL;
	}
}

bool vhost_child_info(const struct xvd *d, int vm_id,
		      struct vhost_child_info *out)
{
	const struct vhost_child *c;
	uint64_t now = now_ms();

	memset(out, 0, sizeof(*out));
	out->last_exit = -1;
	if (vm_id < 0 || vm_id >= XVNET_MAX_VMS || !(c = d->vhost[vm_id]))
		return false;
	out->pid = c->pid;
	out->starts = c->starts;
	out->last_exit = c->last_exit;
	if (c->pid > 0)
		out->up_s = (double)(now - c->started_ms) / 1000.0;
	else
		out->retry_in_s = c->next_ms > now ? (double)(c->next_ms - now) / 1000.0 : 0;
	snprintf(out->socket, sizeof(out->socket), "%s", c->socket);
	if (c->pid > 0 && c->stats &&
	    __atomic_load_n(&c->stats->magic, __ATOMIC_ACQUIRE) == XV_VHOST_STATS_MAGIC) {
		out->has_counters = true;
#define XV_X_COPY(f) out->f = __atomic_load_n(&c->stats->f, __ATOMIC_RELAXED);
		XV_VHOST_COUNTERS(XV_X_COPY)
#undef XV_X_COPY
		out->queue_pairs = __atomic_load_n(&c->stats->queue_pairs, __ATOMIC_RELAXED);
		for (unsigned q = 0; q < XV_VHOST_STATS_QUEUES; q++)
			out->rxq[q] = __atomic_load_n(&c->stats->rxq[q], __ATOMIC_RELAXED);
	}
	return true;
}
