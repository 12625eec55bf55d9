/*
 * options.c - turn argv into struct options.
 *
 * Pure: no I/O, no exit.  Every bad value becomes one line in errbuf that
 * names the option and the value, so main() can print it and exit EX_USAGE,
 * and the unit tests can check it.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/util.h>

#include "options.h"

enum {
	OPT_METRICS = 256, OPT_PROXY_PROTOCOL, OPT_UDP_RATE, OPT_UDP_BURST,
	OPT_LINE_TIMEOUT, OPT_NO_EVICT, OPT_MAX_CONNS_PER_SOURCE, OPT_UDP_RCVBUF,
	OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_CLIENT_CA
};

static const char options_short[] = ":c:dehi:kl:L:m:M:p:P:qt:T:u:UvV";

static const struct option options_long[] = {
	{ "max-conns",		required_argument,	NULL, 'c' },
	{ "max-conns-per-source", required_argument,	NULL,
	  OPT_MAX_CONNS_PER_SOURCE },
	{ "daemon",		no_argument,		NULL, 'd' },
	{ "echo",		no_argument,		NULL, 'e' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "idle-timeout",	required_argument,	NULL, 'i' },
	{ "line-timeout",	required_argument,	NULL, OPT_LINE_TIMEOUT },
	{ "no-evict",		no_argument,		NULL, OPT_NO_EVICT },
	{ "keep-open",		no_argument,		NULL, 'k' },
	{ "listen",		required_argument,	NULL, 'l' },
	{ "log",		required_argument,	NULL, 'L' },
	{ "message",		required_argument,	NULL, 'm' },
	{ "max-message",	required_argument,	NULL, 'M' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "pidfile",		required_argument,	NULL, 'P' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "drain-timeout",	required_argument,	NULL, 'T' },
	{ "user",		required_argument,	NULL, 'u' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "metrics",		required_argument,	NULL, OPT_METRICS },
	{ "proxy-protocol",	no_argument,		NULL, OPT_PROXY_PROTOCOL },
	{ "udp",		no_argument,		NULL, 'U' },
	{ "threads",		required_argument,	NULL, 't' },
	{ "udp-rate",		required_argument,	NULL, OPT_UDP_RATE },
	{ "udp-burst",		required_argument,	NULL, OPT_UDP_BURST },
	{ "udp-rcvbuf",		required_argument,	NULL, OPT_UDP_RCVBUF },
	{ "tls-cert",		required_argument,	NULL, OPT_TLS_CERT },
	{ "tls-key",		required_argument,	NULL, OPT_TLS_KEY },
	{ "tls-client-ca",	required_argument,	NULL, OPT_TLS_CLIENT_CA },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static const char options_usage_text[] =
"Usage: msgd [OPTION]...\n"
"A small event-driven TCP message server: answers each client's message.\n"
"\n"
"Listening:\n"
"  -l, --listen=ADDR       listen on ADDR (IPv4 or IPv6 literal, 'localhost',\n"
"                          or '*' for all addresses); repeatable\n"
"                          [default: 127.0.0.1 and ::1]\n"
"  -p, --port=N            TCP port, 0 lets the kernel pick [default: 5000]\n"
"\n"
"Replies:\n"
"  -m, --message=TEXT      the reply [default: 'Hello, client!']\n"
"  -e, --echo              reply with the client's own line instead\n"
"  -k, --keep-open         answer every line and keep the connection open\n"
"                          [default: answer the first message, then close]\n"
"\n"
"Limits:\n"
"  -t, --threads=N         N worker threads sharing the port [default: 1]\n"
"  -c, --max-conns=N       open connections at most [default: 10000]\n"
"      --max-conns-per-source=N\n"
"                          open connections from one IPv4 address or IPv6\n"
"                          /64 at most, 0 = no limit [default: 0]\n"
"  -M, --max-message=BYTES\n"
"                          longest line accepted [default: 65536]\n"
"  -i, --idle-timeout=SECS\n"
"                          close a connection with no line answered for\n"
"                          SECS, 0 = never [default: 60]\n"
"      --line-timeout=SECS\n"
"                          close a connection whose line is not complete\n"
"                          SECS after its first byte, 0 = never\n"
"                          [default: 10]\n"
"      --no-evict          when full, refuse new clients [default: close\n"
"                          the connection idle longest to make room]\n"
"  -T, --drain-timeout=SECS\n"
"                          on SIGTERM, wait this long for replies to be\n"
"                          delivered [default: 10]\n"
"\n"
"UDP (off by default; see AMPLIFICATION in msgd(8)):\n"
"  -U, --udp               also answer UDP datagrams on the same addresses\n"
"      --udp-rate=N        replies a second per source address [100]\n"
"      --udp-burst=N       replies a source may get at once [100]\n"
"      --udp-rcvbuf=BYTES  each UDP socket's receive buffer, for bursts\n"
"                          [default: 0, the kernel's net.core.rmem_default]\n"
"\n"
"TLS (TLS 1.2 and 1.3 on every TCP listener; UDP and --metrics stay plain):\n"
"      --tls-cert=FILE     certificate chain (PEM); needs --tls-key\n"
"      --tls-key=FILE      its private key (PEM); SIGHUP reloads both\n"
"      --tls-client-ca=FILE\n"
"                          require client certificates signed by a CA in\n"
"                          FILE (mutual TLS) [default: none asked for]\n"
"\n"
"Running:\n"
"  -d, --daemon            detach and run in the background\n"
"  -P, --pidfile=FILE      write and lock FILE while running\n"
"  -u, --user=NAME         drop root privileges to NAME after listening\n"
"  -L, --log=DEST          stderr, syslog or a file name\n"
"                          [default: stderr; syslog with --daemon]\n"
"  -v, --verbose           more detail (repeat for one line per connection)\n"
"  -q, --quiet             warnings and errors only\n"
"      --proxy-protocol    expect a PROXY v1/v2 header from a trusted load\n"
"                          balancer before each client's data\n"
"      --metrics=[ADDR:]PORT\n"
"                          serve /metrics (Prometheus) and /healthz over\n"
"                          HTTP on ADDR [default ADDR: 127.0.0.1]\n"
"\n"
"  -h, --help              display this help and exit\n"
"  -V, --version           output version information and exit\n"
"\n"
"Exit status: 0 on success, 64 on a usage error, 69 if it cannot listen,\n"
"75 if another instance holds the pidfile; see msgd(8) for the rest.\n"
"\n"
"Report bugs as README's \"Reporting bugs\" says.\n";

static const char options_version_text[] =
PACKAGE_NAME " " PACKAGE_VERSION "\n"
"Copyright (C) 2026 the msgd developers.\n"
"License ISC: <https://opensource.org/licenses/ISC>.\n"
"This is free software: you are free to change and redistribute it.\n"
"There is NO WARRANTY, to the extent permitted by law.\n";

const char *
options_usage(void)
{
	return (options_usage_text);
}

const char *
options_version(void)
{
	return (options_version_text);
}

void
options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->port = DEFAULT_PORT;
	o->message = DEFAULT_MESSAGE;
	o->log_dest = LOG_TO_STDERR;
	o->verbose = LOG_V_INFO;
	o->max_conns = DEFAULT_MAX_CONNS;
	o->max_conns_per_source = DEFAULT_MAX_CONNS_PER_SOURCE;
	o->max_message = DEFAULT_MAX_MESSAGE;
	o->idle_timeout = DEFAULT_IDLE_TIMEOUT;
	o->line_timeout = DEFAULT_LINE_TIMEOUT;
	o->drain_timeout = DEFAULT_DRAIN_TIMEOUT;
	o->threads = 1;
	o->udp_rate = DEFAULT_UDP_RATE;
	o->udp_burst = DEFAULT_UDP_BURST;
	o->udp_rcvbuf = DEFAULT_UDP_RCVBUF;
}

static enum options_result options_error(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static enum options_result
options_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return (OPTIONS_ERROR);
}

/* A whole decimal number in [min, max], or -1 with *ok cleared. */
static long
options_number(const char *s, long min, long max, int *ok)
{
	char	*end;
	long	 n;

	*ok = 0;
	if (*s == '\0' || *s == ' ' || *s == '+')
		return (-1);
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return (-1);
	*ok = 1;
	return (n);
}

