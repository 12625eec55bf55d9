/*
 * worker.c - --threads: N servers, each with its own event_base, its own
 * listening sockets on the shared port (SO_REUSEPORT) and its own
 * connections and counters, so the message path shares nothing.
 *
 * Worker 0 is the main thread: it also handles signals, the metrics
 * endpoint and UDP.  On SIGTERM it asks the others to drain through an
 * event it activates in their bases (libevent's threading support makes
 * that safe); each wakes worker 0 the same way when its loop ends, so that
 * worker 0 -- and /healthz with it -- runs until every worker has drained.
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

static struct server	**worker_list;
static pthread_t	 *worker_threads;
static int		  worker_n;
static int		  worker_running;	/* loops of workers 1.. not ended */

void
worker_add(struct server *srv)
{
	struct server	**list;

	if ((list = reallocarray(worker_list, worker_n + 1,
	    sizeof(*list))) == NULL)
		fatal(EX_OSERR, "worker_add");
	worker_list = list;
	srv->worker = worker_n;
	worker_list[worker_n++] = srv;
}

int
worker_count(void)
{
	return (worker_n);
}

struct server *
worker_get(int i)
{
	return (worker_list[i]);
}

static void *
worker_main(void *arg)
{
	struct server	*srv = arg;

	if (event_base_dispatch(srv->base) == -1)
		log_warnx("worker %d: event loop failed", srv->worker);
	__atomic_sub_fetch(&worker_running, 1, __ATOMIC_RELAXED);
	event_active(worker_list[0]->stop_ev, EV_READ, 0);
	return (NULL);
}

/* Start every worker but 0, which the main thread runs. */
void
worker_spawn(void)
{
	int	i, error;

	if (worker_n < 2)
		return;
	if ((worker_threads = calloc(worker_n, sizeof(*worker_threads))) ==
	    NULL)
		fatal(EX_OSERR, "worker_spawn");
	worker_running = worker_n - 1;
	for (i = 1; i < worker_n; i++) {
		if ((error = pthread_create(&worker_threads[i], NULL,
		    worker_main, worker_list[i])) != 0)
			fatalx(EX_OSERR, "pthread_create: %s", strerror(error));
	}
	log_debug("%d worker%s running", worker_n, worker_n == 1 ? "" : "s");
}

void
worker_drain_others(void)
{
	int	i;

	for (i = 1; i < worker_n; i++)
		event_active(worker_list[i]->stop_ev, EV_READ, 0);
}

/* How many workers other than 0 are still running their loop. */
int
worker_others_running(void)
{
	return (__atomic_load_n(&worker_running, __ATOMIC_RELAXED));
}

/* After worker 0's loop: wait for the others to finish draining. */
void
worker_join(void)
{
	int	i;

	for (i = 1; i < worker_n && worker_threads != NULL; i++)
		pthread_join(worker_threads[i], NULL);
}

/* Free every worker but 0, which belongs to main(). */
void
worker_free(void)
{
	struct event_base	*base;
	int			 i;

	for (i = 1; i < worker_n; i++) {
		base = worker_list[i]->base;
		server_free(worker_list[i]);
		event_base_free(base);
	}
	free(worker_threads);
	free(worker_list);
	worker_threads = NULL;
	worker_list = NULL;
	worker_n = 0;
}
