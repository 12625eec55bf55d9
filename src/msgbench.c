/*
 * msgbench.c - msgd's load generator: options, clients, report.
 *
 * One event loop drives --conns clients.  A client is a socket and three
 * events made once and re-assigned to every connection it opens, so a run
 * allocates nothing per message: requests are sent from one shared buffer
 * of identical lines, replies are read into one shared buffer and checked
 * in place by replycheck.c, and latencies are counted by histogram.c.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "histogram.h"
#include "replycheck.h"

#define MSGBENCH_MAX_CONNS	100000
#define MSGBENCH_MAX_DEPTH	1024
#define MSGBENCH_MAX_TEXT	65536
#define MSGBENCH_MAX_SECONDS	86400
#define MSGBENCH_MAX_COUNT	1000000000000LL
#define MSGBENCH_MAX_SOURCES	254
#define MSGBENCH_FD_RESERVE	16
#define MSGBENCH_RETRY_MS	100
#define MSGBENCH_READ_SIZE	(64 * 1024)
#define MSGBENCH_WRITE_SIZE	(64 * 1024)

enum msgbench_mode { MODE_CONN, MODE_PING, MODE_PIPE };
static const char *msgbench_modes[] = { "conn", "ping", "pipe" };

/* Error kinds: one count per failed connection attempt or reply. */
enum msgbench_err {
	ERR_REFUSED, ERR_RESET, ERR_TIMEOUT, ERR_MISMATCH, ERR_CLOSED,
	ERR_OTHER, ERR_MAX
};
static const char *msgbench_errs[ERR_MAX] = {
	"refused", "reset", "timeout", "mismatch", "closed", "other"
};

struct msgbench_opts {
	enum msgbench_mode	 mode;
	long			 conns;
	double			 duration;
	unsigned long long	 count;		/* 0: run for duration */
	const char		*message;
	const char		*expect;
	int			 expect_set;
	int			 echo;
	const char		*host;
	int			 port;
	long			 depth;
	int			 depth_set;
	long			 sources;	/* 0: let the kernel choose */
	double			 timeout;
	int			 json;
	int			 quiet;
};

enum client_state {
	CLIENT_IDLE,		/* no socket yet */
	CLIENT_CONNECTING,
	CLIENT_RUNNING,		/* connected, sending and checking */
	CLIENT_CLOSING,		/* conn mode: answered, server to close */
	CLIENT_RETRY,		/* after a failure, before reconnecting */
	CLIENT_DONE
};

struct bench;

struct client {
	struct bench		*b;
	int			 id;
	int			 fd;
	enum client_state	 state;
	struct event		*rev;
	struct event		*wev;
	struct event		*tev;	/* connect, reply, close or retry */
	struct replycheck	 rc;
	uint64_t		*stamps;	/* send times in flight: a ring */
	size_t			 head;
	size_t			 inflight;
	size_t			 pending;	/* bytes not yet written */
	int			 writing;
};

struct bench {
	struct event_base	*base;
	const struct msgbench_opts *o;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	size_t			 depth;		/* in flight per client */
	char			*out;		/* whole request lines */
	size_t			 outlen;
	size_t			 linelen;
	char			*reply;		/* expected reply, with LF */
	struct client		*clients;
	uint64_t		*stamps;	/* every client's ring */
	long			 active;	/* clients not yet done */
	uint64_t		 remaining;	/* messages still to send */
	uint64_t		 sent;
	uint64_t		 answered;
	uint64_t		 errors[ERR_MAX];
	int			 told[ERR_MAX];
	uint64_t		 connects;
	unsigned long		 nextsource;
	int			 stopping;
	int			 unreachable;
	const struct timeval	*reply_tv;	/* a common timeout */
	struct timeval		 timeout_tv;
	struct event		*deadline_ev;
	struct event		*tick_ev;
	struct event		*sig_ev[2];
	struct histogram	 total;
	struct histogram	 interval;
	uint64_t		 started;
	uint64_t		 ended;
	uint64_t		 tick_at;
	uint64_t		 tick_answered;
	char			 rbuf[MSGBENCH_READ_SIZE];
};

