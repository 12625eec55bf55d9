/*
 * systemd.c - living under systemd: readiness and stopping notifications
 * (Type=notify) and socket activation (LISTEN_FDS).  Built without
 * libsystemd (--without-systemd) these do nothing, and LISTEN_FDS is
 * refused with a clear message rather than ignored.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <event2/util.h>

#include "log.h"
#include "msgd.h"

#ifdef HAVE_LIBSYSTEMD
/* "127.0.0.1:5000" or "[::1]:5000" for an inherited socket. */
static void
systemd_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sslen = sizeof(ss);
	char			 a[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1)
		snprintf(buf, len, "fd %d", fd);
	else if (ss.ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%d", inet_ntop(AF_INET6,
		    &sin6->sin6_addr, a, sizeof(a)), ntohs(sin6->sin6_port));
	else
		snprintf(buf, len, "%s:%d", inet_ntop(AF_INET,
		    &sin->sin_addr, a, sizeof(a)), ntohs(sin->sin_port));
}
#endif

/*
 * Take the listening sockets systemd passed us, if any.  Returns how many
 * (0: none passed, bind our own).
 */
int
systemd_listeners(struct listener *l, int max)
{
#ifdef HAVE_LIBSYSTEMD
	int	fd, i, n;

	if ((n = sd_listen_fds(1)) <= 0)
		return (0);
	if (n > max)
		fatalx(EX_USAGE, "systemd passed %d sockets, at most %d "
		    "are supported", n, max);
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
			fatalx(EX_USAGE, "socket activation: descriptor %d "
			    "is not a listening TCP socket", fd);
		/* libevent's accept loop must not block: */
		if (evutil_make_socket_nonblocking(fd) == -1 ||
		    evutil_make_socket_closeonexec(fd) == -1)
			fatal(EX_OSERR, "socket activation: descriptor %d", fd);
		l[i].fd = fd;
		l[i].lev = NULL;
		systemd_name(fd, l[i].name, sizeof(l[i].name));
	}
	log_debug("socket activation: %d listening sockets from systemd", n);
	return (n);
#else
	(void)l;
	(void)max;
	if (getenv("LISTEN_FDS") != NULL)
		fatalx(EX_UNAVAILABLE, "LISTEN_FDS is set, but this msgd was "
		    "built without systemd support");
	return (0);
#endif
}

void
systemd_ready(const struct server *srv)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notifyf(0, "READY=1\nSTATUS=serving on %s%s\nMAINPID=%ld",
	    srv->listeners[0].name, srv->nlisteners > 1 ? " and more" : "",
	    (long)getpid());
#else
	(void)srv;
#endif
}

void
systemd_stopping(void)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

void
systemd_reloading(int done)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, done ? "READY=1" : "RELOADING=1");
#else
	(void)done;
#endif
}
