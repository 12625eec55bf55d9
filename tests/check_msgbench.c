/*
 * check_msgbench.c - unit tests for msgbench's pure parts: the latency
 * histogram and the reply checker.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "replycheck.h"

static struct histogram	h;

static void
histogram_setup(void)
{
	histogram_init(&h);
}

/* Percentiles are bucket upper bounds: never low, at most 1/32 high. */
static void
check_close(uint64_t got, uint64_t exact)
{
	ck_assert_uint_ge(got, exact);
	ck_assert_uint_le(got, exact + exact / HISTOGRAM_SUB);
}

START_TEST(test_histogram_empty)
{
	ck_assert_uint_eq(histogram_count(&h), 0);
	ck_assert_uint_eq(histogram_percentile(&h, 50), 0);
	ck_assert_uint_eq(histogram_percentile(&h, 99.9), 0);
	ck_assert_uint_eq(histogram_max(&h), 0);
	ck_assert_uint_eq(histogram_min(&h), 0);
	ck_assert(histogram_mean(&h) == 0);
}
END_TEST

START_TEST(test_histogram_small_exact)
{
	uint64_t	v;

	/* Below HISTOGRAM_SUB every value has its own bucket. */
	for (v = 1; v <= 20; v++)
		histogram_record(&h, v);
	ck_assert_uint_eq(histogram_percentile(&h, 50), 10);
	ck_assert_uint_eq(histogram_percentile(&h, 90), 18);
	ck_assert_uint_eq(histogram_percentile(&h, 100), 20);
	ck_assert_uint_eq(histogram_percentile(&h, 0), 1);
	ck_assert_uint_eq(histogram_max(&h), 20);
	ck_assert(histogram_mean(&h) == 10.5);
}
END_TEST

START_TEST(test_histogram_uniform)
{
	uint64_t	v;

	/* 1 us .. 10 ms in 1 us steps: p is simply p% of 10 ms. */
	for (v = 1; v <= 10000; v++)
		histogram_record(&h, v * 1000);
	ck_assert_uint_eq(histogram_count(&h), 10000);
	check_close(histogram_percentile(&h, 50), 5000000);
	check_close(histogram_percentile(&h, 90), 9000000);
	check_close(histogram_percentile(&h, 99), 9900000);
	check_close(histogram_percentile(&h, 99.9), 9990000);
	ck_assert_uint_le(histogram_percentile(&h, 99.9), 10000000);
	ck_assert_uint_eq(histogram_max(&h), 10000000);
	ck_assert_uint_eq(histogram_min(&h), 1000);
}
END_TEST

START_TEST(test_histogram_bimodal)
{
	int	i;

	/* 99% fast, 1% slow: p99 is fast, p99.9 and max are slow. */
	for (i = 0; i < 990; i++)
		histogram_record(&h, 50000);
	for (i = 0; i < 10; i++)
		histogram_record(&h, 7000000);
	check_close(histogram_percentile(&h, 50), 50000);
	check_close(histogram_percentile(&h, 99), 50000);
	check_close(histogram_percentile(&h, 99.9), 7000000);
	ck_assert_uint_eq(histogram_percentile(&h, 99.9), 7000000);
	ck_assert_uint_eq(histogram_max(&h), 7000000);
}
END_TEST

START_TEST(test_histogram_one_value)
{
	/* Clamped to the exact extremes, not the bucket's upper bound. */
	histogram_record(&h, 123456);
	ck_assert_uint_eq(histogram_percentile(&h, 50), 123456);
	ck_assert_uint_eq(histogram_percentile(&h, 99.9), 123456);
	ck_assert_uint_eq(histogram_max(&h), 123456);
}
END_TEST

START_TEST(test_histogram_bounds)
{
	size_t		i;
	uint64_t	lo, hi;

	/* Buckets tile the values: contiguous, each holds its bounds. */
	ck_assert_uint_eq(histogram_bucket_low(0), 0);
	for (i = 0; i < HISTOGRAM_BUCKETS - 1; i++) {
		lo = histogram_bucket_low(i);
		hi = histogram_bucket_high(i);
		ck_assert_uint_le(lo, hi);
		ck_assert_uint_eq(histogram_bucket(lo), i);
		ck_assert_uint_eq(histogram_bucket(hi), i);
		ck_assert_uint_eq(histogram_bucket_low(i + 1), hi + 1);
		/* Width at most 1/32 of the lowest value above 32. */
		if (lo >= HISTOGRAM_SUB)
			ck_assert_uint_le(hi - lo + 1, lo / HISTOGRAM_SUB);
	}
	ck_assert_uint_eq(histogram_bucket(31), 31);
	ck_assert_uint_eq(histogram_bucket(32), 32);
	ck_assert_uint_eq(histogram_bucket(63), 63);
	ck_assert_uint_eq(histogram_bucket(64), 64);
	ck_assert_uint_eq(histogram_bucket(65), 64);
	ck_assert_uint_eq(histogram_bucket_high(64), 65);
}
END_TEST

