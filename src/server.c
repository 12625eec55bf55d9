/*
 * server.c - one worker's listeners and connections, and the limits on
 * them.
 *
 * Owns the listeners, the reply policy built from the options, the
 * connection count against --max-conns, the descriptor budget, and the
 * pause when the process runs out of descriptors -- for every listener on
 * the worker's loop, metrics.c's too.  When to stop, and the drain across
 * workers, is worker.c's.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "msgd.h"

static const char server_busy[] = "error: server busy\n";

/*
 * A refused socket lingers (write side shut, input discarded) until the
 * client closes it or is silent this long, this many at a time: closing at
 * once resets the connection if the client's first line arrives just after
 * the close, and the reset destroys the busy line before the client reads
 * it (tests/limits-max-conns.sh lost about one in a hundred that way).
 * Past the cap a refused socket is closed at once, so that the descriptors
 * stay within --max-conns + server_fd_reserve().
 */
#define SERVER_REFUSE_LINGER_MS	1000
#define SERVER_REFUSE_MAX	8

/* A refused socket lingering: when to give up on it. */
struct server_refused {
	struct event_base	*base;
	uint64_t		 until;		/* ms, expire_now() */
};

/*
 * Descriptors open only briefly: /proc files read for a scrape, the new
 * log file while it replaces the old (SIGHUP), sd_notify's socket.
 */
#define SERVER_FD_BRIEF		8

/* Connections open in all workers: --max-conns is for the process. */
static long		server_total;

/* Refused sockets lingering, in all workers. */
static int		server_refusing;

/*
 * When each worker last ran out of descriptors (ms, CLOCK_MONOTONIC).  An
 * episode ends only when accept has worked for SERVER_PAUSE_MAX_MS since:
 * ending it at the first accept logged two lines for every client let in
 * while the backlog drained at the limit (tests/hostile-emfile.sh).
 */
static long long	server_emfile_at[MAX_THREADS];

static long long	server_now_ms(void);
static int		server_take(struct server *);
static int		server_denied(struct server *, int,
			    const struct sockaddr *);
static long		server_fd_reserve(const struct options *, int, int);