static void	msgbench_connect(struct client *);
static void	msgbench_fail(struct client *, enum msgbench_err, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	msgbench_finish(struct client *);


/* --- options ---------------------------------------------------------- */

enum { OPT_EXPECT = 256, OPT_ECHO, OPT_JSON };

static const char msgbench_short[] = ":c:d:D:hH:m:n:p:qs:t:V";

static const struct option msgbench_long[] = {
	{ "conns",	required_argument,	NULL, 'c' },
	{ "duration",	required_argument,	NULL, 'd' },
	{ "depth",	required_argument,	NULL, 'D' },
	{ "echo",	no_argument,		NULL, OPT_ECHO },
	{ "expect",	required_argument,	NULL, OPT_EXPECT },
	{ "help",	no_argument,		NULL, 'h' },
	{ "host",	required_argument,	NULL, 'H' },
	{ "json",	no_argument,		NULL, OPT_JSON },
	{ "message",	required_argument,	NULL, 'm' },
	{ "count",	required_argument,	NULL, 'n' },
	{ "port",	required_argument,	NULL, 'p' },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "sources",	required_argument,	NULL, 's' },
	{ "timeout",	required_argument,	NULL, 't' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

static const char msgbench_usage[] =
"Usage: msgbench [OPTION]... [conn|ping|pipe]\n"
"Load msgd (or any line server) and check every reply byte for byte.\n"
"\n"
"Modes:\n"
"  conn    a new connection per message; the server closes after its reply\n"
"  ping    persistent connections, one message in flight on each (msgd -k)\n"
"  pipe    persistent connections, --depth messages in flight on each\n"
"          [default mode: ping]\n"
"\n"
"Load:\n"
"  -c, --conns=N           concurrent clients [default: 10]\n"
"  -d, --duration=SECONDS  send for this long [default: 5]\n"
"  -n, --count=N           send N messages in all (wins over --duration)\n"
"  -D, --depth=N           messages in flight per connection in pipe mode\n"
"                          [default: 16]\n"
"  -m, --message=TEXT      the message [default: 'Hello, server!']\n"
"      --expect=REPLY      the reply wanted [default: 'Hello, client!']\n"
"      --echo              want the message itself back (msgd -e)\n"
"\n"
"Target:\n"
"  -H, --host=ADDR         server address, IPv4 or IPv6 [default: 127.0.0.1]\n"
"  -p, --port=N            server port [default: 5000]\n"
"  -s, --sources=N         bind clients to 127.0.0.1 .. 127.0.0.N in turn,\n"
"                          so conn mode does not run out of ports\n"
"  -t, --timeout=SECONDS   wait this long for each reply [default: 5]\n"
"\n"
"Output:\n"
"      --json              one JSON line at the end instead of the table\n"
"  -q, --quiet             no progress lines and no table\n"
"  -h, --help              display this help and exit\n"
"  -V, --version           output version information and exit\n"
"\n"
"Exit status: 0 if every message got its exact reply, 1 if not, 64 on a\n"
"usage error, 69 if it cannot connect at all.\n"
"\n"
"Report bugs to: " PACKAGE_BUGREPORT "\n";

static const char msgbench_version[] =
"msgbench (" PACKAGE_NAME ") " PACKAGE_VERSION "\n"
"Copyright (C) 2026 the msgd developers.\n"
"License ISC: <https://opensource.org/licenses/ISC>.\n"
"This is free software: you are free to change and redistribute it.\n"
"There is NO WARRANTY, to the extent permitted by law.\n";

static void __attribute__((format(printf, 1, 2), noreturn))
msgbench_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("msgbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try 'msgbench --help')\n", stderr);
	exit(EX_USAGE);
}

/* A whole decimal number in [min, max]; -1 if it is not one. */
static long long
msgbench_number(const char *s, long long min, long long max)
{
	char		*end;
	long long	 n;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return (-1);
	return (n);
}

/* Seconds, fractions allowed: more than 0, at most a day; -1 if not. */
static double
msgbench_seconds(const char *s)
{
	char	*end;
	double	 d;

	if (!isdigit((unsigned char)*s) && *s != '.')
		return (-1);
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(d > 0) ||
	    d > MSGBENCH_MAX_SECONDS)
		return (-1);
	return (d);
}

static const char *
msgbench_text(const char *s, const char *name)
{
	if (strlen(s) > MSGBENCH_MAX_TEXT || strpbrk(s, "\r\n") != NULL)
		msgbench_usage_error("invalid --%s: must be one line of at "
		    "most %d bytes", name, MSGBENCH_MAX_TEXT);
	return (s);
}