START_TEST(test_histogram_huge)
{
	/* Past the last bucket: counted there, max still exact. */
	histogram_record(&h, (uint64_t)1 << 50);
	histogram_record(&h, UINT64_MAX / 2);
	ck_assert_uint_eq(histogram_bucket((uint64_t)1 << 50),
	    HISTOGRAM_BUCKETS - 1);
	ck_assert_uint_eq(histogram_max(&h), UINT64_MAX / 2);
	ck_assert_uint_eq(histogram_percentile(&h, 50), UINT64_MAX / 2);
	ck_assert_uint_eq(histogram_count(&h), 2);
}
END_TEST

START_TEST(test_histogram_merge)
{
	struct histogram	a, b;
	uint64_t		v;

	histogram_init(&a);
	histogram_init(&b);
	for (v = 1; v <= 5000; v++) {
		histogram_record(&a, v * 1000);
		histogram_record(&h, v * 1000);
	}
	for (v = 5001; v <= 10000; v++) {
		histogram_record(&b, v * 1000);
		histogram_record(&h, v * 1000);
	}
	histogram_merge(&a, &b);
	ck_assert_uint_eq(histogram_count(&a), 10000);
	ck_assert_uint_eq(histogram_max(&a), 10000000);
	ck_assert_uint_eq(histogram_min(&a), 1000);
	ck_assert(memcmp(&a, &h, sizeof(a)) == 0);

	/* Merging an empty histogram changes nothing, either way round. */
	histogram_init(&b);
	histogram_merge(&a, &b);
	ck_assert(memcmp(&a, &h, sizeof(a)) == 0);
	histogram_merge(&b, &a);
	ck_assert(memcmp(&b, &h, sizeof(b)) == 0);
}
END_TEST

static const char	expect[] = "Hello, client!\n";
static struct replycheck rc;

static void
replycheck_setup(void)
{
	replycheck_init(&rc, expect, sizeof(expect) - 1);
}

START_TEST(test_replycheck_whole)
{
	size_t	done;

	ck_assert_int_eq(replycheck_feed(&rc, expect, 15, 1, &done),
	    REPLYCHECK_OK);
	ck_assert_uint_eq(done, 1);
	ck_assert_uint_eq(replycheck_partial(&rc), 0);
}
END_TEST

START_TEST(test_replycheck_split)
{
	size_t	done, i, total = 0;

	/* One byte a read: nothing completes until the LF. */
	for (i = 0; i < 15; i++) {
		ck_assert_int_eq(replycheck_feed(&rc, expect + i, 1, 1,
		    &done), REPLYCHECK_OK);
		total += done;
		ck_assert_uint_eq(total, i == 14 ? 1 : 0);
	}
	/* Split across a reply boundary: "Hello, client!\nHel" "lo,...". */
	{
		static const char two[] = "Hello, client!\nHello, client!\n";

		ck_assert_int_eq(replycheck_feed(&rc, two, 18, 2, &done),
		    REPLYCHECK_OK);
		ck_assert_uint_eq(done, 1);
		ck_assert_uint_eq(replycheck_partial(&rc), 3);
		ck_assert_int_eq(replycheck_feed(&rc, two + 18, 12, 1,
		    &done), REPLYCHECK_OK);
		ck_assert_uint_eq(done, 1);
		ck_assert_uint_eq(replycheck_partial(&rc), 0);
	}
}
END_TEST

START_TEST(test_replycheck_many)
{
	char	buf[15 * 100];
	size_t	done, i;

	for (i = 0; i < 100; i++)
		memcpy(buf + i * 15, expect, 15);
	ck_assert_int_eq(replycheck_feed(&rc, buf, sizeof(buf), 100, &done),
	    REPLYCHECK_OK);
	ck_assert_uint_eq(done, 100);
	ck_assert_uint_eq(rc.replies, 100);
	/* Owed more than came: fine, the rest may be on the way. */
	ck_assert_int_eq(replycheck_feed(&rc, buf, 45, 16, &done),
	    REPLYCHECK_OK);
	ck_assert_uint_eq(done, 3);
}
END_TEST