static void	server_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	server_accept_shared(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	server_accept_error(struct evconnlistener *, void *);
static void	server_pause_done(evutil_socket_t, short, void *);
static void	server_policy(struct server *, const struct options *);
static void	server_refuse_linger(evutil_socket_t, short, void *);
static void	server_listen(struct server *, int);
static void	server_listen_one(struct evconnlistener *, int);

/*
 * The descriptors msgd needs besides its --max-conns connections, from
 * what it opens (tests/limits-fds.sh checks the sum against /proc):
 *
 *   what is open now: the standard streams, the log, anything inherited
 *     (systemd's sockets among them)
 * + the listening sockets: nl for each of the --threads workers, less
 *     the nl systemd passed (open now)
 * + each worker's event loop: its epoll descriptor and libevent's signal
 *     pipe (two), and with --threads an eventfd that wakes it: 3 or 4
 * + each worker's socket accepted only to be refused, or while an idle
 *     connection is closed to make room for it (one at a time)
 * + SERVER_REFUSE_MAX refused sockets lingering
 * + --udp: nl sockets for each worker; --pidfile: one; --daemon: one
 *     (/dev/null where the start-up pipe was); --metrics: its listener
 *     and METRICS_MAX_CONNS connections
 * + SERVER_FD_BRIEF for descriptors open only briefly
 *
 * nl is the number of listening addresses (systemd's sockets when
 * activated); every worker listens on each.
 */
static long
server_fd_reserve(const struct options *o, int nl, int activated)
{
	long	n, open_now;

	if ((open_now = process_open_fds()) == -1)
		open_now = 4;		/* stdin, stdout, stderr, the log */
	n = open_now + (long)o->threads * nl - (activated ? nl : 0);
	n += (long)o->threads * (o->threads > 1 ? 4 : 3);
	n += o->threads + SERVER_REFUSE_MAX;
	if (o->udp)
		n += (long)o->threads * nl;
	if (o->pidfile != NULL)
		n++;
	if (o->daemonize)
		n++;
	if (o->metrics_addr != NULL)
		n += 1 + METRICS_MAX_CONNS;
	return (n + SERVER_FD_BRIEF);
}

/*
 * Make room for --max-conns connections under RLIMIT_NOFILE, with nl
 * listening addresses (see server_fd_reserve): raise the soft limit as
 * far as the hard limit allows, and if that is not enough, return the
 * lower number of connections that fits.
 */
long
server_limit_fds(const struct options *o, int nl, int activated)
{
	struct rlimit	rl;
	long		reserve = server_fd_reserve(o, nl, activated);
	rlim_t		need = (rlim_t)o->max_conns + reserve;

	log_debug("descriptors: %ld for connections + %ld for the rest",
	    o->max_conns, reserve);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal(EX_OSERR, "getrlimit");
	if (rl.rlim_cur >= need)
		return (o->max_conns);
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal(EX_OSERR, "setrlimit");
	if (rl.rlim_cur >= need)
		return (o->max_conns);
	if (rl.rlim_cur <= (rlim_t)reserve)
		fatalx(EX_OSERR, "descriptor limit %lu is too low to serve "
		    "anyone (need more than %ld)", (unsigned long)rl.rlim_cur,
		    reserve);
	log_warnx("descriptor limit is %lu: lowering --max-conns from %ld "
	    "to %ld", (unsigned long)rl.rlim_cur, o->max_conns,
	    (long)rl.rlim_cur - reserve);
	return ((long)rl.rlim_cur - reserve);
}

/*
 * How this server answers, from the options, once: the connection path
 * reads srv->policy, never the options.  The reply is repeated to fill
 * FRAME_RUN_BYTES (frame_append).
 */
static void
server_policy(struct server *srv, const struct options *o)
{
	struct frame_policy	*p = &srv->policy;
	size_t			 len = strlen(o->message), reps, r;

	reps = FRAME_RUN_BYTES / (len + 1);
	if (reps == 0)
		reps = 1;
	if ((srv->message = malloc(reps * (len + 1) + 1)) == NULL)
		fatal(EX_OSERR, "server_new");
	for (r = 0; r < reps; r++) {
		memcpy(srv->message + r * (len + 1), o->message, len);
		srv->message[r * (len + 1) + len] = '\n';
	}
	srv->message[reps * (len + 1)] = '\0';
	p->message = srv->message;
	p->message_len = len;
	p->run_len = reps * (len + 1);
	p->max_message = (size_t)o->max_message;
	p->echo = o->echo;
	p->mode = o->keep_open ? FRAME_KEEP_OPEN : FRAME_ONESHOT;
}

struct server *
server_new(struct event_base *base, const struct options *o,
    struct listener *l, int nl)
{
	struct server	*srv;
	int		 i;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		fatal(EX_OSERR, "server_new");
	srv->base = base;
	srv->opts = o;
	srv->max_conns = o->max_conns;
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->dead);
	server_policy(srv, o);

	expire_init(srv, o);
	if ((srv->pause_ev = evtimer_new(base, server_pause_done, srv)) ==
	    NULL ||
	    (srv->reap_ev = event_new(base, -1, 0, conn_reap, srv)) == NULL)
		fatalx(EX_SOFTWARE, "evtimer_new");

	memcpy(srv->listeners, l, nl * sizeof(*l));
	srv->nlisteners = nl;
	for (i = 0; i < nl; i++) {
		srv->listeners[i].lev = evconnlistener_new(base,
		    srv->listeners[i].shared ? server_accept_shared :
		    server_accept, srv, LEV_OPT_CLOSE_ON_FREE |
		    LEV_OPT_CLOSE_ON_EXEC, SOMAXCONN, srv->listeners[i].fd);
		if (srv->listeners[i].lev == NULL)
			fatal(EX_OSERR, "cannot listen on %s",
			    srv->listeners[i].name);
		evconnlistener_set_error_cb(srv->listeners[i].lev,
		    server_accept_error);
	}
	return (srv);
}

void
server_free(struct server *srv)
{
	struct conn	*c;
	int		 i;

	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_close(c, c->why);
	conn_reap(-1, 0, srv);
	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].lev != NULL)
			evconnlistener_free(srv->listeners[i].lev);
	}
	handoff_free(srv);
	event_free(srv->pause_ev);
	event_free(srv->reap_ev);
	expire_free(srv);
	free(srv->message);
	free(srv);
}

/*
 * Every listener on the loop: the message listeners (gone once draining)
 * and metrics.c's (which serves /healthz while draining).
 */
static void
server_listen(struct server *srv, int on)
{
	int	i;

	for (i = 0; i < srv->nlisteners; i++)
		server_listen_one(srv->listeners[i].lev, on);
	server_listen_one(srv->metrics_lev, on);
}

static void
server_listen_one(struct evconnlistener *lev, int on)
{
	if (lev == NULL)
		return;
	if (on)
		evconnlistener_enable(lev);
	else
		evconnlistener_disable(lev);
}

