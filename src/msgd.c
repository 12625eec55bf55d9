/*
 * msgd.c - main(): the start-up order, and nothing else.
 *
 * options -> log -> limits -> listeners (our own, or systemd's) -> metrics
 * socket -> pidfile -> daemon -> privileges -> event loop -> drain -> exit.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msgd.h"

static const char	*msgd_absolute(const char *);
static void		 msgd_log_start(const struct server *, int);

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
	log_info("msgd %s started: listening on %s%s; %s, %s", PACKAGE_VERSION,
	    addrs, activated ? " (from systemd)" : "", o->keep_open ? "keep-open" : "one-shot",
	    o->echo ? "echo" : "fixed message");
	log_debug("limits: --max-conns %ld, --max-message %ld, "
	    "--idle-timeout %ld, --drain-timeout %ld", srv->max_conns,
	    o->max_message, o->idle_timeout, o->drain_timeout);
}

int
main(int argc, char **argv)
{
	static struct listener	 listeners[OPTIONS_MAX_LISTEN * 2], metrics;
	struct options		 opts;
	struct event_base	*base;
	struct server		*srv;
	char			 err[256];
	int			 nl, activated, udp_fds[OPTIONS_MAX_LISTEN * 2];

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

	log_setverbose(opts.verbose);
	if (log_open(opts.log_dest, opts.log_path, opts.verbose) == -1)
		fatal(EX_CANTCREAT, "cannot open log file %s", opts.log_path);
	log_libevent();
	if (opts.user != NULL)
		privs_check_user(opts.user);

	opts.max_conns = server_limit_fds(opts.max_conns);
	nl = systemd_listeners(listeners, OPTIONS_MAX_LISTEN * 2);
	if (!(activated = nl > 0))
		nl = listen_open(&opts, listeners, OPTIONS_MAX_LISTEN * 2);
	if (opts.udp)
		udp_open(listeners, nl, udp_fds);
	if (opts.metrics_addr != NULL)
		metrics_bind(&opts, &metrics);
	if (opts.pidfile != NULL)
		pidfile_open(opts.pidfile);
	if (opts.daemonize)
		daemon_start(opts.log_dest == LOG_TO_STDERR);
	pidfile_write();
	if (opts.user != NULL)
		privs_drop(opts.user);

	if ((base = event_base_new()) == NULL)
		fatalx(EX_OSERR, "cannot create the event loop");
	srv = server_new(base, &opts, listeners, nl);
	if (opts.metrics_addr != NULL)
		metrics_start(srv, &metrics);
	if (opts.udp)
		udp_start(srv, udp_fds, nl);
	signal_setup(srv);
	msgd_log_start(srv, activated);
	daemon_ready();
	systemd_ready(srv);

	if (event_base_dispatch(base) == -1)
		fatalx(EX_SOFTWARE, "event loop failed");

	log_info("msgd stopped: %llu connections, %llu replies",
	    (unsigned long long)srv->stats.accepted,
	    (unsigned long long)srv->stats.replies_out);
	signal_free(srv);
	metrics_stop();
	udp_stop();
	server_free(srv);
	event_base_free(base);
	pidfile_remove();
	log_close();
	return (EX_OK);
}
