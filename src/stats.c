/*
 * stats.c - the server's counters and histograms, as Prometheus text or
 * one log line.
 *
 * One table describes every counter, so /metrics and SIGUSR1 cannot
 * disagree about names or values; a counter with a reason label is one
 * member of a family.  Each worker keeps its own counters and histogram
 * buckets (struct stats), written only by its thread; a reader adds them
 * up (stats_total).  process.c adds the process_* metrics.
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
	const char	*reason;	/* the reason label, or NULL */
	size_t		 offset;	/* in struct stats */
	const char	*help;		/* the family's, on its first member */
};

#define STATS_CLOSED(why)	offsetof(struct stats, closed[why])

/* Members of one family (the same name) follow each other. */
static const struct stats_counter stats_counters[] = {
	{ "connections_accepted", NULL, offsetof(struct stats, accepted),
	  "Connections accepted and served." },
	{ "connections_refused", "busy",
	  offsetof(struct stats, refused_busy),
	  "Connections refused, by reason (busy: over --max-conns; "
	  "per_source: over --max-conns-per-source)." },
	{ "connections_refused", "per_source",
	  offsetof(struct stats, refused_per_source), NULL },
	{ "connections_closed", "done", STATS_CLOSED(CONN_CLOSE_DONE),
	  "Accepted connections closed, by reason." },
	{ "connections_closed", "error", STATS_CLOSED(CONN_CLOSE_ERROR), NULL },
	{ "connections_closed", "idle_timeout", STATS_CLOSED(CONN_CLOSE_IDLE),
	  NULL },
	{ "connections_closed", "too_long", STATS_CLOSED(CONN_CLOSE_TOO_LONG),
	  NULL },
	{ "connections_closed", "proxy_header", STATS_CLOSED(CONN_CLOSE_PROXY),
	  NULL },
	{ "connections_closed", "line_timeout",
	  STATS_CLOSED(CONN_CLOSE_LINE_TIMEOUT), NULL },
	{ "connections_closed", "evicted", STATS_CLOSED(CONN_CLOSE_EVICTED),
	  NULL },
	{ "connections_closed", "per_source",
	  STATS_CLOSED(CONN_CLOSE_PER_SOURCE), NULL },
	{ "connections_closed", "tls_handshake", STATS_CLOSED(CONN_CLOSE_TLS),
	  NULL },
	{ "messages_received", NULL, offsetof(struct stats, messages_in),
	  "Messages (lines) received and answered." },
	{ "replies_sent", NULL, offsetof(struct stats, replies_out),
	  "Replies queued to clients." },
	{ "received_bytes", NULL, offsetof(struct stats, bytes_in),
	  "Bytes received from clients." },
	{ "sent_bytes", NULL, offsetof(struct stats, bytes_out),
	  "Bytes queued to clients." },
	{ "accept_pauses", NULL, offsetof(struct stats, accept_pauses),
	  "Times accepting paused for lack of descriptors." },
	{ "metrics_connections_refused", NULL,
	  offsetof(struct stats, metrics_refused),
	  "Connections to --metrics closed at once: the most were open." },
	{ "metrics_connections_timed_out", NULL,
	  offsetof(struct stats, metrics_timed_out),
	  "Connections to --metrics closed with no whole request in time." },
	{ "udp_datagrams_received", NULL, offsetof(struct stats, udp_received),
	  "UDP datagrams received (--udp)." },
	{ "udp_replies_sent", NULL, offsetof(struct stats, udp_replies),
	  "UDP reply datagrams sent." },
	{ "udp_rate_limited", NULL, offsetof(struct stats, udp_rate_limited),
	  "UDP datagrams not answered: source over --udp-rate." },
	{ "udp_replies_failed", "too_large",
	  offsetof(struct stats, udp_failed[UDP_FAIL_TOO_LARGE]),
	  "UDP replies that could not be sent, by reason (too_large: over "
	  "the largest datagram; buffer_full: the socket's send buffer; "
	  "error: any other)." },
	{ "udp_replies_failed", "buffer_full",
	  offsetof(struct stats, udp_failed[UDP_FAIL_BUFFER_FULL]), NULL },
	{ "udp_replies_failed", "error",
	  offsetof(struct stats, udp_failed[UDP_FAIL_ERROR]), NULL },
	{ "tls_handshakes", NULL, offsetof(struct stats, tls_handshakes),
	  "TLS handshakes completed (--tls-cert)." },
	{ "tls_handshake_failures", "timeout",
	  offsetof(struct stats, tls_failed[TLS_FAIL_TIMEOUT]),
	  "TLS handshakes that failed, by reason (timeout: not done in 10 s; "
	  "error: refused by OpenSSL, e.g. not TLS or no valid client "
	  "certificate; closed: the client closed first)." },
	{ "tls_handshake_failures", "error",
	  offsetof(struct stats, tls_failed[TLS_FAIL_ERROR]), NULL },
	{ "tls_handshake_failures", "closed",
	  offsetof(struct stats, tls_failed[TLS_FAIL_CLOSED]), NULL },
};
#define STATS_NCOUNTERS	(sizeof(stats_counters) / sizeof(stats_counters[0]))

