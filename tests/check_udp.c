/*
 * check_udp.c - unit tests for udp.c: the reason a UDP reply that could
 * not be sent is counted under (msgd_udp_replies_failed_total).
 * tests/udp-threads.sh provokes too_large for real; a full send buffer or
 * a firewall's refusal cannot be provoked on loopback without root, so
 * their mapping is checked here.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "msgd.h"

START_TEST(test_fail_reason)
{
	ck_assert_int_eq(udp_fail_reason(EMSGSIZE), UDP_FAIL_TOO_LARGE);
	ck_assert_int_eq(udp_fail_reason(EAGAIN), UDP_FAIL_BUFFER_FULL);
	ck_assert_int_eq(udp_fail_reason(EWOULDBLOCK), UDP_FAIL_BUFFER_FULL);
	ck_assert_int_eq(udp_fail_reason(ENOBUFS), UDP_FAIL_BUFFER_FULL);
	ck_assert_int_eq(udp_fail_reason(EPERM), UDP_FAIL_ERROR);
	ck_assert_int_eq(udp_fail_reason(EHOSTUNREACH), UDP_FAIL_ERROR);
	ck_assert_int_eq(udp_fail_reason(EINVAL), UDP_FAIL_ERROR);
}
END_TEST

static Suite *
udp_suite(void)
{
	Suite	*s = suite_create("udp");
	TCase	*fail = tcase_create("fail");

	tcase_add_test(fail, test_fail_reason);
	suite_add_tcase(s, fail);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(udp_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
