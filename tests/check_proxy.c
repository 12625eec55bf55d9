/*
 * check_proxy.c - unit tests for proxy.c: PROXY protocol v1 and v2.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

static struct proxy_header	h;
static const char		*why;
static char			 src[64];

static ssize_t
parse(const char *buf, size_t len)
{
	why = NULL;
	return (proxy_parse(buf, len, &h, &why));
}

#define V2SIG	"\r\n\r\n\0\r\nQUIT\n"

START_TEST(test_v1_tcp4)
{
	const char	*s = "PROXY TCP4 192.0.2.7 127.0.0.1 56324 5000\r\nhi\n";

	ck_assert_int_eq(parse(s, strlen(s)), (ssize_t)strlen(s) - 3);
	ck_assert_int_eq(h.version, 1);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_int_eq(proxy_source(&h, src, sizeof(src)), 0);
	ck_assert_str_eq(src, "192.0.2.7:56324");
	ck_assert_uint_eq(h.dport, 5000);
}
END_TEST

START_TEST(test_v1_tcp6_and_unknown)
{
	const char	*s = "PROXY TCP6 2001:db8::1 ::1 1 65535\r\n";
	const char	*u = "PROXY UNKNOWN whatever follows\r\n";

	ck_assert_int_eq(parse(s, strlen(s)), (ssize_t)strlen(s));
	ck_assert_int_eq(h.family, AF_INET6);
	proxy_source(&h, src, sizeof(src));
	ck_assert_str_eq(src, "[2001:db8::1]:1");
	ck_assert_int_eq(parse(u, strlen(u)), (ssize_t)strlen(u));
	ck_assert_int_eq(h.family, AF_UNSPEC);
	ck_assert_int_eq(proxy_source(&h, src, sizeof(src)), -1);
}
END_TEST

START_TEST(test_v1_partial)
{
	const char	*s = "PROXY TCP4 192.0.2.7 127.0.0.1 56324 5000\r\n";
	size_t		 i;

	for (i = 1; i < strlen(s); i++)
		ck_assert_msg(parse(s, i) == 0, "prefix of %zu bytes", i);
}
END_TEST

/* Nothing yet (an empty evbuffer pulls up to NULL): more is needed. */
START_TEST(test_empty)
{
	ck_assert_int_eq(parse(NULL, 0), 0);
	ck_assert_int_eq(parse("", 0), 0);
}
END_TEST

START_TEST(test_v1_malformed)
{
	const char	*bad[] = {
		"PROXY TCP4 192.0.2.7 127.0.0.1 56324 5000\n",	/* no CR */
		"PROXY TCP5 192.0.2.7 127.0.0.1 1 2\r\n",
		"PROXY TCP4 ::1 127.0.0.1 1 2\r\n",
		"PROXY TCP4 192.0.2.7 127.0.0.1 1\r\n",
		"PROXY TCP4 192.0.2.7 127.0.0.1 1 2 3\r\n",
		"PROXY TCP4 192.0.2.7 127.0.0.1 65536 2\r\n",
		"PROXY TCP4 192.0.2.7 127.0.0.1 -1 2\r\n",
		"PROXY TCP4 192.0.2.7 127.0.0.1 01 2\r\n",
		"PROXY TCP4 192.0.2.7  127.0.0.1 1 2\r\n",
		"Hello, server!\n",
		"GET / HTTP/1.0\r\n",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], strlen(bad[i])) == -1, "%s",
		    bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(test_v1_too_long)
{
	char	buf[200];

	memset(buf, '1', sizeof(buf));
	memcpy(buf, "PROXY TCP4 ", 11);
	ck_assert_int_eq(parse(buf, sizeof(buf)), -1);
	ck_assert_int_eq(parse(buf, PROXY_V1_MAX - 1), 0);
}
END_TEST

