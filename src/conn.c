/*
 * conn.c - one client connection, from accept to close.
 *
 * A connection is a struct conn with one read event.  While nothing waits
 * for it -- the usual case -- a read goes into the worker's own buffer,
 * frame_answer() turns it into replies pointing into that buffer, and they
 * leave in one writev(2): the design of bench/epoll-server.c, with no copy
 * and no allocation.  Only when something has to wait -- part of a line,
 * replies the socket does not take, a PROXY header -- does the connection
 * get its buffers (two evbuffers and a write event, struct conn_bufs);
 * while either holds anything, reads go there so that the order of lines
 * and replies is kept, and once both are empty the next read is direct
 * again.  Both ways answer through conn_answer(), so there is one path
 * from bytes to replies.
 *
 * A TLS connection (tls.c) does its handshake first, from the same read
 * event, and then takes the buffered way always, reading with tls_fill()
 * and writing with tls_write() (conn_fill, conn_write): its replies wait
 * in the output until the batch is answered (conn_flush) and go out in
 * one record.  c->ssl is what tells them apart, on the plaintext path
 * once per reply batch at most.
 *
 * States: READING -> CLOSING (last reply queued) -> LINGERING (write side
 * shut, input discarded until the client closes) -> DEAD.  Every close
 * goes through conn_close(), which closes the socket, marks the
 * connection DEAD and moves it to the server's dead list; conn_reap()
 * frees it later in the same loop turn, from an event of its own.  So a
 * function that closed the connection simply returns: the memory stays
 * valid until every caller up the stack has returned, and a caller that
 * must know looks at c->state.
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

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "msgd.h"
#include "proxy.h"

/*
 * Reply pieces gathered for one writev(2): two per reply with --echo; fixed
 * replies in a row share one (frame_append).
 */
#define CONN_IOVS	64

/* A connection's buffers, made the first time something has to wait. */
struct conn_bufs {
	struct evbuffer	*in;		/* input not answered yet */
	struct evbuffer	*out;		/* replies not written yet */
	struct event	 write_ev;	/* armed while out waits */
};

static void	conn_readable(evutil_socket_t, short, void *);
static void	conn_writable(evutil_socket_t, short, void *);
static int	conn_handshake(struct conn *);
static void	conn_tls_send(struct conn *);
static void	conn_read_direct(struct conn *);
static void	conn_read_buffered(struct conn *);
static void	conn_discard(struct conn *);
static void	conn_discarded(struct conn *, size_t);
static ssize_t	conn_fill(struct conn *);
static void	conn_read_failed(struct conn *);
static void	conn_process(struct conn *);
static size_t	conn_answer(struct conn *, const char *, size_t);
static int	conn_ends(struct conn *, size_t);
static void	conn_wait(struct conn *, size_t);
static void	conn_batch(struct conn *, const struct frame_batch *,
		    enum frame_status);
static int	conn_full(struct conn *);
static void	conn_send(struct conn *, const struct iovec *, int, int);
static void	conn_queue(struct conn *, const struct iovec *, int, size_t,
		    int);
static void	conn_keep(struct conn *, const char *, size_t);
static int	conn_proxy(struct conn *);
static void	conn_flush(struct conn *);
static int	conn_write(struct conn *);
static void	conn_want_write(struct conn *);
static void	conn_line_clock(struct conn *);
static void	conn_drained(struct conn *);
static int	conn_bufs(struct conn *);
static void	conn_bufs_free(struct conn *);
static int	conn_pending(const struct conn *);
static void	conn_pause(struct conn *, int);

/*
 * A new connection, fd from peer sa (NULL: not known), costs only a
 * struct conn with its read event: buffers are made only when something
 * has to wait, so thousands of idle clients, and busy ones whose replies
 * go out at once, stay cheap.
 */
