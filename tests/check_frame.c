/*
 * check_frame.c - unit tests for frame.c: lines and replies.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static const struct frame_reply fixed = { "Hello, client!\n", 14, 0, 0 };
static const struct frame_reply echo = { "Hello, client!\n", 14, 1, 0 };
/* Three replies back to back, as server_new() lays out its message. */
static const struct frame_reply run3 = {
	"Hello, client!\nHello, client!\nHello, client!\n", 14, 0, 45
};

START_TEST(test_lf)
{
	size_t	len = 99;

	ck_assert_uint_eq(frame_line("abc\n", 4, 0, &len), 4);
	ck_assert_uint_eq(len, 3);
}
END_TEST

START_TEST(test_crlf)
{
	size_t	len = 99;

	ck_assert_uint_eq(frame_line("abc\r\nx", 6, 0, &len), 5);
	ck_assert_uint_eq(len, 3);
}
END_TEST

START_TEST(test_lone_cr_is_data)
{
	size_t	len = 99;

	ck_assert_uint_eq(frame_line("a\rb\n", 4, 0, &len), 4);
	ck_assert_uint_eq(len, 3);
}
END_TEST

START_TEST(test_empty_lines)
{
	size_t	len = 99;

	ck_assert_uint_eq(frame_line("\n", 1, 0, &len), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(frame_line("\r\n", 2, 0, &len), 2);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_no_line_yet)
{
	size_t	len = 99;

	ck_assert_uint_eq(frame_line("abc", 3, 0, &len), 0);
	ck_assert_uint_eq(len, 99);	/* untouched */
	ck_assert_uint_eq(frame_line("", 0, 0, &len), 0);
	ck_assert_uint_eq(frame_line("abc\r", 4, 0, &len), 0);
}
END_TEST

START_TEST(test_many_lines)
{
	const char	*buf = "one\ntwo\r\n\nfour\nrest";
	const char	*want[] = { "one", "two", "", "four" };
	size_t		 len = strlen(buf), off = 0, n, linelen;
	int		 i = 0;

	while ((n = frame_line(buf + off, len - off, 0, &linelen)) != 0) {
		ck_assert_int_lt(i, 4);
		ck_assert_uint_eq(linelen, strlen(want[i]));
		ck_assert(memcmp(buf + off, want[i], linelen) == 0);
		off += n;
		i++;
	}
	ck_assert_int_eq(i, 4);
	ck_assert_str_eq(buf + off, "rest");
}
END_TEST

/* A line arriving in pieces: the scanned prefix is not scanned again. */
START_TEST(test_split_across_reads)
{
	char	buf[16];
	size_t	len, linelen = 99;

	memcpy(buf, "hel", 3);
	ck_assert_uint_eq(frame_line(buf, 3, 0, &linelen), 0);
	memcpy(buf + 3, "lo\r", 3);
	ck_assert_uint_eq(frame_line(buf, 6, 3, &linelen), 0);
	memcpy(buf + 6, "\n", 1);
	len = frame_line(buf, 7, 6, &linelen);
	ck_assert_uint_eq(len, 7);
	ck_assert_uint_eq(linelen, 5);
	/* "from" past the end finds nothing rather than reading past it */
	ck_assert_uint_eq(frame_line(buf, 7, 7, &linelen), 0);
}
END_TEST

START_TEST(test_nul_bytes)
{
	size_t	len = 99;

	ck_assert_uint_eq(frame_line("a\0b\n", 4, 0, &len), 4);
	ck_assert_uint_eq(len, 3);
}
END_TEST

START_TEST(test_unterminated_last_line)
{
	ck_assert_uint_eq(frame_strip("last", 4), 4);
	ck_assert_uint_eq(frame_strip("last\r", 5), 4);
	ck_assert_uint_eq(frame_strip("", 0), 0);
	ck_assert_uint_eq(frame_strip("\r", 1), 0);
}
END_TEST

static char *
join(const struct iovec *iov, int n)
{
	static char	buf[256];
	size_t		off = 0;
	int		i;

	for (i = 0; i < n; i++) {
		memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	buf[off] = '\0';
	return (buf);
}

START_TEST(test_reply_fixed)
{
	struct iovec	iov[2];
	int		n;

	n = frame_compose(&fixed, "whatever", 8, iov);
	ck_assert_str_eq(join(iov, n), "Hello, client!\n");
	ck_assert_uint_eq(frame_reply_len(&fixed, 8), 15);
	n = frame_compose(&fixed, "", 0, iov);
	ck_assert_str_eq(join(iov, n), "Hello, client!\n");
}
END_TEST

START_TEST(test_reply_echo)
{
	struct iovec	iov[2];
	int		n;

	n = frame_compose(&echo, "ping pong", 9, iov);
	ck_assert_str_eq(join(iov, n), "ping pong\n");
	ck_assert_uint_eq(frame_reply_len(&echo, 9), 10);
	/* only the line's own bytes, not what follows it in the buffer */
	n = frame_compose(&echo, "abc\r\n", 3, iov);
	ck_assert_str_eq(join(iov, n), "abc\n");
}
END_TEST

START_TEST(test_reply_echo_empty)
{
	struct iovec	iov[2];
	int		n;

	n = frame_compose(&echo, "", 0, iov);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(join(iov, n), "\n");
	ck_assert_uint_eq(frame_reply_len(&echo, 0), 1);
}
END_TEST

/* Fixed replies in a row share a piece, up to the run's length. */
START_TEST(test_append_run)
{
	struct iovec	iov[8];
	int		i, n = 0;

	for (i = 0; i < 4; i++)
		n = frame_append(&run3, "x", 1, iov, n);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(iov[0].iov_len, 45);
	ck_assert_uint_eq(iov[1].iov_len, 15);
	ck_assert_str_eq(join(iov, n), "Hello, client!\nHello, client!\n"
	    "Hello, client!\nHello, client!\n");
}
END_TEST

/* Without a run (run_len 0), every reply is a piece of its own. */
START_TEST(test_append_no_run)
{
	struct iovec	iov[8];
	int		i, n = 0;

	for (i = 0; i < 3; i++)
		n = frame_append(&fixed, "x", 1, iov, n);
	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(join(iov, n),
	    "Hello, client!\nHello, client!\nHello, client!\n");
}
END_TEST

/* Echoed lines are never joined: each points into its own line. */
START_TEST(test_append_echo)
{
	struct iovec	iov[8];
	int		n = 0;

	n = frame_append(&echo, "one", 3, iov, n);
	n = frame_append(&echo, "", 0, iov, n);
	n = frame_append(&echo, "three", 5, iov, n);
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(join(iov, n), "one\n\nthree\n");
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite	*s = suite_create("frame");
	TCase	*lines = tcase_create("lines");
	TCase	*replies = tcase_create("replies");

	tcase_add_test(lines, test_lf);
	tcase_add_test(lines, test_crlf);
	tcase_add_test(lines, test_lone_cr_is_data);
	tcase_add_test(lines, test_empty_lines);
	tcase_add_test(lines, test_no_line_yet);
	tcase_add_test(lines, test_many_lines);
	tcase_add_test(lines, test_split_across_reads);
	tcase_add_test(lines, test_nul_bytes);
	tcase_add_test(lines, test_unterminated_last_line);
	suite_add_tcase(s, lines);
	tcase_add_test(replies, test_reply_fixed);
	tcase_add_test(replies, test_reply_echo);
	tcase_add_test(replies, test_reply_echo_empty);
	tcase_add_test(replies, test_append_run);
	tcase_add_test(replies, test_append_no_run);
	tcase_add_test(replies, test_append_echo);
	suite_add_tcase(s, replies);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(frame_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