START_TEST(test_v2_tcp4)
{
	const char	 b[] = V2SIG "\x21\x11\x00\x0c"
	    "\xc0\x00\x02\x07" "\x7f\x00\x00\x01" "\xdc\x04" "\x13\x88" "hi";
	size_t		 len = sizeof(b) - 1, i;

	ck_assert_int_eq(parse(b, len), 28);
	ck_assert_int_eq(h.version, 2);
	ck_assert_int_eq(h.family, AF_INET);
	proxy_source(&h, src, sizeof(src));
	ck_assert_str_eq(src, "192.0.2.7:56324");
	ck_assert_uint_eq(h.dport, 5000);
	for (i = 1; i < 28; i++)
		ck_assert_msg(parse(b, i) == 0, "prefix of %zu bytes", i);
}
END_TEST

START_TEST(test_v2_tcp6_tlv_local)
{
	char	b[16 + 36 + 5];

	memcpy(b, V2SIG "\x21\x21\x00\x29", 16);	/* 36 + 5 of TLV */
	memset(b + 16, 0, sizeof(b) - 16);
	b[16 + 15] = 1;					/* ::1 */
	b[16 + 32] = 0x30;				/* port 12345 */
	b[16 + 33] = 0x39;
	ck_assert_int_eq(parse(b, sizeof(b)), (ssize_t)sizeof(b));
	ck_assert_int_eq(h.family, AF_INET6);
	proxy_source(&h, src, sizeof(src));
	ck_assert_str_eq(src, "[::1]:12345");
	/* LOCAL: a health check from the balancer itself */
	memcpy(b, V2SIG "\x20\x00\x00\x00", 16);
	ck_assert_int_eq(parse(b, 16), 16);
	ck_assert_int_eq(h.family, AF_UNSPEC);
}
END_TEST

START_TEST(test_v2_malformed)
{
	char	b[16 + 12];

	memset(b, 0, sizeof(b));
	memcpy(b, V2SIG "\x11\x11\x00\x0c", 16);	/* version 1 */
	ck_assert_int_eq(parse(b, sizeof(b)), -1);
	memcpy(b, V2SIG "\x22\x11\x00\x0c", 16);	/* command 2 */
	ck_assert_int_eq(parse(b, sizeof(b)), -1);
	memcpy(b, V2SIG "\x21\x41\x00\x0c", 16);	/* family 4 */
	ck_assert_int_eq(parse(b, sizeof(b)), -1);
	memcpy(b, V2SIG "\x21\x13\x00\x0c", 16);	/* transport 3 */
	ck_assert_int_eq(parse(b, sizeof(b)), -1);
	memcpy(b, V2SIG "\x21\x11\x00\x04", 16);	/* short addresses */
	ck_assert_int_eq(parse(b, 20), -1);
	memcpy(b, "\r\n\r\n\0\r\nQUIZ\n", 12);		/* wrong signature */
	ck_assert_int_eq(parse(b, sizeof(b)), -1);
}
END_TEST

/* TCP over IPv4 with 1000 bytes of TLVs: the whole header, no more. */
START_TEST(test_v2_long_tlvs)
{
	char	b[16 + 12 + 1000 + 2];
	size_t	i;

	memset(b, 0, sizeof(b));
	memcpy(b, V2SIG "\x21\x11\x03\xf4", 16);	/* 12 + 1000 */
	memcpy(b + 16, "\xc0\x00\x02\x07" "\x7f\x00\x00\x01" "\xdc\x04"
	    "\x13\x88", 12);
	for (i = 0; i < 1000; i += 100) {		/* PP2_TYPE_NOOP */
		b[28 + i] = 0x04;
		b[28 + i + 2] = 97;
	}
	memcpy(b + 16 + 12 + 1000, "hi", 2);
	ck_assert_uint_eq(proxy_length(b, 16), 1028);
	ck_assert_int_eq(parse(b, sizeof(b)), 1028);
	ck_assert_int_eq(h.family, AF_INET);
	proxy_source(&h, src, sizeof(src));
	ck_assert_str_eq(src, "192.0.2.7:56324");
	for (i = 1; i < 1028; i++)
		ck_assert_msg(parse(b, i) == 0, "prefix of %zu bytes", i);
}
END_TEST