struct conn *
conn_new(struct server *srv, int fd, const struct sockaddr *sa)
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
	/* TLS starts now, or after the PROXY header (conn_proxy). */
	c->tls = tls_wanted(fd, sa);
	if ((c->tls && !c->proxied && tls_start(c) == -1) ||
	    event_add(&c->read_ev, NULL) == -1) {
		if (c->ssl != NULL)
			tls_reap(c);
		free(c);
		return (NULL);
	}
	expire_opened(c);
	if (c->proxied)
		expire_start(c, EXPIRE_PROXY);
	else if (c->ssl != NULL)
		expire_start(c, EXPIRE_TLS);
	server_conn_opened(srv);
	log_trace("connection %d: open (%ld open)", fd, srv->nconns);
	return (c);
}

/*
 * The connection is over: close the socket now (its descriptor is free for
 * the next client), count it, and leave the memory to conn_reap().  A
 * second call does nothing.
 */
void
conn_close(struct conn *c, enum conn_close why)
{
	struct server	*srv = c->srv;

	if (c->state == CONN_DEAD)
		return;
	log_trace("connection %d: closed", c->fd);
	stats_closed(&srv->stats, why, stats_now() - c->opened);
	source_release(c->source);
	c->source = NULL;
	event_del(&c->read_ev);
	if (c->bufs != NULL)
		event_del(&c->bufs->write_ev);
	expire_stop(c);
	if (why == CONN_CLOSE_PER_SOURCE)	/* it is told, then closed */
		server_refuse(srv, c->fd, &srv->stats.refused_per_source);
	else {
		/* A TLS client is told it is over, unless it is gone or
		 * replies to it are dropped. */
		if (c->ssl != NULL && why != CONN_CLOSE_ERROR &&
		    (c->bufs == NULL || evbuffer_get_length(c->bufs->out) == 0))
			tls_shutdown(c);
		close(c->fd);
	}
	c->fd = -1;
	c->state = CONN_DEAD;
	TAILQ_REMOVE(&srv->conns, c, entry);
	TAILQ_INSERT_TAIL(&srv->dead, c, entry);
	event_active(srv->reap_ev, EV_READ, 0);
	server_conn_closed(srv);
}

/* Free the connections closed since the last time (srv->reap_ev). */
void
conn_reap(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c;

	(void)fd;
	(void)events;
	while ((c = TAILQ_FIRST(&srv->dead)) != NULL) {
		TAILQ_REMOVE(&srv->dead, c, entry);
		conn_bufs_free(c);
		if (c->ssl != NULL)
			tls_reap(c);
		free(c);
	}
}

/* The server is stopping: answer what has arrived, then close. */
void
conn_shutdown(struct conn *c)
{
	if (c->state != CONN_READING || c->paused)
		return;		/* already on its way out, or writing */
	/*
	 * One-shot, and nothing read yet: accepted, so the client is owed
	 * its reply (an upgrade or a restart under systemd must not close
	 * it unanswered): it gets EXPIRE_DRAIN_SECS to send its line.
	 */
	if (c->srv->policy.mode == FRAME_ONESHOT && !c->proxied &&
	    (c->bufs == NULL || evbuffer_get_length(c->bufs->in) == 0)) {
		expire_start(c, EXPIRE_DRAIN);
		return;
	}
	conn_process(c);
}

/*
 * Readable (the time limits are expire.c's, not this event's).  TLS may
 * have more than one read's worth read ahead (c->tls_more): the event is
 * made active again for it while reading is on, as the socket will not
 * say so.
 */
static void
conn_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->ssl != NULL && !c->secure) {
		if (conn_handshake(c) == 1)
			conn_read_buffered(c);
	} else if (c->state != CONN_READING)
		conn_discard(c);
	else if (c->proxied || c->ssl != NULL || conn_pending(c))
		conn_read_buffered(c);
	else
		conn_read_direct(c);
	if (c->state == CONN_DEAD || c->ssl == NULL)
		return;
	conn_tls_send(c);
	if (c->state != CONN_DEAD && c->tls_more &&
	    event_pending(&c->read_ev, EV_READ, NULL))
		event_active(&c->read_ev, EV_READ, 0);
}

