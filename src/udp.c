/*
 * udp.c - --udp: one reply datagram for each datagram, on the same
 * addresses and port as the TCP listeners.
 *
 * An open UDP responder is a traffic amplifier: anyone can forge a small
 * request from a victim's address and have msgd send the larger reply to
 * the victim.  So replies are rate-limited per source address with a token
 * bucket (--udp-rate, --udp-burst), and UDP listens where TCP does, which
 * is localhost unless --listen says otherwise.
 *
 * With --threads every worker has its own UDP socket on each address
 * (SO_REUSEPORT, like the TCP listeners), and the kernel spreads datagrams
 * over them by a hash of the source and destination address and port.
 * One source address can therefore reach every worker (from several
 * ports), so the workers share one rate-limit table, locked in stripes: a
 * per-worker table would let a forged source get --udp-rate replies a
 * second from each worker.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "log.h"
#include "msgd.h"

#define UDP_BUCKETS	4096	/* sources tracked at once (power of 2) */
#define UDP_PROBE	4	/* slots looked at per source */
#define UDP_BATCH	64	/* datagrams per wakeup, then yield */
#define UDP_LOCKS	64	/* stripes of the shared table */

struct udp_bucket {
	unsigned char	addr[16];	/* IPv4 as v4-mapped IPv6 */
	double		tokens;
	double		stamp;		/* seconds, monotonic */
	int		used;
};

/* The rate limit, shared by the workers. */
struct udp_limit {
	const struct options	*opts;
	struct udp_bucket	*buckets;
	uint32_t		 seed;
	pthread_mutex_t		 locks[UDP_LOCKS];
};

/* One worker's sockets. */
struct udp {
	struct server		*srv;
	struct frame_policy	 policy;	/* the server's, per datagram */
	struct event		**ev;		/* one per socket */
	int			 n;
	char			 buf[MAX_MAX_MESSAGE < 65536 ?
				     MAX_MAX_MESSAGE : 65536];
};

static struct udp_limit	*udp_limit;
static struct udp	*udp_list[MAX_THREADS];	/* by worker */

static void	udp_read(evutil_socket_t, short, void *);
static int	udp_allow(const struct sockaddr_storage *);
static void	udp_rcvbuf(int, long);

static double
udp_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* The source address as 16 bytes, port ignored. */
static void
udp_key(const struct sockaddr_storage *ss, unsigned char *key)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;

	memset(key, 0, 16);
	if (ss->ss_family == AF_INET6)
		memcpy(key, &sin6->sin6_addr, 16);
	else {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &sin->sin_addr, 4);
	}
}

/*
 * One token per reply; tokens come back at --udp-rate a second up to
 * --udp-burst.  The table is fixed-size: a new source takes the stalest of
 * the slots it may use, so a flood of spoofed sources costs no memory.  A
 * source's slots are an aligned group of UDP_PROBE, all under one lock.
 */
static int
udp_allow(const struct sockaddr_storage *ss)
{
	const struct options	*o = udp_limit->opts;
	struct udp_bucket	*b, *victim = NULL;
	pthread_mutex_t		*lock;
	unsigned char		 key[16];
	uint32_t		 h = udp_limit->seed, first;
	double			 now = udp_now();
	int			 i, ok;

	udp_key(ss, key);
	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;	/* FNV-1a, seeded */
	first = h & (UDP_BUCKETS - 1) & ~(uint32_t)(UDP_PROBE - 1);
	lock = &udp_limit->locks[(first / UDP_PROBE) % UDP_LOCKS];
	pthread_mutex_lock(lock);
	for (i = 0; i < UDP_PROBE; i++) {
		b = &udp_limit->buckets[first + i];
		if (b->used && memcmp(b->addr, key, 16) == 0)
			break;
		if (victim == NULL || !b->used || b->stamp < victim->stamp)
			victim = b;
		b = NULL;
	}
	if (b == NULL) {
		b = victim;
		memcpy(b->addr, key, 16);
		b->used = 1;
		b->tokens = (double)o->udp_burst;
		b->stamp = now;
	}
	b->tokens += (now - b->stamp) * (double)o->udp_rate;
	if (b->tokens > (double)o->udp_burst)
		b->tokens = (double)o->udp_burst;
	b->stamp = now;
	if ((ok = b->tokens >= 1.0))
		b->tokens -= 1.0;
	pthread_mutex_unlock(lock);
	return (ok);
}

/* Why sendmsg failed, as the label it is counted under. */
enum udp_fail
udp_fail_reason(int error)
{
	switch (error) {
	case EMSGSIZE:
		return (UDP_FAIL_TOO_LARGE);
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ENOBUFS:
		return (UDP_FAIL_BUFFER_FULL);
	default:
		return (UDP_FAIL_ERROR);
	}
}

