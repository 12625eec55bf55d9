/*
 * expire.c - how long a connection may stay, and which one goes when msgd
 * is full.
 *
 * Every bound runs from an event the client cannot repeat to push it back
 * (a trickle of bytes resets nothing):
 *
 *	idle	no line answered for --idle-timeout, counted from accept
 *		or the last line answered ("idle" means no complete line,
 *		not no byte);
 *	line	a line still arriving --line-timeout after its first byte;
 *	proxy	no complete PROXY header EXPIRE_PROXY_SECS after accept;
 *	linger	CONN_LINGER_SECS after the last reply was delivered;
 *	drain	a one-shot connection that has sent nothing, EXPIRE_DRAIN_SECS
 *		after the drain began (conn_shutdown);
 *	tls	no TLS handshake done EXPIRE_TLS_SECS after accept or the
 *		PROXY header (tls.c logs and counts it).
 *
 * All connections of one kind share one duration, so a connection that
 * starts its clock joins the tail of that kind's list and the lists stay
 * in deadline order: starting, stopping and expiring are O(1), and one
 * timer per worker fires at the earliest deadline at the lists' heads.
 * The idle list is srv->conns itself, kept in the order of the last line
 * answered (expire_active moves a connection to its tail), so its head is
 * also the connection that has been idle longest: when msgd is full,
 * expire_evict() closes that one (or, first, one that is only lingering
 * after its reply) to make room for the new client, as nginx reuses its
 * idle keep-alive connections -- so that clients holding every slot
 * without completing a line cannot lock out anyone else.
 *
 * Times are milliseconds of CLOCK_MONOTONIC_COARSE: a few milliseconds of
 * resolution is plenty for bounds of seconds, and reading it costs no
 * system call on the path that answers a line.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <stdint.h>
#include <sysexits.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "msgd.h"

/* Why a connection whose clock ran out is closed. */
static const enum conn_close expire_why[EXPIRE_NKINDS] = {
	[EXPIRE_LINE] = CONN_CLOSE_LINE_TIMEOUT,
	[EXPIRE_PROXY] = CONN_CLOSE_PROXY,
	[EXPIRE_LINGER] = CONN_CLOSE_DONE,	/* replaced by c->why */
	[EXPIRE_DRAIN] = CONN_CLOSE_IDLE,
	[EXPIRE_TLS] = CONN_CLOSE_TLS
};

static const char *const expire_name[EXPIRE_NKINDS] = {
	[EXPIRE_LINE] = "line timeout",
	[EXPIRE_PROXY] = "no PROXY header in time",
	[EXPIRE_LINGER] = "linger over",
	[EXPIRE_DRAIN] = "nothing sent while draining",
	[EXPIRE_TLS] = "no TLS handshake in time"
};

static void	expire_run(evutil_socket_t, short, void *);
static void	expire_schedule(struct server *, uint64_t);
static void	expire_arm(struct server *);

/* Set up the worker's clocks (server_new). */
void
expire_init(struct server *srv, const struct options *o)
{
	int	k;

	for (k = 0; k < EXPIRE_NKINDS; k++)
		TAILQ_INIT(&srv->expiring[k]);
	srv->idle_ms = (uint64_t)o->idle_timeout * 1000;
	srv->expire_ms[EXPIRE_LINE] = (uint64_t)o->line_timeout * 1000;
	srv->expire_ms[EXPIRE_PROXY] = EXPIRE_PROXY_SECS * 1000;
	srv->expire_ms[EXPIRE_LINGER] = CONN_LINGER_SECS * 1000;
	srv->expire_ms[EXPIRE_DRAIN] = EXPIRE_DRAIN_SECS * 1000;
	srv->expire_ms[EXPIRE_TLS] = EXPIRE_TLS_SECS * 1000;
	srv->evict = !o->no_evict;
	if ((srv->expire_ev = evtimer_new(srv->base, expire_run, srv)) == NULL)
		fatalx(EX_SOFTWARE, "evtimer_new");
}

void
expire_free(struct server *srv)
{
	event_free(srv->expire_ev);
}

uint64_t
expire_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* A new connection: idle since now, at the tail of srv->conns. */
void
expire_opened(struct conn *c)
{
	struct server	*srv = c->srv;

	c->active_at = expire_now();
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	if (srv->idle_ms > 0)
		expire_schedule(srv, c->active_at + srv->idle_ms);
}

