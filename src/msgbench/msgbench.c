/*
 * msgbench.c - msgd's load generator: the run, and its report.
 *
 * One event loop drives --conns clients (msgbench-client.c) for --duration
 * or until --count messages are sent, then waits for the replies still
 * owed and prints throughput and latency percentiles: a table, or one JSON
 * line for scripts; with --tls, handshake percentiles too.  Order: options
 * -> descriptor limit -> set-up -> TLS context -> run -> report -> free.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "msgbench.h"

/* Descriptors needed besides the clients' sockets. */
#define MSGBENCH_FD_RESERVE	16

/* Requests are written from a buffer of whole lines about this big. */
#define MSGBENCH_WRITE_SIZE	(64 * 1024)

static const char *msgbench_modes[] = { "conn", "ping", "pipe" };
static const char *msgbench_errs[ERR_MAX] = {
	"refused", "reset", "timeout", "mismatch", "closed", "tls", "other"
};

static void	msgbench_stop(struct bench *);
static void	msgbench_deadline(evutil_socket_t, short, void *);
static void	msgbench_signal(evutil_socket_t, short, void *);
static void	msgbench_tick(evutil_socket_t, short, void *);
static uint64_t	msgbench_errors(const struct bench *);
static int	msgbench_limit_fds(const struct msgbench_opts *);
static int	msgbench_setup(struct bench *, const struct msgbench_opts *);
static int	msgbench_run(struct bench *);
static void	msgbench_print(const struct bench *);
static void	msgbench_free(struct bench *);

uint64_t
msgbench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* Stop sending; clients with replies owed wait for them (or time out). */
static void
msgbench_stop(struct bench *b)
{
	long	i;

	b->stopping = 1;
	b->stopped = msgbench_now();
	b->answered_by_stop = b->answered;
	event_del(b->deadline_ev);
	for (i = 0; i < b->o->conns; i++)
		msgbench_client_stop(&b->clients[i]);
}

static void
msgbench_deadline(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	msgbench_stop(arg);
}

/* The first signal stops sending and drains; a second stops at once. */
static void
msgbench_signal(evutil_socket_t sig, short events, void *arg)
{
	struct bench	*b = arg;

	(void)sig;
	(void)events;
	if (!b->stopping) {
		msgbench_stop(b);
		return;
	}
	b->ended = msgbench_now();
	event_base_loopbreak(b->base);
}

static uint64_t
msgbench_errors(const struct bench *b)
{
	uint64_t	n = 0;
	int		i;

	for (i = 0; i < ERR_MAX; i++)
		n += b->errors[i];
	return (n);
}

/* One line a second on a terminal: the last second's numbers. */
static void
msgbench_tick(evutil_socket_t fd, short events, void *arg)
{
	struct bench	*b = arg;
	uint64_t	 now = msgbench_now();
	double		 secs = (double)(now - b->tick_at) / 1e9;

	(void)fd;
	(void)events;
	printf("%5.0fs %10.0f msgs/s  p50 %9.1f us  p99 %9.1f us  "
	    "errors %llu\n", (double)(now - b->started) / 1e9,
	    (double)(b->answered - b->tick_answered) / secs,
	    (double)histogram_percentile(&b->interval, 50) / 1e3,
	    (double)histogram_percentile(&b->interval, 99) / 1e3,
	    (unsigned long long)msgbench_errors(b));
	fflush(stdout);
	histogram_merge(&b->total, &b->interval);
	histogram_init(&b->interval);
	b->tick_at = now;
	b->tick_answered = b->answered;
}

/*
 * Conn mode is the one run with thousands of clients: let it use every
 * descriptor the hard limit allows.  The others raise the limit if needed.
 */
static int
msgbench_limit_fds(const struct msgbench_opts *o)
{
	struct rlimit	rl;
	rlim_t		need = (rlim_t)o->conns + MSGBENCH_FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fprintf(stderr, "msgbench: getrlimit: %s\n", strerror(errno));
		return (-1);
	}
	if ((o->mode == MODE_CONN || rl.rlim_cur < need) &&
	    rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need) {
		fprintf(stderr, "msgbench: --conns %ld needs %llu "
		    "descriptors, but the limit is %llu\n", o->conns,
		    (unsigned long long)need,
		    (unsigned long long)rl.rlim_cur);
		return (-1);
	}
	return (0);
}

static void
msgbench_free(struct bench *b)
{
	long	i;

	for (i = 0; b->clients != NULL && i < b->o->conns; i++)
		msgbench_client_free(&b->clients[i]);
	for (i = 0; i < 2; i++) {
		if (b->sig_ev[i] != NULL)
			event_free(b->sig_ev[i]);
	}
	if (b->tick_ev != NULL)
		event_free(b->tick_ev);
	if (b->deadline_ev != NULL)
		event_free(b->deadline_ev);
	msgbench_tls_free(b);
	free(b->clients);
	free(b->stamps);
	free(b->reply);
	free(b->out);
	if (b->base != NULL)
		event_base_free(b->base);
	free(b);
}

