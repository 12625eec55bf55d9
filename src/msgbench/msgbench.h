/*
 * msgbench.h - msgbench's shared structures, and prototypes grouped by file.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_MSGBENCH_H
#define MSGD_MSGBENCH_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"
#include "replycheck.h"

struct bufferevent;
struct event;
struct event_base;
struct ssl_ctx_st;

#define MSGBENCH_READ_SIZE	(64 * 1024)

enum msgbench_mode { MODE_CONN, MODE_PING, MODE_PIPE };

/* Error kinds: one count per failed connection attempt or reply. */
enum msgbench_err {
	ERR_REFUSED, ERR_RESET, ERR_TIMEOUT, ERR_MISMATCH, ERR_CLOSED,
	ERR_TLS, ERR_OTHER, ERR_MAX
};

/* The command line, checked, with the address already parsed. */
struct msgbench_opts {
	enum msgbench_mode	 mode;
	long			 conns;
	double			 duration;
	unsigned long long	 count;		/* 0: for duration */
	const char		*message;
	const char		*expect;	/* the message with --echo */
	int			 expect_set;
	int			 echo;
	const char		*host;
	int			 port;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	long			 depth;		/* 1 unless pipe */
	int			 depth_set;
	long			 sources;	/* 0: kernel's choice */
	double			 timeout;
	int			 json;
	int			 quiet;
	int			 tls;
	const char		*tls_ca;	/* NULL: no verification */
	const char		*tls_name;	/* SNI, and the name verified */
};

enum client_state {
	CLIENT_IDLE,		/* no socket yet */
	CLIENT_CONNECTING,
	CLIENT_HANDSHAKE,	/* --tls: connected, TLS handshake under way */
	CLIENT_RUNNING,		/* connected, sending and checking */
	CLIENT_CLOSING,		/* conn: answered, server to close */
	CLIENT_RETRY,		/* after a failure, before reconnecting */
	CLIENT_DONE
};

struct bench;

struct client {
	struct bench		*b;
	int			 id;
	int			 fd;
	struct bufferevent	*bev;		/* --tls: owns fd */
	uint64_t		 connect_at;	/* when connect() was called */
	enum client_state	 state;
	struct event		*rev;
	struct event		*wev;
	struct event		*tev;	/* all of its timeouts */
	struct replycheck	 rc;
	uint64_t		*stamps;	/* send times: a ring */
	size_t			 head;
	size_t			 inflight;
	uint64_t		 replies;	/* on this connection */
	size_t			 pending;	/* bytes to write */
	int			 writing;
};

struct bench {
	struct event_base	*base;
	const struct msgbench_opts *o;
	size_t			 depth;		/* per client */
	char			*out;		/* request lines */
	size_t			 outlen;
	size_t			 linelen;
	char			*reply;		/* with its LF */
	struct client		*clients;
	uint64_t		*stamps;	/* every client's ring */
	long			 active;	/* clients not yet done */
	uint64_t		 remaining;	/* messages still to send */
	uint64_t		 sent;
	uint64_t		 answered;
	uint64_t		 errors[ERR_MAX];
	int			 told[ERR_MAX];
	int			 told_oneshot;
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
	struct histogram	 interval;	/* since the last tick */
	struct histogram	 handshake;	/* --tls: connect() to done */
	struct ssl_ctx_st	*tls_ctx;
	uint64_t		 started;
	uint64_t		 stopped;	/* 0: ran to --count */
	uint64_t		 answered_by_stop;
	uint64_t		 ended;
	uint64_t		 tick_at;
	uint64_t		 tick_answered;
	char			 rbuf[MSGBENCH_READ_SIZE];
};

/* msgbench.c */
uint64_t msgbench_now(void);

/* msgbench-options.c */
int	 msgbench_options_parse(struct msgbench_opts *, int, char **);

/* msgbench-client.c */
int	 msgbench_client_init(struct client *, struct bench *, int);
void	 msgbench_client_free(struct client *);
void	 msgbench_client_connect(struct client *);
void	 msgbench_client_stop(struct client *);
void	 msgbench_client_fail(struct client *, enum msgbench_err, int,
	     const char *, ...) __attribute__((format(printf, 4, 5)));
void	 msgbench_client_syserr(struct client *, int, const char *);
void	 msgbench_client_received(struct client *, const char *, size_t);
void	 msgbench_client_eof(struct client *);
void	 msgbench_client_running(struct client *);

/* msgbench-tls.c */
int	 msgbench_tls_init(struct bench *);
void	 msgbench_tls_free(struct bench *);
int	 msgbench_tls_start(struct client *);
void	 msgbench_tls_write(struct client *, const char *, size_t);

#endif /* MSGD_MSGBENCH_H */