/*
 * TLS: send what OpenSSL wrote while reading -- the handshake's flight,
 * the session tickets at its end, an alert or a key update -- unless a
 * reply took it along already; the write event sends what the socket
 * does not take.  Past TLS_UNSENT_HOLD bytes waiting, reading stops too
 * (c->tls_held) until all is sent (conn_flush): what a client makes
 * OpenSSL answer (alerts to renegotiation attempts) while it reads
 * nothing must not grow without bound.
 */
static void
conn_tls_send(struct conn *c)
{
	if (!tls_unsent(c))
		return;
	if (!c->writing) {		/* else the write event sends it */
		switch (tls_flush(c)) {
		case -1:
			conn_close(c, CONN_CLOSE_ERROR);
			return;
		case 0:
			return;
		}
		conn_want_write(c);
	}
	if (!c->tls_held && tls_unsent(c) > TLS_UNSENT_HOLD) {
		c->tls_held = 1;
		event_del(&c->read_ev);
	}
}

/*
 * TLS: a step of the handshake.  1 once it is done and input waits read
 * ahead (the client's first line often comes with its Finished); else 0:
 * the socket's events go on with it, or it failed and is closed.
 */
static int
conn_handshake(struct conn *c)
{
	if (tls_handshake(c) != 1)
		return (0);
	return (tls_pending(c));
}

/* Nothing waits: read into the worker's buffer and answer from there. */
static void
conn_read_direct(struct conn *c)
{
	char	*buf = c->srv->readbuf;
	ssize_t	 n;
	size_t	 used;

	if ((n = read(c->fd, buf, CONN_READ_ASK)) == -1) {
		conn_read_failed(c);
		return;
	}
	if (n == 0) {
		conn_close(c, CONN_CLOSE_DONE);	/* nothing is left to answer */
		return;
	}
	c->read_at = 0;		/* "now", read only if a reply must wait */
	used = conn_answer(c, buf, (size_t)n);
	if (used < (size_t)n && c->state == CONN_READING)
		conn_keep(c, buf + used, (size_t)n - used);
	conn_flush(c);
}

/* Something waits in the buffers: read behind it, answer from them. */
static void
conn_read_buffered(struct conn *c)
{
	ssize_t	n;

	if (conn_bufs(c) == -1)
		return;
	if ((n = conn_fill(c)) == -1) {
		conn_read_failed(c);
		return;
	}
	if (n == 0) {
		c->eof = 1;
		conn_pause(c, 1);
	} else
		c->read_at = stats_now();
	conn_process(c);
}

/*
 * Read into the input: from the socket, or through TLS.  Before a TLS
 * handshake, the PROXY header and not a byte more.
 */
static ssize_t
conn_fill(struct conn *c)
{
	if (c->ssl != NULL)
		return (tls_fill(c, c->bufs->in, c->srv->readbuf));
	if (c->proxied && c->tls)
		return (connbuf_fill_header(c->bufs->in, c->fd,
		    c->srv->readbuf));
	return (connbuf_fill(c->bufs->in, c->fd, c->srv->readbuf));
}

/* A read failed: close the connection unless it was only "not now". */
static void
conn_read_failed(struct conn *c)
{
	if (errno != EAGAIN && errno != EINTR)
		conn_close(c, CONN_CLOSE_ERROR);
}

/* After the last reply, input is read only to be thrown away. */
static void
conn_discard(struct conn *c)
{
	ssize_t	n;

	n = c->ssl != NULL ? tls_read(c, c->srv->readbuf, CONN_READ_SIZE) :
	    read(c->fd, c->srv->readbuf, CONN_READ_SIZE);
	if (n == -1) {
		conn_read_failed(c);
		return;
	}
	if (n == 0) {
		c->eof = 1;
		conn_pause(c, 1);
		if (c->state == CONN_LINGERING)
			conn_close(c, c->why);
		return;		/* CLOSING: conn_drained() closes it */
	}
	conn_discarded(c, (size_t)n);
}

/* Count discarded input; enough lingering. */
static void
conn_discarded(struct conn *c, size_t n)
{
	STATS_ADD(c->srv->stats.bytes_in, n);
	if (c->state == CONN_LINGERING &&
	    (c->lingered += n) > CONN_LINGER_BYTES)
		conn_close(c, c->why);
}

