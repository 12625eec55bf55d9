/*
 * conn.c - one client connection, from accept to close.
 *
 * A connection starts as a struct conn with one read event.  On its first
 * data it gets a bufferevent, whose input buffer collects what is read and
 * whose output buffer queues the replies.  msgd reads with its own event
 * (a plain read() into space reserved in the input buffer) rather than the
 * bufferevent's read callback, which calls ioctl(FIONREAD) before every
 * read.  Replies are written at once when the socket takes them, and only
 * when it does not does the bufferevent wait for writability and finish
 * the job (so a reply costs no epoll_ctl calls).
 *
 * States: READING -> CLOSING (last reply queued) -> LINGERING (write side
 * shut, input discarded until the client closes) -> freed.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "msgd.h"
#include "proxy.h"

static const char conn_too_long[] = "error: message too long\n";

/*
 * Bytes asked of one read: CONN_READ_SIZE less room for the evbuffer
 * chain's header.  libevent rounds a chain (header included) up to a power
 * of two, so asking for all of CONN_READ_SIZE allocated 32 kB chains that
 * a full read left half empty, and a long line cost up to twice its length
 * (tests/limits-max-message.sh measures the bound).
 */
#define CONN_READ_ASK	(CONN_READ_SIZE - 128)

static void	conn_readable(evutil_socket_t, short, void *);
static int	conn_bufferevent(struct conn *);
static ssize_t	conn_fill(struct conn *);
static int	conn_write_now(struct conn *, struct evbuffer *);
static void	conn_pause(struct conn *, int);
static int	conn_has_lf(struct conn *, struct evbuffer *, size_t);
static void	conn_write(struct bufferevent *, void *);
static void	conn_event(struct bufferevent *, short, void *);
static void	conn_process(struct conn *);
static int	conn_answer(struct conn *, struct evbuffer *,
		    struct evbuffer *);
static void	conn_reply(struct conn *, struct evbuffer *, const char *,
		    size_t);
static void	conn_refuse_line(struct conn *, struct evbuffer *);
static void	conn_flush(struct conn *);
static void	conn_drained(struct conn *);
static void	conn_discard(struct conn *);
static int	conn_proxy(struct conn *, struct evbuffer *);

/*
 * A new connection costs only a struct conn with its read event until the
 * client sends something: the bufferevent and its buffers (most of a busy
 * connection's memory) are made on the first data, so thousands of idle
 * clients stay cheap.
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

static int
conn_bufferevent(struct conn *c)
{
	struct server	*srv = c->srv;

	c->bev = bufferevent_socket_new(srv->base, c->fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		return (-1);
	bufferevent_setcb(c->bev, NULL, conn_write, conn_event, c);
	bufferevent_set_timeouts(c->bev, NULL, srv->idle);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	/* The bufferevent freezes its input's end for its own reads; we do
	 * the reading (conn_fill), so let us add to it. */
	evbuffer_unfreeze(bufferevent_get_input(c->bev), 0);
	return (0);
}

/*
 * Write what the output buffer holds, now.  The bufferevent freezes the
 * start of its output except while its own write callback runs, so it is
 * unfrozen first (or evbuffer_write fails without writing).  Returns -1
 * only when the connection is broken.
 */
static int
conn_write_now(struct conn *c, struct evbuffer *out)
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
conn_fill(struct conn *c)
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
	}
	return (n);
}

/* Stop or restart reading (backpressure, EOF, the linger). */
static void
conn_pause(struct conn *c, int pause)
{
	if (pause)
		event_del(&c->read_ev);
	else
		event_add(&c->read_ev, c->state == CONN_LINGERING ?
		    c->srv->linger : c->srv->idle);
}