static void
udp_read(evutil_socket_t fd, short events, void *arg)
{
	struct udp		*udp = arg;
	struct stats		*st = &udp->srv->stats;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct iovec		 iov[FRAME_MIN_IOVS];
	struct frame_batch	 b;
	struct msghdr		 msg;
	ssize_t			 n;
	int			 i;

	(void)events;
	for (i = 0; i < UDP_BATCH; i++) {
		sslen = sizeof(ss);
		n = recvfrom(fd, udp->buf, sizeof(udp->buf), MSG_TRUNC,
		    (struct sockaddr *)&ss, &sslen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("udp: recvfrom");
			return;
		}
		STATS_ADD(st->udp_received, 1);
		STATS_ADD(st->bytes_in, (size_t)n);
		/* Counted, not logged, as over --udp-rate: sources are
		 * forged at will, and a line costs the log's lock. */
		if (!acl_check_sockaddr(&udp->srv->opts->acl,
		    (struct sockaddr *)&ss, NULL, 0)) {
			STATS_ADD(st->udp_denied, 1);
			continue;
		}
		/* An empty datagram holds no message: no reply, no token. */
		if (n == 0)
			continue;
		if (!udp_allow(&ss)) {
			STATS_ADD(st->udp_rate_limited, 1);
			continue;
		}
		/* A truncated datagram (MSG_TRUNC: n is its real length)
		 * is over the limit, which udp_start keeps below the buffer. */
		b.iov = iov;
		b.maxiov = FRAME_MIN_IOVS;
		b.room = sizeof(udp->buf);
		b.scanned = 0;
		if ((size_t)n > sizeof(udp->buf))
			n = (ssize_t)sizeof(udp->buf);
		frame_answer(&udp->policy, udp->buf, (size_t)n, 1, &b);
		STATS_ADD(st->messages_in, (uint64_t)b.nreplies);
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &ss;
		msg.msg_namelen = sslen;
		msg.msg_iov = iov;
		msg.msg_iovlen = b.niov;
		/* UDP: a lost reply is a lost reply, but it is counted. */
		if ((n = sendmsg(fd, &msg, MSG_DONTWAIT)) == -1) {
			STATS_ADD(st->udp_failed[udp_fail_reason(errno)], 1);
			continue;
		}
		STATS_ADD(st->udp_replies, 1);
		STATS_ADD(st->bytes_out, (size_t)n);
	}
}

/*
 * --udp-rcvbuf: the kernel caps SO_RCVBUF at net.core.rmem_max (and
 * doubles what it grants, for its own overhead), silently; read it back
 * and say so once.
 */
static void
udp_rcvbuf(int fd, long want)
{
	static int	told;
	socklen_t	len = sizeof(int);
	int		v = (int)want, got;

	if (want == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == -1)
		fatal(EX_OSERR, "udp: SO_RCVBUF %ld", want);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == -1)
		fatal(EX_OSERR, "udp: SO_RCVBUF");
	if (told++)
		return;
	if (got / 2 < v)
		log_warnx("udp: --udp-rcvbuf %ld capped by the kernel to %d "
		    "(raise the sysctl net.core.rmem_max)", want, got / 2);
	else
		log_debug("udp: receive buffer %ld bytes (the kernel "
		    "reserves %d)", want, got);
}

/*
 * Bind UDP sockets on the TCP listeners' addresses and port, each address
 * once (inherited listeners may repeat one), into fds: one per address
 * for each worker, worker 0's first, sharing the port with SO_REUSEPORT
 * when there are several.  This runs before msgd detaches, so that a clash
 * is reported on the terminal.  Returns how many.
 */