/* The host as a socket address; only literals, so a typo fails here. */
static int
msgbench_address(const char *host, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 buf[INET6_ADDRSTRLEN + 2];
	size_t			 n = strlen(host);

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return (0);
	}
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' &&
	    n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return (0);
	}
	return (-1);
}

/* Returns 1 to run, 0 after --help or --version; exits on a bad option. */
static int
msgbench_parse(struct msgbench_opts *o, int argc, char **argv)
{
	long long	n;
	int		ch;

	memset(o, 0, sizeof(*o));
	o->mode = MODE_PING;
	o->conns = 10;
	o->duration = 5;
	o->message = "Hello, server!";
	o->expect = "Hello, client!";
	o->host = "127.0.0.1";
	o->port = 5000;
	o->depth = 16;
	o->timeout = 5;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, msgbench_short, msgbench_long,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			if ((o->conns = msgbench_number(optarg, 1,
			    MSGBENCH_MAX_CONNS)) == -1)
				msgbench_usage_error("invalid --conns '%s': "
				    "must be a number from 1 to %d", optarg,
				    MSGBENCH_MAX_CONNS);
			break;
		case 'd':
			if ((o->duration = msgbench_seconds(optarg)) == -1)
				msgbench_usage_error("invalid --duration "
				    "'%s': must be seconds, more than 0 and "
				    "at most %d", optarg,
				    MSGBENCH_MAX_SECONDS);
			break;
		case 'D':
			if ((o->depth = msgbench_number(optarg, 1,
			    MSGBENCH_MAX_DEPTH)) == -1)
				msgbench_usage_error("invalid --depth '%s': "
				    "must be a number from 1 to %d", optarg,
				    MSGBENCH_MAX_DEPTH);
			o->depth_set = 1;
			break;
		case OPT_ECHO:
			o->echo = 1;
			break;
		case OPT_EXPECT:
			o->expect = msgbench_text(optarg, "expect");
			o->expect_set = 1;
			break;
		case 'h':
			fputs(msgbench_usage, stdout);
			return (0);
		case 'H':
			o->host = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case 'm':
			o->message = msgbench_text(optarg, "message");
			break;
		case 'n':
			if ((n = msgbench_number(optarg, 1,
			    MSGBENCH_MAX_COUNT)) == -1)
				msgbench_usage_error("invalid --count '%s': "
				    "must be a number from 1 to %lld", optarg,
				    MSGBENCH_MAX_COUNT);
			o->count = (unsigned long long)n;
			break;
		case 'p':
			if ((o->port = msgbench_number(optarg, 1, 65535)) ==
			    -1)
				msgbench_usage_error("invalid --port '%s': "
				    "must be a number from 1 to 65535",
				    optarg);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 's':
			if ((o->sources = msgbench_number(optarg, 1,
			    MSGBENCH_MAX_SOURCES)) == -1)
				msgbench_usage_error("invalid --sources '%s': "
				    "must be a number from 1 to %d", optarg,
				    MSGBENCH_MAX_SOURCES);
			break;
		case 't':
			if ((o->timeout = msgbench_seconds(optarg)) == -1)
				msgbench_usage_error("invalid --timeout '%s': "
				    "must be seconds, more than 0 and at most "
				    "%d", optarg, MSGBENCH_MAX_SECONDS);
			break;
		case 'V':
			fputs(msgbench_version, stdout);
			return (0);
		case ':':
			msgbench_usage_error("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			if (optopt != 0 && optopt < 256)
				msgbench_usage_error("unknown option '-%c'",
				    optopt);
			msgbench_usage_error("unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind], "conn") == 0)
			o->mode = MODE_CONN;
		else if (strcmp(argv[optind], "ping") == 0)
			o->mode = MODE_PING;
		else if (strcmp(argv[optind], "pipe") == 0)
			o->mode = MODE_PIPE;
		else
			msgbench_usage_error("unknown mode '%s': use conn, "
			    "ping or pipe", argv[optind]);
		if (++optind < argc)
			msgbench_usage_error("unexpected argument '%s'",
			    argv[optind]);
	}
	return (1);
}

/* What the options mean together; the address goes into the bench. */
static void
msgbench_check(struct msgbench_opts *o, struct bench *b)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&b->addr;

	if (o->echo && o->expect_set)
		msgbench_usage_error("--echo and --expect contradict each "
		    "other");
	if (o->echo)
		o->expect = o->message;
	if (o->depth_set && o->mode != MODE_PIPE)
		msgbench_usage_error("--depth applies to pipe mode only");
	if (msgbench_address(o->host, o->port, &b->addr, &b->addrlen) == -1)
		msgbench_usage_error("invalid --host '%s': use an IPv4 or "
		    "IPv6 address", o->host);
	if (o->sources > 0 && (b->addr.ss_family != AF_INET ||
	    (ntohl(sin->sin_addr.s_addr) >> 24) != 127))
		msgbench_usage_error("--sources needs a 127.x.x.x --host, "
		    "not '%s'", o->host);
	b->depth = o->mode == MODE_PIPE ? (size_t)o->depth : 1;
}

