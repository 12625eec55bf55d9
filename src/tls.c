/*
 * tls.c - TLS on the TCP listeners (--tls-cert, --tls-key,
 * --tls-client-ca): the context, the handshake, the reload.
 *
 * A TLS connection does not read with its read event and writev(2) as a
 * plaintext one does: it owns an OpenSSL bufferevent (libevent_openssl),
 * whose input and output are the connection's buffers (conn_bufs), and
 * conn.c answers from them as it answers anything that waited there, so
 * one-shot, -k, -e, the limits, the timeouts, the drain and the linger
 * mean what they mean in plaintext.  Here: the handshake and its bound
 * (an expire.c clock, EXPIRE_TLS_SECS), failures logged and counted by
 * reason, and the end (close_notify once, never waiting for it).
 *
 * Every worker makes its connections from one SSL_CTX.  SIGHUP (main
 * thread) builds a new one from the files and swaps it in under a mutex
 * for new connections; an open connection's SSL holds a reference to its
 * own, so it goes on unchanged, and the old context is freed with the
 * last of them.  A file that does not load keeps the old context.  UDP
 * and --metrics stay plaintext.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#ifdef HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#endif

#include "log.h"
#include "msgd.h"

#ifdef HAVE_OPENSSL

static SSL_CTX			*tls_ctx;	/* new connections' */
static pthread_mutex_t		 tls_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct options	*tls_opts;
static int			 tls_on;	/* set before threads start */

static SSL_CTX	*tls_context(const struct options *, char *, size_t,
		    int *);
static int	 tls_readable(const char *, const char *, char *, size_t);
static const char *tls_reason(unsigned long);
static void	 tls_read_cb(struct bufferevent *, void *);
static void	 tls_write_cb(struct bufferevent *, void *);
static void	 tls_event_cb(struct bufferevent *, short, void *);
static void	 tls_done(struct conn *);
static void	 tls_fail(struct conn *, enum tls_fail, const char *);

/* Load the files, before daemonizing: a bad one is fatal here. */
void
tls_init(const struct options *o)
{
	char	err[512];
	int	status;

	if (o->tls_cert == NULL)
		return;
	if ((tls_ctx = tls_context(o, err, sizeof(err), &status)) == NULL)
		fatalx(status, "%s", err);
	tls_opts = o;
	tls_on = 1;
}

void
tls_free(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

int
tls_enabled(void)
{
	return (tls_on);
}

/*
 * Whether a connection on fd, from peer sa (NULL: not known), speaks TLS:
 * on TCP listeners only.  Unix-domain sockets stay plaintext: their
 * clients are local, and the socket file's mode says who they may be.
 * The peer's family is the socket's, so an accept costs no getsockname.
 */
int
tls_wanted(int fd, const struct sockaddr *sa)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (!tls_on)
		return (0);
	if (sa != NULL)
		return (sa->sa_family != AF_UNIX);
	return (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    ss.ss_family != AF_UNIX);
}

/*
 * A context from the files: TLS 1.2 and 1.3, the system's cipher policy
 * (no cipher list of ours), client certificates if asked for.  NULL with
 * one line in err and a sysexits status if a file does not load.
 */
