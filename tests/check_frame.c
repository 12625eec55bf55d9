/*
 * check_frame.c - unit tests for frame.c: lines, replies, and
 * frame_answer in each mode (one-shot, keep-open, datagram) at its edges.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define HELLO		"Hello, client!\n"
#define TOO_LONG	FRAME_TOO_LONG_TEXT

static const struct frame_policy fixed = {
	.message = HELLO, .message_len = 14, .max_message = 4,
	.mode = FRAME_KEEP_OPEN
};
static const struct frame_policy echo = {
	.message = HELLO, .message_len = 14, .max_message = 4, .echo = 1,
	.mode = FRAME_KEEP_OPEN
};
/* Three replies back to back, as server_new() lays out its message. */
static const struct frame_policy run3 = {
	.message = HELLO HELLO HELLO, .message_len = 14, .run_len = 45,
	.max_message = 4, .mode = FRAME_KEEP_OPEN
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
	static char	buf[1024];
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


/* frame_answer: the policy under test, with a mode and --max-message 4. */
static struct frame_policy	p;
static struct iovec		biov[64];
static struct frame_batch	b;

static void
setup(enum frame_mode mode, int is_echo)
{
	p = is_echo ? echo : fixed;
	p.mode = mode;
	memset(&b, 0, sizeof(b));
	b.iov = biov;
	b.maxiov = 64;
	b.room = 65536;
}

/* Answer s (whole), expecting status st, replies out, used bytes used. */
static void
answer(const char *s, int last, enum frame_status st, const char *out,
    size_t used)
{
	ck_assert_int_eq(frame_answer(&p, s, strlen(s), last, &b), st);
	ck_assert_str_eq(join(b.iov, b.niov), out);
	ck_assert_uint_eq(b.reply_bytes, strlen(out));
	ck_assert_uint_eq(b.used, used);
}

START_TEST(test_keep_lines)
{
	setup(FRAME_KEEP_OPEN, 1);
	answer("ab\ncd\r\n\n", 0, FRAME_MORE, "ab\ncd\n\n", 8);
	ck_assert_int_eq(b.nreplies, 3);
	ck_assert_uint_eq(b.scanned, 0);
	setup(FRAME_KEEP_OPEN, 0);
	answer("ab\ncd\n", 0, FRAME_MORE, HELLO HELLO, 6);
	ck_assert_int_eq(b.nreplies, 2);
}
END_TEST

/* A part line waits, and the scan resumes where it stopped. */
START_TEST(test_keep_partial)
{
	setup(FRAME_KEEP_OPEN, 1);
	answer("ab\ncd", 0, FRAME_MORE, "ab\n", 3);
	ck_assert_uint_eq(b.scanned, 2);
	/* the rest arrives: the caller keeps "cd" and passes scanned on */
	answer("cd\r\n", 0, FRAME_MORE, "cd\n", 4);
	ck_assert_uint_eq(b.scanned, 0);
	/* a CR alone is not yet a line end */
	answer("cd\r", 0, FRAME_MORE, "", 0);
	ck_assert_uint_eq(b.scanned, 3);
	ck_assert_int_eq(b.nreplies, 0);
}
END_TEST

/* Exactly --max-message bytes is answered, one more is refused. */
START_TEST(test_keep_max)
{
	setup(FRAME_KEEP_OPEN, 1);
	answer("abcd\n", 0, FRAME_MORE, "abcd\n", 5);
	answer("abcd\r\n", 0, FRAME_MORE, "abcd\n", 6);
	/* lines before the long one are answered, the rest dropped */
	answer("a\nabcde\nb\n", 0, FRAME_TOO_LONG, "a\n" TOO_LONG, 10);
	ck_assert_int_eq(b.nreplies, 1);
	answer("abcde\r\n", 0, FRAME_TOO_LONG, TOO_LONG, 7);
	ck_assert_int_eq(b.nreplies, 0);
}
END_TEST

/* A line without its LF is refused as soon as it is over the limit. */
START_TEST(test_keep_partial_over)
{
	setup(FRAME_KEEP_OPEN, 0);
	answer("abcd", 0, FRAME_MORE, "", 0);
	b.scanned = 0;
	answer("abcd\r", 0, FRAME_MORE, "", 0);	/* may be a CRLF */
	b.scanned = 0;
	answer("a\nabcde", 0, FRAME_TOO_LONG, HELLO TOO_LONG, 7);
	answer("abcd\rx", 0, FRAME_TOO_LONG, TOO_LONG, 6);
	/* the same rule, for a caller that did not look at the bytes */
	ck_assert_int_eq(frame_waiting(&p, 4, 0, &b), FRAME_MORE);
	ck_assert_uint_eq(b.scanned, 4);
	ck_assert_int_eq(frame_waiting(&p, 5, 1, &b), FRAME_MORE);
	ck_assert_int_eq(frame_waiting(&p, 5, 0, &b), FRAME_TOO_LONG);
	ck_assert_str_eq(join(b.iov, b.niov), TOO_LONG);
	ck_assert_uint_eq(b.used, 5);
}
END_TEST

/* At EOF an unterminated last line is a line too; then it is over. */
START_TEST(test_keep_eof)
{
	setup(FRAME_KEEP_OPEN, 1);
	answer("a\nlast", 1, FRAME_DONE, "a\nlast\n", 6);
	answer("a\nlast\r", 1, FRAME_DONE, "a\nlast\n", 7);
	answer("a\n", 1, FRAME_DONE, "a\n", 2);
	answer("", 1, FRAME_DONE, "", 0);
	answer("abcde", 1, FRAME_TOO_LONG, TOO_LONG, 5);
}
END_TEST

/* The batch fills by pieces and by bytes; the next call carries on. */
START_TEST(test_keep_full)
{
	const char	*in = "a\nb\nc\n";

	setup(FRAME_KEEP_OPEN, 1);
	b.maxiov = FRAME_MIN_IOVS;
	answer(in, 0, FRAME_FULL, "a\n", 2);
	answer(in + 2, 0, FRAME_FULL, "b\n", 2);
	answer(in + 4, 0, FRAME_MORE, "c\n", 2);
	/* no room for the last line's reply at EOF: that is next time */
	answer("a\nlast", 1, FRAME_FULL, "a\n", 2);
	answer("last", 1, FRAME_DONE, "last\n", 4);
	setup(FRAME_KEEP_OPEN, 0);
	b.room = 30;
	answer(in, 0, FRAME_FULL, HELLO HELLO, 4);
	answer(in + 4, 0, FRAME_MORE, HELLO, 2);
}
END_TEST

START_TEST(test_keep_empty_line)
{
	setup(FRAME_KEEP_OPEN, 1);
	answer("\n\r\n", 0, FRAME_MORE, "\n\n", 3);
	setup(FRAME_KEEP_OPEN, 0);
	answer("\n", 0, FRAME_MORE, HELLO, 1);
}
END_TEST

/* One-shot: the first line is the message, and what follows is dropped. */
START_TEST(test_oneshot_line)
{
	setup(FRAME_ONESHOT, 1);
	answer("ab\r\nmore\n", 0, FRAME_DONE, "ab\n", 9);
	ck_assert_int_eq(b.nreplies, 1);
	setup(FRAME_ONESHOT, 0);
	answer("\n", 0, FRAME_DONE, HELLO, 1);
	answer("abcd\n", 0, FRAME_DONE, HELLO, 5);
	answer("abcde\n", 0, FRAME_TOO_LONG, TOO_LONG, 6);
	ck_assert_int_eq(b.nreplies, 0);
}
END_TEST

/* One-shot without a newline: more may come, or (last) that was it. */
START_TEST(test_oneshot_no_newline)
{
	setup(FRAME_ONESHOT, 1);
	answer("abc", 0, FRAME_MORE, "", 0);
	ck_assert_uint_eq(b.scanned, 3);
	answer("abc", 1, FRAME_DONE, "abc\n", 3);
	answer("abcd\r", 1, FRAME_DONE, "abcd\n", 5);
	answer("abcde", 0, FRAME_TOO_LONG, TOO_LONG, 5);
	answer("abcde", 1, FRAME_TOO_LONG, TOO_LONG, 5);
	/* nothing at all before EOF: no message, no reply */
	answer("", 1, FRAME_DONE, "", 0);
	ck_assert_int_eq(b.nreplies, 0);
}
END_TEST

/* UDP: the whole datagram is the message, less one line end. */
START_TEST(test_datagram)
{
	setup(FRAME_DATAGRAM, 1);
	answer("ab\n", 1, FRAME_DONE, "ab\n", 3);
	answer("ab\r\n", 1, FRAME_DONE, "ab\n", 4);
	answer("a\nb", 1, FRAME_DONE, "a\nb\n", 3);
	answer("", 1, FRAME_DONE, "\n", 0);
	answer("abcd\n", 1, FRAME_DONE, "abcd\n", 5);
	answer("abcde", 1, FRAME_TOO_LONG, TOO_LONG, 5);
	/* 'last' does not matter: a datagram is always whole */
	answer("ab", 0, FRAME_DONE, "ab\n", 2);
	setup(FRAME_DATAGRAM, 0);
	answer("x", 1, FRAME_DONE, HELLO, 1);
	ck_assert_int_eq(b.nreplies, 1);
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite	*s = suite_create("frame");
	TCase	*lines = tcase_create("lines");
	TCase	*replies = tcase_create("replies");
	TCase	*keep = tcase_create("keep-open");
	TCase	*oneshot = tcase_create("one-shot");
	TCase	*datagram = tcase_create("datagram");

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
	tcase_add_test(keep, test_keep_lines);
	tcase_add_test(keep, test_keep_partial);
	tcase_add_test(keep, test_keep_max);
	tcase_add_test(keep, test_keep_partial_over);
	tcase_add_test(keep, test_keep_eof);
	tcase_add_test(keep, test_keep_full);
	tcase_add_test(keep, test_keep_empty_line);
	suite_add_tcase(s, keep);
	tcase_add_test(oneshot, test_oneshot_line);
	tcase_add_test(oneshot, test_oneshot_no_newline);
	suite_add_tcase(s, oneshot);
	tcase_add_test(datagram, test_datagram);
	suite_add_tcase(s, datagram);
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
