/*
 * worker.c - --threads: N servers, each with its own event_base, its own
 * listening sockets on the shared port (SO_REUSEPORT) -- or inherited
 * ones they share, taking connections in turn (handoff.c) -- and its own
 * connections and counters, so the message path shares nothing; and how
 * they stop together.
 *
 * Worker 0 is the main thread: it also handles signals and the metrics
 * endpoint (with --udp every worker answers UDP on its own sockets).  On
 * SIGTERM (worker_stop) every worker drains: worker 0 at once, the others
 * through their stop_ev, which worker 0 activates in their bases
 * (libevent's threading support makes that safe).  A worker's loop ends
 * when its connections are gone or its drain time is up; each other
 * worker then wakes worker 0 through done_ev, so that worker 0 -- and
 * /healthz with it -- stops last.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <event2/event.h>

#include "log.h"
#include "msgd.h"

struct worker {
	struct server	*srv;
	pthread_t	 thread;
	struct event	*stop_ev;	/* worker_stop asks it to drain */
	struct event	*drain_ev;	/* --drain-timeout */
};

static struct worker	 worker_list[MAX_THREADS];
static int		 worker_n;
static int		 worker_running;	/* loops of 1.. not ended */
static struct event	*worker_done_ev;	/* in 0: another worker ended */

static void	*worker_main(void *);
static void	 worker_drain(struct worker *);
static void	 worker_stop_ev(evutil_socket_t, short, void *);
static void	 worker_drain_done(evutil_socket_t, short, void *);
static void	 worker_done(evutil_socket_t, short, void *);
static void	 worker_check(struct worker *);

void
worker_add(struct server *srv)
{
	struct worker	*w;

	if (worker_n == MAX_THREADS)
		fatalx(EX_SOFTWARE, "worker_add: more than %d", MAX_THREADS);
	w = &worker_list[worker_n];
	w->srv = srv;
	srv->worker = worker_n;
	if ((w->stop_ev = event_new(srv->base, -1, 0, worker_stop_ev, w)) ==
	    NULL ||
	    (w->drain_ev = evtimer_new(srv->base, worker_drain_done, w)) ==
	    NULL)
		fatalx(EX_SOFTWARE, "worker_add: event_new");
	if (worker_n == 0 && (worker_done_ev = event_new(srv->base, -1, 0,
	    worker_done, w)) == NULL)
		fatalx(EX_SOFTWARE, "worker_add: event_new");
	worker_n++;
}

int
worker_count(void)
{
	return (worker_n);
}

struct server *
worker_get(int i)
{
	return (worker_list[i].srv);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	if (event_base_dispatch(w->srv->base) == -1)
		log_warnx("worker %d: event loop failed", w->srv->worker);
	__atomic_sub_fetch(&worker_running, 1, __ATOMIC_RELAXED);
	event_active(worker_done_ev, EV_READ, 0);
	return (NULL);
}

/* Start every worker but 0, which the main thread runs. */
void
worker_spawn(void)
{
	int	i, error;

	if (worker_n < 2)
		return;
	worker_running = worker_n - 1;
	for (i = 1; i < worker_n; i++) {
		if ((error = pthread_create(&worker_list[i].thread, NULL,
		    worker_main, &worker_list[i])) != 0)
			fatalx(EX_OSERR, "pthread_create: %s", strerror(error));
	}
	log_debug("%d worker%s running", worker_n, worker_n == 1 ? "" : "s");
}

/*
 * SIGTERM, in worker 0: every worker drains.  A second one stops them at
 * once.
 */
void
worker_stop(void)
{
	int	i;

	worker_drain(&worker_list[0]);
	for (i = 1; i < worker_n; i++)
		event_active(worker_list[i].stop_ev, EV_READ, 0);
}

/* In worker 1..: worker 0 asks us to stop. */
static void
worker_stop_ev(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	worker_drain(arg);
}

/*
 * Stop accepting, let every connection deliver what it owes, and end the
 * loop when all are gone or the drain time is up.  A second call ends it
 * at once.
 */
static void
worker_drain(struct worker *w)
{
	struct server	*srv = w->srv;
	struct timeval	 tv = { srv->opts->drain_timeout, 0 };

	if (srv->draining) {
		log_info("stopping now");
		event_base_loopexit(srv->base, NULL);
		return;
	}
	server_drain(srv);
	if (evtimer_add(w->drain_ev, &tv) == -1)
		fatalx(EX_SOFTWARE, "cannot set the drain timer");
	worker_check(w);
}

static void
worker_drain_done(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = ((struct worker *)arg)->srv;

	(void)fd;
	(void)events;
	log_warnx("drain time is up: closing %ld connection%s", srv->nconns,
	    srv->nconns == 1 ? "" : "s");
	event_base_loopexit(srv->base, NULL);
}

/* A connection of srv's closed: was it the last one of a drain? */
void
worker_conn_closed(struct server *srv)
{
	if (srv->draining && srv->nconns == 0 && srv->worker < worker_n &&
	    worker_list[srv->worker].srv == srv)
		worker_check(&worker_list[srv->worker]);
}

/* In worker 0: another worker's loop has ended. */
static void
worker_done(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	worker_check(arg);
}

/*
 * Draining is over when this worker's connections are gone.  Worker 0
 * serves /healthz (503 while draining), so it also waits for the other
 * workers' loops to end.
 */
static void
worker_check(struct worker *w)
{
	struct server	*srv = w->srv;

	if (srv->draining && srv->nconns == 0 && (srv->worker != 0 ||
	    __atomic_load_n(&worker_running, __ATOMIC_RELAXED) == 0) &&
	    handoff_close(srv))
		event_base_loopexit(srv->base, NULL);
}

/* After worker 0's loop: wait for the others to finish draining. */
void
worker_join(void)
{
	int	i;

	if (worker_n < 2)
		return;
	for (i = 1; i < worker_n; i++)
		pthread_join(worker_list[i].thread, NULL);
}

/* Free every worker's events, and every server but 0's (main()'s). */
void
worker_free(void)
{
	struct event_base	*base;
	int			 i;

	for (i = worker_n - 1; i >= 0; i--) {
		event_free(worker_list[i].drain_ev);
		event_free(worker_list[i].stop_ev);
	}
	if (worker_done_ev != NULL)
		event_free(worker_done_ev);
	worker_done_ev = NULL;
	i = worker_n;
	worker_n = 0;		/* worker_conn_closed: nothing to do now */
	while (--i >= 1) {
		base = worker_list[i].srv->base;
		server_free(worker_list[i].srv);
		event_base_free(base);
	}
	memset(worker_list, 0, sizeof(worker_list));
}