/* --- clients ---------------------------------------------------------- */

static uint64_t
msgbench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

static enum msgbench_err
msgbench_kind(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return (ERR_REFUSED);
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
		return (ERR_RESET);
	case ETIMEDOUT:
		return (ERR_TIMEOUT);
	default:
		return (ERR_OTHER);
	}
}

/* A byte for a diagnostic: "'c' (0x63)", or just "0x0a". */
static const char *
msgbench_byte(char *buf, size_t len, int ch)
{
	if (isprint(ch))
		snprintf(buf, len, "'%c' (0x%02x)", ch, ch);
	else
		snprintf(buf, len, "0x%02x", ch);
	return (buf);
}

/* Drop the connection, keeping the client and its events for the next. */
static void
msgbench_close(struct client *c)
{
	event_del(c->rev);
	event_del(c->wev);
	event_del(c->tev);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->head = c->inflight = c->pending = 0;
	c->writing = 0;
	replycheck_reset(&c->rc);
}

static void
msgbench_finish(struct client *c)
{
	struct bench	*b = c->b;

	if (c->state == CLIENT_DONE)
		return;
	msgbench_close(c);
	c->state = CLIENT_DONE;
	if (--b->active == 0) {
		b->ended = msgbench_now();
		event_base_loopexit(b->base, NULL);
	}
}

/*
 * Count a failure and say what it was, the first time of each kind (the
 * report has the numbers).  If nothing has connected yet, the server is not
 * there at all: stop the run.  Otherwise try again after a pause, so that
 * a server that refuses is not hammered in a tight loop.
 */
static void
msgbench_fail(struct client *c, enum msgbench_err kind, int err,
    const char *fmt, ...)
{
	struct bench	*b = c->b;
	struct timeval	 tv = { 0, MSGBENCH_RETRY_MS * 1000 };
	va_list		 ap;

	b->errors[kind]++;
	if (c->state == CLIENT_CONNECTING && b->connects == 0) {
		if (!b->unreachable)
			fprintf(stderr, "msgbench: cannot connect to %s port "
			    "%d: %s\n", b->o->host, b->o->port,
			    strerror(err));
		b->unreachable = 1;
		msgbench_close(c);
		event_base_loopbreak(b->base);
		return;
	}
	if (!b->told[kind]) {
		b->told[kind] = 1;
		fprintf(stderr, "msgbench: connection %d: ", c->id);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		if (err != 0)
			fprintf(stderr, ": %s", strerror(err));
		fputc('\n', stderr);
	}
	msgbench_close(c);
	if (b->stopping || b->remaining == 0) {
		msgbench_finish(c);
		return;
	}
	c->state = CLIENT_RETRY;
	event_add(c->tev, &tv);
}

/*
 * The pending bytes are always the tail of a run of whole lines, so they
 * are sent from the tail of the shared buffer of lines: nothing is copied.
 */
static void
msgbench_flush(struct client *c)
{
	struct bench	*b = c->b;
	size_t		 n, r;
	ssize_t		 w;

	while (c->pending > 0) {
		if ((n = c->pending) > b->outlen) {
			r = c->pending % b->linelen;
			n = r == 0 ? b->outlen : b->outlen - b->linelen + r;
		}
		w = send(c->fd, b->out + b->outlen - n, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			msgbench_fail(c, msgbench_kind(errno), errno, "send");
			return;
		}
		c->pending -= (size_t)w;
		if ((size_t)w < n)
			break;		/* the socket is full */
	}
	if (c->pending > 0 && !c->writing) {
		c->writing = 1;
		event_add(c->wev, NULL);
	}
}

