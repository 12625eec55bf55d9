/*
 * msgbench-client.c - one client: its connections, messages and replies.
 *
 * A client is a socket and three events made once and re-assigned to every
 * connection it opens, so a run allocates nothing per message: requests
 * are sent from the bench's buffer of identical lines, replies are read
 * into its one read buffer and checked in place by replycheck.c, and
 * latencies are counted by histogram.c.  States: CONNECTING (->
 * HANDSHAKE with --tls) -> RUNNING (-> CLOSING in conn mode, waiting for
 * the server to close) -> the next connection, or RETRY after a failure,
 * or DONE.  With --tls, once TCP is connected, a bufferevent of
 * msgbench-tls.c owns the socket and calls back into this file.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "msgbench.h"

/* After a failure, wait this long before connecting again. */
#define MSGBENCH_RETRY_MS	100

static void	msgbench_client_close(struct client *);
static void	msgbench_client_finish(struct client *);
static void	msgbench_client_read(evutil_socket_t, short, void *);
static void	msgbench_client_write(evutil_socket_t, short, void *);
static void	msgbench_client_timer(evutil_socket_t, short, void *);

static enum msgbench_err
msgbench_client_kind(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return (ERR_REFUSED);
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
		return (ERR_RESET);
	case ETIMEDOUT:
		return (ERR_TIMEOUT);
	default:
		return (ERR_OTHER);
	}
}

/* A byte for a diagnostic: "'c' (0x63)", or just "0x0a". */
static const char *
msgbench_client_byte(char *buf, size_t len, int ch)
{
	if (isprint(ch))
		snprintf(buf, len, "'%c' (0x%02x)", ch, ch);
	else
		snprintf(buf, len, "0x%02x", ch);
	return (buf);
}

/* Drop the connection, keeping the client and its events for the next. */
static void
msgbench_client_close(struct client *c)
{
	event_del(c->rev);
	event_del(c->wev);
	event_del(c->tev);
	if (c->bev != NULL)
		bufferevent_free(c->bev);	/* and closes fd */
	else if (c->fd != -1)
		close(c->fd);
	c->bev = NULL;
	c->fd = -1;
	c->head = c->inflight = c->pending = 0;
	c->replies = 0;
	c->writing = 0;
	replycheck_reset(&c->rc);
}

static void
msgbench_client_finish(struct client *c)
{
	struct bench	*b = c->b;

	if (c->state == CLIENT_DONE)
		return;
	msgbench_client_close(c);
	c->state = CLIENT_DONE;
	if (--b->active == 0) {
		b->ended = msgbench_now();
		event_base_loopexit(b->base, NULL);
	}
}

/*
 * Count a failure and say what it was, the first time of each kind (the
 * report has the numbers).  If nothing has connected yet, the server is not
 * there at all: stop the run.  Otherwise try again after a pause, so that
 * a server that refuses is not hammered in a tight loop.
 */
void
msgbench_client_fail(struct client *c, enum msgbench_err kind, int err,
    const char *fmt, ...)
{
	struct bench	*b = c->b;
	struct timeval	 tv = { 0, MSGBENCH_RETRY_MS * 1000 };
	va_list		 ap;

	b->errors[kind]++;
	if (c->state == CLIENT_CONNECTING && b->connects == 0) {
		if (!b->unreachable)
			fprintf(stderr, "msgbench: cannot connect to %s port "
			    "%d: %s\n", b->o->host, b->o->port,
			    strerror(err));
		b->unreachable = 1;
		msgbench_client_close(c);
		event_base_loopbreak(b->base);
		return;
	}
	if (!b->told[kind]) {
		b->told[kind] = 1;
		fprintf(stderr, "msgbench: connection %d: ", c->id);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		if (err != 0)
			fprintf(stderr, ": %s", strerror(err));
		fputc('\n', stderr);
	}
	/* With --count, a failed attempt uses up a message: so it ends. */
	if ((c->state == CLIENT_CONNECTING || c->state == CLIENT_HANDSHAKE) &&
	    b->o->count > 0 && b->remaining > 0)
		b->remaining--;
	msgbench_client_close(c);
	if (b->stopping || b->remaining == 0) {
		msgbench_client_finish(c);
		return;
	}
	c->state = CLIENT_RETRY;
	event_add(c->tev, &tv);
}

