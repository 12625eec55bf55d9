/*
 * source.c - connections open per source, for --max-conns-per-source.
 *
 * A source is an IPv4 address or an IPv6 /64: a host usually has a whole
 * /64 to take addresses from, so a limit per IPv6 address would not limit
 * it.  An IPv4-mapped IPv6 address is its IPv4 address.  With
 * --proxy-protocol the source is the client the header names, counted
 * once the header is in (the balancer's own address, every client's peer,
 * is not counted); a header without an address counts under the
 * connection's own peer.
 *
 * One table for the process, so that the limit holds across workers: a
 * tsearch(3) tree with a node for each source that has connections open,
 * under one mutex, touched at accept (or the PROXY header) and at close,
 * never per read.  A node goes with its source's last connection, so the
 * table holds the sources connected now, not every one ever seen.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msgd.h"
#include "proxy.h"

/* A source with connections open.  The key comes first: see source_cmp. */
struct source {
	struct source_key	 key;
	long			 count;
};

static void		*source_root;
static pthread_mutex_t	 source_lock = PTHREAD_MUTEX_INITIALIZER;

/* ::ffff:0:0/96, IPv4-mapped IPv6 addresses. */
static const unsigned char source_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int	 source_cmp(const void *, const void *);
static const void *source_sockaddr(const struct sockaddr *);
static int	 source_open(const struct server *, int, const void *,
		    struct source **);

/* Nodes and keys compare by the key, which both begin with. */
static int
source_cmp(const void *a, const void *b)
{
	return (memcmp(a, b, sizeof(struct source_key)));
}

/*
 * The source of an address of this family (AF_INET: 4 bytes, AF_INET6:
 * 16).  Returns -1 for other families, which are not counted.
 */
int
source_key(struct source_key *k, int family, const void *addr)
{
	memset(k, 0, sizeof(*k));
	switch (family) {
	case AF_INET:
		memcpy(k->addr, source_v4mapped, sizeof(source_v4mapped));
		memcpy(k->addr + sizeof(source_v4mapped), addr, 4);
		return (0);
	case AF_INET6:
		/* Mapped keys end in ff ff and 4 bytes, /64 keys in zeros. */
		if (memcmp(addr, source_v4mapped,
		    sizeof(source_v4mapped)) == 0)
			memcpy(k->addr, addr, sizeof(k->addr));
		else
			memcpy(k->addr, addr, 8);
		return (0);
	}
	return (-1);
}

/* A source as text, for the log: "192.0.2.1" or "2001:db8::/64". */
void
source_name(const struct source_key *k, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (memcmp(k->addr, source_v4mapped, sizeof(source_v4mapped)) == 0) {
		if (inet_ntop(AF_INET, k->addr + sizeof(source_v4mapped), a,
		    sizeof(a)) == NULL)
			a[0] = '\0';
		snprintf(buf, len, "%s", a);
		return;
	}
	if (inet_ntop(AF_INET6, k->addr, a, sizeof(a)) == NULL)
		a[0] = '\0';
	snprintf(buf, len, "%s/64", a);
}

/*
 * One more connection from source k, unless it has max open already (0:
 * no limit): then -1.  *sp is what to give back with source_release(), or
 * NULL when there was no memory to count it: then it is let in uncounted
 * rather than refused for msgd's own trouble.
 */
int
source_add(const struct source_key *k, long max, struct source **sp)
{
	struct source	*s, **found;
	int		 rc = 0;

	*sp = NULL;
	pthread_mutex_lock(&source_lock);
	if ((found = tfind(k, &source_root, source_cmp)) != NULL)
		s = *found;
	else if ((s = calloc(1, sizeof(*s))) != NULL) {
		s->key = *k;
		if (tsearch(s, &source_root, source_cmp) == NULL) {
			free(s);
			s = NULL;
		}
	}
	if (s != NULL && max > 0 && s->count >= max)
		rc = -1;	/* it has a connection open: the node stays */
	else if (s != NULL) {
		s->count++;
		*sp = s;
	}
	pthread_mutex_unlock(&source_lock);
	return (rc);
}

/* A connection counted by source_add() has closed. */
void
source_release(struct source *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&source_lock);
	if (--s->count == 0)
		tdelete(s, &source_root, source_cmp);
	else
		s = NULL;
	pthread_mutex_unlock(&source_lock);
	free(s);
}

/* Where the address is in a struct sockaddr, or NULL if not IP. */
static const void *
source_sockaddr(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return (&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return (NULL);
}

/* Count a connection from addr against the limit; -1: over it. */
static int
source_open(const struct server *srv, int family, const void *addr,
    struct source **sp)
{
	struct source_key	k;
	char			name[INET6_ADDRSTRLEN + 4];
	long			max = srv->opts->max_conns_per_source;

	*sp = NULL;
	if (max == 0 || addr == NULL || source_key(&k, family, addr) == -1)
		return (0);
	if (source_add(&k, max, sp) == 0)
		return (0);
	source_name(&k, name, sizeof(name));
	log_trace("refused a connection from %s: it has %ld open "
	    "(--max-conns-per-source)", name, max);
	return (-1);
}

/*
 * A connection from sa is being accepted: count it, unless a PROXY header
 * is to name the client (source_proxied).  -1: over the limit.
 */
int
source_accept(struct server *srv, const struct sockaddr *sa,
    struct source **sp)
{
	*sp = NULL;
	if (srv->opts->proxy_protocol || sa == NULL)
		return (0);
	return (source_open(srv, sa->sa_family, source_sockaddr(sa), sp));
}

/*
 * --proxy-protocol: the header is in.  Count the client it names, or,
 * when it names none (LOCAL, UNKNOWN, AF_UNIX), the connection's peer.
 * -1: over the limit; the caller closes with CONN_CLOSE_PER_SOURCE.
 */
int
source_proxied(struct conn *c, const struct proxy_header *h)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (c->srv->opts->max_conns_per_source == 0 || c->source != NULL)
		return (0);
	if (h->family == AF_INET || h->family == AF_INET6)
		return (source_open(c->srv, h->family, h->src, &c->source));
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == -1)
		return (0);	/* gone: its next read says so */
	return (source_open(c->srv, ss.ss_family,
	    source_sockaddr((struct sockaddr *)&ss), &c->source));
}
