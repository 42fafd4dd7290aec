// SPDX-License-Identifier: GPL-2.0-only
/*
 * loader/kern/napi.c on a real veth pair of the test namespace, given NAPIs by a
 * native XDP program: the netdev genl family's numbers (each reply depends
 * on them being right), per-NAPI set and get, the device files as the
 * kernel pushes them into each NAPI, apply and restore, and the errors.
 *
 * sysfs shows the namespace that mounted it, not ours: the cases that need
 * the device files of our veth run in a child with its own mount namespace
 * and a fresh sysfs, and report through its exit status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tests/unit.h"
#include "loader/kern/napi.h"

#define N_QUEUES 2
#define NO_IFINDEX 999999

static struct {
	char a[IFNAMSIZ], b[IFNAMSIZ];  /* XDP on a; b has no NAPI */
	int ifa, ifb, prog_fd;
	uint32_t napi[N_QUEUES];
	int n_napi;
} T = { .prog_fd = -1 };

static const struct napi_knobs NEW = { 2, 50000 };

static int group_setup(void **state)
{
	/* r0 = XDP_PASS; exit: any native program makes veth run its NAPIs */
	struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char cmd[256];

	(void)state;
	snprintf(T.a, sizeof(T.a), "xnp%da", (int)getpid());
	snprintf(T.b, sizeof(T.b), "xnp%db", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "ip link add %s numrxqueues %d numtxqueues %d type veth peer"
		 " name %s numrxqueues %d numtxqueues %d && ip link set %s up"
		 " && ip link set %s up", T.a, N_QUEUES, N_QUEUES, T.b,
		 N_QUEUES, N_QUEUES, T.a, T.b);
	if (system(cmd) != 0) {
		fprintf(stderr, "napi: cannot create veth %s\n", T.a);
		return -1;
	}
	T.ifa = (int)if_nametoindex(T.a);
	T.ifb = (int)if_nametoindex(T.b);
	T.prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xnp_pass", "GPL", pass,
				  2, NULL);
	if (T.prog_fd < 0 ||
	    bpf_xdp_attach(T.ifa, T.prog_fd, XDP_FLAGS_DRV_MODE, NULL)) {
		fprintf(stderr, "napi: cannot attach XDP to %s\n", T.a);
		return -1;
	}
	T.n_napi = napi_ids_of_dev(T.ifa, T.napi, N_QUEUES);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[64];

	(void)state;
	if (T.prog_fd >= 0)
		close(T.prog_fd);
	snprintf(cmd, sizeof(cmd), "ip link del %s 2>/dev/null", T.a);
	if (system(cmd) != 0)
		fprintf(stderr, "napi: could not delete %s\n", T.a);
	return 0;
}

static void assert_knobs(const struct napi_knobs *got,
			 const struct napi_knobs *want)
{
	assert_int_equal(got->defer_hard_irqs, want->defer_hard_irqs);
	assert_int_equal(got->gro_flush_timeout_ns, want->gro_flush_timeout_ns);
}

static bool knobs_eq(const struct napi_knobs *x, const struct napi_knobs *y)
{
	return x->defer_hard_irqs == y->defer_hard_irqs &&
	       x->gro_flush_timeout_ns == y->gro_flush_timeout_ns;
}

/* ---- in a child that sees our namespace's sysfs ------------------------ */

#define CHECK(c)                                                             \
	do {                                                                 \
		if (!(c)) {                                                  \
			fprintf(stderr, "%s:%d: in the sysfs child: %s\n",   \
				__FILE__, __LINE__, #c);                     \
			return 1;                                            \
		}                                                            \
	} while (0)

static int in_own_sysfs(int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("sysfs", "/sys", "sysfs", 0, NULL)) {
			perror("napi: own sysfs");
			_exit(2);
		}
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Read without napi_dev_get: the test must not trust the code it tests. */
static bool sysfs_knobs(const char *dev, struct napi_knobs *k)
{
	char path[128];
	unsigned long long v[2];
	const char *file[2] = { "napi_defer_hard_irqs", "gro_flush_timeout" };

	for (int i = 0; i < 2; i++) {
		FILE *f;
		int n;

		snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, file[i]);
		f = fopen(path, "re");
		if (!f)
			return false;
		n = fscanf(f, "%llu", &v[i]);
		fclose(f);
		if (n != 1)
			return false;
	}
	k->defer_hard_irqs = (uint32_t)v[0];
	k->gro_flush_timeout_ns = v[1];
	return true;
}

static bool all_napis_are(const struct napi_knobs *want)
{
	struct napi_knobs got;

	for (int i = 0; i < T.n_napi; i++)
		if (napi_get(T.napi[i], &got) || !knobs_eq(&got, want))
			return false;
	return true;
}