/*
 * Listen addresses are literals (so a typo is caught here, not after a
 * DNS timeout): IPv4, IPv6 with or without brackets, 'localhost', or '*'.
 */
int
options_check_address(const char *s)
{
	char		buf[INET6_ADDRSTRLEN + 2];
	unsigned char	addr[16];
	size_t		len = strlen(s);

	if (strcmp(s, "*") == 0 || strcmp(s, "localhost") == 0)
		return (0);
	if (evutil_inet_pton(AF_INET, s, addr) == 1)
		return (0);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']' &&
	    len - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		s = buf;
	}
	if (evutil_inet_pton(AF_INET6, s, addr) == 1)
		return (0);
	return (-1);
}

/*
 * "[ADDR:]PORT", "ADDR:PORT" or "[V6ADDR]:PORT" into a literal address
 * (127.0.0.1 when none is given) and a port.  Returns -1 if malformed.
 */
int
options_split_hostport(const char *s, char *addr, size_t addrlen, int *port)
{
	const char	*colon = strrchr(s, ':'), *p = s;
	size_t		 len = 0;
	long		 n;
	int		 ok;

	if (colon != NULL) {
		len = (size_t)(colon - s);
		if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
			s++;
			len -= 2;
		} else if (memchr(s, ':', len) != NULL)
			return (-1);	/* bare IPv6 needs brackets */
		p = colon + 1;
	}
	if (len == 0) {
		s = "127.0.0.1";
		len = strlen(s);
	}
	if (len >= addrlen)
		return (-1);
	memcpy(addr, s, len);
	addr[len] = '\0';
	n = options_number(p, 0, 65535, &ok);
	if (!ok || options_check_address(addr) == -1 ||
	    strcmp(addr, "*") == 0 || strcmp(addr, "localhost") == 0)
		return (-1);
	*port = (int)n;
	return (0);
}