/*
 * Another listener on srv's loop (metrics.c's, or NULL once it is gone):
 * its accept errors pause it with srv's own listeners, in one episode.
 * Its callback's argument must be srv.
 */
void
server_attach_listener(struct server *srv, struct evconnlistener *lev)
{
	srv->metrics_lev = lev;
	if (lev != NULL)
		evconnlistener_set_error_cb(lev, server_accept_error);
}

/*
 * Over a limit: say so, count it in *counter (one of srv->stats' refused
 * counters), and close.  Whatever the client already sent is read first,
 * and the socket lingers for what is still on its way, so that the close
 * does not turn into a reset that could destroy the error line before the
 * client reads it.
 */
void
server_refuse(struct server *srv, int fd, uint64_t *counter)
{
	struct timeval		 tv = { 0, SERVER_REFUSE_LINGER_MS * 1000 };
	struct server_refused	*r = NULL;
	char			 buf[512];

	STATS_ADD(*counter, 1);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	if (send(fd, server_busy, sizeof(server_busy) - 1,
	    MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		STATS_ADD(srv->stats.bytes_out, sizeof(server_busy) - 1);
	shutdown(fd, SHUT_WR);
	if (__atomic_add_fetch(&server_refusing, 1, __ATOMIC_RELAXED) <=
	    SERVER_REFUSE_MAX && (r = malloc(sizeof(*r))) != NULL) {
		r->base = srv->base;
		r->until = expire_now() + SERVER_REFUSE_LINGER_MS;
		if (event_base_once(srv->base, fd, EV_READ,
		    server_refuse_linger, r, &tv) == 0)
			return;
	}
	free(r);
	__atomic_sub_fetch(&server_refusing, 1, __ATOMIC_RELAXED);
	close(fd);
}

/*
 * A lingering refused socket is readable, or was silent for too long.  It
 * lingers SERVER_REFUSE_LINGER_MS from the refusal in all, whatever the
 * client keeps sending.
 */
static void
server_refuse_linger(evutil_socket_t fd, short what, void *arg)
{
	struct server_refused	*r = arg;
	struct timeval		 tv;
	char			 buf[512];
	ssize_t			 n = 0;
	uint64_t		 now;

	if (what & EV_READ) {
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		now = expire_now();
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)(r->until - now) * 1000;
		if (n == -1 && (errno == EAGAIN || errno == EINTR) &&
		    now < r->until && event_base_once(r->base, fd, EV_READ,
		    server_refuse_linger, r, &tv) == 0)
			return;		/* still open: wait for its close */
	}
	free(r);
	__atomic_sub_fetch(&server_refusing, 1, __ATOMIC_RELAXED);
	close(fd);
}

static void
server_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server	*srv = arg;

	(void)lev;
	(void)salen;
	server_accept_ok(srv);
	if (!server_denied(srv, fd, sa))
		server_accepted(srv, fd, sa);
}

/* On a socket all workers share: whose turn is it (handoff.c)? */
static void
server_accept_shared(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server	*srv = arg;

	(void)lev;
	server_accept_ok(srv);
	if (server_denied(srv, fd, sa))
		return;
	if (!handoff_pass(srv, fd, sa, salen))
		server_accepted(srv, fd, sa);
}

/*
 * --allow, --deny: a denied client is closed at once, unread and without
 * a word (what it sent turns the close into a reset; no linger), before
 * it takes a place or is handed to another worker.  With --proxy-protocol
 * the client is the header's, checked when it is in (conn.c).  Returns 1
 * if fd was closed.
 */
static int
server_denied(struct server *srv, int fd, const struct sockaddr *sa)
{
	char	why[128];

	if (srv->opts->proxy_protocol ||
	    acl_check_sockaddr(&srv->opts->acl, sa, why, sizeof(why)))
		return (0);
	STATS_ADD(srv->stats.refused_denied, 1);
	log_info("denied a connection: %s", why);
	close(fd);
	return (1);
}

/*
 * Serve fd, accepted from sa (NULL: unknown) by this worker or passed to
 * it (handoff.c), within the limits.
 */
