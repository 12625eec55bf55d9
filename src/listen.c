/*
 * listen.c - turn --listen/--port into bound, listening sockets.
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

struct listen_spec {
	const char	*addr;		/* numeric literal */
	int		 optional;	/* skip quietly if the host lacks it */
};

static int	listen_expand(const char *, struct listen_spec *);

static int	listen_reuseport;	/* --threads: one socket per worker */

/* One --listen value as the literal addresses it stands for. */
static int
listen_expand(const char *arg, struct listen_spec *spec)
{
	static char	 buf[OPTIONS_MAX_LISTEN][INET6_ADDRSTRLEN];
	static int	 nbuf;
	size_t		 len;

	if (arg == NULL || strcmp(arg, "localhost") == 0) {
		spec[0] = (struct listen_spec){ "127.0.0.1", 0 };
		spec[1] = (struct listen_spec){ "::1", 1 };
		return (2);
	}
	if (strcmp(arg, "*") == 0) {
		spec[0] = (struct listen_spec){ "0.0.0.0", 0 };
		spec[1] = (struct listen_spec){ "::", 1 };
		return (2);
	}
	len = strlen(arg);
	if (arg[0] == '[' && len > 2 && len - 2 < INET6_ADDRSTRLEN &&
	    nbuf < OPTIONS_MAX_LISTEN) {
		memcpy(buf[nbuf], arg + 1, len - 2);
		buf[nbuf][len - 2] = '\0';
		arg = buf[nbuf++];
	}
	spec[0] = (struct listen_spec){ arg, 0 };
	return (1);
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
 * Open every listener the options ask for into l[0, max), on *port.  With
 * port 0 the first socket's kernel-chosen port is used for all of them, so
 * that one port number reaches msgd on every address, and *port is set to
 * it.
 */
int
listen_open(const struct options *o, int *port, struct listener *l, int max)
{
	struct listen_spec	spec[2];
	int			i, j, n, nl = 0;

	for (i = 0; i < (o->nlisten > 0 ? o->nlisten : 1); i++) {
		n = listen_expand(o->nlisten > 0 ? o->listen[i] : NULL, spec);
		for (j = 0; j < n; j++) {
			if (nl == max)
				fatalx(EX_USAGE, "too many listen addresses");
			if (listen_bind(spec[j].addr, spec[j].optional, port,
			    &l[nl]) == 0)
				nl++;
			else
				log_debug("no IPv6 on this host: not "
				    "listening on %s", spec[j].addr);
		}
	}
	return (nl);
}

void
listen_close(struct listener *l, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (l[i].lev == NULL && l[i].fd != -1)
			close(l[i].fd);
		l[i].fd = -1;
	}
}
