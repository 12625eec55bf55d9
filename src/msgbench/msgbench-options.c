/*
 * msgbench-options.c - msgbench's command line, checked as a whole.
 *
 * A bad value is one line on stderr that names the option and the value,
 * and exit 64, before anything is opened.  Hosts are literals only, so a
 * typo fails here rather than after a DNS timeout.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "msgbench.h"

#define MSGBENCH_MAX_CONNS	100000
#define MSGBENCH_MAX_DEPTH	1024
#define MSGBENCH_MAX_TEXT	65536
#define MSGBENCH_MAX_SECONDS	86400
#define MSGBENCH_MAX_COUNT	1000000000000LL
#define MSGBENCH_MAX_SOURCES	254
#define MSGBENCH_MAX_NAME	253	/* a DNS name's longest */

static void	msgbench_options_check(struct msgbench_opts *);

enum { OPT_EXPECT = 256, OPT_ECHO, OPT_JSON, OPT_TLS, OPT_TLS_CA,
	OPT_TLS_NAME };

static const char msgbench_options_short[] = ":c:d:D:hH:m:n:p:qs:t:V";

static const struct option msgbench_options_long[] = {
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
	{ "tls",	no_argument,		NULL, OPT_TLS },
	{ "tls-ca",	required_argument,	NULL, OPT_TLS_CA },
	{ "tls-name",	required_argument,	NULL, OPT_TLS_NAME },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

static const char msgbench_options_usage[] =
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
"TLS:\n"
"      --tls               every connection over TLS (1.2 or later), each a\n"
"                          full handshake; handshake times in the report\n"
"      --tls-ca=FILE       verify the server's certificate against the CA\n"
"                          certificates in FILE [default: no verification]\n"
"      --tls-name=NAME     send NAME as SNI and verify it, not the address\n"
"\n"
"Output:\n"
"      --json              one JSON line at the end instead of the table\n"
"  -q, --quiet             no progress lines and no table\n"
"  -h, --help              display this help and exit\n"
"  -V, --version           output version information and exit\n"
"\n"
"Exit status: 0 if every message got its exact reply, 1 if not, 64 on a\n"
"usage error, 65 or 66 if the --tls-ca file is bad or cannot be read, 69\n"
"if it cannot connect at all.\n"
"\n"
"Report bugs as README's \"Reporting bugs\" says.\n";

static const char msgbench_options_version[] =
"msgbench (" PACKAGE_NAME ") " PACKAGE_VERSION "\n"
"Copyright (C) 2026 the msgd developers.\n"
"License ISC: <https://opensource.org/licenses/ISC>.\n"
"This is free software: you are free to change and redistribute it.\n"
"There is NO WARRANTY, to the extent permitted by law.\n";

static void __attribute__((format(printf, 1, 2), noreturn))
msgbench_options_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("msgbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try 'msgbench --help')\n", stderr);
	exit(EX_USAGE);
}

/* --NAME's value, a whole decimal number in [min, max]; or exit 64. */
static long long
msgbench_options_number(const char *name, const char *s, long long min,
    long long max)
{
	char		*end;
	long long	 n;

	errno = 0;
	if (isdigit((unsigned char)*s)) {
		n = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0' && n >= min && n <= max)
			return (n);
	}
	msgbench_options_error("invalid --%s '%s': must be a number from "
	    "%lld to %lld", name, s, min, max);
}

/* Seconds, fractions allowed: more than 0, at most a day; or exit 64. */
static double
msgbench_options_seconds(const char *name, const char *s)
{
	char	*end;
	double	 d;

	errno = 0;
	if (isdigit((unsigned char)*s) || *s == '.') {
		d = strtod(s, &end);
		if (errno == 0 && *end == '\0' && d > 0 &&
		    d <= MSGBENCH_MAX_SECONDS)
			return (d);
	}
	msgbench_options_error("invalid --%s '%s': must be seconds, more "
	    "than 0 and at most %d", name, s, MSGBENCH_MAX_SECONDS);
}

static const char *
msgbench_options_text(const char *s, const char *name)
{
	if (strlen(s) > MSGBENCH_MAX_TEXT || strpbrk(s, "\r\n") != NULL)
		msgbench_options_error("invalid --%s: must be one line of at "
		    "most %d bytes", name, MSGBENCH_MAX_TEXT);
	return (s);
}

/* The host as a socket address; only literals, so a typo fails here. */
static int
msgbench_options_address(const char *host, int port,
    struct sockaddr_storage *ss, socklen_t *len)
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

