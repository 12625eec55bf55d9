/*
 * conn.c - one client connection, from accept to close.
 *
 * A connection is a struct conn with one read event.  While nothing is
 * pending for it -- the usual case -- a read goes into the worker's own
 * buffer, the complete lines in it are answered straight from there, and
 * the replies leave in one writev(2): the design of bench/epoll-server.c,
 * with no copy, no allocation and no bufferevent.  Only what that cannot
 * finish -- an unfinished or overlong line, replies the socket does not
 * take, a PROXY header, a drain -- is handed to the connection's buffers
 * (connbuf.c), which are made then and carry on until they are empty.
 *
 * States: READING -> CLOSING (last reply queued) -> LINGERING (write side
 * shut, input discarded until the client closes) -> freed.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "msgd.h"

/*
 * Reply pieces gathered for one writev(2): two per reply with --echo; fixed
 * replies in a row share one (frame_append).
 */
#define CONN_IOVS	64

static void	conn_readable(evutil_socket_t, short, void *);
static void	conn_direct(struct conn *);
static void	conn_direct_oneshot(struct conn *, const char *, size_t);
static void	conn_direct_lines(struct conn *, const char *, size_t);
static int	conn_writev(struct conn *, const struct iovec *, int, int);

/*
 * A new connection costs only a struct conn with its read event: buffers
 * are made only when something has to wait, so thousands of idle clients,
 * and busy ones whose replies go out at once, stay cheap.
 */
struct conn *
conn_new(struct server *srv, int fd)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->srv = srv;
	c->fd = fd;
	c->proxied = srv->opts->proxy_protocol;
	c->opened = stats_now();
	event_assign(&c->read_ev, srv->base, fd, EV_READ | EV_PERSIST,
	    conn_readable, c);
	if (event_add(&c->read_ev, srv->idle) == -1) {
		free(c);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	server_conn_opened(srv);
	log_trace("connection %d: open (%ld open)", fd, srv->nconns);
	return (c);
}

void
conn_free(struct conn *c)
{
	struct server	*srv = c->srv;

	log_trace("connection %d: closed", c->fd);
	stats_closed(&srv->stats, c->why, stats_now() - c->opened);
	TAILQ_REMOVE(&srv->conns, c, entry);
	event_del(&c->read_ev);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	else
		close(c->fd);
	free(c);
	server_conn_closed(srv);
}

/* The server is stopping: answer what has arrived, then close. */
void
conn_shutdown(struct conn *c)
{
	if (c->state != CONN_READING || c->paused)
		return;		/* already on its way out, or writing */
	if (c->bev == NULL && connbuf_new(c) == -1)
		return;
	connbuf_process(c);
}

static void
conn_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & EV_TIMEOUT) {
		if (c->state != CONN_LINGERING) {
			c->why = CONN_CLOSE_IDLE;
			log_trace("connection %d: idle timeout", (int)fd);
		}
		conn_free(c);
		return;
	}
	/* A PROXY header and the drain take the careful path. */
	if (c->proxied || c->srv->draining || connbuf_pending(c))
		connbuf_read(c);
	else
		conn_direct(c);
}

/* Nothing is pending: read into the worker's buffer and answer from it. */
static void
conn_direct(struct conn *c)
{
	char	*buf = c->srv->readbuf;
	ssize_t	 n;

	if ((n = read(c->fd, buf, CONN_READ_ASK)) == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			c->why = CONN_CLOSE_ERROR;
			conn_free(c);
		}
		return;
	}
	if (n == 0) {
		conn_free(c);	/* EOF, and nothing is left to answer */
		return;
	}
	if (c->state != CONN_READING)
		conn_discard(c, (size_t)n);
	else if (c->srv->opts->keep_open)
		conn_direct_lines(c, buf, (size_t)n);
	else
		conn_direct_oneshot(c, buf, (size_t)n);
}

/*
 * One-shot: a first read that holds a whole line of allowed length is
 * answered here; anything else (no newline yet, too long) goes to the
 * buffers, which know when to wait for more.
 */
static void
conn_direct_oneshot(struct conn *c, const char *buf, size_t len)
{
	struct iovec	iov[2];
	size_t		linelen;
	int		niov, r;

	if (frame_line(buf, len, 0, &linelen) == 0 ||
	    linelen > (size_t)c->srv->opts->max_message) {
		connbuf_spill(c, buf, len);
		return;
	}
	niov = conn_compose(c, buf, linelen, iov, 0);
	STATS_ADD(c->srv->stats.bytes_in, len);
	c->state = CONN_CLOSING;
	if ((r = conn_writev(c, iov, niov, 1)) == 0)
		conn_drained(c);
	else if (r == 1)
		connbuf_spill(c, NULL, 0);
}

