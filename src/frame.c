/*
 * frame.c - the message format: lines in, lines out.
 *
 * A line ends at LF; a CR just before the LF belongs to the terminator.
 * Replies are the fixed message, or the line itself (--echo), plus LF; a
 * message over --max-message gets FRAME_TOO_LONG_TEXT and ends the
 * conversation.  frame_answer is the whole rule, for one-shot and
 * keep-open TCP and for UDP datagrams alike: conn.c and udp.c only move
 * bytes.  Nothing here reads, writes or allocates, so all of it is
 * unit-tested.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <string.h>

#include "frame.h"

static const char frame_lf[] = "\n";
static const char frame_too_long[] = FRAME_TOO_LONG_TEXT;

static void	frame_begin(struct frame_batch *);
static void	frame_reply(const struct frame_policy *, const char *, size_t,
		    struct frame_batch *);
static enum frame_status frame_refuse(struct frame_batch *, size_t);
static enum frame_status frame_last(const struct frame_policy *,
		    const char *, size_t, size_t, struct frame_batch *);
static enum frame_status frame_wait(const struct frame_policy *, size_t,
		    size_t, int, struct frame_batch *);

/*
 * Answer what buf[0, len) holds.  'last' says no more input will come
 * (EOF; in one-shot mode also a first message sent without a newline), so
 * an unterminated rest is a message too.  The first b->scanned bytes are
 * known to hold no LF and are not scanned again, so a long line arriving
 * in pieces is scanned once.
 *
 * Returns FRAME_MORE when every complete line is answered (b->used bytes;
 * the rest, b->scanned bytes, is part of a line still arriving),
 * FRAME_FULL when the batch filled up before that (call again after
 * sending it), FRAME_DONE when the conversation is over after these
 * replies, FRAME_TOO_LONG when a message was over the limit (the error
 * line ends the batch).  With DONE and TOO_LONG b->used is all of len:
 * what follows the last message is dropped.
 */
enum frame_status
frame_answer(const struct frame_policy *p, const char *buf, size_t len,
    int last, struct frame_batch *b)
{
	size_t	n, linelen, rest;

	frame_begin(b);
	if (p->mode == FRAME_DATAGRAM) {
		/* A datagram is one message; a line end is dropped. */
		linelen = len;
		if (linelen > 0 && buf[linelen - 1] == '\n')
			linelen = frame_strip(buf, linelen - 1);
		return (frame_last(p, buf, linelen, len, b));
	}
	while ((n = frame_line(buf + b->used, len - b->used, b->scanned,
	    &linelen)) != 0) {
		b->scanned = 0;
		if (b->niov > b->maxiov - FRAME_MIN_IOVS ||
		    b->reply_bytes >= b->room)
			return (FRAME_FULL);	/* this line is next */
		if (linelen > p->max_message)
			return (frame_refuse(b, len));
		frame_reply(p, buf + b->used, linelen, b);
		b->used += n;
		if (p->mode == FRAME_ONESHOT) {
			b->used = len;
			return (FRAME_DONE);
		}
	}
	rest = len - b->used;
	if (!last)
		return (frame_wait(p, len, rest,
		    rest > 0 && buf[len - 1] == '\r', b));
	/* The end of the input ends the last line (if any) too. */
	b->scanned = 0;
	if (rest == 0)
		return (FRAME_DONE);
	if (b->niov > b->maxiov - FRAME_MIN_IOVS || b->reply_bytes >= b->room)
		return (FRAME_FULL);
	return (frame_last(p, buf + b->used, frame_strip(buf + b->used, rest),
	    len, b));
}

/*
 * A line of len bytes has no LF yet (cr: it ends in a CR, which may be
 * the start of a CRLF).  Returns FRAME_MORE, or FRAME_TOO_LONG with the
 * error line in the batch once it is already over the limit.  For a
 * caller that knows there is no LF without looking at the bytes.
 */
enum frame_status
frame_waiting(const struct frame_policy *p, size_t len, int cr,
    struct frame_batch *b)
{
	frame_begin(b);
	return (frame_wait(p, len, len, cr, b));
}

static enum frame_status
frame_wait(const struct frame_policy *p, size_t len, size_t rest, int cr,
    struct frame_batch *b)
{
	if (rest - (cr ? 1 : 0) > p->max_message)
		return (frame_refuse(b, len));
	b->scanned = rest;
	return (FRAME_MORE);
}

static void
frame_begin(struct frame_batch *b)
{
	b->niov = b->nreplies = 0;
	b->reply_bytes = b->used = 0;
}

static void
frame_reply(const struct frame_policy *p, const char *line, size_t linelen,
    struct frame_batch *b)
{
	b->niov = frame_append(p, line, linelen, b->iov, b->niov);
	b->nreplies++;
	b->reply_bytes += frame_reply_len(p, linelen);
}

/* The final message, of linelen bytes at line; len bytes are used up. */
static enum frame_status
frame_last(const struct frame_policy *p, const char *line, size_t linelen,
    size_t len, struct frame_batch *b)
{
	if (linelen > p->max_message)
		return (frame_refuse(b, len));
	frame_reply(p, line, linelen, b);
	b->used = len;
	b->scanned = 0;
	return (FRAME_DONE);
}

/* Over the limit: the error line, and the input (len bytes) dropped. */
static enum frame_status
frame_refuse(struct frame_batch *b, size_t len)
{
	b->iov[b->niov].iov_base = (void *)frame_too_long;
	b->iov[b->niov].iov_len = sizeof(frame_too_long) - 1;
	b->niov++;
	b->reply_bytes += sizeof(frame_too_long) - 1;
	b->used = len;
	b->scanned = 0;
	return (FRAME_TOO_LONG);
}

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
frame_compose(const struct frame_policy *r, const char *line, size_t linelen,
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
frame_append(const struct frame_policy *r, const char *line, size_t linelen,
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
frame_reply_len(const struct frame_policy *r, size_t linelen)
{
	return ((r->echo ? linelen : r->message_len) + 1);
}