/*
 * getopt_long() returned '?'.  A long option given a value it does not
 * take leaves its own val in optopt (so --help=x would read as "-h"); an
 * unknown short option leaves the character, which is never a long
 * option's val (they all have a short form or are over 255); an unknown
 * long option leaves 0, and arg is then that option.
 */
static enum options_result
options_unknown(const char *arg, char *errbuf, size_t errlen)
{
	const struct option	*lo;

	for (lo = options_long; optopt != 0 && lo->name != NULL; lo++) {
		if (lo->val == optopt && lo->has_arg == no_argument)
			return (options_error(errbuf, errlen,
			    "option '--%s' takes no value", lo->name));
	}
	if (optopt != 0 && optopt < 256)
		return (options_error(errbuf, errlen, "unknown option '-%c'",
		    optopt));
	return (options_error(errbuf, errlen, "unknown option '%s'", arg));
}

static enum options_result
options_set_log(struct options *o, const char *arg, char *errbuf,
    size_t errlen)
{
	if (*arg == '\0')
		return (options_error(errbuf, errlen,
		    "invalid log destination '': use stderr, syslog or a "
		    "file name"));
	if (strcmp(arg, "stderr") == 0)
		o->log_dest = LOG_TO_STDERR;
	else if (strcmp(arg, "syslog") == 0)
		o->log_dest = LOG_TO_SYSLOG;
	else {
		o->log_dest = LOG_TO_FILE;
		o->log_path = arg;
	}
	o->log_dest_set = 1;
	return (OPTIONS_RUN);
}

