/*
 * metrics.c - the HTTP endpoint (--metrics): /metrics for Prometheus and
 * /healthz for load balancers, served by libevent's evhttp on msgd's own
 * event loop.  The socket is bound by listen.c before msgd detaches, so a
 * bad address is reported like any other.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/queue.h>

#include <string.h>
#include <sysexits.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "msgd.h"

static struct evhttp	*metrics_http;

static void	metrics_reply(struct evhttp_request *, void *);

static void
metrics_reply(struct evhttp_request *req, void *arg)
{
	struct server		*srv = arg;
	struct evbuffer		*b = evhttp_request_get_output_buffer(req);
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path;
	int			 cmd = evhttp_request_get_command(req);

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(h, "Allow", "GET, HEAD");
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	/* The path alone: a scrape job's params: add a query string. */
	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL)
		path = "";
	if (strcmp(path, "/metrics") == 0) {
		evhttp_add_header(h, "Content-Type",
		    "text/plain; version=0.0.4; charset=utf-8");
		stats_prometheus(srv, b);
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(path, "/healthz") == 0) {
		evhttp_add_header(h, "Content-Type", "text/plain");
		evbuffer_add_printf(b, "%s\n", srv->draining ? "draining" :
		    "ok");
		evhttp_send_reply(req, srv->draining ? 503 : 200,
		    srv->draining ? "Service Unavailable" : "OK", b);
	} else
		evhttp_send_error(req, 404, "Not Found");
}

/* Bind the endpoint's socket (before msgd detaches). */
void
metrics_bind(const struct options *o, struct listener *l)
{
	int	port = o->metrics_port;

	listen_bind(o->metrics_addr, 0, &port, l);
}

/* Serve it on the loop. */
void
metrics_start(struct server *srv, struct listener *l)
{
	if ((metrics_http = evhttp_new(srv->base)) == NULL)
		fatalx(EX_SOFTWARE, "evhttp_new");
	evhttp_set_timeout(metrics_http, 10);
	evhttp_set_max_headers_size(metrics_http, 8192);
	evhttp_set_max_body_size(metrics_http, 1024);
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE);
	evhttp_set_gencb(metrics_http, metrics_reply, srv);
	if (evhttp_accept_socket_with_handle(metrics_http, l->fd) == NULL)
		fatal(EX_OSERR, "cannot serve metrics on %s", l->name);
	log_info("metrics on http://%s/metrics", l->name);
}

void
metrics_stop(void)
{
	if (metrics_http != NULL)
		evhttp_free(metrics_http);
	metrics_http = NULL;
}
