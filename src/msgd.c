/*
 * msgd.c - main(): the start-up order, and nothing else.
 *
 * options -> log -> limits -> listeners (our own, or systemd's, or an old
 * msgd's on SIGUSR2) -> metrics socket -> pidfile -> daemon -> privileges
 * -> event loop -> drain -> exit.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "log.h"
#include "msgd.h"

static const char	*msgd_absolute(const char *);
static struct event_base *msgd_base(void);
static void		 msgd_dup_listeners(const struct listener *,
			    struct listener *, int);
static void		 msgd_log_start(const struct server *, int);
static void		 msgd_sockets(struct listener [][MSGD_MAX_LISTENERS],
			    int, int, int, const int *, int,
			    const struct listener *);

/* The daemon runs in /, so relative paths are fixed up before it goes. */
static const char *
msgd_absolute(const char *path)
{
	char	cwd[PATH_MAX], *abs;

	if (path == NULL || *path == '/')
		return (path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fatal(EX_OSERR, "getcwd");
	if (asprintf(&abs, "%s/%s", cwd, path) == -1)
		fatal(EX_OSERR, "asprintf");
	return (abs);
}

/* Socket activation with --threads: every worker accepts on systemd's. */
static void
msgd_dup_listeners(const struct listener *from, struct listener *to, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		to[i] = from[i];
		if ((to[i].fd = fcntl(from[i].fd, F_DUPFD_CLOEXEC, 0)) == -1)
			fatal(EX_OSERR, "dup");
	}
}

/*
 * Not EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST: it merges a delete and an add
 * of the same descriptor number in one loop turn, which is wrong when the
 * number was closed and reused by accept() in between (tests/concurrent.sh
 * lost clients that way).
 */
static struct event_base *
msgd_base(void)
{
	struct event_base	*base;

	if ((base = event_base_new()) == NULL)
		fatalx(EX_OSERR, "cannot create the event loop");
	return (base);
}

static void
msgd_log_start(const struct server *srv, int activated)
{
	const struct options	*o = srv->opts;
	char			 addrs[1024] = "";
	int			 i;

	for (i = 0; i < srv->nlisteners; i++) {
		if (i > 0)
			strncat(addrs, " ", sizeof(addrs) - strlen(addrs) - 1);
		strncat(addrs, srv->listeners[i].name,
		    sizeof(addrs) - strlen(addrs) - 1);
	}
	log_info("msgd %s started: listening on %s%s; %s, %s, %d thread%s%s",
	    PACKAGE_VERSION, addrs, !activated ? "" : upgrade_inherited() ?
	    " (from the old msgd)" : " (from systemd)",
	    o->keep_open ? "keep-open" : "one-shot",
	    o->echo ? "echo" : "fixed message", o->threads,
	    o->threads > 1 ? "s" : "", tls_enabled() ? ", TLS" : "");
	log_debug("limits: --max-conns %ld, --max-conns-per-source %ld, "
	    "--max-message %ld, --idle-timeout %ld, --drain-timeout %ld",
	    srv->max_conns, o->max_conns_per_source, o->max_message,
	    o->idle_timeout, o->drain_timeout);
}

/*
 * What SIGUSR2 hands over (upgrade.c): every worker's own sockets, or the
 * inherited ones the workers share; UDP; metrics.
 */
static void
msgd_sockets(struct listener l[][MSGD_MAX_LISTENERS], int threads, int nl,
    int activated, const int *udp, int nudp, const struct listener *metrics)
{
	int	i, j;

	for (i = 0; i < (activated ? 1 : threads); i++)
		for (j = 0; j < nl; j++)
			upgrade_add(l[i][j].fd, "msgd-tcp");
	for (j = 0; j < nudp; j++)
		upgrade_add(udp[j], "msgd-udp");
	if (metrics->fd != -1)
		upgrade_add(metrics->fd, "msgd-metrics");
}

