/*
 * metrics.c - the HTTP endpoint (--metrics): /metrics for Prometheus and
 * /healthz for load balancers, on worker 0's loop.  The socket is bound
 * by listen.c before msgd detaches, so a bad address is reported like any
 * other.
 *
 * The endpoint must not be a way to hurt the message port, so it is small
 * and bounded rather than general: at most METRICS_MAX_CONNS connections
 * (more are closed at once, and counted), each of which has
 * METRICS_TIMEOUT_SECS from accept to close, whatever it sends -- one
 * timer, set once, so a client that trickles a byte at a time cannot hold
 * a connection longer.  One request a connection, answered with
 * "Connection: close".  Its listener shares the worker's accept pause
 * (server.c), and every connection is in the descriptor budget.
 *
 * This is not libevent's evhttp: in libevent 2.1 an evhttp server cannot
 * be told how many connections to keep, has no time limit that a byte
 * does not restart, and gives no way to learn that a connection which
 * never completed a request has gone, so none of the three bounds could
 * be kept with it.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "msgd.h"

/*
 * From accept to close.  A scrape sends its request as it connects and
 * reads a reply of some kilobytes: milliseconds.  5 s is generous for
 * that on any network, and short enough that a flood of trickling
 * clients only keeps METRICS_MAX_CONNS connections for that long.
 */
#define METRICS_TIMEOUT_SECS	5

/* The request line and headers, at most (as evhttp's limit was). */
#define METRICS_MAX_REQUEST	8192

enum metrics_state {
	METRICS_READING,	/* the request line and headers */
	METRICS_WRITING,	/* the reply */
	METRICS_LINGERING	/* write side shut: discard until EOF */
};

struct metrics_conn {
	TAILQ_ENTRY(metrics_conn) entry;
	int			 fd;
	enum metrics_state	 state;
	struct event		 io;		/* read or write, by state */
	struct event		 timer;		/* METRICS_TIMEOUT_SECS */
	struct evbuffer		*buf;		/* the request, the reply */
	size_t			 head;		/* request bytes read */
	int			 status;	/* from the request line */
	int			 head_only;	/* HEAD: no body */
	const char		*path;		/* "metrics", "healthz" */
};
TAILQ_HEAD(metrics_list, metrics_conn);

static struct server		*metrics_srv;
static struct evconnlistener	*metrics_lev;
static struct metrics_list	 metrics_conns =
    TAILQ_HEAD_INITIALIZER(metrics_conns);
static int			 metrics_nconns;

static void	metrics_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	metrics_close(struct metrics_conn *);
static void	metrics_timeout(evutil_socket_t, short, void *);
static void	metrics_read(evutil_socket_t, short, void *);
static void	metrics_write(evutil_socket_t, short, void *);
static void	metrics_request_line(struct metrics_conn *, char *);
static void	metrics_reply(struct metrics_conn *);
static void	metrics_set_io(struct metrics_conn *, short,
		    event_callback_fn);

static void
metrics_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server		*srv = arg;
	struct metrics_conn	*mc;
	struct timeval		 tv = { METRICS_TIMEOUT_SECS, 0 };

	(void)lev;
	(void)sa;
	(void)salen;
	server_accept_ok(srv);
	if (metrics_nconns >= METRICS_MAX_CONNS) {
		STATS_ADD(srv->stats.metrics_refused, 1);
		close(fd);
		return;
	}
	if ((mc = calloc(1, sizeof(*mc))) == NULL ||
	    (mc->buf = evbuffer_new()) == NULL) {
		log_warn("cannot set up a metrics connection");
		free(mc);
		close(fd);
		return;
	}
	mc->fd = fd;
	mc->state = METRICS_READING;
	TAILQ_INSERT_TAIL(&metrics_conns, mc, entry);
	metrics_nconns++;
	evtimer_assign(&mc->timer, srv->base, metrics_timeout, mc);
	evtimer_add(&mc->timer, &tv);
	metrics_set_io(mc, EV_READ, metrics_read);
}

static void
metrics_set_io(struct metrics_conn *mc, short what, event_callback_fn cb)
{
	if (event_initialized(&mc->io))
		event_del(&mc->io);
	event_assign(&mc->io, metrics_srv->base, mc->fd, what | EV_PERSIST, cb,
	    mc);
	if (event_add(&mc->io, NULL) == -1)
		metrics_close(mc);
}

/* Close and free mc; its callers return at once. */
static void
metrics_close(struct metrics_conn *mc)
{
	if (event_initialized(&mc->io))
		event_del(&mc->io);
	evtimer_del(&mc->timer);
	close(mc->fd);
	evbuffer_free(mc->buf);
	TAILQ_REMOVE(&metrics_conns, mc, entry);
	free(mc);
	metrics_nconns--;
	server_fd_freed(metrics_srv);
}

static void
metrics_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct metrics_conn	*mc = arg;

	(void)fd;
	(void)events;
	if (mc->state == METRICS_READING)
		STATS_ADD(metrics_srv->stats.metrics_timed_out, 1);
	metrics_close(mc);
}

/*
 * Read the request a line at a time: the request line decides the reply,
 * the headers are skipped, the empty line after them ends the request.
 * While lingering, input is read and dropped until the client's EOF.
 */
