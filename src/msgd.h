/*
 * msgd.h - the server's shared structures, and prototypes grouped by file.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_H
#define MSGD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <stdint.h>

#include <event2/event_struct.h>

#include "frame.h"
#include "options.h"

struct event_base;
struct event;
struct evbuffer;
struct evconnlistener;

/* Listening sockets one worker may have: addresses x (IPv4, IPv6). */
#define MSGD_MAX_LISTENERS	(OPTIONS_MAX_LISTEN * 2)

/* UDP sockets msgd may have: one per listening address for each worker. */
#define MSGD_MAX_UDP		(MAX_THREADS * MSGD_MAX_LISTENERS)

/*
 * Connections to --metrics open at once; more are closed at once.  A
 * scrape holds one for milliseconds, so a few Prometheus servers and
 * health checkers need a handful; 16 leaves room for them at the cost of
 * 16 descriptors in the budget (server_fd_reserve).
 */
#define METRICS_MAX_CONNS	16

/* Stop reading from a client while this much output waits for it. */
#define CONN_OUTPUT_HIGH	(64 * 1024)

/* The worker's read buffer. */
#define CONN_READ_SIZE		16384

/*
 * Bytes asked of one read: CONN_READ_SIZE less room for an evbuffer
 * chain's header.  libevent rounds a chain (header included) up to a power
 * of two, so asking for all of CONN_READ_SIZE allocated 32 kB chains that
 * a full read left half empty, and a long line cost up to twice its length
 * (tests/limits-max-message.sh measures the bound).
 */
#define CONN_READ_ASK		(CONN_READ_SIZE - 128)

/*
 * After the last reply: read and discard for at most this long / much,
 * counted from the reply's delivery, whatever the client sends meanwhile.
 */
#define CONN_LINGER_SECS	5
#define CONN_LINGER_BYTES	(16 * 1024 * 1024)

/*
 * --proxy-protocol: the header must be complete this long after accept.
 * A balancer sends it with the connection, so seconds are generous; a
 * client holding a half header ties up a slot for no longer than this.
 */
#define EXPIRE_PROXY_SECS	5

/*
 * Full, msgd closes the connection idle longest for a new client, but not
 * one younger than this: a client's first line arrives within a round
 * trip, and a burst of new clients must not close each other before they
 * speak (they are refused instead).  Short, because while every
 * connection is younger, newcomers are refused: an attacker reopening
 * its connections all at once gets no more than this.
 */
#define EXPIRE_EVICT_MIN_MS	100

/*
 * Draining (SIGTERM, an upgrade), a one-shot connection that has sent
 * nothing yet gets this long to send its line: a client accepted just
 * before sends it within a round trip, and one that never does cannot
 * hold up the stop until --drain-timeout.
 */
#define EXPIRE_DRAIN_SECS	1

/*
 * A TLS handshake must be done this long after accept (or after the PROXY
 * header).  A real client needs a few round trips, milliseconds even over
 * continents; ten seconds leave room for a slow mobile link, and bound
 * what a client that starts a handshake and stalls can hold.
 */
#define EXPIRE_TLS_SECS		10

/*
 * TLS output that may wait for a client that does not read, written by
 * OpenSSL on its own (a handshake's flight, alerts, key updates), before
 * msgd stops reading from it too (conn.c, conn_tls_send).
 */
#define TLS_UNSENT_HOLD		(16 * 1024)

/* Late by this much rather than early (the coarse clock's tick). */
#define EXPIRE_SLACK_MS		5

/* Accept back-off while out of descriptors, in milliseconds. */
#define SERVER_PAUSE_MIN_MS	50
#define SERVER_PAUSE_MAX_MS	1000

/* Why a connection closed: msgd_connections_closed_total{reason=...}. */
enum conn_close {
	CONN_CLOSE_DONE,	/* the conversation ended (EOF, linger over) */
	CONN_CLOSE_ERROR,	/* a read or write failed, or no memory */
	CONN_CLOSE_IDLE,	/* --idle-timeout */
	CONN_CLOSE_TOO_LONG,	/* a line over --max-message */
	CONN_CLOSE_PROXY,	/* a missing, late or malformed PROXY header */
	CONN_CLOSE_LINE_TIMEOUT, /* --line-timeout */
	CONN_CLOSE_EVICTED,	/* closed to make room when full */
	CONN_CLOSE_PER_SOURCE,	/* --max-conns-per-source, at the PROXY
				   header */
	CONN_CLOSE_TLS,		/* the TLS handshake failed or timed out */
	CONN_CLOSE_DENIED,	/* --allow/--deny, at the PROXY header */
	CONN_CLOSE_NREASONS
};

