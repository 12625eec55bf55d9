/*
 * tls.c - TLS on the TCP listeners (--tls-cert, --tls-key,
 * --tls-client-ca): the context, the handshake, the reload.
 *
 * A TLS connection is a plaintext one that reads and writes through an
 * SSL: the same read and write events (conn.c), its input and output
 * always in its buffers (conn_bufs), read with tls_fill() and written
 * with tls_write() where plaintext uses connbuf.c, so one-shot,
 * -k, -e, the limits, the timeouts, the drain and the linger mean what
 * they mean in plaintext.  Here: the handshake and its bound (an
 * expire.c clock, EXPIRE_TLS_SECS), failures logged and counted by
 * reason, reads and writes in OpenSSL's terms, and the end (close_notify
 * once, never waiting for it).
 *
 * Not libevent's OpenSSL bufferevent: in libevent 2.1 it has OpenSSL read
 * a record at a time (two read(2)s each: OpenSSL's read-ahead stalls it,
 * as what was read ahead is not handed on until the socket is readable
 * again), re-registers the socket's events when the handshake ends, and
 * writes only from a write event, which cost msgd more server CPU per
 * TLS connection than nginx (bench/RESULTS.md).  Here the SSL reads the
 * socket with read-ahead, and writes into memory that tls_flush() sends,
 * so that a conversation's records leave together (in one-shot mode the
 * session tickets, the reply and close_notify in one write(2)) and
 * OpenSSL never waits for the socket; a TLS connection makes fewer system
 * calls than nginx's.
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
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#endif

#include <event2/buffer.h>

#include "log.h"
#include "msgd.h"

#ifdef HAVE_OPENSSL

/*
 * Memory a connection keeps for what OpenSSL writes, once it is sent: a
 * handshake's flight and a few replies' records fit; more is given back.
 */
#define TLS_WBUF_KEEP	4096

static SSL_CTX			*tls_ctx;	/* new connections' */
static pthread_mutex_t		 tls_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct options	*tls_opts;
static int			 tls_on;	/* set before threads start */

static SSL_CTX	*tls_context(const struct options *, char *, size_t,
		    int *);
static int	 tls_readable(const char *, const char *, char *, size_t);
static const char *tls_reason(unsigned long);
static void	 tls_handshake_failed(struct conn *);
static void	 tls_notify(struct conn *);
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
	/*
	 * Read ahead: a read(2) takes what the socket holds, not a record's
	 * header and then its body (tls_fill hands on all of it).  Writes
	 * go into memory (tls_start) and leave in as few write(2)s as the
	 * conversation allows (tls_flush).  No buffers kept while idle.  No
	 * renegotiation: a write never waits for a read.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
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
 * A new connection's TLS, accepting on c->fd: an SSL that reads the
 * socket and writes into memory (tls_flush sends it), the handshake to
 * come (tls_handshake, from the connection's read event).  -1 if it
 * cannot be set up.
 */
int
tls_start(struct conn *c)
{
	SSL_CTX	*ctx;
	SSL	*ssl;
	BIO	*rbio = NULL, *wbio;

	pthread_mutex_lock(&tls_lock);
	ctx = tls_ctx;
	SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&tls_lock);
	ERR_clear_error();
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);	/* the SSL holds it now */
	if (ssl == NULL || (rbio = BIO_new_socket(c->fd, BIO_NOCLOSE)) ==
	    NULL || (wbio = BIO_new(BIO_s_mem())) == NULL) {
		log_warnx("connection %d: cannot set up TLS: %s", c->fd,
		    tls_reason(ERR_get_error()));
		BIO_free(rbio);
		SSL_free(ssl);
		return (-1);
	}
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_accept_state(ssl);
	c->ssl = ssl;
	return (0);
}

/*
 * The handshake, as far as the client's bytes go: 1 when it is done, 0
 * while it waits for the client, -1 when it failed and the connection is
 * closed.  What it writes waits in memory for tls_flush().
 */
int
tls_handshake(struct conn *c)
{
	int	r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		tls_done(c);
		return (1);
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return (0);
	case SSL_ERROR_ZERO_RETURN:
		tls_fail(c, TLS_FAIL_CLOSED, "the client closed the connection");
		return (-1);
	}
	tls_handshake_failed(c);
	return (-1);
}