/* Keep the mode's number of messages in flight while any are left. */
static void
msgbench_fill(struct client *c)
{
	struct bench	*b = c->b;
	uint64_t	 now;
	size_t		 want = 0, i;

	if (!b->stopping)
		want = b->depth - c->inflight;
	if (want > b->remaining)
		want = (size_t)b->remaining;
	if (want == 0) {
		if (c->inflight == 0)
			msgbench_finish(c);
		return;
	}
	now = msgbench_now();
	if (c->inflight == 0)
		event_add(c->tev, b->reply_tv);
	for (i = 0; i < want; i++)
		c->stamps[(c->head + c->inflight++) % b->depth] = now;
	b->remaining -= want;
	b->sent += want;
	c->pending += want * b->linelen;
	msgbench_flush(c);
}

static void
msgbench_connected(struct client *c)
{
	c->b->connects++;
	c->state = CLIENT_RUNNING;
	event_del(c->tev);
	event_add(c->rev, NULL);
	msgbench_fill(c);
}

static void
msgbench_answered(struct client *c, size_t done)
{
	struct bench	*b = c->b;
	uint64_t	 now = msgbench_now();
	size_t		 i;

	for (i = 0; i < done; i++) {
		histogram_record(&b->interval, now - c->stamps[c->head]);
		c->head = (c->head + 1) % b->depth;
	}
	c->inflight -= done;
	b->answered += done;
}

static void
msgbench_mismatch(struct client *c, enum replycheck_result r)
{
	const struct replycheck	*rc = &c->rc;
	char			 got[16], want[16];

	msgbench_byte(got, sizeof(got), rc->bad_got);
	if (r == REPLYCHECK_EXTRA) {
		msgbench_fail(c, ERR_MISMATCH, 0, "unexpected data after "
		    "reply %llu: %s", (unsigned long long)rc->bad_reply, got);
		return;
	}
	msgbench_byte(want, sizeof(want), rc->bad_expected);
	msgbench_fail(c, ERR_MISMATCH, 0, "reply %llu differs at byte %zu "
	    "of %zu: expected %s, got %s",
	    (unsigned long long)rc->bad_reply + 1, rc->bad_offset + 1,
	    rc->len, want, got);
}

static void
msgbench_eof(struct client *c)
{
	if (c->state == CLIENT_CLOSING) {	/* conn mode: as it should */
		msgbench_close(c);
		msgbench_connect(c);
		return;
	}
	if (c->inflight == 0) {
		msgbench_fail(c, ERR_CLOSED, 0, "closed by the server");
		return;
	}
	msgbench_fail(c, ERR_CLOSED, 0, "closed by the server with %zu "
	    "replies outstanding (%zu bytes of the next received)",
	    c->inflight, replycheck_partial(&c->rc));
}

static void
msgbench_read(evutil_socket_t fd, short events, void *arg)
{
	struct client		*c = arg;
	struct bench		*b = c->b;
	enum replycheck_result	 r;
	ssize_t			 n;
	size_t			 done;

	(void)events;
	if ((n = recv(fd, b->rbuf, sizeof(b->rbuf), 0)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		msgbench_fail(c, msgbench_kind(errno), errno, "recv");
		return;
	}
	if (n == 0) {
		msgbench_eof(c);
		return;
	}
	r = replycheck_feed(&c->rc, b->rbuf, (size_t)n, c->inflight, &done);
	if (done > 0)
		msgbench_answered(c, done);
	if (r != REPLYCHECK_OK) {
		msgbench_mismatch(c, r);
		return;
	}
	if (done == 0)
		return;
	if (b->o->mode == MODE_CONN) {
		/* Answered; the server closes next, unless we are done. */
		if (b->stopping) {
			msgbench_finish(c);
			return;
		}
		c->state = CLIENT_CLOSING;
		event_add(c->tev, b->reply_tv);
		return;
	}
	/* Each reply restarts the clock for the next. */
	if (c->inflight > 0)
		event_add(c->tev, b->reply_tv);
	else
		event_del(c->tev);
	msgbench_fill(c);
}

static void
msgbench_write(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	(void)events;
	if (c->state == CLIENT_CONNECTING) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0)
			msgbench_fail(c, msgbench_kind(err), err, "connect");
		else
			msgbench_connected(c);
		return;
	}
	c->writing = 0;
	msgbench_flush(c);
}