/*
 * Answer what the input buffer holds (after a PROXY header, if one is
 * due), and move on: to CLOSING at the end of the conversation, or at the
 * drain.
 */
static void
conn_process(struct conn *c)
{
	struct evbuffer	*in = NULL;
	const char	*data = "";
	size_t		 len = 0;

	if (c->bufs != NULL || c->proxied) {
		if (conn_bufs(c) == -1)
			return;
		in = c->bufs->in;
		if (c->proxied && conn_proxy(c) != 1)
			return;
		len = evbuffer_get_length(in);
	}
	if (len > 0 && c->scanned > 0 && !connbuf_has_lf(in, c->scanned) &&
	    !conn_ends(c, len))
		conn_wait(c, len);
	else if (len > 0 || c->eof || c->srv->draining) {
		if (len > 0 &&
		    (data = (const char *)evbuffer_pullup(in, -1)) == NULL) {
			conn_close(c, CONN_CLOSE_ERROR);	/* no memory */
			return;
		}
		len = conn_answer(c, data, len);
		if (in != NULL)
			evbuffer_drain(in, len);
	}
	conn_flush(c);
}

/*
 * A line is still arriving and the bytes since the last look hold no LF:
 * wait for more, or refuse the line once it is over the limit, without
 * making the input contiguous (a long line is neither copied nor scanned
 * once per read).
 */
static void
conn_wait(struct conn *c, size_t len)
{
	struct iovec		iov[FRAME_MIN_IOVS];
	struct frame_batch	b;
	enum frame_status	st;

	b.iov = iov;
	b.maxiov = FRAME_MIN_IOVS;
	b.room = CONN_OUTPUT_HIGH;
	b.scanned = c->scanned;
	st = frame_waiting(&c->srv->policy, len, connbuf_ends_cr(c->bufs->in),
	    &b);
	c->scanned = b.scanned;
	if (st == FRAME_MORE)
		return;
	conn_batch(c, &b, st);
	evbuffer_drain(c->bufs->in, b.used);
}

/*
 * Answer the messages in buf[0, len) (from the worker's read buffer or the
 * input buffer), a batch at a time.  Returns how many bytes were answered
 * or dropped; the rest is part of a line still arriving, or waits while
 * the client does not take its replies (c->paused).
 */
static size_t
conn_answer(struct conn *c, const char *buf, size_t len)
{
	const struct frame_policy	*p = &c->srv->policy;
	struct iovec			 iov[CONN_IOVS];
	struct frame_batch		 b;
	enum frame_status		 st;
	size_t				 used = 0;
	int				 last = c->eof;

	b.iov = iov;
	b.maxiov = CONN_IOVS;
	b.room = CONN_OUTPUT_HIGH;
	b.scanned = c->scanned;
	for (;;) {
		st = frame_answer(p, buf + used, len - used, last, &b);
		if (st == FRAME_MORE && !last && p->mode == FRAME_ONESHOT &&
		    conn_ends(c, len)) {
			last = 1;	/* the first data is the message */
			continue;
		}
		used += b.used;
		conn_batch(c, &b, st);
		if (c->state != CONN_READING || conn_full(c) ||
		    st != FRAME_FULL)
			break;
	}
	c->scanned = b.scanned;
	return (used);
}

/*
 * Whether the message in the input (len bytes) will get no more bytes:
 * at EOF; and in one-shot mode, when the first data is the message,
 * newline or not (a textbook client sends no newline and waits) -- once
 * no more of it is waiting in the socket, if it is shorter than
 * CONN_READ_SIZE (the documented 16 KiB).  A longer one is read on to its
 * newline, EOF or --max-message, so that it is neither cut at a read's
 * size nor let past the limit (tests/limits-max-message.sh).  The bound
 * is not CONN_READ_ASK: a read that fills it exactly is the whole message
 * when the peek finds nothing behind it.  Looked at only when there is no
 * newline.
 */
static int
conn_ends(struct conn *c, size_t len)
{
	char	peek;

	if (c->eof)
		return (1);
	if (c->srv->policy.mode != FRAME_ONESHOT)
		return (0);
	return (c->srv->draining || (len < CONN_READ_SIZE &&
	    (c->ssl == NULL || !tls_pending(c)) &&
	    recv(c->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) != 1));
}