static SSL_CTX *
tls_context(const struct options *o, char *err, size_t len, int *status)
{
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*names;
	const char		*what = NULL, *file = NULL;

	*status = EX_NOINPUT;
	if (tls_readable("--tls-cert", o->tls_cert, err, len) == -1 ||
	    tls_readable("--tls-key", o->tls_key, err, len) == -1 ||
	    (o->tls_client_ca != NULL && tls_readable("--tls-client-ca",
	    o->tls_client_ca, err, len) == -1))
		return (NULL);
	*status = EX_CONFIG;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, len, "cannot set up TLS: %s",
		    tls_reason(ERR_peek_error()));
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/*
	 * A client that closes without close_notify has closed, as in
	 * plaintext: OpenSSL 3 would make it an error, and libevent would
	 * then drop the unanswered rest instead of reporting the EOF.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	/* Resumed sessions and client certificates need an id context. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"msgd", 4);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER |
	    SSL_SESS_CACHE_NO_AUTO_CLEAR | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert) != 1) {
		what = "--tls-cert";
		file = o->tls_cert;
	} else if (SSL_CTX_use_PrivateKey_file(ctx, o->tls_key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		what = "--tls-key";
		file = o->tls_key;
	} else if (o->tls_client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, o->tls_client_ca,
		    NULL) != 1 || (names = SSL_load_client_CA_file(
		    o->tls_client_ca)) == NULL) {
			what = "--tls-client-ca";
			file = o->tls_client_ca;
		} else {
			SSL_CTX_set_client_CA_list(ctx, names);
			SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		}
	}
	if (what == NULL)
		return (ctx);
	snprintf(err, len, "cannot load %s %s: %s", what, file,
	    tls_reason(ERR_peek_error()));
	SSL_CTX_free(ctx);
	return (NULL);
}

/* Whether the file can be read; else -1 and one line in err. */
static int
tls_readable(const char *what, const char *file, char *err, size_t len)
{
	int	fd;

	if ((fd = open(file, O_RDONLY)) == -1) {
		snprintf(err, len, "cannot read %s %s: %s", what, file,
		    strerror(errno));
		return (-1);
	}
	close(fd);
	return (0);
}

/* OpenSSL's reason for an error, in words. */
static const char *
tls_reason(unsigned long e)
{
	const char	*s;

	if (e == 0)
		return ("unknown error");
	if ((s = ERR_reason_error_string(e)) == NULL)
		return ("unknown error");
	return (s);
}

/* SIGHUP: new connections get the files as they are now. */
void
tls_reload(void)
{
	SSL_CTX	*ctx, *old;
	char	 err[512];
	int	 status;

	if (!tls_on)
		return;
	if ((ctx = tls_context(tls_opts, err, sizeof(err), &status)) ==
	    NULL) {
		log_warnx("SIGHUP: keeping the old TLS certificate: %s", err);
		return;
	}
	pthread_mutex_lock(&tls_lock);
	old = tls_ctx;
	tls_ctx = ctx;
	pthread_mutex_unlock(&tls_lock);
	SSL_CTX_free(old);	/* open connections hold their own */
	log_info("SIGHUP: TLS certificate and key reloaded");
}

/*
 * A new connection's TLS, accepting (c->fd, no bufferevent yet).  -1 if
 * it cannot be set up; the socket is then still the caller's.  Once the
 * bufferevent exists it owns the socket and the SSL (conn_reap frees
 * them).
 */
int
tls_start(struct conn *c)
{
	SSL_CTX			*ctx;
	SSL			*ssl;
	struct bufferevent	*bev;

	pthread_mutex_lock(&tls_lock);
	ctx = tls_ctx;
	SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&tls_lock);
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);	/* the SSL holds it now */
	if (ssl == NULL) {
		log_warnx("connection %d: cannot set up TLS: %s", c->fd,
		    tls_reason(ERR_get_error()));
		return (-1);
	}
	if ((bev = bufferevent_openssl_socket_new(c->srv->base, c->fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		/* libevent has freed the SSL (BEV_OPT_CLOSE_ON_FREE). */
		log_warnx("connection %d: cannot set up TLS", c->fd);
		return (-1);
	}
	c->bev = bev;
	/* A client that closes without close_notify has still closed. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, tls_read_cb, tls_write_cb, tls_event_cb, c);
	/* If this fails, the handshake's clock closes the connection. */
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) == -1)
		log_warnx("connection %d: cannot start TLS", c->fd);
	return (0);
}

static void
tls_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_input(arg, 0);
}

static void
tls_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_output(arg);
}

