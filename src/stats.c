/*
 * stats.c - the server's counters, as Prometheus text or one log line.
 *
 * One table describes every counter, so /metrics and SIGUSR1 cannot
 * disagree about names or values.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "log.h"
#include "msgd.h"

struct stats_counter {
	const char	*name;		/* after "msgd_", before "_total" */
	size_t		 offset;	/* in struct stats */
	const char	*help;
};

static const struct stats_counter stats_counters[] = {
	{ "connections_accepted", offsetof(struct stats, accepted),
	  "Connections accepted and served." },
	{ "connections_refused_busy", offsetof(struct stats, refused_busy),
	  "Connections refused with \"server busy\" (--max-conns)." },
	{ "connections_idle_closed", offsetof(struct stats, closed_idle),
	  "Connections closed by the idle timeout." },
	{ "connections_too_long_closed",
	  offsetof(struct stats, closed_too_long),
	  "Connections closed for a message over --max-message." },
	{ "messages_received", offsetof(struct stats, messages_in),
	  "Messages (lines) received and answered." },
	{ "replies_sent", offsetof(struct stats, replies_out),
	  "Replies queued to clients." },
	{ "received_bytes", offsetof(struct stats, bytes_in),
	  "Bytes received from clients." },
	{ "sent_bytes", offsetof(struct stats, bytes_out),
	  "Bytes queued to clients." },
	{ "accept_pauses", offsetof(struct stats, accept_pauses),
	  "Times accepting paused for lack of descriptors." },
	{ "connections_proxy_rejected",
	  offsetof(struct stats, proxy_rejected),
	  "Connections closed for a missing or malformed PROXY header." },
	{ "udp_datagrams_received", offsetof(struct stats, udp_received),
	  "UDP datagrams received (--udp)." },
	{ "udp_replies_sent", offsetof(struct stats, udp_replies),
	  "UDP reply datagrams sent." },
	{ "udp_rate_limited", offsetof(struct stats, udp_rate_limited),
	  "UDP datagrams not answered: source over --udp-rate." },
};
#define STATS_NCOUNTERS	(sizeof(stats_counters) / sizeof(stats_counters[0]))

static uint64_t
stats_get(const struct stats *st, size_t i)
{
	uint64_t	v;

	memcpy(&v, (const char *)st + stats_counters[i].offset, sizeof(v));
	return (v);
}

static void
stats_gauge(struct evbuffer *b, const char *name, const char *help,
    long long v)
{
	evbuffer_add_printf(b, "# HELP msgd_%s %s\n# TYPE msgd_%s gauge\n"
	    "msgd_%s %lld\n", name, help, name, name, v);
}

/*
 * Every worker's counters added up, and the connections open in all of
 * them.  Other workers' counters are read while they run: each is a
 * naturally aligned 64-bit word written only by its own thread, so a read
 * sees an old or a new value, never a torn one, and a scrape is at most a
 * few messages behind.
 */
void
stats_total(struct stats *sum, long *open)
{
	const struct server	*w;
	size_t			 i;
	uint64_t		 v, *out;
	int			 k;

	memset(sum, 0, sizeof(*sum));
	if (open != NULL)
		*open = 0;
	for (k = 0; k < worker_count(); k++) {
		w = worker_get(k);
		for (i = 0; i < STATS_NCOUNTERS; i++) {
			out = (uint64_t *)((char *)sum +
			    stats_counters[i].offset);
			v = __atomic_load_n((const uint64_t *)((const char *)
			    &w->stats + stats_counters[i].offset),
			    __ATOMIC_RELAXED);
			*out += v;
		}
		if (open != NULL)
			*open += __atomic_load_n(&w->nconns, __ATOMIC_RELAXED);
	}
}

/* The text exposition format, version 0.0.4. */
void
stats_prometheus(const struct server *srv, struct evbuffer *b)
{
	const struct options	*o = srv->opts;
	struct stats		 sum;
	long			 open;
	size_t			 i;

	stats_total(&sum, &open);
	for (i = 0; i < STATS_NCOUNTERS; i++)
		evbuffer_add_printf(b, "# HELP msgd_%s_total %s\n"
		    "# TYPE msgd_%s_total counter\nmsgd_%s_total %llu\n",
		    stats_counters[i].name, stats_counters[i].help,
		    stats_counters[i].name, stats_counters[i].name,
		    (unsigned long long)stats_get(&sum, i));
	stats_gauge(b, "connections_open", "Connections open now.", open);
	stats_gauge(b, "uptime_seconds", "Seconds since msgd started.",
	    (long long)(time(NULL) - srv->started));
	stats_gauge(b, "draining", "1 while stopping after SIGTERM.",
	    srv->draining);
	stats_gauge(b, "max_connections", "The --max-conns limit in force.",
	    srv->max_conns);
	stats_gauge(b, "max_message_bytes", "The --max-message limit.",
	    o->max_message);
	stats_gauge(b, "idle_timeout_seconds",
	    "The --idle-timeout, 0 for none.", o->idle_timeout);
	stats_gauge(b, "threads", "Worker threads (--threads).",
	    worker_count());
}

/* SIGUSR1: the same numbers, one line. */
void
stats_log(const struct server *srv)
{
	struct stats	sum;
	char		line[1024];
	size_t		i, n = 0;
	long		open;

	stats_total(&sum, &open);
	for (i = 0; i < STATS_NCOUNTERS && n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - n, "%s=%llu ",
		    stats_counters[i].name,
		    (unsigned long long)stats_get(&sum, i));
	log_info("stats: %sconnections_open=%ld uptime_seconds=%lld "
	    "max_connections=%ld", line, open,
	    (long long)(time(NULL) - srv->started), srv->max_conns);
}