/* Everything a run needs, allocated up front; -1 if any of it fails. */
static int
msgbench_setup(struct bench *b, const struct msgbench_opts *o)
{
	size_t	lines, i;
	long	j;

	b->o = o;
	b->depth = (size_t)o->depth;
	b->active = o->conns;
	b->remaining = o->count > 0 ? o->count : UINT64_MAX;
	histogram_init(&b->total);
	histogram_init(&b->interval);
	histogram_init(&b->handshake);
	if ((b->base = event_base_new()) == NULL)
		return (-1);

	/* As many whole request lines as fit in one write, up to depth. */
	b->linelen = strlen(o->message) + 1;
	if ((lines = MSGBENCH_WRITE_SIZE / b->linelen) > b->depth)
		lines = b->depth;
	if (lines == 0)
		lines = 1;
	b->outlen = lines * b->linelen;
	if ((b->out = malloc(b->outlen)) == NULL ||
	    asprintf(&b->reply, "%s\n", o->expect) == -1)
		return (-1);
	for (i = 0; i < lines; i++) {
		memcpy(b->out + i * b->linelen, o->message, b->linelen - 1);
		b->out[(i + 1) * b->linelen - 1] = '\n';
	}

	/* One shared timeout makes re-arming it on every reply O(1). */
	b->timeout_tv.tv_sec = (time_t)o->timeout;
	b->timeout_tv.tv_usec = (suseconds_t)((o->timeout -
	    (double)b->timeout_tv.tv_sec) * 1e6);
	if ((b->reply_tv = event_base_init_common_timeout(b->base,
	    &b->timeout_tv)) == NULL)
		return (-1);

	if ((b->clients = calloc((size_t)o->conns,
	    sizeof(*b->clients))) == NULL ||
	    (b->stamps = calloc((size_t)o->conns * b->depth,
	    sizeof(*b->stamps))) == NULL)
		return (-1);
	for (j = 0; j < o->conns; j++) {
		if (msgbench_client_init(&b->clients[j], b, (int)j) == -1)
			return (-1);
	}

	if ((b->deadline_ev = evtimer_new(b->base, msgbench_deadline,
	    b)) == NULL ||
	    (b->sig_ev[0] = evsignal_new(b->base, SIGINT, msgbench_signal,
	    b)) == NULL ||
	    (b->sig_ev[1] = evsignal_new(b->base, SIGTERM, msgbench_signal,
	    b)) == NULL)
		return (-1);
	if (isatty(STDOUT_FILENO) && !o->json && !o->quiet &&
	    (b->tick_ev = event_new(b->base, -1, EV_PERSIST, msgbench_tick,
	    b)) == NULL)
		return (-1);
	return (0);
}

static int
msgbench_run(struct bench *b)
{
	const struct msgbench_opts	*o = b->o;
	struct timeval			 dur, sec = { 1, 0 };
	long				 i;

	if (evsignal_add(b->sig_ev[0], NULL) == -1 ||
	    evsignal_add(b->sig_ev[1], NULL) == -1)
		return (-1);
	dur.tv_sec = (time_t)o->duration;
	dur.tv_usec = (suseconds_t)((o->duration - (double)dur.tv_sec) * 1e6);
	b->started = b->tick_at = msgbench_now();
	if ((o->count == 0 && evtimer_add(b->deadline_ev, &dur) == -1) ||
	    (b->tick_ev != NULL && event_add(b->tick_ev, &sec) == -1))
		return (-1);
	for (i = 0; i < o->conns && !b->unreachable; i++)
		msgbench_client_connect(&b->clients[i]);
	/* A loopbreak before dispatch would be forgotten: check first. */
	if (!b->unreachable && b->active > 0 &&
	    event_base_dispatch(b->base) == -1)
		return (-1);
	if (b->ended == 0)
		b->ended = msgbench_now();
	histogram_merge(&b->total, &b->interval);
	histogram_init(&b->interval);
	return (0);
}

/* --- the report ------------------------------------------------------- */