/* A line was answered: the idle clock starts again. */
void
expire_active(struct conn *c)
{
	struct server	*srv = c->srv;

	c->active_at = expire_now();
	if (TAILQ_NEXT(c, entry) != NULL) {
		TAILQ_REMOVE(&srv->conns, c, entry);
		TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	}
}

/*
 * Start the connection's clock of this kind, now, replacing any other
 * (a connection runs one at a time besides the idle one).
 */
void
expire_start(struct conn *c, enum expire_kind kind)
{
	struct server	*srv = c->srv;

	if (c->expiring == kind)
		return;
	expire_stop(c);
	if (srv->expire_ms[kind] == 0)
		return;		/* that bound is off */
	c->expiring = kind;
	c->expire_at = expire_now();
	TAILQ_INSERT_TAIL(&srv->expiring[kind], c, expire_entry);
	expire_schedule(srv, c->expire_at + srv->expire_ms[kind]);
}

void
expire_stop(struct conn *c)
{
	if (c->expiring == EXPIRE_NONE)
		return;
	TAILQ_REMOVE(&c->srv->expiring[c->expiring], c, expire_entry);
	c->expiring = EXPIRE_NONE;
}

/*
 * msgd is full and a client is waiting: close the connection that has
 * lingered longest after its reply, or else the one with no line answered
 * for longest, unless that is younger than EXPIRE_EVICT_MIN_MS (then a
 * burst of new clients is refusing, not closing, each other).  Returns 1
 * if one was closed.
 */
int
expire_evict(struct server *srv)
{
	struct conn	*c;

	if (!srv->evict)
		return (0);
	if ((c = TAILQ_FIRST(&srv->expiring[EXPIRE_LINGER])) != NULL) {
		conn_close(c, c->why);
		return (1);
	}
	if ((c = TAILQ_FIRST(&srv->conns)) == NULL ||
	    expire_now() - c->active_at < EXPIRE_EVICT_MIN_MS)
		return (0);
	log_trace("connection %d: closed to make room (idle %llu ms)",
	    c->fd, (unsigned long long)(expire_now() - c->active_at));
	conn_close(c, CONN_CLOSE_EVICTED);
	return (1);
}

/* Close what is due, and wait for the next deadline. */
static void
expire_run(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c;
	uint64_t	 now = expire_now();
	int		 k;

	(void)fd;
	(void)events;
	srv->expire_next = 0;
	while (srv->idle_ms > 0 && (c = TAILQ_FIRST(&srv->conns)) != NULL &&
	    now - c->active_at >= srv->idle_ms) {
		log_trace("connection %d: idle timeout", c->fd);
		conn_close(c, c->state == CONN_LINGERING ? c->why :
		    CONN_CLOSE_IDLE);
	}
	for (k = EXPIRE_NONE + 1; k < EXPIRE_NKINDS; k++) {
		while ((c = TAILQ_FIRST(&srv->expiring[k])) != NULL &&
		    now - c->expire_at >= srv->expire_ms[k]) {
			if (k == EXPIRE_TLS) {
				tls_expired(c);
				continue;
			}
			log_trace("connection %d: %s", c->fd,
			    expire_name[k]);
			conn_close(c, k == EXPIRE_LINGER ? c->why :
			    expire_why[k]);
		}
	}
	expire_arm(srv);
}

/* Wake up by this deadline (ms) if the timer is not due sooner. */
static void
expire_schedule(struct server *srv, uint64_t at)
{
	struct timeval	tv;
	uint64_t	now, ms;

	if (srv->expire_next != 0 && srv->expire_next <= at)
		return;
	srv->expire_next = at;
	now = expire_now();
	/* The coarse clock may lag libevent's by a tick: never 0 ms. */
	ms = (at > now ? at - now : 0) + EXPIRE_SLACK_MS;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(srv->expire_ev, &tv);
}

/* Set the timer for the earliest deadline at the lists' heads, if any. */
static void
expire_arm(struct server *srv)
{
	struct conn	*c;
	int		 k;

	if (srv->idle_ms > 0 && (c = TAILQ_FIRST(&srv->conns)) != NULL)
		expire_schedule(srv, c->active_at + srv->idle_ms);
	for (k = EXPIRE_NONE + 1; k < EXPIRE_NKINDS; k++) {
		if ((c = TAILQ_FIRST(&srv->expiring[k])) != NULL)
			expire_schedule(srv, c->expire_at +
			    srv->expire_ms[k]);
	}
}
