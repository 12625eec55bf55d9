/*
 * systemd.c - living under systemd: readiness and stopping notifications
 * (Type=notify) and socket activation (LISTEN_FDS), which is also how an
 * old msgd hands its sockets to a new one (upgrade.c).  Built without
 * libsystemd (--without-systemd) the notifications do nothing, and
 * LISTEN_FDS from anyone but an old msgd is refused with a clear message
 * rather than ignored.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#else
#define SD_LISTEN_FDS_START	3
#endif

#include <event2/util.h>

#include "log.h"
#include "msgd.h"

static int	systemd_is(int, int);
static int	systemd_family(int);
static void	systemd_name(int, char *, size_t);

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

/* The address family of socket fd, or -1. */
static int
systemd_family(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	return (ss.ss_family);
}

/* Is fd a socket of this type (listening, for SOCK_STREAM)? */
static int
systemd_is(int fd, int type)
{
	socklen_t	len = sizeof(int);
	int		t, on;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &len) == -1 || t != type)
		return (0);
	len = sizeof(int);
	if (type == SOCK_STREAM && (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN,
	    &on, &len) == -1 || !on))
		return (0);
	return (1);
}

/*
 * Take the sockets systemd, or an old msgd (upgrade.c), passed us:
 * LISTEN_FDS descriptors from 3 on, for us if LISTEN_PID is our pid, named
 * in LISTEN_FDNAMES.  "msgd-udp" and "msgd-metrics" (from an old msgd) go
 * to udp (*nudp of them) and metrics (fd -1 if none); any other name is a
 * listening TCP or Unix-domain socket, into l ("msgd-unix": one an old
 * msgd bound, whose file is ours to remove now; unixsock.c).  Returns how
 * many of those (0: none passed, bind our own).  The protocol is
 * sd_listen_fds(3)'s, read here so that upgrades work without libsystemd
 * too.
 */
int
systemd_listeners(struct listener *l, int max, int *udp, int *nudp,
    struct listener *metrics)
{
	const char	*s, *names, *end;
	char		*ep, name[64];
	long		 n, pid;
	size_t		 len;
	int		 fd, i, ntcp = 0;

	*nudp = 0;
	metrics->fd = -1;
	if ((s = getenv("LISTEN_FDS")) == NULL)
		return (0);
#ifndef HAVE_LIBSYSTEMD
	if (!upgrade_inherited())
		fatalx(EX_UNAVAILABLE, "LISTEN_FDS is set, but this msgd was "
		    "built without systemd support");
#endif
	errno = 0;
	n = strtol(s, &ep, 10);
	if (errno != 0 || *ep != '\0' || n < 0 || n > 1024 ||
	    getenv("LISTEN_PID") == NULL ||
	    (pid = strtol(getenv("LISTEN_PID"), &ep, 10)) != (long)getpid() ||
	    *ep != '\0')
		n = 0;
	names = getenv("LISTEN_FDNAMES");
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		/* The i-th name, or "". */
		name[0] = '\0';
		if (names != NULL) {
			end = strchr(names, ':');
			len = end != NULL ? (size_t)(end - names) :
			    strlen(names);
			if (len < sizeof(name)) {
				memcpy(name, names, len);
				name[len] = '\0';
			}
			names = end != NULL ? end + 1 : NULL;
		}
		/* libevent's loops must not block: */
		if (evutil_make_socket_nonblocking(fd) == -1 ||
		    evutil_make_socket_closeonexec(fd) == -1)
			fatal(EX_OSERR, "socket activation: descriptor %d", fd);
		if (strcmp(name, "msgd-udp") == 0) {
			if (!systemd_is(fd, SOCK_DGRAM) ||
			    *nudp == MSGD_MAX_UDP)
				fatalx(EX_USAGE, "inherited descriptor %d is "
				    "not a UDP socket, or one too many", fd);
			udp[(*nudp)++] = fd;
			continue;
		}
		if (strcmp(name, "msgd-metrics") == 0 && metrics->fd == -1 &&
		    systemd_is(fd, SOCK_STREAM)) {
			metrics->fd = fd;
			metrics->lev = NULL;
			systemd_name(fd, metrics->name, sizeof(metrics->name));
			continue;
		}
		if (ntcp == max)
			fatalx(EX_USAGE, "%ld listening sockets passed, at "
			    "most %d are supported", n, max);
		if (!systemd_is(fd, SOCK_STREAM))
			fatalx(EX_USAGE, "socket activation: descriptor %d "
			    "is not a listening stream socket", fd);
		l[ntcp].fd = fd;
		l[ntcp].lev = NULL;
		l[ntcp].shared = 1;	/* every worker accepts on it */
		if (systemd_family(fd) == AF_UNIX)
			unixsock_inherit(fd, name, &l[ntcp]);
		else {
			l[ntcp].handover = "msgd-tcp";
			systemd_name(fd, l[ntcp].name, sizeof(l[ntcp].name));
		}
		ntcp++;
	}
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	if (n > 0)
		log_debug("%ld inherited sockets: %d stream, %d UDP, %s "
		    "metrics", n, ntcp, *nudp, metrics->fd != -1 ? "1" : "no");
	return (ntcp);
}

/* SIGUSR2 (upgrade.c): the new msgd is the service's main process now. */
void
systemd_mainpid(pid_t pid)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notifyf(0, "MAINPID=%ld\nSTATUS=upgraded: pid %ld serves",
	    (long)pid, (long)pid);
#else
	(void)pid;
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
