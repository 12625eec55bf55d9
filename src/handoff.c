/*
 * handoff.c - workers that share listening sockets take their
 * connections in turn.
 *
 * With --threads each worker has its own sockets on the port
 * (SO_REUSEPORT), and the kernel deals new connections out over them
 * evenly.  Sockets passed in -- systemd's, or an old msgd's on SIGUSR2 --
 * and Unix-domain sockets (no SO_REUSEPORT there) are shared by every
 * worker instead, and the kernel wakes them all: the
 * first to run accepts whatever waits, so a burst that queued while msgd
 * started went to one worker whole.  So on shared sockets the worker that
 * accepts keeps a connection only when it is its turn; otherwise it puts
 * the connection on the queue of the worker whose turn it is and wakes
 * that worker's loop (libevent's threading makes event_active from
 * another thread safe).  A worker that has stopped closes its queue, and
 * its turns go to the acceptor.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msgd.h"

/* An accepted connection on its way to another worker. */
struct handoff_conn {
	int			 fd;
	struct sockaddr_storage	 ss;
	int			 sslen;
};

/* A worker's queue: written by acceptors, emptied by the worker. */
struct handoff {
	pthread_mutex_t		 lock;
	struct handoff_conn	*q;		/* [0, n) waiting */
	size_t			 n;
	size_t			 size;
	int			 closed;	/* its loop is ending */
	struct event		*ev;		/* in its loop: empty q */
};

/* Whose turn the next connection is; every acceptor counts on. */
static unsigned int	handoff_turn;

static void	handoff_ready(evutil_socket_t, short, void *);

/*
 * If the workers share listening sockets (inherited ones, Unix-domain
 * ones), give each a queue.  Call after worker_add, before worker_spawn.
 */
void
handoff_start(void)
{
	struct server	*srv;
	struct handoff	*h;
	int		 i, shared = 0;

	if (worker_count() < 2)
		return;
	srv = worker_get(0);
	for (i = 0; i < srv->nlisteners; i++)
		shared |= srv->listeners[i].shared;
	if (!shared)
		return;
	for (i = 0; i < worker_count(); i++) {
		srv = worker_get(i);
		if ((h = calloc(1, sizeof(*h))) == NULL)
			fatal(EX_OSERR, "handoff_start");
		if (pthread_mutex_init(&h->lock, NULL) != 0 ||
		    (h->ev = event_new(srv->base, -1, 0, handoff_ready,
		    srv)) == NULL)
			fatalx(EX_OSERR, "handoff_start: cannot set up");
		srv->handoff = h;
	}
	log_debug("%d workers share the listening sockets: they take "
	    "connections in turn", worker_count());
}

/*
 * srv accepted fd (from sa): if it is another worker's turn, pass it
 * there and return 1; 0 if srv serves it itself.
 */
int
handoff_pass(struct server *srv, int fd, const struct sockaddr *sa,
    int salen)
{
	struct handoff_conn	*q;
	struct handoff		*h;
	size_t			 size;
	int			 k;

	if (srv->handoff == NULL)
		return (0);
	k = (int)(__atomic_fetch_add(&handoff_turn, 1, __ATOMIC_RELAXED) %
	    (unsigned int)worker_count());
	if (k == srv->worker)
		return (0);
	h = worker_get(k)->handoff;
	pthread_mutex_lock(&h->lock);
	if (h->closed)
		goto self;
	if (h->n == h->size) {
		size = h->size == 0 ? 16 : h->size * 2;
		if ((q = realloc(h->q, size * sizeof(*q))) == NULL)
			goto self;
		h->q = q;
		h->size = size;
	}
	q = &h->q[h->n++];
	q->fd = fd;
	q->sslen = 0;
	if (sa != NULL && salen > 0 && (size_t)salen <= sizeof(q->ss)) {
		memcpy(&q->ss, sa, salen);
		q->sslen = salen;
	}
	/* Emptied since the last: wake it (else it is awake already). */
	if (h->n == 1)
		event_active(h->ev, EV_READ, 0);
	pthread_mutex_unlock(&h->lock);
	return (1);

self:
	pthread_mutex_unlock(&h->lock);
	return (0);
}

/* In srv's loop: serve what other workers passed it. */
static void
handoff_ready(evutil_socket_t fd, short events, void *arg)
{
	struct server		*srv = arg;
	struct handoff		*h = srv->handoff;
	struct handoff_conn	*q;
	size_t			 n, i;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&h->lock);
	q = h->q;
	n = h->n;
	h->q = NULL;
	h->n = h->size = 0;
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < n; i++)
		server_accepted(srv, q[i].fd, q[i].sslen > 0 ?
		    (struct sockaddr *)&q[i].ss : NULL);
	free(q);
	worker_conn_closed(srv);	/* draining, and all refused? */
}

/*
 * srv's loop may end (worker.c): unless connections wait in its queue,
 * close it, so that no acceptor passes it another; 1 if it did.
 */
int
handoff_close(struct server *srv)
{
	struct handoff	*h = srv->handoff;
	int		 done;

	if (h == NULL)
		return (1);
	pthread_mutex_lock(&h->lock);
	if ((done = h->n == 0))
		h->closed = 1;
	pthread_mutex_unlock(&h->lock);
	return (done);
}

/* After every loop has ended: close what is left (a drain cut short). */
void
handoff_free(struct server *srv)
{
	struct handoff	*h = srv->handoff;
	size_t		 i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		close(h->q[i].fd);
	free(h->q);
	event_free(h->ev);
	pthread_mutex_destroy(&h->lock);
	free(h);
	srv->handoff = NULL;
}
