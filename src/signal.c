/*
 * signal.c - signals as libevent events, all handled in one place.
 *
 * SIGTERM and SIGINT drain and stop (a second one stops at once), SIGHUP
 * reopens the log file and reloads the TLS files (tls.c), SIGUSR1 logs the counters, SIGUSR2 starts a new
 * msgd and hands over to it (upgrade.c), and SIGPIPE is ignored: a client
 * that goes away mid-write is an EPIPE, not a reason to die.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sysexits.h>

#include <event2/event.h>

#include "log.h"
#include "msgd.h"

static const int signal_list[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
    SIGUSR2 };

static void	signal_handle(evutil_socket_t, short, void *);

static void
signal_handle(evutil_socket_t sig, short events, void *arg)
{
	struct server	*srv = arg;

	(void)events;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		systemd_stopping();
		upgrade_abort();
		worker_stop();
		break;
	case SIGHUP:
		systemd_reloading(0);
		if (log_reopen() == -1)
			log_warn("SIGHUP: cannot reopen the log file");
		else
			log_info("SIGHUP: log file reopened");
		tls_reload();
		systemd_reloading(1);
		break;
	case SIGUSR1:
		stats_log(srv);
		break;
	case SIGUSR2:
		upgrade_start(srv);
		break;
	}
}

void
signal_setup(struct server *srv)
{
	struct sigaction	sa;
	size_t			i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	for (i = 0; i < sizeof(signal_list) / sizeof(signal_list[0]); i++) {
		srv->signal_ev[i] = evsignal_new(srv->base, signal_list[i],
		    signal_handle, srv);
		if (srv->signal_ev[i] == NULL ||
		    evsignal_add(srv->signal_ev[i], NULL) == -1)
			fatalx(EX_OSERR, "cannot handle signal %d",
			    signal_list[i]);
	}
}

void
signal_free(struct server *srv)
{
	size_t	i;

	for (i = 0; i < sizeof(signal_list) / sizeof(signal_list[0]); i++) {
		if (srv->signal_ev[i] != NULL)
			event_free(srv->signal_ev[i]);
		srv->signal_ev[i] = NULL;
	}
}