/* The protocol's longest header, 16 + 65535 bytes. */
START_TEST(test_v2_longest)
{
	char	*b;

	ck_assert_ptr_nonnull(b = calloc(1, PROXY_V2_MAX));
	memcpy(b, V2SIG "\x21\x11\xff\xff", 16);
	ck_assert_uint_eq(proxy_length(b, PROXY_V2_MAX), PROXY_V2_MAX);
	ck_assert_int_eq(parse(b, PROXY_V2_MAX - 1), 0);
	ck_assert_int_eq(parse(b, PROXY_V2_MAX), PROXY_V2_MAX);
	ck_assert_int_eq(h.family, AF_INET);
	free(b);
}
END_TEST

/* Families msgd does not use: the header is taken, the peer's address
 * kept (AF_UNSPEC), as section 2.2 of the spec says. */
START_TEST(test_v2_other_families)
{
	char	b[16 + 216];

	memset(b, 0, sizeof(b));
	memcpy(b, V2SIG "\x21\x31\x00\xd8", 16);	/* AF_UNIX stream */
	memcpy(b + 16, "/run/haproxy.sock", 17);
	ck_assert_int_eq(parse(b, sizeof(b)), (ssize_t)sizeof(b));
	ck_assert_int_eq(h.version, 2);
	ck_assert_int_eq(h.family, AF_UNSPEC);
	ck_assert_int_eq(proxy_source(&h, src, sizeof(src)), -1);
	ck_assert_int_eq(parse(b, sizeof(b) - 1), 0);

	memset(b, 0, sizeof(b));
	memcpy(b, V2SIG "\x21\x12\x00\x0c", 16);	/* UDP over IPv4 */
	memcpy(b + 16, "\xc0\x00\x02\x07" "\x7f\x00\x00\x01" "\xdc\x04"
	    "\x13\x88", 12);
	ck_assert_int_eq(parse(b, 28), 28);
	ck_assert_int_eq(h.family, AF_UNSPEC);
	ck_assert_int_eq(proxy_source(&h, src, sizeof(src)), -1);

	memcpy(b, V2SIG "\x21\x00\x00\x00", 16);	/* UNSPEC */
	ck_assert_int_eq(parse(b, 16), 16);
	ck_assert_int_eq(h.family, AF_UNSPEC);
}
END_TEST

/* LOCAL with an address block and TLVs: all of it is skipped. */
START_TEST(test_v2_local)
{
	char	b[16 + 12 + 600];

	memset(b, 0, sizeof(b));
	memcpy(b, V2SIG "\x20\x11\x02\x64", 16);	/* 12 + 600 */
	ck_assert_int_eq(parse(b, sizeof(b)), (ssize_t)sizeof(b));
	ck_assert_int_eq(h.family, AF_UNSPEC);
	ck_assert_int_eq(parse(b, sizeof(b) - 1), 0);
}
END_TEST

static Suite *
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*v1 = tcase_create("v1");
	TCase	*v2 = tcase_create("v2");

	tcase_add_test(v1, test_v1_tcp4);
	tcase_add_test(v1, test_v1_tcp6_and_unknown);
	tcase_add_test(v1, test_v1_partial);
	tcase_add_test(v1, test_empty);
	tcase_add_test(v1, test_v1_malformed);
	tcase_add_test(v1, test_v1_too_long);
	suite_add_tcase(s, v1);
	tcase_add_test(v2, test_v2_tcp4);
	tcase_add_test(v2, test_v2_tcp6_tlv_local);
	tcase_add_test(v2, test_v2_malformed);
	tcase_add_test(v2, test_v2_long_tlvs);
	tcase_add_test(v2, test_v2_longest);
	tcase_add_test(v2, test_v2_other_families);
	tcase_add_test(v2, test_v2_local);
	suite_add_tcase(s, v2);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(proxy_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