/* A failed system call, counted by what its errno means. */
void
msgbench_client_syserr(struct client *c, int err, const char *what)
{
	msgbench_client_fail(c, msgbench_client_kind(err), err, "%s", what);
}

/*
 * The pending bytes are always the tail of a run of whole lines, so they
 * are sent from the tail of the shared buffer of lines: nothing is copied.
 */
static void
msgbench_client_flush(struct client *c)
{
	struct bench	*b = c->b;
	size_t		 n, r;
	ssize_t		 w;

	while (c->pending > 0) {
		if ((n = c->pending) > b->outlen) {
			r = c->pending % b->linelen;
			n = r == 0 ? b->outlen : b->outlen - b->linelen + r;
		}
		if (c->bev != NULL) {	/* it buffers all; no partial writes */
			msgbench_tls_write(c, b->out + b->outlen - n, n);
			c->pending -= n;
			continue;
		}
		w = send(c->fd, b->out + b->outlen - n, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			msgbench_client_syserr(c, errno, "send");
			return;
		}
		c->pending -= (size_t)w;
		if ((size_t)w < n)
			break;		/* the socket is full */
	}
	if (c->pending > 0 && !c->writing) {
		c->writing = 1;
		event_add(c->wev, NULL);
	}
}

/* Keep the mode's number of messages in flight while any are left. */
static void
msgbench_client_fill(struct client *c)
{
	struct bench	*b = c->b;
	uint64_t	 now;
	size_t		 want = 0, i;

	if (!b->stopping)
		want = b->depth - c->inflight;
	if (want > b->remaining)
		want = (size_t)b->remaining;
	if (want == 0) {
		if (c->inflight == 0)
			msgbench_client_finish(c);
		return;
	}
	now = msgbench_now();
	if (c->inflight == 0)
		event_add(c->tev, b->reply_tv);
	for (i = 0; i < want; i++)
		c->stamps[(c->head + c->inflight++) % b->depth] = now;
	b->remaining -= want;
	b->sent += want;
	c->pending += want * b->linelen;
	msgbench_client_flush(c);
}

/* Ready for messages: TCP connected, and with --tls the handshake done. */
void
msgbench_client_running(struct client *c)
{
	c->state = CLIENT_RUNNING;
	event_del(c->tev);
	if (c->bev == NULL)
		event_add(c->rev, NULL);
	msgbench_client_fill(c);
}

/* TCP is connected: run, or with --tls start the handshake first. */
static void
msgbench_client_connected(struct client *c)
{
	struct bench	*b = c->b;

	b->connects++;
	if (!b->o->tls) {
		msgbench_client_running(c);
		return;
	}
	c->state = CLIENT_HANDSHAKE;
	if (msgbench_tls_start(c) == -1) {
		msgbench_client_fail(c, ERR_OTHER, 0, "cannot set up TLS");
		return;
	}
	event_add(c->tev, b->reply_tv);	/* the handshake's time limit */
}

static void
msgbench_client_answered(struct client *c, size_t done)
{
	struct bench	*b = c->b;
	uint64_t	 now = msgbench_now();
	size_t		 i;

	for (i = 0; i < done; i++) {
		histogram_record(&b->interval, now - c->stamps[c->head]);
		c->head = (c->head + 1) % b->depth;
	}
	c->inflight -= done;
	c->replies += done;
	b->answered += done;
}

