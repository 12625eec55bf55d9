/*
 * check_connbuf.c - unit tests for connbuf_fill_header(): a PROXY header
 * read off a socket without a byte of what follows it (the ClientHello,
 * on a TLS listener).
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "msgd.h"
#include "proxy.h"

#define V2SIG	"\r\n\r\n\0\r\nQUIT\n"
#define AFTER	"\x16\x03\x01 ClientHello"

static char		 scratch[CONN_READ_ASK];
static int		 sv[2];
static struct evbuffer	*in;

static void
setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_ptr_nonnull(in = evbuffer_new());
}

static void
teardown(void)
{
	evbuffer_free(in);
	close(sv[0]);
	close(sv[1]);
}

/* Send len bytes, then read headers until the buffer holds hlen. */
static void
fill(const char *buf, size_t len, size_t hlen)
{
	char	rest[64];
	int	i;

	ck_assert_int_eq(write(sv[1], buf, len), (ssize_t)len);
	for (i = 0; i < 64 && evbuffer_get_length(in) < hlen; i++)
		ck_assert_int_gt(connbuf_fill_header(in, sv[0], scratch), 0);
	ck_assert_uint_eq(evbuffer_get_length(in), hlen);
	/* What follows is still in the socket, whole. */
	ck_assert_int_eq(recv(sv[0], rest, sizeof(rest), MSG_DONTWAIT),
	    (ssize_t)strlen(AFTER));
	ck_assert_int_eq(memcmp(rest, AFTER, strlen(AFTER)), 0);
}

START_TEST(test_v1)
{
	const char	*h = "PROXY TCP4 192.0.2.7 127.0.0.1 56324 5000\r\n";
	char		 buf[128];

	snprintf(buf, sizeof(buf), "%s%s", h, AFTER);
	fill(buf, strlen(buf), strlen(h));
}
END_TEST

START_TEST(test_v2)
{
	/* TCP over IPv4, 12 address bytes and a 3-byte TLV. */
	static const char h[] = V2SIG "\041\021\000\017"
	    "\300\000\002\007\177\000\000\001\334\004\023\210" "\004\000\000";
	char	buf[128];

	memcpy(buf, h, sizeof(h) - 1);
	memcpy(buf + sizeof(h) - 1, AFTER, strlen(AFTER));
	fill(buf, sizeof(h) - 1 + strlen(AFTER), sizeof(h) - 1);
}
END_TEST

START_TEST(test_v2_in_pieces)
{
	static const char h[] = V2SIG "\041\021\000\014"
	    "\300\000\002\007\177\000\000\001\334\004\023\210";

	/* The signature alone, then the rest with what follows. */
	ck_assert_int_eq(write(sv[1], h, 12), 12);
	while (evbuffer_get_length(in) < 12)
		ck_assert_int_gt(connbuf_fill_header(in, sv[0], scratch), 0);
	ck_assert_int_eq(write(sv[1], h + 12, sizeof(h) - 1 - 12),
	    (ssize_t)(sizeof(h) - 1 - 12));
	fill(AFTER, strlen(AFTER), sizeof(h) - 1);
}
END_TEST

static Suite *
connbuf_suite(void)
{
	Suite	*s = suite_create("connbuf");
	TCase	*tc = tcase_create("header");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_v1);
	tcase_add_test(tc, test_v2);
	tcase_add_test(tc, test_v2_in_pieces);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(connbuf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