/*
 * The kernel copies a device-file write into each NAPI: reading it back per
 * NAPI proves the GET attribute numbers by a path that does not use them.
 */
static int child_device_write_reaches_napis(void)
{
	const struct napi_knobs k = { 3, 7000 }, wide = { 9, 5000000000ULL };
	struct napi_knobs old, got;

	CHECK(sysfs_knobs(T.a, &old));
	CHECK(!knobs_eq(&old, &k));
	CHECK(napi_dev_set(T.a, &k) == 0);
	CHECK(sysfs_knobs(T.a, &got) && knobs_eq(&got, &k));
	CHECK(napi_dev_get(T.a, &got) == 0 && knobs_eq(&got, &k));
	CHECK(all_napis_are(&k));
	/* a timeout past 32 bits: the kernel then sends the uint on 8 bytes */
	CHECK(napi_dev_set(T.a, &wide) == 0);
	CHECK(all_napis_are(&wide));
	CHECK(napi_dev_set(T.a, &old) == 0);
	CHECK(sysfs_knobs(T.a, &got) && knobs_eq(&got, &old));
	CHECK(all_napis_are(&old));
	return 0;
}

static int child_apply_restore(void)
{
	char err[256] = "";
	struct napi_saved *s = NULL;
	struct napi_knobs old_dev, old_napi, got;
	uint32_t qnapi[N_QUEUES];
	bool linked = true;

	CHECK(sysfs_knobs(T.a, &old_dev));
	CHECK(napi_get(T.napi[0], &old_napi) == 0);
	CHECK(!knobs_eq(&old_dev, &NEW) && !knobs_eq(&old_napi, &NEW));
	for (unsigned q = 0; q < N_QUEUES; q++) {
		int r = napi_id_of_rx_queue(T.ifa, q, &qnapi[q]);

		CHECK(r == 0 || r == -ENOENT);
		linked = linked && r == 0;
	}

	CHECK(napi_apply_rx_queues(T.a, (1u << N_QUEUES) - 1, true, &NEW, &s, err,
				   sizeof(err)) == 0);
	CHECK(s != NULL);
	/* per NAPI exactly when every queue names its NAPI */
	CHECK(strcmp(napi_saved_scope(s), linked ? "napi" : "device") == 0);
	if (linked) {
		for (unsigned q = 0; q < N_QUEUES; q++)
			CHECK(napi_get(qnapi[q], &got) == 0 &&
			      knobs_eq(&got, &NEW));
		CHECK(sysfs_knobs(T.a, &got) && knobs_eq(&got, &old_dev));
	} else {
		CHECK(sysfs_knobs(T.a, &got) && knobs_eq(&got, &NEW));
		CHECK(all_napis_are(&NEW));
	}

	napi_restore(s);
	CHECK(sysfs_knobs(T.a, &got) && knobs_eq(&got, &old_dev));
	CHECK(all_napis_are(&old_napi));
	return 0;
}

/* napi_netlink absent or disabled (--without): the device files, even
 * where every queue names its NAPI, and put back as found.  (A veth on
 * 6.18 names none, so there this takes the device files either way: the
 * case tells the two apart only where the queues are linked.) */
static int child_apply_without_netlink(void)
{
	char err[256] = "";
	struct napi_saved *s = NULL;
	struct napi_knobs old_dev, old_napi, got;

	CHECK(sysfs_knobs(T.a, &old_dev));
	CHECK(napi_get(T.napi[0], &old_napi) == 0);
	CHECK(napi_apply_rx_queues(T.a, (1u << N_QUEUES) - 1, false, &NEW, &s,
				   err, sizeof(err)) == 0);
	CHECK(s != NULL);
	CHECK(strcmp(napi_saved_scope(s), "device") == 0);
	CHECK(sysfs_knobs(T.a, &got) && knobs_eq(&got, &NEW));
	napi_restore(s);
	CHECK(sysfs_knobs(T.a, &got) && knobs_eq(&got, &old_dev));
	CHECK(all_napis_are(&old_napi));
	return 0;
}

/* ---- cases -------------------------------------------------------------- */

/* Wrong command numbers give -EOPNOTSUPP (not listed by the kernel), wrong
 * attribute numbers -EINVAL (required attribute missing): only the right
 * ones get these answers. */
static void test_genl_numbers(void **state)
{
	uint32_t id, ids[4];
	int r;

	(void)state;
	r = napi_id_of_rx_queue(T.ifa, 0, &id);
	assert_true(r == 0 || r == -ENOENT);
	assert_int_equal(napi_id_of_rx_queue(T.ifa, N_QUEUES, &id), -EINVAL);
	assert_int_equal(napi_id_of_rx_queue(NO_IFINDEX, 0, &id), -ENODEV);
	/* one NAPI per RX queue once XDP runs; none on the peer, which has
	 * neither XDP nor GRO: the ifindex filter is understood */
	assert_int_equal(T.n_napi, N_QUEUES);
	assert_int_equal(napi_ids_of_dev(T.ifb, ids, 4), 0);
	assert_int_equal(napi_ids_of_dev(NO_IFINDEX, ids, 4), -ENODEV);
	assert_int_equal(napi_get(0, &(struct napi_knobs){ 0 }), -ENOENT);
}