static void
msgbench_client_mismatch(struct client *c, enum replycheck_result r)
{
	const struct replycheck	*rc = &c->rc;
	char			 got[16], want[16];

	msgbench_client_byte(got, sizeof(got), rc->bad_got);
	if (r == REPLYCHECK_EXTRA) {
		msgbench_client_fail(c, ERR_MISMATCH, 0, "unexpected data "
		    "after reply %llu: %s", (unsigned long long)rc->bad_reply,
		    got);
		return;
	}
	msgbench_client_byte(want, sizeof(want), rc->bad_expected);
	msgbench_client_fail(c, ERR_MISMATCH, 0, "reply %llu differs at "
	    "byte %zu of %zu: expected %s, got %s",
	    (unsigned long long)rc->bad_reply + 1, rc->bad_offset + 1,
	    rc->len, want, got);
}

/*
 * The server closed a connection that was still in use.  Closing right
 * after the first reply, on a persistent connection, is what a one-shot
 * server does (msgd without -k): say so once, with the ways out.
 */
void
msgbench_client_eof(struct client *c)
{
	struct bench	*b = c->b;
	int		 oneshot;

	if (c->state == CLIENT_CLOSING) {	/* conn mode: as it should */
		msgbench_client_close(c);
		msgbench_client_connect(c);
		return;
	}
	oneshot = b->o->mode != MODE_CONN && c->replies == 1;
	if (c->inflight == 0)
		msgbench_client_fail(c, ERR_CLOSED, 0, "closed by the server "
		    "after %llu repl%s", (unsigned long long)c->replies,
		    c->replies == 1 ? "y" : "ies");
	else
		msgbench_client_fail(c, ERR_CLOSED, 0, "closed by the server "
		    "after %llu repl%s, with %zu outstanding (%zu bytes of "
		    "the next received)", (unsigned long long)c->replies,
		    c->replies == 1 ? "y" : "ies", c->inflight,
		    replycheck_partial(&c->rc));
	if (oneshot && !b->told_oneshot) {
		b->told_oneshot = 1;
		fprintf(stderr, "msgbench: the server closed the connection "
		    "after its first reply: it looks like a one-shot server "
		    "(msgd without -k); use 'msgbench conn', or start msgd "
		    "with -k\n");
	}
}

static void
msgbench_client_read(evutil_socket_t fd, short events, void *arg)
{
	struct client		*c = arg;
	struct bench		*b = c->b;
	ssize_t			 n;

	(void)events;
	if ((n = recv(fd, b->rbuf, sizeof(b->rbuf), 0)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		msgbench_client_syserr(c, errno, "recv");
		return;
	}
	if (n == 0) {
		msgbench_client_eof(c);
		return;
	}
	msgbench_client_received(c, b->rbuf, (size_t)n);
}

/* N bytes of replies, read from the socket or decrypted. */
void
msgbench_client_received(struct client *c, const char *buf, size_t n)
{
	struct bench		*b = c->b;
	enum replycheck_result	 r;
	size_t			 done;

	r = replycheck_feed(&c->rc, buf, n, c->inflight, &done);
	if (done > 0)
		msgbench_client_answered(c, done);
	if (r != REPLYCHECK_OK) {
		msgbench_client_mismatch(c, r);
		return;
	}
	if (done == 0)
		return;
	if (b->o->mode == MODE_CONN) {
		/* Answered; the server closes next, unless we are done. */
		if (b->stopping) {
			msgbench_client_finish(c);
			return;
		}
		c->state = CLIENT_CLOSING;
		event_add(c->tev, b->reply_tv);
		return;
	}
	/* Each reply restarts the clock for the next. */
	if (c->inflight > 0)
		event_add(c->tev, b->reply_tv);
	else
		event_del(c->tev);
	msgbench_client_fill(c);
}

static void
msgbench_client_write(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	(void)events;
	if (c->state == CLIENT_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0)
			msgbench_client_syserr(c, err, "connect");
		else
			msgbench_client_connected(c);
		return;
	}
	c->writing = 0;
	msgbench_client_flush(c);
}

