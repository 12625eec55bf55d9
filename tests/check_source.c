/*
 * check_source.c - unit tests for source.c: what a source is (an IPv4
 * address, an IPv6 /64, IPv4-mapped as IPv4), and the count per source
 * against --max-conns-per-source.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "msgd.h"

#define THREADS	8
#define ROUNDS	20000

/* The source of a literal address, AF_INET or AF_INET6. */
static struct source_key
key(const char *s)
{
	struct source_key	k;
	unsigned char		a[16];
	int			af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(af, s, a), 1);
	ck_assert_int_eq(source_key(&k, af, a), 0);
	return (k);
}

static int
same(const char *a, const char *b)
{
	struct source_key	ka = key(a), kb = key(b);

	return (memcmp(&ka, &kb, sizeof(ka)) == 0);
}

static const char *
name(const char *s)
{
	static char		buf[64];
	struct source_key	k = key(s);

	source_name(&k, buf, sizeof(buf));
	return (buf);
}

START_TEST(test_ipv4)
{
	ck_assert(same("192.0.2.1", "192.0.2.1"));
	ck_assert(!same("192.0.2.1", "192.0.2.2"));
	ck_assert(!same("127.0.0.1", "127.0.0.2"));
	ck_assert_str_eq(name("192.0.2.1"), "192.0.2.1");
	ck_assert_str_eq(name("0.0.0.0"), "0.0.0.0");
}
END_TEST

/* One host has a whole /64: its addresses are one source. */
START_TEST(test_ipv6_prefix)
{
	ck_assert(same("2001:db8::1", "2001:db8::ffff:1:2:3"));
	ck_assert(same("2001:db8:0:7::1", "2001:db8:0:7:ffff:ffff:ffff:ffff"));
	ck_assert(!same("2001:db8::1", "2001:db8:0:1::1"));
	ck_assert(!same("2001:db8::1", "2001:db9::1"));
	ck_assert(same("::1", "::2"));
	ck_assert(same("fe80::1", "fe80::abcd:1"));
	ck_assert_str_eq(name("2001:db8::1"), "2001:db8::/64");
	ck_assert_str_eq(name("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
	ck_assert_str_eq(name("::1"), "::/64");
}
END_TEST

/* An IPv4-mapped IPv6 address is its IPv4 address, and nothing else. */
START_TEST(test_ipv4_mapped)
{
	ck_assert(same("::ffff:192.0.2.1", "192.0.2.1"));
	ck_assert(!same("::ffff:192.0.2.1", "::ffff:192.0.2.2"));
	ck_assert(!same("::ffff:192.0.2.1", "192.0.2.2"));
	ck_assert_str_eq(name("::ffff:192.0.2.1"), "192.0.2.1");
	/* In ::/64 but not mapped: not an IPv4 source, not 0.0.0.0 either. */
	ck_assert(!same("::ffff:0:0", "::"));
	ck_assert(!same("0.0.0.0", "::"));
	ck_assert(!same("::192.0.2.1", "192.0.2.1"));
	ck_assert(same("::192.0.2.1", "::1"));
}
END_TEST

START_TEST(test_other_families)
{
	struct source_key	k;
	unsigned char		a[16] = { 0 };

	ck_assert_int_eq(source_key(&k, AF_UNIX, a), -1);
	ck_assert_int_eq(source_key(&k, AF_UNSPEC, a), -1);
}
END_TEST

/* Up to max per source; a place comes back when its connection closes. */
START_TEST(test_count)
{
	struct source_key	 a = key("192.0.2.1"), b = key("::ffff:192.0.2.2");
	struct source_key	 m = key("::ffff:192.0.2.1");
	struct source		*sa[3], *sb, *s;
	int			 i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(source_add(&a, 3, &sa[i]), 0);
		ck_assert_ptr_nonnull(sa[i]);
	}
	ck_assert_int_eq(source_add(&a, 3, &s), -1);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(source_add(&m, 3, &s), -1);	/* a, mapped */
	ck_assert_int_eq(source_add(&b, 3, &sb), 0);	/* another source */
	ck_assert_int_eq(source_add(&a, 0, &s), 0);	/* 0: no limit */
	source_release(s);
	source_release(sa[1]);
	ck_assert_int_eq(source_add(&a, 3, &sa[1]), 0);
	ck_assert_int_eq(source_add(&a, 3, &s), -1);
	for (i = 0; i < 3; i++)
		source_release(sa[i]);
	source_release(sb);
	source_release(NULL);
	/* All gone: the source starts again from nothing. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(source_add(&a, 3, &sa[i]), 0);
	ck_assert_int_eq(source_add(&a, 3, &s), -1);
	for (i = 0; i < 3; i++)
		source_release(sa[i]);
}
END_TEST

/* Workers take and give back places at once: none is lost or made up. */
static void *
churn(void *arg)
{
	struct source_key	 k[2] = { key("192.0.2.1"), key("2001:db8::1") };
	struct source		*s;
	int			 i;

	(void)arg;
	for (i = 0; i < ROUNDS; i++) {
		if (source_add(&k[i % 2], THREADS, &s) != 0 || s == NULL)
			return ("refused under the limit");
		source_release(s);
	}
	return (NULL);
}

START_TEST(test_threads)
{
	struct source_key	 k = key("2001:db8::ff:1");	/* churned */
	struct source		*s[THREADS], *over;
	pthread_t		 t[THREADS];
	void			*why;
	int			 i;

	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn, NULL), 0);
	for (i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &why), 0);
		ck_assert_msg(why == NULL, "%s", (const char *)why);
	}
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(source_add(&k, THREADS, &s[i]), 0);
	ck_assert_int_eq(source_add(&k, THREADS, &over), -1);
	for (i = 0; i < THREADS; i++)
		source_release(s[i]);
}
END_TEST

static Suite *
source_suite(void)
{
	Suite	*s = suite_create("source");
	TCase	*keys = tcase_create("keys");
	TCase	*count = tcase_create("count");

	tcase_add_test(keys, test_ipv4);
	tcase_add_test(keys, test_ipv6_prefix);
	tcase_add_test(keys, test_ipv4_mapped);
	tcase_add_test(keys, test_other_families);
	suite_add_tcase(s, keys);
	tcase_add_test(count, test_count);
	tcase_add_test(count, test_threads);
	suite_add_tcase(s, count);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(source_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