/* --tls-name: a host name, as SNI carries it (letters, digits, - and .). */
static const char *
msgbench_options_name(const char *s)
{
	size_t	n = strlen(s);

	if (n == 0 || n > MSGBENCH_MAX_NAME || s[0] == '-' || s[0] == '.' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") != n)
		msgbench_options_error("invalid --tls-name '%s': must be a "
		    "host name", s);
	return (s);
}

/* getopt_long() returned '?' for arg: say which way it is wrong. */
static void __attribute__((noreturn))
msgbench_options_unknown(const char *arg)
{
	if (strncmp(arg, "--", 2) != 0)
		msgbench_options_error("unknown option '-%c'", optopt);
	if (optopt != 0)
		msgbench_options_error("option '%s' takes no value", arg);
	msgbench_options_error("unknown or ambiguous option '%s'", arg);
}

/* Returns 1 to run, 0 after --help or --version; exits on a bad option. */
int
msgbench_options_parse(struct msgbench_opts *o, int argc, char **argv)
{
	int	ch;

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
	while ((ch = getopt_long(argc, argv, msgbench_options_short,
	    msgbench_options_long, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conns = (long)msgbench_options_number("conns",
			    optarg, 1, MSGBENCH_MAX_CONNS);
			break;
		case 'd':
			o->duration = msgbench_options_seconds("duration",
			    optarg);
			break;
		case 'D':
			o->depth = (long)msgbench_options_number("depth",
			    optarg, 1, MSGBENCH_MAX_DEPTH);
			o->depth_set = 1;
			break;
		case OPT_ECHO:
			o->echo = 1;
			break;
		case OPT_EXPECT:
			o->expect = msgbench_options_text(optarg, "expect");
			o->expect_set = 1;
			break;
		case 'h':
			fputs(msgbench_options_usage, stdout);
			return (0);
		case 'H':
			o->host = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case 'm':
			o->message = msgbench_options_text(optarg, "message");
			break;
		case 'n':
			o->count = (unsigned long long)msgbench_options_number(
			    "count", optarg, 1, MSGBENCH_MAX_COUNT);
			break;
		case 'p':
			o->port = (int)msgbench_options_number("port", optarg,
			    1, 65535);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 's':
			o->sources = (long)msgbench_options_number("sources",
			    optarg, 1, MSGBENCH_MAX_SOURCES);
			break;
		case 't':
			o->timeout = msgbench_options_seconds("timeout",
			    optarg);
			break;
		case OPT_TLS:
			o->tls = 1;
			break;
		case OPT_TLS_CA:
			o->tls_ca = optarg;
			break;
		case OPT_TLS_NAME:
			o->tls_name = msgbench_options_name(optarg);
			break;
		case 'V':
			fputs(msgbench_options_version, stdout);
			return (0);
		case ':':
			msgbench_options_error("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			msgbench_options_unknown(argv[optind - 1]);
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
			msgbench_options_error("unknown mode '%s': use conn, "
			    "ping or pipe", argv[optind]);
		if (++optind < argc)
			msgbench_options_error("unexpected argument '%s'",
			    argv[optind]);
	}
	msgbench_options_check(o);
	return (1);
}

/* What the options mean together; parses the address. */
static void
msgbench_options_check(struct msgbench_opts *o)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&o->addr;

	if (o->echo && o->expect_set)
		msgbench_options_error("--echo and --expect contradict each "
		    "other");
	if (o->echo)
		o->expect = o->message;
	if (o->depth_set && o->mode != MODE_PIPE)
		msgbench_options_error("--depth applies to pipe mode only");
	if (msgbench_options_address(o->host, o->port, &o->addr,
	    &o->addrlen) == -1)
		msgbench_options_error("invalid --host '%s': use an IPv4 or "
		    "IPv6 address", o->host);
	if (o->sources > 0 && (o->addr.ss_family != AF_INET ||
	    (ntohl(sin->sin_addr.s_addr) >> 24) != 127))
		msgbench_options_error("--sources needs a 127.x.x.x --host, "
		    "not '%s'", o->host);
	if (o->mode != MODE_PIPE)
		o->depth = 1;
#ifndef HAVE_OPENSSL
	if (o->tls)
		msgbench_options_error("--tls: this msgbench was built without "
		    "OpenSSL");
#endif
	if (!o->tls && (o->tls_ca != NULL || o->tls_name != NULL))
		msgbench_options_error("--%s needs --tls", o->tls_ca != NULL ?
		    "tls-ca" : "tls-name");
}