static void
conn_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	ssize_t		 n;

	if (what & EV_TIMEOUT) {
		if (c->state != CONN_LINGERING) {
			c->srv->stats.closed_idle++;
			log_trace("connection %d: idle timeout", (int)fd);
		}
		conn_free(c);
		return;
	}
	if (c->bev == NULL && conn_bufferevent(c) == -1) {
		log_warn("connection %d: cannot set up buffers", (int)fd);
		conn_free(c);
		return;
	}
	if ((n = conn_fill(c)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			conn_free(c);
		return;
	}
	if (n == 0) {
		c->eof = 1;
		conn_pause(c, 1);
		switch (c->state) {
		case CONN_READING:
			if (!c->paused)
				conn_process(c);
			break;	/* if paused, conn_drained() carries on */
		case CONN_CLOSING:
			break;	/* conn_drained() frees it */
		case CONN_LINGERING:
			conn_free(c);
			break;
		}
		return;
	}
	if (c->state == CONN_READING)
		conn_process(c);
	else
		conn_discard(c);
}

void
conn_free(struct conn *c)
{
	struct server	*srv = c->srv;

	log_trace("connection %d: closed", c->fd);
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
	if (c->bev == NULL && conn_bufferevent(c) == -1) {
		conn_free(c);
		return;
	}
	if (c->state == CONN_READING && !c->paused)
		conn_process(c);
}

static void
conn_reply(struct conn *c, struct evbuffer *out, const char *line,
    size_t len)
{
	struct stats	*st = &c->srv->stats;
	struct iovec	 iov[2];
	int		 i, n;

	n = frame_compose(&c->srv->reply, line, len, iov);
	for (i = 0; i < n; i++) {
		evbuffer_add(out, iov[i].iov_base, iov[i].iov_len);
		st->bytes_out += iov[i].iov_len;
	}
	st->messages_in++;
	st->replies_out++;
}

/* A line over --max-message: say so, drop the input, close gracefully. */
static void
conn_refuse_line(struct conn *c, struct evbuffer *in)
{
	struct stats	*st = &c->srv->stats;

	st->closed_too_long++;
	st->bytes_out += sizeof(conn_too_long) - 1;
	evbuffer_add(bufferevent_get_output(c->bev), conn_too_long,
	    sizeof(conn_too_long) - 1);
	st->bytes_in += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	c->state = CONN_CLOSING;
	log_trace("connection %d: message too long",
	    c->fd);
}

/*
 * --proxy-protocol: the balancer's header comes first.  Returns 1 when it
 * has been consumed, 0 if more input is needed, -1 if the connection was
 * closed for a bad header.
 */
static int
conn_proxy(struct conn *c, struct evbuffer *in)
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
		c->srv->stats.proxy_rejected++;
		conn_free(c);
		return (-1);
	}
	c->srv->stats.bytes_in += (size_t)n;
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
conn_has_lf(struct conn *c, struct evbuffer *in, size_t len)
{
	struct evbuffer_ptr	start;

	if (evbuffer_ptr_set(in, &start, c->scanned, EVBUFFER_PTR_SET) == 0 &&
	    evbuffer_search(in, "\n", 1, &start).pos != -1)
		return (1);
	c->scanned = len;
	if (len > (size_t)c->srv->opts->max_message)
		conn_refuse_line(c, in);
	return (0);
}

/*
 * Answer the complete lines in the input while the output has room.
 * Returns 1 if it stopped because the output is full, 0 when no complete
 * line is left (or the connection moved on to CLOSING).
 */