/* Why SSL_do_handshake() failed, from OpenSSL's errors or errno. */
static void
tls_handshake_failed(struct conn *c)
{
	unsigned long	e = ERR_peek_error();	/* the first is the cause */
	int		saved = errno;

#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		e = 0;		/* OpenSSL 3's word for a close */
#endif
	if (e != 0)
		tls_fail(c, TLS_FAIL_ERROR, tls_reason(e));
	else if (saved == ECONNRESET || saved == EPIPE)
		tls_fail(c, TLS_FAIL_CLOSED, "the client reset the connection");
	else if (saved == 0)
		tls_fail(c, TLS_FAIL_CLOSED, "the client closed the connection");
	else
		tls_fail(c, TLS_FAIL_ERROR, strerror(saved));
	ERR_clear_error();
}

/* The handshake is done: stop its clock, count it, say who it was. */
static void
tls_done(struct conn *c)
{
	SSL		*ssl = c->ssl;
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

/*
 * The handshake failed: one line (log.c limits them), a count, OpenSSL's
 * alert if the socket takes it, close.
 */
static void
tls_fail(struct conn *c, enum tls_fail reason, const char *why)
{
	log_warnx("connection %d: TLS handshake failed: %s", c->fd, why);
	tls_flush(c);
	STATS_ADD(c->srv->stats.tls_failed[reason], 1);
	conn_close(c, CONN_CLOSE_TLS);
}

/* expire.c: no handshake in EXPIRE_TLS_SECS. */
void
tls_expired(struct conn *c)
{
	tls_fail(c, TLS_FAIL_TIMEOUT, "not done in time");
}

/*
 * After the handshake, read(2) through TLS: at most one record's data
 * into buf, from what OpenSSL read ahead or from the socket.  As read(2):
 * the bytes, 0 when the client has closed (close_notify, or the socket's
 * end without one: SSL_OP_IGNORE_UNEXPECTED_EOF), -1 with errno (EAGAIN:
 * not yet; EPROTO: bad TLS, logged at -vv).  c->tls_more says whether
 * more is there without the socket's read event.  What OpenSSL answers
 * (a key update) waits in memory for tls_flush().
 */
ssize_t
tls_read(struct conn *c, char *buf, size_t len)
{
	unsigned long	e;
	int		r;

	ERR_clear_error();
	errno = 0;
	c->tls_more = 0;
	if ((r = SSL_read(c->ssl, buf, (int)len)) > 0) {
		c->tls_more = SSL_has_pending(c->ssl);
		return (r);
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	case SSL_ERROR_SYSCALL:
		if ((e = ERR_peek_error()) == 0) {
			if (errno == 0)
				return (0);
			return (-1);
		}
		break;
	default:
		e = ERR_peek_error();
		break;
	}
	log_trace("connection %d: TLS error: %s", c->fd, tls_reason(e));
	ERR_clear_error();
	errno = EPROTO;
	return (-1);
}

/*
 * As connbuf_fill(), through TLS: the records OpenSSL has read ahead, up
 * to CONN_READ_ASK bytes, in one call (a pipelining client's lines come
 * several to a read(2)); more than that waits for the next call, which
 * c->tls_more asks conn.c for, as it does when the end came behind data.
 * An error behind data is the connection's end: -1 (no reply could
 * reach the client).
 */
ssize_t
tls_fill(struct conn *c, struct evbuffer *in, char *scratch)
{
	size_t	got = 0;
	ssize_t	n;

	do {
		if ((n = tls_read(c, scratch, CONN_READ_ASK - got)) <= 0)
			break;
		if (evbuffer_add(in, scratch, (size_t)n) == -1) {
			errno = ENOMEM;
			return (-1);
		}
		got += (size_t)n;
	} while (got < CONN_READ_ASK && c->tls_more);
	if (got == 0 || (n == -1 && errno != EAGAIN))
		return (n);
	if (n == 0)
		c->tls_more = 1;	/* the end, next time */
	return ((ssize_t)got);
}

/*
 * Write what the buffer holds through TLS: records of up to 16 KiB, into
 * memory (SSL_write always takes them whole), sent with tls_flush() as
 * far as the socket takes them; no more is encrypted while a record's
 * worth waits for the socket.  The last reply (c->state CONN_CLOSING)
 * takes close_notify behind it, so that they leave in one write(2), with
 * the session tickets the handshake's end left unsent.  -1 only when the
 * connection is broken.
 */
int
tls_write(struct conn *c, struct evbuffer *out)
{
	const void	*data;
	size_t		 len;
	int		 r;

	if (!c->secure)
		return (tls_flush(c) == -1 ? -1 : 0);
	while ((len = evbuffer_get_length(out)) > 0) {
		/* A record's worth waits: send it before encrypting more. */
		if (tls_unsent(c) >= SSL3_RT_MAX_PLAIN_LENGTH &&
		    (r = tls_flush(c)) != 0)
			return (r == -1 ? -1 : 0);
		if (len > SSL3_RT_MAX_PLAIN_LENGTH)
			len = SSL3_RT_MAX_PLAIN_LENGTH;
		if ((data = evbuffer_pullup(out, (ssize_t)len)) == NULL)
			return (-1);
		ERR_clear_error();
		if ((r = SSL_write(c->ssl, data, (int)len)) <= 0) {
			log_trace("connection %d: TLS error writing: %s", c->fd,
			    tls_reason(ERR_peek_error()));
			ERR_clear_error();
			return (-1);
		}
		evbuffer_drain(out, (size_t)r);
	}
	if (c->state == CONN_CLOSING)
		tls_notify(c);
	return (tls_flush(c) == -1 ? -1 : 0);
}

/*
 * Send what OpenSSL has written into memory, as far as the socket takes
 * it.  0 when all is sent, 1 when some waits for the socket, -1 if the
 * connection is broken.  Memory grown for a big flight or a burst of
 * replies is given back once it is sent.
 */
int
tls_flush(struct conn *c)
{
	BIO	*w = SSL_get_wbio(c->ssl), *fresh;
	BUF_MEM	*bm;
	char	*p;
	long	 len;
	ssize_t	 n;
	int	 r;

	if ((len = BIO_get_mem_data(w, &p)) <= 0)
		return (0);
	if ((n = write(c->fd, p, (size_t)len)) == -1)
		return (errno == EAGAIN || errno == EINTR ? 1 : -1);
	if (n < len) {
		/* Take the sent bytes out (a copy, only when short). */
		while (n > 0) {
			len = n < CONN_READ_SIZE ? (long)n : CONN_READ_SIZE;
			if ((r = BIO_read(w, c->srv->readbuf, (int)len)) <= 0)
				return (-1);	/* cannot happen: it holds them */
			n -= r;
		}
		return (1);
	}
	BIO_get_mem_ptr(w, &bm);
	if (bm->max > TLS_WBUF_KEEP && (fresh = BIO_new(BIO_s_mem())) != NULL)
		SSL_set0_wbio(c->ssl, fresh);	/* frees the old */
	else
		(void)BIO_reset(w);
	return (0);
}

/* How many bytes OpenSSL has written that the socket has not taken. */
size_t
tls_unsent(const struct conn *c)
{
	return (BIO_ctrl_pending(SSL_get_wbio(c->ssl)));
}

/* Whether OpenSSL holds input not yet read (conn_ends). */
int
tls_pending(const struct conn *c)
{
	return (SSL_has_pending(c->ssl));
}

/*
 * The last reply is out, or the connection ends: close_notify, once,
 * without waiting for the client's.  (OpenSSL's own record of it cannot
 * be asked: reading the client's end resets it.)
 */
static void
tls_notify(struct conn *c)
{
	if (c->tls_notified)
		return;
	c->tls_notified = 1;
	ERR_clear_error();
	SSL_shutdown(c->ssl);
	ERR_clear_error();
}

/*
 * close_notify, sent as far as the socket takes it (tls_flush): 0 when it
 * is out (or due to no one), 1 while some waits for the socket, -1 if the
 * connection is broken.
 */
int
tls_shutdown(struct conn *c)
{
	if (!c->secure)
		return (0);
	tls_notify(c);
	return (tls_flush(c));
}

/* conn_reap: free the SSL (the socket is closed by conn_close). */
void
tls_reap(struct conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
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

int
tls_handshake(struct conn *c)
{
	(void)c;
	return (-1);
}

void
tls_expired(struct conn *c)
{
	conn_close(c, CONN_CLOSE_TLS);
}

ssize_t
tls_read(struct conn *c, char *buf, size_t len)
{
	(void)c;
	(void)buf;
	(void)len;
	errno = EPROTO;
	return (-1);
}

ssize_t
tls_fill(struct conn *c, struct evbuffer *in, char *scratch)
{
	(void)in;
	return (tls_read(c, scratch, 0));
}

int
tls_write(struct conn *c, struct evbuffer *out)
{
	(void)c;
	(void)out;
	return (-1);
}

int
tls_flush(struct conn *c)
{
	(void)c;
	return (-1);
}

size_t
tls_unsent(const struct conn *c)
{
	(void)c;
	return (0);
}

int
tls_pending(const struct conn *c)
{
	(void)c;
	return (0);
}

int
tls_shutdown(struct conn *c)
{
	(void)c;
	return (0);
}

void
tls_reap(struct conn *c)
{
	(void)c;
}

#endif /* HAVE_OPENSSL */