/* Histogram bucket bounds, in seconds and (the same) in nanoseconds. */
static const char *const stats_reply_le[STATS_REPLY_BUCKETS] = {
	"0.0001", "0.0005", "0.001", "0.005", "0.01", "0.05", "0.1", "0.5",
	"1", "5", "10"
};
static const uint64_t stats_reply_ns[STATS_REPLY_BUCKETS] = {
	100000, 500000, 1000000, 5000000, 10000000, 50000000, 100000000,
	500000000, 1000000000, 5000000000, 10000000000
};
static const char *const stats_conn_le[STATS_CONN_BUCKETS] = {
	"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "30",
	"60", "300", "1800", "3600"
};
static const uint64_t stats_conn_ns[STATS_CONN_BUCKETS] = {
	1000000, 5000000, 10000000, 50000000, 100000000, 500000000,
	1000000000, 5000000000, 10000000000, 30000000000, 60000000000,
	300000000000, 1800000000000, 3600000000000
};

/* Every uint64_t in struct stats, in order, for adding them up. */
#define STATS_WORDS	(sizeof(struct stats) / sizeof(uint64_t))

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

/* Now, in nanoseconds of CLOCK_MONOTONIC (the vDSO: no system call). */
uint64_t
stats_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

static size_t
stats_bucket(const uint64_t *le, size_t n, uint64_t ns)
{
	size_t	i;

	for (i = 0; i < n && ns > le[i]; i++)
		;
	return (i);
}

/* n replies, whose lines had arrived ns before, have been written. */
void
stats_replied(struct stats *st, uint64_t ns, uint64_t n)
{
	struct stats_histogram_reply	*h = &st->reply_latency;
	size_t				 i;

	i = stats_bucket(stats_reply_ns, STATS_REPLY_BUCKETS, ns);
	STATS_ADD(h->counts[i], n);
	if (ns != 0)
		STATS_ADD(h->sum_ns, ns * n);
}

/* A connection that lasted ns has closed. */
void
stats_closed(struct stats *st, enum conn_close why, uint64_t ns)
{
	struct stats_histogram_conn	*h = &st->conn_duration;

	STATS_ADD(st->closed[why], 1);
	STATS_ADD(h->counts[stats_bucket(stats_conn_ns, STATS_CONN_BUCKETS,
	    ns)], 1);
	STATS_ADD(h->sum_ns, ns);
}

/*
 * Every worker's counters added up, and the connections open in all of
 * them.  Other workers' counters are read while they run: each is a
 * 64-bit word its own thread stores atomically (STATS_ADD), read here
 * with relaxed atomic loads, so a read sees an old or a new value, never
 * a torn one, and a scrape is at most a few messages behind.  Words are
 * read one by one, not as a snapshot: a histogram's count is made from its
 * buckets as read (stats_histogram), so the two always agree.
 */
void
stats_total(struct stats *sum, long *open)
{
	const struct server	*w;
	const uint64_t		*in;
	uint64_t		*out = (uint64_t *)sum;
	size_t			 i;
	int			 k;

	memset(sum, 0, sizeof(*sum));
	if (open != NULL)
		*open = 0;
	for (k = 0; k < worker_count(); k++) {
		w = worker_get(k);
		in = (const uint64_t *)&w->stats;
		for (i = 0; i < STATS_WORDS; i++)
			out[i] += __atomic_load_n(&in[i], __ATOMIC_RELAXED);
		if (open != NULL)
			*open += __atomic_load_n(&w->nconns, __ATOMIC_RELAXED);
	}
}

/* One histogram: cumulative buckets, +Inf, _sum and _count. */
static void
stats_histogram(struct evbuffer *b, const char *name, const char *help,
    const char *const *le, const uint64_t *counts, size_t n, uint64_t sum_ns)
{
	uint64_t	cum = 0;
	size_t		i;

	evbuffer_add_printf(b, "# HELP msgd_%s %s\n# TYPE msgd_%s histogram\n",
	    name, help, name);
	for (i = 0; i < n; i++) {
		cum += counts[i];
		evbuffer_add_printf(b, "msgd_%s_bucket{le=\"%s\"} %llu\n", name,
		    le[i], (unsigned long long)cum);
	}
	cum += counts[n];
	evbuffer_add_printf(b, "msgd_%s_bucket{le=\"+Inf\"} %llu\n"
	    "msgd_%s_sum %llu.%09llu\nmsgd_%s_count %llu\n", name,
	    (unsigned long long)cum, name,
	    (unsigned long long)(sum_ns / 1000000000),
	    (unsigned long long)(sum_ns % 1000000000), name,
	    (unsigned long long)cum);
}

