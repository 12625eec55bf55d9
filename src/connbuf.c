/*
 * connbuf.c - a connection's buffers, for when something has to wait.
 *
 * conn.c answers what it can straight from the worker's read buffer.  The
 * rest -- an unfinished line, replies the socket did not take, a PROXY
 * header, input during the drain -- lives in a bufferevent made for the
 * connection the first time it is needed: the input buffer keeps what has
 * not been answered, the output buffer what has not been written, and the
 * bufferevent waits for writability (with the idle timeout).  Reads stay
 * msgd's own (connbuf_read): the bufferevent's read callback would call
 * ioctl(FIONREAD) before every read.  While either buffer holds anything,
 * every read of the connection comes here, so the order of lines and
 * replies is kept.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "msgd.h"
#include "proxy.h"

static const char connbuf_too_long[] = "error: message too long\n";

static ssize_t	connbuf_fill(struct conn *);
static int	connbuf_write_now(struct conn *, struct evbuffer *);
static int	connbuf_has_lf(struct conn *, struct evbuffer *, size_t);
static int	connbuf_answer(struct conn *, struct evbuffer *,
		    struct evbuffer *);
static void	connbuf_reply(struct conn *, struct evbuffer *, const char *,
		    size_t);
static void	connbuf_refuse_line(struct conn *, struct evbuffer *);
static int	connbuf_proxy(struct conn *, struct evbuffer *);
static void	connbuf_flush(struct conn *);
static void	connbuf_write(struct bufferevent *, void *);
static void	connbuf_event(struct bufferevent *, short, void *);

/* Give the connection its buffers; if that fails, it is closed. */
int
connbuf_new(struct conn *c)
{
	struct server	*srv = c->srv;

	c->bev = bufferevent_socket_new(srv->base, c->fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warn("connection %d: cannot set up buffers", c->fd);
		c->why = CONN_CLOSE_ERROR;
		conn_free(c);
		return (-1);
	}
	bufferevent_setcb(c->bev, NULL, connbuf_write, connbuf_event, c);
	bufferevent_set_timeouts(c->bev, NULL, srv->idle);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	/* The bufferevent freezes its input's end for its own reads; we do
	 * the reading (connbuf_fill), so let us add to it. */
	evbuffer_unfreeze(bufferevent_get_input(c->bev), 0);
	return (0);
}

/* Whether anything waits in the buffers. */
int
connbuf_pending(const struct conn *c)
{
	return (c->bev != NULL &&
	    (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0));
}

/*
 * nreplies more replies wait in the output, to lines that arrived at the
 * last read (c->read_at); conn_drained() counts them once it is empty.
 */
static void
connbuf_waiting(struct conn *c, int nreplies)
{
	if (nreplies > 0 && c->waiting == 0)
		c->waiting_since = c->read_at;
	c->waiting += (uint32_t)nreplies;
}

/*
 * Queue reply pieces the socket did not take, skipping the 'done' bytes
 * of the first that it did; they hold (at least the end of) nreplies
 * replies.  Returns -1 if the connection was closed.
 */
int
connbuf_queue(struct conn *c, const struct iovec *iov, int niov, size_t done,
    int nreplies)
{
	struct evbuffer	*out;
	int		 i;

	if (c->bev == NULL && connbuf_new(c) == -1)
		return (-1);
	out = bufferevent_get_output(c->bev);
	for (i = 0; i < niov; i++, done = 0)
		evbuffer_add(out, (const char *)iov[i].iov_base + done,
		    iov[i].iov_len - done);
	connbuf_waiting(c, nreplies);
	return (0);
}

/*
 * Keep the unanswered rest of a read in the input (after any replies
 * queued before it) and carry on from the buffers.
 */
void
connbuf_spill(struct conn *c, const char *rest, size_t len)
{
	if (c->bev == NULL && connbuf_new(c) == -1)
		return;
	if (len > 0 &&
	    evbuffer_add(bufferevent_get_input(c->bev), rest, len) == -1) {
		c->why = CONN_CLOSE_ERROR;
		conn_free(c);
		return;
	}
	if (len > 0)
		c->read_at = stats_now();
	c->scanned = 0;
	connbuf_process(c);
}

/*
 * Write what the output buffer holds, now.  The bufferevent freezes the
 * start of its output except while its own write callback runs, so it is
 * unfrozen first (or evbuffer_write fails without writing).  Returns -1
 * only when the connection is broken.
 */