static void
msgbench_client_timer(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;
	double		 t = c->b->o->timeout;

	(void)fd;
	(void)events;
	switch (c->state) {
	case CLIENT_RETRY:
		msgbench_client_connect(c);
		break;
	case CLIENT_CONNECTING:
		msgbench_client_fail(c, ERR_TIMEOUT, ETIMEDOUT, "connect");
		break;
	case CLIENT_HANDSHAKE:
		msgbench_client_fail(c, ERR_TIMEOUT, 0, "TLS handshake not "
		    "done within %g s", t);
		break;
	case CLIENT_CLOSING:
		msgbench_client_fail(c, ERR_TIMEOUT, 0, "the server did not "
		    "close within %g s of its reply", t);
		break;
	default:
		msgbench_client_fail(c, ERR_TIMEOUT, 0, "no reply within %g s "
		    "(%zu outstanding)", t, c->inflight);
		break;
	}
}

/*
 * Spread clients over 127.0.0.1 .. 127.0.0.N: each source address has its
 * own ephemeral ports, so many short connections do not run out of them.
 */
static int
msgbench_client_bind(struct bench *b, int fd)
{
	struct sockaddr_in	sin;
	int			one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001 +
	    (uint32_t)(b->nextsource++ % (unsigned long)b->o->sources));
#ifdef IP_BIND_ADDRESS_NO_PORT
	/* Pick the port at connect(), per destination, not at bind(). */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
#else
	(void)one;
#endif
	return (bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
}

void
msgbench_client_connect(struct client *c)
{
	struct bench	*b = c->b;
	int		 fd, one = 1;

	if (b->stopping || b->remaining == 0 || b->unreachable) {
		msgbench_client_finish(c);
		return;
	}
	c->state = CLIENT_CONNECTING;
	fd = socket(b->o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		msgbench_client_fail(c, ERR_OTHER, errno, "socket");
		return;
	}
	c->fd = fd;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1 || (b->o->sources > 0 &&
	    msgbench_client_bind(b, fd) == -1)) {
		msgbench_client_fail(c, ERR_OTHER, errno, "socket options");
		return;
	}
	if (event_assign(c->rev, b->base, fd, EV_READ | EV_PERSIST,
	    msgbench_client_read, c) == -1 || event_assign(c->wev, b->base, fd,
	    EV_WRITE, msgbench_client_write, c) == -1) {
		msgbench_client_fail(c, ERR_OTHER, 0, "event_assign");
		return;
	}
	c->connect_at = msgbench_now();
	if (connect(fd, (struct sockaddr *)&b->o->addr,
	    b->o->addrlen) == 0) {
		msgbench_client_connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		msgbench_client_syserr(c, errno, "connect");
		return;
	}
	event_add(c->wev, NULL);
	event_add(c->tev, b->reply_tv);
}


/* Client number i of the bench: its events, made once for every socket. */
int
msgbench_client_init(struct client *c, struct bench *b, int i)
{
	c->b = b;
	c->id = i + 1;
	c->fd = -1;
	c->stamps = b->stamps + (size_t)i * b->depth;
	replycheck_init(&c->rc, b->reply, strlen(b->reply));
	/* Each connect gives them the socket, by event_assign(). */
	if ((c->rev = event_new(b->base, -1, 0, msgbench_client_read,
	    c)) == NULL ||
	    (c->wev = event_new(b->base, -1, 0, msgbench_client_write,
	    c)) == NULL ||
	    (c->tev = evtimer_new(b->base, msgbench_client_timer, c)) == NULL)
		return (-1);
	return (0);
}

/* Close the socket, if any, and free the events (set up or not). */
void
msgbench_client_free(struct client *c)
{
	if (c->rev != NULL && c->wev != NULL && c->tev != NULL)
		msgbench_client_close(c);
	if (c->tev != NULL)
		event_free(c->tev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->rev != NULL)
		event_free(c->rev);
	c->rev = c->wev = c->tev = NULL;
}

/* Sending is over: done now, unless replies are still owed. */
void
msgbench_client_stop(struct client *c)
{
	if (c->state != CLIENT_RUNNING || c->inflight == 0)
		msgbench_client_finish(c);
}