static void
metrics_read(evutil_socket_t fd, short events, void *arg)
{
	struct metrics_conn	*mc = arg;
	char			*line;
	size_t			 len;
	int			 n;

	(void)events;
	n = evbuffer_read(mc->buf, fd, METRICS_MAX_REQUEST);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		metrics_close(mc);
		return;
	}
	if (mc->state == METRICS_LINGERING) {
		evbuffer_drain(mc->buf, evbuffer_get_length(mc->buf));
		return;
	}
	while ((line = evbuffer_readln(mc->buf, &len,
	    EVBUFFER_EOL_CRLF)) != NULL) {
		mc->head += len + 1;
		if (mc->status == 0 && len > 0)
			metrics_request_line(mc, line);
		else if (mc->status != 0 && len == 0) {
			free(line);
			metrics_reply(mc);
			return;
		}
		free(line);
		if (mc->head > METRICS_MAX_REQUEST)
			break;
	}
	if (mc->head + evbuffer_get_length(mc->buf) > METRICS_MAX_REQUEST) {
		mc->status = 400;
		metrics_reply(mc);
	}
}

/* "GET /metrics?x=1 HTTP/1.1": what to answer. */
static void
metrics_request_line(struct metrics_conn *mc, char *line)
{
	char	*method, *target, *version;

	method = strsep(&line, " ");
	target = strsep(&line, " ");
	version = line;
	if (target == NULL || version == NULL ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		mc->status = 400;
		return;
	}
	mc->head_only = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !mc->head_only) {
		mc->status = 405;
		return;
	}
	/* The path alone: a scrape job's params: add a query string. */
	target[strcspn(target, "?#")] = '\0';
	if (strcmp(target, "/metrics") == 0)
		mc->path = "metrics";
	else if (strcmp(target, "/healthz") == 0)
		mc->path = "healthz";
	mc->status = mc->path != NULL ? 200 : 404;
}

/* The request is in (or refused): queue the reply, then write it. */
static void
metrics_reply(struct metrics_conn *mc)
{
	struct server	*srv = metrics_srv;
	struct evbuffer	*body;
	const char	*type = "text/plain", *reason;
	char		 date[64];
	struct tm	 tm;
	time_t		 now = time(NULL);

	if ((body = evbuffer_new()) == NULL) {
		metrics_close(mc);
		return;
	}
	if (mc->status == 200 && strcmp(mc->path, "metrics") == 0) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		stats_prometheus(srv, body);
	} else if (mc->status == 200) {
		if (srv->draining)
			mc->status = 503;
		evbuffer_add_printf(body, "%s\n", srv->draining ? "draining" :
		    "ok");
	}
	switch (mc->status) {
	case 200:
		reason = "OK";
		break;
	case 404:
		reason = "Not Found";
		break;
	case 405:
		reason = "Method Not Allowed";
		break;
	case 503:
		reason = "Service Unavailable";
		break;
	default:
		reason = "Bad Request";
		break;
	}
	if (evbuffer_get_length(body) == 0)
		evbuffer_add_printf(body, "%s\n", reason);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';

	evbuffer_drain(mc->buf, evbuffer_get_length(mc->buf));
	evbuffer_add_printf(mc->buf, "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s"
	    "Connection: close\r\n\r\n", mc->status, reason, date, type,
	    evbuffer_get_length(body),
	    mc->status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!mc->head_only)
		evbuffer_add_buffer(mc->buf, body);
	evbuffer_free(body);
	mc->state = METRICS_WRITING;
	metrics_set_io(mc, EV_WRITE, metrics_write);
}

/*
 * Write the reply; then shut the write side and read until the client
 * closes, so that input still on its way does not turn the close into a
 * reset that could destroy the reply.  The timer ends both.
 */
static void
metrics_write(evutil_socket_t fd, short events, void *arg)
{
	struct metrics_conn	*mc = arg;

	(void)events;
	if (evbuffer_write(mc->buf, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		metrics_close(mc);
		return;
	}
	if (evbuffer_get_length(mc->buf) > 0)
		return;
	shutdown(fd, SHUT_WR);
	mc->state = METRICS_LINGERING;
	metrics_set_io(mc, EV_READ, metrics_read);
}

/* Bind the endpoint's socket (before msgd detaches). */
void
metrics_bind(const struct options *o, struct listener *l)
{
	int	port = o->metrics_port;

	listen_bind(o->metrics_addr, 0, &port, l);
}

/* Serve it on srv's loop (worker 0's). */
void
metrics_start(struct server *srv, struct listener *l)
{
	metrics_srv = srv;
	metrics_lev = evconnlistener_new(srv->base, metrics_accept, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, SOMAXCONN, l->fd);
	if (metrics_lev == NULL)
		fatal(EX_OSERR, "cannot serve metrics on %s", l->name);
	server_attach_listener(srv, metrics_lev);
	log_info("metrics on http://%s/metrics", l->name);
}

void
metrics_stop(void)
{
	while (!TAILQ_EMPTY(&metrics_conns))
		metrics_close(TAILQ_FIRST(&metrics_conns));
	if (metrics_lev != NULL) {
		server_attach_listener(metrics_srv, NULL);
		evconnlistener_free(metrics_lev);
	}
	metrics_lev = NULL;
}