/* Why a UDP reply was not sent: msgd_udp_replies_failed_total{reason=...}. */
enum udp_fail {
	UDP_FAIL_TOO_LARGE,	/* EMSGSIZE: over the protocol's datagram */
	UDP_FAIL_BUFFER_FULL,	/* EAGAIN, ENOBUFS: the send buffer is full */
	UDP_FAIL_ERROR,		/* anything else (a firewall's EPERM...) */
	UDP_FAIL_NREASONS
};

/* Why a TLS handshake failed: msgd_tls_handshake_failures_total{reason}. */
enum tls_fail {
	TLS_FAIL_TIMEOUT,	/* not done in EXPIRE_TLS_SECS */
	TLS_FAIL_ERROR,		/* OpenSSL refused it (not TLS, a bad or
				   missing client certificate...) */
	TLS_FAIL_CLOSED,	/* the client closed the connection first */
	TLS_FAIL_NREASONS
};

/*
 * Histogram buckets (upper bounds, in nanoseconds; +Inf is the last
 * count).  Counts are per bucket, not cumulative, so recording one value
 * touches one word; stats.c adds them up for /metrics.
 */
#define STATS_REPLY_BUCKETS	11
#define STATS_CONN_BUCKETS	14
struct stats_histogram_reply {
	uint64_t	counts[STATS_REPLY_BUCKETS + 1];
	uint64_t	sum_ns;
};
struct stats_histogram_conn {
	uint64_t	counts[STATS_CONN_BUCKETS + 1];
	uint64_t	sum_ns;
};

/*
 * One worker's counters.  Only the worker's own thread writes them, with
 * STATS_ADD; other threads (/metrics, SIGUSR1) read them with relaxed
 * atomic loads in stats_total().
 */
struct stats {
	uint64_t	accepted;
	uint64_t	refused_busy;
	uint64_t	refused_per_source;
	uint64_t	refused_denied;		/* --allow/--deny */
	uint64_t	closed[CONN_CLOSE_NREASONS];
	uint64_t	messages_in;
	uint64_t	replies_out;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	accept_pauses;
	uint64_t	metrics_refused;	/* over METRICS_MAX_CONNS */
	uint64_t	metrics_timed_out;	/* no request in time */
	uint64_t	udp_received;
	uint64_t	udp_replies;
	uint64_t	udp_rate_limited;
	uint64_t	udp_denied;		/* --allow/--deny */
	uint64_t	udp_failed[UDP_FAIL_NREASONS];
	uint64_t	tls_handshakes;
	uint64_t	tls_failed[TLS_FAIL_NREASONS];
	struct stats_histogram_reply	reply_latency;
	struct stats_histogram_conn	conn_duration;
};

/*
 * Add to a counter of this worker's.  It has one writer, so a plain load
 * and a relaxed atomic store are enough (on x86 the same code as +=, no
 * locked instruction); the store is atomic so that another thread reading
 * it is not a data race.
 */
#define STATS_ADD(var, n)	\
	__atomic_store_n(&(var), (var) + (n), __ATOMIC_RELAXED)

/* A path that fits a Unix-domain socket address, with its NUL. */
#define UNIXSOCK_PATH_MAX	sizeof(((struct sockaddr_un *)NULL)->sun_path)

/* One literal address to listen on (listen.c), or a socket path. */
struct listen_addr {
	char			 addr[UNIXSOCK_PATH_MAX];
	int			 optional;	/* skip if the host lacks it */
	int			 missing;	/* ... and it does */
	int			 unixsock;	/* addr is a socket path */
	int			 fd;		/* that socket, once bound */
};

/* A bound, listening socket, before and after libevent takes it over. */
struct listener {
	int			 fd;
	char			 name[128];	/* "127.0.0.1:5000",
						   "unix:/run/msgd.sock" */
	struct evconnlistener	*lev;
	int			 shared;	/* all workers accept on it */
	const char		*handover;	/* its LISTEN_FDNAMES name on
						   SIGUSR2 (upgrade.c) */
};

/*
 * Where connections come from, for --max-conns-per-source (source.c): an
 * IPv4 address (as IPv4-mapped IPv6) or an IPv6 /64 (the rest zero).
 */
struct source_key {
	unsigned char		 addr[16];
};
struct source;
struct proxy_header;

enum conn_state {
	CONN_READING,		/* answering what the client sends */
	CONN_CLOSING,		/* last reply queued: flush, then linger */
	CONN_LINGERING,		/* write side shut: discard input, then close */
	CONN_DEAD		/* closed; freed at the end of the loop turn */
};

/* The clocks a connection runs besides the idle one (expire.c). */
enum expire_kind {
	EXPIRE_NONE,
	EXPIRE_LINE,		/* a line is arriving: --line-timeout */
	EXPIRE_PROXY,		/* the PROXY header is due */
	EXPIRE_LINGER,		/* after the last reply */
	EXPIRE_DRAIN,		/* draining, and the line is still due */
	EXPIRE_TLS,		/* the TLS handshake is due */
	EXPIRE_NKINDS
};

