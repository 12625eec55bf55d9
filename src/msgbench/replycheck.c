/*
 * replycheck.c - is what the server sent exactly the replies we expect?
 *
 * Every reply is the same string, so the only state a connection needs is
 * how far into the current reply it is: a read may end mid-reply, or hold
 * many replies, and neither costs a copy.  The caller says how many replies
 * it is still owed, so a byte beyond them is caught as well as a wrong one.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <string.h>

#include "replycheck.h"

/* expect must stay valid while the checker is used: it is not copied. */
void
replycheck_init(struct replycheck *rc, const char *expect, size_t len)
{
	memset(rc, 0, sizeof(*rc));
	rc->expect = expect;
	rc->len = len;
}

/* A new connection: start at the beginning of a reply. */
void
replycheck_reset(struct replycheck *rc)
{
	replycheck_init(rc, rc->expect, rc->len);
}

/*
 * Check buf[0, len), which follows whatever was fed before.  At most 'owed'
 * replies may complete in it; *done gets how many did, including those
 * before a bad byte, so they can be counted as answered.  After a mismatch
 * the stream cannot be trusted: the caller should reset or stop.
 */
enum replycheck_result
replycheck_feed(struct replycheck *rc, const char *buf, size_t len,
    size_t owed, size_t *done)
{
	size_t	off = 0, n, i;

	*done = 0;
	while (off < len) {
		if (rc->pos == 0 && *done == owed) {
			rc->bad_reply = rc->replies;
			rc->bad_offset = 0;
			rc->bad_expected = -1;
			rc->bad_got = (unsigned char)buf[off];
			return (REPLYCHECK_EXTRA);
		}
		n = rc->len - rc->pos;
		if (n > len - off)
			n = len - off;
		if (memcmp(buf + off, rc->expect + rc->pos, n) != 0) {
			for (i = 0; buf[off + i] == rc->expect[rc->pos + i];
			    i++)
				;
			rc->bad_reply = rc->replies;
			rc->bad_offset = rc->pos + i;
			rc->bad_expected =
			    (unsigned char)rc->expect[rc->pos + i];
			rc->bad_got = (unsigned char)buf[off + i];
			return (REPLYCHECK_MISMATCH);
		}
		off += n;
		if ((rc->pos += n) == rc->len) {
			rc->pos = 0;
			rc->replies++;
			(*done)++;
		}
	}
	return (REPLYCHECK_OK);
}

/* Bytes of an unfinished reply: non-zero if a close cut one short. */
size_t
replycheck_partial(const struct replycheck *rc)
{
	return (rc->pos);
}
