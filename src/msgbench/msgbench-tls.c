/*
 * msgbench-tls.c - --tls: the client's TLS context and connections.
 *
 * Once a client's TCP connect is done, msgbench-client.c hands the socket
 * to a libevent OpenSSL bufferevent, which runs the handshake and then
 * encrypts requests and decrypts replies; its callbacks here feed the
 * client's own functions, so every mode works the same over TLS.  TLS 1.2
 * at least; the server is verified only with --tls-ca (its certificate
 * chain, and --tls-name or else the address, against the certificate).
 * Sessions are never resumed: each connection is a full handshake, so
 * conn mode measures handshakes.  Built without OpenSSL, --tls is refused
 * by msgbench-options.c and these are never called.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "msgbench.h"

#ifdef HAVE_OPENSSL

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static void	msgbench_tls_read(struct bufferevent *, void *);
static void	msgbench_tls_event(struct bufferevent *, short, void *);
static void	msgbench_tls_error(struct client *, struct bufferevent *);
static const char *msgbench_tls_reason(unsigned long, char *, size_t);

/* OpenSSL's error E as text: its reason, or the whole code. */
static const char *
msgbench_tls_reason(unsigned long e, char *buf, size_t len)
{
	const char	*r;

	if ((r = ERR_reason_error_string(e)) != NULL)
		return (r);
	ERR_error_string_n(e, buf, len);
	return (buf);
}

/*
 * The context shared by every connection; returns 0, or an exit status
 * after one line on stderr.
 */
int
msgbench_tls_init(struct bench *b)
{
	const struct msgbench_opts	*o = b->o;
	SSL_CTX				*ctx;
	X509_VERIFY_PARAM		*vp;
	FILE				*f;
	char				 ip[INET6_ADDRSTRLEN], buf[256];
	const void			*a;
	int				 ok;

	if (!o->tls)
		return (0);
	/* A write to a server that has gone must be an error, not death. */
	signal(SIGPIPE, SIG_IGN);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		fprintf(stderr, "msgbench: cannot set up TLS: %s\n",
		    msgbench_tls_reason(ERR_get_error(), buf, sizeof(buf)));
		return (EX_SOFTWARE);
	}
	b->tls_ctx = ctx;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (o->tls_ca == NULL) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return (0);
	}

	/* Opened first, so a missing file says why in the system's words. */
	if ((f = fopen(o->tls_ca, "r")) == NULL) {
		fprintf(stderr, "msgbench: --tls-ca '%s': %s\n", o->tls_ca,
		    strerror(errno));
		return (EX_NOINPUT);
	}
	fclose(f);
	if (SSL_CTX_load_verify_locations(ctx, o->tls_ca, NULL) != 1) {
		fprintf(stderr, "msgbench: --tls-ca '%s': no certificates "
		    "loaded: %s\n", o->tls_ca, msgbench_tls_reason(
		    ERR_peek_last_error(), buf, sizeof(buf)));
		ERR_clear_error();
		return (EX_DATAERR);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	vp = SSL_CTX_get0_param(ctx);
	if (o->tls_name != NULL)
		ok = X509_VERIFY_PARAM_set1_host(vp, o->tls_name, 0);
	else {
		if (o->addr.ss_family == AF_INET)
			a = &((const struct sockaddr_in *)&o->addr)->sin_addr;
		else
			a = &((const struct sockaddr_in6 *)&o->addr)->sin6_addr;
		ok = inet_ntop(o->addr.ss_family, a, ip, sizeof(ip)) != NULL &&
		    X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
	}
	if (!ok) {
		fprintf(stderr, "msgbench: cannot set the name to verify\n");
		return (EX_SOFTWARE);
	}
	return (0);
}

void
msgbench_tls_free(struct bench *b)
{
	if (b->tls_ctx != NULL)
		SSL_CTX_free(b->tls_ctx);
	b->tls_ctx = NULL;
}