int
main(int argc, char **argv)
{
	static struct listener	 listeners[MAX_THREADS][MSGD_MAX_LISTENERS];
	struct listen_addr	 addrs[MSGD_MAX_LISTENERS];
	static struct listener	 metrics;
	static int		 udp_fds[MSGD_MAX_UDP];
	struct options		 opts;
	struct event_base	*base;
	struct server		*srv;
	struct stats		 total;
	char			 err[256];
	int			 i, nl, naddrs, activated, port, nudp, pidfd;

	upgrade_init(argc, argv);
	options_defaults(&opts);
	switch (options_parse(&opts, argc, argv, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_usage(), stdout);
		return (fflush(stdout) == 0 ? EX_OK : EX_IOERR);
	case OPTIONS_VERSION:
		fputs(options_version(), stdout);
		return (fflush(stdout) == 0 ? EX_OK : EX_IOERR);
	case OPTIONS_ERROR:
		fatalx(EX_USAGE, "%s (try 'msgd --help')", err);
	case OPTIONS_RUN:
		break;
	}
	opts.pidfile = msgd_absolute(opts.pidfile);
	opts.log_path = msgd_absolute(opts.log_path);
	/* SIGHUP reloads them, after the daemon went to /. */
	opts.tls_cert = msgd_absolute(opts.tls_cert);
	opts.tls_key = msgd_absolute(opts.tls_key);
	opts.tls_client_ca = msgd_absolute(opts.tls_client_ca);

	log_setverbose(opts.verbose);
	if (log_open(opts.log_dest, opts.log_path, opts.verbose) == -1)
		fatal(EX_CANTCREAT, "cannot open log file %s", opts.log_path);
	log_libevent();
	/* After SIGUSR2 we are the user already (see privs_drop below). */
	if (opts.user != NULL && (!upgrade_inherited() || geteuid() == 0))
		privs_check_user(opts.user);
	tls_init(&opts);

	listen_share_port(opts.threads > 1);
	port = opts.port;
	naddrs = listen_addrs(&opts, addrs, MSGD_MAX_LISTENERS);
	metrics.fd = -1;
	nl = systemd_listeners(listeners[0], MSGD_MAX_LISTENERS, udp_fds,
	    &nudp, &metrics);
	activated = nl > 0;
	opts.max_conns = server_limit_fds(&opts, activated ? nl : naddrs,
	    activated);
	if (!activated)
		nl = listen_open(addrs, naddrs, &port, listeners[0]);
	for (i = 1; i < opts.threads; i++) {
		if (activated)
			msgd_dup_listeners(listeners[0], listeners[i], nl);
		else
			listen_open(addrs, naddrs, &port, listeners[i]);
	}
	/* Inherited UDP and metrics sockets, or our own (or none). */
	if (opts.udp && nudp == 0)
		nudp = udp_open(&opts, listeners[0], nl, udp_fds);
	else if (!opts.udp) {
		for (i = 0; i < nudp; i++)
			close(udp_fds[i]);
		nudp = 0;
	}
	if (opts.metrics_addr != NULL && metrics.fd == -1)
		metrics_bind(&opts, &metrics);
	else if (opts.metrics_addr == NULL && metrics.fd != -1) {
		close(metrics.fd);
		metrics.fd = -1;
	}
	msgd_sockets(listeners, opts.threads, nl, activated, udp_fds, nudp,
	    &metrics);
	pidfd = upgrade_pidfile();
	if (opts.pidfile != NULL && pidfd != -1)
		pidfile_inherit(pidfd, opts.pidfile);
	else {
		if (pidfd != -1)
			close(pidfd);
		if (opts.pidfile != NULL)
			pidfile_open(opts.pidfile);
	}
	/* An old msgd's child is detached already, and waited for. */
	if (opts.daemonize && !upgrade_inherited())
		daemon_start(opts.log_dest == LOG_TO_STDERR);
	else if (opts.daemonize && chdir("/") == -1)
		fatal(EX_OSERR, "chdir /");
	if (!upgrade_inherited())
		pidfile_write();
	if (opts.user != NULL && (!upgrade_inherited() || geteuid() == 0))
		privs_drop(opts.user);

	/* Locking in libevent only when another thread needs it. */
	if (opts.threads > 1 && evthread_use_pthreads() == -1)
		fatalx(EX_SOFTWARE, "evthread_use_pthreads");
	for (i = 0; i < opts.threads; i++)
		worker_add(server_new(msgd_base(), &opts, listeners[i], nl));
	if (activated)
		handoff_start();	/* the workers share the sockets */
	srv = worker_get(0);
	base = srv->base;
	if (opts.metrics_addr != NULL)
		metrics_start(srv, &metrics);
	for (i = 0; opts.udp && i < opts.threads; i++)
		udp_start(worker_get(i), udp_fds, nudp);
	signal_setup(srv);
	log_limit_start(base);
	worker_spawn();
	msgd_log_start(srv, activated);
	if (upgrade_inherited())
		pidfile_write();	/* the old msgd rewrites it if we fail */
	daemon_ready();
	systemd_ready(srv);
	log_set_console(-1);	/* serving: the log destination alone, now */

	if (event_base_dispatch(base) == -1)
		fatalx(EX_SOFTWARE, "event loop failed");

	worker_join();
	log_limit_stop();
	stats_total(&total, NULL);
	log_info("msgd stopped: %llu connection%s, %llu repl%s",
	    (unsigned long long)total.accepted,
	    total.accepted == 1 ? "" : "s",
	    (unsigned long long)total.replies_out,
	    total.replies_out == 1 ? "y" : "ies");
	signal_free(srv);
	metrics_stop();
	udp_stop();
	worker_free();
	server_free(srv);
	event_base_free(base);
	pidfile_remove();
	upgrade_free();
	tls_free();
	log_close();
	return (EX_OK);
}