START_TEST(test_replycheck_mismatch)
{
	char	buf[45];
	size_t	done, bad;

	/* Every position of the second reply, one wrong byte at a time. */
	for (bad = 0; bad < 15; bad++) {
		replycheck_reset(&rc);
		memcpy(buf, expect, 15);
		memcpy(buf + 15, expect, 15);
		memcpy(buf + 30, expect, 15);
		buf[15 + bad] = 'X';
		ck_assert_int_eq(replycheck_feed(&rc, buf, sizeof(buf), 3,
		    &done), REPLYCHECK_MISMATCH);
		ck_assert_uint_eq(done, 1);	/* the first was right */
		ck_assert_uint_eq(rc.bad_reply, 1);
		ck_assert_uint_eq(rc.bad_offset, bad);
		ck_assert_int_eq(rc.bad_expected, (unsigned char)expect[bad]);
		ck_assert_uint_eq(rc.bad_got, 'X');
	}
}
END_TEST

START_TEST(test_replycheck_mismatch_split)
{
	size_t	done;

	/* The bad byte in a later read than the reply's start. */
	ck_assert_int_eq(replycheck_feed(&rc, "Hello, ", 7, 1, &done),
	    REPLYCHECK_OK);
	ck_assert_int_eq(replycheck_feed(&rc, "clienT!\n", 8, 1, &done),
	    REPLYCHECK_MISMATCH);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(rc.bad_reply, 0);
	ck_assert_uint_eq(rc.bad_offset, 12);
	ck_assert_int_eq(rc.bad_expected, 't');
	ck_assert_uint_eq(rc.bad_got, 'T');
}
END_TEST

START_TEST(test_replycheck_short_line)
{
	size_t	done;

	/* A reply that ends early shows as its LF where text was due. */
	ck_assert_int_eq(replycheck_feed(&rc, "Hello\n", 6, 1, &done),
	    REPLYCHECK_MISMATCH);
	ck_assert_uint_eq(rc.bad_offset, 5);
	ck_assert_int_eq(rc.bad_expected, ',');
	ck_assert_uint_eq(rc.bad_got, '\n');
}
END_TEST

START_TEST(test_replycheck_extra)
{
	static const char two[] = "Hello, client!\nHello, client!\n";
	size_t	done;

	/* Two replies when one was owed: the first counts, then EXTRA. */
	ck_assert_int_eq(replycheck_feed(&rc, two, 30, 1, &done),
	    REPLYCHECK_EXTRA);
	ck_assert_uint_eq(done, 1);
	ck_assert_uint_eq(rc.bad_reply, 1);
	ck_assert_int_eq(rc.bad_expected, -1);
	ck_assert_uint_eq(rc.bad_got, 'H');

	/* Nothing owed at all, e.g. after the reply in conn mode. */
	replycheck_reset(&rc);
	ck_assert_int_eq(replycheck_feed(&rc, "x", 1, 0, &done),
	    REPLYCHECK_EXTRA);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(rc.bad_got, 'x');

	/* An empty read is never wrong. */
	replycheck_reset(&rc);
	ck_assert_int_eq(replycheck_feed(&rc, "", 0, 0, &done),
	    REPLYCHECK_OK);
}
END_TEST

START_TEST(test_replycheck_reset)
{
	size_t	done;

	/* A new connection starts a new reply, whatever the old one did. */
	ck_assert_int_eq(replycheck_feed(&rc, "Hell", 4, 1, &done),
	    REPLYCHECK_OK);
	ck_assert_uint_eq(replycheck_partial(&rc), 4);
	replycheck_reset(&rc);
	ck_assert_uint_eq(replycheck_partial(&rc), 0);
	ck_assert_int_eq(replycheck_feed(&rc, expect, 15, 1, &done),
	    REPLYCHECK_OK);
	ck_assert_uint_eq(done, 1);
}
END_TEST

static Suite *
histogram_suite(void)
{
	Suite	*s = suite_create("histogram");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, histogram_setup, NULL);
	tcase_add_test(tc, test_histogram_empty);
	tcase_add_test(tc, test_histogram_small_exact);
	tcase_add_test(tc, test_histogram_uniform);
	tcase_add_test(tc, test_histogram_bimodal);
	tcase_add_test(tc, test_histogram_one_value);
	tcase_add_test(tc, test_histogram_bounds);
	tcase_add_test(tc, test_histogram_huge);
	tcase_add_test(tc, test_histogram_merge);
	suite_add_tcase(s, tc);
	return (s);
}

static Suite *
replycheck_suite(void)
{
	Suite	*s = suite_create("replycheck");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, replycheck_setup, NULL);
	tcase_add_test(tc, test_replycheck_whole);
	tcase_add_test(tc, test_replycheck_split);
	tcase_add_test(tc, test_replycheck_many);
	tcase_add_test(tc, test_replycheck_mismatch);
	tcase_add_test(tc, test_replycheck_mismatch_split);
	tcase_add_test(tc, test_replycheck_short_line);
	tcase_add_test(tc, test_replycheck_extra);
	tcase_add_test(tc, test_replycheck_reset);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(histogram_suite());
	srunner_add_suite(sr, replycheck_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