struct conn_bufs;
struct handoff;
struct ssl_st;

struct conn {
	TAILQ_ENTRY(conn)	 entry;		/* srv->conns (by last line),
						   then srv->dead */
	TAILQ_ENTRY(conn)	 expire_entry;	/* srv->expiring[expiring] */
	struct server		*srv;
	struct conn_bufs	*bufs;		/* NULL until something waits */
	struct source		*source;	/* counted there, or NULL */
	struct event		 read_ev;
	struct ssl_st		*ssl;		/* TLS (tls.c), or NULL */
	int			 fd;		/* -1 once closed */
	size_t			 scanned;	/* input bytes known LF-free */
	size_t			 lingered;	/* bytes discarded in linger */
	enum conn_state		 state;
	unsigned		 eof:1;		/* client shut its write side */
	unsigned		 paused:1;	/* reading off: output is full */
	unsigned		 writing:1;	/* the write event is armed */
	unsigned		 proxied:1;	/* PROXY header still due */
	unsigned		 tls:1;		/* TLS due (not Unix) */
	unsigned		 secure:1;	/* TLS handshake done */
	unsigned		 tls_more:1;	/* TLS: more to read without
						   the socket (tls_fill) */
	unsigned		 tls_notified:1; /* close_notify sent */
	unsigned		 tls_held:1;	/* TLS: reading waits until
						   OpenSSL's output is sent */
	enum conn_close		 why;		/* counted when it closes */
	enum expire_kind	 expiring;	/* which clock runs */
	uint64_t		 active_at;	/* ms: accept, or last line */
	uint64_t		 expire_at;	/* ms: that clock's start */
	uint32_t		 waiting;	/* replies queued, unwritten */
	uint64_t		 waiting_since;	/* line of the oldest (ns) */
	uint64_t		 read_at;	/* last buffered read (ns);
						   0: the current direct one */
	uint64_t		 opened;	/* ns, CLOCK_MONOTONIC */
};
TAILQ_HEAD(conn_list, conn);

struct server {
	struct event_base	*base;
	const struct options	*opts;
	struct frame_policy	 policy;	/* how to answer: read this,
						   not opts */
	char			*message;	/* reply text with its LF */
	struct listener		 listeners[MSGD_MAX_LISTENERS];
	int			 nlisteners;
	long			 max_conns;
	long			 nconns;
	struct conn_list	 conns;		/* idle longest first */
	struct conn_list	 dead;		/* closed, to be freed */
	struct event		*reap_ev;	/* frees them: conn_reap */
	struct conn_list	 expiring[EXPIRE_NKINDS]; /* by start */
	uint64_t		 expire_ms[EXPIRE_NKINDS]; /* 0: none */
	uint64_t		 idle_ms;	/* 0: no idle timeout */
	int			 evict;		/* not --no-evict */
	struct event		*expire_ev;	/* the next deadline */
	uint64_t		 expire_next;	/* ms; 0: none set */
	struct event		*pause_ev;	/* accept back-off timer */
	struct evconnlistener	*metrics_lev;	/* pauses with listeners */
	int			 pause_ms;	/* 0: accepting */
	int			 draining;	/* worker.c: stopping */
	struct event		*signal_ev[6];
	struct stats		 stats;
	char			 readbuf[CONN_READ_SIZE]; /* conn.c reads here */
	int			 worker;	/* 0: the main thread */
	struct handoff		*handoff;	/* sockets shared: handoff.c */
};

/* listen.c */
int	 listen_bind(const char *, int, int *, struct listener *);
int	 listen_addrs(const struct options *, struct listen_addr *, int);
int	 listen_open(struct listen_addr *, int, int *, const struct options *,
	    struct listener *);
void	 listen_share_port(int);

/* unixsock.c */
int	 unixsock_path(const char *, char *, size_t);
void	 unixsock_bind(const char *, const struct options *,
	    struct listener *);
void	 unixsock_inherit(int, const char *, struct listener *);
void	 unixsock_keep(void);
void	 unixsock_remove(void);

/* server.c */
long	 server_limit_fds(const struct options *, int, int);
struct server *server_new(struct event_base *, const struct options *,
	    struct listener *, int);
void	 server_free(struct server *);
void	 server_attach_listener(struct server *, struct evconnlistener *);
void	 server_accept_ok(struct server *);
void	 server_accepted(struct server *, int, const struct sockaddr *);
void	 server_fd_freed(struct server *);
void	 server_conn_opened(struct server *);
void	 server_conn_closed(struct server *);
void	 server_refuse(struct server *, int, uint64_t *);
void	 server_drain(struct server *);