/*
 * Connections each worker served: how evenly the workers share the load
 * (with --threads, the kernel's share of each worker's own sockets, or
 * handoff.c's turns on shared ones).
 */
static void
stats_workers_prometheus(struct evbuffer *b)
{
	const struct server	*w;
	int			 k;

	evbuffer_add_printf(b, "# HELP msgd_worker_connections_accepted_total "
	    "Connections accepted and served, by worker thread.\n"
	    "# TYPE msgd_worker_connections_accepted_total counter\n");
	for (k = 0; k < worker_count(); k++) {
		w = worker_get(k);
		evbuffer_add_printf(b, "msgd_worker_connections_accepted_total"
		    "{worker=\"%d\"} %llu\n", k, (unsigned long long)
		    __atomic_load_n(&w->stats.accepted, __ATOMIC_RELAXED));
	}
}

static void
stats_counters_prometheus(const struct stats *sum, struct evbuffer *b)
{
	const struct stats_counter	*c;
	size_t				 i;

	for (i = 0; i < STATS_NCOUNTERS; i++) {
		c = &stats_counters[i];
		if (c->help != NULL)
			evbuffer_add_printf(b, "# HELP msgd_%s_total %s\n"
			    "# TYPE msgd_%s_total counter\n", c->name, c->help,
			    c->name);
		if (c->reason != NULL)
			evbuffer_add_printf(b,
			    "msgd_%s_total{reason=\"%s\"} %llu\n", c->name,
			    c->reason, (unsigned long long)stats_get(sum, i));
		else
			evbuffer_add_printf(b, "msgd_%s_total %llu\n", c->name,
			    (unsigned long long)stats_get(sum, i));
	}
}

/* The text exposition format, version 0.0.4. */
void
stats_prometheus(const struct server *srv, struct evbuffer *b)
{
	const struct options	*o = srv->opts;
	struct stats		 sum;
	long			 open;

	stats_total(&sum, &open);
	evbuffer_add_printf(b, "# HELP msgd_build_info The version of msgd "
	    "running (always 1).\n# TYPE msgd_build_info gauge\n"
	    "msgd_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	stats_counters_prometheus(&sum, b);
	stats_workers_prometheus(b);
	stats_histogram(b, "reply_latency_seconds", "From a complete line's "
	    "arrival to its reply being written; 0 when written at once.",
	    stats_reply_le, sum.reply_latency.counts, STATS_REPLY_BUCKETS,
	    sum.reply_latency.sum_ns);
	stats_histogram(b, "connection_duration_seconds", "From accept to "
	    "close, of the connections closed so far.", stats_conn_le,
	    sum.conn_duration.counts, STATS_CONN_BUCKETS,
	    sum.conn_duration.sum_ns);
	stats_gauge(b, "connections_open", "Connections open now.", open);
	stats_gauge(b, "draining", "1 while stopping after SIGTERM.",
	    srv->draining);
	stats_gauge(b, "max_connections", "The --max-conns limit in force.",
	    srv->max_conns);
	stats_gauge(b, "max_connections_per_source",
	    "The --max-conns-per-source limit, 0 for none.",
	    o->max_conns_per_source);
	stats_gauge(b, "max_message_bytes", "The --max-message limit.",
	    o->max_message);
	stats_gauge(b, "idle_timeout_seconds",
	    "The --idle-timeout, 0 for none.", o->idle_timeout);
	stats_gauge(b, "line_timeout_seconds",
	    "The --line-timeout, 0 for none.", o->line_timeout);
	stats_gauge(b, "threads", "Worker threads (--threads).",
	    worker_count());
	process_prometheus(b);
}

static uint64_t
stats_count(const uint64_t *counts, size_t n)
{
	uint64_t	t = 0;
	size_t		i;

	for (i = 0; i <= n; i++)
		t += counts[i];
	return (t);
}

/* SIGUSR1: the same numbers, one line. */
void
stats_log(const struct server *srv)
{
	const struct stats_counter	*c;
	struct stats			 sum;
	char				 line[1024];
	size_t				 i, n = 0;
	long				 open;

	stats_total(&sum, &open);
	for (i = 0; i < STATS_NCOUNTERS && n < sizeof(line); i++) {
		c = &stats_counters[i];
		n += snprintf(line + n, sizeof(line) - n, "%s%s%s=%llu ",
		    c->name, c->reason != NULL ? "_" : "",
		    c->reason != NULL ? c->reason : "",
		    (unsigned long long)stats_get(&sum, i));
	}
	log_info("stats: %sconnections_open=%ld max_connections=%ld "
	    "open_fds=%d replies_written=%llu reply_latency_seconds_sum=%.3f "
	    "connection_duration_seconds_sum=%.3f", line, open,
	    srv->max_conns, process_open_fds(),
	    (unsigned long long)stats_count(sum.reply_latency.counts,
	    STATS_REPLY_BUCKETS), (double)sum.reply_latency.sum_ns / 1e9,
	    (double)sum.conn_duration.sum_ns / 1e9);
}
