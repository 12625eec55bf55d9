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
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
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

struct udp_bucket {
	unsigned char	addr[16];	/* IPv4 as v4-mapped IPv6 */
	double		tokens;
	double		stamp;		/* seconds, monotonic */
	int		used;
};

struct udp {
	struct server		*srv;
	struct frame_policy	 policy;	/* the server's, per datagram */
	int			 fd[OPTIONS_MAX_LISTEN * 2];
	struct event		*ev[OPTIONS_MAX_LISTEN * 2];
	int			 n;
	struct udp_bucket	*buckets;
	uint32_t		 seed;
	char			 buf[MAX_MAX_MESSAGE < 65536 ?
				     MAX_MAX_MESSAGE : 65536];
};

static struct udp	*udp;

static void	udp_read(evutil_socket_t, short, void *);
static int	udp_allow(const struct sockaddr_storage *);

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
 * the slots it may use, so a flood of spoofed sources costs no memory.
 */
static int
udp_allow(const struct sockaddr_storage *ss)
{
	const struct options	*o = udp->srv->opts;
	struct udp_bucket	*b, *victim = NULL;
	unsigned char		 key[16];
	uint32_t		 h = udp->seed;
	double			 now = udp_now();
	int			 i;

	udp_key(ss, key);
	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;	/* FNV-1a, seeded */
	for (i = 0; i < UDP_PROBE; i++) {
		b = &udp->buckets[(h + i) & (UDP_BUCKETS - 1)];
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
	if (b->tokens < 1.0)
		return (0);
	b->tokens -= 1.0;
	return (1);
}

static void
udp_read(evutil_socket_t fd, short events, void *arg)
{
	struct server		*srv = arg;
	struct stats		*st = &srv->stats;
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
		if ((n = sendmsg(fd, &msg, MSG_DONTWAIT)) == -1)
			continue;	/* UDP: a lost reply is a lost reply */
		STATS_ADD(st->udp_replies, 1);
		STATS_ADD(st->bytes_out, (size_t)n);
	}
}

/*
 * Bind a UDP socket on every TCP listener's address and port (before msgd
 * detaches, so a clash is reported on the terminal).
 */
void
udp_open(const struct listener *tcp, int n, int *fds)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	int			i, fd, on = 1;

	for (i = 0; i < n; i++) {
		sslen = sizeof(ss);
		if (getsockname(tcp[i].fd, (struct sockaddr *)&ss, &sslen) ==
		    -1)
			fatal(EX_OSERR, "getsockname");
		fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			fatal(EX_OSERR, "cannot listen on udp %s", tcp[i].name);
		if (ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
			fatal(errno == EACCES ? EX_NOPERM : EX_UNAVAILABLE,
			    "cannot listen on udp %s", tcp[i].name);
		fds[i] = fd;
	}
}

/* Serve the sockets udp_open() bound, on the server's loop. */
void
udp_start(struct server *srv, const int *fds, int n)
{
	int	i;

	if ((udp = calloc(1, sizeof(*udp))) == NULL ||
	    (udp->buckets = calloc(UDP_BUCKETS, sizeof(*udp->buckets))) ==
	    NULL)
		fatal(EX_OSERR, "udp_start");
	udp->srv = srv;
	udp->policy = srv->policy;
	udp->policy.mode = FRAME_DATAGRAM;
	if (udp->policy.max_message > sizeof(udp->buf) - 1)
		udp->policy.max_message = sizeof(udp->buf) - 1;
	evutil_secure_rng_get_bytes(&udp->seed, sizeof(udp->seed));
	for (i = 0; i < n; i++) {
		udp->fd[i] = fds[i];
		udp->ev[i] = event_new(srv->base, fds[i], EV_READ | EV_PERSIST,
		    udp_read, srv);
		if (udp->ev[i] == NULL || event_add(udp->ev[i], NULL) == -1)
			fatalx(EX_SOFTWARE, "udp: event_new");
	}
	udp->n = n;
	log_info("udp on the same addresses: at most %ld repl%s a second "
	    "per source, bursts of %ld", srv->opts->udp_rate,
	    srv->opts->udp_rate == 1 ? "y" : "ies", srv->opts->udp_burst);
}

/* Stop answering (on SIGTERM: there is nothing to drain). */
void
udp_stop(void)
{
	int	i;

	if (udp == NULL)
		return;
	for (i = 0; i < udp->n; i++) {
		event_free(udp->ev[i]);
		close(udp->fd[i]);
	}
	free(udp->buckets);
	free(udp);
	udp = NULL;
}