static void test_napi_set_get(void **state)
{
	const struct napi_knobs wide = { 7, 5000000000ULL };
	struct napi_knobs old, got, other;

	(void)state;
	assert_int_equal(T.n_napi, N_QUEUES);
	assert_int_equal(napi_get(T.napi[0], &old), 0);
	assert_int_equal(napi_get(T.napi[1], &other), 0);
	assert_false(knobs_eq(&old, &NEW));
	assert_int_equal(napi_set(T.napi[0], &NEW), 0);
	assert_int_equal(napi_get(T.napi[0], &got), 0);
	assert_knobs(&got, &NEW);
	/* per NAPI: the other queue's NAPI keeps its values */
	assert_int_equal(napi_get(T.napi[1], &got), 0);
	assert_knobs(&got, &other);
	assert_int_equal(napi_set(T.napi[0], &wide), 0);
	assert_int_equal(napi_get(T.napi[0], &got), 0);
	assert_knobs(&got, &wide);
	assert_int_equal(napi_set(T.napi[0], &old), 0);
	assert_int_equal(napi_get(T.napi[0], &got), 0);
	assert_knobs(&got, &old);
	assert_int_equal(napi_set(T.napi[0],
				  &(struct napi_knobs){ 0x80000000u, 0 }), -ERANGE);
}

static void test_device_files(void **state)
{
	(void)state;
	assert_int_equal(T.n_napi, N_QUEUES);
	assert_int_equal(in_own_sysfs(child_device_write_reaches_napis), 0);
}

static void test_apply_restore(void **state)
{
	(void)state;
	assert_int_equal(T.n_napi, N_QUEUES);
	assert_int_equal(in_own_sysfs(child_apply_restore), 0);
}

static void test_apply_without_netlink(void **state)
{
	(void)state;
	assert_int_equal(T.n_napi, N_QUEUES);
	assert_int_equal(in_own_sysfs(child_apply_without_netlink), 0);
}

static void test_apply_errors(void **state)
{
	char err[256], bad[IFNAMSIZ];
	struct napi_saved *s = (struct napi_saved *)&s;
	struct napi_knobs before, got;
	uint32_t id;

	(void)state;
	assert_int_equal(napi_get(T.napi[0], &before), 0);
	snprintf(bad, sizeof(bad), "xnp%dzz", (int)getpid());
	assert_int_equal(napi_apply_rx_queues(bad, 1, true, &NEW, &s, err,
					      sizeof(err)), -ENODEV);
	assert_null(s);
	assert_non_null(strstr(err, bad));

	s = (struct napi_saved *)&s;
	assert_int_equal(napi_apply_rx_queues(T.a, 1u << 9, true, &NEW, &s, err,
					      sizeof(err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "RX queue 9"));
	assert_non_null(strstr(err, T.a));
	assert_int_equal(napi_apply_rx_queues(T.a, 0, true, &NEW, &s, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(napi_apply_rx_queues(T.a, 1, true,
					      &(struct napi_knobs){ 0x80000000u, 0 },
					      &s, err, sizeof(err)), -ERANGE);

	/* our sysfs shows the parent namespace, where T.a does not exist:
	 * the device files must be refused, never another device's used */
	assert_int_equal(napi_dev_get(T.a, &got), -EXDEV);
	if (napi_id_of_rx_queue(T.ifa, 0, &id) == -ENOENT) {
		assert_int_equal(napi_apply_rx_queues(T.a, 1, true, &NEW, &s, err,
						      sizeof(err)), -EXDEV);
		assert_null(s);
		assert_non_null(strstr(err, "another network namespace"));
	}
	assert_int_equal(napi_get(T.napi[0], &got), 0);
	assert_knobs(&got, &before);
	napi_restore(NULL);
	assert_string_equal(napi_saved_scope(NULL), "none");
}

static const struct CMUnitTest napi_tests[] = {
	cmocka_unit_test(test_genl_numbers),
	cmocka_unit_test(test_napi_set_get),
	cmocka_unit_test(test_device_files),
	cmocka_unit_test(test_apply_restore),
	cmocka_unit_test(test_apply_without_netlink),
	cmocka_unit_test(test_apply_errors),
};

static int napi_unavailable(char *why, size_t len)
{
	return napi_genl_support(why, len) != 0;
}

UNIT_GROUP_IF(group_napi, "napi", napi_tests, group_setup, group_teardown,
	      napi_unavailable);