/* Count a batch, send it, and end the conversation if it says so. */
static void
conn_batch(struct conn *c, const struct frame_batch *b,
    enum frame_status st)
{
	struct stats	*s = &c->srv->stats;

	STATS_ADD(s->bytes_in, b->used);
	if (b->nreplies > 0) {
		STATS_ADD(s->messages_in, (uint64_t)b->nreplies);
		STATS_ADD(s->replies_out, (uint64_t)b->nreplies);
		/* Not idle; a line still arriving started in this read. */
		expire_active(c);
		if (c->expiring == EXPIRE_LINE)
			expire_stop(c);
	}
	STATS_ADD(s->bytes_out, b->reply_bytes);
	conn_send(c, b->iov, b->niov, b->nreplies);
	if (c->state != CONN_READING)
		return;
	if (st == FRAME_TOO_LONG) {
		log_trace("connection %d: message too long", c->fd);
		c->why = CONN_CLOSE_TOO_LONG;
		c->state = CONN_CLOSING;
	} else if (st == FRAME_DONE)
		c->state = CONN_CLOSING;
}

/*
 * After a batch: if the output has passed CONN_OUTPUT_HIGH and the socket
 * does not take it, stop reading and answering until it drains
 * (conn_drained), as libevent's le-proxy does.  Returns 1 to stop.
 */
static int
conn_full(struct conn *c)
{
	struct evbuffer	*out;

	if (c->bufs == NULL ||
	    evbuffer_get_length(out = c->bufs->out) < CONN_OUTPUT_HIGH)
		return (0);
	if (!c->writing && conn_write(c) == -1) {
		conn_close(c, CONN_CLOSE_ERROR);
		return (1);
	}
	if (evbuffer_get_length(out) == 0)
		return (0);
	c->paused = 1;
	conn_pause(c, 1);
	return (1);
}

/*
 * Send reply pieces (nreplies replies among them): straight to the socket
 * when nothing waits before them -- one write(2) or writev(2), no copy --
 * else behind what waits.  What the socket does not take is queued.
 * Replies written at once to lines of the current direct read took no
 * time by msgd's clock, and cost no clock reading; lines that waited in
 * the input are timed from their read (c->read_at).
 */
static void
conn_send(struct conn *c, const struct iovec *iov, int niov, int nreplies)
{
	ssize_t	n;
	size_t	done;
	int	i;

	if (niov == 0)
		return;
	if (c->ssl != NULL ||
	    (c->bufs != NULL && evbuffer_get_length(c->bufs->out) > 0)) {
		conn_queue(c, iov, niov, 0, nreplies);
		return;
	}
	/* write(2) for one piece: the kernel need not copy in an iovec. */
	n = niov == 1 ? write(c->fd, iov[0].iov_base, iov[0].iov_len) :
	    writev(c->fd, iov, niov);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			conn_close(c, CONN_CLOSE_ERROR);
			return;
		}
		n = 0;
	}
	done = (size_t)n;
	for (i = 0; i < niov && done >= iov[i].iov_len; i++)
		done -= iov[i].iov_len;
	if (i == niov) {
		if (nreplies > 0)
			stats_replied(&c->srv->stats, c->read_at == 0 ? 0 :
			    stats_now() - c->read_at, (uint64_t)nreplies);
		return;
	}
	conn_queue(c, iov + i, niov - i, done, nreplies);
}

/*
 * Queue reply pieces, less the first 'skip' bytes of the first; they hold
 * (at least the end of) nreplies replies, to lines that arrived at the
 * last read.  conn_drained() counts them once the output is empty.
 */
static void
conn_queue(struct conn *c, const struct iovec *iov, int niov, size_t skip,
    int nreplies)
{
	if (conn_bufs(c) == -1)
		return;
	if (connbuf_add(c->bufs->out, iov, niov, skip) == -1) {
		conn_close(c, CONN_CLOSE_ERROR);
		return;
	}
	if (nreplies > 0 && c->waiting == 0)
		c->waiting_since = c->read_at != 0 ? c->read_at : stats_now();
	c->waiting += (uint32_t)nreplies;
}