static void
msgbench_timer(evutil_socket_t fd, short events, void *arg)
{
	struct client	*c = arg;
	double		 t = c->b->o->timeout;

	(void)fd;
	(void)events;
	switch (c->state) {
	case CLIENT_RETRY:
		msgbench_connect(c);
		break;
	case CLIENT_CONNECTING:
		msgbench_fail(c, ERR_TIMEOUT, ETIMEDOUT, "connect");
		break;
	case CLIENT_CLOSING:
		msgbench_fail(c, ERR_TIMEOUT, 0, "the server did not close "
		    "within %g s of its reply", t);
		break;
	default:
		msgbench_fail(c, ERR_TIMEOUT, 0, "no reply within %g s (%zu "
		    "outstanding)", t, c->inflight);
		break;
	}
}

/*
 * Spread clients over 127.0.0.1 .. 127.0.0.N: each source address has its
 * own ephemeral ports, so many short connections do not run out of them.
 */
static int
msgbench_bind(struct bench *b, int fd)
{
	struct sockaddr_in	sin;
	int			one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001 +
	    (uint32_t)(b->nextsource++ % (unsigned long)b->o->sources));
#ifdef IP_BIND_ADDRESS_NO_PORT
	/* Pick the port at connect(), per destination, not at bind(). */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
#else
	(void)one;
#endif
	return (bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
}

static void
msgbench_connect(struct client *c)
{
	struct bench	*b = c->b;
	int		 fd, one = 1;

	if (b->stopping || b->remaining == 0 || b->unreachable) {
		msgbench_finish(c);
		return;
	}
	c->state = CLIENT_CONNECTING;
	fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		msgbench_fail(c, ERR_OTHER, errno, "socket");
		return;
	}
	c->fd = fd;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1 || (b->o->sources > 0 &&
	    msgbench_bind(b, fd) == -1)) {
		msgbench_fail(c, ERR_OTHER, errno, "socket options");
		return;
	}
	if (event_assign(c->rev, b->base, fd, EV_READ | EV_PERSIST,
	    msgbench_read, c) == -1 || event_assign(c->wev, b->base, fd,
	    EV_WRITE, msgbench_write, c) == -1) {
		msgbench_fail(c, ERR_OTHER, 0, "event_assign");
		return;
	}
	if (connect(fd, (struct sockaddr *)&b->addr, b->addrlen) == 0) {
		msgbench_connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		msgbench_fail(c, msgbench_kind(errno), errno, "connect");
		return;
	}
	event_add(c->wev, NULL);
	event_add(c->tev, b->reply_tv);
}

/* --- the run ---------------------------------------------------------- */

