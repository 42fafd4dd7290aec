// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/coalesce.c, the xsk consumer's notification policy, on explicit
 * timestamps: off, fixed count/delay bounds, adaptive at low and high rate,
 * and the refusal of policies that cannot be; the send stamps and latency
 * figures its benchmark reads (lib/stamp.c).
 */
#include <stdbool.h>
#include <string.h>

#include "tests/unit.h"
#include "lib/coalesce.h"
#include "lib/stamp.h"
#include "maps/xvnet_maps.h"

#define US 1000ull

static void test_off_notifies_every_batch(void **state)
{
	struct xv_coal_policy p = { 0 };
	struct xv_coal c;

	(void)state;
	xv_coal_init(&c, &p, 0);
	assert_false(xv_coal_add(&c, &p, 37, 10 * US));
	assert_true(xv_coal_due(&c, 10 * US));          /* end of the batch */
	assert_int_equal(xv_coal_deadline(&c), 0);
	xv_coal_notified(&c);
	assert_false(xv_coal_due(&c, 11 * US));         /* nothing pending */
}

static void test_fixed_frames_and_usecs(void **state)
{
	struct xv_coal_policy p = { .rx_frames = 64, .rx_usecs = 100 };
	struct xv_coal c;

	(void)state;
	xv_coal_init(&c, &p, 0);
	/* 40 frames: below the count, within the delay: wait */
	assert_false(xv_coal_add(&c, &p, 40, 1000 * US));
	assert_false(xv_coal_due(&c, 1000 * US));
	assert_int_equal(xv_coal_deadline(&c), 1100 * US);
	/* the count is reached by the next batch: notify at once */
	assert_true(xv_coal_add(&c, &p, 30, 1050 * US));
	xv_coal_notified(&c);
	/* a lone frame waits out the delay bound, and no longer */
	assert_false(xv_coal_add(&c, &p, 1, 2000 * US));
	assert_false(xv_coal_due(&c, 2099 * US));
	assert_true(xv_coal_due(&c, 2100 * US));
}

/* Frames every gap_ns for dur_ns; returns frames per notification after
 * the first 2 ms (the rate estimate needs a window to see the rate). */
static double run(const struct xv_coal_policy *p, uint64_t gap_ns,
		  uint64_t dur_ns, uint64_t *max_wait_ns)
{
	struct xv_coal c;
	uint64_t t, frames = 0, notes = 0, oldest = 0;

	xv_coal_init(&c, p, 0);
	*max_wait_ns = 0;
	for (t = gap_ns; t < dur_ns; t += gap_ns) {
		uint64_t dl = xv_coal_deadline(&c);

		/* the consumer's timer fires between arrivals */
		if (dl && dl < t) {
			if (dl - oldest > *max_wait_ns)
				*max_wait_ns = dl - oldest;
			xv_coal_notified(&c);
			notes++;
		}
		if (t < 2000 * US)
			frames = notes = 0;
		if (!c.pending)
			oldest = t;
		frames++;
		if (xv_coal_add(&c, p, 1, t) || xv_coal_due(&c, t)) {
			if (t - oldest > *max_wait_ns)
				*max_wait_ns = t - oldest;
			xv_coal_notified(&c);
			notes++;
		}
	}
	return notes ? (double)frames / (double)notes : 0;
}

static void test_adaptive_low_rate_adds_no_delay(void **state)
{
	struct xv_coal_policy p = { .rx_frames = 256, .rx_usecs = 200, .adaptive = true };
	uint64_t wait;
	double per;

	(void)state;
	/* 1,000 frames/s: 0.2 expected within 200 us -> each one at once */
	per = run(&p, 1000 * US, 200000 * US, &wait);
	assert_true(per < 1.01);
	assert_true(wait == 0);
}

static void test_adaptive_high_rate_batches(void **state)
{
	struct xv_coal_policy p = { .rx_frames = 256, .rx_usecs = 200, .adaptive = true };
	struct xv_coal_policy off = { 0 };
	uint64_t wait;
	double per, per_off;

	(void)state;
	/* 2 Mpps (500 ns apart): 400 expected within 200 us -> batches of 256 */
	per = run(&p, 500, 50000 * US, &wait);
	assert_true(per > 200);
	assert_true(wait <= 200 * US);
	per_off = run(&off, 500, 50000 * US, &wait);
	assert_true(per_off < 1.01);    /* one frame per batch here */
	/* 100 kpps: 20 expected within 200 us -> batches of about 20 */
	per = run(&p, 10 * US, 200000 * US, &wait);
	assert_true(per > 15 && per < 25);
	assert_true(wait <= 200 * US);
}