/*
 * --keep-open: answer every complete line, CONN_IOVS reply pieces to a
 * writev(2).  An unfinished line, an overlong one, and whatever follows a
 * short write go to the buffers.
 */
static void
conn_direct_lines(struct conn *c, const char *buf, size_t len)
{
	struct iovec	iov[CONN_IOVS];
	size_t		max = (size_t)c->srv->opts->max_message;
	size_t		off = 0, n, linelen;
	int		niov, nreplies, r;

	do {
		niov = nreplies = 0;
		while (niov <= CONN_IOVS - 2 &&
		    (n = frame_line(buf + off, len - off, 0, &linelen)) != 0 &&
		    linelen <= max) {
			niov = conn_compose(c, buf + off, linelen, iov, niov);
			nreplies++;
			off += n;
		}
		if ((r = conn_writev(c, iov, niov, nreplies)) == -1)
			return;
	} while (r == 0 && niov > CONN_IOVS - 2);
	STATS_ADD(c->srv->stats.bytes_in, off);
	if (r == 1 || off < len)
		connbuf_spill(c, buf + off, len - off);
}

/*
 * Write reply pieces (nreplies replies to lines that arrived in this read)
 * now; what the socket does not take is queued in the output buffer.
 * Returns 0 if all of it went, 1 if some was queued, -1 if the connection
 * broke (it has been freed).  Replies written here took no time by msgd's
 * clock, and cost no clock reading.
 */
static int
conn_writev(struct conn *c, const struct iovec *iov, int niov, int nreplies)
{
	ssize_t	n;
	size_t	done;
	int	i;

	if (niov == 0)
		return (0);
	/* write(2) for one piece: the kernel need not copy in an iovec. */
	n = niov == 1 ? write(c->fd, iov[0].iov_base, iov[0].iov_len) :
	    writev(c->fd, iov, niov);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			c->why = CONN_CLOSE_ERROR;
			conn_free(c);
			return (-1);
		}
		n = 0;
	}
	done = (size_t)n;
	for (i = 0; i < niov && done >= iov[i].iov_len; i++)
		done -= iov[i].iov_len;
	if (i == niov) {
		if (nreplies > 0)
			stats_replied(&c->srv->stats, 0, (uint64_t)nreplies);
		return (0);
	}
	c->read_at = stats_now();
	if (connbuf_queue(c, iov + i, niov - i, done, nreplies) == -1)
		return (-1);
	return (1);
}

/*
 * Add the reply to one line to the n iovecs in iov (room for two more),
 * pointing into the line or the message, and count it.  Returns the new
 * number of iovecs.
 */
int
conn_compose(struct conn *c, const char *line, size_t len, struct iovec *iov,
    int n)
{
	struct stats	*st = &c->srv->stats;

	STATS_ADD(st->bytes_out, frame_reply_len(&c->srv->reply, len));
	STATS_ADD(st->messages_in, 1);
	STATS_ADD(st->replies_out, 1);
	return (frame_append(&c->srv->reply, line, len, iov, n));
}

/* Stop or restart reading (backpressure, EOF, the linger). */
void
conn_pause(struct conn *c, int pause)
{
	if (pause)
		event_del(&c->read_ev);
	else
		event_add(&c->read_ev, c->state == CONN_LINGERING ?
		    c->srv->linger : c->srv->idle);
}

/* Everything queued has been written, the replies waiting among it too. */
void
conn_drained(struct conn *c)
{
	if (c->waiting > 0) {
		stats_replied(&c->srv->stats, stats_now() - c->waiting_since,
		    c->waiting);
		c->waiting = 0;
	}
	switch (c->state) {
	case CONN_READING:
		if (c->paused) {
			c->paused = 0;
			if (!c->eof)
				conn_pause(c, 0);
			connbuf_process(c);
		}
		break;
	case CONN_CLOSING:
		if (c->eof) {
			conn_free(c);
			break;
		}
		/* Shut the write side and read until the client closes, so
		 * that its unread input cannot reset away our reply. */
		shutdown(c->fd, SHUT_WR);
		c->state = CONN_LINGERING;
		conn_pause(c, 0);	/* re-armed with the linger time */
		break;
	case CONN_LINGERING:
		break;
	}
}

/* After the last reply, input is read only to be thrown away. */
void
conn_discard(struct conn *c, size_t len)
{
	STATS_ADD(c->srv->stats.bytes_in, len);
	if (c->state == CONN_LINGERING &&
	    (c->lingered += len) > CONN_LINGER_BYTES)
		conn_free(c);
}
