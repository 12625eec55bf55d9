/*
 * listen.c - turn --listen/--port into bound, listening sockets: TCP
 * here, unix:PATH in unixsock.c.
 *
 * This runs before msgd forks or drops privileges, so that a port in use or
 * a bad address is reported on the terminal with a sysexits(3) status.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/util.h>

#include "log.h"
#include "msgd.h"

static int	listen_add(struct listen_addr *, int, int, const char *, int);
static void	listen_unix(struct listen_addr *, const struct options *,
		    struct listener *);

static int	listen_reuseport;	/* --threads: one socket per worker */

/* Append one numeric address to a[0, max), which holds n. */
static int
listen_add(struct listen_addr *a, int n, int max, const char *addr,
    int optional)
{
	struct in6_addr	in6;
	size_t		len = strlen(addr);

	if (n == max)
		fatalx(EX_USAGE, "too many listen addresses");
	if (len >= sizeof(a[n].addr) ||
	    (evutil_inet_pton(AF_INET, addr, &in6) != 1 &&
	    evutil_inet_pton(AF_INET6, addr, &in6) != 1))
		return (-1);
	memcpy(a[n].addr, addr, len + 1);
	a[n].optional = optional;
	a[n].missing = 0;
	a[n].unixsock = 0;
	a[n].fd = -1;
	return (n + 1);
}

/*
 * Every --listen value as the literal addresses it stands for, into
 * a[0, max), once: each worker binds from this one list (listen_open), so
 * the list does not depend on how many workers there are.  A bad address
 * is a usage error before anything is bound.
 */
int
listen_addrs(const struct options *o, struct listen_addr *a, int max)
{
	const char	*arg;
	char		 lit[INET6_ADDRSTRLEN];
	size_t		 len;
	int		 i, n = 0, m;

	for (i = 0; i < (o->nlisten > 0 ? o->nlisten : 1); i++) {
		arg = o->nlisten > 0 ? o->listen[i] : "localhost";
		len = strlen(arg);
		if (n < max && unixsock_path(arg, a[n].addr,
		    sizeof(a[n].addr))) {
			a[n].optional = a[n].missing = 0;
			a[n].unixsock = 1;
			a[n].fd = -1;
			n++;
			continue;
		}
		if (strcmp(arg, "localhost") == 0) {
			n = listen_add(a, n, max, "127.0.0.1", 0);
			m = listen_add(a, n, max, "::1", 1);
		} else if (strcmp(arg, "*") == 0) {
			n = listen_add(a, n, max, "0.0.0.0", 0);
			m = listen_add(a, n, max, "::", 1);
		} else if (len > 2 && len - 2 < sizeof(lit) &&
		    arg[0] == '[' && arg[len - 1] == ']') {
			memcpy(lit, arg + 1, len - 2);
			lit[len - 2] = '\0';
			m = listen_add(a, n, max, lit, 0);
		} else
			m = listen_add(a, n, max, arg, 0);
		if (m == -1)
			fatalx(EX_USAGE, "invalid listen address '%s'", arg);
		n = m;
	}
	return (n);
}

/*
 * Bind and listen on one numeric address.  Returns 0, or -1 if the address
 * is optional and this host cannot have it (no IPv6).  *port is the port to
 * use, and is set to the kernel's choice when it was 0.
 */
int
listen_bind(const char *addr, int optional, int *port, struct listener *l)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sslen;
	int			 fd, on = 1, status;

	memset(&ss, 0, sizeof(ss));
	if (evutil_inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(*port);
		sslen = sizeof(*sin);
		snprintf(l->name, sizeof(l->name), "%s", addr);
	} else if (evutil_inet_pton(AF_INET6, addr,
	    &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(*port);
		sslen = sizeof(*sin6);
		snprintf(l->name, sizeof(l->name), "[%s]", addr);
	} else
		fatalx(EX_USAGE, "invalid listen address '%s'", addr);

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		if (optional && errno == EAFNOSUPPORT)
			return (-1);
		fatal(EX_OSERR, "cannot listen on %s:%d: socket", l->name,
		    *port);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (listen_reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		fatal(EX_OSERR, "SO_REUSEPORT");
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		if (optional && (errno == EADDRNOTAVAIL ||
		    errno == EAFNOSUPPORT)) {
			close(fd);
			return (-1);
		}
		status = errno == EACCES ? EX_NOPERM : EX_UNAVAILABLE;
		fatal(status, "cannot listen on %s:%d", l->name, *port);
	}
	if (*port == 0) {
		sslen = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1)
			fatal(EX_OSERR, "getsockname");
		*port = ntohs(ss.ss_family == AF_INET ? sin->sin_port :
		    sin6->sin6_port);
	}
	snprintf(l->name + strlen(l->name), sizeof(l->name) - strlen(l->name),
	    ":%d", *port);
	l->fd = fd;
	l->lev = NULL;
	l->shared = 0;
	l->handover = "msgd-tcp";
	return (0);
}

/*
 * With --threads every worker has its own listening sockets on the same
 * port (SO_REUSEPORT), and the kernel spreads new connections over them.
 */
void
listen_share_port(int on)
{
	listen_reuseport = on;
}

/*
 * A Unix-domain socket is bound once; with --threads every worker gets a
 * copy, and they share it (handoff.c).
 */
static void
listen_unix(struct listen_addr *a, const struct options *o,
    struct listener *l)
{
	if (a->fd == -1) {
		unixsock_bind(a->addr, o, l);
		a->fd = l->fd;
	} else {
		snprintf(l->name, sizeof(l->name), "unix:%s", a->addr);
		l->lev = NULL;
		l->handover = "msgd-unix";
		if ((l->fd = fcntl(a->fd, F_DUPFD_CLOEXEC, 0)) == -1)
			fatal(EX_OSERR, "dup");
	}
	l->shared = listen_reuseport;
}

/*
 * Open a listener on each of the n addresses in a (from listen_addrs) into
 * l, on *port.  With port 0 the first socket's kernel-chosen port is used
 * for all of them, so that one port number reaches msgd on every address,
 * and *port is set to it.  An optional address this host lacks is marked
 * missing, so that every worker opens the same listeners.
 */
int
listen_open(struct listen_addr *a, int n, int *port, const struct options *o,
    struct listener *l)
{
	int	i, nl = 0;

	for (i = 0; i < n; i++) {
		if (a[i].missing)
			continue;
		if (a[i].unixsock) {
			listen_unix(&a[i], o, &l[nl++]);
			continue;
		}
		if (listen_bind(a[i].addr, a[i].optional, port, &l[nl]) == 0)
			nl++;
		else {
			log_debug("no IPv6 on this host: not listening on %s",
			    a[i].addr);
			a[i].missing = 1;
		}
	}
	return (nl);
}