static int
conn_answer(struct conn *c, struct evbuffer *in, struct evbuffer *out)
{
	const struct options	*o = c->srv->opts;
	const char		*data;
	size_t			 len, off = 0, n, linelen;
	int			 full = 0;
	char			 peek;

	if ((len = evbuffer_get_length(in)) == 0)
		return (0);
	if (o->keep_open && c->scanned > 0 && !conn_has_lf(c, in, len))
		return (0);
	/*
	 * One-shot: the first data is the message, newline or not (a
	 * textbook client sends no newline and waits) -- unless it is longer
	 * than one read, or more of it is already waiting in the socket.  Then
	 * the line is read on to its newline, EOF or --max-message, so that it
	 * is neither cut at CONN_READ_SIZE nor let past the limit (a 70 kB
	 * line got the message, and --echo returned its first 16 kB; tests/
	 * limits-max-message.sh).  conn_has_lf scans each byte once.
	 */
	if (!o->keep_open && !c->eof && !c->srv->draining &&
	    !conn_has_lf(c, in, len) && (c->state != CONN_READING ||
	    len >= CONN_READ_ASK ||
	    recv(c->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) == 1))
		return (0);
	data = (const char *)evbuffer_pullup(in, -1);
	if (data == NULL) {
		conn_refuse_line(c, in);	/* out of memory: give up */
		return (0);
	}

	if (!o->keep_open) {
		/* The first data is the message, newline or not. */
		if (frame_line(data, len, 0, &linelen) == 0)
			linelen = frame_strip(data, len);
		if (linelen > (size_t)o->max_message) {
			conn_refuse_line(c, in);
			return (0);
		}
		conn_reply(c, out, data, linelen);
		c->srv->stats.bytes_in += len;
		evbuffer_drain(in, len);
		c->state = CONN_CLOSING;
		return (0);
	}

	while ((n = frame_line(data + off, len - off, c->scanned,
	    &linelen)) != 0) {
		c->scanned = 0;
		if (linelen > (size_t)o->max_message) {
			conn_refuse_line(c, in);
			return (0);
		}
		conn_reply(c, out, data + off, linelen);
		off += n;
		if (evbuffer_get_length(out) >= CONN_OUTPUT_HIGH) {
			full = 1;
			break;
		}
	}
	if (!full) {
		c->scanned = len - off;
		if (c->scanned > (size_t)o->max_message) {
			conn_refuse_line(c, in);
			return (0);
		}
	}
	c->srv->stats.bytes_in += off;
	evbuffer_drain(in, off);
	return (full);
}

/*
 * Answer what the input holds, writing as we go; stop reading when the
 * client does not take its replies (backpressure), and move to CLOSING at
 * the end of the conversation.
 */
static void
conn_process(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 left;

	if (c->proxied && conn_proxy(c, in) != 1)
		return;
	while (conn_answer(c, in, out)) {
		if (conn_write_now(c, out) == -1) {
			conn_free(c);
			return;
		}
		if (evbuffer_get_length(out) > 0) {
			c->paused = 1;
			conn_pause(c, 1);
			conn_flush(c);
			return;
		}
	}
	if (c->state == CONN_READING && (c->eof || c->srv->draining)) {
		/* An unterminated last line before EOF is a line too. */
		left = evbuffer_get_length(in);
		if (c->eof && left > 0 && c->srv->opts->keep_open) {
			const char *last = (const char *)evbuffer_pullup(in, -1);

			conn_reply(c, out, last, frame_strip(last, left));
			c->srv->stats.bytes_in += left;
			evbuffer_drain(in, left);
		}
		c->state = CONN_CLOSING;
	}
	conn_flush(c);
}

/* Write now if the socket takes it; otherwise let libevent wait for it. */
static void
conn_flush(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(out) == 0) {
		conn_drained(c);
		return;
	}
	if (c->writing)
		return;
	if (conn_write_now(c, out) == -1) {
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

/* Everything queued has been written. */
static void
conn_drained(struct conn *c)
{
	switch (c->state) {
	case CONN_READING:
		if (c->paused) {
			c->paused = 0;
			if (!c->eof)
				conn_pause(c, 0);
			conn_process(c);
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
static void
conn_discard(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 len = evbuffer_get_length(in);

	c->srv->stats.bytes_in += len;
	evbuffer_drain(in, len);
	if (c->state == CONN_LINGERING &&
	    (c->lingered += len) > CONN_LINGER_BYTES)
		conn_free(c);
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	c->writing = 0;
	bufferevent_disable(bev, EV_WRITE);
	conn_drained(c);
}

/* From the bufferevent, which only ever writes: a failure or a stall. */
static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if ((what & BEV_EVENT_TIMEOUT) && c->state != CONN_LINGERING) {
		c->srv->stats.closed_idle++;
		log_trace("connection %d: idle timeout while writing", c->fd);
	}
	conn_free(c);
}