/* Keep the unanswered rest of a direct read, to answer from the buffers. */
static void
conn_keep(struct conn *c, const char *rest, size_t len)
{
	if (conn_bufs(c) == -1)
		return;
	if (evbuffer_add(c->bufs->in, rest, len) == -1) {
		conn_close(c, CONN_CLOSE_ERROR);
		return;
	}
	c->read_at = stats_now();
}

/*
 * --proxy-protocol: the balancer's header comes first.  Returns 1 when it
 * has been consumed, 0 if more input is needed, -1 if the connection was
 * closed for a bad header, or denied or refused for its client.
 */
static int
conn_proxy(struct conn *c)
{
	struct evbuffer		*in = c->bufs->in;
	struct proxy_header	 h;
	const char		*why = NULL;
	char			 src[64], denied[128];
	size_t			 len = evbuffer_get_length(in), need;
	ssize_t			 n;
	int			 fd = c->fd;

	/* A v2 header may be 64 KiB: parse it once it is all here. */
	need = proxy_length((const char *)evbuffer_pullup(in,
	    len < 16 ? (ssize_t)len : 16), len);
	if (need > len && !c->eof)
		return (0);
	n = proxy_parse((const char *)evbuffer_pullup(in, -1), len, &h, &why);
	if (n == 0 && !c->eof)
		return (0);
	if (n <= 0) {
		log_warnx("connection %d: closed: %s", fd, n == 0 ?
		    "no complete PROXY header before EOF" : why);
		conn_close(c, CONN_CLOSE_PROXY);
		return (-1);
	}
	STATS_ADD(c->srv->stats.bytes_in, (size_t)n);
	evbuffer_drain(in, (size_t)n);
	c->proxied = 0;
	expire_stop(c);
	if (proxy_source(&h, src, sizeof(src)) == 0)
		log_debug("connection %d: client %s (PROXY v%d)", fd, src,
		    h.version);
	else
		log_trace("connection %d: PROXY v%d without an address", fd,
		    h.version);
	if (!acl_check_proxy(&c->srv->opts->acl, &h, fd, denied,
	    sizeof(denied))) {
		STATS_ADD(c->srv->stats.refused_denied, 1);
		log_info("connection %d: denied client %s", fd, denied);
		conn_close(c, CONN_CLOSE_DENIED);	/* no reply, no linger */
		return (-1);
	}
	if (source_proxied(c, &h) == -1) {
		conn_close(c, CONN_CLOSE_PER_SOURCE);
		return (-1);
	}
	if (c->tls) {
		/* The handshake follows on the socket. */
		if (tls_start(c) == -1) {
			conn_close(c, CONN_CLOSE_ERROR);
			return (-1);
		}
		expire_start(c, EXPIRE_TLS);
		return (0);
	}
	return (1);
}

/*
 * Done answering for now: wait for the socket if replies wait.  At the
 * drain, a conversation ends here (a part line is dropped).
 */
static void
conn_flush(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	if (c->state == CONN_READING && c->srv->draining && !c->paused)
		c->state = CONN_CLOSING;
	conn_line_clock(c);
	/* TLS: the batch's replies go out now, in as few records as fit. */
	if (c->ssl != NULL && c->bufs != NULL && !c->writing &&
	    conn_write(c) == -1) {
		conn_close(c, CONN_CLOSE_ERROR);
		return;
	}
	if ((c->bufs == NULL || evbuffer_get_length(c->bufs->out) == 0) &&
	    (c->ssl == NULL || !tls_unsent(c))) {
		if (c->tls_held) {	/* conn_tls_send */
			c->tls_held = 0;
			if (!c->paused && !c->eof)
				conn_pause(c, 0);
		}
		conn_drained(c);
		return;
	}
	/* The last write fell short: the socket is full. */
	conn_want_write(c);
}

/*
 * Write what the output holds, as far as the socket takes it: plaintext,
 * or through TLS (before the handshake is done, what OpenSSL wrote for
 * it).  -1 if the connection is broken.
 */
