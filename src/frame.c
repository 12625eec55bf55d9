/*
 * frame.c - the message format: lines in, lines out.
 *
 * A line ends at LF; a CR just before the LF belongs to the terminator.
 * Replies are the fixed message, or the line itself (--echo), plus LF.
 * Nothing here reads, writes or allocates, so all of it is unit-tested.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <string.h>

#include "frame.h"

static const char frame_lf[] = "\n";

/*
 * Find the first complete line in buf[0, len).  The first 'from' bytes are
 * already known to hold no LF (the caller scanned them on an earlier read),
 * so an endless line is scanned once, not once per read.
 *
 * Returns the length including the terminator, or 0 if there is no LF yet.
 * *linelen gets the length of the line's content.
 */
size_t
frame_line(const char *buf, size_t len, size_t from, size_t *linelen)
{
	const char	*lf;

	if (from >= len)
		return (0);
	if ((lf = memchr(buf + from, '\n', len - from)) == NULL)
		return (0);
	*linelen = frame_strip(buf, (size_t)(lf - buf));
	return ((size_t)(lf - buf) + 1);
}

/* The content length of buf[0, len) once a trailing CR is dropped. */
size_t
frame_strip(const char *buf, size_t len)
{
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	return (len);
}

/*
 * The reply to one line as up to two iovecs, pointing into the line or the
 * configured message: nothing is copied until the caller adds them to its
 * output buffer.  Returns the number of iovecs used.
 */
int
frame_compose(const struct frame_reply *r, const char *line, size_t linelen,
    struct iovec *iov)
{
	if (!r->echo) {
		iov[0].iov_base = (void *)r->message;
		iov[0].iov_len = r->message_len + 1;	/* with its LF */
		return (1);
	}
	if (linelen == 0) {
		iov[0].iov_base = (void *)frame_lf;
		iov[0].iov_len = 1;
		return (1);
	}
	iov[0].iov_base = (void *)line;
	iov[0].iov_len = linelen;
	iov[1].iov_base = (void *)frame_lf;
	iov[1].iov_len = 1;
	return (2);
}

/*
 * Add the reply to one line to the n iovecs in iov (which has room for
 * two more) and return the new count.  Fixed replies in a row become one
 * longer piece of r->message, which holds r->run_len bytes of them back
 * to back: a batch of replies is then one contiguous copy for the kernel,
 * not one iovec each.
 */
int
frame_append(const struct frame_reply *r, const char *line, size_t linelen,
    struct iovec *iov, int n)
{
	size_t	one = r->message_len + 1;

	if (!r->echo && n > 0 && iov[n - 1].iov_base == (void *)r->message &&
	    iov[n - 1].iov_len + one <= r->run_len) {
		iov[n - 1].iov_len += one;
		return (n);
	}
	return (n + frame_compose(r, line, linelen, iov + n));
}

/* How many bytes the reply to a line of linelen bytes takes. */
size_t
frame_reply_len(const struct frame_reply *r, size_t linelen)
{
	return ((r->echo ? linelen : r->message_len) + 1);
}
