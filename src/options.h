/*
 * options.h - msgd's command line, parsed into one struct.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_OPTIONS_H
#define MSGD_OPTIONS_H

#include <stddef.h>

#include "log.h"

#define OPTIONS_MAX_LISTEN	16

#define DEFAULT_PORT		5000
#define DEFAULT_MESSAGE		"Hello, client!"
#define DEFAULT_MAX_CONNS	10000
#define DEFAULT_MAX_CONNS_PER_SOURCE 0	/* none: NAT; see msgd(8) */
#define DEFAULT_MAX_MESSAGE	65536
#define DEFAULT_IDLE_TIMEOUT	60
#define DEFAULT_LINE_TIMEOUT	10
#define DEFAULT_DRAIN_TIMEOUT	10
#define DEFAULT_UDP_RATE	100
#define DEFAULT_UDP_BURST	100
#define DEFAULT_UDP_RCVBUF	0	/* the kernel's: net.core.rmem_default */

#define MAX_MAX_CONNS		1000000
#define MAX_MAX_MESSAGE		(64 * 1024 * 1024)
#define MAX_IDLE_TIMEOUT	86400
#define MAX_MESSAGE_TEXT	4096
#define MAX_THREADS		64
#define MAX_UDP_RCVBUF		(256 * 1024 * 1024)

struct options {
	const char	*listen[OPTIONS_MAX_LISTEN];	/* none: localhost */
	int		 nlisten;
	int		 port;				/* 0: kernel picks */
	const char	*message;
	int		 keep_open;
	int		 echo;
	int		 daemonize;
	const char	*pidfile;
	enum log_dest	 log_dest;
	const char	*log_path;
	int		 log_dest_set;
	int		 verbose;
	long		 max_conns;
	long		 max_conns_per_source;	/* 0: no limit */
	long		 max_message;
	long		 idle_timeout;
	long		 line_timeout;
	int		 no_evict;
	long		 drain_timeout;
	const char	*user;
	int		 proxy_protocol;
	int		 udp;
	int		 threads;
	long		 udp_rate;		/* replies/s per source */
	long		 udp_burst;
	long		 udp_rcvbuf;		/* SO_RCVBUF, 0: the kernel's */
	const char	*metrics_addr;		/* NULL: no metrics endpoint */
	int		 metrics_port;
	char		 metrics_buf[64];
	const char	*tls_cert;		/* NULL: no TLS */
	const char	*tls_key;
	const char	*tls_client_ca;		/* NULL: no client certs */
};

enum options_result {
	OPTIONS_RUN,		/* start the server */
	OPTIONS_HELP,		/* print options_usage() to stdout, exit 0 */
	OPTIONS_VERSION,	/* print options_version() to stdout, exit 0 */
	OPTIONS_ERROR		/* errbuf says why; exit EX_USAGE */
};

void			options_defaults(struct options *);
enum options_result	options_parse(struct options *, int, char **,
			    char *, size_t);
int			options_check_address(const char *);
int			options_split_hostport(const char *, char *, size_t,
			    int *);
const char	       *options_usage(void);
const char	       *options_version(void);

#endif /* MSGD_OPTIONS_H */