static void
msgbench_print(const struct bench *b)
{
	const struct msgbench_opts	*o = b->o;
	const struct histogram		*h = &b->total;
	double				 secs, drain = 0, rate, us[5], hs[5];
	static const double		 pct[4] = { 50, 90, 99, 99.9 };
	int				 i;

	/*
	 * The rate is over the time spent sending, not the wait for the
	 * last replies after it: one slow straggler must not skew it.
	 */
	if (b->stopped != 0) {
		secs = (double)(b->stopped - b->started) / 1e9;
		drain = (double)(b->ended - b->stopped) / 1e9;
		rate = secs > 0 ? (double)b->answered_by_stop / secs : 0;
	} else {
		secs = (double)(b->ended - b->started) / 1e9;
		rate = secs > 0 ? (double)b->answered / secs : 0;
	}
	for (i = 0; i < 4; i++)
		us[i] = (double)histogram_percentile(h, pct[i]) / 1e3;
	us[4] = (double)histogram_max(h) / 1e3;
	for (i = 0; i < 4; i++)
		hs[i] = (double)histogram_percentile(&b->handshake,
		    pct[i]) / 1e3;
	hs[4] = (double)histogram_max(&b->handshake) / 1e3;

	if (o->json) {
		printf("{\"mode\":\"%s\",\"host\":\"%s\",\"port\":%d,"
		    "\"conns\":%ld,\"depth\":%zu,\"messages\":%llu,"
		    "\"sent\":%llu,\"lost\":%llu,\"errors\":%llu",
		    msgbench_modes[o->mode], o->host, o->port, o->conns,
		    b->depth, (unsigned long long)b->answered,
		    (unsigned long long)b->sent,
		    (unsigned long long)(b->sent - b->answered),
		    (unsigned long long)msgbench_errors(b));
		for (i = 0; i < ERR_MAX; i++)
			printf(",\"%s\":%llu", msgbench_errs[i],
			    (unsigned long long)b->errors[i]);
		printf(",\"seconds\":%.3f,\"drain_seconds\":%.3f,"
		    "\"msgs_per_sec\":%.1f,\"p50_us\":%.3f,\"p90_us\":%.3f,"
		    "\"p99_us\":%.3f,\"p999_us\":%.3f,\"max_us\":%.3f",
		    secs, drain, rate, us[0], us[1], us[2], us[3], us[4]);
		if (o->tls)
			printf(",\"handshakes\":%llu,\"handshake_p50_us\":%.3f,"
			    "\"handshake_p90_us\":%.3f,"
			    "\"handshake_p99_us\":%.3f,"
			    "\"handshake_p999_us\":%.3f,"
			    "\"handshake_max_us\":%.3f", (unsigned long long)
			    histogram_count(&b->handshake), hs[0], hs[1],
			    hs[2], hs[3], hs[4]);
		printf("}\n");
		return;
	}
	if (o->quiet || b->unreachable)
		return;
	printf("mode        %s: %ld connection%s, %zu in flight each, to %s "
	    "port %d%s\n", msgbench_modes[o->mode], o->conns,
	    o->conns == 1 ? "" : "s", b->depth, o->host, o->port,
	    o->tls ? " over TLS" : "");
	printf("messages    %llu answered of %llu sent in %.3f s (+%.3f s "
	    "for the last replies)\n", (unsigned long long)b->answered,
	    (unsigned long long)b->sent, secs, drain);
	printf("throughput  %.0f msgs/s\n", rate);
	printf("latency     p50 %.1f us, p90 %.1f us, p99 %.1f us, "
	    "p99.9 %.1f us, max %.1f us\n", us[0], us[1], us[2], us[3],
	    us[4]);
	if (o->tls)
		printf("handshake   %llu in all: p50 %.1f us, p90 %.1f us, "
		    "p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
		    (unsigned long long)histogram_count(&b->handshake),
		    hs[0], hs[1], hs[2], hs[3], hs[4]);
	printf("errors      %llu", (unsigned long long)msgbench_errors(b));
	for (i = 0; i < ERR_MAX; i++)
		printf("%s%s %llu", i == 0 ? " (" : ", ", msgbench_errs[i],
		    (unsigned long long)b->errors[i]);
	printf(")\n");
}

int
main(int argc, char **argv)
{
	struct msgbench_opts	 o;
	struct bench		*b;
	int			 status;

	if (!msgbench_options_parse(&o, argc, argv))
		return (fflush(stdout) == 0 ? EX_OK : EX_IOERR);
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		fprintf(stderr, "msgbench: out of memory\n");
		return (EX_OSERR);
	}
	if (msgbench_limit_fds(&o) == -1) {
		free(b);
		return (EX_UNAVAILABLE);
	}
	if (msgbench_setup(b, &o) == -1) {
		fprintf(stderr, "msgbench: cannot set up the run: %s\n",
		    strerror(errno));
		msgbench_free(b);
		return (EX_OSERR);
	}
	if ((status = msgbench_tls_init(b)) != 0) {
		msgbench_free(b);
		return (status);
	}
	if (msgbench_run(b) == -1) {
		fprintf(stderr, "msgbench: cannot run: %s\n", strerror(errno));
		msgbench_free(b);
		return (EX_OSERR);
	}

	msgbench_print(b);
	if (b->unreachable)
		status = EX_UNAVAILABLE;
	else if (msgbench_errors(b) > 0 || b->sent != b->answered)
		status = 1;
	else
		status = EX_OK;
	msgbench_free(b);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "msgbench: cannot write the report: %s\n",
		    strerror(errno));
		return (EX_IOERR);
	}
	return (status);
}