static int
connbuf_write_now(struct conn *c, struct evbuffer *out)
{
	evbuffer_unfreeze(out, 1);
	errno = 0;
	if (evbuffer_write(out, c->fd) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		return (-1);
	return (0);
}

/*
 * Read once into the input buffer.  Returns the bytes read, 0 at EOF, -1
 * on error (errno EAGAIN: nothing there after all).
 */
static ssize_t
connbuf_fill(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	if (evbuffer_reserve_space(in, CONN_READ_ASK, &v, 1) != 1) {
		errno = ENOMEM;
		return (-1);
	}
	if (v.iov_len > CONN_READ_ASK)
		v.iov_len = CONN_READ_ASK;	/* the memory bound counts on it */
	if ((n = read(c->fd, v.iov_base, v.iov_len)) > 0) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(in, &v, 1);
		c->read_at = stats_now();
	}
	return (n);
}

/* The connection is readable and has (or needs) buffers. */
void
connbuf_read(struct conn *c)
{
	struct evbuffer	*in;
	ssize_t		 n;
	size_t		 len;

	if (c->bev == NULL && connbuf_new(c) == -1)
		return;
	if ((n = connbuf_fill(c)) == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			c->why = CONN_CLOSE_ERROR;
			conn_free(c);
		}
		return;
	}
	if (n == 0) {
		c->eof = 1;
		conn_pause(c, 1);
		switch (c->state) {
		case CONN_READING:
			if (!c->paused)
				connbuf_process(c);
			break;	/* if paused, conn_drained() carries on */
		case CONN_CLOSING:
			break;	/* conn_drained() frees it */
		case CONN_LINGERING:
			conn_free(c);
			break;
		}
		return;
	}
	if (c->state == CONN_READING) {
		connbuf_process(c);
		return;
	}
	in = bufferevent_get_input(c->bev);
	len = evbuffer_get_length(in);
	evbuffer_drain(in, len);
	conn_discard(c, len);
}

static void
connbuf_reply(struct conn *c, struct evbuffer *out, const char *line,
    size_t len)
{
	struct iovec	iov[2];
	int		i, n;

	n = conn_compose(c, line, len, iov, 0);
	for (i = 0; i < n; i++)
		evbuffer_add(out, iov[i].iov_base, iov[i].iov_len);
	connbuf_waiting(c, 1);
}

/* A line over --max-message: say so, drop the input, close gracefully. */
static void
connbuf_refuse_line(struct conn *c, struct evbuffer *in)
{
	struct stats	*st = &c->srv->stats;

	c->why = CONN_CLOSE_TOO_LONG;
	STATS_ADD(st->bytes_out, sizeof(connbuf_too_long) - 1);
	evbuffer_add(bufferevent_get_output(c->bev), connbuf_too_long,
	    sizeof(connbuf_too_long) - 1);
	STATS_ADD(st->bytes_in, evbuffer_get_length(in));
	evbuffer_drain(in, evbuffer_get_length(in));
	c->state = CONN_CLOSING;
	log_trace("connection %d: message too long", c->fd);
}

/*
 * --proxy-protocol: the balancer's header comes first.  Returns 1 when it
 * has been consumed, 0 if more input is needed, -1 if the connection was
 * closed for a bad header.
 */
static int
connbuf_proxy(struct conn *c, struct evbuffer *in)
{
	struct proxy_header	 h;
	const char		*why = NULL;
	char			 src[64];
	size_t			 len = evbuffer_get_length(in);
	ssize_t			 n;
	int			 fd = c->fd;

	n = proxy_parse((const char *)evbuffer_pullup(in, -1), len, &h, &why);
	if (n == 0 && !c->eof)
		return (0);
	if (n <= 0) {
		log_warnx("connection %d: closed: %s", fd, n == 0 ?
		    "no complete PROXY header before EOF" : why);
		c->why = CONN_CLOSE_PROXY;
		conn_free(c);
		return (-1);
	}
	STATS_ADD(c->srv->stats.bytes_in, (size_t)n);
	evbuffer_drain(in, (size_t)n);
	c->proxied = 0;
	if (proxy_source(&h, src, sizeof(src)) == 0)
		log_debug("connection %d: client %s (PROXY v%d)", fd, src,
		    h.version);
	else
		log_trace("connection %d: PROXY v%d without an address", fd,
		    h.version);
	return (1);
}

/*
 * A line is still arriving: look for its end in the new bytes only, without
 * making the input contiguous, so that a long line is neither copied nor
 * scanned once per read.  Refuses the line once it is over --max-message.
 */
static int
connbuf_has_lf(struct conn *c, struct evbuffer *in, size_t len)
{
	struct evbuffer_ptr	start;

	if (evbuffer_ptr_set(in, &start, c->scanned, EVBUFFER_PTR_SET) == 0 &&
	    evbuffer_search(in, "\n", 1, &start).pos != -1)
		return (1);
	c->scanned = len;
	if (len > (size_t)c->srv->opts->max_message)
		connbuf_refuse_line(c, in);
	return (0);
}

/*
 * Answer the complete lines in the input while the output has room.
 * Returns 1 if it stopped because the output is full, 0 when no complete
 * line is left (or the connection moved on to CLOSING).
 */