static void test_adaptive_follows_rate_down(void **state)
{
	struct xv_coal_policy p = { .rx_frames = 256, .rx_usecs = 200, .adaptive = true };
	struct xv_coal c;
	uint64_t t = 0;

	(void)state;
	xv_coal_init(&c, &p, 0);
	for (int i = 0; i < 10000; i++) {       /* 5 ms at 2 Mpps */
		t += 500;
		if (xv_coal_add(&c, &p, 1, t))
			xv_coal_notified(&c);
	}
	assert_int_equal(c.eff_frames, 256);
	xv_coal_notified(&c);
	/* then a frame after 50 ms of silence: notified at once */
	t += 50000 * US;
	xv_coal_add(&c, &p, 1, t);
	assert_true(xv_coal_due(&c, t));
	assert_int_equal(c.eff_frames, 0);
}

static void test_refused_policies(void **state)
{
	char err[128];
	struct xv_coal_policy p;

	(void)state;
	p = (struct xv_coal_policy){ .rx_frames = XVNET_COAL_FRAMES_MAX + 1, .rx_usecs = 10 };
	assert_int_equal(xv_coal_check(&p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rx-frames"));
	p = (struct xv_coal_policy){ .rx_usecs = XVNET_COAL_USECS_MAX + 1 };
	assert_int_equal(xv_coal_check(&p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rx-usecs"));
	p = (struct xv_coal_policy){ .rx_frames = 8 };
	assert_int_equal(xv_coal_check(&p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs rx-usecs"));
	p = (struct xv_coal_policy){ .adaptive = true };
	assert_int_equal(xv_coal_check(&p, err, sizeof(err)), -1);
	p = (struct xv_coal_policy){ .rx_frames = 64, .rx_usecs = 50, .adaptive = true };
	assert_int_equal(xv_coal_check(&p, err, sizeof(err)), 0);
}

/* A stamped UDP/IPv4 frame as stamp_send.py's datagram arrives: the stamp
 * is read back, anything else (another magic, not UDP, cut short) is not. */
static void test_stamp_read(void **state)
{
	unsigned char f[14 + 20 + 8 + 30] = { 0 };
	uint64_t t = 0x0102030405060708ull;
	const unsigned char le[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };

	(void)state;
	f[12] = 0x08;
	f[14] = 0x45;
	f[23] = 17;
	memcpy(f + 42, "XVTS", 4);
	memcpy(f + 46, le, 8);
	assert_true(xv_stamp_of(f, sizeof(f)) == t);
	assert_true(xv_stamp_of(f, 14 + 20 + 8 + XV_STAMP_LEN - 1) == 0);
	f[23] = 6;
	assert_true(xv_stamp_of(f, sizeof(f)) == 0);
	f[23] = 17;
	f[42] = 'x';
	assert_true(xv_stamp_of(f, sizeof(f)) == 0);
	f[42] = 'X';
	f[14] = 0x44;   /* an IHL under 20 bytes */
	assert_true(xv_stamp_of(f, sizeof(f)) == 0);
}

/* 1..1000 us: the percentiles are the sorted samples' n/2, 9n/10, 99n/100 */
static void test_latency_percentiles(void **state)
{
	struct xv_lat l = { 0 };
	char out[256] = "";
	FILE *m = fmemopen(out, sizeof(out) - 1, "w");

	(void)state;
	assert_non_null(m);
	for (uint64_t i = 1000; i >= 1; i--)
		assert_int_equal(xv_lat_add(&l, i * US), 0);
	xv_lat_print(&l, m);
	fclose(m);
	assert_string_equal(out, "latency_us n 1000 p50 501.0 p90 901.0 p99 991.0 max 1000.0\n");
	xv_lat_free(&l);
	m = fmemopen(out, sizeof(out) - 1, "w");
	assert_non_null(m);
	xv_lat_print(&l, m);
	fclose(m);
	assert_string_equal(out, "latency_us n 0\n");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_off_notifies_every_batch),
	cmocka_unit_test(test_fixed_frames_and_usecs),
	cmocka_unit_test(test_adaptive_low_rate_adds_no_delay),
	cmocka_unit_test(test_adaptive_high_rate_batches),
	cmocka_unit_test(test_adaptive_follows_rate_down),
	cmocka_unit_test(test_refused_policies),
	cmocka_unit_test(test_stamp_read),
	cmocka_unit_test(test_latency_percentiles),
};

UNIT_GROUP(group_coalesce, "coalesce", tests, NULL, NULL);