/* Stop sending; clients with replies owed wait for them (or time out). */
static void
msgbench_stop(struct bench *b)
{
	struct client	*c;
	long		 i;

	b->stopping = 1;
	event_del(b->deadline_ev);
	for (i = 0; i < b->o->conns; i++) {
		c = &b->clients[i];
		if (c->state != CLIENT_RUNNING || c->inflight == 0)
			msgbench_finish(c);
	}
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
	struct client	*c;
	long		 i;

	for (i = 0; b->clients != NULL && i < b->o->conns; i++) {
		c = &b->clients[i];
		if (c->rev != NULL && c->wev != NULL && c->tev != NULL)
			msgbench_close(c);
		if (c->tev != NULL)
			event_free(c->tev);
		if (c->wev != NULL)
			event_free(c->wev);
		if (c->rev != NULL)
			event_free(c->rev);
	}
	for (i = 0; i < 2; i++) {
		if (b->sig_ev[i] != NULL)
			event_free(b->sig_ev[i]);
	}
	if (b->tick_ev != NULL)
		event_free(b->tick_ev);
	if (b->deadline_ev != NULL)
		event_free(b->deadline_ev);
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
	struct client	*c;
	size_t		 explen = strlen(o->expect), lines, i;
	long		 j;

	b->o = o;
	b->active = o->conns;
	b->remaining = o->count > 0 ? o->count : UINT64_MAX;
	histogram_init(&b->total);
	histogram_init(&b->interval);
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
	    (b->reply = malloc(explen + 1)) == NULL)
		return (-1);
	for (i = 0; i < lines; i++) {
		memcpy(b->out + i * b->linelen, o->message, b->linelen - 1);
		b->out[(i + 1) * b->linelen - 1] = '\n';
	}
	memcpy(b->reply, o->expect, explen);
	b->reply[explen] = '\n';

	/* One shared timeout makes re-arming it on every reply O(1). */
	b->timeout_tv.tv_sec = (time_t)o->timeout;
	b->timeout_tv.tv_usec = (suseconds_t)((o->timeout -
	    (double)b->timeout_tv.tv_sec) * 1e6);
	if ((b->reply_tv = event_base_init_common_timeout(b->base,
	    &b->timeout_tv)) == NULL)
		return (-1);

	if ((b->clients = calloc((size_t)o->conns, sizeof(*c))) == NULL ||
	    (b->stamps = calloc((size_t)o->conns * b->depth,
	    sizeof(*b->stamps))) == NULL)
		return (-1);
	for (j = 0; j < o->conns; j++) {
		c = &b->clients[j];
		c->b = b;
		c->id = (int)j + 1;
		c->fd = -1;
		c->stamps = b->stamps + (size_t)j * b->depth;
		replycheck_init(&c->rc, b->reply, explen + 1);
		/* Given a socket by event_assign() at each connect. */
		if ((c->rev = event_new(b->base, -1, 0, msgbench_read,
		    c)) == NULL ||
		    (c->wev = event_new(b->base, -1, 0, msgbench_write,
		    c)) == NULL ||
		    (c->tev = evtimer_new(b->base, msgbench_timer, c)) == NULL)
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

	dur.tv_sec = (time_t)o->duration;
	dur.tv_usec = (suseconds_t)((o->duration - (double)dur.tv_sec) * 1e6);
	if ((o->count == 0 && evtimer_add(b->deadline_ev, &dur) == -1) ||
	    (b->tick_ev != NULL && event_add(b->tick_ev, &sec) == -1) ||
	    evsignal_add(b->sig_ev[0], NULL) == -1 ||
	    evsignal_add(b->sig_ev[1], NULL) == -1)
		return (-1);

	b->started = b->tick_at = msgbench_now();
	for (i = 0; i < o->conns && !b->unreachable; i++)
		msgbench_connect(&b->clients[i]);
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
	double				 secs, us[5];
	static const double		 pct[4] = { 50, 90, 99, 99.9 };
	int				 i;

	secs = (double)(b->ended - b->started) / 1e9;
	for (i = 0; i < 4; i++)
		us[i] = (double)histogram_percentile(h, pct[i]) / 1e3;
	us[4] = (double)histogram_max(h) / 1e3;

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
		printf(",\"seconds\":%.3f,\"msgs_per_sec\":%.1f,"
		    "\"p50_us\":%.3f,\"p90_us\":%.3f,\"p99_us\":%.3f,"
		    "\"p999_us\":%.3f,\"max_us\":%.3f}\n", secs,
		    secs > 0 ? (double)b->answered / secs : 0.0,
		    us[0], us[1], us[2], us[3], us[4]);
		return;
	}
	if (o->quiet || b->unreachable)
		return;
	printf("mode        %s: %ld connections, %zu in flight each, to %s "
	    "port %d\n", msgbench_modes[o->mode], o->conns, b->depth,
	    o->host, o->port);
	printf("messages    %llu answered of %llu sent in %.3f s\n",
	    (unsigned long long)b->answered, (unsigned long long)b->sent,
	    secs);
	printf("throughput  %.0f msgs/s\n",
	    secs > 0 ? (double)b->answered / secs : 0.0);
	printf("latency     p50 %.1f us, p90 %.1f us, p99 %.1f us, "
	    "p99.9 %.1f us, max %.1f us\n", us[0], us[1], us[2], us[3],
	    us[4]);
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

	if (!msgbench_parse(&o, argc, argv))
		return (fflush(stdout) == 0 ? EX_OK : EX_IOERR);
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		fprintf(stderr, "msgbench: out of memory\n");
		return (EX_OSERR);
	}
	msgbench_check(&o, b);
	if (msgbench_limit_fds(&o) == -1) {
		free(b);
		return (EX_UNAVAILABLE);
	}
	if (msgbench_setup(b, &o) == -1 || msgbench_run(b) == -1) {
		fprintf(stderr, "msgbench: cannot set up the run: %s\n",
		    strerror(errno));
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