static int
connbuf_answer(struct conn *c, struct evbuffer *in, struct evbuffer *out)
{
	const struct options	*o = c->srv->opts;
	const char		*data;
	size_t			 len, off = 0, n, linelen;
	int			 full = 0;
	char			 peek;

	if ((len = evbuffer_get_length(in)) == 0)
		return (0);
	if (o->keep_open && c->scanned > 0 && !connbuf_has_lf(c, in, len))
		return (0);
	/*
	 * One-shot: the first data is the message, newline or not (a
	 * textbook client sends no newline and waits) -- unless it is longer
	 * than one read, or more of it is already waiting in the socket.  Then
	 * the line is read on to its newline, EOF or --max-message, so that it
	 * is neither cut at CONN_READ_SIZE nor let past the limit (a 70 kB
	 * line got the message, and --echo returned its first 16 kB; tests/
	 * limits-max-message.sh).  connbuf_has_lf scans each byte once.
	 */
	if (!o->keep_open && !c->eof && !c->srv->draining &&
	    !connbuf_has_lf(c, in, len) && (c->state != CONN_READING ||
	    len >= CONN_READ_ASK ||
	    recv(c->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) == 1))
		return (0);
	data = (const char *)evbuffer_pullup(in, -1);
	if (data == NULL) {
		connbuf_refuse_line(c, in);	/* out of memory: give up */
		return (0);
	}

	if (!o->keep_open) {
		/* The first data is the message, newline or not. */
		if (frame_line(data, len, 0, &linelen) == 0)
			linelen = frame_strip(data, len);
		if (linelen > (size_t)o->max_message) {
			connbuf_refuse_line(c, in);
			return (0);
		}
		connbuf_reply(c, out, data, linelen);
		STATS_ADD(c->srv->stats.bytes_in, len);
		evbuffer_drain(in, len);
		c->state = CONN_CLOSING;
		return (0);
	}

	while ((n = frame_line(data + off, len - off, c->scanned,
	    &linelen)) != 0) {
		c->scanned = 0;
		if (linelen > (size_t)o->max_message) {
			connbuf_refuse_line(c, in);
			return (0);
		}
		connbuf_reply(c, out, data + off, linelen);
		off += n;
		if (evbuffer_get_length(out) >= CONN_OUTPUT_HIGH) {
			full = 1;
			break;
		}
	}
	if (!full) {
		c->scanned = len - off;
		if (c->scanned > (size_t)o->max_message) {
			connbuf_refuse_line(c, in);
			return (0);
		}
	}
	STATS_ADD(c->srv->stats.bytes_in, off);
	evbuffer_drain(in, off);
	return (full);
}

/*
 * Answer what the input holds, writing as we go; stop reading when the
 * client does not take its replies (backpressure), and move to CLOSING at
 * the end of the conversation.
 */
void
connbuf_process(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 left;

	if (c->proxied && connbuf_proxy(c, in) != 1)
		return;
	while (connbuf_answer(c, in, out)) {
		if (connbuf_write_now(c, out) == -1) {
			c->why = CONN_CLOSE_ERROR;
			conn_free(c);
			return;
		}
		if (evbuffer_get_length(out) > 0) {
			c->paused = 1;
			conn_pause(c, 1);
			connbuf_flush(c);
			return;
		}
	}
	if (c->state == CONN_READING && (c->eof || c->srv->draining)) {
		/* An unterminated last line before EOF is a line too. */
		left = evbuffer_get_length(in);
		if (c->eof && left > 0 && c->srv->opts->keep_open) {
			const char *last = (const char *)evbuffer_pullup(in, -1);

			connbuf_reply(c, out, last, frame_strip(last, left));
			STATS_ADD(c->srv->stats.bytes_in, left);
			evbuffer_drain(in, left);
		}
		c->state = CONN_CLOSING;
	}
	connbuf_flush(c);
}

/* Write now if the socket takes it; otherwise let libevent wait for it. */
static void
connbuf_flush(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(out) == 0) {
		conn_drained(c);
		return;
	}
	if (c->writing)
		return;
	if (connbuf_write_now(c, out) == -1) {
		c->why = CONN_CLOSE_ERROR;
		conn_free(c);
		return;
	}
	if (evbuffer_get_length(out) == 0) {
		conn_drained(c);
		return;
	}
	c->writing = 1;
	bufferevent_enable(c->bev, EV_WRITE);
}

static void
connbuf_write(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	c->writing = 0;
	bufferevent_disable(bev, EV_WRITE);
	conn_drained(c);
}

/* From the bufferevent, which only ever writes: a failure or a stall. */
static void
connbuf_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) && c->state != CONN_LINGERING) {
		c->why = CONN_CLOSE_IDLE;
		log_trace("connection %d: idle timeout while writing", c->fd);
	} else if (!(what & BEV_EVENT_TIMEOUT))
		c->why = CONN_CLOSE_ERROR;
	conn_free(c);
}