enum options_result
options_parse(struct options *o, int argc, char **argv, char *errbuf,
    size_t errlen)
{
	int	ch, ok, quiet = 0, verbose = 0;
	long	n;

	optind = 0;	/* glibc: start afresh, so tests can parse again */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, options_short, options_long,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			n = options_number(optarg, 1, MAX_MAX_CONNS, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --max-conns '%s': must be a "
				    "number from 1 to %d", optarg,
				    MAX_MAX_CONNS));
			o->max_conns = n;
			break;
		case 'd':
			o->daemonize = 1;
			break;
		case 'e':
			o->echo = 1;
			break;
		case 'h':
			return (OPTIONS_HELP);
		case 'i':
			n = options_number(optarg, 0, MAX_IDLE_TIMEOUT, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --idle-timeout '%s': must be a "
				    "number of seconds from 0 to %d", optarg,
				    MAX_IDLE_TIMEOUT));
			o->idle_timeout = n;
			break;
		case OPT_LINE_TIMEOUT:
			n = options_number(optarg, 0, MAX_IDLE_TIMEOUT, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --line-timeout '%s': must be a "
				    "number of seconds from 0 to %d", optarg,
				    MAX_IDLE_TIMEOUT));
			o->line_timeout = n;
			break;
		case OPT_NO_EVICT:
			o->no_evict = 1;
			break;
		case 'k':
			o->keep_open = 1;
			break;
		case 'l':
			if (options_check_address(optarg) == -1)
				return (options_error(errbuf, errlen,
				    "invalid --listen address '%s': use an "
				    "IPv4 or IPv6 address, 'localhost' or "
				    "'*'", optarg));
			if (o->nlisten == OPTIONS_MAX_LISTEN)
				return (options_error(errbuf, errlen,
				    "too many --listen addresses: at most %d",
				    OPTIONS_MAX_LISTEN));
			o->listen[o->nlisten++] = optarg;
			break;
		case 'L':
			if (options_set_log(o, optarg, errbuf, errlen) ==
			    OPTIONS_ERROR)
				return (OPTIONS_ERROR);
			break;
		case 'm':
			if (strlen(optarg) > MAX_MESSAGE_TEXT ||
			    strpbrk(optarg, "\r\n") != NULL)
				return (options_error(errbuf, errlen,
				    "invalid --message: must be one line of "
				    "at most %d bytes", MAX_MESSAGE_TEXT));
			o->message = optarg;
			break;
		case 'M':
			n = options_number(optarg, 1, MAX_MAX_MESSAGE, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --max-message '%s': must be a "
				    "number of bytes from 1 to %d", optarg,
				    MAX_MAX_MESSAGE));
			o->max_message = n;
			break;
		case 'p':
			n = options_number(optarg, 0, 65535, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --port '%s': must be a number "
				    "from 0 to 65535", optarg));
			o->port = (int)n;
			break;
		case 'P':
			if (*optarg == '\0')
				return (options_error(errbuf, errlen,
				    "invalid --pidfile '': need a file name"));
			o->pidfile = optarg;
			break;
		case 'q':
			quiet++;
			break;
		case 'T':
			n = options_number(optarg, 0, MAX_IDLE_TIMEOUT, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --drain-timeout '%s': must be a "
				    "number of seconds from 0 to %d", optarg,
				    MAX_IDLE_TIMEOUT));
			o->drain_timeout = n;
			break;
		case 'u':
			if (*optarg == '\0')
				return (options_error(errbuf, errlen,
				    "invalid --user '': need a user name"));
			o->user = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			return (OPTIONS_VERSION);
		case 'U':
			o->udp = 1;
			break;
		case 't':
			n = options_number(optarg, 1, MAX_THREADS, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --threads '%s': must be a number "
				    "from 1 to %d", optarg, MAX_THREADS));
			o->threads = (int)n;
			break;
		case OPT_UDP_RATE:
		case OPT_UDP_BURST:
			n = options_number(optarg, 1, 1000000, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --udp-%s '%s': must be a number "
				    "from 1 to 1000000", ch == OPT_UDP_RATE ?
				    "rate" : "burst", optarg));
			if (ch == OPT_UDP_RATE)
				o->udp_rate = n;
			else
				o->udp_burst = n;
			break;
		case OPT_UDP_RCVBUF:
			n = options_number(optarg, 0, MAX_UDP_RCVBUF, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --udp-rcvbuf '%s': must be a "
				    "number of bytes from 0 (the kernel's) to "
				    "%d", optarg, MAX_UDP_RCVBUF));
			o->udp_rcvbuf = n;
			break;
		case OPT_MAX_CONNS_PER_SOURCE:
			n = options_number(optarg, 0, MAX_MAX_CONNS, &ok);
			if (!ok)
				return (options_error(errbuf, errlen,
				    "invalid --max-conns-per-source '%s': must "
				    "be a number from 0 (no limit) to %d",
				    optarg, MAX_MAX_CONNS));
			o->max_conns_per_source = n;
			break;
		case OPT_PROXY_PROTOCOL:
			o->proxy_protocol = 1;
			break;
		case OPT_METRICS:
			if (options_split_hostport(optarg, o->metrics_buf,
			    sizeof(o->metrics_buf), &o->metrics_port) == -1)
				return (options_error(errbuf, errlen,
				    "invalid --metrics '%s': use [ADDR:]PORT "
				    "with a literal address", optarg));
			o->metrics_addr = o->metrics_buf;
			break;
		case OPT_TLS_CERT:
		case OPT_TLS_KEY:
		case OPT_TLS_CLIENT_CA:
			if (*optarg == '\0')
				return (options_error(errbuf, errlen,
				    "invalid --tls-%s '': need a file name",
				    ch == OPT_TLS_CERT ? "cert" :
				    ch == OPT_TLS_KEY ? "key" : "client-ca"));
			if (ch == OPT_TLS_CERT)
				o->tls_cert = optarg;
			else if (ch == OPT_TLS_KEY)
				o->tls_key = optarg;
			else
				o->tls_client_ca = optarg;
			break;
		case ':':
			return (options_error(errbuf, errlen,
			    "option '%s' needs a value", argv[optind - 1]));
		default:
			return (options_unknown(argv[optind - 1], errbuf,
			    errlen));
		}
	}
	if (optind < argc)
		return (options_error(errbuf, errlen,
		    "unexpected argument '%s'", argv[optind]));
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		return (options_error(errbuf, errlen,
		    "--tls-cert and --tls-key go together: give both"));
	if (o->tls_client_ca != NULL && o->tls_cert == NULL)
		return (options_error(errbuf, errlen,
		    "--tls-client-ca needs --tls-cert and --tls-key"));
	if (quiet && verbose)
		return (options_error(errbuf, errlen,
		    "--quiet and --verbose contradict each other"));
	o->verbose = quiet ? LOG_V_QUIET : LOG_V_INFO + verbose;
	if (o->verbose > LOG_V_TRACE)
		o->verbose = LOG_V_TRACE;
	if (o->daemonize && !o->log_dest_set)
		o->log_dest = LOG_TO_SYSLOG;
	return (OPTIONS_RUN);
}