void
server_accepted(struct server *srv, int fd, const struct sockaddr *sa)
{
	struct conn	*c;
	struct source	*src;

	/*
	 * The source's limit first: a source over it must not take, or make
	 * room for itself among, the places of others.
	 */
	if (source_accept(srv, sa, &src) == -1) {
		server_refuse(srv, fd, &srv->stats.refused_per_source);
		return;
	}
	/*
	 * Take a place first, then look: two workers that both read a count
	 * below the limit and then both added to it could go over it.  Full:
	 * make room by closing the connection idle longest (expire.c), and
	 * refuse only if none has been idle long enough, or another worker
	 * took the place meanwhile.
	 */
	if (!server_take(srv) && (!expire_evict(srv) || !server_take(srv))) {
		source_release(src);
		log_trace("refused a connection: %ld open, --max-conns %ld",
		    srv->nconns, srv->max_conns);
		server_refuse(srv, fd, &srv->stats.refused_busy);
		return;
	}
	STATS_ADD(srv->stats.accepted, 1);
	if ((c = conn_new(srv, fd, sa)) == NULL) {
		__atomic_sub_fetch(&server_total, 1, __ATOMIC_RELAXED);
		source_release(src);
		log_warn("cannot set up a connection");
		close(fd);
		return;
	}
	c->source = src;
	if (srv->draining)		/* passed in as the drain began */
		conn_shutdown(c);
}

/* Take a place in --max-conns for a new connection; 0 if it is full. */
static int
server_take(struct server *srv)
{
	if (__atomic_add_fetch(&server_total, 1, __ATOMIC_RELAXED) <=
	    srv->max_conns)
		return (1);
	__atomic_sub_fetch(&server_total, 1, __ATOMIC_RELAXED);
	return (0);
}

/* A listener of srv's accepted a socket: is the episode over? */
void
server_accept_ok(struct server *srv)
{
	if (srv->pause_ms != 0 && server_now_ms() -
	    server_emfile_at[srv->worker] >= SERVER_PAUSE_MAX_MS) {
		log_info("descriptors available again: accepting");
		srv->pause_ms = 0;
	}
}

/*
 * accept() failed, on any of srv's listeners.  Out of descriptors (or
 * kernel memory) retrying at once would spin, so stop accepting on all of
 * them and try again after a back-off that grows to a second, or as soon
 * as a descriptor is freed: one log line an episode.
 */
static void
server_accept_error(struct evconnlistener *lev, void *arg)
{
	struct server	*srv = arg;
	struct timeval	 tv;
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)lev;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM) {
		errno = err;
		log_warn("accept");
		return;
	}
	server_listen(srv, 0);
	server_emfile_at[srv->worker] = server_now_ms();
	if (srv->pause_ms == 0) {
		errno = err;
		log_warn("cannot accept: pausing until descriptors are free");
		srv->pause_ms = SERVER_PAUSE_MIN_MS;
	} else if ((srv->pause_ms *= 2) > SERVER_PAUSE_MAX_MS)
		srv->pause_ms = SERVER_PAUSE_MAX_MS;
	STATS_ADD(srv->stats.accept_pauses, 1);
	tv.tv_sec = srv->pause_ms / 1000;
	tv.tv_usec = (srv->pause_ms % 1000) * 1000;
	evtimer_add(srv->pause_ev, &tv);
}

static long long
server_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
server_pause_done(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;

	(void)fd;
	(void)events;
	server_listen(srv, 1);
}

void
server_conn_opened(struct server *srv)
{
	/* server_accept has counted it in server_total already. */
	__atomic_store_n(&srv->nconns, srv->nconns + 1, __ATOMIC_RELAXED);
}

/* A connection went away: account for it, and use the free descriptor. */
void
server_conn_closed(struct server *srv)
{
	__atomic_store_n(&srv->nconns, srv->nconns - 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&server_total, 1, __ATOMIC_RELAXED);
	server_fd_freed(srv);
	worker_conn_closed(srv);
}

/* A descriptor of srv's thread was closed: accept again if paused. */
void
server_fd_freed(struct server *srv)
{
	if (srv->pause_ms != 0 && evtimer_pending(srv->pause_ev, NULL)) {
		evtimer_del(srv->pause_ev);
		server_listen(srv, 1);
	}
}

/*
 * Stop accepting -- close the listeners, so that new clients are refused
 * -- and ask every connection to deliver what it owes and close
 * (worker.c decides when, and how long to wait).
 */
void
server_drain(struct server *srv)
{
	struct conn	*c, *next;
	int		 i;

	srv->draining = 1;
	log_info("stopping: draining %ld connection%s", srv->nconns,
	    srv->nconns == 1 ? "" : "s");
	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].lev != NULL)
			evconnlistener_free(srv->listeners[i].lev);
		srv->listeners[i].lev = NULL;
	}
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_shutdown(c);	/* may close c: it moves to srv->dead */
	}
}