static int
conn_write(struct conn *c)
{
	if (c->ssl == NULL)
		return (connbuf_write(c->bufs->out, c->fd));
	return (tls_write(c, c->bufs->out));
}

/* Wait until the socket takes more: arm the write event, once. */
static void
conn_want_write(struct conn *c)
{
	if (c->writing || conn_bufs(c) == -1)
		return;
	c->writing = 1;
	event_add(&c->bufs->write_ev, NULL);
}

/*
 * --line-timeout: a line runs its clock from the read that brought its
 * first byte until it is answered (conn_batch stops it), so a client
 * that trickles bytes cannot push it back.  Complete lines waiting while
 * the client does not read its replies run the idle clock instead.
 */
static void
conn_line_clock(struct conn *c)
{
	if (c->state == CONN_READING && !c->paused && c->bufs != NULL &&
	    evbuffer_get_length(c->bufs->in) > 0) {
		if (c->expiring == EXPIRE_NONE)
			expire_start(c, EXPIRE_LINE);
	} else if (c->expiring == EXPIRE_LINE)
		expire_stop(c);
}

/* The socket takes more (a client that never does: expire.c). */
static void
conn_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	c->writing = 0;
	if (conn_write(c) == -1) {
		conn_close(c, CONN_CLOSE_ERROR);
		return;
	}
	conn_flush(c);
}

/* Nothing is queued: count the replies that waited, and carry on. */
static void
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
			conn_process(c);
		}
		break;
	case CONN_CLOSING:
		/* Draining mid-handshake, nothing was said: no linger. */
		if (c->eof || (c->ssl != NULL && !c->secure)) {
			conn_close(c, c->why);
			break;
		}
		/* Shut the write side and read until the client closes, so
		 * that its unread input cannot reset away our reply; TLS
		 * says close_notify first, all of it (tls_write). */
		switch (c->ssl != NULL ? tls_shutdown(c) : 0) {
		case 1:
			conn_want_write(c);
			return;
		case -1:
			conn_close(c, CONN_CLOSE_ERROR);
			return;
		}
		shutdown(c->fd, SHUT_WR);
		c->state = CONN_LINGERING;
		expire_start(c, EXPIRE_LINGER);
		conn_pause(c, 0);
		break;
	case CONN_LINGERING:
	case CONN_DEAD:
		break;
	}
}

/* Give the connection its buffers; if that fails, it is closed. */
static int
conn_bufs(struct conn *c)
{
	struct conn_bufs	*b;

	if (c->bufs != NULL)
		return (0);
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->in = evbuffer_new()) == NULL ||
	    (b->out = evbuffer_new()) == NULL) {
		log_warn("connection %d: cannot set up buffers", c->fd);
		if (b != NULL && b->in != NULL)
			evbuffer_free(b->in);
		free(b);
		conn_close(c, CONN_CLOSE_ERROR);
		return (-1);
	}
	event_assign(&b->write_ev, c->srv->base, c->fd, EV_WRITE,
	    conn_writable, c);
	c->bufs = b;
	return (0);
}

/* Free the buffers. */
static void
conn_bufs_free(struct conn *c)
{
	if (c->bufs == NULL)
		return;
	evbuffer_free(c->bufs->in);
	evbuffer_free(c->bufs->out);
	free(c->bufs);
	c->bufs = NULL;
}

/* Whether anything waits in the buffers. */
static int
conn_pending(const struct conn *c)
{
	return (c->bufs != NULL && (evbuffer_get_length(c->bufs->in) > 0 ||
	    evbuffer_get_length(c->bufs->out) > 0));
}

/*
 * Stop or restart reading (backpressure, EOF, the linger); TLS input
 * read ahead meanwhile is not announced by the socket (conn_readable).
 */
static void
conn_pause(struct conn *c, int pause)
{
	if (pause)
		event_del(&c->read_ev);
	else {
		event_add(&c->read_ev, NULL);
		if (c->tls_more)
			event_active(&c->read_ev, EV_READ, 0);
	}
}