static void
tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	unsigned long	 e;

	if (what & BEV_EVENT_CONNECTED) {
		tls_done(c);
		return;
	}
	if (c->secure) {
		if (what & BEV_EVENT_EOF)
			conn_input(c, 1);
		else {
			e = bufferevent_get_openssl_error(bev);
			log_trace("connection %d: TLS error: %s", c->fd,
			    e != 0 ? tls_reason(e) : strerror(errno));
			conn_close(c, CONN_CLOSE_ERROR);
		}
		return;
	}
	/*
	 * libevent queues SSL_get_error()'s SSL_ERROR_SYSCALL (5) ahead of
	 * OpenSSL's own errors: it is no reason, errno or the next one is.
	 */
	if ((e = bufferevent_get_openssl_error(bev)) == SSL_ERROR_SYSCALL)
		e = bufferevent_get_openssl_error(bev);
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		e = 0;		/* OpenSSL 3's word for a close */
#endif
	if (e != 0)		/* the first error is the cause */
		tls_fail(c, TLS_FAIL_ERROR, tls_reason(e));
	else if (errno == ECONNRESET || errno == EPIPE)
		tls_fail(c, TLS_FAIL_CLOSED, "the client reset the connection");
	else if ((what & BEV_EVENT_EOF) || errno == 0)
		tls_fail(c, TLS_FAIL_CLOSED, "the client closed the connection");
	else
		tls_fail(c, TLS_FAIL_ERROR, strerror(errno));
}

/* The handshake is done: stop its clock, count it, say who it was. */
static void
tls_done(struct conn *c)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(c->bev);
	X509		*x;
	char		 subject[256];

	c->secure = 1;
	if (c->expiring == EXPIRE_TLS)
		expire_stop(c);
	STATS_ADD(c->srv->stats.tls_handshakes, 1);
	log_trace("connection %d: %s, %s", c->fd, SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl));
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	x = SSL_get0_peer_certificate(ssl);
#else
	x = SSL_get_peer_certificate(ssl);
#endif
	if (x == NULL)
		return;
	X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
	log_trace("connection %d: client certificate %s", c->fd, subject);
#if OPENSSL_VERSION_NUMBER < 0x30000000L
	X509_free(x);
#endif
}

/* The handshake failed: one line (log.c limits them), a count, close. */
static void
tls_fail(struct conn *c, enum tls_fail reason, const char *why)
{
	log_warnx("connection %d: TLS handshake failed: %s", c->fd, why);
	STATS_ADD(c->srv->stats.tls_failed[reason], 1);
	conn_close(c, CONN_CLOSE_TLS);
}

/* expire.c: no handshake in EXPIRE_TLS_SECS. */
void
tls_expired(struct conn *c)
{
	tls_fail(c, TLS_FAIL_TIMEOUT, "not done in time");
}

/* Backpressure, EOF, the linger (conn_pause). */
void
tls_pause(struct conn *c, int pause)
{
	if (pause)
		bufferevent_disable(c->bev, EV_READ);
	else
		bufferevent_enable(c->bev, EV_READ);
}

/*
 * The last reply is out: close_notify, once, without waiting for the
 * client's (it goes straight to the socket, behind the replies).
 */
void
tls_shutdown(struct conn *c)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);

	if (c->secure && !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN)) {
		SSL_shutdown(ssl);
		ERR_clear_error();
	}
}

/*
 * conn_close: no more callbacks; close_notify if it was not sent.  The
 * socket is closed with the bufferevent, in tls_reap.
 */
void
tls_close(struct conn *c)
{
	tls_shutdown(c);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
}

/* conn_reap: free the bufferevent, its SSL, and close the socket. */
void
tls_reap(struct conn *c)
{
	bufferevent_free(c->bev);
	c->bev = NULL;
}

#else /* !HAVE_OPENSSL */

void
tls_init(const struct options *o)
{
	if (o->tls_cert != NULL)
		fatalx(EX_CONFIG, "msgd was built without TLS "
		    "(--without-openssl)");
}

void
tls_free(void)
{
}

int
tls_enabled(void)
{
	return (0);
}

int
tls_wanted(int fd, const struct sockaddr *sa)
{
	(void)fd;
	(void)sa;
	return (0);
}

void
tls_reload(void)
{
}

int
tls_start(struct conn *c)
{
	(void)c;
	return (-1);
}

void
tls_expired(struct conn *c)
{
	conn_close(c, CONN_CLOSE_TLS);
}

void
tls_pause(struct conn *c, int pause)
{
	(void)c;
	(void)pause;
}

void
tls_shutdown(struct conn *c)
{
	(void)c;
}

void
tls_close(struct conn *c)
{
	(void)c;
}

void
tls_reap(struct conn *c)
{
	(void)c;
}

#endif /* HAVE_OPENSSL */