/* TCP is connected: wrap the socket and start the handshake. */
int
msgbench_tls_start(struct client *c)
{
	struct bench	*b = c->b;
	SSL		*ssl;

	if ((ssl = SSL_new(b->tls_ctx)) == NULL)
		return (-1);
	if (b->o->tls_name != NULL &&
	    SSL_set_tlsext_host_name(ssl, b->o->tls_name) != 1) {
		SSL_free(ssl);
		return (-1);
	}
	/*
	 * On failure libevent may or may not have freed ssl (it depends on
	 * the version): leak it rather than free it twice.  The socket is
	 * still the client's, to close.
	 */
	if ((c->bev = bufferevent_openssl_socket_new(b->base, c->fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return (-1);
	/* A server that closes without close_notify is not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, msgbench_tls_read, NULL, msgbench_tls_event,
	    c);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1)
		return (-1);
	return (0);
}

/* Requests: into the bufferevent, which encrypts and sends them. */
void
msgbench_tls_write(struct client *c, const char *buf, size_t len)
{
	if (bufferevent_write(c->bev, buf, len) == -1)
		msgbench_client_fail(c, ERR_OTHER, ENOMEM, "TLS write");
}

/* Decrypted replies, until there are none or the connection is gone. */
static void
msgbench_tls_read(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;
	struct bench	*b = c->b;
	struct evbuffer	*in = bufferevent_get_input(bev);
	int		 n;

	while (c->bev == bev &&
	    (n = evbuffer_remove(in, b->rbuf, sizeof(b->rbuf))) > 0)
		msgbench_client_received(c, b->rbuf, (size_t)n);
}

static void
msgbench_tls_event(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;
	struct bench	*b = c->b;

	if (what & BEV_EVENT_CONNECTED) {
		histogram_record(&b->handshake, msgbench_now() -
		    c->connect_at);
		msgbench_client_running(c);
		return;
	}
	/* Replies that came before the end are replies: take them first. */
	msgbench_tls_read(bev, c);
	if (c->bev != bev)
		return;
	if ((what & BEV_EVENT_EOF) && c->state != CLIENT_HANDSHAKE) {
		msgbench_client_eof(c);
		return;
	}
	msgbench_tls_error(c, bev);
}

/*
 * Say why: OpenSSL's first error (with the verification result when that
 * was it), or the socket's.
 */
static void
msgbench_tls_error(struct client *c, struct bufferevent *bev)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	const char	*what, *detail = "";
	char		 buf[256];
	unsigned long	 e, first = 0;
	long		 v;
	int		 err = EVUTIL_SOCKET_ERROR();

	what = c->state == CLIENT_HANDSHAKE ? "TLS handshake failed" :
	    "TLS connection failed";
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (first == 0)
			first = e;
	}
	if (first == 0 && (e = ERR_get_error()) != 0)
		first = e;
	ERR_clear_error();
	if (first != 0) {
		if (ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
		    ssl != NULL &&
		    (v = SSL_get_verify_result(ssl)) != X509_V_OK)
			detail = X509_verify_cert_error_string(v);
		msgbench_client_fail(c, ERR_TLS, 0, "%s: %s%s%s%s", what,
		    msgbench_tls_reason(first, buf, sizeof(buf)),
		    *detail != '\0' ? " (" : "", detail,
		    *detail != '\0' ? ")" : "");
		return;
	}
	if (c->state == CLIENT_HANDSHAKE) {
		msgbench_client_fail(c, ERR_TLS, err, "%s: %s", what,
		    err == 0 ? "the server closed the connection" :
		    "socket error");
		return;
	}
	if (err == 0)
		err = ECONNRESET;
	msgbench_client_syserr(c, err, what);
}

#else /* !HAVE_OPENSSL */

int
msgbench_tls_init(struct bench *b)
{
	if (!b->o->tls)
		return (0);
	fprintf(stderr, "msgbench: --tls: built without OpenSSL\n");
	return (EX_USAGE);
}

void
msgbench_tls_free(struct bench *b)
{
	(void)b;
}

int
msgbench_tls_start(struct client *c)
{
	(void)c;
	errno = ENOTSUP;
	return (-1);
}

void
msgbench_tls_write(struct client *c, const char *buf, size_t len)
{
	(void)buf;
	(void)len;
	msgbench_client_fail(c, ERR_OTHER, ENOTSUP, "TLS write");
}

#endif /* HAVE_OPENSSL */