/* conn.c */
struct conn *conn_new(struct server *, int, const struct sockaddr *);
void	 conn_close(struct conn *, enum conn_close);
void	 conn_reap(evutil_socket_t, short, void *);
void	 conn_shutdown(struct conn *);

/* expire.c */
void	 expire_init(struct server *, const struct options *);
void	 expire_free(struct server *);
uint64_t expire_now(void);
void	 expire_opened(struct conn *);
void	 expire_active(struct conn *);
void	 expire_start(struct conn *, enum expire_kind);
void	 expire_stop(struct conn *);
int	 expire_evict(struct server *);

/* source.c */
int	 source_key(struct source_key *, int, const void *);
void	 source_name(const struct source_key *, char *, size_t);
int	 source_add(const struct source_key *, long, struct source **);
void	 source_release(struct source *);
int	 source_accept(struct server *, const struct sockaddr *,
	    struct source **);
int	 source_proxied(struct conn *, const struct proxy_header *);

/* connbuf.c */
ssize_t	 connbuf_fill(struct evbuffer *, int, char *);
ssize_t	 connbuf_fill_header(struct evbuffer *, int, char *);
int	 connbuf_write(struct evbuffer *, int);
int	 connbuf_add(struct evbuffer *, const struct iovec *, int, size_t);
int	 connbuf_has_lf(struct evbuffer *, size_t);
int	 connbuf_ends_cr(struct evbuffer *);

/* tls.c */
void	 tls_init(const struct options *);
void	 tls_free(void);
int	 tls_enabled(void);
int	 tls_wanted(int, const struct sockaddr *);
void	 tls_reload(void);
int	 tls_start(struct conn *);
int	 tls_handshake(struct conn *);
void	 tls_expired(struct conn *);
ssize_t	 tls_read(struct conn *, char *, size_t);
ssize_t	 tls_fill(struct conn *, struct evbuffer *, char *);
int	 tls_write(struct conn *, struct evbuffer *);
int	 tls_flush(struct conn *);
size_t	 tls_unsent(const struct conn *);
int	 tls_pending(const struct conn *);
int	 tls_shutdown(struct conn *);
void	 tls_reap(struct conn *);

/* daemon.c */
void	 daemon_start(int);
void	 daemon_ready(void);
void	 daemon_inherit(int);

/* pidfile.c */
void	 pidfile_open(const char *);
void	 pidfile_write(void);
void	 pidfile_inherit(int, const char *);
int	 pidfile_fd_get(void);
void	 pidfile_leave(void);
void	 pidfile_remove(void);

/* privs.c */
void	 privs_check_user(const char *);
void	 privs_owner(const char *, const char *, uid_t *, gid_t *);
void	 privs_drop(const char *);

/* stats.c */
struct evbuffer;
void	 stats_prometheus(const struct server *, struct evbuffer *);
void	 stats_log(const struct server *);
void	 stats_total(struct stats *, long *);
uint64_t stats_now(void);
void	 stats_replied(struct stats *, uint64_t, uint64_t);
void	 stats_closed(struct stats *, enum conn_close, uint64_t);

/* process.c */
void	 process_prometheus(struct evbuffer *);
int	 process_open_fds(void);

/* metrics.c */
void	 metrics_bind(const struct options *, struct listener *);
void	 metrics_start(struct server *, struct listener *);
void	 metrics_stop(void);

/* systemd.c */
int	 systemd_listeners(struct listener *, int, int *, int *,
	    struct listener *);
void	 systemd_mainpid(pid_t);
void	 systemd_ready(const struct server *);
void	 systemd_stopping(void);
void	 systemd_reloading(int);

/* udp.c */
int	 udp_open(const struct options *, const struct listener *, int,
	    int *);
void	 udp_start(struct server *, const int *, int);
enum udp_fail udp_fail_reason(int);
void	 udp_stop(void);

/* worker.c */
void	 worker_add(struct server *);
int	 worker_count(void);
struct server *worker_get(int);
void	 worker_spawn(void);
void	 worker_stop(void);
void	 worker_conn_closed(struct server *);
void	 worker_join(void);
void	 worker_free(void);

/* handoff.c */
void	 handoff_start(void);
int	 handoff_pass(struct server *, int, const struct sockaddr *, int);
int	 handoff_close(struct server *);
void	 handoff_free(struct server *);

/* upgrade.c */
void	 upgrade_init(int, char **);
int	 upgrade_inherited(void);
int	 upgrade_pidfile(void);
void	 upgrade_add(int, const char *);
void	 upgrade_start(struct server *);
void	 upgrade_abort(void);
void	 upgrade_free(void);
/* signal.c */
void	 signal_setup(struct server *);
void	 signal_free(struct server *);

#endif /* MSGD_H */