int
udp_open(const struct options *o, const struct listener *tcp, int n,
    int *fds)
{
	struct sockaddr_storage	ss[MSGD_MAX_LISTENERS];
	socklen_t		sslen[MSGD_MAX_LISTENERS], len;
	const char		*name[MSGD_MAX_LISTENERS];
	int			i, j, w, na = 0, fd, on = 1;

	for (i = 0; i < n && na < MSGD_MAX_LISTENERS; i++) {
		len = sizeof(ss[na]);
		if (getsockname(tcp[i].fd, (struct sockaddr *)&ss[na], &len) ==
		    -1)
			fatal(EX_OSERR, "getsockname");
		if (ss[na].ss_family != AF_INET &&
		    ss[na].ss_family != AF_INET6)
			continue;	/* unix:PATH has no UDP */
		for (j = 0; j < na; j++)
			if (sslen[j] == len && memcmp(&ss[j], &ss[na], len) == 0)
				break;
		if (j == na) {
			name[na] = tcp[i].name;
			sslen[na++] = len;
		}
	}
	for (w = 0; w < o->threads; w++) {
		for (i = 0; i < na; i++) {
			fd = socket(ss[i].ss_family, SOCK_DGRAM |
			    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (fd == -1)
				fatal(EX_OSERR, "cannot listen on udp %s",
				    name[i]);
			if (ss[i].ss_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
				    sizeof(on));
			if (o->threads > 1 && setsockopt(fd, SOL_SOCKET,
			    SO_REUSEPORT, &on, sizeof(on)) == -1)
				fatal(EX_OSERR, "udp: SO_REUSEPORT");
			udp_rcvbuf(fd, o->udp_rcvbuf);
			if (bind(fd, (struct sockaddr *)&ss[i], sslen[i]) == -1)
				fatal(errno == EACCES ? EX_NOPERM :
				    EX_UNAVAILABLE, "cannot listen on udp %s",
				    name[i]);
			fds[w * na + i] = fd;
		}
	}
	return (o->threads * na);
}

/*
 * Serve srv's worker's share of the n sockets in fds, on its loop: with
 * --threads W, the W-th part, which for the sockets udp_open() bound is
 * one per address.  Sockets inherited on SIGUSR2 (upgrade.c) may be
 * another number; they are shared out the same way, so each is read by
 * one worker and none is left unread (with fewer sockets than workers,
 * some workers serve no UDP).  Called for every worker from the main
 * thread, before the workers run.
 */
void
udp_start(struct server *srv, const int *fds, int n)
{
	struct udp	*udp;
	int		 i, w = srv->worker, nw = srv->opts->threads;
	int		 first = w * n / nw, last = (w + 1) * n / nw;

	if (udp_limit == NULL) {
		if ((udp_limit = calloc(1, sizeof(*udp_limit))) == NULL ||
		    (udp_limit->buckets = calloc(UDP_BUCKETS,
		    sizeof(*udp_limit->buckets))) == NULL)
			fatal(EX_OSERR, "udp_start");
		udp_limit->opts = srv->opts;
		for (i = 0; i < UDP_LOCKS; i++)
			pthread_mutex_init(&udp_limit->locks[i], NULL);
		evutil_secure_rng_get_bytes(&udp_limit->seed,
		    sizeof(udp_limit->seed));
		log_info("udp on the same addresses: at most %ld repl%s a "
		    "second per source, bursts of %ld", srv->opts->udp_rate,
		    srv->opts->udp_rate == 1 ? "y" : "ies",
		    srv->opts->udp_burst);
	}
	if (w >= MAX_THREADS || udp_list[w] != NULL ||
	    (udp = calloc(1, sizeof(*udp))) == NULL ||
	    (udp->ev = calloc((size_t)(last - first) + 1,
	    sizeof(*udp->ev))) == NULL)
		fatalx(EX_SOFTWARE, "udp_start: worker %d", w);
	udp->srv = srv;
	udp->policy = srv->policy;
	udp->policy.mode = FRAME_DATAGRAM;
	if (udp->policy.max_message > sizeof(udp->buf) - 1)
		udp->policy.max_message = sizeof(udp->buf) - 1;
	for (i = first; i < last; i++) {
		udp->ev[udp->n] = event_new(srv->base, fds[i],
		    EV_READ | EV_PERSIST, udp_read, udp);
		if (udp->ev[udp->n] == NULL ||
		    event_add(udp->ev[udp->n], NULL) == -1)
			fatalx(EX_SOFTWARE, "udp: event_new");
		udp->n++;
	}
	udp_list[w] = udp;
	if (udp->n == 0)
		log_debug("udp: worker %d has no UDP socket (%d inherited for "
		    "%d workers)", w, n, nw);
}

/*
 * Stop answering: on SIGTERM (there is nothing to drain), or in worker 0
 * when an upgrade's new msgd serves, while the other workers drain (their
 * loops are running: event_free waits for a udp_read running in another
 * thread to return, so nothing uses what is freed here).
 */
void
udp_stop(void)
{
	struct udp	*udp;
	int		 i, w, fd;

	for (w = 0; w < MAX_THREADS; w++) {
		if ((udp = udp_list[w]) == NULL)
			continue;
		for (i = 0; i < udp->n; i++) {
			fd = event_get_fd(udp->ev[i]);
			event_free(udp->ev[i]);
			close(fd);
		}
		free(udp->ev);
		free(udp);
		udp_list[w] = NULL;
	}
	if (udp_limit == NULL)
		return;
	for (i = 0; i < UDP_LOCKS; i++)
		pthread_mutex_destroy(&udp_limit->locks[i]);
	free(udp_limit->buckets);
	free(udp_limit);
	udp_limit = NULL;
}
